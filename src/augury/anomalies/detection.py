"""The detection stage: a stream consumer that scores every new point of every metric.

For each batch of spans (see :mod:`augury.metrics.stream`) it

1. loads the points after each metric's last scored point, in time order. Points
   that arrive older than that (late: another writer's batch compacted after a newer
   one, a sender's retry) are scored too when they are at most ``LATE_WINDOW_S`` older,
   against the metric's current model and without learning from them (the model has
   moved on; rewinding it would change scores already alerted on); a late point that
   alone reaches the decision level opens a one-point anomaly. Older ones are stored
   and rolled up but not scored, and counted in the state's ``late_points``,
2. drops points under an exclusion, and runs the rest through the detector engine
   (:func:`augury.engines.detect.score_matrix`, all metrics of the batch at once, the
   same kernel as the CLI and the benchmarks) at each metric's sensitivity, without
   learning for metrics whose learning is paused,
3. feeds the hourly and daily buckets that the new points closed to a detector per
   time scale, so a slow drift no single point shows is still caught,
4. turns runs of anomalous points into anomalies (start, end, peak, delta,
   direction, type, state) and groups anomalies of the same ``what`` that overlap in
   time into one Anomaly object,
5. saves scores, bands and learned states in the transaction that consumes the spans.

The result does not depend on how points were batched: a restart in the middle of a
stream resumes from the saved states and gives the same scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from augury import clock
from augury.anomalies.models import (
    TIMESCALES,
    AnomalyGroup,
    DetectorState,
    Exclusion,
    LearningPause,
    MetricAnomaly,
    PointScore,
    SensitivityRule,
)
from augury.engines.detect import kernel, score_matrix
from augury.events import service as events
from augury.metrics import expressions
from augury.metrics.models import Metric
from augury.metrics.rollups import bucket_sql
from augury.metrics.stream import Span, load_batches

SENSITIVITY = {"high": 0.4, "medium": 0.5, "low": 0.6}
"""Sensitivity -> the detector's decision level (calibrated score that raises)."""
DEFAULT_SENSITIVITY = "medium"
ROLLUP_TIMESCALES = (3600, 86400)
CLOSE_SCORE = 100 * kernel.CLOSE_LEVEL
"""An anomaly goes on while points score at least this (0-100) ..."""
CLOSE_RUN = kernel.CLOSE_RUN
"""... and closes after this many calmer points in a row."""
PATTERN_POINTS = kernel.SHIFT_RUN
"""An anomaly of at least this many points is a pattern change, else transient."""
LATE_WINDOW_S = 86400.0
"""A late point at most this much older than the metric's last scored point is scored."""


@dataclass
class Controls:
    """An organization's detection settings, evaluated per metric."""

    paused: dict[int, float | None] = field(default_factory=dict)
    exclusions: list[tuple[expressions.Expr | None, float | None, float | None]] = field(
        default_factory=list
    )
    rules: list[tuple[expressions.Expr | None, str]] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session, org_id: int, now: float) -> Controls:
        controls = cls()
        for metric_id, until in session.execute(
            select(LearningPause.metric_id, LearningPause.until).where(
                LearningPause.org_id == org_id
            )
        ):
            if until is None or until > now:
                controls.paused[metric_id] = until
        for expr, start, end in session.execute(
            select(Exclusion.expression, Exclusion.start, Exclusion.end).where(
                Exclusion.org_id == org_id
            )
        ):
            controls.exclusions.append((expressions.parse(expr or ""), start, end))
        for expr, level in session.execute(
            select(SensitivityRule.expression, SensitivityRule.sensitivity)
            .where(SensitivityRule.org_id == org_id)
            .order_by(SensitivityRule.id.desc())
        ):
            controls.rules.append((expressions.parse(expr or ""), level))
        return controls

    def decision_level(self, metric: Metric) -> float:
        for tree, level in self.rules:
            if expressions.matches(tree, metric.what, metric.dimensions):
                return SENSITIVITY[level]
        return SENSITIVITY[DEFAULT_SENSITIVITY]

    def excluded(self, metric: Metric, ts: np.ndarray) -> np.ndarray:
        """Mask of the points of ``metric`` at ``ts`` that an exclusion covers."""
        mask = np.zeros(len(ts), dtype=bool)
        for tree, start, end in self.exclusions:
            if not expressions.matches(tree, metric.what, metric.dimensions):
                continue
            lo = -math.inf if start is None else start
            hi = math.inf if end is None else end
            mask |= (ts >= lo) & (ts < hi)
        return mask


