"""Request and response bodies of the alerts API."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from augury.schemas import StrictModel

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Severity = Literal["critical", "high", "medium", "low", "info"]
Timescale = Literal["native", "1h", "1d"]
EpochS = Annotated[float, Field(ge=0, le=1e11, description="Epoch seconds.")]
NotifyOn = Literal["open", "update", "close"]
_EVERY_EVENT: tuple[NotifyOn, ...] = ("open", "update", "close")


class Volume(StrictModel):
    model_config = ConfigDict(allow_inf_nan=False)
    bound: Literal["above", "below"] = Field(
        description="The metric's expected value must be above/below `value` to alert."
    )
    value: float


class Conditions(StrictModel):
    """What must hold for a metric to alert. Anomaly alerts use the first group, static
    alerts `above`/`below` and `duration_s`, no-data alerts `no_data_s`. Numbers are
    finite (NaN and Infinity are refused)."""

    model_config = ConfigDict(allow_inf_nan=False)

    min_score: float = Field(0.0, ge=0, le=100, description="Anomaly score at least (0-100).")
    min_duration_s: float = Field(0.0, ge=0, description="Anomaly lasted at least this long.")
    min_delta_abs: float | None = Field(None, ge=0, description="|value - expected| at least.")
    min_delta_pct: float | None = Field(None, ge=0, description="|delta| in % at least.")
    direction: Literal["up", "down", "both"] = "both"
    volume: Volume | None = None
    above: float | None = Field(None, description="Static: value above this ...")
    below: float | None = Field(None, description="Static: ... or below this ...")
    duration_s: float = Field(0.0, ge=0, description="Static: ... for at least this long.")
    no_data_s: float | None = Field(None, gt=0, description="No data: silent this long.")
    min_metrics: int = Field(1, ge=1, le=10_000, description="Metrics needed to open.")


class AlertConfigCreate(StrictModel):
    title: str = Field(
        min_length=1, max_length=200, description="May use {{what}} and {{dimension}}."
    )
    description: str = Field("", max_length=5000)
    type: Literal["anomaly", "static", "no_data"] = "anomaly"
    severity: Severity = "medium"
    owner: str = Field("", max_length=200)
    labels: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)
    expression: str = Field("", max_length=2000, description="Metrics it watches; empty: all.")
    group_by: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=10, description="One alert per value combination."
    )
    timescale: Timescale = "native"
    conditions: Conditions = Field(default_factory=Conditions)
    notify_on: list[NotifyOn] = Field(default_factory=lambda: list(_EVERY_EVENT))
    repeat_interval_s: int = Field(3600, ge=0, le=30 * 86400)
    channel_ids: list[Id] = Field(default_factory=list, max_length=50)
    routing_table_id: Id | None = None
    action_ids: list[Id] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _by_type(self):
        c = self.conditions
        if self.type == "static" and c.above is None and c.below is None:
            raise ValueError("a static alert needs conditions.above and/or conditions.below")
        if self.type == "no_data" and c.no_data_s is None:
            raise ValueError("a no-data alert needs conditions.no_data_s")
        return self


class AlertConfigRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    description: str
    type: str
    severity: str
    owner: str
    labels: list[str]
    expression: str
    group_by: list[str]
    timescale: str
    conditions: dict
    notify_on: list[str]
    repeat_interval_s: int
    channel_ids: list[int]
    routing_table_id: int | None
    action_ids: list[int]
    paused: bool
    snoozed_until: float | None
    open_triggers: int = 0
    created_at: datetime
    updated_at: datetime


class Snooze(StrictModel):
    until: EpochS | None = Field(
        None, description="Epoch seconds, in the future and at most 90 days away."
    )
    duration_s: float | None = Field(None, gt=0, le=90 * 86400)

    @model_validator(mode="after")
    def _one(self):
        if (self.until is None) == (self.duration_s is None):
            raise ValueError("give either 'until' or 'duration_s'")
        return self


class PreviewRequest(AlertConfigCreate):
    title: str = Field("preview", min_length=1, max_length=200, description="Not used.")
    days: float = Field(7.0, gt=0, le=90)


class PreviewTrigger(BaseModel):
    group: dict[str, str]
    start: float
    end: float
    metrics: int
    metric_ids: list[int] = Field(description="The metrics it would have fired on.")
    peak_score: float | None


class PreviewRead(BaseModel):
    fired: int = Field(description="Alerts it would have opened in the period.")
    start: float
    end: float
    metrics_matched: int
    anomalies_considered: int
    triggers: list[PreviewTrigger] = Field(description="The most recent 50.")


class TriggerMetricRead(BaseModel):
    metric_id: int
    name: str
    what: str
    dimensions: dict[str, str]
    state: str
    start: float
    end: float
    value: float | None
    expected: float | None
    delta: float | None
    delta_pct: float | None
    score: float | None
    direction: str | None
    anomaly_id: int | None = Field(description="The Anomaly (group) it belongs to.")


class TriggerRead(BaseModel):
    id: int
    config_id: int
    config_title: str
    title: str
    type: str
    severity: str
    status: Literal["open", "closed"]
    start: float
    updated: float
    end: float | None
    duration: float
    peak_score: float | None
    direction: str | None
    group: dict[str, str]
    metric_count: int
    acknowledged_by_id: int | None
    acknowledged_by: str | None = Field(description="Email of who acknowledged it.")
    acknowledged_at: datetime | None
    resolved_by_id: int | None
    resolved_by: str | None = Field(description="Email of who resolved it by hand.")
    silenced_by: str | None
    url: str
    metrics: list[TriggerMetricRead]
    created_at: datetime


class TriggerCount(BaseModel):
    total: int
    open: int
    closed: int


class ChannelCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    type: Literal["webhook", "slack", "email", "pagerduty", "teams"]
    config: dict = Field(
        description="webhook: url, secret?, format augury|alertmanager, headers?; slack: url, "
        "channel?, username?; email: to [addresses]; pagerduty: routing_key, url?; teams: url."
    )
    enabled: bool = True


class ChannelUpdate(StrictModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    config: dict | None = None
    enabled: bool | None = None


class ChannelRead(BaseModel):
    id: int
    name: str
    type: str
    config: dict
    enabled: bool
    created_at: datetime
    deliveries: dict[str, int] = Field(default_factory=dict, description="Count per status.")


class DeliveryRead(BaseModel):
    id: int
    channel_id: int
    channel_name: str
    channel_type: str
    trigger_id: int | None
    event: str
    status: Literal["pending", "sending", "sent", "failed", "silenced"]
    attempts: int
    next_attempt_at: float
    status_code: int | None
    error: str | None
    duration_ms: float | None
    sent_at: datetime | None
    created_at: datetime


class ActionCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    button: str = Field(min_length=1, max_length=100, description="The button's text.")
    url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")


class ActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    button: str
    url: str
    created_at: datetime


class Route(StrictModel):
    value: str = Field(min_length=1, max_length=400, description="Dimension value; * = any.")
    channel_ids: list[Id] = Field(min_length=1, max_length=20)


class RoutingTableCreate(StrictModel):
    title: str = Field(min_length=1, max_length=200)
    dimension: str = Field(min_length=1, max_length=200)
    routes: list[Route] = Field(max_length=5000)

    @field_validator("routes")
    @classmethod
    def _values_unique(cls, routes: list[Route]) -> list[Route]:
        counts = Counter(route.value for route in routes)
        repeated = sorted(value for value, n in counts.items() if n > 1)
        if repeated:
            raise ValueError(f"each value has one route; repeated: {repeated[:10]}")
        return routes


class RoutingTableRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    dimension: str
    routes: list[dict]
    created_at: datetime
    updated_at: datetime


class EventCreate(StrictModel):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=5000)
    category: str = Field(min_length=1, max_length=100)
    source: str = Field(min_length=1, max_length=100)
    type: Literal["display", "influence", "suppress"] = "display"
    action: Literal["start", "end"] | None = Field(
        None,
        description="Suppress events, as Anodot: `end` closes the open suppress event "
        "with the same title, category, source and properties.",
    )
    start: EpochS
    end: EpochS | None = None
    properties: dict[
        Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=400)]
    ] = Field(default_factory=dict, description="Suppress events: the dimensions they hold.")

    @model_validator(mode="after")
    def _span(self):
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    description: str
    category: str
    source: str
    type: str
    start: float
    end: float | None
    properties: dict[str, str]
    created_at: datetime


class WindowCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    expression: str = Field("", max_length=2000, description="Metrics it covers; empty: all.")
    config_ids: list[Id] = Field(default_factory=list, max_length=100)
    start: EpochS | None = Field(None, description="One-off window: from ...")
    end: EpochS | None = Field(None, description="... to.")
    rrule: str | None = Field(
        None, max_length=500, description="Recurring: RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SU"
    )
    cron: str | None = Field(None, max_length=100, description="... or a 5-field cron line.")
    dtstart: str | None = Field(
        None, max_length=40, description="Local start of the first occurrence (ISO)."
    )
    duration_s: float | None = Field(None, gt=0)
    timezone: str = Field("UTC", max_length=64)


class WindowRead(BaseModel):
    id: int
    name: str
    expression: str
    config_ids: list[int]
    start: float | None
    end: float | None
    rrule: str | None
    cron: str | None
    dtstart: str | None
    duration_s: float | None
    timezone: str
    active: bool
    active_until: float | None
    next: list[list[float]] = Field(description="The next 5 occurrences [start, end].")
    created_at: datetime


class FeedbackCreate(StrictModel):
    type: Literal["good_catch", "not_interesting"]
    anomaly_id: Id | None = None
    trigger_id: Id | None = None
    comment: str = Field("", max_length=2000)
    origin: Literal["api", "ui", "email", "slack"] = "api"

    @model_validator(mode="after")
    def _one(self):
        if (self.anomaly_id is None) == (self.trigger_id is None):
            raise ValueError("give either 'anomaly_id' or 'trigger_id'")
        return self


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    type: str
    comment: str
    anomaly_id: int | None = Field(validation_alias="anomaly_group_id")
    trigger_id: int | None
    user_id: int | None
    origin: str
    metric_ids: list[int]
    peak_score: float | None
    created_at: datetime
    learned: list[str] = []
    """Read-only, in the answer to ``POST /feedback`` only: the rules this *not
    interesting* teaches its metrics, in words."""
