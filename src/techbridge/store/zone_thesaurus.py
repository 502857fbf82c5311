"""A zone's own thesaurus rows, which extend the packaged thesaurus when that zone's demands are matched.

Rows are kept as the zone administrator wrote them (``term``, ``related`` as ``a|b|c``, ``relation``);
the services layer validates them and replaces a zone's rows as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import DateTime, String, UniqueConstraint, delete, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .tables import Base, utcnow


class ZoneThesaurusRow(Base):
    __tablename__ = "zone_thesaurus_terms"
    __table_args__ = (
        UniqueConstraint("zone_code", "term", "relation", name="uq_zone_thesaurus_terms_zone_term_relation"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    zone_code: Mapped[str] = mapped_column(String(32), index=True)
    term: Mapped[str] = mapped_column(String(50))
    related: Mapped[str] = mapped_column(String(1000))
    relation: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TermRow(NamedTuple):
    term: str
    related: str
    relation: str


def zone_rows(session: Session, zone_code: str) -> list[TermRow]:
    """The zone's rows in the order they were uploaded."""
    stmt = (
        select(ZoneThesaurusRow.term, ZoneThesaurusRow.related, ZoneThesaurusRow.relation)
        .where(ZoneThesaurusRow.zone_code == zone_code)
        .order_by(ZoneThesaurusRow.id)
    )
    return [TermRow(*row) for row in session.execute(stmt).all()]


def replace_zone_rows(session: Session, zone_code: str, rows: Iterable[TermRow]) -> None:
    """The zone's rows become ``rows`` (in the caller's transaction: all or nothing)."""
    session.execute(delete(ZoneThesaurusRow).where(ZoneThesaurusRow.zone_code == zone_code))
    now = utcnow()
    values = [{"zone_code": zone_code, **row._asdict(), "updated_at": now} for row in rows]
    if values:
        session.execute(insert(ZoneThesaurusRow), values)
    session.flush()


def versions(session: Session, zone_codes: Iterable[str] | None = None) -> dict[str, str]:
    """Per zone holding rows: a stamp that changes whenever its rows are replaced (row count and the
    time of the last replacement). ``zone_codes``: these zones only (None: every zone)."""
    stmt = select(ZoneThesaurusRow.zone_code, func.count(), func.max(ZoneThesaurusRow.updated_at)).group_by(
        ZoneThesaurusRow.zone_code
    )
    if zone_codes is not None:
        stmt = stmt.where(ZoneThesaurusRow.zone_code.in_(sorted(set(zone_codes))))
    return {str(zone): f"{count}@{stamp.isoformat()}" for zone, count, stamp in session.execute(stmt).all()}
