"""Pure aggregations over domain objects: no database, so each metric is checked on hand-made data.

Definitions (also in docs/deals-and-analytics.md):

- A deal *reached* a stage when the furthest pipeline stage it ever entered is that stage or later;
  a stage skipped with a reason counts as passed. Dropping is not progress.
- *Conversion to next* of a stage = deals that reached the next stage / deals that reached this one.
- *Median days* of a stage is over completed stays only (a deal still sitting there is not counted),
  summing repeated visits of one deal.
- The overall conversion rate is deployed deals / all deals.
- A *month* is a calendar month on the wall clock of the platform's time zone (``tz``, 北京时间 unless
  ``TECHBRIDGE_DISPLAY_TIMEZONE`` says otherwise), not of UTC, in which times are stored: a change at
  2026-11-30 20:00 UTC happened on 12-01 04:00 in China and counts in December.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from statistics import median

from ..domain.deals import PIPELINE, STAGE_LABELS_ZH, Deal, DealStage, furthest_stage, stage_durations
from ..domain.geography import PROVINCE_REGIONS, REGION_LABELS_ZH, province_short
from .models import (
    ActivityRow,
    Breakdown,
    BreakdownRow,
    CrossZone,
    Flow,
    Funnel,
    MonthActivity,
    MonthlyCounts,
    ProvinceCount,
    ProvinceMap,
    StageRow,
)

UNKNOWN = "未登记"


def local_moment(moment: datetime, tz: tzinfo) -> datetime:
    """A stored time on the wall clock of ``tz``; a naive one (SQLite hands them back so) is UTC."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(tz)


def month_of(moment: datetime, tz: tzinfo) -> str:
    """The 'YYYY-MM' month ``moment`` falls in where the clocks show ``tz``."""
    local = local_moment(moment, tz)
    return f"{local.year:04d}-{local.month:02d}"


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def monthly_counts(created: Mapping[str, Iterable[datetime]], *, tz: tzinfo) -> MonthlyCounts:
    """Count timestamps per month (of ``tz``) for each series, every month between the first and last
    filled in."""
    per_series = {name: Counter(month_of(t, tz) for t in times) for name, times in created.items()}
    seen = [m for counts in per_series.values() for m in counts]
    months = _month_range(min(seen), max(seen)) if seen else []
    return MonthlyCounts(
        months=months,
        series={name: [counts.get(m, 0) for m in months] for name, counts in per_series.items()},
    )


def funnel(deals: Sequence[Deal]) -> Funnel:
    reached: Counter[DealStage] = Counter()
    stays: dict[DealStage, list[float]] = defaultdict(list)
    for deal in deals:
        furthest = furthest_stage(deal.events)
        if furthest is not None:
            reached.update(PIPELINE[: PIPELINE.index(furthest) + 1])
        for stage, spent in stage_durations(deal.events).items():
            stays[stage].append(spent.total_seconds() / 86400)
    current = Counter(d.stage for d in deals)
    rows = []
    for i, stage in enumerate(PIPELINE):
        following = PIPELINE[i + 1] if i + 1 < len(PIPELINE) else None
        rows.append(
            StageRow(
                stage=stage.value,
                label=STAGE_LABELS_ZH[stage],
                reached=reached[stage],
                current=current[stage],
                conversion_to_next=(
                    reached[following] / reached[stage] if following is not None and reached[stage] else None
                ),
                median_days=round(median(stays[stage]), 1) if stays[stage] else None,
            )
        )
    return Funnel(
        stages=rows,
        total=len(deals),
        deployed=current[DealStage.DEPLOYED],
        dropped=current[DealStage.DROPPED],
    )


def breakdown(
    deals: Sequence[Deal], *, dimension: str, label: str, keys_of: Callable[[Deal], Iterable[str]]
) -> Breakdown:
    """Group deals by the keys ``keys_of`` gives (a deal with two universities counts for each)."""
    rows: dict[str, BreakdownRow] = {}
    for deal in deals:
        for key in dict.fromkeys(keys_of(deal)):
            row = rows.setdefault(
                key, BreakdownRow(key=key, deals=0, open=0, deployed=0, dropped=0, contract_value=0.0)
            )
            row.deals += 1
            row.deployed += deal.stage == DealStage.DEPLOYED
            row.dropped += deal.stage == DealStage.DROPPED
            row.open += not deal.is_closed
            row.contract_value += deal.contract_value or 0.0
    ordered = sorted(rows.values(), key=lambda r: (-r.deals, r.key))
    return Breakdown(dimension=dimension, label=label, rows=ordered)


def cross_zone(deals: Sequence[Deal]) -> CrossZone:
    """Flows from supplier zone to demand zone, counting each deal once per supplier zone."""
    counts: Counter[tuple[str, str]] = Counter()
    deployed: Counter[tuple[str, str]] = Counter()
    for deal in deals:
        for supplier in deal.supplier_zones:
            counts[(deal.zone_code, supplier)] += 1
            deployed[(deal.zone_code, supplier)] += deal.stage == DealStage.DEPLOYED
    flows = [
        Flow(demand_zone=demand, supplier_zone=supplier, deals=n, deployed=deployed[(demand, supplier)])
        for (demand, supplier), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return CrossZone(flows=flows)


def province_map(title: str, provinces: Iterable[str]) -> ProvinceMap:
    """Count items per province (full names); every mainland province appears, with 0 where none."""
    counts = Counter(provinces)
    rows = [
        ProvinceCount(
            province=p, short_name=province_short(p), region=REGION_LABELS_ZH[region], count=counts.get(p, 0)
        )
        for p, region in PROVINCE_REGIONS.items()
    ]
    rows.sort(key=lambda r: (-r.count, r.province))
    regions: Counter[str] = Counter()
    for row in rows:
        regions[row.region] += row.count
    return ProvinceMap(
        title=title, provinces=rows, regions={label: regions[label] for label in REGION_LABELS_ZH.values()}
    )


def month_activity(deals: Sequence[Deal], month: str, *, tz: tzinfo) -> MonthActivity:
    """Stage changes whose time falls in ``month`` ('YYYY-MM' of ``tz``), with the money recorded on them;
    each change's time is given on the clock of ``tz`` too."""
    rows: list[ActivityRow] = []
    started = deployed = dropped = 0
    contract = funding = 0.0
    for deal in deals:
        for event in deal.events:
            if month_of(event.at, tz) != month:
                continue
            started += event.from_stage is None
            deployed += event.to_stage == DealStage.DEPLOYED
            dropped += event.to_stage == DealStage.DROPPED
            contract += event.contract_value or 0.0
            funding += event.funding_amount or 0.0
            rows.append(
                ActivityRow(
                    deal_id=deal.id,
                    title=deal.title,
                    from_label=STAGE_LABELS_ZH[event.from_stage] if event.from_stage else "",
                    to_label=STAGE_LABELS_ZH[event.to_stage],
                    actor=event.actor,
                    at=local_moment(event.at, tz).strftime("%Y-%m-%d %H:%M"),
                    note=event.note,
                )
            )
    rows.sort(key=lambda r: (r.at, r.deal_id))
    return MonthActivity(
        month=month,
        timezone=str(tz),
        started=started,
        deployed=deployed,
        dropped=dropped,
        contract_value=contract,
        funding_amount=funding,
        events=rows,
    )
