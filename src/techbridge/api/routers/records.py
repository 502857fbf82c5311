"""One router per record kind, all made by the same factory: list/search, detail, create, update,
archive, stored matches, run matching. Routes only translate HTTP to ``services.records`` calls.

No ``from __future__ import annotations`` here: the route signatures use models built at runtime,
which FastAPI must be able to resolve from the closure.

Routes that write commit before they return. The request's unit of work would otherwise commit only
after the response is validated, which FastAPI does on another worker thread of the same 40-thread pool:
under load every thread could be taken by requests waiting for SQLite's write lock (or PostgreSQL's row
locks) while the holder waited for a thread to finish its response, and all of them then stood still
until the busy timeout (20 s) turned the waiters into 503s (load test at 100 clients, docs/reliability.md).
"""

import asyncio
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ...config import Settings
from ...services import records as service
from ...store.jobs import Job
from ...store.records import RecordQuery, StoredRecord
from ..deps import CurrentUser, SessionDep, SettingsDep
from ..schemas import (
    MAX_ID,
    SCHEMAS,
    KindName,
    KindSchemas,
    MatchesPublic,
    MatchingQueued,
    MatchPublic,
    RecordMeta,
)
from .jobs import job_public

RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="Record id")]
_PAGING = ("q", "sort", "page", "per_page", "include_archived")
MATCHING_AT_ONCE = 2
"""Run-matching requests one server process works on at once; the others wait their turn on the event
loop, first come first served, holding no worker thread and no database connection. The index lets one
request rank at a time anyway; when each waited on a worker thread, 100 clients kept 20 and more of the
40 threads waiting for it, and reads queued behind them (load test, docs/reliability.md)."""
_MATCHING_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
_QUEUED = "匹配请求较多, 已转入后台任务, 完成后结果将更新 (matching queued as a background job)"
_QUEUED_DOC = (
    "Matching could not start within a few seconds (other requests ranking, batch matching running): it "
    "was queued as a background job instead. `Location` and `job_url` give the job to poll; the stored "
    "matches are recomputed once it has succeeded."
)


@asynccontextmanager
async def _matching_turn(wait: float) -> AsyncIterator[bool]:
    """A run-matching slot of this process (one set per event loop: test clients run several loops);
    False when none came free within ``wait`` seconds."""
    slots = _MATCHING_SLOTS.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(MATCHING_AT_ONCE))
    try:
        async with asyncio.timeout(wait):
            await slots.acquire()
    except TimeoutError:
        admitted = False
    else:
        admitted = True
    try:
        yield admitted
    finally:
        if admitted:
            slots.release()


def _accepted(request: Request, settings: Settings, job: Job, matches_url: str) -> JSONResponse:
    """202 for run-matching queued as a job: the job to poll (``Location``) and where results appear."""
    job_url = request.app.url_path_for("api_job", job_id=str(job.id))
    body = MatchingQueued(
        detail=_QUEUED, job=job_public(settings, job), job_url=job_url, matches_url=matches_url
    )
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": job_url, "Retry-After": "5"},
    )


def _public(schemas: KindSchemas, stored: StoredRecord) -> BaseModel:
    meta = RecordMeta(
        id=stored.id,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        archived_at=stored.archived_at,
    )
    return schemas.public.model_validate({**stored.record.model_dump(), **meta.model_dump()})


def _record_query(params: BaseModel) -> RecordQuery:
    values = params.model_dump()
    return RecordQuery(
        q=values["q"],
        sort=values["sort"],
        page=values["page"],
        per_page=values["per_page"],
        include_archived=values["include_archived"],
        filters={k: v for k, v in values.items() if k not in _PAGING and v is not None},
    )


