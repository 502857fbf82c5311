"""Rules of an instrument booking, checked before it reaches the store.

The limits match the columns, so a booking that one database would store and another refuse (SQLite
does not enforce ``VARCHAR(n)``, PostgreSQL does) is refused the same way, with a message, on both.
"""

from __future__ import annotations

from datetime import datetime

from ..errors import InvalidInput

PURPOSE_MAX_LENGTH = 500
BOOKED_BY_MAX_LENGTH = 100


def check_booking(*, starts_at: datetime, ends_at: datetime, booked_by: str, purpose: str) -> None:
    """Raise ``InvalidInput`` (a Chinese message) for a span or text the platform does not take."""
    if ends_at <= starts_at:
        raise InvalidInput("结束时间必须晚于开始时间")
    if not booked_by.strip() or len(booked_by) > BOOKED_BY_MAX_LENGTH:
        raise InvalidInput(f"预约人应为 1–{BOOKED_BY_MAX_LENGTH} 个字")
    if len(purpose) > PURPOSE_MAX_LENGTH:
        raise InvalidInput(f"用途太长, 最多 {PURPOSE_MAX_LENGTH} 个字 (现有 {len(purpose)} 个字)")
