"""Export buttons of every record list: the list as filtered, as CSV or XLSX.

A small result downloads at once; one over ``export_inline_rows`` becomes a background job whose page
shows progress and then the download.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from ...errors import TechBridgeError
from ...request_context import app_settings
from ...services import tasks, transfer
from ...store.db import session_scope
from ...store.tables import utcnow
from ..deps import CurrentViewer, DbUrl
from ..kinds import VIEWS
from ..urls import urls
from . import MEDIA_TYPES, page_router, redirect, send_and_remove, temp_folder

router = page_router()


def _export_route(kind: str) -> None:
    view = VIEWS[kind]

    @router.post(urls.kind_export(kind), name=f"export_{kind}")
    async def export(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
        form = await request.form()
        fmt = str(form.get("fmt", "xlsx"))
        if fmt not in MEDIA_TYPES:
            raise TechBridgeError("请选择导出格式 (CSV 或 Excel)")
        wanted = tasks.ExportRequest(
            kind=kind,
            fmt=fmt,
            q=str(form.get("q", "")).strip(),
            filters=tuple((f.name, str(form.get(f.name, ""))) for f in view.filters if form.get(f.name)),
            archived=form.get("archived") == "1",
        )
        settings = app_settings(request)
        with session_scope(db) as session:
            rows = tasks.export_size(session, user=viewer, request=wanted)
            job = None
            if rows > settings.export_inline_rows:
                job = tasks.submit_export(session, user=viewer, request=wanted, rows=rows)
        if job is not None:
            message = f"共 {rows} 条, 已转为后台导出, 完成后可在本页下载"
            return redirect(request, urls.job(job.id), message, "info")
        path = temp_folder() / wanted.file_name(utcnow().astimezone(settings.tz))
        transfer.export_visible(db, kind, path, user=viewer, fmt=fmt, query=wanted.query)
        return send_and_remove(path, fmt=fmt)


for _kind in VIEWS:
    _export_route(_kind)
