"""From a triggered alert to rows in the delivery outbox.

:func:`enqueue` is called in the transaction that opened, updated or closed a
trigger. It picks the channels (the configuration's own plus those its routing table
names for the alert's dimension value), decides whether the message is held (an
active maintenance window, a suppress event or a snooze: the row is logged as
``silenced`` and nothing is sent), builds the :class:`Notification` and writes one
``alert_delivery`` row per channel. The dispatcher sends them later, so a slow or
broken channel never delays detection.
"""

from __future__ import annotations

import logging
from typing import Literal, TypeVar, get_args

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from augury.accounts.models import Organization
from augury.alerts import schedule
from augury.alerts.models import (
    AlertAction,
    AlertConfig,
    AlertTrigger,
    AlertTriggerMetric,
    Channel,
    Delivery,
    MaintenanceWindow,
    RoutingTable,
    UserEvent,
    ordinary_channel,
)
from augury.alerts.notification import Event, Notification, NotificationMetric, Severity
from augury.anomalies.models import TIMESCALES
from augury.metrics import expressions
from augury.metrics.models import Metric

log = logging.getLogger("augury.alerts")

EVENTS_AROUND_S = 3600.0
"""User events this long before an alert starts are shown with it."""

# What the notification's fields may hold; the columns they come from are plain strings.
_EVENTS: tuple[Event, ...] = get_args(Event)
_SEVERITIES: tuple[Severity, ...] = get_args(Severity)
_TYPES: tuple[Literal["anomaly", "static", "no_data"], ...] = ("anomaly", "static", "no_data")
_STATES: tuple[Literal["open", "closed"], ...] = ("open", "closed")

_L = TypeVar("_L", bound=str)


def _one_of(value: str, allowed: tuple[_L, ...]) -> _L:
    """``value`` as one of ``allowed``: only validated configurations and the evaluator
    write these columns, so anything else is a broken row, not a message to send."""
    for option in allowed:
        if option == value:
            return option
    raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")


def channels_for(session: Session, config: AlertConfig, trigger: AlertTrigger) -> list[Channel]:
    """The configuration's channels plus those its routing table picks for the
    alert's value of the routed dimension (``*`` routes any value)."""
    ids = list(config.channel_ids or [])
    if config.routing_table_id is not None:
        table = session.get(RoutingTable, config.routing_table_id)
        if table is not None:
            value = trigger.group.get(table.dimension)
            if value is None:
                dims = session.scalars(
                    select(Metric.dimensions)
                    .join(AlertTriggerMetric, AlertTriggerMetric.metric_id == Metric.id)
                    .where(AlertTriggerMetric.trigger_id == trigger.id)
                ).all()
                value = next((d[table.dimension] for d in dims if table.dimension in d), None)
            exact = [r for r in table.routes if value is not None and r.get("value") == value]
            for route in exact or [r for r in table.routes if r.get("value") == "*"]:
                ids.extend(route.get("channel_ids", []))
    if not ids:
        return []
    rows = session.scalars(
        select(Channel).where(
            Channel.org_id == config.org_id,
            Channel.id.in_(set(ids)),
            Channel.enabled.is_(True),
            ordinary_channel(),  # never another domain's, should an id of one be stored
        )
    )
    return sorted(rows, key=lambda c: c.id)


def silence_reason(
    session: Session, config: AlertConfig, metrics: list[Metric], now: float
) -> str | None:
    """What holds this alert's messages now, or ``None``.

    A maintenance window or suppress event holds an alert when it matches every one
    of its metrics (an alert that also involves metrics outside the window is still
    news to someone)."""
    if config.snoozed_until is not None and config.snoozed_until > now:
        return f"configuration snoozed until {int(config.snoozed_until)}"
    if not metrics:
        return None
    for window in session.scalars(
        select(MaintenanceWindow).where(MaintenanceWindow.org_id == config.org_id)
    ):
        if window.config_ids and config.id not in window.config_ids:
            continue
        try:
            active = schedule.active_at(window_spec(window), now)
        except ValueError:  # stored before a stricter validation: never silences
            log.warning("maintenance window %s is invalid; ignored", window.id)
            continue
        if active is None:
            continue
        tree = expressions.parse(window.expression or "")
        if all(expressions.matches(tree, m.what, m.dimensions) for m in metrics):
            return f"maintenance window {window.name!r} (#{window.id})"
    for event in session.scalars(
        select(UserEvent).where(
            UserEvent.org_id == config.org_id,
            UserEvent.type == "suppress",
            UserEvent.start <= now,
            or_(UserEvent.end.is_(None), UserEvent.end > now),
        )
    ):
        props = event.properties or {}
        if all(all(m.dimensions.get(k) == v for k, v in props.items()) for m in metrics):
            return f"suppress event {event.title!r} (#{event.id})"
    return None


