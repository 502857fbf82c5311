"""Analytics over the store, always within a ``Scope``, and over the deals the reader may see.

What a zone sees: record counts and match coverage of the records it owns. Deal metrics take the deals
as ``services.deals.readable_deals`` gives them to the reader (the same deals, redacted the same way, as
the reader's deal list), so another zone's private deals or private detail never enter its numbers.
The platform administrator (``Scope.platform()``) sees everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, tzinfo

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..domain.access import Scope
from ..domain.deals import Deal
from ..domain.geography import PROVINCE_REGIONS, REGION_LABELS_ZH, province_full
from ..store.deals import as_utc
from ..store.records import KIND_LABELS_ZH, table_for
from ..store.tables import AchievementRow, DemandRow, MatchResultRow, RecordMixin, ZoneRow
from ..store.zone_registry import list_zones
from . import metrics
from .models import (
    Breakdown,
    Coverage,
    CoverageRow,
    MonthlyCounts,
    MonthlyReport,
    ProvinceMap,
)

TREND_KINDS = ("demand", "achievement", "expert", "instrument", "pilot_platform")
NO_CHAIN = "未分类"
NO_UNIVERSITY = "无高校成果"


def _owned(table: type[RecordMixin], scope: Scope) -> ColumnElement[bool]:
    live = table.archived_at.is_(None)
    return live if scope.zone_code is None else and_(live, table.zone_code == scope.zone_code)


def records_by_month(session: Session, *, scope: Scope, tz: tzinfo) -> MonthlyCounts:
    """New records per calendar month of ``tz``. Grouped in Python, not SQL: SQLite knows no IANA time
    zones (only fixed offsets), and one definition of a month then serves both stores."""
    created: dict[str, list[datetime]] = {}
    for kind in TREND_KINDS:
        table = table_for(kind)
        created[KIND_LABELS_ZH[kind]] = [
            as_utc(t) for t in session.scalars(select(table.created_at).where(_owned(table, scope)))
        ]
    return metrics.monthly_counts(created, tz=tz)


def match_coverage(session: Session, *, scope: Scope, threshold: float) -> Coverage:
    good_match = exists().where(
        MatchResultRow.source_kind == "demand",
        MatchResultRow.source_id == DemandRow.id,
        MatchResultRow.score >= threshold,
    )
    stmt = select(DemandRow.zone_code, good_match).where(_owned(DemandRow, scope), DemandRow.status == "open")
    per_zone: dict[str, CoverageRow] = {}
    for zone_code, covered in session.execute(stmt):
        row = per_zone.setdefault(zone_code, CoverageRow(zone_code=zone_code, open_demands=0, covered=0))
        row.open_demands += 1
        row.covered += bool(covered)
    return Coverage(threshold=threshold, rows=[per_zone[z] for z in sorted(per_zone)])


def _province(name: str) -> str:
    """Zones may be entered as '江苏' or '江苏省'; analytics groups by the full name."""
    try:
        return province_full(name)
    except ValueError:
        return metrics.UNKNOWN


def _zone_provinces(session: Session) -> dict[str, str]:
    return {z.code: _province(z.province) for z in list_zones(session)}


def _university_keys(session: Session, deals: Sequence[Deal]) -> Callable[[Deal], Iterable[str]]:
    # A resource the reader may not read has no id (``DealResource.is_hidden``): its owner stays unknown.
    ids = sorted({r.record_id for d in deals for r in d.resources if r.kind == "achievement" and r.record_id})
    owners: dict[int, str] = {}
    for start in range(0, len(ids), 900):
        stmt = select(AchievementRow.id, AchievementRow.owner).where(
            AchievementRow.id.in_(ids[start : start + 900])
        )
        owners.update({i: o for i, o in session.execute(stmt) if o})

    def keys(deal: Deal) -> list[str]:
        found = [
            owners[r.record_id] for r in deal.resources if r.kind == "achievement" and r.record_id in owners
        ]
        return found or [NO_UNIVERSITY]

    return keys


def _region_label(province: str | None) -> str:
    region = PROVINCE_REGIONS.get(province or "")
    return REGION_LABELS_ZH[region] if region else metrics.UNKNOWN


BREAKDOWN_LABELS = {
    "industry_chain": "产业链",
    "university": "高校/院所",
    "zone": "园区",
    "province": "省份",
    "region": "区域",
}


def deals_by(session: Session, deals: Sequence[Deal], *, dimension: str) -> Breakdown:
    """Deals grouped by ``dimension``; province and region come from the owning zone in the registry."""
    if dimension not in BREAKDOWN_LABELS:
        raise ValueError(f"unknown dimension {dimension!r}; choose from {sorted(BREAKDOWN_LABELS)}")
    keys_of: Callable[[Deal], Iterable[str]]
    if dimension == "university":
        keys_of = _university_keys(session, deals)
    else:
        provinces = _zone_provinces(session)
        keys_of = {
            "industry_chain": lambda d: [d.industry_chain or NO_CHAIN],
            "zone": lambda d: [d.zone_code],
            "province": lambda d: [provinces.get(d.zone_code, metrics.UNKNOWN)],
            "region": lambda d: [_region_label(provinces.get(d.zone_code))],
        }[dimension]
    return metrics.breakdown(deals, dimension=dimension, label=BREAKDOWN_LABELS[dimension], keys_of=keys_of)


def deals_by_province_map(session: Session, deals: Sequence[Deal]) -> ProvinceMap:
    provinces = _zone_provinces(session)
    return metrics.province_map(
        "撮合项目省份分布", (provinces[d.zone_code] for d in deals if d.zone_code in provinces)
    )


def registry_province_map(session: Session) -> ProvinceMap:
    """National high-tech zones per province, from the loaded registry (public data, not scoped)."""
    provinces = session.scalars(select(ZoneRow.province).where(ZoneRow.kind == "national"))
    return metrics.province_map("国家高新区省份分布", (_province(p) for p in provinces))


def monthly_report(
    session: Session, deals: Sequence[Deal], *, scope: Scope, month: str, threshold: float, tz: tzinfo
) -> MonthlyReport:
    """The report of ``month`` ('YYYY-MM'), a calendar month on the clock of ``tz``."""
    trend = records_by_month(session, scope=scope, tz=tz)
    column = trend.months.index(month) if month in trend.months else None
    return MonthlyReport(
        zone=scope.zone_code or "全平台",
        month=month,
        new_records={
            kind: (counts[column] if column is not None else 0) for kind, counts in trend.series.items()
        },
        activity=metrics.month_activity(deals, month, tz=tz),
        funnel=metrics.funnel(deals),
        coverage=match_coverage(session, scope=scope, threshold=threshold),
        by_chain=deals_by(session, deals, dimension="industry_chain"),
        cross_zone=metrics.cross_zone(deals),
    )
