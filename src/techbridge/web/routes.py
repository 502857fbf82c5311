"""Page routes. Thin: parse the request, call a store or service function, render a template.

Errors raised anywhere below become pages here, once (``PageRoute``): a missing or other-zone record is
a 404 page, a refused action a 403 page, and no login a redirect to the login page.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from ..domain.accounts import OWNER_FIELDS, Role, User, can_write, deal_enterprise, fill_ownership
from ..domain.enums import label_zh
from ..domain.records import RECORD_TYPES
from ..domain.validation import describe_errors
from ..errors import (
    Busy,
    PermissionDenied,
    ServiceUnavailable,
    TechBridgeError,
    TooManyLoginAttempts,
)
from ..match import MatchConfig
from ..services import accounts, sessions
from ..services import deals as deal_service
from ..services import jobs as job_service
from ..services import records as record_service
from ..store.db import session_scope
from ..store.facets import count_matches, facet_counts, latest_match_time, zone_names
from ..store.records import RecordQuery, count_records
from . import flash
from .charts import bar_option, pie_option
from .deps import (
    AdminViewer,
    CurrentViewer,
    DbUrl,
    check_csrf,
    get_web_settings,
    load_viewer,
    secure_cookies,
)
from .kinds import PROSE_FIELDS, VIEWS, KindView
from .pageroute import PageRoute
from .paging import make_pager
from .strings_zh import FIELDS, KIND_NOUNS, KIND_TITLES, MSG, ROLE_LABELS
from .templating import render
from .urls import KIND_PATHS, STATIC_DIR, urls
from .views import bookings as booking_views
from .views import deals as deal_views
from .views import errors as error_views
from .views.matches import may_start_deal, viewer_reason

LOGIN_CSRF_COOKIE = "tb_login_csrf"
PER_PAGE = 20
MAX_PAGE = 100_000  # as the API's page parameter
MATCHES_PER_KIND = 10


public = APIRouter(route_class=PageRoute, dependencies=[Depends(load_viewer)])
pages = APIRouter(route_class=PageRoute, dependencies=[Depends(load_viewer), Depends(check_csrf)])


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(value: object) -> str:
    """Only same-site paths, so the login form can't bounce users to another site."""
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") else urls.home()


# -- login -------------------------------------------------------------------------------------------


@public.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    if getattr(request.state, "viewer", None) is not None:
        return _redirect(_safe_next(next))
    return _login_form(request, next_url=next)


def _login_form(request: Request, *, next_url: str, error: str = "", username: str = "") -> Response:
    # Before login there is no session to bind a CSRF token to: a random cookie plus the same value in
    # the form (double submit) stops other sites from logging a browser into an attacker's account.
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(16)
    response = render(
        request,
        "login.html",
        {"next_url": next_url, "error": error, "username": username, "login_csrf": token},
        status_code=401 if error else 200,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies(request)
    )
    return response


