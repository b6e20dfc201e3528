"""Triggered alerts: listing and reading them, and what people do with them
(acknowledge, resolve by hand), audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import User
from augury.accounts.principal import Principal
from augury.alerts import notify
from augury.alerts.models import AlertConfig, AlertTrigger, AlertTriggerMetric
from augury.alerts.services.auditing import record_change
from augury.anomalies.models import MetricAnomaly
from augury.audit import service as audit
from augury.errors import ValidationFailed
from augury.metrics import service as metrics_service
from augury.metrics.models import Metric
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate

TRIGGER_SORTS = {
    "start": AlertTrigger.start,
    "updated": AlertTrigger.updated,
    "score": AlertTrigger.peak_score,
    "metrics": AlertTrigger.metric_count,
}
_ACK_FIELDS = ("acknowledged_by_id",)
_RESOLVE_FIELDS = ("status", "resolved_by_id")


@dataclass(frozen=True)
class TriggerFilter:
    """What the list and the count of triggered alerts share: severities, configurations,
    types, the time range they overlap, a metric expression they involve, acknowledgement
    and the Anomaly (group) that raised them."""

    severities: list[str] | None = None
    config_ids: list[int] | None = None
    types: list[str] | None = None
    start: float | None = None
    end: float | None = None
    q: str | None = None
    acknowledged: bool | None = None
    anomaly_id: int | None = None


def _query(org_id: int, f: TriggerFilter, status: str | None = None) -> Select:
    severities, config_ids, types, start, end = f.severities, f.config_ids, f.types, f.start, f.end
    q, acknowledged, anomaly_id = f.q, f.acknowledged, f.anomaly_id
    stmt = select(AlertTrigger).where(AlertTrigger.org_id == org_id)
    if acknowledged is not None:
        ack = AlertTrigger.acknowledged_at
        stmt = stmt.where(ack.is_not(None) if acknowledged else ack.is_(None))
    if anomaly_id is not None:
        stmt = stmt.where(
            AlertTrigger.id.in_(
                select(AlertTriggerMetric.trigger_id)
                .join(MetricAnomaly, MetricAnomaly.id == AlertTriggerMetric.anomaly_id)
                .where(MetricAnomaly.group_id == anomaly_id)
            )
        )
    if status:
        stmt = stmt.where(AlertTrigger.status == status)
    if severities:
        stmt = stmt.where(AlertTrigger.severity.in_(severities))
    if config_ids:
        stmt = stmt.where(AlertTrigger.config_id.in_(config_ids))
    if types:
        stmt = stmt.where(AlertTrigger.type.in_(types))
    if start is not None:
        stmt = stmt.where(func.coalesce(AlertTrigger.end, AlertTrigger.updated) >= start)
    if end is not None:
        stmt = stmt.where(AlertTrigger.start < end)
    if q:
        tree = metrics_service.parse_expression(q)
        stmt = stmt.where(
            AlertTrigger.id.in_(
                select(AlertTriggerMetric.trigger_id)
                .join(Metric, Metric.id == AlertTriggerMetric.metric_id)
                .where(metrics_service.expression_clause(tree))
            )
        )
    return stmt


def list_page(
    session: Session,
    org_id: int,
    page: PageParams,
    filters: TriggerFilter,
    *,
    status: str | None = None,
    sort: str = "start",
    order: str = "desc",
) -> tuple[list[AlertTrigger], int]:
    if sort not in TRIGGER_SORTS:
        raise ValidationFailed(
            f"Unknown sort {sort!r}.", details={"allowed": sorted(TRIGGER_SORTS)}
        )
    column = TRIGGER_SORTS[sort]
    stmt = _query(org_id, filters, status).order_by(
        column.desc() if order == "desc" else column.asc(), AlertTrigger.id.desc()
    )
    return paginate(session, stmt, page)


def count(session: Session, org_id: int, filters: TriggerFilter) -> dict:
    """How many match, open and closed."""
    sub = _query(org_id, filters).subquery()
    rows = {
        status: n
        for status, n in session.execute(
            select(sub.c.status, func.count()).group_by(sub.c.status)
        ).all()
    }
    return {
        "total": sum(rows.values()),
        "open": rows.get("open", 0),
        "closed": rows.get("closed", 0),
    }


def get(session: Session, org_id: int, trigger_id: int) -> AlertTrigger:
    return get_owned(session, AlertTrigger, org_id, trigger_id, "Triggered alert")


def read(session: Session, trigger: AlertTrigger, base_url: str) -> dict:
    """The triggered alert as the API answers it, with its metrics."""
    rows = session.execute(
        select(AlertTriggerMetric, Metric, MetricAnomaly.group_id)
        .join(Metric, Metric.id == AlertTriggerMetric.metric_id)
        .outerjoin(MetricAnomaly, MetricAnomaly.id == AlertTriggerMetric.anomaly_id)
        .where(AlertTriggerMetric.trigger_id == trigger.id)
        .order_by(AlertTriggerMetric.score.desc().nulls_last(), Metric.id)
    ).all()
    end = trigger.end if trigger.end is not None else trigger.updated
    config = session.get(AlertConfig, trigger.config_id)
    people: dict[int | None, str] = {
        u.id: u.email
        for u in session.scalars(
            select(User).where(User.id.in_({trigger.acknowledged_by_id, trigger.resolved_by_id}))
        )
    }
    return {
        "config_title": config.title if config else "",
        "acknowledged_by": people.get(trigger.acknowledged_by_id),
        "resolved_by": people.get(trigger.resolved_by_id),
        **{
            c: getattr(trigger, c)
            for c in (
                "id",
                "config_id",
                "title",
                "type",
                "severity",
                "status",
                "start",
                "updated",
                "end",
                "peak_score",
                "direction",
                "group",
                "metric_count",
                "acknowledged_by_id",
                "acknowledged_at",
                "resolved_by_id",
                "silenced_by",
                "created_at",
            )
        },
        "duration": max(0.0, end - trigger.start),
        "url": f"{base_url.rstrip('/')}/alerts/triggered/{trigger.id}",
        "metrics": [
            {
                "metric_id": m.id,
                "name": m.name,
                "what": m.what,
                "dimensions": m.dimensions,
                "anomaly_id": group_id,
                **{
                    c: getattr(tm, c)
                    for c in (
                        "state",
                        "start",
                        "end",
                        "value",
                        "expected",
                        "delta",
                        "delta_pct",
                        "score",
                        "direction",
                    )
                },
            }
            for tm, m, group_id in rows
        ],
    }


def acknowledge(
    session: Session, principal: Principal, trigger: AlertTrigger, on: bool
) -> AlertTrigger:
    """Someone is on it (no more update messages; close still goes out), or not."""
    before = audit.snapshot(trigger, _ACK_FIELDS)
    trigger.acknowledged_by_id = principal.user_id if on else None
    trigger.acknowledged_at = clock.now() if on else None
    record_change(
        session=session,
        principal=principal,
        action="alert.acknowledge" if on else "alert.unacknowledge",
        target_id=trigger.id,
        target_type="triggered_alert",
        before=before,
        after=audit.snapshot(trigger, _ACK_FIELDS),
    )
    return trigger


def resolve(
    session: Session, principal: Principal, trigger: AlertTrigger, base_url: str
) -> AlertTrigger:
    """Close a triggered alert by hand (its close message goes out); the anomalies it
    holds do not open it again."""
    # The evaluator holds its configuration's row while it runs: wait for it, then look
    # at the trigger again. Closing under a running evaluation let it see the trigger
    # gone yet its anomalies not taken, so it opened a second alert (and closed it).
    session.get(AlertConfig, trigger.config_id, with_for_update=True)
    session.refresh(trigger)
    before = audit.snapshot(trigger, _RESOLVE_FIELDS)
    _close(session, trigger, principal.user_id, base_url)
    record_change(
        session=session,
        principal=principal,
        action="alert.resolve",
        target_id=trigger.id,
        target_type="triggered_alert",
        before=before,
        after=audit.snapshot(trigger, _RESOLVE_FIELDS),
    )
    return trigger


def _close(session: Session, trigger: AlertTrigger, user_id: int | None, base_url: str) -> None:
    if trigger.status == "closed":
        return
    now = clock.now().timestamp()
    config = session.get(AlertConfig, trigger.config_id)
    trigger.status = "closed"
    trigger.end = trigger.updated
    trigger.resolved_by_id = user_id
    for row in session.scalars(
        select(AlertTriggerMetric).where(AlertTriggerMetric.trigger_id == trigger.id)
    ):
        row.state = "closed"
    if config is not None and trigger.opened_sent and "close" in (config.notify_on or []):
        notify.enqueue(session, config, trigger, "close", now=now, base_url=base_url)
