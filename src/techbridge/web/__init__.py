"""The browser pages of TechBridge (Chinese UI), mounted on the API's FastAPI app by ``mount``."""

from __future__ import annotations

from .routes import mount

__all__ = ["mount"]
