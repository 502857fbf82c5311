"""Restore an archived record (the list's 已归档 view finds it; its detail page has the button)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from ...services import records
from ...store.db import session_scope
from ..deps import CurrentViewer, DbUrl
from ..kinds import VIEWS
from ..urls import urls
from . import page_router, redirect

router = page_router()


def _restore_route(kind: str) -> None:
    @router.post(urls.record_restore(kind, 0).replace("/0/", "/{record_id}/"), name=f"restore_{kind}")
    def restore(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
        with session_scope(db) as session:
            records.restore(session, kind, record_id, user=viewer)
        return redirect(request, urls.record(kind, record_id), "已恢复, 记录重新出现在列表和匹配中")


for _kind in VIEWS:
    _restore_route(_kind)
