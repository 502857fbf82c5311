"""Deal pages: the board, a deal's page (stage form with its errors shown in place, notes and files, the
parties' contacts), file downloads, and the confirmation step before a deal is started from a match.

Thin: the rules are in ``domain.deal_rules`` and ``services.deals`` / ``services.deal_work``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import FileResponse, RedirectResponse, Response

from ...domain.accounts import OWNER_FIELDS, User
from ...domain.deal_rules import can_advance, can_start_deal, can_take_part
from ...domain.deals import (
    CLOSED_STAGES,
    PIPELINE,
    RESOURCE_KINDS,
    STAGE_LABELS_ZH,
    Deal,
    DealStage,
    parse_stage,
)
from ...errors import TechBridgeError
from ...request_context import app_settings
from ...services import deal_work, deals
from ...services import records as record_service
from ...store.accounts import display_names
from ...store.db import session_scope
from ...store.facets import zone_names
from .. import flash
from ..deps import CurrentViewer, DbUrl
from ..strings_zh import FIELDS, KIND_NOUNS
from ..templating import render
from ..urls import urls
from . import page_router

# The app's UploadLimit middleware refuses a body over TECHBRIDGE_UPLOAD_MAX_MB (413) before it is read.
router = page_router()


def _files(request: Request) -> deal_work.FileStore:
    settings = app_settings(request)
    return deal_work.FileStore(settings.data_dir, settings.upload_max_mb << 20)


async def _form(request: Request) -> FormData:
    return await request.form(max_files=deal_work.MAX_FILES + 1)


def _uploads(form: FormData, name: str) -> list[deal_work.Upload]:
    return [
        deal_work.Upload(item.filename, item.file)
        for item in form.getlist(name)
        if isinstance(item, UploadFile) and item.filename
    ]


@router.get("/deals")
def deal_board(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    with session_scope(db) as session:
        found = deals.list_deals(session, user=viewer)
        names = zone_names(
            session, {d.zone_code for d in found} | {z for d in found for z in d.supplier_zones}
        )
    columns = [(stage, STAGE_LABELS_ZH[stage], [d for d in found if d.stage == stage]) for stage in PIPELINE]
    dropped = [d for d in found if d.stage == DealStage.DROPPED]
    return render(
        request,
        "deals/board.html",
        {
            "nav_active": "deals",
            "columns": columns,
            "dropped": dropped,
            "total": len(found),
            "zone_names": names,
        },
    )


def _detail(
    request: Request, viewer: User, db: str, deal: Deal, *, status_code: int = 200, **extra: Any
) -> Response:
    with session_scope(db) as session:
        names = zone_names(session, [deal.zone_code, *deal.supplier_zones])
        # A supplying zone sees the deal redacted (no notes, files or people), as the API shows it.
        notes = deal_work.list_notes(session, deal.id) if can_take_part(viewer, deal) else []
        people = display_names(
            session, [deal.created_by, *(e.actor for e in deal.events), *(n.author for n in notes)]
        )
        contacts = deal_work.contacts(session, deal, user=viewer)
    days = deals.stage_days(deal)
    next_stage = PIPELINE[PIPELINE.index(deal.stage) + 1] if deal.stage not in CLOSED_STAGES else None
    context = {
        "nav_active": "deals",
        "deal": deal,
        "zone_names": names,
        "stage_days": days,
        "pipeline": PIPELINE,
        "labels": STAGE_LABELS_ZH,
        "targets": [s for s in PIPELINE if s != deal.stage],
        "next_stage": next_stage,
        "can_advance": can_advance(viewer, deal),
        "can_take_part": can_take_part(viewer, deal),
        "notes": notes,
        "people": people,
        "contacts": contacts,
        "allowed_types": "、".join(s.lstrip(".").upper() for s in deal_work.ALLOWED_SUFFIXES),
        "max_mb": app_settings(request).upload_max_mb,
        "stage_form": {"to_stage": next_stage.value if next_stage else ""},
        "stage_error": "",
        "drop_error": "",
        "note_error": "",
    }
    context.update(extra)
    return render(request, "deals/detail.html", context, status_code=status_code)


def _deal(db: str, viewer: User, deal_id: int) -> Deal:
    with session_scope(db) as session:
        return deals.get_deal(session, deal_id, user=viewer)


@router.get("/deals/{deal_id}")
def deal_detail(request: Request, viewer: CurrentViewer, db: DbUrl, deal_id: int) -> Response:
    return _detail(request, viewer, db, _deal(db, viewer, deal_id))


def _money(value: object) -> float | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise TechBridgeError(f"金额应为数字 (万元), 实际 {text!r}") from None


@router.post("/deals/{deal_id}/advance")
async def deal_advance(request: Request, viewer: CurrentViewer, db: DbUrl, deal_id: int) -> Response:
    deal = _deal(db, viewer, deal_id)
    deals.require_officer(viewer, deal)  # a 403 page; a refused stage change is shown in the form
    form = await _form(request)
    values = {k: str(form.get(k, "")) for k in ("to_stage", "note", "contract_value", "funding_amount")}
    try:
        with session_scope(db) as session:
            deal_work.advance_with_files(
                session,
                deal_id,
                user=viewer,
                uploads=_uploads(form, "attachments"),
                files=_files(request),
                to_stage=parse_stage(values["to_stage"]),
                note=values["note"],
                contract_value=_money(values["contract_value"]),
                funding_amount=_money(values["funding_amount"]),
            )
    except (TechBridgeError, ValueError) as exc:
        # The reason is shown next to the form, with what was typed, so the officer can add a reason.
        message = exc.message if isinstance(exc, TechBridgeError) else str(exc)
        return _detail(request, viewer, db, deal, status_code=422, stage_error=message, stage_form=values)
    response = RedirectResponse(urls.deal(deal_id), status_code=303)
    flash.add(request, response, "阶段已更新", "success")
    return response


@router.post("/deals/{deal_id}/drop")
async def deal_drop(request: Request, viewer: CurrentViewer, db: DbUrl, deal_id: int) -> Response:
    deal = _deal(db, viewer, deal_id)
    deals.require_officer(viewer, deal)
    form = await request.form()
    reason = str(form.get("reason", ""))
    try:
        with session_scope(db) as session:
            deals.drop_as(session, deal_id, user=viewer, reason=reason)
    except TechBridgeError as exc:
        return _detail(request, viewer, db, deal, status_code=422, drop_error=exc.message, drop_reason=reason)
    response = RedirectResponse(urls.deal(deal_id), status_code=303)
    flash.add(request, response, "项目已终止", "info")
    return response


@router.post("/deals/{deal_id}/notes")
async def deal_note(request: Request, viewer: CurrentViewer, db: DbUrl, deal_id: int) -> Response:
    deal = _deal(db, viewer, deal_id)
    form = await _form(request)
    body = str(form.get("body", ""))
    try:
        with session_scope(db) as session:
            deal_work.post_note(
                session,
                deal_id,
                user=viewer,
                body=body,
                uploads=_uploads(form, "files"),
                files=_files(request),
            )
    except TechBridgeError as exc:
        if exc.status in (403, 404):
            raise
        return _detail(request, viewer, db, deal, status_code=422, note_error=exc.message, note_body=body)
    response = RedirectResponse(urls.deal(deal_id) + "#notes", status_code=303)
    flash.add(request, response, "留言已发布", "success")
    return response


@router.get("/deals/{deal_id}/files/{file_id}")
def deal_file(request: Request, viewer: CurrentViewer, db: DbUrl, deal_id: int, file_id: int) -> Response:
    with session_scope(db) as session:
        path, found = deal_work.open_file(session, deal_id, file_id, user=viewer, files=_files(request))
    # FileResponse streams the file in chunks; nosniff keeps a browser from running an upload as a page.
    return FileResponse(
        path,
        media_type=found.content_type,
        filename=found.name,
        headers={"X-Content-Type-Options": "nosniff"},
    )


def _confirm_page(request: Request, viewer: User, db: str, kind: str, record_id: int) -> Response:
    target_kind = request.query_params.get("target_kind", "")
    try:
        target_id = int(request.query_params.get("target_id", "0"))
    except ValueError:
        target_id = 0
    if kind == "demand":
        demand_id, resource_kind, resource_id = record_id, target_kind, target_id
    else:
        demand_id, resource_kind, resource_id = target_id, kind, record_id
    if target_kind not in (RESOURCE_KINDS if kind == "demand" else ("demand",)):
        raise TechBridgeError("请选择要对接的资源")
    with session_scope(db) as session:
        demand = record_service.get_visible(session, "demand", demand_id, user=viewer)
        resource = record_service.get_visible(session, resource_kind, resource_id, user=viewer)
        names = zone_names(session, [demand.record.zone_code, resource.record.zone_code])
    owner = getattr(resource.record, OWNER_FIELDS[resource_kind], None)
    allowed = can_start_deal(
        viewer,
        demand_zone=demand.record.zone_code,
        demand_org=getattr(demand.record, "organization", None),
        resource_owners=[owner],
    )
    return render(
        request,
        "deals/confirm.html",
        {
            "nav_active": "deals",
            "kind": kind,
            "record_id": record_id,
            "target_kind": target_kind,
            "target_id": target_id,
            "demand": demand,
            "resource": resource,
            "resource_kind": resource_kind,
            "resource_noun": KIND_NOUNS[resource_kind],
            "resource_title": getattr(resource.record, "name", None) or getattr(resource.record, "title", ""),
            "owner": owner,
            "owner_label": FIELDS[OWNER_FIELDS[resource_kind]],
            "zone_names": names,
            "allowed": allowed,
        },
        status_code=200 if allowed else 403,
    )


@router.get("/demands/{record_id}/deals/new")
def confirm_from_demand(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
    return _confirm_page(request, viewer, db, "demand", record_id)


@router.get("/achievements/{record_id}/deals/new")
def confirm_from_achievement(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
    return _confirm_page(request, viewer, db, "achievement", record_id)
