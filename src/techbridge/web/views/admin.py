"""User administration for zone and platform admins: list, create, (de)activate accounts."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from ...domain.accounts import Role, User
from ...errors import TechBridgeError
from ...services import accounts
from ...store.db import session_scope
from ...store.facets import zone_names
from .. import flash
from ..deps import AdminViewer, DbUrl
from ..strings_zh import MSG, ROLE_LABELS
from ..templating import render
from ..urls import urls
from . import page_router, redirect

router = page_router()


def _admin_page(
    request: Request, viewer: User, db: str, *, error: str = "", values: dict[str, str] | None = None
) -> Response:
    with session_scope(db) as session:
        users = accounts.list_users(session, admin=viewer)
        names = zone_names(session, {u.zone_code for u in users if u.zone_code})
    roles = [
        (r.value, ROLE_LABELS[r.value])
        for r in Role
        if viewer.role == Role.PLATFORM_ADMIN or r not in (Role.PLATFORM_ADMIN, Role.ZONE_ADMIN)
    ]
    return render(
        request,
        "admin_users.html",
        {
            "nav_active": "admin",
            "users": users,
            "roles": roles,
            "error": error,
            "values": values or {},
            "zone_names": names,
        },
        status_code=422 if error else 200,
    )


@router.get("/admin/users")
def admin_users(request: Request, viewer: AdminViewer, db: DbUrl) -> Response:
    return _admin_page(request, viewer, db)


@router.post("/admin/users")
async def admin_user_create(request: Request, viewer: AdminViewer, db: DbUrl) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip()
        for k in ("username", "display_name", "role", "zone_code", "organization")
    }
    zone = values["zone_code"] if viewer.role == Role.PLATFORM_ADMIN else viewer.zone_code
    try:
        role = Role(values["role"])
        with session_scope(db) as session:
            accounts.check_can_manage(viewer, role=role, zone_code=zone or None)
            accounts.create_user(
                session,
                username=values["username"],
                password=str(form.get("password", "")),
                role=role,
                zone_code=zone or None,
                organization=values["organization"] or None,
                display_name=values["display_name"],
            )
    except ValueError:
        return _admin_page(request, viewer, db, error="请选择角色", values=values)
    except TechBridgeError as exc:
        return _admin_page(request, viewer, db, error=exc.message, values=values)
    response = redirect(request, urls.admin_users())
    flash.add(request, response, f"{MSG['user_created']}: {values['username']}")
    return response


@router.post("/admin/users/{user_id}/active")
async def admin_user_active(request: Request, viewer: AdminViewer, db: DbUrl, user_id: int) -> Response:
    is_active = (await request.form()).get("is_active") == "true"
    with session_scope(db) as session:
        accounts.set_active(session, admin=viewer, user_id=user_id, is_active=is_active)
    response = redirect(request, urls.admin_users())
    flash.add(request, response, "已启用账户" if is_active else "已停用账户")
    return response
