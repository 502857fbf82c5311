"""Booking use cases on every database: opening hours, owner approval, cancel, free slots, my bookings."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from techbridge.domain.accounts import Role
from techbridge.domain.calendar import BookingStatus
from techbridge.domain.records import Instrument
from techbridge.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from techbridge.services import accounts
from techbridge.services import bookings as service
from techbridge.store.bookings import BookingConflict
from techbridge.store.db import session_scope
from techbridge.store.records import create_record

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
MONDAY = NOW.astimezone(SH).date()


def at(days: int, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(MONDAY + timedelta(days=days), time(hh, mm), SH)


@pytest.fixture
def lab(db_url: str) -> dict[str, object]:
    with session_scope(db_url) as s:
        people = {
            name: accounts.create_user(s, username=name, password="pw-123456789", **spec)
            for name, spec in {
                "owner": {"role": Role.UNIVERSITY, "zone_code": "wuxi", "organization": "江南大学"},
                "admin": {"role": Role.ZONE_ADMIN, "zone_code": "wuxi"},
                "firm": {"role": Role.ENTERPRISE, "zone_code": "wuxi", "organization": "无锡甲公司"},
                "far": {"role": Role.ZONE_ADMIN, "zone_code": "chengdu"},
            }.items()
        }
        scope = people["admin"].scope
        sem = Instrument(
            zone_code="wuxi", name="扫描电镜", owner="江南大学", opening_hours="周一至周五 09:00-17:00"
        )
        instrument = create_record(s, sem, scope=scope).id
    return {"url": db_url, "instrument": instrument, **people}


def _request(lab: dict[str, object], who: str, start: datetime, end: datetime) -> object:
    with session_scope(str(lab["url"])) as s:
        return service.request_booking(
            s,
            int(lab["instrument"]),
            user=lab[who],
            starts_at=start,
            ends_at=end,
            purpose="测试",
            tz=SH,
            now=NOW,
        )  # type: ignore[arg-type]


def test_requests_wait_for_the_owner_who_decides(lab: dict[str, object]) -> None:
    booking = _request(lab, "firm", at(1, 10), at(1, 12))
    assert booking.status == BookingStatus.PENDING
    with session_scope(str(lab["url"])) as s:
        with pytest.raises(PermissionDenied):
            service.decide(s, booking.id, user=lab["firm"], approve=True, tz=SH)  # type: ignore[arg-type]
        mine = service.my_bookings(s, user=lab["owner"], now=NOW)  # type: ignore[arg-type]
        assert [b.id for b in mine.to_decide] == [booking.id] and mine.is_owner
        decided = service.decide(s, booking.id, user=lab["owner"], approve=True, tz=SH)  # type: ignore[arg-type]
        assert decided.status == BookingStatus.APPROVED
        with pytest.raises(Conflict):
            service.decide(s, booking.id, user=lab["admin"], approve=False, note="x", tz=SH)  # type: ignore[arg-type]
    own = _request(lab, "owner", at(2, 9), at(2, 10))
    assert own.status == BookingStatus.APPROVED  # an owner's own booking needs nobody's approval


def test_rules_refuse_overlaps_past_and_closed_hours(lab: dict[str, object]) -> None:
    _request(lab, "firm", at(1, 10), at(1, 12))
    with pytest.raises(BookingConflict):
        _request(lab, "owner", at(1, 11), at(1, 13))
    for start, end, message in [
        (at(0, 8), at(0, 8, 30), "过去"),
        (at(1, 16), at(1, 18), "开放时间"),
        (at(5, 10), at(5, 11), "开放时间"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            _request(lab, "firm", start, end)


def test_cancel_frees_the_slot_and_only_the_booker_or_owner_may(lab: dict[str, object]) -> None:
    booking = _request(lab, "firm", at(1, 10), at(1, 12))
    with session_scope(str(lab["url"])) as s:
        with pytest.raises(NotFound):  # another zone does not even see this zone's private instrument
            service.cancel(s, booking.id, user=lab["far"], now=NOW)  # type: ignore[arg-type]
        with pytest.raises(PermissionDenied):
            service.cancel(
                s,
                booking.id,
                user=lab["admin"].model_copy(update={"role": Role.EXPERT, "organization": "x"}),
                now=NOW,
            )  # type: ignore[arg-type,union-attr]
    with session_scope(str(lab["url"])) as s:
        service.cancel(s, booking.id, user=lab["firm"], now=NOW)  # type: ignore[arg-type]
    assert _request(lab, "owner", at(1, 10), at(1, 12)).status == BookingStatus.APPROVED


def test_free_slots_follow_hours_and_bookings(lab: dict[str, object]) -> None:
    _request(lab, "firm", at(1, 9), at(1, 13))
    with session_scope(str(lab["url"])) as s:
        slots = service.search_free_slots(
            s, int(lab["instrument"]), user=lab["firm"], start_from=at(1, 0), duration=timedelta(hours=4),  # type: ignore[arg-type]
            tz=SH, days=2, now=NOW,
        )  # fmt: skip
    assert [
        (a.astimezone(SH).strftime("%a %H:%M"), b.astimezone(SH).strftime("%H:%M")) for a, b in slots
    ] == [
        ("Tue 13:00", "17:00"),
        ("Wed 09:00", "13:00"),
        ("Wed 13:00", "17:00"),
    ]
