"""One cap on every request body, checked before the body is read: imports, deal attachments, anything.

A declared ``Content-Length`` over the cap is refused at once, before a byte is spooled to disk; a body
without one (chunked) is counted as it arrives. The refusal is raised from ``receive`` as an error that
is both a ``TechBridgeError`` (the API answers 413 with a Chinese message, a web page renders it) and an
``HTTPException`` (so FastAPI's form parsing passes it on instead of turning it into a 400).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import FileTooLarge
from ..services.transfer import too_large_message


class UploadTooLarge(FileTooLarge, HTTPException):
    def __init__(self, max_bytes: int) -> None:
        message = too_large_message(max_bytes)
        FileTooLarge.__init__(self, message)
        HTTPException.__init__(self, status_code=self.status, detail=message)

    def __str__(self) -> str:
        return self.message


class UploadLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        too_big = declared.isdigit() and int(declared) > self.max_bytes
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if too_big:
                raise UploadTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise UploadTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)
