"""Bookings of shared instruments: a week's calendar, conflict-checked reservations and their approval.

Only pending and approved bookings hold a slot (``ACTIVE_STATUSES``); a declined or cancelled one stays
in the history but frees its time.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from ..domain.access import Scope
from ..domain.bookings import check_booking
from ..domain.calendar import ACTIVE_STATUSES, BookingStatus
from ..errors import Conflict, NotFound
from .records import get_record
from .tables import InstrumentBookingRow, InstrumentRow, utcnow

_ACTIVE = [s.value for s in ACTIVE_STATUSES]


@dataclass(frozen=True)
class Booking:
    id: int
    instrument_id: int
    starts_at: datetime
    ends_at: datetime
    booked_by: str
    purpose: str
    status: BookingStatus = BookingStatus.APPROVED
    user_id: int | None = None
    decided_by: str = ""
    decision_note: str = ""
    instrument_name: str = ""

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class BookingConflict(Conflict):
    """The requested span overlaps an existing booking; carries it so the page can name it."""

    def __init__(self, existing: Booking) -> None:
        who = f" (预约人 {existing.booked_by})" if existing.booked_by else ""
        super().__init__(f"该时段与已有预约冲突{who}")
        self.existing = existing


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _to_booking(row: InstrumentBookingRow, instrument_name: str = "") -> Booking:
    return Booking(
        id=row.id,
        instrument_id=row.instrument_id,
        starts_at=_utc(row.starts_at),
        ends_at=_utc(row.ends_at),
        booked_by=row.booked_by,
        purpose=row.purpose,
        status=BookingStatus(row.status),
        user_id=row.user_id,
        decided_by=row.decided_by,
        decision_note=row.decision_note,
        instrument_name=instrument_name,
    )


def _overlapping(instrument_id: int, starts_at: datetime, ends_at: datetime) -> Select[InstrumentBookingRow]:
    # Two spans overlap when each starts before the other ends; touching ends do not conflict.
    return (
        select(InstrumentBookingRow)
        .where(
            InstrumentBookingRow.instrument_id == instrument_id,
            InstrumentBookingRow.starts_at < _utc(ends_at),
            InstrumentBookingRow.ends_at > _utc(starts_at),
            InstrumentBookingRow.status.in_(_ACTIVE),
        )
        .order_by(InstrumentBookingRow.starts_at)
    )


def list_bookings(
    session: Session, instrument_id: int, *, scope: Scope, starts_at: datetime, ends_at: datetime
) -> list[Booking]:
    """Active bookings of a visible instrument that overlap the span (a week of the calendar)."""
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
    status: BookingStatus = BookingStatus.APPROVED,
    user_id: int | None = None,
) -> Booking:
    """Reserve a span of a visible, bookable instrument; refuse it if it overlaps an active booking."""
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
        status=status.value,
        user_id=user_id,
    )
    session.add(row)
    session.flush()
    return _to_booking(row)


def get_booking(session: Session, booking_id: int) -> Booking:
    """One booking by id; the caller checks that its instrument is visible to the asker."""
    row = session.get(InstrumentBookingRow, booking_id)
    if row is None:
        raise NotFound("预约", booking_id)
    return _to_booking(row)


def set_status(
    session: Session, booking_id: int, status: BookingStatus, *, decided_by: str, note: str = ""
) -> Booking:
    row = session.get(InstrumentBookingRow, booking_id)
    if row is None:
        raise NotFound("预约", booking_id)
    row.status = status.value
    row.decided_by = decided_by[:100]
    row.decided_at = utcnow()
    row.decision_note = note[:500]
    session.flush()
    return _to_booking(row)


def _with_names(session: Session, stmt: Select[InstrumentBookingRow]) -> list[Booking]:
    rows = list(session.scalars(stmt))
    ids = {r.instrument_id for r in rows}
    names = dict(
        session.execute(select(InstrumentRow.id, InstrumentRow.name).where(InstrumentRow.id.in_(ids))).all()
    )
    return [_to_booking(r, names.get(r.instrument_id, "")) for r in rows]


def list_user_bookings(session: Session, user_id: int, *, limit: int = 200) -> list[Booking]:
    """A person's own bookings, latest first."""
    stmt = (
        select(InstrumentBookingRow)
        .where(InstrumentBookingRow.user_id == user_id)
        .order_by(InstrumentBookingRow.starts_at.desc())
        .limit(limit)
    )
    return _with_names(session, stmt)


def list_owned_bookings(
    session: Session,
    *,
    zone_code: str | None,
    owner: str | None,
    statuses: Collection[BookingStatus],
    since: datetime,
    limit: int = 200,
) -> list[Booking]:
    """Bookings of the instruments someone approves: a zone's (``owner`` None) or one organisation's in
    the zone; ``zone_code`` None means every zone (the platform admin)."""
    instrument = select(InstrumentRow.id)
    conditions = []
    if zone_code is not None:
        conditions.append(InstrumentRow.zone_code == zone_code)
    if owner is not None:
        conditions.append(InstrumentRow.owner == owner)
    if conditions:
        instrument = instrument.where(and_(*conditions))
    stmt = (
        select(InstrumentBookingRow)
        .where(
            InstrumentBookingRow.instrument_id.in_(instrument),
            InstrumentBookingRow.status.in_([s.value for s in statuses]),
            or_(InstrumentBookingRow.ends_at > _utc(since), InstrumentBookingRow.status == "pending"),
        )
        .order_by(InstrumentBookingRow.starts_at)
        .limit(limit)
    )
    return _with_names(session, stmt)


def busy_spans(
    session: Session, instrument_id: int, *, starts_at: datetime, ends_at: datetime
) -> list[tuple[datetime, datetime]]:
    """The (start, end) of active bookings in a span: what a free-slot search must avoid."""
    rows = session.scalars(_overlapping(instrument_id, starts_at, ends_at))
    return [(_utc(r.starts_at), _utc(r.ends_at)) for r in rows]
