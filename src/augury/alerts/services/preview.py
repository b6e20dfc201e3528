"""How often a configuration would have fired: the evaluator's rules replayed over the
stored anomalies (anomaly alerts) or points (static and no-data alerts)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.alerts import evaluate
from augury.alerts.models import FeedbackProfile
from augury.alerts.schemas import PreviewRequest
from augury.anomalies.models import TIMESCALE_BY_NAME, MetricAnomaly
from augury.engines.detect import feedback as feedback_engine
from augury.metrics import expressions
from augury.metrics import service as metrics_service
from augury.metrics.models import Metric


def preview(session: Session, org_id: int, body: PreviewRequest, now: float | None = None) -> dict:
    """How often a configuration would have fired over the last ``days``, computed from
    the stored anomalies (anomaly alerts) or points (static and no-data alerts)."""
    now = clock.now().timestamp() if now is None else now
    metrics_service.parse_expression(body.expression)
    start = now - body.days * 86400
    cond = {k: v for k, v in body.conditions.model_dump().items() if v is not None}
    tree = expressions.parse(body.expression or "")
    ids = metrics_service.ids_matching(session=session, org_id=org_id, q=body.expression)
    intervals: list[tuple[str, float, float, int, float | None]] = []  # per metric
    considered = 0
    if ids and body.type == "anomaly":
        rows = session.execute(
            select(MetricAnomaly, Metric)
            .join(Metric, Metric.id == MetricAnomaly.metric_id)
            .where(
                MetricAnomaly.org_id == org_id,
                MetricAnomaly.timescale == TIMESCALE_BY_NAME[body.timescale],
                MetricAnomaly.end >= start,
            )
            .order_by(MetricAnomaly.start)
        ).all()
        profiles = _profiles(session, [m.id for _, m in rows])
        for a, m in rows:
            if not expressions.matches(tree, m.what, m.dimensions):
                continue
            considered += 1
            if not evaluate.anomaly_passes(cond, a):
                continue
            if evaluate.benign(profiles.get(m.id), a, session):
                continue
            key = evaluate.group_key(body.group_by, m)
            intervals.append((key, a.start, a.end + (a.interval or 0.0), m.id, a.peak_score))
    elif ids:
        metrics = {m.id: m for m in session.scalars(select(Metric).where(Metric.id.in_(ids)))}
        for metric_id, metric in metrics.items():
            points = metrics_service.native_points(session, metric_id, start, now + 1)
            if body.type == "static":
                runs = breach_runs(points, cond)
            else:
                runs = gaps(points, float(cond["no_data_s"]), now)
            key = evaluate.group_key(body.group_by, metric)
            intervals.extend((key, lo, hi, metric_id, None) for lo, hi in runs)
    triggers = _merge(intervals, int(cond.get("min_metrics") or 1))
    return {
        "fired": len(triggers),
        "start": start,
        "end": now,
        "metrics_matched": len(ids),
        "anomalies_considered": considered,
        "triggers": sorted(triggers, key=lambda t: -t["start"])[:50],
    }


def breach_runs(points: list[tuple[float, float]], cond: dict) -> list[tuple[float, float]]:
    """``(start, end)`` of each run of points beyond the static bounds that lasted at
    least ``duration_s`` (as the evaluator would have opened it); ``end`` is the first
    point back within bounds, or the last point."""
    duration = float(cond.get("duration_s") or 0.0)
    runs: list[tuple[float, float]] = []
    first: float | None = None
    last = 0.0
    for ts, value in points:
        if evaluate.breaches(float(value), cond.get("above"), cond.get("below")):
            first = ts if first is None else first
            last = ts
            continue
        if first is not None and last - first >= duration:
            runs.append((first, ts))
        first = None
    if first is not None and last - first >= duration:
        runs.append((first, last))
    return runs


def gaps(points: list[tuple[float, float]], quiet: float, now: float) -> list[tuple[float, float]]:
    """``(start, end)`` of each silence longer than ``quiet`` (up to ``now``), from
    when a no-data alert would have opened to when data came back."""
    marks = [ts for ts, _ in points] + [now]
    return [(a + quiet, b) for a, b in zip(marks, marks[1:], strict=False) if b - a > quiet]


def _merge(intervals, min_metrics: int) -> list[dict]:
    """Overlapping intervals of one group are one alert, as the evaluator does it."""
    by_group: dict[str, list] = {}
    for key, start, end, metric_id, score in intervals:
        by_group.setdefault(key, []).append((start, end, metric_id, score))
    out = []
    for key, items in by_group.items():
        items.sort()
        current = None
        for start, end, metric_id, score in items:
            if current is not None and start <= current["end"]:
                current["end"] = max(current["end"], end)
                current["_metrics"].add(metric_id)
                if score is not None:
                    current["peak_score"] = max(current["peak_score"] or 0.0, score)
                continue
            if current is not None:
                out.append(current)
            current = {
                "group": json.loads(key) if key else {},
                "start": start,
                "end": end,
                "_metrics": {metric_id},
                "peak_score": score,
            }
        if current is not None:
            out.append(current)
    result = []
    for t in out:
        metrics = t.pop("_metrics")
        if len(metrics) >= min_metrics:
            result.append({**t, "metrics": len(metrics), "metric_ids": sorted(metrics)})
    return result


def _profiles(session: Session, metric_ids: list[int]) -> dict[int, feedback_engine.BenignProfile]:
    if not metric_ids:
        return {}
    return {
        p.metric_id: feedback_engine.from_json(p.profile)
        for p in session.scalars(
            select(FeedbackProfile).where(FeedbackProfile.metric_id.in_(set(metric_ids)))
        )
    }
