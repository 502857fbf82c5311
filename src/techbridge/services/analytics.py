"""Analytics by name, for the CLI, the API and the dashboard: one registry, so all three list the same.

Every metric is computed for a reader (``viewer``): record metrics in the zone the reader acts for, deal
metrics over ``deals.readable_deals`` — exactly the deals, redacted the same way, that the reader's deal
list shows. An enterprise counts its own deals; a zone that only supplied a resource counts the deal's
stage but never the owner zone's titles, notes or amounts.

Months (the trend, the monthly report) are calendar months of ``tz``, the platform's time zone
(``Settings.tz``, 北京时间 by default), which every caller passes: the zone staff's month starts at
00:00 北京时间, eight hours before UTC's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy.orm import Session

from ..analytics import metrics, queries
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
from ..domain.accounts import User
from ..domain.deals import Deal
from ..errors import InvalidInput, ZoneAccessDenied
from .deals import readable_deals

# A stored match scoring at least this counts as a good one for coverage. Match scores are weighted sums
# of signals in 0..1 (catalogue fields weigh 1.0, words 0.15; see ``match.config``).
DEFAULT_THRESHOLD = 0.5


class Tabular(Protocol):
    def table(self) -> TableData: ...


@dataclass
class Inputs:
    """What a metric reads: the session, the zone scope, the reader, the time zone of months, and the
    reader's deals (loaded once)."""

    session: Session
    scope: Scope
    viewer: User
    threshold: float
    tz: tzinfo

    @cached_property
    def deals(self) -> Sequence[Deal]:
        return readable_deals(self.session, user=self.viewer, within=self.scope)


@dataclass(frozen=True)
class Metric:
    title: str
    model: type[BaseModel]
    compute: Callable[[Inputs], Tabular]


def _breakdown(dimension: str) -> Metric:
    return Metric(
        title=f"按{queries.BREAKDOWN_LABELS[dimension]}统计",
        model=Breakdown,
        compute=lambda i: queries.deals_by(i.session, i.deals, dimension=dimension),
    )


METRICS: dict[str, Metric] = {
    "trend": Metric(
        "资源月度新增", MonthlyCounts, lambda i: queries.records_by_month(i.session, scope=i.scope, tz=i.tz)
    ),
    "coverage": Metric(
        "需求匹配覆盖率",
        Coverage,
        lambda i: queries.match_coverage(i.session, scope=i.scope, threshold=i.threshold),
    ),
    "funnel": Metric("转化漏斗", Funnel, lambda i: metrics.funnel(i.deals)),
    **{f"by-{d.replace('_', '-')}": _breakdown(d) for d in queries.BREAKDOWN_LABELS},
    "cross-zone": Metric("跨园区撮合", CrossZone, lambda i: metrics.cross_zone(i.deals)),
    "deal-map": Metric(
        "撮合项目省份分布", ProvinceMap, lambda i: queries.deals_by_province_map(i.session, i.deals)
    ),
    "zone-map": Metric("国家高新区省份分布", ProvinceMap, lambda i: queries.registry_province_map(i.session)),
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


def compute(
    session: Session,
    name: str,
    *,
    user: User,
    tz: tzinfo,
    zone: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> Tabular:
    """The typed, chart-ready result of one metric as ``user`` may see it (``zone``: platform admins)."""
    metric = _metric(name)
    scope = scope_for(user.scope, zone)
    return metric.compute(Inputs(session=session, scope=scope, viewer=user, threshold=threshold, tz=tz))


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def export(
    session: Session,
    name: str,
    *,
    user: User,
    fmt: str,
    tz: tzinfo,
    zone: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> ExportFile:
    """One metric's table as a CSV or XLSX file named after the metric, zone and day (of ``tz``)."""
    table = compute(session, name, user=user, zone=zone, threshold=threshold, tz=tz).table()
    content = export_table(table, fmt)
    today = datetime.now(tz).date().isoformat()
    stem = f"{name}-{scope_for(user.scope, zone).zone_code or 'platform'}-{today}"
    return ExportFile(filename=f"{stem}.{fmt}", content_type=CONTENT_TYPES[fmt], content=content)


def monthly_report(
    session: Session,
    *,
    user: User,
    month: str,
    tz: tzinfo,
    zone: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> MonthlyReport:
    """Everything the zone committee's monthly report shows, for ``month`` ('YYYY-MM' of ``tz``), as
    ``user`` may."""
    try:
        if len(month) != 7:
            raise ValueError(month)
        datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise InvalidInput(f"月份格式应为 YYYY-MM, 实际 {month!r}") from None
    scope = scope_for(user.scope, zone)
    deals = readable_deals(session, user=user, within=scope)
    return queries.monthly_report(session, deals, scope=scope, month=month, threshold=threshold, tz=tz)
