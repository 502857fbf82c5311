"""Log in and out: the login form with its own CSRF cookie (there is no session yet), and logout."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ...errors import PermissionDenied, ServiceUnavailable, TechBridgeError, TooManyLoginAttempts
from ...request_context import app_settings, client_ip
from ...services import accounts, sessions
from ...store.db import session_scope
from .. import flash
from ..deps import DbUrl, check_csrf, load_viewer, secure_cookies
from ..pageroute import PageRoute
from ..strings_zh import MSG
from ..templating import render
from ..urls import urls
from . import redirect

LOGIN_CSRF_COOKIE = "tb_login_csrf"

# The login page is open to everyone (it has its own double-submit CSRF check); logout needs the session's.
router = APIRouter(route_class=PageRoute, dependencies=[Depends(load_viewer)])


def _safe_next(value: object) -> str:
    """Only same-site paths, so the login form can't bounce users to another site."""
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") else urls.home()


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    if getattr(request.state, "viewer", None) is not None:
        return redirect(request, _safe_next(next))
    return _login_form(request, next_url=next)


def _login_form(request: Request, *, next_url: str, error: str = "", username: str = "") -> Response:
    # Before login there is no session to bind a CSRF token to: a random cookie plus the same value in
    # the form (double submit) stops other sites from logging a browser into an attacker's account.
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(16)
    response = render(
        request,
        "login.html",
        {"next_url": next_url, "error": error, "username": username, "login_csrf": token},
        status_code=401 if error else 200,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies(request)
    )
    return response


@router.post("/login")
async def login_submit(request: Request, db: DbUrl) -> Response:
    form = await request.form()
    next_url, username = str(form.get("next", "")), str(form.get("username", "")).strip()
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie_token or not secrets.compare_digest(cookie_token, str(form.get("csrf_token", ""))):
        return _login_form(request, next_url=next_url, error=MSG["csrf_failed"], username=username)
    ip = client_ip(request)
    try:
        with session_scope(db) as session:
            user = accounts.authenticate(
                session, username=username, password=str(form.get("password", "")), ip=ip
            )
            browser = sessions.start_session(session, user=user)
    except TooManyLoginAttempts:
        return _login_form(request, next_url=next_url, error=MSG["login_throttled"], username=username)
    except ServiceUnavailable:
        raise  # a busy database is not a wrong password
    except (PermissionDenied, TechBridgeError):
        return _login_form(request, next_url=next_url, error=MSG["login_failed"], username=username)
    response = redirect(request, _safe_next(next_url))
    cookie = sessions.encode_session(app_settings(request).secret_key, browser)
    response.set_cookie(
        sessions.SESSION_COOKIE, cookie, **sessions.cookie_options(secure=secure_cookies(request))
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request, db: DbUrl) -> Response:
    browser = getattr(request.state, "browser_session", None)
    if browser is not None:
        with session_scope(db) as session:
            sessions.end_session(session, browser)
    response = redirect(request, urls.login())
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    flash.add(request, response, MSG["logged_out"], "info")
    return response
