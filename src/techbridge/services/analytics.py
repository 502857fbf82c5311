"""Analytics by name, for the CLI, the API and the dashboard: one registry, so all three list the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy.orm import Session

from ..analytics import queries
from ..analytics.export import CONTENT_TYPES, export_table
from ..analytics.models import (
    Breakdown,
    Coverage,
    CrossZone,
    Funnel,
    MonthlyCounts,
    MonthlyReport,
    ProvinceMap,
    TableData,
)
from ..domain.access import Scope
from ..errors import InvalidInput, ZoneAccessDenied
from ..store.db import session_scope

# A stored match scoring at least this counts as a good one for coverage. Match scores are weighted sums
# of signals in 0..1 (catalogue fields weigh 1.0, words 0.15; see ``match.config``).
DEFAULT_THRESHOLD = 0.5


class Tabular(Protocol):
    def table(self) -> TableData: ...


@dataclass(frozen=True)
class Metric:
    title: str
    model: type[BaseModel]
    compute: Callable[[Session, Scope, float], Tabular]


def _breakdown(dimension: str) -> Metric:
    return Metric(
        title=f"按{queries.BREAKDOWN_LABELS[dimension]}统计",
        model=Breakdown,
        compute=lambda s, scope, _t: queries.deals_by(s, scope=scope, dimension=dimension),
    )


METRICS: dict[str, Metric] = {
    "trend": Metric(
        "资源月度新增", MonthlyCounts, lambda s, scope, _t: queries.records_by_month(s, scope=scope)
    ),
    "coverage": Metric(
        "需求匹配覆盖率", Coverage, lambda s, scope, t: queries.match_coverage(s, scope=scope, threshold=t)
    ),
    "funnel": Metric("转化漏斗", Funnel, lambda s, scope, _t: queries.funnel(s, scope=scope)),
    **{f"by-{d.replace('_', '-')}": _breakdown(d) for d in queries.BREAKDOWN_LABELS},
    "cross-zone": Metric("跨园区撮合", CrossZone, lambda s, scope, _t: queries.cross_zone(s, scope=scope)),
    "deal-map": Metric(
        "撮合项目省份分布", ProvinceMap, lambda s, scope, _t: queries.deals_by_province_map(s, scope=scope)
    ),
    "zone-map": Metric(
        "国家高新区省份分布", ProvinceMap, lambda s, _scope, _t: queries.registry_province_map(s)
    ),
}


def scope_for(viewer: Scope, zone: str | None) -> Scope:
    """The scope an analytics request runs in: a zone's own, or one zone picked by the platform admin."""
    if not zone or zone == viewer.zone_code:
        return viewer
    if viewer.zone_code is not None:
        raise ZoneAccessDenied(zone, "统计数据")
    return Scope(zone)


def _metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}; choose from {sorted(METRICS)}") from None


def compute(url: str, name: str, *, scope: Scope, threshold: float = DEFAULT_THRESHOLD) -> Tabular:
    """The typed, chart-ready result of one metric."""
    metric = _metric(name)
    with session_scope(url) as session:
        return metric.compute(session, scope, threshold)


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def export(
    url: str, name: str, *, scope: Scope, fmt: str, threshold: float = DEFAULT_THRESHOLD
) -> ExportFile:
    """One metric's table as a CSV or XLSX file named after the metric, zone and day."""
    table = compute(url, name, scope=scope, threshold=threshold).table()
    content = export_table(table, fmt)
    stem = f"{name}-{scope.zone_code or 'platform'}-{date.today().isoformat()}"
    return ExportFile(filename=f"{stem}.{fmt}", content_type=CONTENT_TYPES[fmt], content=content)


def monthly_report(
    url: str, *, scope: Scope, month: str, threshold: float = DEFAULT_THRESHOLD
) -> MonthlyReport:
    """Everything the zone committee's monthly report shows, for ``month`` ('YYYY-MM')."""
    try:
        if len(month) != 7:
            raise ValueError(month)
        datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise InvalidInput(f"月份格式应为 YYYY-MM, 实际 {month!r}") from None
    with session_scope(url) as session:
        return queries.monthly_report(session, scope=scope, month=month, threshold=threshold)
