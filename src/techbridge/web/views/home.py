"""The home page (counts, open demands, charts) and the capability centre."""

from __future__ import annotations

from enum import StrEnum

from fastapi import Request
from starlette.responses import Response

from ...domain.enums import label_zh
from ...domain.records import RECORD_TYPES
from ...services import records as record_service
from ...store.db import session_scope
from ...store.facets import count_matches, facet_counts, zone_names
from ...store.records import RecordQuery, count_records
from ..charts import bar_option, pie_option
from ..deps import CurrentViewer, DbUrl
from ..kinds import VIEWS
from ..strings_zh import KIND_TITLES
from ..templating import render
from . import page_router

router = page_router()


def _labelled(kind: str, column: str, pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Chart labels in Chinese: enum codes become their labels, free text stays as typed."""
    enum_type = RECORD_TYPES[kind].model_fields[column].annotation
    if not (isinstance(enum_type, type) and issubclass(enum_type, StrEnum)):
        return pairs
    return [(label_zh(enum_type(value)), n) for value, n in pairs]


@router.get("/")
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


@router.get("/capability")
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
