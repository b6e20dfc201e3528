"""Forecast tasks: create and run them, read results and their accuracy, ``yhat``.

The science is :func:`augury.engines.forecast.auto_forecast` (the same call as
``augury forecast`` and ``make bench-m4``); this module loads each metric's history
at the task's resolution, lays it on a regular grid and stores what comes back.

What a forecast learns from: complete buckets only (the bucket still filling, whose
sum is low and whose average is noisy, is left out, see :func:`history`), and not the
metric's anomalies (see :func:`anomaly_spans`): they are flagged to the engine, which
replaces them by the same hour of the neighbouring cycles, so that a forecast does not
repeat last night's incident.

Creating and deleting a task is audited here, with the acting principal. Functions
never commit (the caller's unit of work does).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.anomalies.models import MetricAnomaly
from augury.audit import service as audit
from augury.engines.forecast import auto_forecast
from augury.engines.forecast.base import level_key, normalize_levels
from augury.engines.timegrid import forecast_options, on_grid
from augury.errors import Conflict, ValidationFailed
from augury.forecasts.models import ForecastResult, ForecastRun, ForecastTask
from augury.forecasts.schemas import TaskCreate
from augury.jobs import service as jobs_service
from augury.jobs.models import Job, JobStatus
from augury.metrics import service as metrics_service
from augury.metrics.models import Metric, MetricPoint, MetricRollup
from augury.metrics.rollups import bucket_is_partial
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate

MAX_HORIZON = 2000
MAX_METRICS = 500
"""Metrics one task may forecast (the expression must not match more)."""
MAX_HISTORY = 5000
"""Most recent points (at the task's resolution) a forecast learns from."""
MIN_HISTORY = 8
MAX_ANOMALIES = 1000
"""Most recent anomalies of a metric left out of its forecast's history."""
RESOLUTION_SECONDS = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86400}
ACTIVE_RUN = ("pending", "running")
_AUDITED = ("name", "expression", "horizon", "resolution", "levels", "every_minutes")
"""A task's fields the audit log keeps when it is created or deleted."""


# ------------------------------------------------------------------------- tasks


def validate(*, horizon: int, resolution: str, levels: list[float]) -> list[float]:
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValidationFailed(
            f"horizon must be between 1 and {MAX_HORIZON} steps.",
            details={"max_horizon": MAX_HORIZON},
        )
    if resolution != "native" and resolution not in RESOLUTION_SECONDS:
        raise ValidationFailed(
            "Unknown resolution.", details={"allowed": ["native", *RESOLUTION_SECONDS]}
        )
    try:
        out = normalize_levels(levels)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    if not out:
        raise ValidationFailed("At least one confidence level is needed.")
    return out


def create_task(*, session: Session, principal: Principal, body: TaskCreate) -> ForecastTask:
    """Create a task and queue its first run."""
    levels = validate(horizon=body.horizon, resolution=body.resolution, levels=body.levels)
    ids = metrics_service.ids_matching(session=session, org_id=principal.org_id, q=body.expression)
    if not ids:
        raise ValidationFailed(
            "No metric matches the expression.", details={"expression": body.expression}
        )
    if len(ids) > MAX_METRICS:
        raise ValidationFailed(
            f"The expression matches {len(ids)} metrics; a task forecasts at most {MAX_METRICS}.",
            details={"matches": len(ids), "max_metrics": MAX_METRICS},
        )
    task = ForecastTask(
        org_id=principal.org_id,
        name=body.name,
        expression=body.expression,
        horizon=body.horizon,
        resolution=body.resolution,
        levels=levels,
        every_minutes=body.every_minutes,
        created_by_id=principal.user_id,
    )
    session.add(task)
    session.flush()
    start_run(session=session, task=task, user_id=principal.user_id)
    audit.record_change(
        session=session,
        principal=principal,
        action="forecast.create",
        target_type="forecast",
        target_id=task.id,
        after=audit.snapshot(task, _AUDITED),
    )
    return task


