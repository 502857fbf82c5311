"""Page modules added beside ``routes.py``, one per area (jobs, imports, exports, notifications, settings).

Each module exposes ``router``; ``routes.mount`` includes them. They share ``page_router`` so their
errors render as pages exactly like the others.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..deps import check_csrf, load_viewer


def page_router() -> APIRouter:
    from ..routes import PageRoute  # routes imports the views only inside mount(), so no cycle at load

    return APIRouter(route_class=PageRoute, dependencies=[Depends(load_viewer), Depends(check_csrf)])