@dataclass
class _Row:
    """One metric's points to score at one time scale."""

    metric: Metric
    state: DetectorState
    ts: np.ndarray
    values: np.ndarray
    level: float
    learn: bool
    prev_last: float | None = None
    """The newest point scored before this batch (to tell which buckets just closed)."""


class DetectConsumer:
    name = "detect"

    def consume(self, session: Session, spans: list[Span]) -> None:
        if not spans:
            return
        ids = [span.metric_id for span in spans]
        metrics = {m.id: m for m in session.scalars(select(Metric).where(Metric.id.in_(ids)))}
        spans = [span for span in spans if span.metric_id in metrics]  # deleted meanwhile
        now = clock.now().timestamp()
        controls = {
            org_id: Controls.load(session, org_id, now) for org_id in {s.org_id for s in spans}
        }
        states = _states(session, ids, 0)
        rows = []
        late = []
        for batch in load_batches(session, spans):
            metric = metrics[batch.metric_id]
            state = states.get(metric.id) or _new_state(session, metric.id, 0, states)
            control = controls[metric.org_id]
            fresh = batch.timestamps > (state.last_ts if state.last_ts is not None else -1.0)
            if not fresh.all():
                row = _late_row(session, metric, state, batch, ~fresh, control)
                if row is not None:
                    late.append(row)
            ts, values = batch.timestamps[fresh], batch.values[fresh]
            if len(ts) == 0:
                continue
            values = np.where(control.excluded(metric, ts), np.nan, values)
            rows.append(
                _Row(
                    metric,
                    state,
                    ts,
                    values,
                    control.decision_level(metric),
                    metric.id not in control.paused,
                    state.last_ts,
                )
            )
        _score_late(session, late)  # against the models before this batch's new points
        _score(session, rows, timescale=0)
        for timescale in ROLLUP_TIMESCALES:
            _score_rollups(session, rows, controls, timescale)


def _late_row(session, metric, state, batch, stale, control) -> _Row | None:
    """The points of ``batch`` older than the metric's newest scored point that have no
    score yet (a span also covers points another writer's batch already delivered)."""
    ts, values = batch.timestamps[stale], batch.values[stale]
    scored = set(
        session.scalars(
            select(PointScore.ts).where(
                PointScore.metric_id == metric.id,
                PointScore.timescale == 0,
                PointScore.ts >= float(ts[0]),
                PointScore.ts <= float(ts[-1]),
            )
        )
    )
    new = np.array([t not in scored for t in ts.tolist()], dtype=bool)
    in_window = ts >= state.last_ts - LATE_WINDOW_S
    state.late_points += int((new & ~in_window).sum())
    keep = new & in_window
    if not keep.any():
        return None
    ts, values = ts[keep], values[keep]
    values = np.where(control.excluded(metric, ts), np.nan, values)
    return _Row(metric, state, ts, values, control.decision_level(metric), False)


def _score_late(session: Session, rows: list[_Row]) -> None:
    """Score late points against each metric's current model, without learning; a late
    point that alone reaches the decision level, outside the metric's anomalies, opens
    (and closes) a one-point anomaly."""
    if not rows:
        return
    result, _ = _run(rows, learn=False)
    scored = []
    for i, r in enumerate(rows):
        interval = _interval(r.state)
        for j in np.flatnonzero(~np.isnan(r.values)):
            score = float(np.round(100.0 * result.scores[i, j], 3))
            exp = float(result.expected[i, j])
            lower, upper = result.lower[i, j], result.upper[i, j]
            ts, value = float(r.ts[j]), float(r.values[j])
            scored.append((r.metric.id, 0, ts, score, _finite(exp), _finite(lower), _finite(upper)))
            r.state.points += 1
            if score >= 100.0 * r.level and not _covered(session, r.metric.id, ts, interval):
                anomaly = _open(session, r.metric, 0, ts, value, exp, score, interval)
                _close(session, anomaly)
    _save_scores(session, scored)


