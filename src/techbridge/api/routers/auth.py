"""Login, the current user, and the user's own API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from ...services import accounts
from ..deps import ClientIp, CurrentCredential, CurrentUser, SessionDep
from ..schemas import MAX_ID, LoginRequest, PasswordChange, TokenCreate, TokenIssued, TokenPublic, UserPublic

router = APIRouter(tags=["auth"])


def user_public(user: Any) -> UserPublic:
    return UserPublic(**user.model_dump(), role_label=user.role_label)


def _issued(issued: accounts.IssuedToken) -> TokenIssued:
    return TokenIssued(access_token=issued.token, token=TokenPublic(**vars(issued.info)))


@router.post("/login", response_model=TokenIssued, summary="Log in with a password, get a bearer token")
def login(session: SessionDep, ip: ClientIp, body: LoginRequest) -> Any:
    user = accounts.authenticate(session, username=body.username, password=body.password, ip=ip)
    issued = accounts.issue_token(session, user=user, name="login", lifetime=accounts.LOGIN_TOKEN_LIFETIME)
    session.commit()  # before the response leaves this thread (api/routers/records.py)
    return _issued(issued)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this token or browser session")
def logout(session: SessionDep, user: CurrentUser, credential: CurrentCredential) -> None:
    accounts.logout(session, user=user, credential=credential)
    session.commit()


@router.get("/me", response_model=UserPublic, summary="Who am I")
def me(user: CurrentUser) -> Any:
    return user_public(user)


@router.put("/me/password", status_code=status.HTTP_204_NO_CONTENT, summary="Change my password")
def change_password(
    session: SessionDep, user: CurrentUser, credential: CurrentCredential, ip: ClientIp, body: PasswordChange
) -> None:
    """Ends every other session and API token of the account; the calling token stays valid."""
    accounts.change_password(
        session,
        user=user,
        current_password=body.current_password,
        new_password=body.new_password,
        ip=ip,
        keep=credential,
    )
    session.commit()


@router.get("/tokens", response_model=list[TokenPublic], summary="My API tokens")
def list_tokens(session: SessionDep, user: CurrentUser) -> Any:
    return [TokenPublic(**vars(info)) for info in accounts.list_tokens(session, user=user)]


@router.post(
    "/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED, summary="New API token"
)
def create_token(session: SessionDep, user: CurrentUser, body: TokenCreate) -> Any:
    lifetime = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    issued = accounts.issue_token(session, user=user, name=body.name, lifetime=lifetime)
    session.commit()
    return _issued(issued)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API token")
def revoke_token(
    session: SessionDep, user: CurrentUser, token_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> None:
    accounts.revoke_token(session, user=user, token_id=token_id)
    session.commit()
