"""Bookings of shared instruments: a week's calendar and conflict-checked reservations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..domain.access import Scope
from ..domain.bookings import check_booking
from ..errors import Conflict
from .records import get_record
from .tables import InstrumentBookingRow


@dataclass(frozen=True)
class Booking:
    id: int
    instrument_id: int
    starts_at: datetime
    ends_at: datetime
    booked_by: str
    purpose: str


class BookingConflict(Conflict):
    """The requested span overlaps an existing booking; carries it so the page can name it."""

    def __init__(self, existing: Booking) -> None:
        who = f" (预约人 {existing.booked_by})" if existing.booked_by else ""
        super().__init__(f"该时段与已有预约冲突{who}")
        self.existing = existing


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _to_booking(row: InstrumentBookingRow) -> Booking:
    return Booking(
        id=row.id,
        instrument_id=row.instrument_id,
        starts_at=_utc(row.starts_at),
        ends_at=_utc(row.ends_at),
        booked_by=row.booked_by,
        purpose=row.purpose,
    )


def _overlapping(instrument_id: int, starts_at: datetime, ends_at: datetime) -> Select[InstrumentBookingRow]:
    # Two spans overlap when each starts before the other ends; touching ends do not conflict.
    return (
        select(InstrumentBookingRow)
        .where(
            InstrumentBookingRow.instrument_id == instrument_id,
            InstrumentBookingRow.starts_at < _utc(ends_at),
            InstrumentBookingRow.ends_at > _utc(starts_at),
        )
        .order_by(InstrumentBookingRow.starts_at)
    )


def list_bookings(
    session: Session, instrument_id: int, *, scope: Scope, starts_at: datetime, ends_at: datetime
) -> list[Booking]:
    """Bookings of a visible instrument that overlap the span (a week of the calendar)."""
    get_record(session, "instrument", instrument_id, scope=scope)
    return [_to_booking(r) for r in session.scalars(_overlapping(instrument_id, starts_at, ends_at))]


def create_booking(
    session: Session,
    instrument_id: int,
    *,
    scope: Scope,
    starts_at: datetime,
    ends_at: datetime,
    booked_by: str,
    purpose: str = "",
) -> Booking:
    """Reserve a span of a visible, bookable instrument; refuse it if it overlaps an existing booking."""
    instrument = get_record(session, "instrument", instrument_id, scope=scope)
    if not getattr(instrument.record, "bookable", False):
        raise Conflict("该仪器暂不开放预约")
    check_booking(starts_at=starts_at, ends_at=ends_at, booked_by=booked_by, purpose=purpose)
    clash = session.scalars(_overlapping(instrument_id, starts_at, ends_at).limit(1)).first()
    if clash is not None:
        raise BookingConflict(_to_booking(clash))
    row = InstrumentBookingRow(
        instrument_id=instrument_id,
        starts_at=_utc(starts_at),
        ends_at=_utc(ends_at),
        booked_by=booked_by,
        purpose=purpose,
    )
    session.add(row)
    session.flush()
    return _to_booking(row)
