"""The REST API under /api/v1 on a FastAPI app: its routes, its errors mapped once, its middleware.

The whole site (API plus web pages) is put together in ``techbridge.app``; this module knows nothing of
the web pages.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from .. import __version__
from ..config import Settings, get_settings, resolve_secret
from ..domain.validation import describe_errors, printable
from ..errors import ImportFailed, NotAuthenticated, TechBridgeError
from ..store.db import DatabaseBusy, is_busy
from .routers import api_router
from .security import SecurityHeadersMiddleware
from .uploads import UploadLimit

API_PREFIX = "/api/v1"


def _operation_id(route: APIRoute) -> str:
    # Stable ids ("demands-list_records") so generated clients keep their method names.
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _error(
    status: int, detail: str, errors: list[dict[str, Any]] | None = None, **headers: str
) -> JSONResponse:
    return JSONResponse(
        {"detail": detail, "errors": errors or []}, status_code=status, headers=headers or None
    )


def _field_errors(raw: list[Any], exc: Any, *, skip_location: bool) -> list[dict[str, Any]]:
    described = describe_errors(exc)
    out = []
    for err, text in zip(raw, described, strict=True):
        loc = [printable(str(part)) for part in err.get("loc", ())]
        field = ".".join(loc[1:] if skip_location and len(loc) > 1 else loc) or text.field
        out.append({"field": field, "reason": text.reason, "value": text.value})
    return out


def _summary(errors: list[dict[str, Any]]) -> str:
    shown = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
    return f"请求数据有误 (invalid request): {shown}"


async def _techbridge_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TechBridgeError)
    headers: dict[str, str] = {}
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = getattr(exc, "retry_after_seconds", None)  # rate limit, busy database
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    errors = [asdict(e) for e in exc.errors] if isinstance(exc, ImportFailed) else []
    return _error(exc.status, exc.message, errors, **headers)


async def _request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(list(exc.errors()), exc, skip_location=True)
    return _error(422, _summary(errors), errors)


async def _record_invalid(_request: Request, exc: Exception) -> JSONResponse:
    # A merged update or a record completed with the user's defaults failed domain validation.
    assert isinstance(exc, ValidationError)
    errors = _field_errors(exc.errors(), exc, skip_location=False)
    return _error(422, _summary(errors), errors)


# Starlette's own answers (no such route, wrong method …) in Chinese, like every other error.
HTTP_MESSAGES = {
    400: "请求有误 (bad request)",
    401: "请先登录 (login required)",
    403: "没有权限 (forbidden)",
    404: "接口或资源不存在, 请检查地址 (not found)",
    405: "该接口不支持此请求方法 (method not allowed)",
    406: "无法提供所请求的格式 (not acceptable)",
    413: "上传内容过大 (payload too large)",
    415: "不支持的内容类型 (unsupported media type)",
    429: "请求过于频繁, 请稍后再试 (too many requests)",
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) and not exc.detail.isascii() else ""
    message = detail or HTTP_MESSAGES.get(exc.status_code, f"请求失败 (HTTP {exc.status_code})")
    return _error(exc.status_code, message, **(exc.headers or {}))


async def _data_error(_request: Request, _exc: Exception) -> JSONResponse:
    return _error(422, "数据超出数据库允许的范围或格式 (value out of range or malformed)")


async def _operational_error(request: Request, exc: Exception) -> JSONResponse:
    # A lock wait or a conflict that escaped a unit of work: the client may retry; anything else is a bug.
    if not is_busy(exc):
        raise exc
    return await _techbridge_error(request, DatabaseBusy())


async def _integrity_error(_request: Request, _exc: Exception) -> JSONResponse:
    return _error(409, "数据与已有记录冲突 (conflicts with an existing record)")


def create_api(settings: Settings | None = None) -> FastAPI:
    """The API app for ``settings`` (default: from the environment). The schema must be migrated.

    Other routes (the web pages) may be added to the app it returns: its middleware wraps them too.

    Raises ``ValueError`` when no usable secret can be had (production without TECHBRIDGE_SECRET_KEY).
    """
    app = FastAPI(
        title="TechBridge 科技成果转化撮合平台 API",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings = resolve_secret(settings or get_settings())
    app.add_middleware(UploadLimit, max_bytes=settings.upload_max_mb << 20)
    app.include_router(api_router, prefix=API_PREFIX)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(TechBridgeError, _techbridge_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(ValidationError, _record_invalid)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(PoolTimeout, _operational_error)
    docs = frozenset(p for p in (app.docs_url, app.swagger_ui_oauth2_redirect_url) if p)
    app.add_middleware(SecurityHeadersMiddleware, docs_paths=docs)
    # Added last, so it runs first: the scheme it sets decides the HSTS header and Secure cookies.
    if app.state.settings.trusted_proxies:
        # Only a configured proxy may say who the client is (and whether it came over HTTPS): the login
        # limits count by address, and a header anyone can send would reset them.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=app.state.settings.trusted_proxies)
    return app
