"""Feedback on anomalies and triggered alerts: *not interesting* teaches each metric
involved that deviations like this one are benign, *good catch* that they matter (the
science is :mod:`augury.engines.detect.feedback`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.alerts import evaluate
from augury.alerts.models import AlertTrigger, AlertTriggerMetric, Feedback, FeedbackProfile
from augury.alerts.schemas import FeedbackCreate
from augury.anomalies.models import AnomalyGroup, MetricAnomaly
from augury.engines.detect import feedback as feedback_engine
from augury.metrics import service as metrics_service
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate


def get(session: Session, org_id: int, feedback_id: int) -> Feedback:
    return get_owned(session, Feedback, org_id, feedback_id, "Feedback")


def list_page(
    session: Session,
    org_id: int,
    page: PageParams,
    start: float | None = None,
    end: float | None = None,
    type: str | None = None,
    anomaly_id: int | None = None,
    trigger_id: int | None = None,
) -> tuple[list[Feedback], int]:
    stmt = select(Feedback).where(Feedback.org_id == org_id)
    if start is not None:
        stmt = stmt.where(Feedback.created_at >= datetime.fromtimestamp(start, UTC))
    if end is not None:
        stmt = stmt.where(Feedback.created_at < datetime.fromtimestamp(end, UTC))
    if type:
        stmt = stmt.where(Feedback.type == type)
    if anomaly_id is not None:
        stmt = stmt.where(Feedback.anomaly_group_id == anomaly_id, Feedback.trigger_id.is_(None))
    if trigger_id is not None:
        stmt = stmt.where(Feedback.trigger_id == trigger_id)
    return paginate(session, stmt.order_by(Feedback.id.desc()), page)


def give(session: Session, principal: Principal, body: FeedbackCreate) -> Feedback:
    """Record feedback; *not interesting* teaches each metric involved that deviations
    like this one are benign, *good catch* that they matter (see
    :mod:`augury.engines.detect.feedback`). A person's new answer on the same alert or
    anomaly replaces their previous one."""
    org_id, user_id = principal.org_id, principal.user_id
    if body.trigger_id is not None:
        trigger = get_owned(session, AlertTrigger, org_id, body.trigger_id, "Triggered alert")
        anomaly_ids = [
            a
            for a in session.scalars(
                select(AlertTriggerMetric.anomaly_id).where(
                    AlertTriggerMetric.trigger_id == trigger.id
                )
            )
            if a is not None
        ]
        anomalies = (
            list(session.scalars(select(MetricAnomaly).where(MetricAnomaly.id.in_(anomaly_ids))))
            if anomaly_ids
            else []
        )
        group_id = anomalies[0].group_id if anomalies else None
        peak = trigger.peak_score
        metric_ids = list(
            session.scalars(
                select(AlertTriggerMetric.metric_id).where(
                    AlertTriggerMetric.trigger_id == trigger.id
                )
            )
        )
    else:
        anomaly_id = cast(int, body.anomaly_id)  # FeedbackCreate: one of the two is given
        group = get_owned(session, AnomalyGroup, org_id, anomaly_id, "Anomaly")
        anomalies = list(
            session.scalars(select(MetricAnomaly).where(MetricAnomaly.group_id == group.id))
        )
        group_id, peak = group.id, group.peak_score
        metric_ids = sorted({a.metric_id for a in anomalies})
    same = select(Feedback.id).where(Feedback.org_id == org_id, Feedback.user_id == user_id)
    if body.trigger_id is not None:
        same = same.where(Feedback.trigger_id == body.trigger_id)
    else:
        same = same.where(Feedback.anomaly_group_id == group_id, Feedback.trigger_id.is_(None))
    for previous in list(session.scalars(same)):  # one answer per person: the newest
        delete(session, get(session, org_id, previous))
    row = Feedback(
        org_id=org_id,
        type=body.type,
        comment=body.comment,
        anomaly_group_id=group_id,
        trigger_id=body.trigger_id,
        user_id=user_id,
        origin=body.origin,
        metric_ids=metric_ids,
        peak_score=peak,
    )
    session.add(row)
    learned: list[str] = []
    for anomaly in anomalies:
        profile = _learn(session, org_id, anomaly, body.type)
        if body.type == "not_interesting":
            verdict = feedback_engine.judge(
                profile,
                evaluate.deviation(anomaly, session),
                interval_s=anomaly.interval or feedback_engine.DEFAULT_INTERVAL_S,
            )
            if verdict.rule is not None and verdict.rule.text() not in learned:
                learned.append(verdict.rule.text())
    session.flush()
    row.learned = learned  # type: ignore[attr-defined]  # read-only, in this answer only
    return row


def _learn(
    session: Session, org_id: int, anomaly: MetricAnomaly, kind: str
) -> feedback_engine.BenignProfile:
    """Teach the anomaly's metric profile one example of ``kind`` (a stored type); the
    profile it now has."""
    profile_row = session.get(FeedbackProfile, anomaly.metric_id)
    if profile_row is None:
        profile_row = FeedbackProfile(org_id=org_id, metric_id=anomaly.metric_id, profile={})
        session.add(profile_row)
    profile = feedback_engine.from_json(profile_row.profile or {})
    profile = feedback_engine.add_feedback(
        profile, evaluate.deviation(anomaly, session), cast(feedback_engine.Kind, kind)
    )
    profile_row.profile = feedback_engine.to_json(profile)
    profile_row.updated_at = clock.now()
    return profile


def delete(session: Session, row: Feedback) -> None:
    """Withdraw feedback: the profiles of its metrics are rebuilt from what remains."""
    org_id = row.org_id
    metric_ids = list(row.metric_ids or [])
    session.delete(row)
    session.flush()
    session.execute(sql_delete(FeedbackProfile).where(FeedbackProfile.metric_id.in_(metric_ids)))
    remaining = session.scalars(
        select(Feedback).where(Feedback.org_id == org_id).order_by(Feedback.id)
    )
    for fb in remaining:
        if not set(fb.metric_ids or []) & set(metric_ids):
            continue
        q = select(MetricAnomaly).where(MetricAnomaly.metric_id.in_(metric_ids))
        if fb.trigger_id is not None:
            q = q.where(
                MetricAnomaly.id.in_(
                    select(AlertTriggerMetric.anomaly_id).where(
                        AlertTriggerMetric.trigger_id == fb.trigger_id
                    )
                )
            )
        elif fb.anomaly_group_id is not None:
            q = q.where(MetricAnomaly.group_id == fb.anomaly_group_id)
        else:
            continue
        for anomaly in session.scalars(q):
            _learn(session, org_id, anomaly, fb.type)
        session.flush()


def metric_profile(session: Session, org_id: int, metric_id: int) -> dict:
    """What feedback taught about a metric: the deviations marked benign or real, and
    (read-only, computed) the rules they teach, in words."""
    metrics_service.get_or_raise(session=session, org_id=org_id, metric_id=metric_id)
    row = session.get(FeedbackProfile, metric_id)
    if row is None:
        return {}
    return {
        **row.profile,
        "rules": feedback_engine.rule_texts(
            feedback_engine.from_json(row.profile), interval_s=_interval(session, metric_id)
        ),
    }


def _interval(session: Session, metric_id: int) -> float:
    """The metric's sampling interval, as its newest anomaly measured it."""
    interval = session.scalar(
        select(MetricAnomaly.interval)
        .where(MetricAnomaly.metric_id == metric_id, MetricAnomaly.timescale == 0)
        .order_by(MetricAnomaly.id.desc())
        .limit(1)
    )
    return float(interval) if interval else feedback_engine.DEFAULT_INTERVAL_S
