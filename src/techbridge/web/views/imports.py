"""数据导入: upload, map columns, validate in the background, confirm, import in the background.

The request only stores the upload and reads its header row; validation and writing are jobs (their
page shows progress), and both go through ``services.transfer.import_upload``, which keeps zone staff to
their own zone. Templates per kind are downloadable here too.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from ...domain.accounts import User
from ...errors import TechBridgeError
from ...ingest.export import write_template
from ...request_context import app_settings
from ...services import jobs, tasks, uploads
from ...store.db import session_scope
from ..deps import AdminViewer, DbUrl
from ..strings_zh import FIELDS, KIND_NOUNS, MSG
from ..templating import render
from ..urls import urls
from . import MEDIA_TYPES, page_router, redirect, send_and_remove, temp_folder

router = page_router()

TEMPLATE_FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


def _zone(viewer: User, form: FormData | None, query_zone: str = "") -> str:
    """Zone staff import into their zone; the platform admin picks one (select or zone picker)."""
    if viewer.zone_code:
        return viewer.zone_code
    chosen = str(form.get("zone_code", "")).strip() if form is not None else query_zone
    if not chosen:
        raise TechBridgeError("请选择导入到哪个园区")
    return chosen


def _page(request: Request, db: str, viewer: User, *, status_code: int = 200, **context: Any) -> Response:
    with session_scope(db) as session:
        recent = jobs.list_visible(session, user=viewer, limit=8, kinds=["import_preview", "import"])
    base = {
        "nav_active": "import",
        "kinds": [(k, KIND_NOUNS[k]) for k in uploads.IMPORT_KINDS],
        "kind": "",
        "message": "",
        "recent": recent,
        "state_labels": jobs.STATE_LABELS,
        "field_labels": FIELDS,
        "headers": [],
        "zone_code": request.query_params.get("zone", ""),
    }
    return render(request, "import.html", {**base, **context}, status_code=status_code)


@router.get("/import")
def import_form(request: Request, viewer: AdminViewer, db: DbUrl) -> Response:
    return _page(request, db, viewer)


def _mapping_page(request: Request, db: str, viewer: User, plan: uploads.UploadPlan, zone: str) -> Response:
    """The file's required columns are not all recognised: ask which column is which."""
    missing = "、".join(plan.missing_labels)
    return _page(
        request,
        db,
        viewer,
        status_code=422,
        kind=plan.kind,
        import_kind=plan.kind,
        message=f"{plan.upload.name}: 未识别出必填列 {missing}, 请在下方指定每一列对应的字段",
        headers=plan.headers,
        mapping=plan.plan.mapping,
        field_choices=uploads.field_choices(plan.kind),
        token=plan.upload.token,
        zone_code=zone,
        file_name=plan.upload.name,
    )


def _start_preview(
    request: Request,
    db: str,
    viewer: User,
    plan: uploads.UploadPlan,
    zone: str,
    chosen: dict[str, str] | None,
) -> Response:
    if plan.plan.missing:
        return _mapping_page(request, db, viewer, plan, zone)
    with session_scope(db) as session:
        job = tasks.submit_import_preview(
            session, app_settings(request), user=viewer, plan=plan, zone_code=zone, chosen=chosen
        )
    return redirect(request, urls.job(job.id))


@router.post("/import")
async def import_upload(request: Request, viewer: AdminViewer, db: DbUrl) -> Response:
    """Store the file and read its header; the validation itself runs as a job."""
    form = await request.form()
    kind, upload = str(form.get("kind", "")), form.get("file")
    if kind not in uploads.IMPORT_KINDS or not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, db, viewer, status_code=422, message=MSG["import_no_file"], kind=kind)
    settings = app_settings(request)
    try:
        zone = _zone(viewer, form)
        stored = uploads.save_upload(settings, filename=upload.filename, stream=upload.file)
    except TechBridgeError as exc:
        return _page(request, db, viewer, status_code=exc.status, message=exc.message, kind=kind)
    try:
        with session_scope(db) as session:
            plan = uploads.plan_upload(session, stored, kind=kind, zone_code=zone)
    except TechBridgeError as exc:  # an unreadable file: say so here, keep nothing
        uploads.remove_upload(settings, stored.token)
        return _page(request, db, viewer, status_code=exc.status, message=exc.message, kind=kind)
    return _start_preview(request, db, viewer, plan, zone, None)


@router.post("/import/mapping")
async def import_mapping(request: Request, viewer: AdminViewer, db: DbUrl) -> Response:
    """Validate the same upload again with the columns mapped as the user chose."""
    form = await request.form()
    kind = str(form.get("kind", ""))
    zone = _zone(viewer, form)
    chosen: dict[str, str] = {}
    for key, header in form.multi_items():
        if key.startswith("h") and key[1:].isdigit() and isinstance(header, str):
            chosen[header] = str(form.get(f"f{key[1:]}", ""))
    stored = uploads.find_upload(app_settings(request), str(form.get("token", "")))
    with session_scope(db) as session:
        plan = uploads.plan_upload(session, stored, kind=kind, zone_code=zone, explicit=chosen)
    return _start_preview(request, db, viewer, plan, zone, chosen)


@router.post("/import/{preview_id}/confirm")
async def import_confirm(request: Request, viewer: AdminViewer, db: DbUrl, preview_id: int) -> Response:
    form = await request.form()
    with session_scope(db) as session:
        job = tasks.confirm_import(
            session,
            app_settings(request),
            user=viewer,
            preview_id=preview_id,
            skip_invalid=form.get("skip_invalid") == "true",
        )
    return redirect(request, urls.job(job.id), "已开始导入, 可在本页查看进度", "info")


@router.get("/import/templates/{kind}.{fmt}")
def import_template(request: Request, viewer: AdminViewer, kind: str, fmt: str) -> Response:
    """An empty file with the headers the importer reads (XLSX with a sheet explaining each column)."""
    if kind not in uploads.IMPORT_KINDS or fmt not in MEDIA_TYPES:
        raise TechBridgeError("没有这种导入模板")
    path = temp_folder() / f"{KIND_NOUNS[kind]}导入模板.{fmt}"
    write_template(kind, path, fmt=fmt)
    return send_and_remove(path, fmt=fmt)
