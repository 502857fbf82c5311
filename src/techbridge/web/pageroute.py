"""``PageRoute``: the domain's errors become HTML pages, once, for every page module.

A missing or other-zone record is a 404 page, a refused action a 403 page, and no login a redirect to
the login page. View modules import it from here (not from ``routes``), so no view imports ``routes``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response

from ..errors import NotFound, TechBridgeError
from .deps import LoginRequired
from .strings_zh import MSG
from .templating import render
from .urls import urls


class PageRoute(APIRoute):
    """Turns the domain's errors into HTML pages instead of the API's JSON bodies."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return RedirectResponse(urls.login(request.url.path), status_code=303)
            except RequestValidationError:
                # A malformed id or page number in a hand-typed URL: a page, not the API's JSON.
                return render(request, "error.html", {"message": MSG["bad_request"]}, status_code=400)
            except NotFound:
                return render(
                    request,
                    "error.html",
                    {"message": MSG["not_found"], "error_title": "页面不存在"},
                    status_code=404,
                )
            except TechBridgeError as exc:
                page = render(request, "error.html", {"message": exc.message}, status_code=exc.status)
                if (retry_after := getattr(exc, "retry_after_seconds", None)) is not None:
                    page.headers["Retry-After"] = str(retry_after)  # a busy database: try again soon
                return page

        return page_handler
