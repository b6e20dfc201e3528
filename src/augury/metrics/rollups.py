"""Rollups (1m, 5m, 1h, 1d) kept up to date from the stream queue, and retention.

Each level is recomputed for the buckets a span touched, from the level below (native
points for 1m, 1m for 5m, 5m for 1h, 1h for 1d), inside the database with one
``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE`` per level executed for all
spans at once. Recomputing whole buckets (rather than adding the new values) keeps the
rollups right when a late point arrives or a duplicate timestamp updates a value.
A bucket stores count, sum, min and max; a gauge reads ``sum / count``, a counter ``sum``.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
from sqlalchemy import delete, func, select, text
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts import org_settings
from augury.metrics import stream
from augury.metrics.models import (
    ROLLUP_RESOLUTIONS,
    IngestStat,
    Metric,
    MetricPoint,
    MetricRollup,
)
from augury.store.db import Database

RESOLUTION_NAMES = {60: "1m", 300: "5m", 3600: "1h", 86400: "1d"}

_UPSERT = """
INSERT INTO metric_rollup (metric_id, resolution, bucket, count, sum, min, max)
SELECT metric_id, {res}, {bucket} AS b, {agg}
FROM {source}
WHERE metric_id = :metric_id {level} AND {column} >= :lo AND {column} < :hi
GROUP BY metric_id, b
ON CONFLICT (metric_id, resolution, bucket) DO UPDATE SET
  count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max
"""
_FROM_POINTS = "count(*), {sum}, min(value), max(value)"
_FROM_ROLLUP = "sum(count), {sum}, min(min), max(max)"
FLOAT_MAX = 1.7976931348623157e308


def sum_sql(dialect: str, column: str) -> str:
    """A bucket's sum. PostgreSQL raises on a double-precision sum that overflows, and it
    adds a bucket's values in no set order: +1e308 and -1e308 alternating overflowed
    only now and then, and the rollup failed. There the sum is exact (numeric) and held
    to the float range; SQLite's sum reaches infinity without an error."""
    if dialect != "postgresql":
        return f"sum({column})"
    exact = f"sum(CAST({column} AS numeric))"
    return f"CAST(greatest(least({exact}, {FLOAT_MAX!r}), {-FLOAT_MAX!r}) AS double precision)"


def bucket_sql(dialect: str, column: str, res: int) -> str:
    if dialect == "postgresql":
        return f"floor({column} / {res}) * {res}"
    return f"CAST({column} / {res} AS INTEGER) * {res}"  # timestamps are never negative


def _statements(dialect: str) -> list[tuple[int, str]]:
    statements = []
    below = None
    for res in ROLLUP_RESOLUTIONS:
        if below is None:
            source, column, level = "metric_point", "ts", ""
            agg = _FROM_POINTS.format(sum=sum_sql(dialect, "value"))
        else:
            source, column = "metric_rollup", "bucket"
            agg = _FROM_ROLLUP.format(sum=sum_sql(dialect, "sum"))
            level = f"AND resolution = {below}"
        sql = _UPSERT.format(
            res=res,
            bucket=bucket_sql(dialect, column, res),
            agg=agg,
            source=source,
            level=level,
            column=column,
        )
        statements.append((res, sql))
        below = res
    return statements


def update(session: Session, spans: list[stream.Span]) -> None:
    """Recompute every rollup bucket the spans touch."""
    if not spans:
        return
    dialect = session.get_bind().dialect.name
    for res, sql in _statements(dialect):
        params = [
            {
                "metric_id": span.metric_id,
                "lo": math.floor(span.first_ts / res) * res,
                "hi": math.floor(span.last_ts / res) * res + res,
            }
            for span in spans
        ]
        session.execute(text(sql), params)


class RollupConsumer:
    name = "rollup"

    def consume(self, session: Session, spans: list[stream.Span]) -> None:
        update(session, spans)


