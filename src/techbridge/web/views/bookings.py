"""Instrument bookings: the week calendar on an instrument's page, booking, the free-slot search,
"my bookings" with the owner's approve/decline, and cancel. Thin: the rules live in ``services.bookings``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from ...domain.accounts import User
from ...domain.calendar import (
    BOOKING_STATUS_LABELS,
    FIRST_WEEK,
    LAST_WEEK,
    BookingStatus,
    grid_hours,
    week_grid,
    week_start,
)
from ...domain.records import Instrument
from ...errors import TechBridgeError
from ...services import bookings as booking_service
from ...store.bookings import BookingConflict
from ...store.db import session_scope
from ...store.records import StoredRecord
from .. import flash
from ..deps import CurrentViewer, DbUrl, display_tz
from ..strings_zh import MSG
from ..templating import render
from ..urls import urls
from . import page_router

router = page_router()

HOUR_PX = 36
DURATIONS = (
    (30, "30 分钟"),
    (60, "1 小时"),
    (120, "2 小时"),
    (180, "3 小时"),
    (240, "4 小时"),
    (480, "8 小时"),
)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def week_calendar(
    request: Request, session: Session, stored: StoredRecord, viewer: User, week: str
) -> dict[str, Any]:
    """A Monday-to-Sunday grid of the instrument's active bookings, spanning its opening hours."""
    tz = display_tz(request)
    instrument = stored.record
    assert isinstance(instrument, Instrument)
    today = datetime.now(tz).date()
    monday = week_start(week, today=today)
    start = datetime.combine(monday, time(0), tz)
    found = booking_service.week_bookings(
        session, stored.id, user=viewer, starts_at=start, ends_at=start + timedelta(days=7)
    )
    hours = booking_service.opening_hours(instrument)
    first, last = grid_hours(hours, [(b.starts_at, b.ends_at) for b in found], tz)
    days = week_grid(
        monday,
        [(b, b.starts_at, b.ends_at) for b in found],
        tz=tz,
        today=today,
        start_hour=first,
        end_hour=last,
        hour_px=HOUR_PX,
    )
    return {
        "days": days,
        "hours": list(range(first, last)),
        "height": (last - first) * HOUR_PX,
        "monday": monday,
        "prev": (monday - timedelta(days=7)).isoformat(),
        "next": (monday + timedelta(days=7)).isoformat(),
        "count": len(found),
        "default_day": max(today, monday) if today <= monday + timedelta(days=6) else monday,
        "today": today,
        "opening": hours.describe(),
        "status_labels": BOOKING_STATUS_LABELS,
        "is_owner": booking_service.is_approver(viewer, instrument),
    }


def _span(request: Request, form: Any) -> tuple[datetime, datetime]:
    tz = display_tz(request)
    try:
        day = date.fromisoformat(str(form.get("day", "")))
        starts = datetime.combine(day, time.fromisoformat(str(form.get("start", ""))), tz)
        ends = datetime.combine(day, time.fromisoformat(str(form.get("end", ""))), tz)
    except ValueError:
        raise TechBridgeError("请填写预约日期和起止时间") from None
    if not FIRST_WEEK <= day < LAST_WEEK + timedelta(days=7):
        raise TechBridgeError("预约日期超出范围")
    return starts, ends


@router.post("/instruments/{record_id}/bookings")
async def book(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
    form = await request.form()
    starts, ends = _span(request, form)
    tz = display_tz(request)
    week = week_start(starts.date().isoformat(), today=starts.date()).isoformat()
    response = _redirect(urls.bookings(record_id, week=week) + "#bookings")
    try:
        with session_scope(db) as session:
            booking = booking_service.request_booking(
                session,
                record_id,
                user=viewer,
                starts_at=starts,
                ends_at=ends,
                purpose=str(form.get("purpose", "")),
                tz=tz,
            )
    except BookingConflict as exc:
        start, end = (t.astimezone(tz) for t in (exc.existing.starts_at, exc.existing.ends_at))
        span = f"{start:%m-%d %H:%M}–{end:%H:%M}"
        who = f" {exc.existing.booked_by} " if exc.existing.booked_by else ""  # another zone's: not named
        flash.add(request, response, f"{MSG['booking_conflict']}: {span} 已被{who}预约", "error")
        return response
    except TechBridgeError as exc:
        if exc.status == 404:
            raise
        flash.add(request, response, exc.message, "error")
        return response
    if booking.status == BookingStatus.PENDING:
        flash.add(request, response, MSG["booking_requested"])
    else:
        flash.add(request, response, MSG["booking_created"])
    return response


@router.get("/instruments/{record_id}/free-slots")
def free_slots_page(
    request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int, start: str = "", minutes: int = 60
) -> Response:
    tz = display_tz(request)
    today = datetime.now(tz).date()
    try:
        first_day = max(date.fromisoformat(start), today) if start else today
    except ValueError:
        first_day = today
    minutes = minutes if minutes in dict(DURATIONS) else 60
    with session_scope(db) as session:
        stored = booking_service.instrument_for(session, record_id, user=viewer)
        slots = booking_service.search_free_slots(
            session,
            record_id,
            user=viewer,
            start_from=datetime.combine(first_day, time(0), tz),
            duration=timedelta(minutes=minutes),
            tz=tz,
        )
    instrument = stored.record
    assert isinstance(instrument, Instrument)
    return render(
        request,
        "bookings/free_slots.html",
        {
            "nav_active": "capability",
            "stored": stored,
            "instrument": instrument,
            "slots": [(s.astimezone(tz), e.astimezone(tz)) for s, e in slots],
            "start": first_day.isoformat(),
            "minutes": minutes,
            "durations": DURATIONS,
            "days": booking_service.SEARCH_DAYS,
            "opening": booking_service.opening_hours(instrument).describe(),
        },
    )


@router.get("/bookings")
def my_bookings(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    with session_scope(db) as session:
        found = booking_service.my_bookings(session, user=viewer)
    return render(
        request,
        "bookings/mine.html",
        {
            "nav_active": "bookings",
            "found": found,
            "labels": BOOKING_STATUS_LABELS,
            "now": datetime.now(display_tz(request)),
        },
    )


@router.post("/bookings/{booking_id}/decision")
async def decide(request: Request, viewer: CurrentViewer, db: DbUrl, booking_id: int) -> Response:
    form = await request.form()
    approve = form.get("decision") == "approve"
    response = _redirect(urls.my_bookings() + f"#booking-{booking_id}")
    try:
        with session_scope(db) as session:
            booking_service.decide(
                session,
                booking_id,
                user=viewer,
                approve=approve,
                note=str(form.get("note", "")),
                tz=display_tz(request),
            )
    except TechBridgeError as exc:
        if exc.status in (403, 404):
            raise
        flash.add(request, response, exc.message, "error")
        return response
    flash.add(request, response, "已批准预约" if approve else "已拒绝预约", "success" if approve else "info")
    return response


@router.post("/bookings/{booking_id}/cancel")
async def cancel(request: Request, viewer: CurrentViewer, db: DbUrl, booking_id: int) -> Response:
    form = await request.form()
    back = str(form.get("back", ""))
    response = _redirect(back if back.startswith("/") and not back.startswith("//") else urls.my_bookings())
    try:
        with session_scope(db) as session:
            booking_service.cancel(session, booking_id, user=viewer, note=str(form.get("note", "")))
    except TechBridgeError as exc:
        if exc.status in (403, 404):
            raise
        flash.add(request, response, exc.message, "error")
        return response
    flash.add(request, response, "已取消预约", "info")
    return response
