"""HTTP routes of forecasting: tasks, runs, results, accuracy, yhat, CSV forecasts."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from augury.api.deps import ObjectId, Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import Page, PageDep, make_page
from augury.audit import service as audit
from augury.errors import BadPayload, QuotaExceeded, ValidationFailed
from augury.forecasts import schemas, service
from augury.jobs import service as jobs_service
from augury.jobs.schemas import JobRead
from augury.metrics import service as metrics_service

router = APIRouter(tags=["forecasts"])

_AUDITED = ("name", "expression", "horizon", "resolution", "levels", "every_minutes")
"""A task's fields the audit log keeps when it is created or deleted."""


def _task(session, task) -> dict:
    service.sync_runs(session, task.id)
    body = schemas.TaskRead.model_validate(task).model_dump()
    body["runs"] = service.runs(session, task.id)
    return body


@router.post("/forecasts", status_code=status.HTTP_201_CREATED, response_model=schemas.TaskRead)
def create_forecast(body: schemas.TaskCreate, principal: Writer, session: SessionDep):
    """Create a forecast task on the metrics of an expression; its first run is queued
    at once (a `forecast.run` job), then every `every_minutes` if set."""
    task = service.create_task(
        session=session, org_id=principal.org_id, user_id=principal.user_id, **body.model_dump()
    )
    audit.record_change(
        session=session,
        principal=principal,
        action="forecast.create",
        target_type="forecast",
        target_id=task.id,
        after=audit.snapshot(task, _AUDITED),
    )
    return _task(session, task)


@router.get("/forecasts", response_model=Page[schemas.TaskRead])
def list_forecasts(principal: Reader, session: SessionDep, page: PageDep):
    """Forecast tasks, newest first, each with its recent runs."""
    rows, total = service.list_tasks(session=session, org_id=principal.org_id, page=page)
    return make_page([_task(session, t) for t in rows], total, page)


@router.get("/forecasts/{task_id}", response_model=schemas.TaskRead)
def get_forecast(task_id: ObjectId, principal: Reader, session: SessionDep):
    """One task with its recent runs."""
    return _task(
        session, service.get_task(session=session, org_id=principal.org_id, task_id=task_id)
    )


@router.delete("/forecasts/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_forecast(task_id: ObjectId, principal: Writer, session: SessionDep):
    """Delete a task with its runs and results (a running job is aborted)."""
    task = service.get_task(session=session, org_id=principal.org_id, task_id=task_id)
    for run in service.runs(session, task.id, limit=1000):
        if run.status in service.ACTIVE_RUN and run.job_id:
            jobs_service.abort(session=session, principal=principal, job_id=run.job_id)
    audit.record_change(
        session=session,
        principal=principal,
        action="forecast.delete",
        target_type="forecast",
        target_id=task.id,
        before=audit.snapshot(task, _AUDITED),
    )
    session.delete(task)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/forecasts/{task_id}/run", status_code=status.HTTP_202_ACCEPTED, response_model=schemas.RunRead
)
def run_forecast(task_id: ObjectId, principal: Writer, session: SessionDep):
    """Run the task now (409 while a run is queued or running)."""
    task = service.get_task(session=session, org_id=principal.org_id, task_id=task_id)
    service.sync_runs(session, task.id)
    return service.start_run(session=session, task=task, user_id=principal.user_id)


@router.get("/forecasts/{task_id}/results", response_model=schemas.ResultsRead)
def forecast_results(
    task_id: ObjectId,
    principal: Reader,
    session: SessionDep,
    metric_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
):
    """Per metric: forecast timestamps, point forecast and bounds per level, the model
    chosen and why (every candidate's backtest error), from the newest complete run."""
    task = service.get_task(session=session, org_id=principal.org_id, task_id=task_id)
    service.sync_runs(session, task.id)
    run = service.latest_complete_run(session, task.id)
    rows = service.results(session, run, metric_id) if run else []
    return {
        "task_id": task.id,
        "run": run,
        "results": [{**_fields(r), "name": m.name} for r, m in rows],
    }


def _fields(result) -> dict:
    return {
        name: getattr(result, name) for name in schemas.ResultRead.model_fields if name != "name"
    }


@router.get("/forecasts/{task_id}/accuracy", response_model=list[schemas.AccuracyRead])
def forecast_accuracy(task_id: ObjectId, principal: Reader, session: SessionDep):
    """How past forecasts did against what really happened, per metric: sMAPE, MASE
    (scaled by the seasonal naive error of the history) and interval coverage."""
    task = service.get_task(session=session, org_id=principal.org_id, task_id=task_id)
    metrics = [
        metrics_service.get_or_raise(session=session, org_id=principal.org_id, metric_id=mid)
        for mid in metrics_service.ids_matching(
            session=session, org_id=principal.org_id, q=task.expression
        )[: service.MAX_METRICS]
    ]
    return [service.accuracy(session, task, m) for m in metrics]


@router.get("/metrics/{metric_id}/yhat", response_model=schemas.YhatRead)
def metric_yhat(
    metric_id: ObjectId,
    principal: Reader,
    session: SessionDep,
    steps: Annotated[int, Query(ge=1, le=service.MAX_HORIZON)] = 10,
    resolution: Annotated[Literal["native", "1m", "5m", "1h", "1d"], Query()] = "native",
):
    """The expected value of the next `steps` points with a 95% interval (Anomify's
    yhat), from a fresh forecast task result or computed on the spot."""
    metric = metrics_service.get_or_raise(
        session=session, org_id=principal.org_id, metric_id=metric_id
    )
    return service.yhat(session, metric, steps=steps, resolution=resolution)


@router.post("/forecasts/csv", status_code=status.HTTP_202_ACCEPTED, response_model=JobRead)
async def forecast_csv(
    request: Request,
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
    horizon: Annotated[int, Query(ge=1, le=service.MAX_HORIZON)],
    level: Annotated[list[float] | None, Query(description="Repeat for several.")] = None,
):
    """Forecast every series of a CSV body (`series,timestamp,value`, or
    `timestamp,value`) as a `forecast.csv` job; the job's result holds the forecasts.
    (Forecasting a column of an uploaded table will use the same engine.)"""
    body = await request.body()
    if not body.strip():
        raise BadPayload("The CSV body is empty.")
    levels = level or [80.0, 95.0]
    service.validate(horizon=horizon, resolution="native", levels=levels)

    def work():
        upload_id = uuid.uuid4().hex
        path = settings.upload_path(principal.org_id, upload_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        try:
            return jobs_service.create(
                session=session,
                org_id=principal.org_id,
                type="forecast.csv",
                params={"upload_id": upload_id, "horizon": horizon, "levels": levels},
                user_id=principal.user_id,
                quotas=settings.quotas,
            )
        except (ValidationFailed, QuotaExceeded):
            path.unlink(missing_ok=True)
            raise

    return await run_in_threadpool(work)
