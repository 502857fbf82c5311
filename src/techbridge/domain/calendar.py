"""The time maths of instrument bookings, pure: opening hours, booking rules, week grids, free slots;
and how a time zone is named to the zone staff (``tz_label``).

Everything here works on timezone-aware datetimes and a ``tzinfo`` passed in (the lab's wall clock,
Asia/Shanghai by default); nothing reads the clock or the database, so every rule is tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Generic, TypeVar

WEEKDAYS_ZH = "一二三四五六日"
DEFAULT_OPENING_HOURS = "周一至周日 08:00-20:00"
MIN_BOOKING = timedelta(minutes=15)

T = TypeVar("T")


class BookingStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"


BOOKING_STATUS_LABELS: dict[BookingStatus, str] = {
    BookingStatus.PENDING: "待审批",
    BookingStatus.APPROVED: "已批准",
    BookingStatus.DECLINED: "已拒绝",
    BookingStatus.CANCELLED: "已取消",
}
# Only these hold a slot: a declined or cancelled booking frees it for others.
ACTIVE_STATUSES = frozenset({BookingStatus.PENDING, BookingStatus.APPROVED})


# -- time zones ---------------------------------------------------------------------------------------


def tz_label(tz: tzinfo | str) -> str:
    """How a page or a report names a time zone: 北京时间 for China's zone, else the IANA name."""
    name = str(tz)
    return "北京时间" if name in ("Asia/Shanghai", "Asia/Chongqing", "PRC") else name


# -- opening hours ------------------------------------------------------------------------------------

_DAY_WORDS = {"每天": range(7), "每日": range(7), "全周": range(7), "工作日": range(5), "周末": range(5, 7)}
_DAY_CHARS = {c: i for i, c in enumerate(WEEKDAYS_ZH)} | {"天": 6, "七": 6}
_DAY = r"(?:周|星期)?([一二三四五六日天七1-7])"
_SPAN = re.compile(r"(\d{1,2})[:：](\d{2})\s*[-–—~至到]\s*(\d{1,2})[:：](\d{2})")


def _day_index(token: str) -> int:
    return int(token) - 1 if token.isdigit() else _DAY_CHARS[token]


def _parse_days(text: str) -> list[int]:
    text = text.strip().replace(" ", "")
    if not text:
        return list(range(7))
    if text in _DAY_WORDS:
        return list(_DAY_WORDS[text])
    days: list[int] = []
    for part in re.split(r"[、,，/]", text):
        span = re.fullmatch(f"{_DAY}(?:[-–—~至到]{_DAY})?", part)
        if span is None:
            raise ValueError(f"无法识别的星期 {part!r}, 例如: 周一至周五、周六、工作日、每天")
        first = _day_index(span.group(1))
        last = _day_index(span.group(2)) if span.group(2) else first
        if last < first:
            raise ValueError(f"星期范围 {part!r} 的起止顺序有误")
        days.extend(range(first, last + 1))
    return days


@dataclass(frozen=True)
class OpeningHours:
    """When an instrument may be booked: for each weekday (0 = Monday) a list of (opens, closes)."""

    spans: tuple[tuple[tuple[time, time], ...], ...]

    def for_day(self, day: date) -> tuple[tuple[time, time], ...]:
        return self.spans[day.weekday()]

    def contains(self, starts: datetime, ends: datetime) -> bool:
        """Whether the local span lies inside one opening span of one day."""
        if starts.date() != ends.date() and ends.timetz().replace(tzinfo=None) != time(0):
            return False
        end_time = ends.time() if ends.date() == starts.date() else time(23, 59, 59)
        return any(o <= starts.time() and end_time <= c for o, c in self.for_day(starts.date()))

    @property
    def earliest(self) -> time:
        return min((o for day in self.spans for o, _ in day), default=time(8))

    @property
    def latest(self) -> time:
        return max((c for day in self.spans for _, c in day), default=time(20))

    def describe(self) -> str:
        """Chinese text of the hours, consecutive days with the same spans grouped: 周一至周五 08:30-17:30."""
        parts: list[str] = []
        day = 0
        while day < 7:
            last = day
            while last + 1 < 7 and self.spans[last + 1] == self.spans[day]:
                last += 1
            if self.spans[day]:
                days = f"周{WEEKDAYS_ZH[day]}" + (f"至周{WEEKDAYS_ZH[last]}" if last > day else "")
                times = "、".join(f"{o:%H:%M}-{c:%H:%M}" for o, c in self.spans[day])
                parts.append(f"{days} {times}")
            day = last + 1
        return "; ".join(parts) or "不开放"


def parse_opening_hours(text: str | None) -> OpeningHours:
    """Read hours such as ``周一至周五 08:30-12:00、13:30-17:30; 周六 09:00-12:00`` (empty: the default).

    Days not named are closed. Raises ``ValueError`` with a Chinese message on text it cannot read.
    """
    source = (text or "").strip() or DEFAULT_OPENING_HOURS
    spans: list[list[tuple[time, time]]] = [[] for _ in range(7)]
    for entry in re.split(r"[;；\n]+", source):
        entry = entry.strip()
        if not entry:
            continue
        first = _SPAN.search(entry)
        if first is None:
            raise ValueError(f"开放时间 {entry!r} 缺少时段, 例如: 周一至周五 08:30-17:30")
        days = _parse_days(entry[: first.start()])
        for m in _SPAN.finditer(entry, first.start()):
            h1, m1, h2, m2 = (int(g) for g in m.groups())
            if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
                raise ValueError(f"开放时间 {m.group(0)!r} 不是有效时刻")
            opens, closes = time(h1, m1), time(23, 59, 59) if h2 == 24 else time(h2, m2)
            if closes <= opens:
                raise ValueError(f"开放时间 {m.group(0)!r} 的结束时刻必须晚于开始时刻")
            for day in days:
                spans[day].append((opens, closes))
    return OpeningHours(tuple(tuple(sorted(day)) for day in spans))