def apply_retention(session: Session, *, retention_days: int, rollup_retention_days: int) -> None:
    """Delete native points and 1m/5m rollups older than ``retention_days``, 1h/1d older
    than ``rollup_retention_days``; an organization whose ``data_retention_days`` is
    shorter keeps none of its metric data (points or rollups) longer than that."""
    now = clock.now()
    own = org_settings.retention_days(session)

    def cutoffs(org_id: int) -> tuple[float, float]:
        days = own.get(org_id)
        short_days = min(retention_days, days) if days else retention_days
        long_days = min(rollup_retention_days, days) if days else rollup_retention_days
        return (now - timedelta(days=short_days)).timestamp(), (
            now - timedelta(days=long_days)
        ).timestamp()

    latest_short = max(
        [cutoffs(org_id)[0] for org_id in own]
        + [(now - timedelta(days=retention_days)).timestamp()]
    )
    candidates = session.execute(
        select(Metric.id, Metric.org_id, Metric.first_ts).where(Metric.first_ts < latest_short)
    ).all()
    for metric_id, org_id, first_ts in candidates:  # per metric: each delete is a key range
        short, long = cutoffs(org_id)
        if first_ts is None or first_ts >= short:
            continue
        session.execute(
            delete(MetricPoint).where(MetricPoint.metric_id == metric_id, MetricPoint.ts < short)
        )
        for res in ROLLUP_RESOLUTIONS:
            cutoff = short if res < 3600 else long
            session.execute(
                delete(MetricRollup).where(
                    MetricRollup.metric_id == metric_id,
                    MetricRollup.resolution == res,
                    MetricRollup.bucket < cutoff,
                )
            )
        oldest = select(func.min(MetricPoint.ts)).where(MetricPoint.metric_id == metric_id)
        session.execute(
            sa_update(Metric)
            .where(Metric.id == metric_id)
            .values(first_ts=oldest.scalar_subquery())
        )


def prune_stats(session: Session, *, keep_days: int = 30) -> None:
    """Drop per-minute ingest counts older than ``keep_days`` (they feed the overview)."""
    cutoff = (clock.now() - timedelta(days=keep_days)).timestamp()
    session.execute(delete(IngestStat).where(IngestStat.minute < cutoff))


class RetentionTask:
    """Applies retention and drops per-minute ingest counts older than 30 days: a
    periodic task of the stream processor (hourly)."""

    name = "metrics.retention"

    def __init__(self, retention_days: int, rollup_retention_days: int, every_s: float = 3600):
        self.retention_days = retention_days
        self.rollup_retention_days = rollup_retention_days
        self.every_s = every_s

    def run(self, db: Database) -> None:
        with db.session() as session:
            apply_retention(
                session,
                retention_days=self.retention_days,
                rollup_retention_days=self.rollup_retention_days,
            )
            prune_stats(session)


def bucket_is_partial(
    bucket: float, res: float, counts: list[int], newest_ts: float | None, now: float
) -> bool:
    """Whether the newest rollup bucket (starting at ``bucket``, ``res`` seconds long) is
    still filling.

    ``counts`` are the points per bucket, oldest first, the newest bucket last; their
    median before the newest is the metric's usual count, and ``res`` over it its usual
    spacing. The bucket is still filling when it ends after the metric's newest point
    plus that spacing (more points are due: 5-minute points up to 10:10 do not fill
    10:00-11:00, minute points up to 10:59 do, an hourly point fills its hour), or when
    it ends after ``now`` holding fewer points than usual (irregular events). A partial
    bucket holds a fraction of a sum (a counter's hour is low) or of an average (noisy),
    so it is not learned from, nor counted as what happened.
    """
    end = bucket + res
    before = counts[:-1]
    usual = max(float(np.median(before)), 1.0) if before else 1.0
    if newest_ts is not None and end > newest_ts + res / usual + 1e-6:
        return True
    return end > now and bool(counts) and counts[-1] < usual
