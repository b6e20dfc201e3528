"""Anomalies: list, count, read and explain them (which dimension values drive one);
detection controls (learning, exclusions,
sensitivity); the scores and band that go with a metric's points.

A change of detection settings is audited here, by the function that makes it, with
the acting principal; functions never commit (the caller's unit of work does)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
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
from augury.anomalies.schemas import (
    ExclusionCreate,
    LearningStop,
    MetricSelection,
    SensitivityCreate,
)
from augury.audit import service as audit
from augury.engines.detect.explain import Explanation, Member, explain
from augury.errors import NotFound, ValidationFailed
from augury.metrics import service as metrics_service
from augury.metrics.models import Metric
from augury.store.db import changed
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


def members(
    session: Session, groups: list[AnomalyGroup]
) -> dict[int, list[tuple[MetricAnomaly, Metric]]]:
    """Group id -> [(MetricAnomaly, Metric)] for a page of groups."""
    if not groups:
        return {}
    rows = session.execute(
        select(MetricAnomaly, Metric)
        .join(Metric, Metric.id == MetricAnomaly.metric_id)
        .where(MetricAnomaly.group_id.in_([g.id for g in groups]))
        .order_by(MetricAnomaly.peak_score.desc(), MetricAnomaly.id)
    ).all()
    out: dict[int, list[tuple[MetricAnomaly, Metric]]] = {g.id: [] for g in groups}
    for anomaly, metric in rows:
        out[anomaly.group_id].append((anomaly, metric))
    return out


def explanation(
    *,
    session: Session,
    org_id: int,
    group: AnomalyGroup,
    parts: list[tuple[MetricAnomaly, Metric]] | None = None,
) -> Explanation:
    """Which dimension values drive the anomaly (``engines/detect/explain``): its
    metrics' deviations (``|delta|`` at each one's peak) against the dimensions of every
    metric of its ``what`` in the organization, anomalous or not."""
    if group.org_id != org_id:
        raise NotFound("Anomaly not found.")
    if parts is None:
        parts = members(session, [group])[group.id]
    population = session.scalars(
        select(Metric.dimensions).where(Metric.org_id == org_id, Metric.what == group.what)
    )
    return explain(
        [Member(metric.dimensions or {}, a.delta, a.expected) for a, metric in parts],
        (dims or {} for dims in population),
    )


RESOLUTION_OF = {0: "native", 3600: "1h", 86400: "1d"}
"""Time scale of an anomaly -> the resolution its points are read at."""
MAX_SERIES = 20
"""Metrics of one anomaly whose points come with its detail."""


def series_around(
    session: Session, parts: list[tuple[MetricAnomaly, Metric]], context_points: int
) -> list[dict]:
    """Per metric of an anomaly (the strongest ``MAX_SERIES``): its points from
    ``context_points`` intervals before to as many after, with scores and band."""
    series = []
    for anomaly, metric in parts[:MAX_SERIES]:
        pad = context_points * anomaly.interval
        s = metrics_service.timeseries(
            session=session,
            metric=metric,
            start=anomaly.start - pad,
            end=anomaly.end + pad + 1,
            resolution=RESOLUTION_OF[anomaly.timescale],
        )
        scored = band(session, metric.id, anomaly.timescale, s.timestamps) or {}
        series.append(
            {
                "metric_id": metric.id,
                "name": metric.name,
                "resolution": s.resolution,
                "timestamps": s.timestamps,
                "values": s.values,
                "scores": scored.get("scores"),
                "expected": scored.get("expected"),
                "lower": scored.get("lower"),
                "upper": scored.get("upper"),
            }
        )
    return series


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

_EXCLUSION_FIELDS = ("expression", "start", "end", "reason")
_RULE_FIELDS = ("expression", "sensitivity")


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    target_id: object,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Audit a change of detection settings (target type: the action's family)."""
    audit.record_change(
        session=session,
        principal=principal,
        action=action,
        target_type=action.split(".", 1)[0],
        target_id=target_id,
        before=before,
        after=after,
    )


def selected_metrics(*, session: Session, org_id: int, selection: MetricSelection) -> list[int]:
    """Ids of the metrics a selection names (NotFound for an id not in the organization)
    or whose expression matches."""
    if selection.q is not None:
        return metrics_service.ids_matching(session=session, org_id=org_id, q=selection.q)
    ids = sorted(set(selection.metric_ids or []))
    for metric_id in ids:
        metrics_service.get_or_raise(session=session, org_id=org_id, metric_id=metric_id)
    return ids


