"""Stored results of batch matching: the top targets of each source record, with reasons."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..domain.access import Scope
from ..domain.enums import DemandStatus
from .records import table_for, visible_clause
from .tables import DemandRow, MatchResultRow, MatchRunRow, RecordMixin, utcnow


@dataclass(frozen=True)
class StoredMatch:
    source_kind: str
    source_id: int
    target_kind: str
    target_id: int
    rank: int
    score: float
    reasons: list[Any]
    source_zone: str
    target_zone: str
    computed_at: datetime

    @property
    def is_cross_zone(self) -> bool:
        return self.source_zone != self.target_zone


@dataclass(frozen=True)
class NewMatch:
    target_id: int
    score: float
    reasons: list[Any]
    target_zone: str


def replace_matches(
    session: Session,
    *,
    source_kind: str,
    source_id: int,
    source_zone: str,
    target_kind: str,
    matches: Sequence[NewMatch],
) -> None:
    """Swap the stored top list of one source for a fresh one (ranked in the given order).

    Two transactions replacing the same source's list are serialized on the source record's row
    (``FOR UPDATE``; SQLite has one writer anyway): under PostgreSQL's READ COMMITTED the second would
    otherwise not see the rows the first inserted, delete nothing, and hit the unique key (a 409).
    """
    source = table_for(source_kind)
    session.execute(select(source.id).where(source.id == source_id).with_for_update())
    session.execute(
        delete(MatchResultRow).where(
            MatchResultRow.source_kind == source_kind,
            MatchResultRow.source_id == source_id,
            MatchResultRow.target_kind == target_kind,
        )
    )
    now = utcnow()
    run = (MatchRunRow.source_kind == source_kind) & (MatchRunRow.source_id == source_id)
    session.execute(delete(MatchRunRow).where(run))  # the source row is locked above: no race on the key
    session.execute(
        insert(MatchRunRow), [{"source_kind": source_kind, "source_id": source_id, "computed_at": now}]
    )
    if not matches:
        return
    session.execute(
        insert(MatchResultRow),
        [
            {
                "source_kind": source_kind,
                "source_id": source_id,
                "source_zone": source_zone,
                "target_kind": target_kind,
                "target_id": m.target_id,
                "target_zone": m.target_zone,
                "rank": rank,
                "score": m.score,
                "reasons": m.reasons,
                "computed_at": now,
            }
            for rank, m in enumerate(matches, start=1)
        ],
    )


def delete_matches(session: Session, *, kind: str, ids: Collection[int]) -> None:
    """Drop every stored match of these records, as source or as target (they were archived or closed)."""
    id_list = sorted(ids)
    for start in range(0, len(id_list), 900):  # stay under SQLite's bound-parameter limit
        chunk = id_list[start : start + 900]
        session.execute(
            delete(MatchRunRow).where(MatchRunRow.source_kind == kind, MatchRunRow.source_id.in_(chunk))
        )
        session.execute(
            delete(MatchResultRow).where(
                or_(
                    and_(MatchResultRow.source_kind == kind, MatchResultRow.source_id.in_(chunk)),
                    and_(MatchResultRow.target_kind == kind, MatchResultRow.target_id.in_(chunk)),
                )
            )
        )


RETIRED_DEMAND_STATUSES = frozenset({DemandStatus.CLOSED, DemandStatus.ARCHIVED})
"""A demand in these states needs nothing any more: it has no matches and is nobody's match."""


def _shown(table: type[RecordMixin], *, as_target: bool) -> ColumnElement[bool]:
    """Records whose matches are shown: not archived, and a demand not retired; as a target, a demand
    must be open (the ranking's own rule: only open demands are matched)."""
    condition = table.archived_at.is_(None)
    if table is DemandRow:
        status = (
            DemandRow.status == DemandStatus.OPEN.value
            if as_target
            else DemandRow.status.not_in([s.value for s in RETIRED_DEMAND_STATUSES])
        )
        condition = and_(condition, status)
    return condition


def list_matches(
    session: Session,
    *,
    source_kind: str,
    source_id: int,
    target_kind: str | None = None,
    scope: Scope,
    limit: int = 20,
) -> list[StoredMatch]:
    """Stored matches whose target the scope may see (another zone's private record never shows).

    An archived or retired source has none, and archived targets and demands no longer open are left
    out: stored lists can predate such a change until the next sync deletes them.
    """
    source = table_for(source_kind)
    is_shown = select(source.id).where(source.id == source_id, _shown(source, as_target=False))
    if session.scalar(is_shown) is None:
        return []
    stmt = select(MatchResultRow).where(
        MatchResultRow.source_kind == source_kind, MatchResultRow.source_id == source_id
    )
    if target_kind:
        stmt = stmt.where(MatchResultRow.target_kind == target_kind)
    rows = list(session.scalars(stmt.order_by(MatchResultRow.target_kind, MatchResultRow.rank)))
    visible: set[tuple[str, int]] = set()
    for kind in {r.target_kind for r in rows}:
        table = table_for(kind)
        ids = [r.target_id for r in rows if r.target_kind == kind]
        query = select(table.id).where(
            table.id.in_(ids), _shown(table, as_target=True), visible_clause(table, scope)
        )
        visible.update((kind, i) for i in session.scalars(query))
    result: list[StoredMatch] = []
    per_kind: dict[str, int] = {}
    for r in rows:
        if (r.target_kind, r.target_id) not in visible or per_kind.get(r.target_kind, 0) >= limit:
            continue
        per_kind[r.target_kind] = per_kind.get(r.target_kind, 0) + 1
        result.append(
            StoredMatch(
                source_kind=r.source_kind,
                source_id=r.source_id,
                target_kind=r.target_kind,
                target_id=r.target_id,
                rank=r.rank,
                score=r.score,
                reasons=r.reasons,
                source_zone=r.source_zone,
                target_zone=r.target_zone,
                computed_at=r.computed_at,
            )
        )
    return result


def strong_matches(
    session: Session, *, source_kind: str, min_score: float, source_ids: Collection[int] | None = None
) -> list[tuple[int, str, str, int, float]]:
    """(source id, source zone, target kind, target id, score) of stored matches scoring ``min_score`` or
    more: what the notification of new good matches compares before and after a matching run."""
    stmt = select(
        MatchResultRow.source_id,
        MatchResultRow.source_zone,
        MatchResultRow.target_kind,
        MatchResultRow.target_id,
        MatchResultRow.score,
    ).where(MatchResultRow.source_kind == source_kind, MatchResultRow.score >= min_score)
    if source_ids is not None:
        stmt = stmt.where(MatchResultRow.source_id.in_(sorted(source_ids)))
    return [(int(a), str(b), str(c), int(d), float(e)) for a, b, c, d, e in session.execute(stmt).all()]
