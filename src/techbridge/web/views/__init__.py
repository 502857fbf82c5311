"""The page modules, one per resource (login, home, records, matches, deals, bookings, imports …).

Each module exposes ``router``; ``routes.mount`` includes them. They share ``page_router`` so their
errors render as pages exactly like the others, and the two answers most of their actions give.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.responses import RedirectResponse

from .. import flash
from ..deps import check_csrf, load_viewer

MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}


def page_router() -> APIRouter:
    from ..pageroute import PageRoute

    return APIRouter(route_class=PageRoute, dependencies=[Depends(load_viewer), Depends(check_csrf)])


def redirect(request: Request, url: str, message: str = "", level: str = "success") -> RedirectResponse:
    """After a form: go to ``url`` and say what happened there (303, so a reload never re-posts)."""
    response = RedirectResponse(url, status_code=303)
    if message:
        flash.add(request, response, message, level)
    return response


def temp_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="techbridge-download-"))


def send_and_remove(path: Path, *, fmt: str) -> FileResponse:
    """Send a file written into a ``temp_folder()``; the folder goes once the response is sent."""
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True),
    )
