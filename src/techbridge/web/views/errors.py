"""A mistyped page address gets a Chinese page, not the API's JSON (the API keeps its own answer)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ..deps import load_viewer
from ..strings_zh import MSG
from ..templating import render

API_PREFIX = "/api/"


def install(app: FastAPI) -> None:
    """Wrap the app's handler of routing errors: pages for browsers, the API's handler for the API."""
    api_handler = app.exception_handlers.get(StarletteHTTPException)

    async def page_or_api(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(API_PREFIX) and api_handler is not None:
            return await api_handler(request, exc)  # type: ignore[no-any-return]
        load_viewer(request)
        missing = exc.status_code == 404
        return render(
            request,
            "error.html",
            {
                "message": MSG["not_found"] if missing else MSG["bad_request"],
                "error_title": "页面不存在" if missing else "无法完成操作",
            },
            status_code=exc.status_code,
        )

    app.add_exception_handler(StarletteHTTPException, page_or_api)
