"""One-shot messages shown on the next page ("已保存"), kept in a signed cookie across a redirect."""

from __future__ import annotations

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.responses import Response

from ..request_context import app_settings
from .deps import secure_cookies

COOKIE = "tb_flash"


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(app_settings(request).secret_key, salt="techbridge.flash")


def add(request: Request, response: Response, message: str, level: str = "success") -> None:
    """Queue a message for the page after this response (usually a redirect)."""
    queued = list(getattr(request.state, "flash_queue", []))
    queued.append([level, message])
    request.state.flash_queue = queued
    response.set_cookie(
        COOKIE,
        _serializer(request).dumps(queued),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def pop(request: Request) -> list[tuple[str, str]]:
    """Messages waiting for this page; the cookie is cleared when the page is sent."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return []
    request.state.flash_read = True
    try:
        return [(str(level), str(text)) for level, text in _serializer(request).loads(raw)]
    except (BadSignature, ValueError, TypeError):
        return []


def clear_if_read(request: Request, response: Response) -> None:
    if getattr(request.state, "flash_read", False):
        response.delete_cookie(COOKIE)
