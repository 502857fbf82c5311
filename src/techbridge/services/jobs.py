"""Background jobs: imports, large exports and matching run in a worker, never inside a request.

Why a small job table and not a library. The queue must work the same on the embedded SQLite default and
on PostgreSQL, with nothing else to install or run: Celery and RQ need a Redis (or RabbitMQ) broker, which
the SQLite deployment does not have; procrastinate, pgqueuer and similar need PostgreSQL (LISTEN/NOTIFY,
``FOR UPDATE SKIP LOCKED``); Dramatiq and Huey also want Redis for anything but a single process. Our needs
are modest (a handful of job kinds, minutes not microseconds, one or a few workers), so one ``jobs`` table
(``store.jobs``, an Alembic migration like every other) does it: a worker claims a job with one atomic
``UPDATE … WHERE state='queued'`` (plus ``SKIP LOCKED`` on PostgreSQL), and the job record keeps who asked,
what, its state, progress, result and error report, where the pages can show them.

Live progress and cancellation travel through small files under ``data_dir/jobs/<id>/``, not the
database: an import writes all of its rows in one transaction, and on SQLite that transaction holds the
only write lock until it commits, so a progress ``UPDATE`` would wait for the very import it reports on.
The web server and the worker therefore share the data directory (they already do: uploads, exports and
the match index live there). The database row gets the final progress when the job ends.

This module is the queue's API for requests (submit, read, cancel, clean up); ``services.worker`` runs
the jobs.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.accounts import User
from ..errors import NotFound, TechBridgeError
from ..store import jobs as store
from ..store.db import session_scope
from ..store.jobs import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, Job
from ..store.tables import utcnow
from . import accounts, zone_settings

KIND_LABELS = {
    "import_preview": "导入校验",
    "import": "数据导入",
    "export": "数据导出",
    "batch_match": "批量匹配",
    "match_record": "自动匹配",
}
STATE_LABELS = {
    QUEUED: "排队中",
    RUNNING: "进行中",
    SUCCEEDED: "已完成",
    FAILED: "失败",
    CANCELLED: "已取消",
}
MATCH_SOURCE_KINDS = ("demand", "achievement", "expert")
"""Kinds whose own match list a matching job recomputes (the other kinds are only ever targets)."""
MATCH_TARGET_KINDS = ("achievement", "expert", "instrument", "pilot_platform")
"""Kinds that appear in demands' match lists: a change to one re-ranks demands (incremental batch)."""
STALE_AFTER = timedelta(minutes=3)
"""A running job whose worker has not written a heartbeat for this long is taken to have died."""
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class JobProgress:
    done: int
    total: int | None
    note: str

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return max(0, min(100, round(100 * self.done / self.total)))


@dataclass(frozen=True)
class JobStatus:
    """What the page polls: the job, its live progress and whether a cancel is on its way."""

    job: Job
    progress: JobProgress
    cancelling: bool

    def as_json(self) -> dict[str, Any]:
        job = self.job
        return {
            "id": job.id,
            "kind": job.kind,
            "state": job.state,
            "state_label": STATE_LABELS[job.state],
            "finished": job.is_finished,
            "done": self.progress.done,
            "total": self.progress.total,
            "percent": self.progress.percent,
            "note": self.progress.note,
            "cancelling": self.cancelling,
            "error": job.error,
        }


