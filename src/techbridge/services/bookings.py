"""Instrument bookings as a signed-in user sees and makes them.

A shared instrument is seen by every zone, but who booked it and why stays with the instrument's zone
(``domain.accounts.can_see_bookers``): other zones see busy slots only, in the calendar and in the
message that refuses a clashing request.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from ..domain.accounts import User, can_see_bookers
from ..store import bookings as store
from ..store.bookings import Booking, BookingConflict
from ..store.records import get_record


def _busy(booking: Booking) -> Booking:
    """The slot without who booked it or why (pages show it as 已预约)."""
    return replace(booking, booked_by="", purpose="")


def list_bookings(
    session: Session, instrument_id: int, *, viewer: User, starts_at: datetime, ends_at: datetime
) -> list[Booking]:
    """Bookings of a visible instrument overlapping the span; another zone's as busy slots."""
    found = store.list_bookings(
        session, instrument_id, scope=viewer.scope, starts_at=starts_at, ends_at=ends_at
    )
    instrument = get_record(session, "instrument", instrument_id, scope=viewer.scope).record
    return found if can_see_bookers(viewer, instrument) else [_busy(b) for b in found]


def create_booking(
    session: Session,
    instrument_id: int,
    *,
    viewer: User,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str = "",
) -> Booking:
    """Book a span in the viewer's name; a clash names the other booker only to the instrument's zone."""
    try:
        return store.create_booking(
            session,
            instrument_id,
            scope=viewer.scope,
            starts_at=starts_at,
            ends_at=ends_at,
            booked_by=viewer.display_name or viewer.username,
            purpose=purpose,
        )
    except BookingConflict as clash:
        instrument = get_record(session, "instrument", instrument_id, scope=viewer.scope).record
        if can_see_bookers(viewer, instrument):
            raise
        raise BookingConflict(_busy(clash.existing)) from None
