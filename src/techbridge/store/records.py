"""Repository for the six record kinds: batch upsert on natural keys, scoped reads, paging.

Every read takes a ``Scope``: a zone sees its own records and what other zones share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, String, and_, cast, func, insert, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..domain.access import Scope
from ..domain.enums import Visibility
from ..domain.records import RECORD_TYPES, Record
from ..errors import Conflict, NotFound, ZoneAccessDenied
from .tables import RECORD_TABLES, RecordMixin, utcnow

KIND_LABELS_ZH = {
    "organization": "机构",
    "demand": "需求",
    "achievement": "成果",
    "expert": "专家",
    "instrument": "仪器",
    "pilot_platform": "中试平台",
}

# Keyword search looks in these columns (the matching engine does the ranked search).
_SEARCH_COLUMNS = {
    "organization": ("name",),
    "demand": ("title", "description", "organization"),
    "achievement": ("title", "abstract", "owner", "publication_number", "application_number"),
    "expert": ("name", "organization", "bio"),
    "instrument": ("name", "model", "category", "owner"),
    "pilot_platform": ("name", "operator", "capabilities"),
}


@dataclass(frozen=True)
class StoredRecord:
    id: int
    kind: str
    record: Record
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None


@dataclass(frozen=True)
class RecordStamp:
    """When a record last changed, and whether that change archived it (what an index needs to sync)."""

    id: int
    updated_at: datetime
    is_archived: bool


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    # Natural keys left alone because another zone already holds that record: the record's id when the
    # caller's scope may see it, else None (an import must not confirm another zone's private record).
    other_zone: dict[str, int | None] = field(default_factory=dict)
    # (natural key of a new record, id of a visible record of the same organisation with a near-same title)
    near_duplicates: list[tuple[str, int]] = field(default_factory=list)

    def add(self, other: UpsertCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.other_zone.update(other.other_zone)
        self.near_duplicates += other.near_duplicates


@dataclass(frozen=True)
class RecordQuery:
    """What a list page asks for. ``filters`` are equality tests on columns, plus ``ipc`` prefix."""

    q: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    sort: str = "-updated_at"
    page: int = 1
    per_page: int = 20
    include_archived: bool = False
    archived_only: bool = False


@dataclass(frozen=True)
class Page:
    items: list[StoredRecord]
    total: int
    page: int
    per_page: int


def table_for(kind: str) -> type[RecordMixin]:
    try:
        return RECORD_TABLES[kind]
    except KeyError:
        raise ValueError(f"unknown record kind {kind!r}; choose from {sorted(RECORD_TABLES)}") from None


def _date_columns(table: type[RecordMixin]) -> set[str]:
    return {c.name for c in table.__table__.columns if isinstance(c.type, Date)}  # type: ignore[attr-defined]


def record_to_row(record: Record) -> dict[str, Any]:
    """Column values for a record, with the natural key and a content hash for change detection."""
    payload = record.model_dump_json()
    row = record.model_dump(mode="json")
    for name in _date_columns(table_for(kind_of(record))):
        if row.get(name):
            row[name] = date.fromisoformat(row[name])
    row["natural_key"] = record.natural_key()
    if record.duplicate_key() is not None:
        row["duplicate_key"] = record.duplicate_key()
    row["content_hash"] = hashlib.sha1(payload.encode("utf-8")).hexdigest()
    return row


def kind_of(record: Record) -> str:
    for kind, record_type in RECORD_TYPES.items():
        if type(record) is record_type:
            return kind
    raise ValueError(f"not a record type: {type(record).__name__}")


def row_to_stored(kind: str, row: RecordMixin) -> StoredRecord:
    record_type = RECORD_TYPES[kind]
    values = {name: getattr(row, name) for name in record_type.model_fields}
    return StoredRecord(
        id=row.id,
        kind=kind,
        record=record_type.model_validate(values),
        created_at=row.created_at,
        updated_at=row.updated_at,
        archived_at=row.archived_at,
    )


def prepare_bulk_upsert(session: Session) -> None:
    """Call once at the start of a transaction that upserts many batches.

    On PostgreSQL the rows this transaction inserts are invisible to the planner's statistics (autovacuum
    cannot analyse them before commit), so the per-batch key lookups turn into sequential scans of a
    growing table: quadratic time for a million-row import. Only index lookups run in such a transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))


