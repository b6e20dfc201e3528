"""Tables of alerting: configurations, triggered alerts, channels and their outbox,
alert actions, routing tables, user events, maintenance windows and feedback.

An ``alert_config`` says which metrics to watch (an expression, optionally grouped by
dimensions) and when to fire (its ``conditions``). The evaluator turns anomalies
(anomaly alerts), values (static alerts) or silence (no-data alerts) into
``alert_trigger`` rows, one per configuration and group, with one
``alert_trigger_metric`` row per metric involved. Every message to send is first
written to ``alert_delivery`` (the outbox) in the transaction that changed the
trigger, so a restart never loses one; the dispatcher sends them with retries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ColumnElement, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from augury import clock
from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin

SEVERITIES = ("critical", "high", "medium", "low", "info")
ALERT_TYPES = ("anomaly", "static", "no_data")
NOTIFY_EVENTS = ("open", "update", "close")


class AlertConfig(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "alert_config"

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(10))
    """anomaly, static or no_data."""
    severity: Mapped[str] = mapped_column(String(10), default="medium")
    owner: Mapped[str] = mapped_column(String(200), default="")
    labels: Mapped[list] = mapped_column(default=list)
    expression: Mapped[str] = mapped_column(Text, default="")
    group_by: Mapped[list] = mapped_column(default=list)
    """Dimension keys: one triggered alert per combination of their values."""
    timescale: Mapped[int] = mapped_column(Integer, default=0)
    """Anomalies of this time scale (0 native, 3600, 86400) trigger it."""
    conditions: Mapped[dict] = mapped_column(default=dict)
    notify_on: Mapped[list] = mapped_column(default=lambda: ["open", "update", "close"])
    repeat_interval_s: Mapped[int] = mapped_column(Integer, default=3600)
    """Least time between two messages about the same triggered alert (updates)."""
    channel_ids: Mapped[list] = mapped_column(default=list)
    routing_table_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_table.id", ondelete="SET NULL")
    )
    action_ids: Mapped[list] = mapped_column(default=list)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    snoozed_until: Mapped[float | None] = mapped_column(Float)
    """Epoch seconds: it is evaluated but sends nothing until then."""
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    """Newest ``metric_anomaly.id`` the evaluator has looked at."""
    watching: Mapped[list] = mapped_column(default=list)
    """Open anomalies seen last time (looked at again until they close)."""
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class AlertTrigger(IdMixin, CreatedMixin, OrgMixin, Base):
    """A triggered alert: one configuration firing for one group of metrics."""

    __tablename__ = "alert_trigger"
    __table_args__ = (
        Index("ix_alert_trigger_org_status", "org_id", "status"),
        Index("ix_alert_trigger_config_status", "config_id", "status"),
    )

    config_id: Mapped[int] = mapped_column(ForeignKey("alert_config.id", ondelete="CASCADE"))
    group_key: Mapped[str] = mapped_column(String(500), default="")
    group: Mapped[dict] = mapped_column(default=dict)
    type: Mapped[str] = mapped_column(String(10))
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="open")
    """open or closed."""
    start: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)
    peak_score: Mapped[float | None] = mapped_column(Float)
    direction: Mapped[str | None] = mapped_column(String(10))
    metric_count: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_by_id: Mapped[int | None] = mapped_column(Integer)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    resolved_by_id: Mapped[int | None] = mapped_column(Integer)
    """Set when a person resolved it (closed by hand)."""
    opened_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    """Its open message went out (false while silenced: sent when the silence ends)."""
    last_notified_at: Mapped[float | None] = mapped_column(Float)
    notified_score: Mapped[float | None] = mapped_column(Float)
    notified_metrics: Mapped[int] = mapped_column(Integer, default=0)
    silenced_by: Mapped[str | None] = mapped_column(String(300))
    """What holds its messages now (a maintenance window, a suppress event, a snooze)."""


class AlertTriggerMetric(Base):
    __tablename__ = "alert_trigger_metric"

    trigger_id: Mapped[int] = mapped_column(
        ForeignKey("alert_trigger.id", ondelete="CASCADE"), primary_key=True
    )
    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metric.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    anomaly_id: Mapped[int | None] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(10), default="open")
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    expected: Mapped[float | None] = mapped_column(Float)
    delta: Mapped[float | None] = mapped_column(Float)
    delta_pct: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    direction: Mapped[str | None] = mapped_column(String(10))


OWNER_KEY = "_owner"
"""A channel's config key naming the domain that made the channel for itself
(``"webhooks"``: an event webhook's URL and secret). Such a channel carries that domain's
deliveries through the outbox, but it is not an alert channel: the channel routes do
not show it and alert configurations and routing tables cannot use it
(:func:`ordinary_channel`). A mark on the channel, rather than a look at the owner's
table, keeps alerting ignorant of the domains above it."""


class Channel(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "alert_channel"

    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    config: Mapped[dict] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


def ordinary_channel() -> ColumnElement[bool]:
    """The condition of an alert channel: one no other domain owns (see :data:`OWNER_KEY`)."""
    return Channel.config[OWNER_KEY].as_string().is_(None)


class Delivery(IdMixin, CreatedMixin, OrgMixin, Base):
    """One message to one channel: the outbox row and, once done, its log entry."""

    __tablename__ = "alert_delivery"
    __table_args__ = (
        Index("ix_alert_delivery_due", "status", "next_attempt_at"),
        Index("ix_alert_delivery_channel", "channel_id", "id"),
    )

    channel_id: Mapped[int] = mapped_column(ForeignKey("alert_channel.id", ondelete="CASCADE"))
    trigger_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_trigger.id", ondelete="SET NULL"), index=True
    )
    event: Mapped[str] = mapped_column(String(10))
    """open, update, close or test; review for a text review batch, event for a platform
    event (ready JSON bodies)."""
    payload: Mapped[dict] = mapped_column(default=dict)
    """The :class:`~augury.alerts.notification.Notification` to send, or ``{"json": body}``:
    another domain's ready body for a webhook channel (text review batches, platform
    events), with an optional ``"event"`` for the ``X-Augury-Event`` header when the
    body's event name is longer than :attr:`event` holds (``chart.created``)."""
    status: Mapped[str] = mapped_column(String(10), default="pending")
    """pending, sending, sent, failed, or silenced (held by a window: never sent)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    locked_until: Mapped[float | None] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    sent_at: Mapped[datetime | None] = mapped_column()


class AlertAction(IdMixin, CreatedMixin, OrgMixin, Base):
    """A link attached to alerts (runbook, dashboard, ticket form), as Anodot's
    OUTSIDE_LINK alert actions."""

    __tablename__ = "alert_action"

    name: Mapped[str] = mapped_column(String(200))
    button: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)


class RoutingTable(IdMixin, CreatedMixin, OrgMixin, Base):
    """Dynamic routing: the value of ``dimension`` picks the channels of an alert."""

    __tablename__ = "routing_table"

    title: Mapped[str] = mapped_column(String(200))
    dimension: Mapped[str] = mapped_column(String(200))
    routes: Mapped[list] = mapped_column(default=list)
    """``[{"value": "US", "channel_ids": [3, 4]}, ...]``; value ``*`` matches any."""
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class UserEvent(IdMixin, CreatedMixin, OrgMixin, Base):
    """A deploy, campaign or holiday; ``suppress`` events also hold the messages of
    alerts on the metrics they match (their ``properties`` are dimension filters)."""

    __tablename__ = "user_event"
    __table_args__ = (Index("ix_user_event_org_start", "org_id", "start"),)

    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(10), default="display")
    """display, influence or suppress."""
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)
    """``None``: a point in time, or (suppress) until an END event closes it."""
    properties: Mapped[dict] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(Integer)


class MaintenanceWindow(IdMixin, CreatedMixin, OrgMixin, Base):
    """Holds the messages of matching alerts while active (detection goes on)."""

    __tablename__ = "maintenance_window"

    name: Mapped[str] = mapped_column(String(200))
    expression: Mapped[str] = mapped_column(Text, default="")
    config_ids: Mapped[list] = mapped_column(default=list)
    """Only these configurations (empty: all)."""
    start: Mapped[float | None] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)
    rrule: Mapped[str | None] = mapped_column(String(500))
    cron: Mapped[str | None] = mapped_column(String(100))
    dtstart: Mapped[str | None] = mapped_column(String(40))
    duration_s: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_by_id: Mapped[int | None] = mapped_column(Integer)


class Feedback(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "alert_feedback"

    type: Mapped[str] = mapped_column(String(20))
    """good_catch or not_interesting."""
    comment: Mapped[str] = mapped_column(Text, default="")
    anomaly_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("anomaly_group.id", ondelete="SET NULL"), index=True
    )
    trigger_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_trigger.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(20), default="api")
    metric_ids: Mapped[list] = mapped_column(default=list)
    peak_score: Mapped[float | None] = mapped_column(Float)


class FeedbackProfile(OrgMixin, Base):
    """What feedback taught about one metric (see :mod:`augury.engines.detect.feedback`)."""

    __tablename__ = "feedback_profile"

    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metric.id", ondelete="CASCADE"), primary_key=True
    )
    profile: Mapped[dict] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
