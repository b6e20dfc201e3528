"""Tables of metrics: identity, dimensions, points, rollups, stream schemas, the queue.

A metric is ``what`` plus its dimensions (Anodot's properties); ``key_hash`` makes that
identity unique per organization. Ingestion appends points to ``metric_point_inbox``;
the stream processor moves them into ``metric_point`` at native resolution (one row per
metric and timestamp: a second sample at the same timestamp updates the first) and, in
the same transaction, queues one ``metric_stream_queue`` row per consumer (rollups,
detection), which is how the points reach those stages without loss.
``metric_rollup`` keeps count/sum/min/max per bucket of 1m, 5m, 1h and 1d, so a gauge
reads ``sum / count`` and a counter ``sum``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from augury import clock
from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin

ROLLUP_RESOLUTIONS = (60, 300, 3600, 86400)
"""Rollup bucket sizes in seconds: 1m, 5m, 1h, 1d."""


class Metric(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "metric"
    __table_args__ = (
        UniqueConstraint("org_id", "key_hash"),
        Index("ix_metric_org_what", "org_id", "what"),
        # Never reuse the id of a deleted metric (anomalies and alerts refer to ids).
        {"sqlite_autoincrement": True},
    )

    key_hash: Mapped[str] = mapped_column(String(64))
    what: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(Text)
    """Anodot's generated name: ``what=cpu.host=web-1`` (dimensions sorted by key)."""
    dimensions: Mapped[dict] = mapped_column(default=dict)
    tags: Mapped[dict | None]
    target_type: Mapped[str] = mapped_column(String(10), default="gauge")
    source: Mapped[str] = mapped_column(String(20), default="anodot20")
    stream_schema_id: Mapped[str | None] = mapped_column(String(36), index=True)
    first_ts: Mapped[float | None] = mapped_column(Float)
    last_ts: Mapped[float | None] = mapped_column(Float)
    last_seen_at: Mapped[datetime] = mapped_column(default=clock.now)


class MetricDimension(Base):
    """One dimension of a metric, for expression search and cardinality."""

    __tablename__ = "metric_dimension"
    __table_args__ = (Index("ix_metric_dimension_key_value", "key", "value"),)

    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metric.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(400))


class MetricPoint(Base):
    __tablename__ = "metric_point"
    __table_args__ = {"sqlite_with_rowid": False}

    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metric.id", ondelete="CASCADE"), primary_key=True
    )
    ts: Mapped[float] = mapped_column(Float, primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class MetricPointInbox(Base):
    """Points as they arrive, appended in arrival order (cheap to write).

    Ingestion only appends here; the stream processor moves them into ``metric_point``
    (ordered by metric and time) in large batches, which touches each page of that
    table once per batch instead of once per request. No foreign key: a point of a
    metric deleted meanwhile is dropped when it is moved.
    """

    __tablename__ = "metric_point_inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    metric_id: Mapped[int] = mapped_column(Integer)
    ts: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)


class MetricRollup(Base):
    __tablename__ = "metric_rollup"
    __table_args__ = {"sqlite_with_rowid": False}

    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metric.id", ondelete="CASCADE"), primary_key=True
    )
    resolution: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[float] = mapped_column(Float, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    sum: Mapped[float] = mapped_column(Float)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)


class StreamSchema(CreatedMixin, OrgMixin, Base):
    """An Anodot 3.0 stream schema; ``watermark`` is the last watermark received."""

    __tablename__ = "metric_stream_schema"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict]
    watermark: Mapped[float | None] = mapped_column(Float)
    modified_at: Mapped[datetime] = mapped_column(default=clock.now)


class StreamQueueItem(IdMixin, CreatedMixin, Base):
    """Metrics touched by one ingest request, waiting for one consumer.

    ``spans`` maps a metric id (as text) to ``[first_ts, last_ts, count]`` of the points
    the request wrote. The consumer reads the points back from ``metric_point`` and
    deletes the row in the transaction that stores its own results.
    """

    __tablename__ = "metric_stream_queue"
    __table_args__ = (Index("ix_metric_stream_queue_consumer_id", "consumer", "id"),)

    consumer: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    spans: Mapped[dict]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Failed runs of the consumer on this row alone (a poison row is retried with
    backoff, then parked)."""
    not_before: Mapped[float | None] = mapped_column(Float)
    """Epoch seconds before which the row is not claimed again (retry backoff)."""
    error: Mapped[str | None] = mapped_column(Text)
    """The last failure, for the organization's admins and the operator."""
    parked_at: Mapped[datetime | None]
    """Set when the row failed MAX_ATTEMPTS times: no longer claimed until retried."""


class IngestStat(OrgMixin, Base):
    """Samples accepted and refused per organization and minute (for EPS and the UI)."""

    __tablename__ = "metric_ingest_stat"
    __table_args__ = (UniqueConstraint("org_id", "minute"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    minute: Mapped[int] = mapped_column(Integer)
    """Epoch seconds of the minute the requests arrived in (server time)."""
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
