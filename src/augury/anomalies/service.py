"""Anomalies: list, count and read them; detection controls (learning, exclusions,
sensitivity); the scores and band that go with a metric's points."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.anomalies.detection import SENSITIVITY
from augury.anomalies.models import (
    TIMESCALE_BY_NAME,
    TIMESCALES,
    AnomalyGroup,
    Exclusion,
    LearningPause,
    MetricAnomaly,
    PointScore,
    SensitivityRule,
)
from augury.errors import ValidationFailed
from augury.metrics import service as metrics_service
from augury.metrics.models import Metric
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate

SORTS = {
    "-score": (AnomalyGroup.peak_score.desc(), AnomalyGroup.id.desc()),
    "score": (AnomalyGroup.peak_score.asc(), AnomalyGroup.id.asc()),
    "-start": (AnomalyGroup.start.desc(), AnomalyGroup.id.desc()),
    "start": (AnomalyGroup.start.asc(), AnomalyGroup.id.asc()),
    "-duration": ((AnomalyGroup.end - AnomalyGroup.start).desc(), AnomalyGroup.id.desc()),
}


@dataclass(frozen=True)
class AnomalyFilter:
    start: float | None = None
    end: float | None = None
    min_score: float | None = None
    min_duration: float | None = None
    min_delta: float | None = None
    min_delta_pct: float | None = None
    direction: str | None = None
    state: str | None = None
    timescale: str | None = None
    q: str | None = None


def _conditions(org_id: int, f: AnomalyFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [AnomalyGroup.org_id == org_id]
    if f.start is not None:
        where.append(AnomalyGroup.end >= f.start)
    if f.end is not None:
        where.append(AnomalyGroup.start < f.end)
    if f.min_score is not None:
        where.append(AnomalyGroup.peak_score >= f.min_score)
    if f.min_duration is not None:
        # A group's duration is its span; a one-point anomaly lasts one interval.
        longest = (
            select(func.max(MetricAnomaly.end - MetricAnomaly.start + MetricAnomaly.interval))
            .where(MetricAnomaly.group_id == AnomalyGroup.id)
            .scalar_subquery()
        )
        where.append(longest >= f.min_duration)
    if f.min_delta is not None:
        where.append(func.abs(AnomalyGroup.delta) >= f.min_delta)
    if f.min_delta_pct is not None:
        where.append(func.abs(AnomalyGroup.delta_pct) >= f.min_delta_pct)
    if f.direction:
        where.append(AnomalyGroup.direction.in_([f.direction, "both"]))
    if f.state:
        where.append(AnomalyGroup.state == f.state)
    if f.timescale:
        where.append(AnomalyGroup.timescale == TIMESCALE_BY_NAME[f.timescale])
    if f.q:
        tree = metrics_service.parse_expression(f.q)
        where.append(
            exists().where(
                MetricAnomaly.group_id == AnomalyGroup.id,
                Metric.id == MetricAnomaly.metric_id,
                metrics_service.expression_clause(tree),
            )
        )
    return where


def list_page(
    *, session: Session, org_id: int, page: PageParams, filters: AnomalyFilter, sort: str
) -> tuple[list[AnomalyGroup], int]:
    if sort not in SORTS:
        raise ValidationFailed(f"Unknown sort {sort!r}.", details={"allowed": list(SORTS)})
    stmt = select(AnomalyGroup).where(*_conditions(org_id, filters)).order_by(*SORTS[sort])
    return paginate(session, stmt, page)


def count(*, session: Session, org_id: int, filters: AnomalyFilter) -> dict:
    where = _conditions(org_id, filters)
    total = session.scalar(select(func.count()).select_from(AnomalyGroup).where(*where)) or 0
    by_state = dict(
        session.execute(
            select(AnomalyGroup.state, func.count()).where(*where).group_by(AnomalyGroup.state)
        ).all()
    )
    return {
        "total": int(total),
        "open": int(by_state.get("open", 0)),
        "closed": int(by_state.get("closed", 0)),
    }


def get_or_raise(*, session: Session, org_id: int, anomaly_id: int) -> AnomalyGroup:
    return get_owned(session, AnomalyGroup, org_id, anomaly_id, "Anomaly")


def members(session: Session, groups: list[AnomalyGroup]) -> dict[int, list[tuple]]:
    """Group id -> [(MetricAnomaly, Metric)] for a page of groups."""
    if not groups:
        return {}
    rows = session.execute(
        select(MetricAnomaly, Metric)
        .join(Metric, Metric.id == MetricAnomaly.metric_id)
        .where(MetricAnomaly.group_id.in_([g.id for g in groups]))
        .order_by(MetricAnomaly.peak_score.desc(), MetricAnomaly.id)
    ).all()
    out: dict[int, list[tuple]] = {g.id: [] for g in groups}
    for anomaly, metric in rows:
        out[anomaly.group_id].append((anomaly, metric))
    return out


# ------------------------------------------------------------------- scores & band


def band(
    session: Session, metric_id: int, timescale: int, timestamps: list[float]
) -> dict[str, list[float | None]] | None:
    """Score (0-100), expected, lower and upper aligned to ``timestamps``; None if the
    metric was never scored at this time scale."""
    if not timestamps:
        return None
    rows = session.execute(
        select(
            PointScore.ts, PointScore.score, PointScore.expected, PointScore.lower, PointScore.upper
        ).where(
            PointScore.metric_id == metric_id,
            PointScore.timescale == timescale,
            PointScore.ts >= timestamps[0],
            PointScore.ts <= timestamps[-1],
        )
    ).all()
    if not rows:
        return None
    by_ts = {r[0]: r[1:] for r in rows}
    empty = (None, None, None, None)
    cols = list(zip(*(by_ts.get(t, empty) for t in timestamps), strict=True))
    return {
        "scores": list(cols[0]),
        "expected": list(cols[1]),
        "lower": list(cols[2]),
        "upper": list(cols[3]),
    }


def metric_anomalies(
    session: Session, metric_id: int, start: float, end: float
) -> list[MetricAnomaly]:
    stmt = (
        select(MetricAnomaly)
        .where(
            MetricAnomaly.metric_id == metric_id,
            MetricAnomaly.end >= start,
            MetricAnomaly.start < end,
        )
        .order_by(MetricAnomaly.start)
    )
    return list(session.scalars(stmt))


# ------------------------------------------------------------------------ controls


def pause_learning(
    *, session: Session, org_id: int, metric_ids: list[int], until: float | None, user_id
) -> int:
    for metric_id in metric_ids:
        row = session.get(LearningPause, metric_id)
        if row is None:
            session.add(
                LearningPause(
                    org_id=org_id, metric_id=metric_id, until=until, created_by_id=user_id
                )
            )
        else:
            row.until, row.created_by_id = until, user_id
    return len(metric_ids)


def resume_learning(*, session: Session, org_id: int, metric_ids: list[int]) -> int:
    result = session.execute(
        delete(LearningPause).where(
            LearningPause.org_id == org_id, LearningPause.metric_id.in_(metric_ids)
        )
    )
    return int(result.rowcount or 0)


def paused(session: Session, org_id: int) -> list[LearningPause]:
    now = clock.now().timestamp()
    stmt = select(LearningPause).where(LearningPause.org_id == org_id)
    return [p for p in session.scalars(stmt) if p.until is None or p.until > now]


def create_exclusion(*, session: Session, org_id: int, expression: str, start, end, reason):
    metrics_service.parse_expression(expression)
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("'end' must be after 'start'.")
    row = Exclusion(org_id=org_id, expression=expression, start=start, end=end, reason=reason)
    session.add(row)
    session.flush()
    return row


def create_rule(*, session: Session, org_id: int, expression: str, sensitivity: str):
    metrics_service.parse_expression(expression)
    if sensitivity not in SENSITIVITY:
        raise ValidationFailed("Unknown sensitivity.", details={"allowed": list(SENSITIVITY)})
    row = SensitivityRule(org_id=org_id, expression=expression, sensitivity=sensitivity)
    session.add(row)
    session.flush()
    return row


def chart_overlay(session: Session, s: metrics_service.Series) -> dict:
    """The learned band and scores at this resolution, and the anomalies in range."""
    out: dict = {}
    timescale = TIMESCALE_BY_NAME.get(s.resolution)
    if timescale is not None:
        out.update(band(session, s.metric.id, timescale, s.timestamps) or {})
    out["anomalies"] = [
        {
            "anomaly_id": a.group_id,
            "timescale": TIMESCALES[a.timescale],
            "state": a.state,
            "start": a.start,
            "end": a.end,
            "peak_score": a.peak_score,
            "direction": a.direction,
        }
        for a in metric_anomalies(session, s.metric.id, s.start, s.end)
    ]
    return out