def _covered(session: Session, metric_id: int, ts: float, interval: float) -> bool:
    """Whether one of the metric's native anomalies spans ``ts`` (give or take a point)."""
    return (
        session.scalar(
            select(MetricAnomaly.id)
            .where(
                MetricAnomaly.metric_id == metric_id,
                MetricAnomaly.timescale == 0,
                MetricAnomaly.start <= ts + interval,
                MetricAnomaly.end >= ts - interval,
            )
            .limit(1)
        )
        is not None
    )


def _states(session: Session, metric_ids: list[int], timescale: int) -> dict[int, DetectorState]:
    stmt = select(DetectorState).where(
        DetectorState.metric_id.in_(metric_ids), DetectorState.timescale == timescale
    )
    return {s.metric_id: s for s in session.scalars(stmt)}


def _new_state(session, metric_id, timescale, states) -> DetectorState:
    state = DetectorState(
        metric_id=metric_id,
        timescale=timescale,
        state=kernel.new_state(1)[:, 0].astype("<f8").tobytes(),
        last_ts=None,
        points=0,
        late_points=0,
    )
    session.add(state)
    states[metric_id] = state
    return state


def _run(rows: list[_Row], learn: bool):
    """Run the engine over ``rows`` at once (NaN-padded to the longest); answers its
    result and the states after it, one column per row."""
    n = max(len(r.ts) for r in rows)
    values = np.full((len(rows), n), np.nan)
    seconds = np.zeros((len(rows), n))
    for i, r in enumerate(rows):
        values[i, : len(r.ts)] = r.values
        seconds[i, : len(r.ts)] = r.ts
        seconds[i, len(r.ts) :] = r.ts[-1]
    # states stored by an earlier version of the detector are upgraded as they are read
    matrix = np.stack([kernel.upgrade(np.frombuffer(r.state.state, dtype="<f8")) for r in rows], 1)
    levels = np.array([r.level for r in rows])
    result = score_matrix(values, seconds, decision_level=levels, state=matrix, learn=learn)
    return result, matrix


def _score(session: Session, rows: list[_Row], timescale: int) -> None:
    """Score ``rows`` (vectorised per learn flag) and track their anomalies."""
    for learn in (True, False):
        group = [r for r in rows if r.learn is learn and len(r.ts)]
        if not group:
            continue
        result, matrix = _run(group, learn)
        scored = []
        for i, r in enumerate(group):
            k = len(r.ts)
            valid = ~np.isnan(r.values)
            scores = np.where(valid, np.round(100.0 * result.scores[i, :k], 3), np.nan)
            expected, lower, upper = (
                a[i, :k] for a in (result.expected, result.lower, result.upper)
            )
            for j in np.flatnonzero(valid):
                scored.append(
                    (
                        r.metric.id,
                        timescale,
                        float(r.ts[j]),
                        float(scores[j]),
                        _finite(expected[j]),
                        _finite(lower[j]),
                        _finite(upper[j]),
                    )
                )
            r.state.state = matrix[:, i].astype("<f8").tobytes()  # before _track: its dt
            _track(session, r, timescale, scores, result.is_anomaly[i, :k], expected)
            r.state.last_ts = float(r.ts[-1])
            r.state.points += int(valid.sum())
            r.state.updated_at = clock.now()
        _save_scores(session, scored)


_SAVE_SCORES = """
    INSERT INTO metric_score (metric_id, timescale, ts, score, expected, lower, upper)
    VALUES ({m}, {m}, {m}, {m}, {m}, {m}, {m})
    ON CONFLICT (metric_id, timescale, ts) DO UPDATE SET score = excluded.score,
      expected = excluded.expected, lower = excluded.lower, upper = excluded.upper"""


