"""Browser sessions and CSRF protection, shared by the API and the web pages.

How the web layer uses it:

- after a successful ``services.accounts.authenticate``, call ``new_session(user.id)`` and
  ``encode_session(secret_key, session)``, and store the result in the ``SESSION_COOKIE`` cookie with
  ``COOKIE_OPTIONS`` (HttpOnly, SameSite=Lax; add ``secure=True`` behind HTTPS);
- on each request, ``decode_session(secret_key, cookie_value)`` gives the ``BrowserSession`` or ``None``
  (tampered, expired or absent), then ``services.accounts.active_user(db, session.user_id)``;
- put ``csrf_token(secret_key, session)`` in every form as the hidden field ``CSRF_FIELD`` (or send it in
  the ``CSRF_HEADER`` header from scripts) and check it with ``check_csrf(secret_key, session, token)``
  before acting on a POST. The token is bound to the session's random nonce, so it dies with the session
  and another user's token never validates.

The cookie is signed, not encrypted: it holds only the user id and a nonce.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "techbridge_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_MAX_AGE = 12 * 3600
"""Seconds a browser session lasts after login."""
COOKIE_OPTIONS: dict[str, Any] = {
    "httponly": True,
    "samesite": "lax",
    "max_age": SESSION_MAX_AGE,
    "path": "/",
}

_SESSION_SALT = "techbridge.session"
_CSRF_SALT = "techbridge.csrf"


@dataclass(frozen=True)
class BrowserSession:
    user_id: int
    nonce: str


def new_session(user_id: int) -> BrowserSession:
    """A fresh session for a login; the nonce changes on every login (no session fixation)."""
    return BrowserSession(user_id=user_id, nonce=secrets.token_urlsafe(16))


def encode_session(secret_key: str, session: BrowserSession) -> str:
    serializer = URLSafeTimedSerializer(secret_key, salt=_SESSION_SALT)
    return serializer.dumps({"uid": session.user_id, "n": session.nonce})


def decode_session(
    secret_key: str, value: str | None, *, max_age: int = SESSION_MAX_AGE
) -> BrowserSession | None:
    """The session a cookie holds, or ``None`` when it is missing, forged or older than ``max_age``."""
    if not value:
        return None
    serializer = URLSafeTimedSerializer(secret_key, salt=_SESSION_SALT)
    try:
        data = serializer.loads(value, max_age=max_age)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("uid"), int)
        or not isinstance(data.get("n"), str)
    ):
        return None
    return BrowserSession(user_id=data["uid"], nonce=data["n"])


def csrf_token(secret_key: str, session: BrowserSession) -> str:
    """The CSRF token for forms of this session (stable for the session's lifetime)."""
    return URLSafeTimedSerializer(secret_key, salt=_CSRF_SALT).dumps(session.nonce)


def check_csrf(secret_key: str, session: BrowserSession, token: str | None) -> bool:
    if not token:
        return False
    try:
        nonce = URLSafeTimedSerializer(secret_key, salt=_CSRF_SALT).loads(token, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return False
    return isinstance(nonce, str) and hmac.compare_digest(nonce, session.nonce)
