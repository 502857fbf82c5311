"""Security headers on every response: pages, API answers, static files and errors alike.

The policy fits what the templates do: scripts only from our own ``/static`` files (charts read their
options from inert ``<script type="application/json">`` blocks), styles from our stylesheet plus inline
``style`` attributes (bar widths, calendar positions, and what ECharts sets on its SVG), images from us
or ``data:`` URLs. The interactive API docs load Swagger UI from its CDN, so that one page gets a policy
naming it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = (
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "connect-src 'self'",
    "font-src 'self'",
    "img-src 'self' data:",
)
APP_POLICY = "; ".join(
    (
        *_COMMON,
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        # Browsers that know the split allow inline style attributes only, never a <style> element.
        "style-src-elem 'self'",
    )
)
_SWAGGER_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = "; ".join(
    (
        *_COMMON[:-1],
        "img-src 'self' data: https://fastapi.tiangolo.com",
        f"script-src 'self' 'unsafe-inline' {_SWAGGER_CDN}",
        f"style-src 'self' 'unsafe-inline' {_SWAGGER_CDN}",
    )
)
HSTS = "max-age=31536000"
"""Sent only on responses to HTTPS requests (a browser ignores it over plain HTTP anyway)."""


class SecurityHeadersMiddleware:
    """Adds the headers unless a route set its own; a plain ASGI middleware, so streaming is untouched."""

    def __init__(self, app: ASGIApp, *, docs_paths: frozenset[str]) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in self.docs_paths else APP_POLICY
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
