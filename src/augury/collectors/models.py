"""Collectors: data sources augury connects to, and the data streams it polls from them.

Anodot's "Data Sources & Data Streams" (seed 004), in augury's words:

- a **data source** is a connection: its ``type`` (``psql``, ``mysql``, ``mariadb``,
  ``sqlite``, ``s3``, ``folder``, ``prometheus``, ``http``), the fields that say where it
  is (``config``: host, port, database, bucket, folder, URL ...) and the credentials
  (``secret``: a JSON object of passwords, keys and header values, encrypted with a key
  derived from the server's secret; never returned).
- a **data stream** reads rows from one source on a schedule and turns them into metric
  points that enter the metrics inbox like any pushed point. ``definition`` is the
  stream object as Anodot defines it (schema of metric and dimension columns, transforms,
  filters, time definition, table or query or file pattern ...); the schedule and the
  collector's state have columns of their own so that the collector can find due streams
  with one indexed query.
- a stream's **watermark** is the end of the last time bucket it has collected: each
  poll reads the buckets from there up to the last one that is complete and past the
  stream's delay, and moves the watermark in the transaction that writes the points, so
  a crash repeats a poll (whose buckets give the same points again) but never skips one.
- **stream metrics** link a stream to the metrics it created (metrics per day/week, the
  alerts that watch them, delete with its metrics).
- a **run** is one poll: its window, rows read and used, points written, error.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from augury import clock
from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class SourceType(enum.StrEnum):
    PSQL = "psql"
    MYSQL = "mysql"
    MARIADB = "mariadb"
    SQLITE = "sqlite"
    S3 = "s3"
    FOLDER = "folder"
    PROMETHEUS = "prometheus"
    HTTP = "http"


class StreamStatus(enum.StrEnum):
    PENDING = "pending"
    """Created, not polled yet."""
    BACKFILLING = "backfilling"
    """Collecting its historical range, chunk by chunk."""
    OK = "ok"
    """The last poll succeeded and the stream is caught up."""
    ERROR = "error"
    """The last poll failed (``last_error``); it is retried with backoff."""


class DataSource(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "collect_source"

    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    config: Mapped[dict] = mapped_column(default=dict)
    """Where the source is: every field but the credentials."""
    secret: Mapped[str | None] = mapped_column(Text, default=None)
    """The credentials, a JSON object encrypted (Fernet); ``None`` when there are none."""
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class DataStream(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "collect_stream"
    __table_args__ = (Index("ix_collect_stream_due", "paused", "next_poll_at"),)

    source_id: Mapped[int] = mapped_column(
        ForeignKey("collect_source.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    definition: Mapped[dict] = mapped_column(default=dict)
    """The stream object as Anodot defines it (camelCase keys), as it was saved."""
    polling_interval: Mapped[str] = mapped_column(String(10))
    history: Mapped[str | None] = mapped_column(String(5), default=None)
    """``historicalDateRange.constRange`` (h1 ... y20), collected on creation."""
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=StreamStatus.PENDING.value)
    watermark: Mapped[datetime | None] = mapped_column(default=None)
    """End of the last collected bucket; ``None`` until the first poll."""
    backfill_from: Mapped[datetime | None] = mapped_column(default=None)
    """Where the first poll (or a rewind) starts."""
    next_poll_at: Mapped[datetime | None] = mapped_column(default=None)
    last_poll_at: Mapped[datetime | None] = mapped_column(default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    error_code: Mapped[str | None] = mapped_column(String(40), default=None)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Polls failed in a row (the backoff grows with it; reset by a success)."""
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    points_written: Mapped[int] = mapped_column(BigInteger, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    """A collector holds the stream until then (another process skips it)."""
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class DataStreamMetric(Base):
    __tablename__ = "collect_stream_metric"

    stream_id: Mapped[int] = mapped_column(
        ForeignKey("collect_stream.id", ondelete="CASCADE"), primary_key=True
    )
    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metric.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    """When the stream first wrote the metric."""


class DataStreamRun(IdMixin, OrgMixin, Base):
    __tablename__ = "collect_run"

    stream_id: Mapped[int] = mapped_column(
        ForeignKey("collect_stream.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    window_start: Mapped[datetime | None] = mapped_column(default=None)
    window_end: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    """``ok`` or ``error``."""
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_used: Mapped[int] = mapped_column(BigInteger, default=0)
    skipped: Mapped[dict] = mapped_column(default=dict)
    """Rows left out, by reason (filtered, time unreadable, dimension empty ...)."""
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    metrics_new: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(40), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
