"""Every API router, collected under one router the app mounts at /api/v1."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..deps import reject_unknown_query
from ..schemas import ErrorResponse
from . import analytics, auth, deals, jobs, records, transfer, users

_ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}

api_router = APIRouter(responses=_ERRORS, dependencies=[Depends(reject_unknown_query)])  # type: ignore[arg-type]
api_router.include_router(auth.router)
api_router.include_router(users.router)
for router in records.ROUTERS:
    api_router.include_router(router)
api_router.include_router(transfer.router)
api_router.include_router(deals.router)
api_router.include_router(analytics.router)
api_router.include_router(jobs.router)
