"""The booking time maths on its own: opening hours, the booking rules, the week grid, free slots."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from techbridge.domain.calendar import (
    booking_problem,
    free_slots,
    grid_hours,
    monday_of,
    parse_opening_hours,
    week_grid,
    week_start,
)

SH = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 12, 7)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), SH)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("", "周一至周日 08:00-20:00"),
        ("周一至周五 08:30-17:30", "周一至周五 08:30-17:30"),
        (
            "工作日 9:00-12:00、13:30-17:00; 周六 09:00-12:00",
            "周一至周五 09:00-12:00、13:30-17:00; 周六 09:00-12:00",
        ),
        ("每天 00:00-24:00", "周一至周日 00:00-23:59"),
        ("1-5 08:00~18:00", "周一至周五 08:00-18:00"),
        ("周一、周三 10:00-11:00", "周一 10:00-11:00; 周三 10:00-11:00"),
    ],
)
def test_opening_hours_read_chinese_text_and_describe_it_in_one_form(text: str, normal: str) -> None:
    assert parse_opening_hours(text).describe() == normal


@pytest.mark.parametrize(
    ("text", "message"),
    [("周一至周五", "缺少时段"), ("周八 08:00-10:00", "无法识别的星期"), ("周一 18:00-08:00", "晚于开始"),
     ("周五至周一 08:00-10:00", "起止顺序"), ("周一 25:00-26:00", "不是有效时刻")],
)  # fmt: skip
def test_opening_hours_refuse_what_they_cannot_read_in_chinese(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_opening_hours(text)


def test_booking_rules_refuse_past_reversed_short_and_closed_spans() -> None:
    hours = parse_opening_hours("周一至周五 08:30-17:30")
    now = at(MONDAY, 10)
    ok = booking_problem(hours, at(MONDAY, 11), at(MONDAY, 12), now=now, tz=SH)
    assert ok is None
    assert "过去" in booking_problem(hours, at(MONDAY, 9), at(MONDAY, 9, 30), now=now, tz=SH)
    assert "晚于" in booking_problem(hours, at(MONDAY, 12), at(MONDAY, 11), now=now, tz=SH)
    assert "15 分钟" in booking_problem(hours, at(MONDAY, 12), at(MONDAY, 12, 10), now=now, tz=SH)
    closed = booking_problem(hours, at(MONDAY, 17), at(MONDAY, 19), now=now, tz=SH)
    assert closed is not None and "周一至周五 08:30-17:30" in closed
    saturday = MONDAY + timedelta(days=5)
    assert "开放时间" in booking_problem(hours, at(saturday, 9), at(saturday, 10), now=now, tz=SH)
    overnight = booking_problem(hours, at(MONDAY, 16), at(MONDAY + timedelta(days=1), 9), now=now, tz=SH)
    assert overnight is not None


def test_a_utc_request_is_judged_in_the_labs_local_time() -> None:
    hours = parse_opening_hours("周一至周五 08:30-17:30")
    utc = ZoneInfo("UTC")
    # 01:00–02:00 UTC is 09:00–10:00 in Shanghai: open.
    starts = datetime.combine(MONDAY, time(1), utc)
    assert (
        booking_problem(hours, starts, starts + timedelta(hours=1), now=starts - timedelta(days=1), tz=SH)
        is None
    )


def test_week_start_is_the_monday_and_bad_input_means_this_week() -> None:
    assert monday_of(date(2026, 12, 13)) == MONDAY
    assert week_start("2026-12-10", today=date(2020, 1, 1)) == MONDAY
    assert week_start("not-a-date", today=date(2026, 12, 9)) == MONDAY
    assert week_start("", today=date(2026, 12, 9)) == MONDAY


def test_week_grid_places_each_booking_on_its_day_in_pixels() -> None:
    spans = [("a", at(MONDAY + timedelta(days=1), 9), at(MONDAY + timedelta(days=1), 12))]
    days = week_grid(MONDAY, spans, tz=SH, today=MONDAY, start_hour=8, end_hour=20, hour_px=36)
    assert [d.label for d in days][:2] == ["周一 12-07", "周二 12-08"]
    assert days[0].is_today and not days[0].events
    placed = days[1].events[0]
    assert (placed.item, placed.top, placed.height) == ("a", 36, 3 * 36 - 2)


def test_grid_hours_follow_the_opening_hours_and_widen_to_bookings_outside_them() -> None:
    hours = parse_opening_hours("周一至周五 08:30-17:30")
    assert grid_hours(hours, [], SH) == (8, 18)
    assert grid_hours(hours, [(at(MONDAY, 6), at(MONDAY, 7))], SH) == (6, 18)
    assert grid_hours(hours, [(at(MONDAY, 20), at(MONDAY, 21, 30))], SH) == (8, 22)


def test_free_slots_skip_bookings_closed_days_and_the_past() -> None:
    hours = parse_opening_hours("周一至周五 09:00-12:00")
    busy = [(at(MONDAY, 9, 30), at(MONDAY, 10, 30))]
    found = free_slots(
        hours, busy, start_from=at(MONDAY, 9), days=7, duration=timedelta(hours=1), tz=SH, limit=4
    )
    assert [(s.strftime("%a %H:%M"), e.strftime("%H:%M")) for s, e in found] == [
        ("Mon 10:30", "11:30"),
        ("Tue 09:00", "10:00"),
        ("Tue 10:00", "11:00"),
        ("Tue 11:00", "12:00"),
    ]
    friday_noon = at(MONDAY + timedelta(days=4), 11, 45)
    after = free_slots(hours, [], start_from=friday_noon, days=3, duration=timedelta(hours=1), tz=SH)
    assert after == []  # Friday's hours are over and the weekend is closed
    with pytest.raises(ValueError, match="15 分钟"):
        free_slots(hours, [], start_from=friday_noon, days=1, duration=timedelta(minutes=5), tz=SH)
