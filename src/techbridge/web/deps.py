"""Request-level dependencies of the pages: who is looking, with which CSRF token, on which database.

The session cookie and CSRF helpers come from ``services.sessions``; pages only ever see a ``User``
(and its ``Scope``), resolved once per request by ``load_viewer``.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from ..domain.accounts import User
from ..errors import PermissionDenied, TechBridgeError
from ..request_context import app_settings, database_url
from ..services import sessions
from ..store.db import session_scope
from ..store.facets import zone_names
from ..store.site_flags import DEMO_NOTICE, get_flag
from .strings_zh import MSG


class LoginRequired(Exception):
    """Raised when nobody is logged in; the page router turns it into a redirect to the login page."""


def display_tz(request: Request) -> ZoneInfo:
    """The zone pages show times in and bookings are entered in (``TECHBRIDGE_DISPLAY_TIMEZONE``)."""
    return app_settings(request).tz


def secure_cookies(request: Request) -> bool:
    """Whether cookies get the Secure flag: as configured, else in production and on HTTPS requests."""
    settings = app_settings(request)
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return settings.is_production or request.url.scheme == "https"


def load_viewer(request: Request) -> None:
    """Resolve the session cookie once per request; an ended, expired or forged one just means logged out."""
    secret = app_settings(request).secret_key
    browser = sessions.decode_session(secret, request.cookies.get(sessions.SESSION_COOKIE))
    request.state.viewer = None
    request.state.viewer_zone_name = ""
    request.state.browser_session = None
    request.state.csrf_token = ""
    request.state.site_notice = ""
    if browser is None:
        return
    try:
        with session_scope(database_url(request)) as db:
            viewer = sessions.resume_session(db, browser)
            if viewer.zone_code:
                request.state.viewer_zone_name = zone_names(db, [viewer.zone_code])[viewer.zone_code]
            request.state.site_notice = get_flag(db, DEMO_NOTICE)
    except TechBridgeError:
        return
    request.state.viewer = viewer
    request.state.browser_session = browser
    request.state.csrf_token = sessions.csrf_token(secret, browser)


def get_viewer(request: Request) -> User:
    viewer = getattr(request.state, "viewer", None)
    if not isinstance(viewer, User):
        raise LoginRequired
    return viewer


def require_admin(viewer: Annotated[User, Depends(get_viewer)]) -> User:
    if not viewer.is_admin:
        raise PermissionDenied(MSG["forbidden"])
    return viewer


async def check_csrf(request: Request) -> None:
    """Every state-changing form carries the session's CSRF token."""
    if request.method != "POST":
        return
    browser = getattr(request.state, "browser_session", None)
    if browser is None:
        raise LoginRequired  # the session ended (logout elsewhere, password change): log in again
    form = await request.form()
    token = form.get(sessions.CSRF_FIELD)
    secret = app_settings(request).secret_key
    if not sessions.check_csrf(secret, browser, token if isinstance(token, str) else None):
        raise PermissionDenied(MSG["csrf_failed"])


DbUrl = Annotated[str, Depends(database_url)]
CurrentViewer = Annotated[User, Depends(get_viewer)]
AdminViewer = Annotated[User, Depends(require_admin)]
