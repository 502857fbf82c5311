"""Facts about this installation kept in the database, so every process serving it agrees."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .tables import SiteFlagRow

DEMO_NOTICE = "demo_notice"


def get_flag(session: Session, key: str) -> str:
    row = session.get(SiteFlagRow, key)
    return row.value if row is not None else ""


def set_flag(session: Session, key: str, value: str) -> None:
    row = session.get(SiteFlagRow, key)
    if row is None:
        session.add(SiteFlagRow(key=key, value=value))
    else:
        row.value = value
    session.flush()