def record_router(schemas: KindSchemas) -> APIRouter:
    kind = schemas.kind
    router = APIRouter(prefix=f"/{schemas.path}", tags=[schemas.path])
    Create, Update, Public, PageModel, ListQuery = (  # noqa: N806 - these are classes
        schemas.create,
        schemas.update,
        schemas.public,
        schemas.page,
        schemas.list_query,
    )

    @router.get("", response_model=PageModel, summary="List, filter and search")
    def list_records(session: SessionDep, user: CurrentUser, params: Annotated[ListQuery, Query()]) -> Any:
        page = service.list_visible(session, kind, user=user, query=_record_query(params))
        data = [_public(schemas, item) for item in page.items]
        return PageModel(data=data, count=page.total, page=page.page, per_page=page.per_page)

    @router.post("", response_model=Public, status_code=status.HTTP_201_CREATED, summary="Create")
    def create_record(session: SessionDep, user: CurrentUser, body: Create) -> Any:
        created = service.create(session, kind, body.model_dump(exclude_unset=True), user=user)
        session.commit()  # before the response leaves this thread (module docstring)
        return _public(schemas, created)

    @router.get("/{record_id}", response_model=Public, summary="Detail")
    def get_record(session: SessionDep, user: CurrentUser, record_id: RecordId) -> Any:
        return _public(schemas, service.get_visible(session, kind, record_id, user=user))

    @router.patch("/{record_id}", response_model=Public, summary="Update (partial)")
    def update_record(session: SessionDep, user: CurrentUser, record_id: RecordId, body: Update) -> Any:
        changes = body.model_dump(exclude_unset=True)
        updated = service.update(session, kind, record_id, changes, user=user)
        session.commit()
        return _public(schemas, updated)

    @router.delete("/{record_id}", response_model=Public, summary="Archive (kept, hidden from lists)")
    def archive_record(session: SessionDep, user: CurrentUser, record_id: RecordId) -> Any:
        archived = service.archive(session, kind, record_id, user=user)
        session.commit()
        return _public(schemas, archived)

    @router.get("/{record_id}/matches", response_model=MatchesPublic, summary="Stored matches")
    def list_matches(
        session: SessionDep,
        user: CurrentUser,
        record_id: RecordId,
        target_kind: KindName | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> Any:
        found = service.matches_for(session, kind, record_id, user=user, target_kind=target_kind, limit=limit)
        data = [MatchPublic(**vars(m), is_cross_zone=m.is_cross_zone) for m in found]
        return MatchesPublic(source_kind=kind, source_id=record_id, data=data, count=len(data))  # type: ignore[arg-type]

    def match_now(
        session: SessionDep, user: CurrentUser, settings: SettingsDep, record_id: int, wait: float
    ) -> MatchesPublic | Job:
        """Matches recomputed now, or the job they were queued as when the index stayed busy."""
        queued = service.run_matching(session, kind, record_id, user=user, settings=settings, wait=wait)
        session.commit()
        if queued is not None:
            return queued
        found = service.matches_for(session, kind, record_id, user=user, target_kind=None, limit=20)
        data = [MatchPublic(**vars(m), is_cross_zone=m.is_cross_zone) for m in found]
        return MatchesPublic(source_kind=kind, source_id=record_id, data=data, count=len(data))  # type: ignore[arg-type]

    def queue_now(session: SessionDep, user: CurrentUser, record_id: int) -> Job:
        job = service.queue_matching(session, kind, record_id, user=user)
        session.commit()
        return job

    @router.post(
        "/{record_id}/match",
        response_model=MatchesPublic,
        summary="Run matching now, or queue it when busy (202)",
        responses={
            status.HTTP_202_ACCEPTED: {
                "model": MatchingQueued,
                "description": _QUEUED_DOC,
                "headers": {
                    "Location": {"description": "The job to poll", "schema": {"type": "string"}},
                    "Retry-After": {
                        "description": "Seconds until polling is worthwhile",
                        "schema": {"type": "integer"},
                    },
                },
            }
        },
    )
    async def run_matching(
        request: Request, session: SessionDep, user: CurrentUser, settings: SettingsDep, record_id: RecordId
    ) -> Any:
        """Recompute the record's matches and return them (200). Matching that cannot start within a
        few seconds is queued for the worker and answered 202 with the job; never a 503 for being busy."""
        # The connection authentication took goes back to the pool while this request waits its turn.
        await run_in_threadpool(session.commit)
        deadline = time.monotonic() + service.RUN_NOW_WAIT_S
        async with _matching_turn(service.RUN_NOW_WAIT_S) as admitted:
            if admitted:
                left = max(0.0, deadline - time.monotonic())
                done = await run_in_threadpool(match_now, session, user, settings, record_id, left)
            else:
                done = await run_in_threadpool(queue_now, session, user, record_id)
        if isinstance(done, Job):
            return _accepted(request, settings, done, request.url.path.removesuffix("/match") + "/matches")
        return done

    return router


ROUTERS = [record_router(schemas) for schemas in SCHEMAS.values()]
