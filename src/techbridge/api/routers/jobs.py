"""Background jobs an API client started (run-matching answered 202): their state, progress and result.

The same jobs as the web's 任务中心 (``services.jobs``): your own, and an administrator's zone's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from ...config import Settings
from ...services import jobs
from ...store.jobs import Job
from ..deps import CurrentUser, SessionDep, SettingsDep
from ..schemas import MAX_ID, JobPublic

router = APIRouter(prefix="/jobs", tags=["jobs"])


def job_public(settings: Settings, job: Job) -> JobPublic:
    return JobPublic(**jobs.status(settings, job).as_json(), title=job.title, result=job.result)


@router.get("/{job_id}", response_model=JobPublic, summary="One job's state and progress", name="api_job")
def get_job(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    job_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Any:
    return job_public(settings, jobs.get_visible(session, user=user, job_id=job_id))
