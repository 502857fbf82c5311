"""The FastAPI application factory: REST API under /api/v1, errors mapped once, web pages mounted."""

from __future__ import annotations

import importlib
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError

from .. import __version__
from ..config import Settings, get_settings
from ..domain.validation import describe_errors, printable
from ..errors import ImportFailed, NotAuthenticated, TechBridgeError, TooManyLoginAttempts
from .routers import api_router
from .uploads import UploadLimit

API_PREFIX = "/api/v1"
WEB_MODULE = "techbridge.web.routes"


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
    if isinstance(exc, TooManyLoginAttempts):
        headers["Retry-After"] = str(exc.retry_after_seconds)
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


async def _data_error(_request: Request, _exc: Exception) -> JSONResponse:
    return _error(422, "数据超出数据库允许的范围或格式 (value out of range or malformed)")


async def _integrity_error(_request: Request, _exc: Exception) -> JSONResponse:
    return _error(409, "数据与已有记录冲突 (conflicts with an existing record)")


def _mount_web(app: FastAPI) -> None:
    """The web pages are optional: mount them when the web package provides ``routes.mount(app)``."""
    try:
        routes = importlib.import_module(WEB_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != WEB_MODULE:
            raise
        return
    routes.mount(app)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment). The schema must be migrated."""
    app = FastAPI(
        title="TechBridge 科技成果转化撮合平台 API",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings = settings or get_settings()
    app.add_middleware(UploadLimit, max_bytes=settings.upload_max_mb << 20)
    app.include_router(api_router, prefix=API_PREFIX)
    app.add_exception_handler(TechBridgeError, _techbridge_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(ValidationError, _record_invalid)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    _mount_web(app)
    return app