class JobFiles:
    """The folder of one job: live progress, the cancel marker, and the files the job produced."""

    def __init__(self, settings: Settings, job_id: int) -> None:
        self.dir = jobs_root(settings) / str(job_id)

    @property
    def _progress(self) -> Path:
        return self.dir / "progress.json"

    @property
    def _cancel(self) -> Path:
        return self.dir / "cancel"

    def write_progress(self, done: int, total: int | None, note: str) -> None:
        """Atomic replace, so a reader never sees half a file; the file's age is the heartbeat."""
        self.dir.mkdir(parents=True, exist_ok=True)
        staged = self.dir / f"progress.{os.getpid()}.tmp"
        staged.write_text(json.dumps({"done": done, "total": total, "note": note}, ensure_ascii=False))
        staged.replace(self._progress)

    def read_progress(self) -> JobProgress | None:
        try:
            data = json.loads(self._progress.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return JobProgress(int(data["done"]), data["total"], str(data["note"]))

    def heartbeat_age(self) -> float | None:
        try:
            return time.time() - self._progress.stat().st_mtime
        except OSError:
            return None

    def request_cancel(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._cancel.touch()

    def cancel_requested(self) -> bool:
        return self._cancel.exists()

    def output(self, name: str) -> Path:
        """Where the job writes a file it offers for download."""
        self.dir.mkdir(parents=True, exist_ok=True)
        return self.dir / name

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def jobs_root(settings: Settings) -> Path:
    return settings.data_dir / "jobs"


# -- submitting ---------------------------------------------------------------------------------------


def submit(
    session: Session,
    *,
    kind: str,
    params: dict[str, Any],
    user: User | None,
    zone_code: str | None,
    title: str = "",
    dedupe_key: str | None = None,
    delay_seconds: float = 0,
    debounce: bool = False,
) -> Job:
    """Queue a job for the worker and return at once.

    With ``dedupe_key``, a job with that key still waiting stands for this request too: a ``debounce``d
    request moves its start back by ``delay_seconds`` (edits in quick succession make one run), any
    other brings it forward (a click means now).
    """
    if kind not in KIND_LABELS:
        raise TechBridgeError(f"未知的任务类型 {kind!r}")
    start = utcnow() + timedelta(seconds=delay_seconds)
    return store.enqueue(
        session,
        kind=kind,
        title=title or KIND_LABELS[kind],
        params=params,
        user_id=None if user is None else user.id,
        created_by="" if user is None else (user.display_name or user.username),
        zone_code=zone_code,
        dedupe_key=dedupe_key,
        run_after=start,
        later_wins=debounce,
    )


def matching_key(kind: str, record_id: int) -> str:
    """The dedupe key of a record's matching job: automatic and requested runs share one queued job."""
    return f"match:{kind}/{record_id}"


def schedule_matching(session: Session, *, kind: str, record_id: int, zone_code: str) -> list[Job]:
    """A record was saved, imported, edited, archived or restored: match it again shortly (debounced).

    Its own list is recomputed by a ``match_record`` job (one per record however many edits arrive
    within the zone's delay); a record demands are matched against also queues the incremental batch
    run, which re-ranks the demands its change affects.
    """
    options = zone_settings.get(session, zone_code)
    if not options.auto_match:
        return []
    queued: list[Job] = []
    common = {"user": None, "zone_code": zone_code, "delay_seconds": options.match_delay_seconds}
    if kind in MATCH_SOURCE_KINDS:
        queued.append(
            submit(
                session,
                kind="match_record",
                params={"kind": kind, "id": record_id},
                title=f"自动匹配 {kind}/{record_id}",
                dedupe_key=matching_key(kind, record_id),
                debounce=True,
                **common,  # type: ignore[arg-type]
            )
        )
    if kind in MATCH_TARGET_KINDS:
        batch = schedule_batch_matching(session, zone_code=zone_code, reason="资源有更新")
        if batch is not None:
            queued.append(batch)
    return queued


def schedule_batch_matching(session: Session, *, zone_code: str, reason: str) -> Job | None:
    """Many records changed at once (an import): one incremental batch run, debounced like an edit."""
    options = zone_settings.get(session, zone_code)
    if not options.auto_match:
        return None
    return submit(
        session,
        kind="batch_match",
        params={},
        user=None,
        zone_code=zone_code,
        title=f"批量匹配 ({reason})",
        dedupe_key="batch_match",
        delay_seconds=options.match_delay_seconds,
        debounce=True,
    )


def queued_matching(session: Session, *, kind: str, record_id: int) -> Job | None:
    """The matching job waiting for this record, if any (the matches page says it is on its way)."""
    return store.queued_with_key(session, matching_key(kind, record_id))


# -- reading --------------------------------------------------------------------------------------------


def can_see(user: User, job: Job) -> bool:
    """Your own jobs; an administrator also sees every job of the zone (the platform admin: all)."""
    if job.user_id == user.id:
        return True
    return user.is_admin and (user.scope.zone_code is None or job.zone_code == user.scope.zone_code)


def get_visible(session: Session, *, user: User, job_id: int) -> Job:
    job = store.get_job(session, job_id)
    if not can_see(user, job):
        raise NotFound("任务", job_id)  # someone else's job is absent, not forbidden
    return job


def list_visible(
    session: Session, *, user: User, limit: int = 50, kinds: list[str] | None = None
) -> list[Job]:
    if user.is_admin:
        return store.list_jobs(session, zone_code=user.scope.zone_code, kinds=kinds, limit=limit)
    return store.list_jobs(session, user_id=user.id, kinds=kinds, limit=limit)


def status(settings: Settings, job: Job) -> JobStatus:
    """The job with its freshest progress: the live file while it runs, the stored row once it ended."""
    files = JobFiles(settings, job.id)
    stored = JobProgress(job.progress_done, job.progress_total, job.progress_note)
    live = files.read_progress() if job.state == RUNNING else None
    return JobStatus(
        job=job, progress=live or stored, cancelling=job.state == RUNNING and files.cancel_requested()
    )


def job_file(settings: Settings, job: Job, name: str) -> Path:
    """A file the job offered (named in its result), never any other path."""
    offered = (job.result or {}).get("files", {})
    if name not in offered.values():
        raise NotFound("文件", name)
    path = JobFiles(settings, job.id).dir / name
    if not path.is_file():
        raise NotFound("文件", name)
    return path


def has_live_worker(settings: Settings) -> bool:
    """Whether a worker has shown signs of life recently (its heartbeat file), for a hint on the page."""
    marker = jobs_root(settings) / "worker.heartbeat"
    try:
        return time.time() - marker.stat().st_mtime < STALE_AFTER.total_seconds()
    except OSError:
        return False


# -- cancelling and cleaning up --------------------------------------------------------------------------


def cancel(session: Session, settings: Settings, *, user: User, job_id: int) -> Job:
    """Cancel a queued job now; ask a running one to stop (its work is rolled back)."""
    job = get_visible(session, user=user, job_id=job_id)
    if job.is_finished:
        raise TechBridgeError("任务已结束, 无需取消")
    if not store.cancel_queued(session, job.id):
        # Running: the worker looks for the marker while it works; no database write is needed, which
        # matters on SQLite, where the job's own transaction may hold the write lock.
        JobFiles(settings, job.id).request_cancel()
    return store.get_job(session, job.id)


@dataclass(frozen=True)
class CleanupReport:
    jobs_removed: int
    uploads_removed: int
    notifications_removed: int
    jobs_requeued: int
    jobs_failed: int
    login_attempts_removed: int


def reap_stale(session: Session, settings: Settings) -> tuple[int, int]:
    """Running jobs whose worker died: queued again (up to ``MAX_ATTEMPTS`` runs), or failed."""
    requeued = failed = 0
    for job in store.stale_running(session, heartbeat_before=utcnow() - STALE_AFTER):
        age = JobFiles(settings, job.id).heartbeat_age()
        if age is not None and age < STALE_AFTER.total_seconds():
            continue  # the worker writes its heartbeat to the job's folder, not the row
        if job.attempts < MAX_ATTEMPTS:
            store.requeue(session, job.id, note="后台进程中断, 已重新排队")
            requeued += 1
        else:
            store.finish(session, job.id, state=FAILED, error="后台进程多次中断, 任务未完成, 请重新提交")
            failed += 1
    return requeued, failed


def cleanup(url: str, settings: Settings, *, read_notifications_days: float = 90) -> CleanupReport:
    """The worker's periodic tidy-up: finished jobs and their files after ``job_retention_days``,
    uploads never confirmed after ``upload_ttl_hours``, read notifications after 90 days, login
    attempts the login limits no longer read, and jobs whose worker died. A scheduled job, not a request
    service: it opens its own session."""
    from ..store.notifications import delete_read_before

    with session_scope(url) as session:
        requeued, failed = reap_stale(session, settings)
        removed = store.delete_finished_before(session, store.retention(settings.job_retention_days))
        notes = delete_read_before(session, store.retention(read_notifications_days))
        attempts = accounts.prune_login_attempts(session)
    for job_id in removed:
        JobFiles(settings, job_id).remove()
    from .transfer import remove_stale_uploads  # transfer queues matching jobs: imported here, not above

    uploads = remove_stale_uploads(settings)
    return CleanupReport(
        jobs_removed=len(removed),
        uploads_removed=uploads,
        notifications_removed=notes,
        jobs_requeued=requeued,
        jobs_failed=failed,
        login_attempts_removed=attempts,
    )