def window_spec(window: MaintenanceWindow) -> schedule.Window:
    return schedule.Window(
        start=window.start,
        end=window.end,
        rrule=window.rrule,
        cron=window.cron,
        dtstart=window.dtstart,
        duration_s=window.duration_s,
        timezone=window.timezone or "UTC",
    )


def build(
    session: Session,
    config: AlertConfig,
    trigger: AlertTrigger,
    event: str,
    base_url: str,
) -> Notification:
    rows = session.execute(
        select(AlertTriggerMetric, Metric)
        .join(Metric, Metric.id == AlertTriggerMetric.metric_id)
        .where(AlertTriggerMetric.trigger_id == trigger.id)
        .order_by(AlertTriggerMetric.score.desc().nulls_last(), Metric.id)
    ).all()
    base = base_url.rstrip("/")
    metrics = [
        NotificationMetric(
            id=m.id,
            name=m.name,
            what=m.what,
            dimensions=dict(m.dimensions),
            state=_one_of(tm.state, _STATES),
            start=tm.start,
            end=tm.end,
            value=tm.value,
            expected=tm.expected,
            delta=tm.delta,
            delta_pct=tm.delta_pct,
            score=tm.score,
            direction=tm.direction,
            url=f"{base}/metrics/explore/{m.id}",
        )
        for tm, m in rows
    ]
    actions = []
    if config.action_ids:
        for action in session.scalars(
            select(AlertAction)
            .where(AlertAction.org_id == config.org_id, AlertAction.id.in_(config.action_ids))
            .order_by(AlertAction.id)
        ):
            actions.append({"name": action.name, "button": action.button, "url": action.url})
    horizon = trigger.end if trigger.end is not None else trigger.updated
    events = [
        {
            "title": e.title,
            "category": e.category,
            "source": e.source,
            "start": e.start,
            "end": e.end,
        }
        for e in session.scalars(
            select(UserEvent)
            .where(
                UserEvent.org_id == config.org_id,
                UserEvent.start <= horizon,
                UserEvent.start >= trigger.start - EVENTS_AROUND_S,
            )
            .order_by(UserEvent.start.desc())
            .limit(10)
        )
    ]
    org = session.get(Organization, config.org_id)
    return Notification(
        event=_one_of(event, _EVENTS),
        trigger_id=trigger.id,
        group_key=f"augury:{config.org_id}:alert:{trigger.id}",
        config_id=config.id,
        title=trigger.title,
        description=config.description or "",
        severity=_one_of(trigger.severity, _SEVERITIES),
        type=_one_of(trigger.type, _TYPES),
        status=_one_of(trigger.status, _STATES),
        start=trigger.start,
        updated=trigger.updated,
        end=trigger.end,
        timescale=TIMESCALES.get(config.timescale, "native"),
        owner=config.owner or "",
        labels=list(config.labels or []),
        group=dict(trigger.group or {}),
        score=trigger.peak_score,
        direction=trigger.direction,
        metrics=metrics,
        url=f"{base}/alerts/triggered/{trigger.id}",
        actions=actions,
        events=events,
        organization=org.name if org is not None else "",
    )


def enqueue(
    session: Session,
    config: AlertConfig,
    trigger: AlertTrigger,
    event: str,
    *,
    now: float,
    base_url: str,
    silenced: str | None = None,
) -> list[Delivery]:
    """Write the outbox rows of one message about ``trigger`` (``silenced``: log them
    as held instead)."""
    session.flush()
    notification = build(session, config, trigger, event, base_url)
    out = []
    for channel in channels_for(session, config, trigger):
        delivery = Delivery(
            org_id=config.org_id,
            channel_id=channel.id,
            trigger_id=trigger.id,
            event=event,
            payload=notification.to_dict(),
            status="silenced" if silenced else "pending",
            attempts=0,
            next_attempt_at=now,
            error=f"held by {silenced}" if silenced else None,
        )
        session.add(delivery)
        out.append(delivery)
    return out
