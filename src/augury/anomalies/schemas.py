"""Request and response bodies of the anomalies API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from augury.schemas import StrictModel


class MetricAnomalyRead(BaseModel):
    """One metric's part of an anomaly."""

    id: int
    metric_id: int
    name: str
    what: str
    dimensions: dict[str, str]
    state: Literal["open", "closed"]
    type: Literal["transient", "pattern_change"]
    start: float = Field(description="First anomalous point (epoch seconds).")
    end: float = Field(description="Last anomalous point (epoch seconds).")
    duration: float = Field(description="Seconds, from start to one interval after end.")
    points: int
    peak_score: float = Field(description="Highest score 0-100.")
    peak_ts: float = Field(
        description="The peak: the point that deviates most from what was expected "
        "(epoch seconds; not always the highest-scoring point, which is usually the first)."
    )
    peak_value: float = Field(description="The value at the peak.")
    expected: float = Field(description="What was expected at the peak.")
    delta: float = Field(description="peak_value - expected.")
    delta_pct: float | None = Field(description="delta as % of expected (None if 0).")
    direction: Literal["up", "down"]


class AnomalyRead(BaseModel):
    """The Anomaly object: the metrics of one `what` that were anomalous together."""

    id: int
    what: str
    timescale: Literal["native", "1h", "1d"]
    state: Literal["open", "closed"]
    start: float
    end: float
    duration: float
    score: float = Field(description="Peak score 0-100 over its metrics.")
    delta: float = Field(description="Delta of its strongest metric.")
    delta_pct: float | None
    direction: Literal["up", "down", "both"]
    metric_count: int
    metrics: list[MetricAnomalyRead]
    created_at: datetime
    updated_at: datetime


class AnomalyCount(BaseModel):
    total: int
    open: int
    closed: int


class SeriesWithBand(BaseModel):
    metric_id: int
    name: str
    resolution: str
    timestamps: list[float]
    values: list[float]
    scores: list[float | None] | None
    expected: list[float | None] | None
    lower: list[float | None] | None
    upper: list[float | None] | None


class TokenRead(BaseModel):
    """One dimension value of the anomaly's metrics (Anodot's token map)."""

    key: str
    value: str
    anomalous: int = Field(description="Metrics of the anomaly carrying it.")
    total: int = Field(description="Metrics of its `what` carrying it, anomalous or not.")
    share: float = Field(description="Part (0-1) of the anomaly's absolute deviation it carries.")
    expected_share: float | None = Field(
        description="Part (0-1) of the anomaly's metrics' expected values it carries."
    )
    lift: float = Field(
        description="Its frequency among the anomaly's metrics over that among all metrics "
        "of the `what` (1: no more common among the anomalous ones)."
    )


class DriverRead(BaseModel):
    key: str
    value: str


class ExplanationRead(BaseModel):
    """Which dimension values drive the anomaly."""

    sentence: str = Field(
        description="e.g. 'host=web-2 and region=eu account for 83% of the deviation "
        "(3 of 40 metrics).' or 'Spread across ...'."
    )
    spread: bool = Field(description="No few dimension values carry 80% of the deviation.")
    drivers: list[DriverRead] = Field(
        description="The dimension values whose metrics carry 80% of the deviation, "
        "found greedily, most narrowing first; empty when spread."
    )
    share: float | None = Field(description="Part of the deviation the drivers' metrics carry.")
    matched: int = Field(description="Metrics of the anomaly carrying every driver.")
    matched_total: int = Field(description="Metrics of the `what` carrying every driver.")
    metrics: int = Field(description="Metrics of the anomaly.")
    population: int = Field(description="Metrics of the `what`.")
    tokens: list[TokenRead] = Field(description="The token map, the largest share first (50).")
    token_count: int = Field(description="Distinct dimension values of the anomaly's metrics.")


class AnomalyDetail(AnomalyRead):
    explanation: ExplanationRead = Field(description="Which dimension values drive it.")
    series: list[SeriesWithBand] = Field(description="Each metric's points around the anomaly.")


class MetricSelection(StrictModel):
    metric_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        None, max_length=10_000
    )
    q: str | None = Field(None, max_length=2000, description="Metric expression.")

    @model_validator(mode="after")
    def _one(self):
        if (self.metric_ids is None) == (self.q is None):
            raise ValueError("give either 'metric_ids' or 'q'")
        return self


class LearningStop(MetricSelection):
    duration_s: float | None = Field(
        None, gt=0, le=366 * 86400, description="Resume by itself after this; unset: until resumed."
    )


class LearningChange(BaseModel):
    metrics: int
    until: float | None = None


class PausedRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    metric_id: int
    until: float | None


class ExclusionCreate(StrictModel):
    expression: str = Field("", max_length=2000, description="Metrics to ignore; empty: all.")
    start: float | None = Field(None, ge=0, description="Epoch seconds; unset: always.")
    end: float | None = Field(None, ge=0)
    reason: str | None = Field(None, max_length=500)


class ExclusionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    expression: str
    start: float | None
    end: float | None
    reason: str | None
    created_at: datetime


class SensitivityCreate(StrictModel):
    expression: str = Field("", max_length=2000, description="Metrics it applies to.")
    sensitivity: Literal["low", "medium", "high"]


class SensitivityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    expression: str
    sensitivity: str
    created_at: datetime
