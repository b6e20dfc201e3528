"""HTTP routes of forecasting: tasks, runs, results, accuracy, yhat, CSV forecasts."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from augury.api.deps import Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import Page, PageDep, make_page
from augury.errors import BadPayload, QuotaExceeded, ValidationFailed
from augury.forecasts import schemas, service
from augury.forecasts.deps import ForecastTaskDep
from augury.forecasts.models import ForecastResult, ForecastTask
from augury.jobs import service as jobs_service
from augury.jobs.schemas import JobRead
from augury.metrics.deps import MetricDep

router = APIRouter(tags=["forecasts"])


def _task(session: Session, task: ForecastTask) -> dict:
    body = schemas.TaskRead.model_validate(task).model_dump()
    body["runs"] = service.current_runs(session, task.id)
    return body


@router.post("/forecasts", status_code=status.HTTP_201_CREATED, response_model=schemas.TaskRead)
def create_forecast(body: schemas.TaskCreate, principal: Writer, session: SessionDep):
    """Create a forecast task on the metrics of an expression; its first run is queued
    at once (a `forecast.run` job), then every `every_minutes` if set."""
    task = service.create_task(session=session, principal=principal, body=body)
    return _task(session, task)


@router.get("/forecasts", response_model=Page[schemas.TaskRead])
def list_forecasts(principal: Reader, session: SessionDep, page: PageDep):
    """Forecast tasks, newest first, each with its recent runs."""
    rows, total = service.list_tasks(session=session, org_id=principal.org_id, page=page)
    return make_page([_task(session, t) for t in rows], total, page)


@router.get("/forecasts/{task_id}", response_model=schemas.TaskRead)
def get_forecast(task: ForecastTaskDep, session: SessionDep):
    """One task with its recent runs."""
    return _task(session, task)


@router.delete("/forecasts/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_forecast(principal: Writer, task: ForecastTaskDep, session: SessionDep):
    """Delete a task with its runs and results (a running job is aborted)."""
    service.delete_task(session=session, principal=principal, task=task)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/forecasts/{task_id}/run", status_code=status.HTTP_202_ACCEPTED, response_model=schemas.RunRead
)
def run_forecast(principal: Writer, task: ForecastTaskDep, session: SessionDep):
    """Run the task now (409 while a run is queued or running)."""
    return service.run_now(session=session, principal=principal, task=task)


@router.get("/forecasts/{task_id}/results", response_model=schemas.ResultsRead)
def forecast_results(
    task: ForecastTaskDep,
    session: SessionDep,
    metric_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
):
    """Per metric: forecast timestamps, point forecast and bounds per level, the model
    chosen and why (every candidate's backtest error), from the newest complete run."""
    run, rows = service.latest_results(session, task, metric_id)
    return {
        "task_id": task.id,
        "run": run,
        "results": [{**_fields(r), "name": m.name} for r, m in rows],
    }


def _fields(result: ForecastResult) -> dict:
    return {
        name: getattr(result, name) for name in schemas.ResultRead.model_fields if name != "name"
    }


@router.get("/forecasts/{task_id}/accuracy", response_model=list[schemas.AccuracyRead])
def forecast_accuracy(task: ForecastTaskDep, session: SessionDep):
    """How past forecasts did against what really happened, per metric: sMAPE, MASE
    (scaled by the seasonal naive error of the history) and interval coverage."""
    return service.task_accuracy(session, task)


@router.get("/metrics/{metric_id}/yhat", response_model=schemas.YhatRead)
def metric_yhat(
    metric: MetricDep,
    session: SessionDep,
    steps: Annotated[int, Query(ge=1, le=service.MAX_HORIZON)] = 10,
    resolution: Annotated[Literal["native", "1m", "5m", "1h", "1d"], Query()] = "native",
):
    """The expected value of the next `steps` points with a 95% interval (Anomify's
    yhat), from a fresh forecast task result or computed on the spot."""
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