def get_task(*, session: Session, org_id: int, task_id: int) -> ForecastTask:
    return get_owned(session, ForecastTask, org_id, task_id, "Forecast task")


def list_tasks(
    *, session: Session, org_id: int, page: PageParams
) -> tuple[list[ForecastTask], int]:
    """Tasks of the organization, newest first."""
    stmt = select(ForecastTask).where(ForecastTask.org_id == org_id).order_by(desc(ForecastTask.id))
    return paginate(session, stmt, page)


def delete_task(*, session: Session, principal: Principal, task: ForecastTask) -> None:
    """Delete a task with its runs and results; a run still going has its job aborted."""
    for run in runs(session, task.id, limit=1000):
        if run.status in ACTIVE_RUN and run.job_id:
            job = jobs_service.get_or_raise(session=session, org_id=task.org_id, job_id=run.job_id)
            jobs_service.abort(session=session, principal=principal, job=job)
    audit.record_change(
        session=session,
        principal=principal,
        action="forecast.delete",
        target_type="forecast",
        target_id=task.id,
        before=audit.snapshot(task, _AUDITED),
    )
    session.delete(task)


def run_now(*, session: Session, principal: Principal, task: ForecastTask) -> ForecastRun:
    """Queue a run of ``task`` now (409 while one is queued or running)."""
    sync_runs(session, task.id)
    return start_run(session=session, task=task, user_id=principal.user_id)


def start_run(*, session: Session, task: ForecastTask, user_id: int | None) -> ForecastRun:
    """Queue a run of ``task`` (409 if one is already queued or running)."""
    active = session.scalar(
        select(ForecastRun.id).where(
            ForecastRun.task_id == task.id, ForecastRun.status.in_(ACTIVE_RUN)
        )
    )
    if active is not None:
        raise Conflict(
            "A run of this task is already queued or running.", details={"run_id": active}
        )
    run = ForecastRun(org_id=task.org_id, task_id=task.id, status="pending")
    session.add(run)
    session.flush()
    job = jobs_service.create(
        session=session,
        org_id=task.org_id,
        type="forecast.run",
        params={"run_id": run.id},
        user_id=user_id,
    )
    run.job_id = job.id
    if task.every_minutes:
        task.next_run_at = clock.now() + timedelta(minutes=task.every_minutes)
    return run


def runs(session: Session, task_id: int, limit: int = 20) -> list[ForecastRun]:
    stmt = (
        select(ForecastRun)
        .where(ForecastRun.task_id == task_id)
        .order_by(desc(ForecastRun.id))
        .limit(limit)
    )
    return list(session.scalars(stmt))


def current_runs(session: Session, task_id: int) -> list[ForecastRun]:
    """The task's recent runs, newest first, with those whose job ended marked so."""
    sync_runs(session, task_id)
    return runs(session, task_id)


def sync_runs(session: Session, task_id: int) -> None:
    """Mark runs whose job ended without finishing them (aborted, failed, lost)."""
    stmt = (
        select(ForecastRun, Job.status, Job.error)
        .join(Job, Job.id == ForecastRun.job_id)
        .where(ForecastRun.task_id == task_id, ForecastRun.status.in_(ACTIVE_RUN))
    )
    for run, job_status, error in session.execute(stmt):
        if job_status in (JobStatus.aborted, JobStatus.failed):
            run.status = "aborted" if job_status == JobStatus.aborted else "failed"
            run.error = error or run.error
            run.finished_at = clock.now()


def latest_complete_run(session: Session, task_id: int) -> ForecastRun | None:
    return session.scalar(
        select(ForecastRun)
        .where(ForecastRun.task_id == task_id, ForecastRun.status == "complete")
        .order_by(desc(ForecastRun.id))
        .limit(1)
    )


