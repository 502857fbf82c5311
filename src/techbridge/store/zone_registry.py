"""The ``zones`` table as a registry: idempotent load of zone rows, and lookups by code."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.records import Zone
from .records import UpsertCounts
from .tables import ZoneRow

_FIELDS = ("name", "province", "city", "kind", "approved_date", "leading_industries")


def upsert_zones(session: Session, zones: Sequence[Zone]) -> UpsertCounts:
    """Insert new zones by code, update changed ones, leave identical ones alone."""
    counts = UpsertCounts()
    existing = {row.code: row for row in session.scalars(select(ZoneRow))}
    for zone in zones:
        values = zone.model_dump(mode="json", include=set(_FIELDS))
        row = existing.get(zone.code)
        if row is None:
            session.add(ZoneRow(code=zone.code, **values))
            counts.inserted += 1
        elif any(getattr(row, name) != values[name] for name in _FIELDS):
            for name in _FIELDS:
                setattr(row, name, values[name])
            counts.updated += 1
        else:
            counts.unchanged += 1
    session.flush()
    return counts


def list_zones(session: Session) -> list[Zone]:
    rows = session.scalars(select(ZoneRow).order_by(ZoneRow.code))
    return [
        Zone.model_validate({"code": r.code, **{name: getattr(r, name) for name in _FIELDS}}) for r in rows
    ]
