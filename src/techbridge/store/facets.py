"""Small aggregates the pages need: value counts for filters and charts, zone names, match totals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.access import Scope
from .records import table_for, visible_clause
from .tables import MatchResultRow, MatchRunRow, ZoneRow


def facet_counts(
    session: Session, kind: str, column: str, *, scope: Scope, limit: int = 50
) -> list[tuple[str, int]]:
    """Most frequent values of one column among the records the scope sees (blank values left out)."""
    table = table_for(kind)
    col = table.__table__.columns[column]  # type: ignore[attr-defined]
    conditions = [visible_clause(table, scope), table.archived_at.is_(None), col.is_not(None), col != ""]
    stmt = (
        select(col, func.count())
        .where(*conditions)
        .group_by(col)
        .order_by(func.count().desc(), col)
        .limit(limit)
    )
    return [(str(value), int(count)) for value, count in session.execute(stmt)]


def zone_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Display names of zones by code; a code without a registry entry reads as itself."""
    wanted = set(codes)
    found = dict(session.execute(select(ZoneRow.code, ZoneRow.name).where(ZoneRow.code.in_(wanted))).all())
    return {code: found.get(code, code) for code in wanted}


def latest_match_time(session: Session, *, source_kind: str, source_id: int) -> datetime | None:
    """When the matches of one record were last computed, even if none was good enough (None if never)."""
    stmt = select(MatchRunRow.computed_at).where(
        MatchRunRow.source_kind == source_kind, MatchRunRow.source_id == source_id
    )
    return session.scalar(stmt)


def count_matches(session: Session, *, scope: Scope) -> int:
    """Stored matches whose source belongs to the scope's zone (all of them for the platform)."""
    stmt = select(func.count()).select_from(MatchResultRow)
    if scope.zone_code is not None:
        stmt = stmt.where(MatchResultRow.source_zone == scope.zone_code)
    return session.scalar(stmt) or 0