def results(
    session: Session, run: ForecastRun, metric_id: int | None = None
) -> list[tuple[ForecastResult, Metric]]:
    stmt = (
        select(ForecastResult, Metric)
        .join(Metric, Metric.id == ForecastResult.metric_id)
        .where(ForecastResult.run_id == run.id)
        .order_by(Metric.name)
    )
    if metric_id is not None:
        stmt = stmt.where(ForecastResult.metric_id == metric_id)
    return list(session.execute(stmt).tuples())


def latest_results(
    session: Session, task: ForecastTask, metric_id: int | None = None
) -> tuple[ForecastRun | None, list[tuple[ForecastResult, Metric]]]:
    """The newest complete run of ``task`` and its results (one metric's, if given)."""
    sync_runs(session, task.id)
    run = latest_complete_run(session, task.id)
    return run, results(session, run, metric_id) if run else []


# ---------------------------------------------------------------------- history


def history(
    session: Session, metric: Metric, resolution: str, limit: int = MAX_HISTORY
) -> tuple[np.ndarray, np.ndarray]:
    """The newest ``limit`` points of ``metric`` at ``resolution`` (times, values).

    At a rollup resolution these are complete buckets only: the newest bucket is left
    out while it is still filling (see :func:`augury.metrics.rollups.bucket_is_partial`).
    """
    rows: list[tuple[float, float]]
    if resolution == "native":
        rows = [
            (ts, value)
            for ts, value in session.execute(
                select(MetricPoint.ts, MetricPoint.value)
                .where(MetricPoint.metric_id == metric.id)
                .order_by(desc(MetricPoint.ts))
                .limit(limit)
            )
        ]
    else:
        res = RESOLUTION_SECONDS[resolution]
        value = (
            MetricRollup.sum
            if metric.target_type == "counter"
            else (MetricRollup.sum / MetricRollup.count)
        )
        buckets = session.execute(
            select(MetricRollup.bucket, value, MetricRollup.count)
            .where(MetricRollup.metric_id == metric.id, MetricRollup.resolution == res)
            .order_by(desc(MetricRollup.bucket))
            .limit(limit + 1)
        ).all()
        counts = [int(b[2]) for b in reversed(buckets)]
        if buckets and bucket_is_partial(
            buckets[0][0], res, counts, metric.last_ts, clock.now().timestamp()
        ):
            buckets = buckets[1:]
        rows = [(b[0], b[1]) for b in buckets[:limit]]
    rows.reverse()
    return (
        np.array([r[0] for r in rows], dtype=float),
        np.array([r[1] for r in rows], dtype=float),
    )


def anomaly_spans(session: Session, metric: Metric, start: float) -> list[tuple[float, float]]:
    """``[from, to)`` seconds of the metric's anomalies since ``start``, to leave out of
    its forecast's history.

    Every stored anomaly of the metric, at any time scale (an hourly one covers its
    hours), except a pattern change still open: a change that has not ended may be the
    new normal, which the forecast must learn.
    """
    rows = session.execute(
        select(MetricAnomaly.start, MetricAnomaly.end, MetricAnomaly.timescale)
        .where(
            MetricAnomaly.metric_id == metric.id,
            MetricAnomaly.end >= start,
            ~((MetricAnomaly.state == "open") & (MetricAnomaly.type == "pattern_change")),
        )
        .order_by(desc(MetricAnomaly.end))
        .limit(MAX_ANOMALIES)
    ).all()
    return [(float(a), float(b) + (ts_scale or 1e-3)) for a, b, ts_scale in rows]


def grid_mask(
    first: float, step: float, n: int, spans: list[tuple[float, float]], centred: bool
) -> np.ndarray:
    """Which of ``n`` grid steps (the first at ``first``) overlap one of ``spans``.

    A step covers ``[t, t + step)`` (a rollup bucket) or, when ``centred``,
    ``[t - step / 2, t + step / 2)`` (native points laid on a grid).
    """
    lo = first + step * np.arange(n) - (step / 2 if centred else 0.0)
    hi = lo + step
    mask = np.zeros(n, dtype=bool)
    for a, b in spans:
        mask |= (lo < b) & (hi > a)
    return mask


