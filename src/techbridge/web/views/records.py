"""The generic record pages of every kind: list, detail, create, edit and archive, driven by its ``KindView``
(``kinds.py``); a matchable kind adds its match pages (``views.matches``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from ...domain.accounts import OWNER_FIELDS, Role, User, can_write, fill_ownership
from ...domain.records import RECORD_TYPES
from ...domain.validation import describe_errors
from ...errors import PermissionDenied, TechBridgeError
from ...services import records as record_service
from ...store.db import session_scope
from ...store.facets import facet_counts, zone_names
from ...store.records import RecordQuery
from .. import flash
from ..deps import CurrentViewer, DbUrl
from ..kinds import PROSE_FIELDS, VIEWS, KindView
from ..pageroute import PageRoute
from ..paging import make_pager
from ..strings_zh import KIND_NOUNS, KIND_TITLES, MSG
from ..templating import render
from ..urls import KIND_PATHS, urls
from . import bookings as booking_views
from . import page_router, redirect
from .matches import add_match_routes

PER_PAGE = 20
MAX_PAGE = 100_000  # as the API's page parameter

router = page_router()


def _form_values(view: KindView, form: FormData) -> dict[str, Any]:
    """The submitted fields of this kind's form.

    Unticked checkboxes are absent from a form, so absence means False; an unchosen select is left out,
    so the model's default (or, on edit, the stored value) stands.
    """
    values: dict[str, Any] = {}
    for field in view.form_fields:
        raw = str(form.get(field.name, "")).strip()
        if field.widget == "checkbox":
            values[field.name] = raw == "true"
        elif field.name in form and (raw or field.widget != "select"):
            values[field.name] = raw
    return values


def _defaults(kind: str) -> dict[str, Any]:
    """A new record's form starts from the model's defaults (status 征集中, visibility 园区内可见 …)."""
    fields = RECORD_TYPES[kind].model_fields
    return {name: f.default for name, f in fields.items() if not f.is_required() and f.default is not None}


def _errors_by_field(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in describe_errors(exc):
        errors.setdefault(err.field, err.reason)
    return errors


def record_router(kind: str) -> APIRouter:
    """List, detail, create, edit and archive pages of one record kind, driven by its ``KindView``."""
    view = VIEWS[kind]
    router = APIRouter(prefix=f"/{KIND_PATHS[kind]}", route_class=PageRoute)
    common = {
        "kind": kind,
        "view": view,
        "noun": KIND_NOUNS[kind],
        "kind_title": KIND_TITLES[kind],
        "nav_active": view.nav_key,
    }

    @router.get("")
    def list_page(
        request: Request, viewer: CurrentViewer, db: DbUrl, q: str = "", page: int = 1, archived: bool = False
    ) -> Response:
        filters = {f.name: request.query_params.get(f.name, "") for f in view.filters}
        # A hand-typed page past the end shows the last page (a huge one overflowed the SQL offset).
        query = RecordQuery(
            q=q or None,
            filters=filters,
            page=min(max(page, 1), MAX_PAGE),
            per_page=PER_PAGE,
            archived_only=archived,
        )
        with session_scope(db) as session:
            try:
                result = record_service.list_visible(session, kind, user=viewer, query=query)
                if not result.items and result.total and query.page > 1:
                    query = replace(query, page=-(-result.total // PER_PAGE))
                    result = record_service.list_visible(session, kind, user=viewer, query=query)
                bad_filter = ""
            except TechBridgeError as exc:
                plain = RecordQuery(per_page=PER_PAGE)
                result = record_service.list_visible(session, kind, user=viewer, query=plain)
                bad_filter = exc.message
            facets = {
                f.name: [
                    (v, f"{v} ({n})") for v, n in facet_counts(session, kind, f.name, scope=viewer.scope)
                ]
                for f in view.filters
                if f.facet
            }
            zones = zone_names(session, {item.record.zone_code for item in result.items})
        active = {k: v for k, v in filters.items() if v}
        if archived:
            active["archived"] = "1"
        pager = make_pager(
            page=query.page,
            per_page=PER_PAGE,
            total=result.total,
            url_for=lambda n: urls.kind_list(kind, q=q, page=n, **active),
        )
        return render(
            request,
            "record_list.html",
            {
                **common,
                "page": result,
                "pager": pager,
                "q": q,
                "filters": filters,
                "facets": facets,
                "zones": zones,
                "is_filtered": bool(q or active),
                "bad_filter": bad_filter,
                "can_create": viewer.role != Role.EXPERT or kind == "expert",
                "archived": archived,
            },
        )

    @router.get("/new")
    def new_page(request: Request, viewer: CurrentViewer) -> Response:
        values = fill_ownership(viewer, kind, {**_defaults(kind), "zone_code": viewer.zone_code})
        return _form_page(request, viewer, values=values, errors={}, record_id=None)

    @router.post("/new")
    async def create(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
        values = {**_form_values(view, await request.form()), "zone_code": viewer.zone_code}
        try:
            with session_scope(db) as session:
                stored = record_service.create(session, kind, values, user=viewer)
        except ValidationError as exc:
            values = fill_ownership(viewer, kind, values)
            return _form_page(request, viewer, values=values, errors=_errors_by_field(exc), record_id=None)
        response = redirect(request, urls.record(kind, stored.id))
        flash.add(request, response, MSG["created"])
        return response

    @router.get("/{record_id}")
    def detail(
        request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int, week: str = ""
    ) -> Response:
        with session_scope(db) as session:
            stored = record_service.get_visible(session, kind, record_id, user=viewer)
            names = zone_names(session, [stored.record.zone_code])
            calendar = (
                booking_views.week_calendar(request, session, stored, viewer, week)
                if kind == "instrument"
                else None
            )
        record = stored.record
        return render(
            request,
            "record_detail.html",
            {
                **common,
                "stored": stored,
                "record": record,
                "title": getattr(record, view.title_field),
                "facts": [n for n in view.detail_fields if n not in PROSE_FIELDS],
                "prose": [n for n in view.detail_fields if n in PROSE_FIELDS],
                "zone_name": names[stored.record.zone_code],
                "can_edit": can_write(viewer, kind, stored.record),
                "calendar": calendar,
            },
        )

    @router.get("/{record_id}/edit")
    def edit_page(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
        with session_scope(db) as session:
            stored = record_service.get_visible(session, kind, record_id, user=viewer)
        if not can_write(viewer, kind, stored.record):
            raise PermissionDenied(MSG["forbidden"])
        return _form_page(request, viewer, values=stored.record.model_dump(), errors={}, record_id=record_id)

    @router.post("/{record_id}/edit")
    async def update(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
        changes = _form_values(view, await request.form())
        try:
            with session_scope(db) as session:
                record_service.update(session, kind, record_id, changes, user=viewer)
        except ValidationError as exc:
            return _form_page(
                request, viewer, values=changes, errors=_errors_by_field(exc), record_id=record_id
            )
        response = redirect(request, urls.record(kind, record_id))
        flash.add(request, response, MSG["saved"])
        return response

    @router.post("/{record_id}/archive")
    def archive(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
        with session_scope(db) as session:
            record_service.archive(session, kind, record_id, user=viewer)
        response = redirect(request, urls.kind_list(kind))
        flash.add(request, response, MSG["archived"])
        return response

    if view.is_matchable:
        add_match_routes(router, view)

    def _form_page(
        request: Request,
        viewer: User,
        *,
        values: dict[str, Any],
        errors: dict[str, str],
        record_id: int | None,
    ) -> Response:
        locked = set() if viewer.is_admin else {OWNER_FIELDS[kind]}
        return render(
            request,
            "record_form.html",
            {**common, "values": values, "errors": errors, "record_id": record_id, "locked": locked},
            status_code=422 if errors else 200,
        )

    return router


for _kind in VIEWS:
    router.include_router(record_router(_kind))
