"""Per-zone settings a zone administrator changes in the browser (match threshold, import mappings …).

One row per (zone, name) holding a JSON value, so a new setting needs no migration; the services layer
owns the names, their defaults and their validation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .tables import Base, utcnow


class ZoneSettingRow(Base):
    __tablename__ = "zone_settings"
    __table_args__ = (UniqueConstraint("zone_code", "name", name="uq_zone_settings_zone_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    zone_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(60))
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(50), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def get_settings(session: Session, zone_code: str) -> dict[str, Any]:
    stmt = select(ZoneSettingRow.name, ZoneSettingRow.value).where(ZoneSettingRow.zone_code == zone_code)
    return {str(name): value for name, value in session.execute(stmt).all()}


def get_setting(session: Session, zone_code: str, name: str) -> Any:
    stmt = select(ZoneSettingRow.value).where(
        ZoneSettingRow.zone_code == zone_code, ZoneSettingRow.name == name
    )
    return session.scalar(stmt)


def settings_named(session: Session, name: str) -> dict[str, Any]:
    """One setting across every zone that set it: ``{zone_code: value}``."""
    stmt = select(ZoneSettingRow.zone_code, ZoneSettingRow.value).where(ZoneSettingRow.name == name)
    return {str(zone): value for zone, value in session.execute(stmt).all()}


def put_setting(session: Session, zone_code: str, name: str, value: Any, *, updated_by: str = "") -> None:
    row = session.scalar(
        select(ZoneSettingRow).where(ZoneSettingRow.zone_code == zone_code, ZoneSettingRow.name == name)
    )
    if row is None:
        row = ZoneSettingRow(zone_code=zone_code, name=name)
        session.add(row)
    row.value, row.updated_by, row.updated_at = value, updated_by[:50], utcnow()
    session.flush()


def remove_setting(session: Session, zone_code: str, name: str) -> None:
    session.execute(
        delete(ZoneSettingRow).where(ZoneSettingRow.zone_code == zone_code, ZoneSettingRow.name == name)
    )


def zones_in_use(session: Session) -> set[str]:
    """Zones that have accounts: the ones a platform administrator usually means."""
    from .accounts import UserRow

    stmt = select(UserRow.zone_code).where(UserRow.zone_code.is_not(None)).distinct()
    return {str(code) for code in session.scalars(stmt)}