class NotForecastable(ValueError):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


def forecast_metric(
    session: Session, metric: Metric, *, resolution: str, horizon: int, levels: list[float]
) -> dict:
    """Forecast one metric: the fields of a :class:`ForecastResult` (status ``ok``), or
    :class:`NotForecastable` with the reason."""
    ts, values = history(session, metric, resolution)
    if len(ts) == 0:
        raise NotForecastable("no_data", "The metric has no points at this resolution.")
    needed = max(MIN_HISTORY, math.ceil(horizon / 4))
    if len(ts) < needed:
        raise NotForecastable(
            "too_short",
            f"{len(ts)} points of history; a horizon of {horizon} steps needs at least {needed}.",
        )
    if resolution == "native":
        y, step = on_grid(ts, values)
    else:
        step = float(RESOLUTION_SECONDS[resolution])
        pos = np.rint((ts - ts[0]) / step).astype(np.int64)
        y = np.full(int(pos[-1]) + 1, np.nan)
        y[pos] = values
        if len(ts) < 0.5 * len(y):
            raise NotForecastable(
                "resolution_mismatch",
                f"Only {len(ts)} of {len(y)} {resolution} steps have data: the metric is "
                "sparser than the resolution; use a coarser one.",
            )
    spans = anomaly_spans(session, metric, float(ts[0]))
    exclude = grid_mask(float(ts[0]), step, len(y), spans, centred=resolution == "native")
    res = auto_forecast(
        y,
        horizon,
        levels=levels,
        exclude=exclude if exclude.any() else None,
        **forecast_options(step),
    )
    origin = float(ts[-1])
    return {
        "status": "ok",
        "origin": origin,
        "step": step,
        "history_points": int(len(ts)),
        "timestamps": [origin + step * (i + 1) for i in range(horizon)],
        "mean": _floats(res.mean),
        "lower": {level_key(k): _floats(v) for k, v in res.lower.items()},
        "upper": {level_key(k): _floats(v) for k, v in res.upper.items()},
        "model": res.model[:200],
        "reason": res.reason,
        "candidates": {
            k: (round(v, 6) if math.isfinite(v) else None) for k, v in res.candidates.items()
        },
        "periods": list(res.periods),
        "error_metric": res.metric,
    }


def _floats(a) -> list[float]:
    return [round(float(v), 6) for v in a]


# ---------------------------------------------------------------------- accuracy


def accuracy(session: Session, task: ForecastTask, metric: Metric) -> dict:
    """How past runs' forecasts of ``metric`` did against the points that came since."""
    past = session.scalars(
        select(ForecastResult)
        .join(ForecastRun, ForecastRun.id == ForecastResult.run_id)
        .where(
            ForecastResult.task_id == task.id,
            ForecastResult.metric_id == metric.id,
            ForecastResult.status == "ok",
            ForecastRun.status == "complete",
        )
        .order_by(ForecastResult.id)
    ).all()
    ts, values = history(session, metric, task.resolution, limit=MAX_HISTORY * 2)
    actual_at = dict(zip(ts.tolist(), values.tolist(), strict=True))
    errors: list[float] = []
    abs_scaled: list[float] = []
    covered: dict[str, list[bool]] = {}
    n_runs = 0
    for result in past:
        step = result.step or 1.0
        # An "ok" result has all of these; the columns are nullable for the others.
        mean, lower, upper = result.mean or [], result.lower or {}, result.upper or {}
        pairs = []
        for i, t in enumerate(result.timestamps or []):
            a = actual_at.get(t)
            if a is None and task.resolution == "native":
                j = int(np.searchsorted(ts, t))
                for k in (j - 1, j):
                    if 0 <= k < len(ts) and abs(ts[k] - t) <= step / 2:
                        a = float(values[k])
            if a is not None:
                pairs.append((i, a))
        if not pairs:
            continue
        n_runs += 1
        before = values[ts <= result.origin]
        m = (result.periods or [1])[0]
        m = m if len(before) > m else 1
        scale = float(np.mean(np.abs(before[m:] - before[:-m]))) if len(before) > m else 0.0
        for i, a in pairs:
            f = mean[i]
            denom = abs(a) + abs(f)
            errors.append(200.0 * abs(a - f) / denom if denom > 0 else 0.0)
            if scale > 0:
                abs_scaled.append(abs(a - f) / scale)
            for key in lower:
                hit = lower[key][i] <= a <= upper[key][i]
                covered.setdefault(key, []).append(hit)
    return {
        "metric_id": metric.id,
        "name": metric.name,
        "runs_evaluated": n_runs,
        "points": len(errors),
        "smape": round(float(np.mean(errors)), 4) if errors else None,
        "mase": round(float(np.mean(abs_scaled)), 4) if abs_scaled else None,
        "coverage": {k: round(100.0 * float(np.mean(v)), 2) for k, v in covered.items()},
    }