@public.post("/login")
async def login_submit(request: Request, db: DbUrl) -> Response:
    form = await request.form()
    next_url, username = str(form.get("next", "")), str(form.get("username", "")).strip()
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie_token or not secrets.compare_digest(cookie_token, str(form.get("csrf_token", ""))):
        return _login_form(request, next_url=next_url, error=MSG["csrf_failed"], username=username)
    ip = request.client.host if request.client else ""
    try:
        with session_scope(db) as session:
            user = accounts.authenticate(
                session, username=username, password=str(form.get("password", "")), ip=ip
            )
            browser = sessions.start_session(session, user=user)
    except TooManyLoginAttempts:
        return _login_form(request, next_url=next_url, error=MSG["login_throttled"], username=username)
    except ServiceUnavailable:
        raise  # a busy database is not a wrong password
    except (PermissionDenied, TechBridgeError):
        return _login_form(request, next_url=next_url, error=MSG["login_failed"], username=username)
    response = _redirect(_safe_next(next_url))
    cookie = sessions.encode_session(get_web_settings(request).secret_key, browser)
    response.set_cookie(
        sessions.SESSION_COOKIE, cookie, **sessions.cookie_options(secure=secure_cookies(request))
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@pages.post("/logout")
def logout(request: Request, db: DbUrl) -> Response:
    browser = getattr(request.state, "browser_session", None)
    if browser is not None:
        with session_scope(db) as session:
            sessions.end_session(session, browser)
    response = _redirect(urls.login())
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    flash.add(request, response, MSG["logged_out"], "info")
    return response


# -- home and capability centre ---------------------------------------------------------------------


def _labelled(kind: str, column: str, pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Chart labels in Chinese: enum codes become their labels, free text stays as typed."""
    enum_type = RECORD_TYPES[kind].model_fields[column].annotation
    if not (isinstance(enum_type, type) and issubclass(enum_type, StrEnum)):
        return pairs
    return [(label_zh(enum_type(value)), n) for value, n in pairs]


@pages.get("/")
def home(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    scope = viewer.scope
    with session_scope(db) as session:
        counts = {kind: count_records(session, kind, scope=scope) for kind in VIEWS}
        open_demands = record_service.list_visible(
            session, "demand", user=viewer, query=RecordQuery(filters={"status": "open"}, per_page=5)
        )
        matches = count_matches(session, scope=scope)
        chains = facet_counts(session, "demand", "industry_chain", scope=scope, limit=10)
        kinds = _labelled("achievement", "kind", facet_counts(session, "achievement", "kind", scope=scope))
        zone_label = (
            zone_names(session, [viewer.zone_code]).get(viewer.zone_code or "", "")
            if viewer.zone_code
            else ""
        )
    charts = {
        "chains": bar_option("需求按产业链分布", chains, "#1d4ed8"),
        "kinds": pie_option("成果类型构成", kinds),
    }
    return render(
        request,
        "home.html",
        {
            "nav_active": "home",
            "counts": counts,
            "open_demands": open_demands,
            "match_count": matches,
            "charts": charts,
            "has_chart_data": bool(chains or kinds),
            "zone_label": zone_label,
            "titles": KIND_TITLES,
        },
    )


@pages.get("/capability")
def capability(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    with session_scope(db) as session:
        sections = [
            (
                kind,
                count_records(session, kind, scope=viewer.scope),
                record_service.list_visible(session, kind, user=viewer, query=RecordQuery(per_page=5)).items,
            )
            for kind in ("expert", "instrument", "pilot_platform")
        ]
    return render(request, "capability.html", {"nav_active": "capability", "sections": sections})


# -- the generic record pages -------------------------------------------------------------------------


def _nav_key(kind: str) -> str:
    return kind if kind in ("demand", "achievement") else "capability"


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
        "nav_active": _nav_key(kind),
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
        response = _redirect(urls.record(kind, stored.id))
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
        response = _redirect(urls.record(kind, record_id))
        flash.add(request, response, MSG["saved"])
        return response

    @router.post("/{record_id}/archive")
    def archive(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
        with session_scope(db) as session:
            record_service.archive(session, kind, record_id, user=viewer)
        response = _redirect(urls.kind_list(kind))
        flash.add(request, response, MSG["archived"])
        return response

    if view.is_matchable:
        _add_match_routes(router, view)

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


# -- matches and deals ---------------------------------------------------------------------------------


def _reason_parts(raw: object) -> tuple[str, str, list[str]]:
    """A stored reason as (code, text, matched terms); reasons are stored as dicts (older rows as lists)."""
    if isinstance(raw, list | tuple) and len(raw) >= 2:
        return str(raw[0]), str(raw[1]), [str(t) for t in (raw[2] if len(raw) > 2 else [])]
    if isinstance(raw, dict):
        return str(raw.get("code", "")), str(raw.get("text", raw)), [str(t) for t in raw.get("terms") or []]
    return "", str(raw), []


def _match_row(match: Any) -> tuple[Any, list[tuple[str, str, list[str]]], list[str]]:
    """A stored match with its reasons and the words it shares with the source (marked on the page)."""
    reasons = [_reason_parts(r) for r in match.reasons]
    return match, reasons, [t for _, _, terms in reasons for t in terms]


_SOURCE_TEXT = {"demand": "description", "achievement": "abstract", "expert": "bio"}
"""The field a source's matched words are marked in, beside its title."""


def _add_match_routes(router: APIRouter, view: KindView) -> None:
    kind = view.kind

    @router.get("/{record_id}/matches")
    def matches_page(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
        with session_scope(db) as session:
            source = record_service.get_visible(session, kind, record_id, user=viewer)
            found = record_service.matches_for(
                session, kind, record_id, user=viewer, target_kind=None, limit=MATCHES_PER_KIND
            )
            zones = zone_names(session, {source.record.zone_code} | {m.target_zone for m in found})
            computed_at = latest_match_time(session, source_kind=kind, source_id=record_id)
            queued = job_service.queued_matching(session, kind=kind, record_id=record_id)

        def row(m: Any) -> tuple[Any, list[tuple[str, str, list[str]]], list[str]]:
            # The zone reason is told from the viewer's side (本园区 = the viewer's zone).
            match, reasons, terms = _match_row(m)
            return match, [viewer_reason(r, match, viewer, zones) for r in reasons], terms

        groups = [
            (target, [row(m) for m in found if m.target_kind == target]) for target in view.match_targets
        ]
        shared_terms = sorted({t for _, rows in groups for _, _, terms in rows for t in terms})
        return render(
            request,
            "matches.html",
            {
                "kind": kind,
                "view": view,
                "nav_active": _nav_key(kind),
                "source": source,
                "title": getattr(source.record, view.title_field),
                "groups": groups,
                "zones": zones,
                "shared_terms": shared_terms,
                "source_text": getattr(source.record, _SOURCE_TEXT.get(kind, ""), ""),
                "min_match": round(100 * MatchConfig().min_match),
                "views": VIEWS,
                "kind_nouns": KIND_NOUNS,
                "owner_labels": {t: FIELDS[OWNER_FIELDS[t]] for t in view.match_targets},
                "computed_at": computed_at,
                "matching_queued": queued,
                "can_run": can_write(viewer, kind, source.record),
                "can_start": {(m.target_kind, m.target_id): may_start_deal(viewer, source, m) for m in found},
            },
        )

    @router.post("/{record_id}/matches/run")
    def run_matching(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
        response = _redirect(urls.matches(kind, record_id))
        try:
            with session_scope(db) as session:
                record_service.run_matching(
                    session, kind, record_id, user=viewer, settings=get_web_settings(request)
                )
        except Busy as exc:  # a busy database or match index: say so, the stored results stay
            flash.add(request, response, exc.message, "error")
            return response
        flash.add(request, response, MSG["matching_done"])
        return response

    @router.post("/{record_id}/deals")
    async def start_deal(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
        form = await request.form()
        target_kind, target_id = str(form.get("target_kind", "")), int(str(form.get("target_id", "0")) or 0)
        if target_kind not in view.match_targets:
            raise TechBridgeError("请选择要对接的资源")
        if kind == "demand":
            demand_id, resources = record_id, [(target_kind, target_id)]
        else:
            demand_id, resources = target_id, [(kind, record_id)]
        deal = deal_service.start_deal(
            db,
            resources=resources,
            actor=viewer.username,
            scope=viewer.scope,
            demand_id=demand_id,
            on_behalf_of=deal_enterprise(viewer),
            note=str(form.get("note", "")).strip()[:2000],
        )
        # The new deal's page is where the next step (contact, stage history) happens.
        response = _redirect(urls.deal(deal.id))
        flash.add(request, response, f"{MSG['deal_started']} (项目编号 {deal.id})")
        return response


for _kind in VIEWS:
    pages.include_router(record_router(_kind))


# -- account and administration -------------------------------------------------------------------------


def _account_page(request: Request, viewer: User, db: str, *, new_token: str = "") -> Response:
    with session_scope(db) as session:
        tokens = accounts.list_tokens(session, user=viewer)
        zone = zone_names(session, [viewer.zone_code]).get(viewer.zone_code, "") if viewer.zone_code else ""
    return render(
        request,
        "account.html",
        {"nav_active": "account", "tokens": tokens, "new_token": new_token, "zone_label": zone},
    )


@pages.get("/account")
def account(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    return _account_page(request, viewer, db)


@pages.post("/account/password")
async def password_change(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    form = await request.form()
    response = _redirect(urls.account())
    try:
        with session_scope(db) as session:
            accounts.change_password(
                session,
                user=viewer,
                current_password=str(form.get("current_password", "")),
                new_password=str(form.get("new_password", "")),
                ip=request.client.host if request.client else "",
                keep=accounts.Credential(session_key=request.state.browser_session.nonce),
            )
    except TechBridgeError as exc:
        flash.add(request, response, exc.message, "error")
        return response
    flash.add(request, response, MSG["password_changed"])
    return response


@pages.post("/account/tokens")
async def token_create(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    name = str((await request.form()).get("name", "")).strip() or "未命名令牌"
    with session_scope(db) as session:
        issued = accounts.issue_token(session, user=viewer, name=name[:100])
    return _account_page(request, viewer, db, new_token=issued.token)


@pages.post("/account/tokens/{token_id}/revoke")
def token_revoke(request: Request, viewer: CurrentViewer, db: DbUrl, token_id: int) -> Response:
    with session_scope(db) as session:
        accounts.revoke_token(session, user=viewer, token_id=token_id)
    response = _redirect(urls.account())
    flash.add(request, response, MSG["token_revoked"])
    return response


def _admin_page(
    request: Request, viewer: User, db: str, *, error: str = "", values: dict[str, str] | None = None
) -> Response:
    with session_scope(db) as session:
        users = accounts.list_users(session, admin=viewer)
        names = zone_names(session, {u.zone_code for u in users if u.zone_code})
    roles = [
        (r.value, ROLE_LABELS[r.value])
        for r in Role
        if viewer.role == Role.PLATFORM_ADMIN or r not in (Role.PLATFORM_ADMIN, Role.ZONE_ADMIN)
    ]
    return render(
        request,
        "admin_users.html",
        {
            "nav_active": "admin",
            "users": users,
            "roles": roles,
            "error": error,
            "values": values or {},
            "zone_names": names,
        },
        status_code=422 if error else 200,
    )


@pages.get("/admin/users")
def admin_users(request: Request, viewer: AdminViewer, db: DbUrl) -> Response:
    return _admin_page(request, viewer, db)


@pages.post("/admin/users")
async def admin_user_create(request: Request, viewer: AdminViewer, db: DbUrl) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip()
        for k in ("username", "display_name", "role", "zone_code", "organization")
    }
    zone = values["zone_code"] if viewer.role == Role.PLATFORM_ADMIN else viewer.zone_code
    try:
        role = Role(values["role"])
        with session_scope(db) as session:
            accounts.check_can_manage(viewer, role=role, zone_code=zone or None)
            accounts.create_user(
                session,
                username=values["username"],
                password=str(form.get("password", "")),
                role=role,
                zone_code=zone or None,
                organization=values["organization"] or None,
                display_name=values["display_name"],
            )
    except ValueError:
        return _admin_page(request, viewer, db, error="请选择角色", values=values)
    except TechBridgeError as exc:
        return _admin_page(request, viewer, db, error=exc.message, values=values)
    response = _redirect(urls.admin_users())
    flash.add(request, response, f"{MSG['user_created']}: {values['username']}")
    return response


@pages.post("/admin/users/{user_id}/active")
async def admin_user_active(request: Request, viewer: AdminViewer, db: DbUrl, user_id: int) -> Response:
    is_active = (await request.form()).get("is_active") == "true"
    with session_scope(db) as session:
        accounts.set_active(session, admin=viewer, user_id=user_id, is_active=is_active)
    response = _redirect(urls.admin_users())
    flash.add(request, response, "已启用账户" if is_active else "已停用账户")
    return response


def mount(app: FastAPI) -> None:
    """Add the pages and their static files to ``app`` (``techbridge.app.create_app`` calls this)."""
    from .dashboard import deal_pages
    from .views import archive, exports, imports, jobs, notifications, settings

    app.include_router(public, include_in_schema=False)
    app.include_router(pages, include_in_schema=False)
    app.include_router(deal_pages, include_in_schema=False)
    for view in (jobs, imports, exports, notifications, settings, archive):
        app.include_router(view.router, include_in_schema=False)
    app.include_router(booking_views.router, include_in_schema=False)
    app.include_router(deal_views.router, include_in_schema=False)
    error_views.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
