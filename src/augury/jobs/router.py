"""HTTP routes of background jobs and their consumptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from augury.api.deps import Admin, Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import Page, PageDep, make_page
from augury.errors import ValidationFailed
from augury.jobs import schemas
from augury.jobs import service as jobs_service
from augury.jobs import types as job_types
from augury.jobs.deps import JobDep
from augury.jobs.models import JobStatus
from augury.schemas import UtcDatetime

router = APIRouter(tags=["jobs"])


@router.get("/job-types", response_model=list[schemas.JobTypeRead])
def list_job_types(_principal: Reader):
    """Job types this server can run, with the JSON schema of their params."""
    return job_types.registry.describe()


@router.post("/jobs", status_code=status.HTTP_201_CREATED, response_model=schemas.JobRead)
def create_job(
    body: schemas.JobCreate, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """Queue a background job.

    429 `QUOTA_EXCEEDED` (with `Retry-After`) when the organization already has
    `AUGURY_QUOTAS__ACTIVE_JOBS` jobs waiting or running; 422 when a `demo.work` job is
    larger than `AUGURY_QUOTAS__JOB_MEMORY_MB` or `AUGURY_QUOTAS__JOB_SECONDS` allow."""
    return jobs_service.create(
        session=session,
        org_id=principal.org_id,
        type=body.type,
        params=body.params,
        user_id=principal.user_id,
        quotas=settings.quotas,
    )


@router.get("/jobs", response_model=Page[schemas.JobRead])
def list_jobs(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[
        str | None, Query(alias="status", description="Comma-separated statuses.")
    ] = None,
    type: Annotated[str | None, Query(description="Job type; 'demo.*' for a family.")] = None,
    user_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    created_after: UtcDatetime | None = None,
    created_before: UtcDatetime | None = None,
):
    """Jobs of the organization, newest first."""
    statuses = None
    if status_:
        statuses = [s.strip() for s in status_.split(",") if s.strip()]
        unknown = sorted(set(statuses) - {s.value for s in JobStatus})
        if unknown:
            raise ValidationFailed(
                f"Unknown status {unknown[0]!r}.",
                details={"allowed": [s.value for s in JobStatus]},
            )
    rows, total = jobs_service.list_page(
        session=session,
        org_id=principal.org_id,
        page=page,
        statuses=statuses,
        type=type,
        user_id=user_id,
        created_after=created_after,
        created_before=created_before,
    )
    return make_page(rows, total, page)


@router.get("/jobs/{job_id}", response_model=schemas.JobRead)
def get_job(job: JobDep):
    """One job with its progress and resource use."""
    return job


@router.post("/jobs/{job_id}/abort", response_model=schemas.JobRead)
def abort_job(principal: Writer, job: JobDep, session: SessionDep):
    """Abort a pending or running job (a running one is stopped within seconds)."""
    return jobs_service.abort(session=session, principal=principal, job=job)


@router.delete("/jobs/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_job(principal: Admin, job: JobDep, session: SessionDep):
    """Delete a finished job and its logs (admins)."""
    jobs_service.delete(session=session, principal=principal, job=job)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/jobs/{job_id}/logs", response_model=Page[schemas.JobLogRead])
def job_logs(job: JobDep, session: SessionDep, page: PageDep):
    """Log lines a job wrote, oldest first."""
    rows, total = jobs_service.logs(session=session, job=job, page=page)
    return make_page(rows, total, page)


@router.get("/consumptions", response_model=list[schemas.ConsumptionRead])
def consumptions(
    principal: Reader,
    session: SessionDep,
    date_from: UtcDatetime | None = None,
    date_to: UtcDatetime | None = None,
    user_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    type: Annotated[str | None, Query(max_length=100)] = None,
):
    """CPU seconds, peak memory and disk written by jobs, per user, job type and day."""
    return jobs_service.consumptions(
        session=session,
        org_id=principal.org_id,
        date_from=date_from,
        date_to=date_to,
        user_id=user_id,
        type=type,
    )
