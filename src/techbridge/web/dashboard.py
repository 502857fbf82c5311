"""Deal pages (pipeline board, detail with history and stage form) and the 科创云图 dashboard.

Thin like ``routes``: parse, call ``services.deals`` / ``services.analytics``, turn their typed results
into ECharts options (``charts``), render.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from ..analytics.models import Funnel
from ..domain.deals import (
    CLOSED_STAGES,
    PIPELINE,
    STAGE_LABELS_ZH,
    Attachment,
    DealStage,
    parse_stage,
    stage_durations,
)
from ..errors import PermissionDenied, TechBridgeError
from ..services import analytics, deals
from ..store.db import session_scope
from ..store.facets import zone_names
from ..store.tables import utcnow
from . import flash
from .charts import breakdown_option, funnel_option, map_option, pie_option, sankey_option, trend_option
from .deps import CurrentViewer, DbUrl, check_csrf, load_viewer
from .routes import PageRoute
from .templating import render
from .urls import urls

deal_pages = APIRouter(route_class=PageRoute, dependencies=[Depends(load_viewer), Depends(check_csrf)])


# -- deals -------------------------------------------------------------------------------------------


@deal_pages.get("/deals")
def deal_board(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    found = deals.list_deals(db, viewer=viewer)
    columns = [(stage, STAGE_LABELS_ZH[stage], [d for d in found if d.stage == stage]) for stage in PIPELINE]
    dropped = [d for d in found if d.stage == DealStage.DROPPED]
    return render(
        request,
        "deals/board.html",
        {"nav_active": "deals", "columns": columns, "dropped": dropped, "total": len(found)},
    )


@deal_pages.get("/deals/{deal_id}")
def deal_detail(request: Request, viewer: CurrentViewer, db: DbUrl, deal_id: int) -> Response:
    deal = deals.get_deal(db, deal_id, viewer=viewer)
    with session_scope(db) as session:
        names = zone_names(session, [deal.zone_code, *deal.supplier_zones])
    days = {
        s: round(d.total_seconds() / 86400, 1) for s, d in stage_durations(deal.events, now=utcnow()).items()
    }
    can_advance = viewer.is_admin and viewer.scope.can_edit(zone_code=deal.zone_code) and not deal.is_closed
    return render(
        request,
        "deals/detail.html",
        {
            "nav_active": "deals",
            "deal": deal,
            "zone_names": names,
            "stage_days": days,
            "pipeline": PIPELINE,
            "labels": STAGE_LABELS_ZH,
            "targets": [s for s in PIPELINE if s != deal.stage],
            "next_stage": PIPELINE[PIPELINE.index(deal.stage) + 1]
            if deal.stage not in CLOSED_STAGES
            else None,
            "can_advance": can_advance,
        },
    )


def _money(value: object) -> float | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise TechBridgeError(f"金额应为数字 (万元), 实际 {text!r}") from None


async def _attachments(request: Request) -> list[Attachment]:
    """Only the metadata of uploaded files is kept with the history; the files are not stored here.

    The form parser has already streamed each file to a temporary file (the body is capped by the app's
    upload limit), so its size is the temporary file's length: the file is never read into memory.
    """
    form = await request.form()
    found = []
    for item in form.getlist("attachments"):
        if isinstance(item, UploadFile) and item.filename:
            item.file.seek(0, os.SEEK_END)
            found.append(
                Attachment(name=item.filename, size=item.file.tell(), content_type=item.content_type or "")
            )
    return found


@deal_pages.post("/deals/{deal_id}/advance")
async def deal_advance(request: Request, viewer: CurrentViewer, db: DbUrl, deal_id: int) -> Response:
    if not viewer.is_admin:
        raise PermissionDenied("只有园区管理员可以推进撮合项目")
    form = await request.form()
    deals.advance(
        db,
        deal_id,
        to_stage=parse_stage(str(form.get("to_stage", ""))),
        actor=viewer.username,
        scope=viewer.scope,
        note=str(form.get("note", "")),
        attachments=await _attachments(request),
        contract_value=_money(form.get("contract_value")),
        funding_amount=_money(form.get("funding_amount")),
    )
    response = RedirectResponse(urls.deal(deal_id), status_code=303)
    flash.add(request, response, "阶段已更新", "success")
    return response


@deal_pages.post("/deals/{deal_id}/drop")
async def deal_drop(request: Request, viewer: CurrentViewer, db: DbUrl, deal_id: int) -> Response:
    if not viewer.is_admin:
        raise PermissionDenied("只有园区管理员可以终止撮合项目")
    form = await request.form()
    deals.drop(db, deal_id, reason=str(form.get("reason", "")), actor=viewer.username, scope=viewer.scope)
    response = RedirectResponse(urls.deal(deal_id), status_code=303)
    flash.add(request, response, "项目已终止", "info")
    return response


# -- dashboard and report ----------------------------------------------------------------------------


def _zone_label(db: str, zone_code: str | None) -> str:
    if zone_code is None:
        return "全平台"
    with session_scope(db) as session:
        return zone_names(session, [zone_code]).get(zone_code, zone_code)


@deal_pages.get("/dashboard")
def dashboard(request: Request, viewer: CurrentViewer, db: DbUrl, zone: str = "") -> Response:
    scope = analytics.scope_for(viewer.scope, zone or None)

    def get(name: str) -> Any:
        return analytics.compute(db, name, viewer=viewer, zone=zone or None)

    funnel, coverage, flows = get("funnel"), get("coverage"), get("cross-zone")
    with session_scope(db) as session:
        names = zone_names(
            session, [f.demand_zone for f in flows.flows] + [f.supplier_zone for f in flows.flows]
        )
    regions = get("zone-map")
    charts = {
        "funnel": funnel_option(funnel),
        "trend": trend_option(get("trend")),
        "chains": breakdown_option(get("by-industry-chain")),
        "universities": breakdown_option(get("by-university")),
        "zone_map": map_option(regions),
        "deal_map": map_option(get("deal-map")),
        "regions": pie_option("国家高新区区域分布 (国家统计局四大区域)", list(regions.regions.items())),
        "flows": sankey_option(flows, names),
    }
    return render(
        request,
        "deals/dashboard.html",
        {
            "nav_active": "dashboard",
            "zone": scope.zone_code or "",
            "zone_label": _zone_label(db, scope.zone_code),
            "funnel": funnel,
            "coverage": coverage,
            "charts": charts,
            "has_flows": bool(flows.flows),
            "metrics": analytics.METRICS,
        },
    )


@deal_pages.get("/dashboard/funnel")
def funnel_page(request: Request, viewer: CurrentViewer, db: DbUrl, zone: str = "") -> Response:
    scope = analytics.scope_for(viewer.scope, zone or None)
    funnel = analytics.compute(db, "funnel", viewer=viewer, zone=zone or None)
    assert isinstance(funnel, Funnel)
    return render(
        request,
        "deals/funnel.html",
        {
            "nav_active": "dashboard",
            "zone": scope.zone_code or "",
            "zone_label": _zone_label(db, scope.zone_code),
            "funnel": funnel,
            "chart": funnel_option(funnel),
            "table": funnel.table(),
        },
    )


@deal_pages.get("/reports/monthly")
def monthly_report(
    request: Request, viewer: CurrentViewer, db: DbUrl, month: str = "", zone: str = ""
) -> Response:
    scope = analytics.scope_for(viewer.scope, zone or None)
    month = month or datetime.now(UTC).strftime("%Y-%m")
    report = analytics.monthly_report(db, viewer=viewer, month=month, zone=zone or None)
    zone_label = _zone_label(db, scope.zone_code)
    return render(
        request,
        "deals/report.html",
        {
            "nav_active": "report",
            "report": report,
            "zone_label": zone_label,
            "zone": scope.zone_code or "",
            "generated_at": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        },
    )
