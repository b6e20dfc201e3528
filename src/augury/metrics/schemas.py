"""Request and response bodies of the metrics API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from augury.metrics.ingest.points import SampleError


class MetricRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str = Field(description="Anodot's generated name: what=cpu.host=web-1.")
    what: str
    dimensions: dict[str, str]
    tags: dict[str, list[str]] | None
    target_type: str = Field(description="gauge (rolled up by average) or counter (by sum).")
    source: str = Field(description="Protocol that created it: anodot20, anodot30, influx ...")
    stream_schema_id: str | None
    first_ts: float | None = Field(description="Oldest stored point (epoch seconds).")
    last_ts: float | None = Field(description="Newest stored point (epoch seconds).")
    last_seen_at: datetime
    created_at: datetime


class TimeseriesRead(BaseModel):
    metric_id: int
    name: str
    target_type: str
    resolution: str = Field(description="native, 1m, 5m, 1h or 1d.")
    start: float = Field(description="Start of the range (epoch seconds, inclusive).")
    end: float = Field(description="End of the range (epoch seconds, exclusive).")
    timestamps: list[float] = Field(description="Point or bucket start times, ascending.")
    values: list[float] = Field(
        description="Value (rollups: average for gauges, sum for counters)."
    )
    min: list[float] | None = Field(None, description="Rollups: smallest value in the bucket.")
    max: list[float] | None = Field(None, description="Rollups: largest value in the bucket.")
    count: list[int] | None = Field(None, description="Rollups: points in the bucket.")
    partial: bool = Field(
        False,
        description="Rollups: the last bucket is the metric's newest and still filling (it "
        "holds part of its period, so a counter's reads low); charts draw it apart.",
    )
    scores: list[float | None] | None = Field(
        None, description="Anomaly score 0-100 per point (native, 1h and 1d: detection runs there)."
    )
    expected: list[float | None] | None = Field(None, description="Learned normal value.")
    lower: list[float | None] | None = Field(None, description="Lower edge of the normal band.")
    upper: list[float | None] | None = Field(None, description="Upper edge of the normal band.")
    anomalies: list[AnomalySpan] = Field(
        default_factory=list, description="This metric's anomalies in the range."
    )


class AnomalySpan(BaseModel):
    anomaly_id: int = Field(description="Id of the Anomaly object (GET /anomalies/{id}).")
    timescale: str
    state: str
    start: float
    end: float
    peak_score: float
    direction: str


class AnodotError(BaseModel):
    """One refused sample, in Anodot's shape."""

    index: int | None = Field(description="Position of the sample in the request.")
    error: int | str = Field(description="Anodot error code (e.g. 2022) or augury's code.")
    description: str

    @classmethod
    def of(cls, err: SampleError) -> AnodotError:
        return cls(index=err.index, error=err.code, description=err.message)


class IngestResult(BaseModel):
    errors: list[AnodotError] = Field(description="Refused samples; empty when all were kept.")
    accepted: int = Field(description="Samples stored.")
    rejected: int = Field(description="Samples refused.")


class StreamSchemaRead(BaseModel):
    schema_: dict = Field(alias="schema", serialization_alias="schema")
    meta: dict

    model_config = ConfigDict(populate_by_name=True)


class StreamSchemaWrapper(BaseModel):
    streamSchemaWrapper: StreamSchemaRead
    schemaCubesWrapper: dict = Field(default_factory=dict)


class EpsItem(BaseModel):
    metric: str
    eps: float


class StreamFailureRead(BaseModel):
    """Queued work a pipeline stage failed on: retried with backoff, then parked."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    consumer: str = Field(description="The stage: rollup or detect.")
    metric_ids: list[int] = Field(description="Metrics whose new points wait for it.")
    attempts: int
    error: str | None
    parked: bool = Field(description="Failed too often: not retried until you retry it.")
    retry_at: float | None = Field(description="Epoch seconds of the next automatic retry.")
    created_at: datetime


class RetriedRead(BaseModel):
    retried: int


class CardinalityEntry(BaseModel):
    cardinality: int
    examples: list[str]
    what: list[str]


class CardinalityRead(BaseModel):
    totalMetrics: int
    startIndex: int
    nextIndex: int | None
    metricsCardinality: dict[str, CardinalityEntry]


class StreamCount(BaseModel):
    name: str
    numMetrics: int


class StreamCardinalityRead(BaseModel):
    streams: list[StreamCount]


class IngestMinute(BaseModel):
    minute: int
    accepted: int
    refused: int


class OverviewRead(BaseModel):
    metrics: int
    active_metrics: int = Field(description="Metrics with a point in the last 24 hours.")
    measures: int = Field(description="Distinct 'what' values.")
    eps: float = Field(description="Samples accepted per second over the last 5 minutes.")
    requests_per_s: float
    accepted_last_hour: int
    refused_last_hour: int
    detection_lag_s: float = Field(
        description="Seconds the oldest points not yet through anomaly detection have waited "
        "(0 when detection has caught up with ingestion)."
    )
    ingest_per_minute: list[IngestMinute]