def _save_scores(session: Session, rows: list[tuple]) -> None:
    """Plain driver executemany (SQLAlchemy's per-row parameter handling costs more
    than the insert itself at a thousand rows)."""
    if rows:
        mark = "?" if session.get_bind().dialect.name == "sqlite" else "%s"
        session.connection().exec_driver_sql(_SAVE_SCORES.format(m=mark), rows)


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _track(
    session: Session,
    row: _Row,
    timescale: int,
    scores: np.ndarray,
    alarms: np.ndarray,
    expected: np.ndarray,
) -> None:
    """Open, extend and close the metric's anomaly along its scored points.

    The peak is the point that deviates most from what was expected (not the first
    point, which scores highest because later points of the same anomaly are scored as
    no news). A native anomaly closes after CLOSE_RUN calm points, so that one incident
    whose points flicker across the threshold stays one anomaly; an hourly or daily one
    closes at its first calm bucket, not hours or days after its condition ended.
    """
    state = row.state
    anomaly = session.get(MetricAnomaly, state.open_anomaly_id) if state.open_anomaly_id else None
    calm = anomaly.closing if anomaly is not None else 0
    interval = float(timescale) if timescale else _interval(row.state)
    close_run = CLOSE_RUN if timescale == 0 else 1
    for j in range(len(row.ts)):
        score = scores[j]
        if math.isnan(score):
            continue
        ts, value, exp = float(row.ts[j]), float(row.values[j]), float(expected[j])
        if anomaly is None:
            if alarms[j]:
                anomaly = _open(session, row.metric, timescale, ts, value, exp, score, interval)
                calm = 0
            continue
        if score >= CLOSE_SCORE:
            calm = 0
            anomaly.end = ts
            anomaly.points += 1
            anomaly.peak_score = max(anomaly.peak_score, float(score))
            if math.isfinite(exp) and abs(value - exp) > abs(anomaly.delta):
                _set_peak(anomaly, ts, value, exp)
            _group_update(session, anomaly)
        else:
            calm += 1
            if calm >= close_run:
                _close(session, anomaly)
                anomaly = None
    state.open_anomaly_id = anomaly.id if anomaly is not None else None
    if anomaly is not None:
        anomaly.closing = calm


def _interval(state: DetectorState) -> float:
    dt = float(np.frombuffer(state.state, dtype="<f8")[kernel.F["dt"]])
    return dt if math.isfinite(dt) and dt > 0 else 60.0


def _set_peak(anomaly: MetricAnomaly, ts: float, value: float, exp: float) -> None:
    """The anomaly's peak: the point ``ts`` of value ``value`` where ``exp`` was expected."""
    anomaly.peak_ts = ts
    anomaly.peak_value = value
    anomaly.expected = exp if math.isfinite(exp) else value
    anomaly.delta = value - anomaly.expected
    anomaly.delta_pct = (
        100.0 * anomaly.delta / abs(anomaly.expected) if abs(anomaly.expected) > 1e-12 else None
    )
    anomaly.direction = "up" if anomaly.delta >= 0 else "down"


def _open(session, metric, timescale, ts, value, exp, score, interval) -> MetricAnomaly:
    anomaly = MetricAnomaly(
        org_id=metric.org_id,
        metric_id=metric.id,
        timescale=timescale,
        type="transient",
        state="open",
        start=ts,
        end=ts,
        points=1,
        interval=interval,
        closing=0,
    )
    anomaly.peak_score = float(score)
    _set_peak(anomaly, ts, value, exp)
    grace = 3 * interval
    group = session.scalar(
        select(AnomalyGroup)
        .where(
            AnomalyGroup.org_id == metric.org_id,
            AnomalyGroup.what == metric.what,
            AnomalyGroup.timescale == timescale,
            AnomalyGroup.end >= ts - grace,
            AnomalyGroup.start <= ts + grace,  # metrics may be scored out of time order
        )
        .order_by(AnomalyGroup.id.desc())
        .limit(1)
    )
    if group is None:
        group = AnomalyGroup(
            org_id=metric.org_id,
            what=metric.what,
            timescale=timescale,
            state="open",
            start=ts,
            end=ts,
            peak_score=anomaly.peak_score,
            metric_count=0,
            direction=anomaly.direction,
            delta=anomaly.delta,
            delta_pct=anomaly.delta_pct,
        )
        session.add(group)
        session.flush()
    anomaly.group_id = group.id
    session.add(anomaly)
    session.flush()
    _group_update(session, anomaly)
    _opened_event(session, metric, anomaly)
    return anomaly


