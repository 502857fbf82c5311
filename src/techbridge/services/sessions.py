"""Browser sessions and CSRF protection, shared by the API and the web pages.

A session lives on the server (``store.accounts.UserSessionRow``); the cookie only names it. So logout,
a password change, deactivating the account or its expiry end it at once, wherever the cookie was copied.

How the web layer uses it:

- after a successful ``services.accounts.authenticate``, call ``start_session(session, user=user)``
  and ``encode_session(secret_key, browser)``, and store the result in the ``SESSION_COOKIE`` cookie with
  ``cookie_options(...)`` (HttpOnly, SameSite=Lax, Secure behind HTTPS);
- on each request, ``decode_session(secret_key, cookie_value)`` gives the ``BrowserSession`` or ``None``
  (tampered or absent), then ``resume_session(session, browser)`` the ``User`` (or ``NotAuthenticated``
  when the session was ended, expired, or the account was switched off);
- ``end_session(session, browser)`` on logout;
- put ``csrf_token(secret_key, browser)`` in every form as the hidden field ``CSRF_FIELD`` (or send it in
  the ``CSRF_HEADER`` header from scripts) and check it with ``check_csrf(secret_key, browser, token)``
  before acting on a POST. The token is an HMAC of the session's key, so it dies with the session, another
  user's token never validates, and the page never shows the key itself.

The cookie is signed, not encrypted: it holds only the user id and the session key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from ..domain.accounts import User
from ..errors import NotAuthenticated
from ..store import accounts as store

SESSION_COOKIE = "techbridge_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_MAX_AGE = 12 * 3600
"""Seconds a browser session lasts after login."""
LAST_SEEN_EVERY = timedelta(minutes=1)
"""Recording every request would make each page view a write; once a minute is enough to audit."""

_SESSION_SALT = "techbridge.session"
_CSRF_SALT = b"techbridge.csrf:"
_ENDED = "会话已失效, 请重新登录 (session expired)"


@dataclass(frozen=True)
class BrowserSession:
    user_id: int
    nonce: str
    """The session's random key; the server keeps only its SHA-256."""


def cookie_options(*, secure: bool) -> dict[str, Any]:
    """Attributes of the session cookie: never readable by scripts, not sent on cross-site POSTs."""
    return {"httponly": True, "samesite": "lax", "secure": secure, "max_age": SESSION_MAX_AGE, "path": "/"}


def key_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite returns stored UTC timestamps without their zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def new_session(user_id: int) -> BrowserSession:
    """A fresh random key; ``start_session`` also records it, which is what makes it valid."""
    return BrowserSession(user_id=user_id, nonce=secrets.token_urlsafe(32))


def start_session(session: Session, *, user: User) -> BrowserSession:
    """Open a server-side session for a login; the key changes on every login (no session fixation)."""
    now = _now()
    store.prune_sessions(session, user_id=user.id, now=now)
    browser = new_session(user.id)
    store.insert_session(
        session,
        user_id=user.id,
        key_hash=key_hash(browser.nonce),
        expires_at=now + timedelta(seconds=SESSION_MAX_AGE),
    )
    return browser


def resume_session(session: Session, browser: BrowserSession) -> User:
    """The active user of a live session, or NotAuthenticated."""
    row = store.find_session(session, key_hash(browser.nonce))
    now = _now()
    if (
        row is None
        or row.user_id != browser.user_id
        or row.revoked_at is not None
        or _aware(row.expires_at) <= now
    ):
        raise NotAuthenticated(_ENDED)
    user = store.get_user(session, row.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated(_ENDED)
    if _aware(row.last_seen_at) < now - LAST_SEEN_EVERY:  # bookkeeping: never fails the page for it
        store.record_session_seen(session, row.id, now)
    return user


def end_session(session: Session, browser: BrowserSession) -> None:
    """Logout: the session is revoked, so a copy of the cookie is worthless too."""
    row = store.find_session(session, key_hash(browser.nonce))
    if row is not None and row.user_id == browser.user_id and row.revoked_at is None:
        row.revoked_at = _now()


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    if not secret_key:
        # An empty key signs nothing: anyone could make a cookie. create_app always resolves a secret.
        raise RuntimeError("no secret key: build the app with techbridge.app.create_app")
    return URLSafeTimedSerializer(secret_key, salt=_SESSION_SALT)


def encode_session(secret_key: str, browser: BrowserSession) -> str:
    return _serializer(secret_key).dumps({"uid": browser.user_id, "n": browser.nonce})


def decode_session(
    secret_key: str, value: str | None, *, max_age: int = SESSION_MAX_AGE
) -> BrowserSession | None:
    """The session a cookie names, or ``None`` when it is missing, forged or older than ``max_age``."""
    if not value:
        return None
    try:
        data = _serializer(secret_key).loads(value, max_age=max_age)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("uid"), int)
        or not isinstance(data.get("n"), str)
    ):
        return None
    return BrowserSession(user_id=data["uid"], nonce=data["n"])


def csrf_token(secret_key: str, browser: BrowserSession) -> str:
    """The CSRF token for forms of this session (stable for the session's lifetime)."""
    if not secret_key:
        raise RuntimeError("no secret key: build the app with techbridge.app.create_app")
    digest = hmac.new(secret_key.encode("utf-8"), _CSRF_SALT + browser.nonce.encode("utf-8"), "sha256")
    return digest.hexdigest()


def check_csrf(secret_key: str, browser: BrowserSession, token: str | None) -> bool:
    if not token:
        return False
    expected = csrf_token(secret_key, browser).encode("ascii")
    return hmac.compare_digest(expected, token.encode("utf-8", "surrogatepass"))
