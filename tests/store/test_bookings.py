"""Instrument bookings on every database: overlaps refused, touching spans allowed, zones respected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from techbridge.domain.access import Scope
from techbridge.domain.records import Instrument
from techbridge.errors import Conflict, InvalidInput, NotFound, TechBridgeError
from techbridge.store.bookings import BookingConflict, create_booking, list_bookings
from techbridge.store.db import session_scope
from techbridge.store.records import create_record

WUXI = Scope("wuxi")
NINE = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 Beijing time


def _instrument(url: str, **extra: object) -> int:
    with session_scope(url) as s:
        record = Instrument(
            zone_code="wuxi", name="场发射扫描电子显微镜", model=str(extra.pop("model", "SU8020")), **extra
        )  # type: ignore[arg-type]
        return create_record(s, record, scope=WUXI).id


def _book(url: str, instrument_id: int, start_h: float, end_h: float, scope: Scope = WUXI) -> None:
    with session_scope(url) as s:
        create_booking(
            s,
            instrument_id,
            scope=scope,
            starts_at=NINE + timedelta(hours=start_h),
            ends_at=NINE + timedelta(hours=end_h),
            booked_by="王经理",
        )


def test_overlapping_booking_is_refused_and_touching_one_is_allowed(db_url: str) -> None:
    sem = _instrument(db_url)
    _book(db_url, sem, 0, 3)
    with pytest.raises(BookingConflict) as caught:
        _book(db_url, sem, 2, 4)
    assert caught.value.existing.starts_at == NINE
    assert caught.value.existing.ends_at == NINE + timedelta(hours=3)
    _book(db_url, sem, 3, 4)  # starts exactly when the first ends
    with session_scope(db_url) as s:
        week = list_bookings(
            s, sem, scope=WUXI, starts_at=NINE - timedelta(days=1), ends_at=NINE + timedelta(days=6)
        )
    assert [(b.starts_at, b.ends_at) for b in week] == [
        (NINE, NINE + timedelta(hours=3)),
        (NINE + timedelta(hours=3), NINE + timedelta(hours=4)),
    ]
    assert all(b.starts_at.tzinfo is not None for b in week)


def test_backwards_span_unbookable_instrument_and_other_zone_are_refused(db_url: str) -> None:
    sem = _instrument(db_url)
    with pytest.raises(Conflict):
        _book(db_url, _instrument(db_url, model="XRD-1", bookable=False), 0, 1)
    with pytest.raises(TechBridgeError, match="结束时间必须晚于开始时间"):
        _book(db_url, sem, 2, 1)
    with pytest.raises(NotFound):  # Chengdu cannot even see Wuxi's private instrument
        _book(db_url, sem, 5, 6, scope=Scope("chengdu"))


@pytest.mark.parametrize("length", [500, 501, 5000])
def test_a_long_purpose_is_treated_alike_on_every_database(db_url: str, length: int) -> None:
    """Issue 9 #13: 5,000 characters were stored on SQLite and refused (500) on PostgreSQL."""
    instrument = _instrument(db_url)

    def book() -> None:
        with session_scope(db_url) as s:
            create_booking(
                s, instrument, scope=WUXI, starts_at=NINE, ends_at=NINE + timedelta(hours=1),
                booked_by="王经理", purpose="形" * length,
            )  # fmt: skip

    if length <= 500:
        book()
        with session_scope(db_url) as s:
            (stored,) = list_bookings(s, instrument, scope=WUXI, starts_at=NINE, ends_at=NINE + timedelta(1))
        assert len(stored.purpose) == length
    else:
        with pytest.raises(InvalidInput, match="用途太长, 最多 500 个字"):
            book()
