"""Jobs: queue, read, abort and account for background work.

The runner (``augury.runtime.jobs``) claims pending rows and runs them in child
processes; this module is what the API, the CLI and other domains call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import User
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import QuotaSettings
from augury.errors import Conflict, QuotaExceeded, ValidationFailed
from augury.events import service as events
from augury.jobs import types as job_types
from augury.jobs.models import FINAL_STATUSES, Job, JobLog, JobStatus
from augury.store.db import changed
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate


def create(
    *,
    session: Session,
    org_id: int,
    type: str,
    params: dict | None = None,
    user_id: int | None = None,
    quotas: QuotaSettings | None = None,
) -> Job:
    """Queue a job of a registered type after validating its params.

    With ``quotas`` (what the API passes) the job must fit the per-job limits of its type
    (422) and the organization must have fewer than ``active_jobs`` jobs waiting or
    running (429 QUOTA_EXCEEDED)."""
    if type not in job_types.registry:
        raise ValidationFailed(
            f"Unknown job type '{type}'.", details={"known_types": job_types.registry.names()}
        )
    job_type = job_types.registry.load(type)
    try:
        parsed = job_type.Params.model_validate(params or {})
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        raise ValidationFailed("Invalid job params.", details={"errors": errors}) from exc
    if quotas is not None:
        _check_quotas(session, org_id, job_type, parsed, quotas)
    job = Job(
        org_id=org_id,
        type=type,
        params=parsed.model_dump(mode="json"),
        user_id=user_id,
        status=JobStatus.pending,
    )
    session.add(job)
    session.flush()
    return job


ACTIVE_RETRY_AFTER_S = 10
"""Retry-After of a refusal for too many active jobs: about how often one finishes."""


def _check_quotas(session: Session, org_id: int, job_type, params, quotas: QuotaSettings) -> None:
    check = getattr(job_type, "quota_errors", None)
    errors = check(params, quotas) if check is not None else []
    if errors:
        first = errors[0]
        raise ValidationFailed(f"{first['loc'][-1]}: {first['msg']}", details={"errors": errors})
    if quotas.active_jobs:
        active = session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.org_id == org_id, Job.status.in_([JobStatus.pending, JobStatus.running]))
        )
        active = active or 0
        if active >= quotas.active_jobs:
            raise QuotaExceeded(
                f"The organization has {active} jobs waiting or running, its quota "
                f"(AUGURY_QUOTAS__ACTIVE_JOBS is {quotas.active_jobs}); try again when "
                "some have finished.",
                quota="active_jobs",
                limit=quotas.active_jobs,
                used=active,
                retry_after=ACTIVE_RETRY_AFTER_S,
            )


def get_or_raise(*, session: Session, org_id: int, job_id: int) -> Job:
    """The job with this id in this organization, or RESOURCE_NOT_FOUND."""
    return get_owned(session, Job, org_id, job_id, "Job")


def list_page(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    statuses: list[str] | None = None,
    type: str | None = None,
    user_id: int | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> tuple[list[Job], int]:
    """Jobs of one organization, newest first, with filters."""
    stmt = select(Job).where(Job.org_id == org_id)
    if statuses:
        stmt = stmt.where(Job.status.in_(statuses))
    if type:
        stmt = stmt.where(
            Job.type.startswith(type[:-1]) if type.endswith("*") else Job.type == type
        )
    if user_id is not None:
        stmt = stmt.where(Job.user_id == user_id)
    if created_after is not None:
        stmt = stmt.where(Job.created_at >= created_after)
    if created_before is not None:
        stmt = stmt.where(Job.created_at < created_before)
    return paginate(session, stmt.order_by(Job.created_at.desc(), Job.id.desc()), page)


def finished_event(session: Session, job: Job, status: str, error: str | None = None) -> None:
    """The platform event ``job.finished``, added where a job's outcome is written (the
    job's process, the runner that reaps or fails it, an abort before it started, the
    recovery of interrupted jobs), in the same transaction."""
    events.emit(
        session,
        org_id=job.org_id,
        type="job.finished",
        data={
            "job_id": job.id,
            "type": job.type,
            "status": JobStatus(status).value,
            "error": error,
            "user_id": job.user_id,
        },
        user_id=job.user_id,
    )


def abort(*, session: Session, principal: Principal, job: Job) -> Job:
    """Abort a pending or running job; a running one is stopped by its runner."""
    if JobStatus(job.status).is_final:
        raise Conflict(f"The job is already {job.status}.", details={"status": job.status})
    job.abort_requested = True
    if job.status == JobStatus.pending:
        # Guard against a runner claiming it at this very moment.
        claimed = changed(
            session,
            update(Job)
            .where(Job.id == job.id, Job.status == JobStatus.pending)
            .values(
                status=JobStatus.aborted, finished_at=clock.now(), message="aborted before start"
            ),
        )
        if claimed:
            session.refresh(job)
            finished_event(session, job, JobStatus.aborted)
    audit.record_by(
        session=session,
        principal=principal,
        action="job.abort",
        target_type="job",
        target_id=job.id,
    )
    return job


def abort_unless_ended(*, session: Session, principal: Principal, job_id: int) -> None:
    """Abort job ``job_id`` unless it has ended already (aborted before it started, or
    just finished): what stopping the work a row waits on asks of the job, before the
    row settles (:func:`ended`)."""
    job = session.get_one(Job, job_id)
    if not JobStatus(job.status).is_final:
        abort(session=session, principal=principal, job=job)


def delete(*, session: Session, principal: Principal, job: Job) -> None:
    """Delete a finished job and its logs."""
    if job.status not in FINAL_STATUSES:
        raise Conflict("Abort the job before deleting it.", details={"status": job.status})
    session.delete(job)
    audit.record_by(
        session=session,
        principal=principal,
        action="job.delete",
        target_type="job",
        target_id=job.id,
        details={"type": job.type},
    )


def logs(*, session: Session, job: Job, page: PageParams) -> tuple[list[JobLog], int]:
    """Log lines of one job, oldest first."""
    stmt = select(JobLog).where(JobLog.job_id == job.id).order_by(JobLog.id)
    return paginate(session, stmt, page)


def consumptions(
    *,
    session: Session,
    org_id: int,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    user_id: int | None = None,
    type: str | None = None,
) -> list[dict]:
    """Resources used by jobs, summed per user, job type and day (UTC) of start."""
    stmt = (
        select(Job, User.email)
        .outerjoin(User, User.id == Job.user_id)
        .where(Job.org_id == org_id, Job.started_at.is_not(None))
    )
    if date_from is not None:
        stmt = stmt.where(Job.started_at >= date_from)
    if date_to is not None:
        stmt = stmt.where(Job.started_at < date_to)
    if user_id is not None:
        stmt = stmt.where(Job.user_id == user_id)
    if type:
        stmt = stmt.where(Job.type == type)
    groups: dict[tuple, dict] = defaultdict(
        lambda: {
            "jobs": 0,
            "cpu_seconds": 0.0,
            "peak_memory_mb": 0.0,
            "disk_written_mb": 0.0,
            "wall_seconds": 0.0,
            "succeeded": 0,
            "failed": 0,
            "aborted": 0,
        }
    )
    for job, email in session.execute(stmt):
        started = job.started_at
        assert started is not None  # the query keeps started jobs only
        key = (started.date().isoformat(), job.user_id, email, job.type)
        g = groups[key]
        g["jobs"] += 1
        g["cpu_seconds"] += job.cpu_seconds or 0.0
        g["peak_memory_mb"] = max(g["peak_memory_mb"], job.peak_memory_mb or 0.0)
        g["disk_written_mb"] += job.disk_written_mb or 0.0
        end = job.finished_at or clock.now()
        g["wall_seconds"] += max(0.0, (end - started).total_seconds())
        if job.status in ("succeeded", "failed", "aborted"):
            g[job.status] += 1
    rows = []
    for (day, uid, email, jtype), g in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][3]), reverse=True
    ):
        rows.append(
            {
                "date": day,
                "user_id": uid,
                "user_email": email,
                "job_type": jtype,
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in g.items()},
            }
        )
    return rows


def recover_interrupted(
    *, session: Session, host: str, alive: Callable[[int], bool], heartbeat_timeout_s: float
) -> list[int]:
    """Mark jobs left 'running' by a dead process as failed with reason "interrupted".

    A job counts as dead when it ran on this host and its process is gone, or when its
    heartbeat (any host) is older than the timeout.
    """
    stale_before = clock.now() - timedelta(seconds=heartbeat_timeout_s)
    ids = []
    for job in session.scalars(select(Job).where(Job.status == JobStatus.running)):
        local_dead = job.host == host and (job.pid is None or not alive(job.pid))
        stale = (job.heartbeat_at or job.started_at or job.created_at) < stale_before
        if local_dead or stale:
            job.status = JobStatus.failed
            job.error = "interrupted"
            job.message = "interrupted: the process running this job stopped"
            job.finished_at = clock.now()
            finished_event(session, job, JobStatus.failed, job.error)
            ids.append(job.id)
    return ids


# --- rows that wait on a job -----------------------------------------------------------------


class WaitsOnJob(Protocol):
    """A row whose state a job fills (a model version training): its ``job_id``."""

    @property
    def job_id(self) -> int | None: ...


W = TypeVar("W", bound=WaitsOnJob)


def by_id(session: Session, job_ids: Iterable[int | None]) -> dict[int, Job]:
    """The jobs of these ids that still exist, by id, in one query (a page of rows that
    each name their job)."""
    ids = [i for i in job_ids if i is not None]
    if not ids:
        return {}
    return {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(ids)))}


def ended(session: Session, waiting: Sequence[W]) -> Iterator[tuple[W, bool]]:
    """Of rows still waiting on their job, those whose job has ended, each with whether
    it was aborted. A job that is gone (deleted), failed, or was cut off by a restart
    ended the row as a failure; so did one that succeeded without the row taking its
    result. The caller writes the row's own ending."""
    jobs = by_id(session, (row.job_id for row in waiting))
    for row in waiting:
        job = jobs.get(row.job_id) if row.job_id is not None else None
        if job is not None and not JobStatus(job.status).is_final:
            continue
        yield row, job is not None and job.status == JobStatus.aborted


def failure_reason(exc: BaseException, doing: str) -> str:
    """What a person reads of a job's failure: the engine's or the service's message
    (an exception with a ``message``), else ``"<doing> failed: <type>: <exc>"``."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    return f"{doing} failed: {type(exc).__name__}: {exc}"[:2000]
