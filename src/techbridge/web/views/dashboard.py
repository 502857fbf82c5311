"""The 科创云图 dashboard, the funnel page and the monthly report (the deal pages are ``views/deals``).

Thin like every view: parse, call ``services.analytics``, turn its typed results into ECharts options
(``charts``), render.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from ...analytics.models import Funnel
from ...services import analytics
from ...store.accounts import display_names
from ...store.db import session_scope
from ...store.facets import zone_names
from ..charts import breakdown_option, funnel_option, map_option, pie_option, sankey_option, trend_option
from ..deps import CurrentViewer, DbUrl, display_tz
from ..templating import render, tz_label
from . import page_router

router = page_router()


# -- dashboard and report ----------------------------------------------------------------------------


def _zone_label(session: Session, zone_code: str | None) -> str:
    if zone_code is None:
        return "全平台"
    return zone_names(session, [zone_code]).get(zone_code, zone_code)


@router.get("/dashboard")
def dashboard(request: Request, viewer: CurrentViewer, db: DbUrl, zone: str = "") -> Response:
    scope = analytics.scope_for(viewer.scope, zone or None)
    tz = display_tz(request)
    with session_scope(db) as session:

        def get(name: str) -> Any:
            return analytics.compute(session, name, user=viewer, zone=zone or None, tz=tz)

        funnel, coverage, flows = get("funnel"), get("coverage"), get("cross-zone")
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
        zone_label = _zone_label(session, scope.zone_code)
    return render(
        request,
        "deals/dashboard.html",
        {
            "nav_active": "dashboard",
            "zone": scope.zone_code or "",
            "zone_label": zone_label,
            "funnel": funnel,
            "coverage": coverage,
            "charts": charts,
            "has_flows": bool(flows.flows),
            "metrics": analytics.METRICS,
        },
    )


@router.get("/dashboard/funnel")
def funnel_page(request: Request, viewer: CurrentViewer, db: DbUrl, zone: str = "") -> Response:
    scope = analytics.scope_for(viewer.scope, zone or None)
    with session_scope(db) as session:
        funnel = analytics.compute(session, "funnel", user=viewer, zone=zone or None, tz=display_tz(request))
        zone_label = _zone_label(session, scope.zone_code)
    assert isinstance(funnel, Funnel)
    return render(
        request,
        "deals/funnel.html",
        {
            "nav_active": "dashboard",
            "zone": scope.zone_code or "",
            "zone_label": zone_label,
            "funnel": funnel,
            "chart": funnel_option(funnel),
            "table": funnel.table(),
        },
    )


@router.get("/reports/monthly")
def monthly_report(
    request: Request, viewer: CurrentViewer, db: DbUrl, month: str = "", zone: str = ""
) -> Response:
    scope = analytics.scope_for(viewer.scope, zone or None)
    tz = display_tz(request)
    now = datetime.now(tz)
    month = month or now.strftime("%Y-%m")  # this month where the zone staff are
    with session_scope(db) as session:
        report = analytics.monthly_report(session, user=viewer, month=month, zone=zone or None, tz=tz)
        zone_label = _zone_label(session, scope.zone_code)
        flows = report.cross_zone.flows
        # The report's tables carry zone codes and usernames; the page shows names.
        names = zone_names(session, {f.demand_zone for f in flows} | {f.supplier_zone for f in flows})
        people = display_names(session, {e.actor for e in report.activity.events})
    return render(
        request,
        "deals/report.html",
        {
            "nav_active": "report",
            "report": report,
            "zone_label": zone_label,
            "zone": scope.zone_code or "",
            "generated_at": f"{now:%Y-%m-%d %H:%M} {tz_label(now.tzinfo)}",
            "cell_names": {**people, **names},
        },
    )