def task_accuracy(session: Session, task: ForecastTask) -> list[dict]:
    """:func:`accuracy` for each metric the task's expression matches now (at most
    ``MAX_METRICS``)."""
    ids = metrics_service.ids_matching(session=session, org_id=task.org_id, q=task.expression)
    metrics = [
        metrics_service.get_or_raise(session=session, org_id=task.org_id, metric_id=mid)
        for mid in ids[:MAX_METRICS]
    ]
    return [accuracy(session, task, m) for m in metrics]


# ---------------------------------------------------------------------------- yhat


def yhat(session: Session, metric: Metric, *, steps: int, resolution: str) -> dict:
    """The expected value now and for the next ``steps`` (Anomify's yhat).

    Uses the newest complete forecast of the metric when it starts at the metric's
    newest point at this resolution, else forecasts on the spot.
    """
    validate(horizon=steps, resolution=resolution, levels=[80, 95])
    stored = session.execute(
        select(ForecastResult)
        .join(ForecastRun, ForecastRun.id == ForecastResult.run_id)
        .join(ForecastTask, ForecastTask.id == ForecastResult.task_id)
        .where(
            ForecastResult.metric_id == metric.id,
            ForecastResult.status == "ok",
            ForecastRun.status == "complete",
            ForecastTask.resolution == resolution,
            func.coalesce(ForecastResult.origin, 0) >= (metric.last_ts or 0),
        )
        .order_by(desc(ForecastResult.id))
        .limit(1)
    ).scalar()
    out: dict[str, Any]
    if (
        stored is not None
        and stored.timestamps is not None
        and stored.mean is not None
        and stored.lower is not None
        and stored.upper is not None
        and len(stored.timestamps) >= steps
        and "95" in stored.lower
    ):
        out = {
            "origin": stored.origin,
            "model": stored.model,
            "timestamps": stored.timestamps[:steps],
            "yhat": stored.mean[:steps],
            "lower_95": stored.lower["95"][:steps],
            "upper_95": stored.upper["95"][:steps],
            "source": "forecast_task",
        }
    else:
        try:
            fields = forecast_metric(
                session, metric, resolution=resolution, horizon=steps, levels=[80, 95]
            )
        except NotForecastable as exc:
            raise ValidationFailed(str(exc), details={"reason": exc.status}) from exc
        out = {
            "origin": fields["origin"],
            "model": fields["model"],
            "timestamps": fields["timestamps"],
            "yhat": fields["mean"],
            "lower_95": fields["lower"]["95"],
            "upper_95": fields["upper"]["95"],
            "source": "on_demand",
        }
    return {"metric_id": metric.id, "name": metric.name, "resolution": resolution, **out}
