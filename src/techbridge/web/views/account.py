"""The account page: password change and API tokens."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from ...domain.accounts import User
from ...errors import TechBridgeError
from ...request_context import client_ip
from ...services import accounts
from ...store.db import session_scope
from ...store.facets import zone_names
from .. import flash
from ..deps import CurrentViewer, DbUrl
from ..strings_zh import MSG
from ..templating import render
from ..urls import urls
from . import page_router, redirect

router = page_router()


def _account_page(request: Request, viewer: User, db: str, *, new_token: str = "") -> Response:
    with session_scope(db) as session:
        tokens = accounts.list_tokens(session, user=viewer)
        zone = zone_names(session, [viewer.zone_code]).get(viewer.zone_code, "") if viewer.zone_code else ""
    return render(
        request,
        "account.html",
        {"nav_active": "account", "tokens": tokens, "new_token": new_token, "zone_label": zone},
    )


@router.get("/account")
def account(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    return _account_page(request, viewer, db)


@router.post("/account/password")
async def password_change(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    form = await request.form()
    response = redirect(request, urls.account())
    try:
        with session_scope(db) as session:
            accounts.change_password(
                session,
                user=viewer,
                current_password=str(form.get("current_password", "")),
                new_password=str(form.get("new_password", "")),
                ip=client_ip(request),
                keep=accounts.Credential(session_key=request.state.browser_session.nonce),
            )
    except TechBridgeError as exc:
        flash.add(request, response, exc.message, "error")
        return response
    flash.add(request, response, MSG["password_changed"])
    return response


@router.post("/account/tokens")
async def token_create(request: Request, viewer: CurrentViewer, db: DbUrl) -> Response:
    name = str((await request.form()).get("name", "")).strip() or "未命名令牌"
    with session_scope(db) as session:
        issued = accounts.issue_token(session, user=viewer, name=name[:100])
    return _account_page(request, viewer, db, new_token=issued.token)


@router.post("/account/tokens/{token_id}/revoke")
def token_revoke(request: Request, viewer: CurrentViewer, db: DbUrl, token_id: int) -> Response:
    with session_scope(db) as session:
        accounts.revoke_token(session, user=viewer, token_id=token_id)
    response = redirect(request, urls.account())
    flash.add(request, response, MSG["token_revoked"])
    return response