def stop_learning(
    *, session: Session, principal: Principal, selection: LearningStop
) -> tuple[int, float | None]:
    """Stop learning for the selected metrics (until ``duration_s`` from now, if set):
    how many metrics, and until when (epoch seconds; None: until resumed)."""
    ids = selected_metrics(session=session, org_id=principal.org_id, selection=selection)
    until = clock.now().timestamp() + selection.duration_s if selection.duration_s else None
    for metric_id in ids:
        row = session.get(LearningPause, metric_id)
        if row is None:
            session.add(
                LearningPause(
                    org_id=principal.org_id,
                    metric_id=metric_id,
                    until=until,
                    created_by_id=principal.user_id,
                )
            )
        else:
            row.until, row.created_by_id = until, principal.user_id
    _audit(session, principal, "learning.stop", None, after={"metric_ids": ids, "until": until})
    return len(ids), until


def resume_learning(*, session: Session, principal: Principal, selection: MetricSelection) -> int:
    """Resume learning for the selected metrics: how many were stopped."""
    ids = selected_metrics(session=session, org_id=principal.org_id, selection=selection)
    removed = changed(
        session,
        delete(LearningPause).where(
            LearningPause.org_id == principal.org_id, LearningPause.metric_id.in_(ids)
        ),
    )
    _audit(session, principal, "learning.resume", None, after={"metric_ids": ids})
    return removed


def paused(session: Session, org_id: int) -> list[LearningPause]:
    now = clock.now().timestamp()
    stmt = select(LearningPause).where(LearningPause.org_id == org_id)
    return [p for p in session.scalars(stmt) if p.until is None or p.until > now]


def list_exclusions(*, session: Session, org_id: int) -> list[Exclusion]:
    """Metrics and periods detection ignores, oldest first."""
    stmt = select(Exclusion).where(Exclusion.org_id == org_id).order_by(Exclusion.id)
    return list(session.scalars(stmt))


def get_exclusion(*, session: Session, org_id: int, exclusion_id: int) -> Exclusion:
    return get_owned(session, Exclusion, org_id, exclusion_id)


def create_exclusion(*, session: Session, principal: Principal, body: ExclusionCreate) -> Exclusion:
    """Ignore points of matching metrics (in a period, if given)."""
    metrics_service.parse_expression(body.expression)
    if body.start is not None and body.end is not None and body.end <= body.start:
        raise ValidationFailed("'end' must be after 'start'.")
    row = Exclusion(org_id=principal.org_id, **body.model_dump())
    session.add(row)
    session.flush()
    after = audit.snapshot(row, _EXCLUSION_FIELDS)
    _audit(session, principal, "exclusion.create", row.id, after=after)
    return row


def delete_exclusion(*, session: Session, principal: Principal, row: Exclusion) -> None:
    before = audit.snapshot(row, _EXCLUSION_FIELDS)
    _audit(session, principal, "exclusion.delete", row.id, before=before)
    session.delete(row)


def list_rules(*, session: Session, org_id: int) -> list[SensitivityRule]:
    """Sensitivity rules, newest (the one that applies first) first."""
    stmt = (
        select(SensitivityRule)
        .where(SensitivityRule.org_id == org_id)
        .order_by(SensitivityRule.id.desc())
    )
    return list(session.scalars(stmt))


def get_rule(*, session: Session, org_id: int, rule_id: int) -> SensitivityRule:
    return get_owned(session, SensitivityRule, org_id, rule_id)


def create_rule(
    *, session: Session, principal: Principal, body: SensitivityCreate
) -> SensitivityRule:
    """Set the sensitivity of matching metrics."""
    metrics_service.parse_expression(body.expression)
    if body.sensitivity not in SENSITIVITY:
        raise ValidationFailed("Unknown sensitivity.", details={"allowed": list(SENSITIVITY)})
    row = SensitivityRule(
        org_id=principal.org_id, expression=body.expression, sensitivity=body.sensitivity
    )
    session.add(row)
    session.flush()
    _audit(
        session,
        principal,
        "sensitivity_rule.create",
        row.id,
        after=audit.snapshot(row, _RULE_FIELDS),
    )
    return row


def delete_rule(*, session: Session, principal: Principal, row: SensitivityRule) -> None:
    before = audit.snapshot(row, _RULE_FIELDS)
    _audit(session, principal, "sensitivity_rule.delete", row.id, before=before)
    session.delete(row)


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
