"""What a channel is told: one event (open, update, close, test) of one triggered alert.

The evaluator builds a :class:`Notification` from a trigger and stores it, as JSON, in
the delivery outbox; the dispatcher hands it to the channel's renderer
(:mod:`augury.alerts.channels`). Keeping the rendered facts in the outbox means a
retry after a restart sends exactly what would have been sent the first time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Event = Literal["open", "update", "close", "test"]
Severity = Literal["critical", "high", "medium", "low", "info"]


@dataclass
class NotificationMetric:
    id: int
    name: str
    """Anodot-style metric name, e.g. ``what=cpu.host=web-1``."""
    what: str
    dimensions: dict[str, str]
    state: Literal["open", "closed"]
    start: float
    """Epoch seconds."""
    end: float
    value: float | None = None
    """The value that made it alert (the anomaly's peak, or the last value)."""
    expected: float | None = None
    delta: float | None = None
    delta_pct: float | None = None
    score: float | None = None
    """Anomaly score 0-100 (anomaly alerts)."""
    direction: str | None = None
    url: str = ""
    """The metric's page in augury."""


@dataclass
class Notification:
    event: Event
    trigger_id: int
    group_key: str
    """Stable across the open, update and close messages of one triggered alert
    (PagerDuty's ``dedup_key``, Alertmanager's ``groupKey``)."""
    config_id: int
    title: str
    description: str
    severity: Severity
    type: Literal["anomaly", "static", "no_data"]
    status: Literal["open", "closed"]
    start: float
    updated: float
    end: float | None
    timescale: str
    """``native``, ``1h`` or ``1d``."""
    owner: str = ""
    labels: list[str] = field(default_factory=list)
    group: dict[str, str] = field(default_factory=dict)
    """The group-by dimension values of this trigger (empty when not grouped)."""
    score: float | None = None
    direction: str | None = None
    metrics: list[NotificationMetric] = field(default_factory=list)
    url: str = ""
    """The triggered alert's page in augury."""
    actions: list[dict[str, str]] = field(default_factory=list)
    """Alert actions: ``{"name", "button", "url"}`` links (runbooks, dashboards)."""
    events: list[dict] = field(default_factory=list)
    """User events around the alert: ``{"title", "category", "source", "start", "end"}``."""
    organization: str = ""
    sent_at: float = 0.0
    """When the dispatcher sends it (filled at send time)."""

    @property
    def duration_s(self) -> float:
        return max(0.0, (self.end if self.end is not None else self.updated) - self.start)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Notification:
        data = dict(data)
        data["metrics"] = [NotificationMetric(**m) for m in data.get("metrics", [])]
        return cls(**data)
