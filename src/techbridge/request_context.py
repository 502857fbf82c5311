"""What both doors (the REST API and the web pages) read from an HTTP request: the app's settings, its
database and the client's address. One definition, so the two never disagree about any of them.
"""

from __future__ import annotations

from starlette.requests import Request

from .config import Settings, get_settings


def app_settings(request: Request) -> Settings:
    """The settings the app was built with (``create_app(settings)``), else the process's own."""
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def database_url(request: Request) -> str:
    """The database the app was built for."""
    return app_settings(request).resolved_database_url


def client_ip(request: Request) -> str:
    """The client's address, which login limits count by. Behind a proxy listed in
    TECHBRIDGE_TRUSTED_PROXIES it is the forwarded address (uvicorn's ``ProxyHeadersMiddleware``, added
    by ``api.app.create_api``, rewrites ``request.client``); from anyone else, the connection's own."""
    return request.client.host if request.client else "unknown"