def upsert_records(
    session: Session, kind: str, records: Sequence[Record], *, scope: Scope | None = None
) -> UpsertCounts:
    """Insert new records, update changed ones, leave identical ones alone (a re-import is a no-op).

    Within one call, later records with the same natural key replace earlier ones. A record another
    zone already holds (a patent number is global) is never overwritten or moved: its key is listed in
    ``other_zone`` for the caller to report. ``scope`` (default: the platform) is who will read the
    report: records it may not see are never named in it.
    """
    scope = scope or Scope.platform()
    table = table_for(kind)
    rows_by_key: dict[str, dict[str, Any]] = {}
    for record in records:
        row = record_to_row(record)
        rows_by_key[row["natural_key"]] = row
    counts = UpsertCounts()
    if not rows_by_key:
        return counts
    existing: dict[str, tuple[int, str, str, str]] = {}
    keys = list(rows_by_key)
    for start in range(0, len(keys), 900):  # stay under SQLite's bound-parameter limit
        chunk = keys[start : start + 900]
        stmt = select(
            table.natural_key, table.id, table.content_hash, table.zone_code, table.visibility
        ).where(table.natural_key.in_(chunk))
        for key, row_id, digest, zone, visibility in session.execute(stmt):
            existing[key] = (row_id, digest, zone, visibility)
    now = utcnow()
    new_rows, changed_rows = [], []
    for key, row in rows_by_key.items():
        if key not in existing:
            new_rows.append({**row, "created_at": now, "updated_at": now})
            continue
        row_id, digest, zone, visibility = existing[key]
        if zone != row["zone_code"]:
            counts.other_zone[key] = row_id if scope.can_see(zone_code=zone, visibility=visibility) else None
        elif digest != row["content_hash"]:
            changed_rows.append({**row, "id": row_id, "updated_at": now, "archived_at": None})
        else:
            counts.unchanged += 1
    if new_rows and "duplicate_key" in new_rows[0]:
        counts.near_duplicates = _near_duplicates(session, table, new_rows, scope)
    if new_rows:
        session.execute(insert(table), new_rows)
    if changed_rows:
        session.execute(update(table), changed_rows)
    counts.inserted = len(new_rows)
    counts.updated = len(changed_rows)
    return counts


def _near_duplicates(
    session: Session, table: type[RecordMixin], new_rows: list[dict[str, Any]], scope: Scope
) -> list[tuple[str, int]]:
    """New rows whose organisation already holds a record with a near-same title that ``scope`` may see."""
    by_key: dict[str, list[str]] = {}
    for row in new_rows:
        by_key.setdefault(row["duplicate_key"], []).append(row["natural_key"])
    column = table.duplicate_key  # type: ignore[attr-defined]
    found: list[tuple[str, int]] = []
    keys = list(by_key)
    for start in range(0, len(keys), 900):
        chunk = keys[start : start + 900]
        stmt = select(column, table.id).where(
            column.in_(chunk), table.archived_at.is_(None), visible_clause(table, scope)
        )
        for duplicate_key, existing_id in session.execute(stmt):
            found += [(natural_key, existing_id) for natural_key in by_key[duplicate_key]]
    return found


def visible_clause(table: type[RecordMixin], scope: Scope) -> ColumnElement[bool]:
    """``Scope.can_see`` as SQL: the scope's own zone's records and every zone's shared ones.

    The one SQL form of the rule: every scoped read of records (lists, counts, facets, matches) uses it.
    """
    if scope.zone_code is None:
        return and_(True)
    return or_(table.zone_code == scope.zone_code, table.visibility == Visibility.SHARED.value)


def _load_row(session: Session, kind: str, record_id: int, scope: Scope) -> RecordMixin:
    table = table_for(kind)
    row = session.get(table, record_id)
    if row is None or not scope.can_see(zone_code=row.zone_code, visibility=row.visibility):
        # A private record of another zone is reported as absent, so ids leak nothing.
        raise NotFound(KIND_LABELS_ZH[kind], record_id)
    return row


def get_record(session: Session, kind: str, record_id: int, *, scope: Scope) -> StoredRecord:
    return row_to_stored(kind, _load_row(session, kind, record_id, scope))


def get_records(session: Session, kind: str, ids: Sequence[int], *, scope: Scope) -> dict[int, StoredRecord]:
    """Records by id that the scope may see; others are silently left out."""
    table = table_for(kind)
    found: dict[int, StoredRecord] = {}
    for start in range(0, len(ids), 900):
        stmt = select(table).where(table.id.in_(ids[start : start + 900]), visible_clause(table, scope))
        for row in session.scalars(stmt):
            found[row.id] = row_to_stored(kind, row)
    return found


