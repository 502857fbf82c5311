"""The job queue: one ``jobs`` table that SQLite and PostgreSQL hold alike.

A job is queued by a request and claimed by a worker with one atomic ``UPDATE … WHERE state='queued'``
(on PostgreSQL its inner ``SELECT`` also skips rows other workers have locked), so two workers never run
the same job. ``dedupe_key`` coalesces work: while a job with a key is still queued, enqueueing the same
key returns that job (and, for debounced work, moves its start back) instead of adding another; a partial
unique index keeps it so under concurrent requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..errors import NotFound
from .tables import Base, utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
FINISHED_STATES = (SUCCEEDED, FAILED, CANCELLED)


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_queue", "state", "run_after"),
        Index(
            "uq_jobs_queued_key",
            "dedupe_key",
            unique=True,
            sqlite_where=text("state = 'queued'"),
            postgresql_where=text("state = 'queued'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(12), default=QUEUED)
    title: Mapped[str] = mapped_column(String(300))
    zone_code: Mapped[str | None] = mapped_column(String(32), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_by: Mapped[str] = mapped_column(String(50), default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    progress_note: Mapped[str] = mapped_column(String(200), default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    run_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Job:
    """A job as the services and pages see it."""

    id: int
    kind: str
    state: str
    title: str
    zone_code: str | None
    user_id: int | None
    created_by: str
    params: dict[str, Any]
    progress_done: int
    progress_total: int | None
    progress_note: str
    result: dict[str, Any] | None
    error: str | None
    run_after: datetime
    attempts: int
    heartbeat_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)


def _job(row: JobRow) -> Job:
    def stamp(value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    return Job(
        id=row.id,
        kind=row.kind,
        state=row.state,
        title=row.title,
        zone_code=row.zone_code,
        user_id=row.user_id,
        created_by=row.created_by,
        params=dict(row.params or {}),
        progress_done=row.progress_done,
        progress_total=row.progress_total,
        progress_note=row.progress_note,
        result=row.result,
        error=row.error,
        run_after=as_utc(row.run_after),
        attempts=row.attempts,
        heartbeat_at=stamp(row.heartbeat_at),
        created_at=as_utc(row.created_at),
        started_at=stamp(row.started_at),
        finished_at=stamp(row.finished_at),
    )


def queued_with_key(session: Session, key: str) -> Job | None:
    row = session.scalar(select(JobRow).where(JobRow.dedupe_key == key, JobRow.state == QUEUED))
    return None if row is None else _job(row)


def _queued_row(session: Session, key: str) -> JobRow | None:
    return session.scalar(select(JobRow).where(JobRow.dedupe_key == key, JobRow.state == QUEUED))


def enqueue(
    session: Session,
    *,
    kind: str,
    title: str,
    params: dict[str, Any],
    user_id: int | None = None,
    created_by: str = "",
    zone_code: str | None = None,
    dedupe_key: str | None = None,
    run_after: datetime | None = None,
    later_wins: bool = False,
) -> Job:
    """Queue a job, or return the queued job with the same ``dedupe_key``, whose start moves to
    ``run_after`` when that is later (``later_wins``: a debounce) or earlier (otherwise). A queued job
    nobody asked for (an automatic one) is given to the user who asks for it now."""
    start = run_after or utcnow()
    if dedupe_key is not None:
        existing = _queued_row(session, dedupe_key)
        if existing is not None:
            current = as_utc(existing.run_after)
            existing.run_after = max(current, start) if later_wins else min(current, start)
            if existing.user_id is None and user_id is not None:
                # An automatic job that someone now asks for becomes theirs to follow (its status page).
                existing.user_id, existing.created_by = user_id, created_by[:50]
            session.flush()
            return _job(existing)
    row = JobRow(
        kind=kind,
        title=title[:300],
        params=params,
        user_id=user_id,
        created_by=created_by[:50],
        zone_code=zone_code,
        dedupe_key=dedupe_key,
        run_after=start,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # Another request queued the same key between our look and our insert: that job stands for both.
        existing = None if dedupe_key is None else _queued_row(session, dedupe_key)
        if existing is None:
            raise
        return _job(existing)
    return _job(row)


def claim(session: Session, *, worker: str, kinds: list[str] | None = None) -> Job | None:
    """Take the next due job for ``worker``, or None. Atomic: the row moves from queued to running in one
    statement, so concurrent workers (processes or hosts) never both get it."""
    now = utcnow()
    pick = select(JobRow.id).where(JobRow.state == QUEUED, JobRow.run_after <= now)
    if kinds:
        pick = pick.where(JobRow.kind.in_(kinds))
    pick = pick.order_by(JobRow.run_after, JobRow.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(JobRow)
        .where(JobRow.id == pick.scalar_subquery(), JobRow.state == QUEUED)
        .values(
            state=RUNNING,
            worker=worker[:100],
            started_at=now,
            heartbeat_at=now,
            attempts=JobRow.attempts + 1,
        )
        .returning(JobRow.id)
    )
    claimed = session.scalar(stmt)
    if claimed is None:
        return None
    return get_job(session, claimed)


def get_job(session: Session, job_id: int) -> Job:
    row = session.get(JobRow, job_id)
    if row is None:
        raise NotFound("任务", job_id)
    session.refresh(row)
    return _job(row)


def list_jobs(
    session: Session,
    *,
    user_id: int | None = None,
    zone_code: str | None = None,
    kinds: list[str] | None = None,
    states: list[str] | None = None,
    limit: int = 50,
) -> list[Job]:
    """Newest first; ``user_id``, ``zone_code``, ``kinds`` and ``states`` (when given) narrow the list."""
    stmt = select(JobRow)
    if states:
        stmt = stmt.where(JobRow.state.in_(states))
    if user_id is not None:
        stmt = stmt.where(JobRow.user_id == user_id)
    if zone_code is not None:
        stmt = stmt.where(JobRow.zone_code == zone_code)
    if kinds:
        stmt = stmt.where(JobRow.kind.in_(kinds))
    return [_job(row) for row in session.scalars(stmt.order_by(JobRow.id.desc()).limit(limit))]


def finish(
    session: Session,
    job_id: int,
    *,
    state: str,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    progress: tuple[int, int | None, str] | None = None,
) -> None:
    """Record how a running job ended, with its last progress."""
    now = utcnow()
    values: dict[str, Any] = {"state": state, "finished_at": now, "heartbeat_at": now, "result": result}
    values["error"] = error
    if progress is not None:
        values.update(progress_done=progress[0], progress_total=progress[1], progress_note=progress[2][:200])
    session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.state == RUNNING).values(**values))


def requeue(session: Session, job_id: int, *, note: str) -> None:
    """Put a running job back in the queue (its worker stopped before it finished)."""
    session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.state == RUNNING)
        .values(state=QUEUED, worker=None, progress_note=note[:200], run_after=utcnow())
    )


def cancel_queued(session: Session, job_id: int) -> bool:
    """Cancel a job that has not started; False when it is no longer queued."""
    cancelled = session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.state == QUEUED)
        .values(state=CANCELLED, finished_at=utcnow())
    )
    return bool(cancelled.rowcount)  # type: ignore[attr-defined]


def stale_running(session: Session, *, heartbeat_before: datetime) -> list[Job]:
    """Running jobs whose worker has not been heard of since ``heartbeat_before``."""
    stmt = select(JobRow).where(
        JobRow.state == RUNNING,
        or_(JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < heartbeat_before),
    )
    return [_job(row) for row in session.scalars(stmt)]


def delete_finished_before(session: Session, before: datetime) -> list[int]:
    """Remove finished jobs older than ``before``; returns their ids (their files go too)."""
    ids = list(
        session.scalars(
            select(JobRow.id).where(JobRow.state.in_(FINISHED_STATES), JobRow.finished_at < before)
        )
    )
    for start in range(0, len(ids), 900):
        session.execute(delete(JobRow).where(JobRow.id.in_(ids[start : start + 900])))
    return ids


def count_by_state(session: Session) -> dict[str, int]:
    stmt = select(JobRow.state, func.count()).group_by(JobRow.state)
    return {str(state): int(n) for state, n in session.execute(stmt).all()}


def latest_heartbeat(session: Session) -> datetime | None:
    value = session.scalar(select(func.max(JobRow.heartbeat_at)))
    return None if value is None else as_utc(value)


def retention(days: float) -> datetime:
    return utcnow() - timedelta(days=days)
