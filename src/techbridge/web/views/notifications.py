"""站内信: the inbox with its unread count, opening a message, and the e-mail preference."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from ...errors import TechBridgeError
from ...request_context import app_settings
from ...services import notifications
from ...store.db import session_scope
from ..deps import CurrentViewer, DbUrl
from ..paging import make_pager
from ..templating import render
from ..urls import urls
from . import page_router, redirect

router = page_router()
PER_PAGE = 30


@router.get("/notifications")
def inbox(
    request: Request, viewer: CurrentViewer, db: DbUrl, page: int = 1, unread: bool = False
) -> Response:
    page = max(page, 1)
    with session_scope(db) as session:
        total = notifications.count(session, user=viewer, unread_only=unread)
        items = notifications.inbox(
            session, user=viewer, unread_only=unread, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
        )
        prefs = notifications.email_prefs(session, user=viewer)
    pager = make_pager(
        page=page, per_page=PER_PAGE, total=total, url_for=lambda n: f"{urls.notifications()}?page={n}"
    )
    return render(
        request,
        "notifications.html",
        {
            "nav_active": "notifications",
            "items": items,
            "pager": pager,
            "unread_only": unread,
            "prefs": prefs,
            "kind_labels": notifications.KIND_LABELS,
            "smtp_configured": bool(app_settings(request).smtp_host),
        },
    )


@router.post("/notifications/{notification_id}/open")
def open_notification(request: Request, viewer: CurrentViewer, db: DbUrl, notification_id: int) -> Response:
    """Mark it read and go where it points (only ever a path on this site)."""
    with session_scope(db) as session:
        item = notifications.mark_read(session, user=viewer, notification_id=notification_id)
    link = item.link if item is not None else ""
    if not link.startswith("/") or link.startswith("//") or "\\" in link:
        link = ""  # only a path on this site, never another site
    return redirect(request, link or urls.notifications())


@router.post("/notifications/read-all")
def read_all(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    with session_scope(db) as session:
        notifications.mark_read(session, user=viewer)
    return redirect(request, urls.notifications(), "已全部标为已读")


@router.post("/notifications/prefs")
async def save_prefs(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    form = await request.form()
    try:
        with session_scope(db) as session:
            notifications.save_email_prefs(
                session,
                user=viewer,
                email=str(form.get("email", "")),
                email_enabled=form.get("email_enabled") == "true",
            )
    except TechBridgeError as exc:
        return redirect(request, urls.notifications(), exc.message, "error")
    return redirect(request, urls.notifications(), "通知设置已保存")
