"""Forecast jobs: ``forecast.run`` (one run of a task) and ``forecast.csv`` (a file).

``forecast.run`` forecasts every metric of its task, one transaction per metric,
reporting progress; the run becomes ``complete`` (and its results visible) only after
the last metric. An abort or a failure leaves the run ``aborted``/``failed`` and its
partial results hidden. :class:`ForecastScheduler` queues the runs of refreshing tasks.
"""

from __future__ import annotations

import contextlib

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from augury import clock
from augury.engines.forecast.base import level_key
from augury.errors import Conflict
from augury.forecasts import service
from augury.forecasts.models import ForecastResult, ForecastRun, ForecastTask
from augury.jobs.types import ended_by_abort
from augury.metrics import service as metrics_service
from augury.metrics.models import Metric
from augury.store.db import Database


class RunForecast:
    name = "forecast.run"
    title = "Forecast: run a forecast task"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        run_id: int = Field(ge=1, le=2**31 - 1)

    def run(self, ctx, params: Params) -> dict:
        with ctx.session() as session:
            run = session.get(ForecastRun, params.run_id)
            if run is None or run.org_id != ctx.org_id:
                raise ValueError(f"forecast run {params.run_id} not found")
            task = session.get(ForecastTask, run.task_id)
            run.status = "running"
            ids = metrics_service.ids_matching(
                session=session, org_id=task.org_id, q=task.expression
            )[: service.MAX_METRICS]
            spec = (task.id, task.resolution, task.horizon, list(task.levels))
        task_id, resolution, horizon, levels = spec
        failed = 0
        try:
            for done, metric_id in enumerate(ids, start=1):
                with ctx.session() as session:
                    metric = session.get(Metric, metric_id)
                    if metric is None:  # deleted meanwhile
                        continue
                    fields = self._one(session, metric, resolution, horizon, levels)
                    failed += fields["status"] != "ok"
                    session.add(
                        ForecastResult(
                            org_id=ctx.org_id,
                            run_id=params.run_id,
                            task_id=task_id,
                            metric_id=metric_id,
                            **fields,
                        )
                    )
                ctx.progress(100.0 * done / max(1, len(ids)), f"{done} of {len(ids)} metrics")
        except BaseException as exc:
            status = "aborted" if ended_by_abort(ctx, exc) else "failed"
            self._finish(ctx.db, params.run_id, status, str(exc))
            raise
        with ctx.session() as session:
            run = session.get(ForecastRun, params.run_id)
            run.status = "complete"
            run.metrics = len(ids)
            run.failed_metrics = failed
            run.finished_at = clock.now()
        return {"run_id": params.run_id, "metrics": len(ids), "not_forecast": failed}

    @staticmethod
    def _one(session, metric, resolution, horizon, levels) -> dict:
        try:
            return service.forecast_metric(
                session, metric, resolution=resolution, horizon=horizon, levels=levels
            )
        except service.NotForecastable as exc:
            return {"status": exc.status, "message": str(exc)}
        except Exception as exc:  # one odd metric must not fail the run
            return {"status": "failed", "message": f"{type(exc).__name__}: {exc}"[:1000]}

    @staticmethod
    def _finish(db: Database, run_id: int, status: str, error: str) -> None:
        with db.session() as session:
            run = session.get(ForecastRun, run_id)
            if run is not None:  # deleted with its task meanwhile: nothing to record
                run.status, run.error, run.finished_at = status, error[:2000] or None, clock.now()


class ForecastCsv:
    """Forecast every series of an uploaded long-format CSV (until datasets exist)."""

    name = "forecast.csv"
    title = "Forecast: every series of an uploaded CSV"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        upload_id: str = Field(pattern=r"^[0-9a-f]{32}$")
        horizon: int = Field(ge=1, le=service.MAX_HORIZON)
        levels: list[float] = Field(default_factory=lambda: [80.0, 95.0], max_length=5)

    def run(self, ctx, params: Params) -> dict:
        from augury import offline

        path = ctx.settings.upload_path(ctx.org_id, params.upload_id)
        points = offline.parse_points(offline.read_csv(path))
        ctx.progress(10.0, "file read")
        out = offline.forecast_points(points, params.horizon, params.levels)
        path.unlink(missing_ok=True)
        series = []
        for report in out.reports:
            rows = out.frame[out.frame["series"] == report.series]
            entry = {
                "series": report.series,
                "points": report.points,
                "model": report.model,
                "reason": report.reason,
                "error": report.error,
                "timestamps": rows["timestamp"].astype(str).tolist(),
                "forecast": rows["forecast"].tolist(),
            }
            for v in params.levels:
                key = level_key(v)
                entry[f"lower_{key}"] = rows[f"lower_{key}"].tolist()
                entry[f"upper_{key}"] = rows[f"upper_{key}"].tolist()
            series.append(entry)
        return {"series": series}


class ForecastScheduler:
    """Queues a run of each refreshing task when it is due: a periodic task of the
    stream processor."""

    name = "forecasts.schedule"

    def __init__(self, every_s: float = 10.0):
        self.every_s = every_s

    def run(self, db: Database) -> None:
        with db.session() as session:
            due = session.scalars(
                select(ForecastTask).where(
                    ForecastTask.every_minutes.is_not(None),
                    ForecastTask.next_run_at <= clock.now(),
                )
            ).all()
            for task in due:
                service.sync_runs(session, task.id)
                # (Conflict: the previous run is still going; try at the next tick.)
                with contextlib.suppress(Conflict):
                    service.start_run(session=session, task=task, user_id=task.created_by_id)
