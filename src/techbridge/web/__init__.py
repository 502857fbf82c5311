"""The browser pages of TechBridge (Chinese UI), mounted on the API's FastAPI app by ``mount``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .urls import STATIC_DIR


def mount(app: FastAPI) -> None:
    """Add the pages and their static files to ``app`` (called by ``api.app.create_app``)."""
    from .dashboard import deal_pages
    from .routes import pages, public

    app.include_router(public, include_in_schema=False)
    app.include_router(pages, include_in_schema=False)
    app.include_router(deal_pages, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