def _filter_clause(table: type[RecordMixin], name: str, value: Any) -> ColumnElement[bool]:
    if name == "ipc" and hasattr(table, "ipc_codes"):
        # A prefix of any code in the stored JSON list: '"H01M' matches "H01M 50/449". User text is
        # literal: autoescape makes % and _ match themselves, not any text.
        return cast(table.ipc_codes, String).contains(f'"{str(value).upper()}', autoescape=True)
    if name == "trl_min" and hasattr(table, "trl"):
        return table.trl >= int(value)  # type: ignore[attr-defined]
    column = table.__table__.columns[name]  # type: ignore[attr-defined]
    return column == value


def filterable_fields(kind: str) -> list[str]:
    table = table_for(kind)
    names = [
        c.name
        for c in table.__table__.columns  # type: ignore[attr-defined]
        if isinstance(c.type, String) and c.name not in ("natural_key", "content_hash")
    ]
    if kind == "achievement":
        names += ["ipc", "trl_min"]
    return names


def _query_conditions(kind: str, scope: Scope, query: RecordQuery) -> list[ColumnElement[bool]]:
    """What a list page or an export of it selects: visible, (not) archived, filtered, searched."""
    table = table_for(kind)
    conditions: list[ColumnElement[bool]] = [visible_clause(table, scope)]
    filters = dict(query.filters)
    if kind == "demand" and filters.get("status") == "archived":
        # 已归档 means either: archived with the archive button, or given that status (e.g. by an import).
        del filters["status"]
        conditions.append(or_(table.status == "archived", table.archived_at.is_not(None)))  # type: ignore[attr-defined]
    elif query.archived_only:
        conditions.append(table.archived_at.is_not(None))
    elif not query.include_archived:
        conditions.append(table.archived_at.is_(None))
    allowed = set(filterable_fields(kind))
    for name, value in filters.items():
        if value in (None, ""):
            continue
        if name not in allowed:
            raise ValueError(f"不能按 {name} 筛选, 可选: {', '.join(sorted(allowed))}")
        conditions.append(_filter_clause(table, name, value))
    if query.q and query.q.strip():
        needle = query.q.strip()
        conditions.append(
            or_(*(getattr(table, col).contains(needle, autoescape=True) for col in _SEARCH_COLUMNS[kind]))
        )
    return conditions


def list_records(session: Session, kind: str, *, scope: Scope, query: RecordQuery) -> Page:
    table = table_for(kind)
    conditions = _query_conditions(kind, scope, query)
    sort_name = query.sort.lstrip("-")
    sort_column = table.__table__.columns.get(sort_name)  # type: ignore[attr-defined]
    if sort_column is None:
        raise ValueError(f"不能按 {sort_name} 排序")
    order = sort_column.desc() if query.sort.startswith("-") else sort_column.asc()
    total = session.scalar(select(func.count()).select_from(table).where(*conditions)) or 0
    stmt = (
        select(table)
        .where(*conditions)
        .order_by(order, table.id.desc())
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
    )
    items = [row_to_stored(kind, row) for row in session.scalars(stmt)]
    return Page(items=items, total=total, page=query.page, per_page=query.per_page)


def count_query(session: Session, kind: str, *, scope: Scope, query: RecordQuery) -> int:
    """How many records a list query selects (what an export of that list would write)."""
    table = table_for(kind)
    conditions = _query_conditions(kind, scope, query)
    return session.scalar(select(func.count()).select_from(table).where(*conditions)) or 0


def iter_records(
    session: Session,
    kind: str,
    *,
    scope: Scope,
    batch_size: int = 2000,
    include_archived: bool = False,
    query: RecordQuery | None = None,
) -> Iterator[StoredRecord]:
    """Stream every visible record (or those ``query`` selects) in id order without holding them all."""
    table = table_for(kind)
    selected = query or RecordQuery(include_archived=include_archived)
    conditions = _query_conditions(kind, scope, selected)
    last_id = 0
    while True:
        stmt = select(table).where(*conditions, table.id > last_id).order_by(table.id).limit(batch_size)
        rows = list(session.scalars(stmt))
        if not rows:
            return
        for row in rows:
            yield row_to_stored(kind, row)
        last_id = rows[-1].id


