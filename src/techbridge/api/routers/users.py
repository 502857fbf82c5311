"""Account administration: platform admins manage everyone, zone admins their zone's users."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from ...services import accounts
from ..deps import AdminUser, SessionDep
from ..schemas import MAX_ID, UserCreate, UserPublic, UserUpdate
from .auth import user_public

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=list[UserPublic], summary="Users I may manage")
def list_users(session: SessionDep, admin: AdminUser) -> Any:
    return [user_public(u) for u in accounts.list_users(session, admin=admin)]


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED, summary="Create a user")
def create_user(session: SessionDep, admin: AdminUser, body: UserCreate) -> Any:
    zone_code = body.zone_code or admin.zone_code
    accounts.check_can_manage(admin, role=body.role, zone_code=zone_code)
    user = accounts.create_user(
        session,
        username=body.username,
        password=body.password,
        role=body.role,
        zone_code=zone_code,
        organization=body.organization,
        display_name=body.display_name,
    )
    session.commit()  # before the response leaves this thread (api/routers/records.py)
    return user_public(user)


@router.patch("/{user_id}", response_model=UserPublic, summary="Enable or disable a user")
def update_user(
    session: SessionDep, admin: AdminUser, user_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: UserUpdate
) -> Any:
    changed = accounts.set_active(session, admin=admin, user_id=user_id, is_active=body.is_active)
    session.commit()
    return user_public(changed)