def _opened_event(session: Session, metric: Metric, anomaly: MetricAnomaly) -> None:
    """The platform event ``anomaly.opened``: one row per anomaly opened, in the
    transaction that opened it (no lookups: detection's hot path)."""
    events.emit(
        session,
        org_id=metric.org_id,
        type="anomaly.opened",
        data={
            "anomaly_id": anomaly.id,
            "group_id": anomaly.group_id,
            "metric_id": metric.id,
            "metric": metric.name,
            "what": metric.what,
            "timescale": TIMESCALES.get(anomaly.timescale, "native"),
            "start": float(anomaly.start),
            "score": _finite(anomaly.peak_score),
            "value": _finite(anomaly.peak_value),
            "expected": _finite(anomaly.expected),
            "direction": anomaly.direction,
        },
    )


def _close(session: Session, anomaly: MetricAnomaly) -> None:
    anomaly.state = "closed"
    anomaly.closing = 0
    _group_update(session, anomaly)


def _group_update(session: Session, anomaly: MetricAnomaly) -> None:
    if anomaly.points >= PATTERN_POINTS:
        anomaly.type = "pattern_change"
    session.flush()
    group = session.get_one(AnomalyGroup, anomaly.group_id)
    members = list(session.scalars(select(MetricAnomaly).where(MetricAnomaly.group_id == group.id)))
    strongest = max(members, key=lambda a: a.peak_score)
    group.start = min(a.start for a in members)
    group.end = max(a.end for a in members)
    group.peak_score = strongest.peak_score
    group.delta, group.delta_pct = strongest.delta, strongest.delta_pct
    directions = {a.direction for a in members}
    group.direction = directions.pop() if len(directions) == 1 else "both"
    group.metric_count = len({a.metric_id for a in members})
    group.state = "open" if any(a.state == "open" for a in members) else "closed"
    group.updated_at = clock.now()


def _newest(row: _Row) -> float:
    """The newest point scored for the row's metric (this batch's last, once scored)."""
    last = row.state.last_ts
    return float(row.ts[-1]) if last is None else last


def _score_rollups(
    session: Session, rows: list[_Row], controls: dict[int, Controls], timescale: int
) -> None:
    """Score the ``timescale`` buckets that the new native points closed."""
    candidates = [
        r
        for r in rows
        if 0 < _interval(r.state) <= timescale / 4
        and (
            r.prev_last is None
            or math.floor(r.prev_last / timescale) < math.floor(_newest(r) / timescale)
        )
    ]
    if not candidates:
        return
    states = _states(session, [r.metric.id for r in candidates], timescale)
    bucket = bucket_sql(session.get_bind().dialect.name, "ts", timescale)
    sql = text(
        f"SELECT {bucket} AS b, count(*), sum(value) FROM metric_point "
        "WHERE metric_id = :m AND ts >= :lo AND ts < :hi GROUP BY b ORDER BY b"
    )
    todo = []
    for r in candidates:
        state = states.get(r.metric.id) or _new_state(session, r.metric.id, timescale, states)
        closed_before = math.floor(_newest(r) / timescale) * timescale
        if state.last_ts is not None:
            lo = state.last_ts + timescale
        else:
            lo = math.floor((r.metric.first_ts or r.ts[0]) / timescale) * timescale
        if closed_before <= lo:
            continue
        buckets = session.execute(sql, {"m": r.metric.id, "lo": lo, "hi": closed_before}).all()
        if not buckets:
            continue
        ts = np.array([float(b[0]) for b in buckets])
        counter = r.metric.target_type == "counter"
        values = np.array([float(b[2]) if counter else float(b[2]) / b[1] for b in buckets])
        values = np.where(controls[r.metric.org_id].excluded(r.metric, ts), np.nan, values)
        todo.append(_Row(r.metric, state, ts, values, r.level, r.learn))
    _score(session, todo, timescale)
