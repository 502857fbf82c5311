"""Request dependencies: settings, the database session, and who is asking (resolved once per request).

A caller authenticates with ``Authorization: Bearer <token>`` (integrations, scripts) or with the signed
browser session cookie (the web pages); cookie-authenticated writes must carry the CSRF header.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.access import Scope
from ..domain.accounts import User
from ..errors import NotAuthenticated, PermissionDenied
from ..request_context import app_settings, client_ip, database_url
from ..services import accounts
from ..services.sessions import CSRF_HEADER, SESSION_COOKIE, check_csrf, decode_session, resume_session
from ..store.db import session_scope

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="API token from POST /api/v1/login or /api/v1/tokens")


SettingsDep = Annotated[Settings, Depends(app_settings)]


DbUrlDep = Annotated[str, Depends(database_url)]


def get_session(url: DbUrlDep) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on any error."""
    with session_scope(url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is not None:
        user, request.state.credential = accounts.authenticate_token(session, credentials.credentials)
        return user
    browser = decode_session(settings.secret_key, request.cookies.get(SESSION_COOKIE))
    if browser is None:
        raise NotAuthenticated()
    if request.method not in SAFE_METHODS and not check_csrf(
        settings.secret_key, browser, request.headers.get(CSRF_HEADER)
    ):
        raise PermissionDenied(f"CSRF 校验失败: 请求头 {CSRF_HEADER} 缺失或无效")
    user = resume_session(session, browser)
    request.state.credential = accounts.Credential(session_key=browser.nonce)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_credential(request: Request, _user: CurrentUser) -> accounts.Credential:
    """The session or token this request authenticated with (to end it, or to keep it)."""
    credential = request.state.credential
    assert isinstance(credential, accounts.Credential)
    return credential


CurrentCredential = Annotated[accounts.Credential, Depends(get_credential)]


def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise PermissionDenied("只有平台或园区管理员可以执行此操作 (admin only)")
    return user


AdminUser = Annotated[User, Depends(get_admin)]


def get_zone(user: CurrentUser) -> Scope:
    """The zone scope every read of this request runs in (``zone_code=None``: platform admin)."""
    return user.scope


ZoneDep = Annotated[Scope, Depends(get_zone)]


ClientIp = Annotated[str, Depends(client_ip)]


def _query_names(dependant: Dependant) -> set[str]:
    """Every query parameter a route declares, through its dependencies and query models."""
    names: set[str] = set()
    for field in dependant.query_params:
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names.update(info.alias or name for name, info in model.model_fields.items())
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def reject_unknown_query(request: Request) -> None:
    """A misspelt filter (``?stge=pilot``) is a 422 naming the allowed parameters, not a silent full list."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _query_names(route.dependant)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in allowed]
    if unknown:
        choices = ", ".join(sorted(allowed)) or "(无)"
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", name),
                    "msg": "unknown query parameter",
                    "input": request.query_params[name],
                    "ctx": {"error": f"不认识的参数 (unknown query parameter), 可选: {choices}"},
                }
                for name in unknown
            ]
        )