# -- booking rules ------------------------------------------------------------------------------------


def booking_problem(
    hours: OpeningHours, starts: datetime, ends: datetime, *, now: datetime, tz: tzinfo
) -> str | None:
    """Why a requested span cannot be booked (Chinese, shown to the user), or None when it can."""
    if ends <= starts:
        return "结束时间必须晚于开始时间"
    if ends - starts < MIN_BOOKING:
        return "预约时长至少 15 分钟"
    if starts < now:
        return "不能预约已经过去的时段"
    local_start, local_end = starts.astimezone(tz), ends.astimezone(tz)
    if not hours.contains(local_start, local_end):
        return f"所选时段不在开放时间内 (开放时间: {hours.describe()})"
    return None


# -- week grid ----------------------------------------------------------------------------------------


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


FIRST_WEEK, LAST_WEEK = date(1900, 1, 1), date(9999, 12, 20)
"""Mondays the calendar can show: the week before and after stay dates, in every time zone (both Mondays)."""


def week_start(week: str, *, today: date) -> date:
    """The Monday of the week a ``?week=YYYY-MM-DD`` names; a blank or malformed value means this week.

    Kept within the calendar's range, so the links to the week before and after stay dates."""
    try:
        day = date.fromisoformat(week) if week else today
    except ValueError:
        day = today
    return min(max(monday_of(day), FIRST_WEEK), LAST_WEEK)


@dataclass(frozen=True)
class Placed(Generic[T]):
    """An item placed on the grid: local start and end, and its box in pixels from the grid's top."""

    item: T
    start: datetime
    end: datetime
    top: int
    height: int


@dataclass(frozen=True)
class GridDay(Generic[T]):
    day: date
    label: str
    is_today: bool
    events: list[Placed[T]]


def _hours(t: time) -> float:
    return t.hour + t.minute / 60 + t.second / 3600


def week_grid(
    monday: date,
    spans: Iterable[tuple[T, datetime, datetime]],
    *,
    tz: tzinfo,
    today: date,
    start_hour: int,
    end_hour: int,
    hour_px: int,
) -> list[GridDay[T]]:
    """Monday to Sunday, each with the items that fall on it, clipped to ``start_hour``–``end_hour``."""
    items = [(item, s.astimezone(tz), e.astimezone(tz)) for item, s, e in spans]
    days: list[GridDay[T]] = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        placed: list[Placed[T]] = []
        for item, s_local, e_local in items:
            if s_local.date() > day or e_local.date() < day:
                continue
            top_h = max(start_hour, _hours(s_local.time()) if s_local.date() == day else 0)
            end_h = min(end_hour, _hours(e_local.time()) if e_local.date() == day else 24)
            if end_h <= top_h:
                continue
            top = round((top_h - start_hour) * hour_px)
            height = max(18, round((end_h - top_h) * hour_px) - 2)
            placed.append(Placed(item, s_local, e_local, top, height))
        label = f"周{WEEKDAYS_ZH[offset]} {day:%m-%d}"
        days.append(GridDay(day, label, day == today, placed))
    return days


def grid_hours(
    hours: OpeningHours, spans: Iterable[tuple[datetime, datetime]], tz: tzinfo
) -> tuple[int, int]:
    """The hour range a week grid shows: the opening hours, widened to any booking that lies outside."""
    first, last = hours.earliest.hour, hours.latest.hour + (1 if hours.latest.minute else 0)
    for s, e in spans:
        s_local, e_local = s.astimezone(tz), e.astimezone(tz)
        first = min(first, s_local.hour)
        last = max(
            last, e_local.hour + (1 if e_local.minute else 0) if e_local.date() == s_local.date() else 24
        )
    return max(0, first), min(24, max(last, first + 1))


# -- free slots ---------------------------------------------------------------------------------------


def free_slots(
    hours: OpeningHours,
    busy: Sequence[tuple[datetime, datetime]],
    *,
    start_from: datetime,
    days: int,
    duration: timedelta,
    tz: tzinfo,
    step: timedelta = timedelta(minutes=30),
    limit: int = 20,
) -> list[tuple[datetime, datetime]]:
    """The first ``limit`` spans of ``duration`` inside the opening hours that overlap nothing in ``busy``.

    Candidates start on the ``step`` grid of each opening span, from ``start_from`` on, over ``days``
    local days; each found slot skips ahead by its own length so slots do not overlap one another.
    """
    if duration < MIN_BOOKING:
        raise ValueError("预约时长至少 15 分钟")
    taken = sorted((s, e) for s, e in busy)
    found: list[tuple[datetime, datetime]] = []
    first_day = start_from.astimezone(tz).date()
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for opens, closes in hours.for_day(day):
            slot = datetime.combine(day, opens, tz)
            close_at = datetime.combine(day, closes, tz)
            while slot + duration <= close_at:
                if slot < start_from:
                    slot += step
                    continue
                end = slot + duration
                clash = next((e for s, e in taken if s < end and e > slot), None)
                if clash is None:
                    found.append((slot, end))
                    if len(found) >= limit:
                        return found
                    slot = end
                else:
                    # Jump to the first step at or after the clashing booking's end.
                    while slot < clash:
                        slot += step
    return found
