"""Export buttons of every record list: the list as filtered, as CSV or XLSX.

A small result downloads at once; one over ``export_inline_rows`` becomes a background job whose page
shows progress and then the download.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.responses import RedirectResponse, Response

from ...errors import TechBridgeError
from ...services import tasks, transfer
from ...store.db import session_scope
from ...store.tables import utcnow
from .. import flash
from ..deps import CurrentViewer, DbUrl, get_web_settings
from ..kinds import VIEWS
from ..page_extras import LOCAL_TZ
from ..urls import urls
from . import page_router
from .imports import TEMPLATE_FORMATS

router = page_router()


def _export_route(kind: str) -> None:
    view = VIEWS[kind]

    @router.post(urls.kind_export(kind), name=f"export_{kind}")
    async def export(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
        form = await request.form()
        fmt = str(form.get("fmt", "xlsx"))
        if fmt not in TEMPLATE_FORMATS:
            raise TechBridgeError("请选择导出格式 (CSV 或 Excel)")
        wanted = tasks.ExportRequest(
            kind=kind,
            fmt=fmt,
            q=str(form.get("q", "")).strip(),
            filters=tuple((f.name, str(form.get(f.name, ""))) for f in view.filters if form.get(f.name)),
            archived=form.get("archived") == "1",
        )
        settings = get_web_settings(request)
        with session_scope(db) as session:
            rows = tasks.export_size(session, user=viewer, request=wanted)
            if rows > settings.export_inline_rows:
                job = tasks.submit_export(session, user=viewer, request=wanted, rows=rows)
        if rows > settings.export_inline_rows:
            response = RedirectResponse(urls.job(job.id), status_code=303)
            flash.add(request, response, f"共 {rows} 条, 已转为后台导出, 完成后可在本页下载", "info")
            return response
        folder = Path(tempfile.mkdtemp(prefix="techbridge-export-"))
        path = folder / wanted.file_name(utcnow().astimezone(LOCAL_TZ))
        transfer.export_visible(db, kind, path, user=viewer, fmt=fmt, query=wanted.query)
        return FileResponse(
            path,
            media_type=TEMPLATE_FORMATS[fmt],
            filename=path.name,
            background=BackgroundTask(_remove, folder),
        )


def _remove(folder: Path) -> None:
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()


for _kind in VIEWS:
    _export_route(_kind)
