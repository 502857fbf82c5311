"""Instrument booking use cases: request a slot inside the opening hours, owner approval, cancel, the
bookings a person made or must decide on, and the free-slot search.

The instrument's owner approves: its zone's administrators, or the accounts of the organisation that owns
it (``Instrument.owner``). An owner's own request needs nobody else's approval.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.orm import Session

from ..domain.access import Scope
from ..domain.accounts import ORGANIZATION_ROLES, Role, User, can_see_bookers
from ..domain.calendar import (
    ACTIVE_STATUSES,
    BOOKING_STATUS_LABELS,
    BookingStatus,
    OpeningHours,
    booking_problem,
    free_slots,
    parse_opening_hours,
)
from ..domain.records import Instrument
from ..errors import Conflict, InvalidInput, PermissionDenied
from ..store import accounts as account_store
from ..store import bookings as booking_store
from ..store.bookings import Booking, BookingConflict
from ..store.records import StoredRecord, get_record
from ..store.tables import utcnow
from . import notices

SEARCH_DAYS = 14


def is_approver(user: User, instrument: Instrument) -> bool:
    """The instrument's zone admins (and the platform admin), or its owning organisation's accounts."""
    if user.is_admin:
        return user.scope.can_edit(zone_code=instrument.zone_code)
    return (
        user.role in ORGANIZATION_ROLES
        and bool(instrument.owner)
        and user.organization == instrument.owner
        and user.zone_code == instrument.zone_code
    )


def instrument_for(session: Session, instrument_id: int, *, user: User) -> StoredRecord:
    """A visible instrument (another zone's private one is 404)."""
    stored = get_record(session, "instrument", instrument_id, scope=user.scope)
    assert isinstance(stored.record, Instrument)
    return stored


def _instrument(session: Session, instrument_id: int, user: User) -> StoredRecord:
    return instrument_for(session, instrument_id, user=user)


def opening_hours(instrument: Instrument) -> OpeningHours:
    return parse_opening_hours(instrument.opening_hours)


def _approvers(session: Session, instrument: Instrument) -> list[int]:
    admins = [
        u.id
        for u in account_store.list_users(session, scope=Scope(instrument.zone_code))
        if u.role == Role.ZONE_ADMIN and u.is_active
    ]
    owners = [
        u.id
        for u in account_store.users_of_organizations(session, [instrument.owner or ""])
        if u.zone_code == instrument.zone_code
    ]
    return sorted(set(admins + owners))


def _span(booking: Booking, tz: tzinfo) -> str:
    start, end = booking.starts_at.astimezone(tz), booking.ends_at.astimezone(tz)
    return f"{start:%m-%d %H:%M}–{end:%H:%M}"


def request_booking(
    session: Session,
    instrument_id: int,
    *,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str,
    tz: tzinfo,
    now: datetime | None = None,
) -> Booking:
    """Book a slot: inside the opening hours, not in the past, not overlapping an active booking.

    The booking waits for the owner's approval unless the requester is an owner.
    """
    stored = _instrument(session, instrument_id, user)
    instrument = stored.record
    assert isinstance(instrument, Instrument)
    problem = booking_problem(opening_hours(instrument), starts_at, ends_at, now=now or utcnow(), tz=tz)
    if problem is not None:
        raise InvalidInput(problem)
    owner = is_approver(user, instrument)
    try:
        booking = _create(
            session,
            instrument_id,
            user=user,
            starts_at=starts_at,
            ends_at=ends_at,
            purpose=purpose,
            owner=owner,
        )
    except BookingConflict as exc:
        raise BookingConflict(as_seen_by(user, instrument, exc.existing)) from None
    if not owner:
        notices.send(
            session,
            user_ids=_approvers(session, instrument),
            kind="booking",
            title=f"新的仪器预约待审批: {instrument.name}",
            body=f"{booking.booked_by} 预约 {_span(booking, tz)}"
            + (f", 用途: {booking.purpose}" if purpose else ""),
            link=f"/bookings#booking-{booking.id}",
        )
    return booking


def _create(
    session: Session,
    instrument_id: int,
    *,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str,
    owner: bool,
) -> Booking:
    return booking_store.create_booking(
        session,
        instrument_id,
        scope=user.scope,
        starts_at=starts_at,
        ends_at=ends_at,
        booked_by=user.display_name or user.username,
        purpose=purpose.strip()[:500],
        status=BookingStatus.APPROVED if owner else BookingStatus.PENDING,
        user_id=user.id,
    )


def decide(
    session: Session, booking_id: int, *, user: User, approve: bool, note: str = "", tz: tzinfo
) -> Booking:
    """Approve or decline a pending booking; only the instrument's owner may."""
    booking = booking_store.get_booking(session, booking_id)
    instrument = _instrument(session, booking.instrument_id, user).record
    assert isinstance(instrument, Instrument)
    if not is_approver(user, instrument):
        raise PermissionDenied("只有仪器所属单位或园区管理员可以审批预约")
    if booking.status != BookingStatus.PENDING:
        raise Conflict(f"该预约已{BOOKING_STATUS_LABELS[booking.status]}, 不能再审批")
    if not approve and not note.strip():
        raise InvalidInput("拒绝预约时请填写原因, 以便预约人调整")
    status = BookingStatus.APPROVED if approve else BookingStatus.DECLINED
    decided = booking_store.set_status(
        session, booking_id, status, decided_by=user.display_name or user.username, note=note.strip()
    )
    if booking.user_id is not None:
        notices.send(
            session,
            user_ids=[booking.user_id],
            kind="booking",
            title=f"仪器预约{BOOKING_STATUS_LABELS[status]}: {instrument.name}",
            body=f"{_span(booking, tz)}" + (f", 说明: {note.strip()}" if note.strip() else ""),
            link=f"/bookings#booking-{booking.id}",
        )
    return decided


def cancel(
    session: Session, booking_id: int, *, user: User, note: str = "", now: datetime | None = None
) -> Booking:
    """The booker or the owner cancels a booking that has not ended; its slot is free again."""
    booking = booking_store.get_booking(session, booking_id)
    instrument = _instrument(session, booking.instrument_id, user).record
    assert isinstance(instrument, Instrument)
    if booking.user_id != user.id and not is_approver(user, instrument):
        raise PermissionDenied("只有预约人或仪器所属单位可以取消预约")
    if booking.status not in ACTIVE_STATUSES:
        raise Conflict(f"该预约已{BOOKING_STATUS_LABELS[booking.status]}, 无需取消")
    if booking.ends_at <= (now or utcnow()):
        raise Conflict("已结束的预约不能取消")
    return booking_store.set_status(
        session, booking_id, BookingStatus.CANCELLED, decided_by=user.display_name or user.username, note=note
    )


@dataclass(frozen=True)
class MyBookings:
    mine: list[Booking]
    to_decide: list[Booking]
    is_owner: bool


def my_bookings(session: Session, *, user: User, now: datetime | None = None) -> MyBookings:
    """Own bookings, and (for an owner) the upcoming and pending bookings of their instruments."""
    mine = booking_store.list_user_bookings(session, user.id)
    statuses = [BookingStatus.PENDING, BookingStatus.APPROVED]
    since = now or utcnow()
    if user.is_admin:
        owned = booking_store.list_owned_bookings(
            session, zone_code=user.scope.zone_code, owner=None, statuses=statuses, since=since
        )
    elif user.role in ORGANIZATION_ROLES and user.organization:
        owned = booking_store.list_owned_bookings(
            session, zone_code=user.zone_code, owner=user.organization, statuses=statuses, since=since
        )
    else:
        owned = []
    owned.sort(key=lambda b: (b.status != BookingStatus.PENDING, b.starts_at))
    return MyBookings(mine=mine, to_decide=owned, is_owner=user.is_admin or bool(owned))


def as_seen_by(user: User, instrument: Instrument, booking: Booking) -> Booking:
    """Who booked a shared instrument and why stays with its zone (``domain.accounts.can_see_bookers``):
    other zones see busy slots only, in the calendar and in the message refusing a clashing request."""
    return booking if can_see_bookers(user, instrument) else replace(booking, booked_by="", purpose="")


def week_bookings(
    session: Session, instrument_id: int, *, user: User, starts_at: datetime, ends_at: datetime
) -> list[Booking]:
    instrument = _instrument(session, instrument_id, user).record
    assert isinstance(instrument, Instrument)
    found = booking_store.list_bookings(
        session, instrument_id, scope=user.scope, starts_at=starts_at, ends_at=ends_at
    )
    return [as_seen_by(user, instrument, b) for b in found]


def search_free_slots(
    session: Session,
    instrument_id: int,
    *,
    user: User,
    start_from: datetime,
    duration: timedelta,
    tz: tzinfo,
    days: int = SEARCH_DAYS,
    now: datetime | None = None,
) -> list[tuple[datetime, datetime]]:
    """Free spans of ``duration`` inside the opening hours over the next ``days`` days, never in the past."""
    instrument = _instrument(session, instrument_id, user).record
    assert isinstance(instrument, Instrument)
    begin = max(start_from, now or utcnow())
    busy = booking_store.busy_spans(
        session, instrument_id, starts_at=begin, ends_at=begin + timedelta(days=days + 1)
    )
    try:
        return free_slots(
            opening_hours(instrument), busy, start_from=begin, days=days, duration=duration, tz=tz
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
