"""任务中心: background jobs with live progress (the page polls a small JSON status), cancel, results.

Thin: ``services.jobs`` says who may see a job and what its progress is; ``services.tasks`` submits.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.responses import Response

from ...request_context import app_settings
from ...services import jobs, tasks, uploads
from ...store.db import session_scope
from ...store.jobs import Job
from ..deps import AdminViewer, CurrentViewer, DbUrl
from ..strings_zh import FIELDS, KIND_NOUNS
from ..templating import render
from ..urls import urls
from . import page_router, redirect

router = page_router()

STATE_TONES = {
    "queued": "neutral",
    "running": "info",
    "succeeded": "success",
    "failed": "danger",
    "cancelled": "warn",
}


@router.get("/jobs")
def job_list(request: Request, viewer: CurrentViewer, db: DbUrl, zone: str = "") -> Response:
    settings = app_settings(request)
    with session_scope(db) as session:
        found = [
            j for j in jobs.list_visible(session, user=viewer, limit=100) if not zone or j.zone_code == zone
        ]
    statuses = [jobs.status(settings, job) for job in found]
    return render(
        request,
        "jobs/list.html",
        {
            "nav_active": "jobs",
            "statuses": statuses,
            "kind_labels": jobs.KIND_LABELS,
            "state_labels": jobs.STATE_LABELS,
            "state_tones": STATE_TONES,
            "worker_alive": jobs.has_live_worker(settings),
        },
    )


@router.post("/jobs/batch-match")
def batch_match(request: Request, viewer: AdminViewer, db: DbUrl) -> Response:
    with session_scope(db) as session:
        job = tasks.submit_batch_match(session, user=viewer)
    return redirect(request, urls.job(job.id), "已提交批量匹配任务, 完成后各条需求的推荐会更新", "info")


def _import_context(request: Request, db: str, viewer: Any, job: Job) -> dict[str, Any]:
    """A validated upload: the mapping it used (to adjust) and whether its file is still there."""
    params = job.params
    kind = str(params.get("kind", ""))
    settings = app_settings(request)
    try:
        uploads.find_upload(settings, str(params.get("upload", "")))
        expired = False
    except uploads.UploadExpired:
        expired = True
    headers = [*params.get("mapping", {}), *params.get("ignored", [])]
    return {
        "import_kind": kind,
        "import_noun": KIND_NOUNS.get(kind, kind),
        "mapping": params.get("mapping", {}),
        "headers": headers,
        "field_choices": uploads.field_choices(kind) if kind in uploads.IMPORT_KINDS else [],
        "upload_expired": expired,
        "field_labels": FIELDS,
    }


@router.get("/jobs/{job_id}")
def job_page(request: Request, viewer: CurrentViewer, db: DbUrl, job_id: int) -> Response:
    settings = app_settings(request)
    with session_scope(db) as session:
        job = jobs.get_visible(session, user=viewer, job_id=job_id)
    context: dict[str, Any] = {
        "nav_active": "import" if job.kind in ("import", "import_preview") else "jobs",
        "status": jobs.status(settings, job),
        "job": job,
        "result": job.result or {},
        "kind_label": jobs.KIND_LABELS[job.kind],
        "state_label": jobs.STATE_LABELS[job.state],
        "state_tone": STATE_TONES[job.state],
        "worker_alive": jobs.has_live_worker(settings),
    }
    if job.kind in ("import", "import_preview"):
        context.update(_import_context(request, db, viewer, job))
    return render(request, "jobs/detail.html", context)


@router.get("/jobs/{job_id}/status")
def job_status(request: Request, viewer: CurrentViewer, db: DbUrl, job_id: int) -> Response:
    """The small JSON the job page polls: state, done/total, percent, note."""
    with session_scope(db) as session:
        job = jobs.get_visible(session, user=viewer, job_id=job_id)
    return JSONResponse(jobs.status(app_settings(request), job).as_json())


@router.post("/jobs/{job_id}/cancel")
def job_cancel(request: Request, viewer: CurrentViewer, db: DbUrl, job_id: int) -> Response:
    with session_scope(db) as session:
        job = jobs.cancel(session, app_settings(request), user=viewer, job_id=job_id)
    if job.state == "cancelled":
        return redirect(request, urls.job(job_id), "任务已取消", "info")
    return redirect(
        request, urls.job(job_id), "已请求取消, 任务将在当前步骤结束后停止, 已写入的数据会回滚", "info"
    )


@router.get("/jobs/{job_id}/files/{name}")
def job_file(request: Request, viewer: CurrentViewer, db: DbUrl, job_id: int, name: str) -> Response:
    with session_scope(db) as session:
        job = jobs.get_visible(session, user=viewer, job_id=job_id)
    path = jobs.job_file(app_settings(request), job, name)
    return FileResponse(path, filename=name)
