"""The composition root: the one module that puts the API and the web pages together into the site.

``api`` and ``web`` never import each other; both build on ``services``. ``techbridge serve``, the tests
and the benchmarks start ``techbridge.app:create_app``.
"""

from __future__ import annotations

from fastapi import FastAPI

from . import web
from .api.app import create_api
from .config import Settings

SERVER_OPTIONS: dict[str, object] = {"proxy_headers": False, "server_header": False}
"""uvicorn options for serving the app (``techbridge serve``). uvicorn itself would believe
X-Forwarded-For from 127.0.0.1, so any local client could pose as any address; the app reads proxy
headers only from TECHBRIDGE_TRUSTED_PROXIES (see ``api.app.create_api``)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The whole site for ``settings`` (default: from the environment). The schema must be migrated.

    Raises ``ValueError`` when no usable secret can be had (production without TECHBRIDGE_SECRET_KEY).
    """
    app = create_api(settings)
    web.mount(app)
    return app
