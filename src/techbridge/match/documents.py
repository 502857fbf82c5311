"""One document type for everything the engine matches, and converters from the domain records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from ..domain.enums import DemandStatus, Visibility
from ..domain.records import Achievement, Demand, Expert, Instrument, PilotPlatform, Record

LABEL_FIELDS = ("ipc", "discipline", "chain")
"""Catalogue label fields: IPC subclasses, academic discipline, industry chain."""


class Kind(StrEnum):
    ACHIEVEMENT = "achievement"
    DEMAND = "demand"
    EXPERT = "expert"
    INSTRUMENT = "instrument"
    PILOT_PLATFORM = "pilot_platform"


@dataclass(slots=True)
class MatchDoc:
    """What the engine knows about one matchable record.

    ``labels`` maps a field of ``LABEL_FIELDS`` to the record's labels in it. ``price`` is an asking price
    for resources and the budget ceiling for a demand (万元; 元/小时 for instruments). ``capacity`` is the
    share of an expert's deal slots still free (0–1), ``None`` when unknown.
    """

    kind: Kind
    id: str
    title: str
    text: str = ""
    zone_code: str = ""
    is_shared: bool = False
    keywords: list[str] = field(default_factory=list)
    labels: dict[str, list[str]] = field(default_factory=dict)
    trl: int | None = None
    price: float | None = None
    date: date | None = None
    is_available: bool = True
    capacity: float | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.id}"

    def analysed_text(self) -> str:
        """Everything the lexical index reads: title, body and keywords."""
        return " ".join(part for part in (self.title, self.text, " ".join(self.keywords)) if part)


def _labels(**fields: list[str | None]) -> dict[str, list[str]]:
    return {name: [v for v in values if v] for name, values in fields.items() if any(values)}


def _common(record: Record, record_id: str | None) -> dict[str, object]:
    return {
        "id": record_id or record.natural_key(),
        "zone_code": record.zone_code,
        "is_shared": record.visibility == Visibility.SHARED,
    }


def from_achievement(record: Achievement, *, record_id: str | None = None) -> MatchDoc:
    return MatchDoc(
        kind=Kind.ACHIEVEMENT,
        title=record.title,
        text=record.abstract,
        keywords=list(record.keywords),
        labels=_labels(
            ipc=record.ipc_subclasses, discipline=[record.discipline], chain=[record.industry_chain]
        ),
        trl=record.trl,
        price=record.asking_price,
        **_common(record, record_id),  # type: ignore[arg-type]
    )


def from_demand(record: Demand, *, record_id: str | None = None) -> MatchDoc:
    return MatchDoc(
        kind=Kind.DEMAND,
        title=record.title,
        text=record.description,
        keywords=list(record.keywords),
        labels=_labels(chain=[record.industry_chain]),
        price=record.budget_max,
        date=record.deadline,
        is_available=record.status == DemandStatus.OPEN,
        **_common(record, record_id),  # type: ignore[arg-type]
    )


def from_expert(record: Expert, *, record_id: str | None = None, active_deals: int = 0) -> MatchDoc:
    """``active_deals`` comes from the deal pipeline; capacity is the free share of ``max_active_deals``."""
    slots = record.max_active_deals
    capacity = max(slots - active_deals, 0) / slots if slots else 0.0
    return MatchDoc(
        kind=Kind.EXPERT,
        title=" ".join([record.name, *record.fields]),
        text=" ".join(p for p in (record.organization, record.title, record.bio) if p),
        keywords=list(record.keywords),
        labels=_labels(discipline=list(record.fields)),
        capacity=capacity,
        is_available=capacity > 0,
        **_common(record, record_id),  # type: ignore[arg-type]
    )


def from_instrument(record: Instrument, *, record_id: str | None = None) -> MatchDoc:
    return MatchDoc(
        kind=Kind.INSTRUMENT,
        title=record.name,
        text=" ".join(p for p in (record.category, record.model, record.description) if p),
        price=record.hourly_fee,
        is_available=record.bookable,
        **_common(record, record_id),  # type: ignore[arg-type]
    )


def from_pilot_platform(record: PilotPlatform, *, record_id: str | None = None) -> MatchDoc:
    return MatchDoc(
        kind=Kind.PILOT_PLATFORM,
        title=record.name,
        text=" ".join(p for p in (record.capabilities, record.capacity) if p),
        labels=_labels(chain=list(record.industry_chains)),
        **_common(record, record_id),  # type: ignore[arg-type]
    )
