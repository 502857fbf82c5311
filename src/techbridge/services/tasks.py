"""What each kind of background job does: how a request submits it, and how the worker runs it.

Every handler acts for the user who asked (re-loaded when the job runs, so a user deactivated meanwhile
cannot act) through the same service functions the API uses: an import goes through
``transfer.import_upload``, which keeps zone staff to their own zone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.access import Scope
from ..domain.accounts import User
from ..errors import ImportFailed, NotFound, PermissionDenied, TechBridgeError
from ..ingest.importer import ImportReport, write_error_report
from ..store.accounts import get_user
from ..store.db import session_scope
from ..store.jobs import Job
from ..store.records import KIND_LABELS_ZH, RecordQuery, count_query
from . import jobs, notifications, transfer, uploads, zone_settings
from .jobs import JobFiles

ERROR_REPORT = "错误报告.csv"
SHOWN_ERRORS = 200
"""Row errors kept in the job's result for the page; the full list is in the error report file."""


class JobCancelled(Exception):
    """Raised inside a job when its user cancelled it: its transaction rolls back."""


class WorkerStopping(Exception):
    """Raised inside a job when the worker is shutting down: the job goes back to the queue."""


class JobFailed(TechBridgeError):
    """A job that ended with a message for the user and, possibly, a partial result (row errors)."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result


class JobContext:
    """What a running handler gets: the job, the database, progress reporting and the cancel check."""

    PROGRESS_EVERY = 0.25  # seconds between progress file writes
    CANCEL_EVERY = 0.5  # seconds between looks for the cancel marker

    def __init__(self, url: str, settings: Settings, job: Job, *, stopping: threading.Event) -> None:
        self.url, self.settings, self.job = url, settings, job
        self.files = JobFiles(settings, job.id)
        self.stopping = stopping
        self.last: tuple[int, int | None, str] = (0, None, "")
        self._written = self._checked = 0.0

    def user(self) -> User:
        """The account the job acts for, as it is now."""
        if self.job.user_id is None:
            raise PermissionDenied("任务没有提交人")
        with session_scope(self.url) as session:
            user = get_user(session, self.job.user_id)
        if user is None or not user.is_active:
            raise PermissionDenied("提交任务的账户已停用")
        return user

    def progress(self, done: int, total: int | None, note: str | None = None) -> None:
        """Report progress; raises ``JobCancelled`` or ``WorkerStopping`` when the job must stop."""
        self.last = (done, total, self.last[2] if note is None else note)
        now = time.monotonic()
        if now - self._written >= self.PROGRESS_EVERY or (total is not None and done >= total):
            self.files.write_progress(*self.last)
            self._written = now
        if now - self._checked >= self.CANCEL_EVERY:
            self._checked = now
            if self.files.cancel_requested():
                raise JobCancelled
            if self.stopping.is_set():
                raise WorkerStopping

    def step(self, note: str) -> Callable[[int, int], None]:
        """A ``(done, total)`` callback for services that report progress, labelled ``note``."""
        return lambda done, total: self.progress(done, total, note)


Handler = Callable[[JobContext], dict[str, Any]]


# -- imports -------------------------------------------------------------------------------------------------


def _report_result(
    ctx: JobContext, report: ImportReport | None, errors: list[Any], error_count: int
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "errors": [asdict(e) for e in errors[:SHOWN_ERRORS]],
        "error_count": error_count,
        "files": {},
    }
    if report is not None:
        result.update(
            file=report.file,
            total_rows=report.total_rows,
            inserted=report.inserted,
            updated=report.updated,
            unchanged=report.unchanged,
            skipped=report.skipped,
            warnings=report.warnings[:20],
            warning_count=len(report.warnings),
            unmapped_columns=report.unmapped_columns,
            encoding=report.encoding,
        )
    if errors:
        write_error_report(errors, ctx.files.output(ERROR_REPORT))
        result["files"]["error_report"] = ERROR_REPORT
    return result


def _run_import(ctx: JobContext, *, dry_run: bool) -> dict[str, Any]:
    params = ctx.job.params
    upload = uploads.find_upload(ctx.settings, str(params["upload"]))
    try:
        report = transfer.import_upload(
            ctx.url,
            str(params["kind"]),
            upload.path,
            user=ctx.user(),
            zone_code=params.get("zone_code"),
            dry_run=dry_run,
            skip_invalid=bool(params.get("skip_invalid")),
            limits=transfer.upload_limits(ctx.settings),
            mapping=params.get("mapping") or None,
            on_progress=ctx.step("校验" if dry_run else "写入"),
        )
    except ImportFailed as exc:
        result = _report_result(ctx, None, exc.errors, len(exc.errors))
        result["total_rows"] = exc.total_rows
        raise JobFailed("文件中有错误行, 未写入任何记录; 可选择跳过错误行后重新导入", result) from None
    result = _report_result(ctx, report, report.errors, report.error_count)
    if not dry_run:
        with session_scope(ctx.url) as session:
            if params.get("remember"):
                zone_settings.remember_mapping(
                    session,
                    zone_code=str(params["zone_code"]),
                    kind=str(params["kind"]),
                    mapping=dict(params["remember"]),
                    by=ctx.job.created_by,
                )
            summary = f"新增 {report.inserted} 条, 更新 {report.updated} 条"
            notifications.notify(
                session,
                [ctx.job.user_id or 0],
                "job",
                f"导入完成: {upload.name} ({summary})",
                f"/jobs/{ctx.job.id}",
            )
        uploads.remove_upload(ctx.settings, upload.token)
    return result


def submit_import_preview(
    session: Session,
    settings: Settings,
    *,
    user: User,
    plan: uploads.UploadPlan,
    zone_code: str,
    chosen: dict[str, str] | None = None,
) -> Job:
    """Queue the validation of an upload with the mapping in ``plan`` (nothing is written)."""
    if not user.is_admin:
        raise PermissionDenied("只有管理员可以批量导入 (admin only)")
    transfer_zone = user.zone_code or zone_code
    remember = uploads.explicit_choices(plan, chosen or {})
    return jobs.submit(
        session,
        kind="import_preview",
        params={
            "upload": plan.upload.token,
            "file_name": plan.upload.name,
            "kind": plan.kind,
            "zone_code": transfer_zone,
            "mapping": plan.plan.mapping,
            "ignored": [h for h in plan.headers if h not in plan.plan.mapping],
            "remember": {**plan.remembered, **remember},
        },
        user=user,
        zone_code=transfer_zone,
        title=f"校验 {KIND_LABELS_ZH[plan.kind]} · {plan.upload.name}",
    )


def confirm_import(
    session: Session, settings: Settings, *, user: User, preview_id: int, skip_invalid: bool
) -> Job:
    """Queue the import a finished preview validated, with the same file, zone and mapping."""
    preview = jobs.get_visible(session, user=user, job_id=preview_id)
    if preview.kind != "import_preview" or preview.state != "succeeded":
        raise TechBridgeError("请先完成文件校验再确认导入")
    uploads.find_upload(settings, str(preview.params["upload"]))  # still there?
    params = {**preview.params, "skip_invalid": skip_invalid, "preview": preview.id}
    return jobs.submit(
        session,
        kind="import",
        params=params,
        user=user,
        zone_code=preview.zone_code,
        title=f"导入 {KIND_LABELS_ZH[str(params['kind'])]} · {params['file_name']}",
    )


# -- exports -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRequest:
    """A record list as the user filtered it, and the file format wanted."""

    kind: str
    fmt: str
    q: str = ""
    filters: tuple[tuple[str, str], ...] = ()
    archived: bool = False

    @property
    def query(self) -> RecordQuery:
        return RecordQuery(q=self.q or None, filters=dict(self.filters), archived_only=self.archived)

    def file_name(self, when: datetime) -> str:
        return f"{KIND_LABELS_ZH[self.kind]}-{when:%Y%m%d-%H%M}.{self.fmt}"


def export_size(session: Session, *, user: User, request: ExportRequest) -> int:
    try:
        return count_query(session, request.kind, scope=user.scope, query=request.query)
    except ValueError as exc:  # an unknown filter column
        raise TechBridgeError(str(exc)) from None


def submit_export(session: Session, *, user: User, request: ExportRequest, rows: int) -> Job:
    return jobs.submit(
        session,
        kind="export",
        params={
            "kind": request.kind,
            "fmt": request.fmt,
            "q": request.q,
            "filters": dict(request.filters),
            "archived": request.archived,
        },
        user=user,
        zone_code=user.zone_code,
        title=f"导出 {KIND_LABELS_ZH[request.kind]} {rows} 条 ({request.fmt.upper()})",
    )


def _run_export(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    request = ExportRequest(
        kind=str(params["kind"]),
        fmt=str(params["fmt"]),
        q=str(params.get("q", "")),
        filters=tuple(sorted(dict(params.get("filters") or {}).items())),
        archived=bool(params.get("archived")),
    )
    # File names carry the zone staff's wall-clock time (TECHBRIDGE_DISPLAY_TIMEZONE).
    name = request.file_name(ctx.job.created_at.astimezone(ctx.settings.tz))
    path = ctx.files.output(name)
    try:
        count = transfer.export_visible(
            ctx.url,
            request.kind,
            path,
            user=ctx.user(),
            fmt=request.fmt,
            query=request.query,
            on_progress=ctx.step("导出"),
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    with session_scope(ctx.url) as session:
        notifications.notify(
            session, [ctx.job.user_id or 0], "job", f"导出完成: {name} ({count} 条)", f"/jobs/{ctx.job.id}"
        )
    return {"count": count, "files": {"download": name}}


# -- matching ------------------------------------------------------------------------------------------------


def submit_batch_match(session: Session, *, user: User) -> Job:
    """Batch matching now (a waiting run, e.g. one queued by an import, is brought forward instead)."""
    if not user.is_admin:
        raise PermissionDenied("只有管理员可以运行批量匹配")
    return jobs.submit(
        session,
        kind="batch_match",
        params={},
        user=user,
        zone_code=user.zone_code,
        title="批量匹配",
        dedupe_key="batch_match",
    )


def _run_batch_match(ctx: JobContext) -> dict[str, Any]:
    from .matching import run_batch

    with session_scope(ctx.url) as session:
        before = notifications.strong_matches(session)
    report = run_batch(ctx.url, settings=ctx.settings, progress=ctx.step("索引与排序"))
    with session_scope(ctx.url) as session:
        told = notifications.announce_new_matches(session, before)
    return {**asdict(report), "notified": told}


def _run_match_record(ctx: JobContext) -> dict[str, Any]:
    from .matching import match_record

    kind, record_id = str(ctx.job.params["kind"]), int(ctx.job.params["id"])
    ctx.progress(0, 1, "匹配")
    demand_ids = [record_id] if kind == "demand" else []
    with session_scope(ctx.url) as session:
        before = notifications.strong_matches(session, demand_ids=demand_ids)
        try:
            # A job waits its turn at the index however long it takes (behind ``match --all`` too).
            found = match_record(
                session, kind, record_id, scope=Scope.platform(), settings=ctx.settings, wait=None
            )
        except NotFound:
            return {"matched": 0, "note": "记录已不存在"}
        told = notifications.announce_new_matches(session, before, demand_ids=demand_ids) if demand_ids else 0
    ctx.progress(1, 1, "匹配")
    return {"matched": sum(len(m) for m in found.values()), "notified": told}


HANDLERS: dict[str, Handler] = {
    "import_preview": lambda ctx: _run_import(ctx, dry_run=True),
    "import": lambda ctx: _run_import(ctx, dry_run=False),
    "export": _run_export,
    "batch_match": _run_batch_match,
    "match_record": _run_match_record,
}
assert set(HANDLERS) == set(jobs.KIND_LABELS), "every job kind has a handler"
