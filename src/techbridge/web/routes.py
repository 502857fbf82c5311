"""The router assembly: every page module under ``views/`` (one per resource, as Datasette's ``views/``),
mounted on the site's app by ``mount``.

Each view module is thin (parse the request, call a service, render a template) and exposes ``router``;
``PageRoute`` turns errors raised below into pages, once: a missing or other-zone record is a 404 page,
a refused action a 403 page, and no login a redirect to the login page.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .urls import STATIC_DIR
from .views import (
    account,
    admin,
    archive,
    bookings,
    dashboard,
    deals,
    errors,
    exports,
    home,
    imports,
    jobs,
    login,
    notifications,
    records,
    settings,
)

VIEWS = (
    login,
    home,
    records,
    account,
    admin,
    dashboard,
    jobs,
    imports,
    exports,
    notifications,
    settings,
    archive,
    bookings,
    deals,
)
"""In the order their routes are tried: a fixed path must come before a pattern that would take it."""


def mount(app: FastAPI) -> None:
    """Add the pages and their static files to ``app`` (``techbridge.app.create_app`` calls this)."""
    for view in VIEWS:
        app.include_router(view.router, include_in_schema=False)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