def iter_stamps(
    session: Session, kind: str, *, since: datetime | None, batch_size: int = 10_000
) -> Iterator[RecordStamp]:
    """Stamps of every record (archived ones too) changed after ``since``, or of all when it is None.

    Keyset-paged on (updated_at, id), so the ``updated_at`` index does the work and a sync after one
    change reads one row, not the table.
    """
    table = table_for(kind)
    columns = select(table.id, table.updated_at, table.archived_at)
    after: tuple[datetime, int] | None = None
    while True:
        stmt = columns
        if after is not None:
            at, row_id = after
            stmt = stmt.where(or_(table.updated_at > at, and_(table.updated_at == at, table.id > row_id)))
        elif since is not None:
            stmt = stmt.where(table.updated_at > since)
        rows = session.execute(stmt.order_by(table.updated_at, table.id).limit(batch_size)).all()
        for row_id, updated_at, archived_at in rows:
            yield RecordStamp(row_id, updated_at, archived_at is not None)
        if len(rows) < batch_size:
            return
        after = (rows[-1][1], rows[-1][0])


def oldest_record(session: Session, kind: str) -> tuple[int, datetime] | None:
    """Id and creation time of the first record of a kind: a cheap fingerprint of one database's life."""
    table = table_for(kind)
    row = session.execute(select(table.id, table.created_at).order_by(table.id).limit(1)).first()
    return None if row is None else (row[0], row[1])


def create_record(session: Session, record: Record, *, scope: Scope) -> StoredRecord:
    kind = kind_of(record)
    if not scope.can_edit(zone_code=record.zone_code):
        raise ZoneAccessDenied(record.zone_code, KIND_LABELS_ZH[kind])
    table = table_for(kind)
    row_values = record_to_row(record)
    existing = session.scalar(select(table).where(table.natural_key == row_values["natural_key"]))
    if existing is not None:
        if scope.can_see(zone_code=existing.zone_code, visibility=existing.visibility):
            raise Conflict(f"{KIND_LABELS_ZH[kind]}已存在 (编号 {existing.id})")
        # Another zone's private record: refuse the key without naming or describing the record.
        raise Conflict(f"{KIND_LABELS_ZH[kind]}的编号已被登记, 不能重复登记 (key already registered)")
    row = table(**row_values)
    session.add(row)
    session.flush()
    return row_to_stored(kind, row)


def update_record(
    session: Session, kind: str, record_id: int, changes: dict[str, Any], *, scope: Scope
) -> StoredRecord:
    """Apply a partial update; the merged record is validated again as a whole."""
    row = _load_row(session, kind, record_id, scope)
    if not scope.can_edit(zone_code=row.zone_code):
        raise ZoneAccessDenied(row.zone_code, KIND_LABELS_ZH[kind])
    current = row_to_stored(kind, row).record
    merged = RECORD_TYPES[kind].model_validate({**current.model_dump(), **changes})
    if not scope.can_edit(zone_code=merged.zone_code):
        raise ZoneAccessDenied(merged.zone_code, KIND_LABELS_ZH[kind])
    for name, value in record_to_row(merged).items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.flush()
    return row_to_stored(kind, row)


def archive_record(session: Session, kind: str, record_id: int, *, scope: Scope) -> StoredRecord:
    row = _load_row(session, kind, record_id, scope)
    if not scope.can_edit(zone_code=row.zone_code):
        raise ZoneAccessDenied(row.zone_code, KIND_LABELS_ZH[kind])
    if row.archived_at is None:
        # A fresh updated_at is how an index syncing from a watermark learns of the archival.
        row.archived_at = row.updated_at = utcnow()
    session.flush()
    return row_to_stored(kind, row)


def restore_record(session: Session, kind: str, record_id: int, *, scope: Scope) -> StoredRecord:
    """Bring an archived record back; a demand archived by its status reopens as 征集中."""
    row = _load_row(session, kind, record_id, scope)
    if not scope.can_edit(zone_code=row.zone_code):
        raise ZoneAccessDenied(row.zone_code, KIND_LABELS_ZH[kind])
    if getattr(row, "status", None) == "archived":
        row.status = "open"  # type: ignore[attr-defined]
        row.content_hash = record_to_row(row_to_stored(kind, row).record)["content_hash"]
    if row.archived_at is not None or session.is_modified(row):
        # A fresh updated_at is how an index syncing from a watermark learns the record is back.
        row.archived_at, row.updated_at = None, utcnow()
    session.flush()
    return row_to_stored(kind, row)


def count_records(session: Session, kind: str, *, scope: Scope) -> int:
    table = table_for(kind)
    stmt = (
        select(func.count())
        .select_from(table)
        .where(visible_clause(table, scope), table.archived_at.is_(None))
    )
    return session.scalar(stmt) or 0
