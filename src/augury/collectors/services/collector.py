"""The collector: one poll of one data stream, and the loop that finds due streams.

A poll reads whole time buckets (``engines.collect.schedule``) from the stream's
watermark to the last bucket that is closed and past the stream's delay, turns the rows
into points (``engines.collect.mapping``) and stores them through the metrics writer,
moving the watermark **in the transaction that writes the points**: a crash repeats a
poll, never skips one, and a repeated bucket gives the same points, which the metric
store upserts (so a re-read or a rewind doubles nothing).

Three phases, so that a slow source never holds augury's database:

1. a short transaction reads the stream and its source;
2. the connector reads the source with no transaction open (the query timeout is the
   connector's), and the engine maps the rows;
3. one transaction writes the points, links new metrics to the stream, moves the
   watermark, the counters and the schedule, releases the lease and adds a run row.
   A failure records the error instead (the watermark stays) and retries with backoff.

A stream that starts failing emits the platform event ``data_stream.failed``, and one
that collects again after failing ``data_stream.recovered``, in the transaction that
changes its status (so an event is never sent for a change rolled back). Each is sent
once per change: the retries of a failing stream are not news to a webhook, so the
count of failures in a row (``failures``, 0 while it collects) says whether a poll
starts or ends a failure, whatever a rewind did to the status meanwhile.

Several collectors (``augury serve`` and workers) share the streams through a lease on
the row (:func:`claim_due`): a conditional ``UPDATE`` takes a stream only while no one
else holds it, so no two processes poll one stream at once; a crashed holder's lease
expires.

The loop itself is :class:`Collector` (``run_once`` every ``AUGURY_COLLECT__TICK_S``,
wrapped by the composition root in a ``runtime.loops.Every``: collectors sit below
runtime and do not import it). After a round it writes the collector's health as
metrics of each organization with streams (``augury_collector_*``).
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import os
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.collectors.connectors import ConfigInvalid, SourceError, TooManyRows, Window
from augury.collectors.models import (
    DataSource,
    DataStream,
    DataStreamMetric,
    DataStreamRun,
    StreamStatus,
)
from augury.collectors.services import access
from augury.config import QuotaSettings, Settings
from augury.engines.collect import schedule
from augury.engines.collect.mapping import (
    Collected,
    ColumnMismatch,
    SchemaError,
    StreamSchema,
    TimeDefinition,
    parse_schema,
    parse_time_definition,
    to_points,
    validate_columns,
)
from augury.engines.collect.timeparse import MixedFormats, TimeParseError
from augury.errors import QuotaExceeded
from augury.events import service as events
from augury.metrics import writer
from augury.metrics.ingest.points import ParseResult, Sample
from augury.metrics.models import Metric
from augury.store.db import Database, changed
from augury.store.upsert import upsert

log = logging.getLogger("augury.collectors")

SOURCE = "collector"
"""The ``source`` of the metrics a stream creates (and of the collector's health)."""
LEASE_MARGIN_S = 120.0
"""A lease is the query timeout plus this: time to map the rows and write the points."""
MIN_RETRY_S = 30.0
"""The shortest wait before a failed stream is tried again."""
KEEP_RUNS = 200
"""Runs kept per stream (the newest)."""
MAX_ERROR_CHARS = 2000
_KEY_CHUNK = 500
_UNSAFE_DIMENSION = re.compile(r"[^A-Za-z0-9_-]")

HEALTH_ACTIVE = "augury_collector_active_streams"
HEALTH_LAG = "augury_collector_lag_seconds"
HEALTH_ROWS = "augury_collector_rows_read"
HEALTH_ERRORS = "augury_collector_errors"


@dataclass(slots=True)
class PollResult:
    """What one poll did. ``error_code`` is ``None`` after a success (or when nothing
    was due); ``dropped`` when the result was thrown away because the stream was
    deleted, paused or changed while its source was read (the next poll reads again)."""

    stream_id: int
    window: tuple[datetime, datetime] | None = None
    rows: int = 0
    points: int = 0
    metrics_new: int = 0
    status: str | None = None
    """The stream's status after the poll."""
    error_code: str | None = None
    error: str | None = None
    dropped: bool = False
    skipped: dict[str, int] = field(default_factory=dict)


class _PollFailed(Exception):
    """A poll that failed for a reason the stream shows (code and message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class _Plan:
    """What phase 1 read: the stream as it was (to notice a change meanwhile), its
    parsed definition and the buckets due."""

    org_id: int
    snapshot: tuple[Any, ...]
    definition: Mapping[str, Any]
    interval: schedule.Interval
    tz: str
    delay: timedelta
    start: datetime
    buckets: list[schedule.Bucket]
    source: DataSource | None


def _snapshot(stream: DataStream) -> tuple[Any, ...]:
    """The fields that, changed during a poll (rewind, edit, pause, divert), make its
    result stale: the poll then stores nothing and the next one reads again."""
    return (
        stream.watermark,
        stream.backfill_from,
        stream.updated_at,
        stream.definition,
        stream.polling_interval,
        stream.time_zone,
        stream.delay_minutes,
        stream.source_id,
        stream.paused,
    )


# --------------------------------------------------------------------------- schedule


def lease_seconds(settings: Settings) -> float:
    """How long a claimed stream is held: the longest read plus the time to store it."""
    return settings.collect.query_timeout_s + LEASE_MARGIN_S


def retry_delay_s(interval_s: float, failures: int, cap_s: float) -> float:
    """The wait after ``failures`` failed polls in a row: the polling interval doubled
    per failure after the first, at least :data:`MIN_RETRY_S`, at most ``cap_s``.

    >>> [retry_delay_s(60, n, 3600) for n in (1, 2, 3, 10)]
    [60.0, 120.0, 240.0, 3600.0]
    >>> retry_delay_s(60, 1, 20)  # the cap wins over the minimum
    20.0
    """
    wait = max(MIN_RETRY_S, float(interval_s) * 2.0 ** min(max(failures - 1, 0), 40))
    return float(min(cap_s, wait))


def next_due(
    watermark: datetime, interval: schedule.Interval, delay: timedelta, tz: str
) -> datetime:
    """When the bucket starting at ``watermark`` is due: its end plus the delay."""
    return schedule.next_bucket_start(watermark, interval, tz) + delay


def _first_start(now: datetime, interval: schedule.Interval, tz: str) -> datetime:
    """Where a stream with neither watermark nor history starts: the last bucket that
    is complete (the start of the current bucket, one bucket back)."""
    current = schedule.bucket_start(now, interval, tz)
    return schedule.bucket_start(current - timedelta(seconds=1), interval, tz)


# --------------------------------------------------------------------------- claiming


def default_owner() -> str:
    """A name for this collector in lease rows: host, process and a random part."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:64]


def claim_due(
    db: Database,
    now: datetime,
    owner: str,
    limit: int,
    *,
    lease_s: float = 60.0 + LEASE_MARGIN_S,
) -> list[int]:
    """Lease up to ``limit`` due streams to ``owner`` and return their ids (most overdue
    first). Due: not paused, ``next_poll_at`` passed (or never set), no lease or an
    expired one. Each stream is taken by an ``UPDATE`` that repeats the condition, so
    when two collectors pick the same stream only one of them gets it (the other's
    ``UPDATE`` changes no row: PostgreSQL re-checks the row after the first commits,
    SQLite serialises the writers)."""
    if limit <= 0:
        return []
    until = now + timedelta(seconds=lease_s)
    free = or_(DataStream.lease_until.is_(None), DataStream.lease_until < now)
    is_due = and_(
        DataStream.paused.is_(False),
        or_(DataStream.next_poll_at.is_(None), DataStream.next_poll_at <= now),
        free,
    )
    claimed: list[int] = []
    with db.session() as session:
        candidates = session.scalars(
            select(DataStream.id)
            .where(is_due)
            .order_by(DataStream.next_poll_at.is_not(None), DataStream.next_poll_at)
            .limit(limit)
        ).all()
        for stream_id in candidates:
            taken = changed(
                session,
                update(DataStream)
                .where(DataStream.id == stream_id, is_due)
                .values(lease_until=until, lease_owner=owner)
                .execution_options(synchronize_session=False),
            )
            if taken:
                claimed.append(stream_id)
    return claimed


def release_leases(db: Database, stream_ids: Sequence[int], owner: str) -> None:
    """Give back leases this owner holds (a poll that never started)."""
    if not stream_ids:
        return
    with db.session() as session:
        session.execute(
            update(DataStream)
            .where(DataStream.id.in_(list(stream_ids)), DataStream.lease_owner == owner)
            .values(lease_until=None, lease_owner=None)
            .execution_options(synchronize_session=False)
        )


# --------------------------------------------------------------------------- one poll


def poll_stream(
    db: Database,
    settings: Settings,
    stream_id: int,
    *,
    now: datetime,
    owner: str,
    cache: writer.MetricCache | None = None,
) -> PollResult:
    """One poll of one stream (see the module's docstring). Never raises for a problem
    of the source or the stream: it is recorded on the stream and in a run row, and the
    result says it. ``cache`` is the process's metric cache (a fresh one otherwise)."""
    poll = _Poll(db, settings, stream_id, now, owner, cache or writer.MetricCache())
    try:
        poll.run()
    except _PollFailed as exc:
        poll.fail(exc.code, exc.message)
    except Exception as exc:  # a bug or the database: recorded, the loop goes on
        log.exception("collector: poll of stream %s failed", stream_id)
        message = f"{type(exc).__name__}: {exc}"
        try:
            poll.fail("internal", message)
        except Exception:
            log.exception("collector: could not record the failure of stream %s", stream_id)
            poll.result.error_code, poll.result.error = "internal", message[:MAX_ERROR_CHARS]
    return poll.result


class _Poll:
    """One poll's context and its three phases."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        stream_id: int,
        now: datetime,
        owner: str,
        cache: writer.MetricCache,
    ) -> None:
        self.db = db
        self.settings = settings
        self.stream_id = stream_id
        self.now = now
        self.owner = owner
        self.cache = cache
        self.started = time.monotonic()
        self.result = PollResult(stream_id)
        self.plan: _Plan | None = None

    def run(self) -> None:
        self.plan = plan = self._plan()
        if plan is None:
            self.result.dropped = True
            return
        if not plan.buckets:
            self._schedule_only(plan)
            return
        buckets, collected = self._read_and_map(plan)
        self.result.window = schedule.span(buckets)
        self.result.rows = collected.rows_read
        self._store(plan, buckets, collected)

    # --- phase 1 -------------------------------------------------------------------

    def _plan(self) -> _Plan | None:
        """A short transaction: the stream, its source and the buckets due. ``None``
        when there is nothing to poll (deleted, or paused: its lease is let go)."""
        with self.db.session() as session:
            stream = session.get(DataStream, self.stream_id)
            if stream is None:
                return None
            if stream.paused:
                _release(stream, self.owner)
                return None
            snapshot = _snapshot(stream)
            try:
                interval = schedule.parse_interval(stream.polling_interval)
                tz = stream.time_zone or "UTC"
                schedule.zone(tz)
                delay = timedelta(minutes=stream.delay_minutes or 0)
                if stream.watermark is not None:
                    start = stream.watermark
                elif stream.backfill_from is not None:
                    start = stream.backfill_from
                else:
                    start = _first_start(self.now, interval, tz)
                buckets = schedule.due(
                    self.now,
                    start,
                    interval,
                    delay,
                    tz=tz,
                    max_buckets=self.settings.collect.backfill_chunk_buckets,
                )
            except schedule.ScheduleError as exc:
                raise _PollFailed("stream_invalid", str(exc)) from exc
            source = session.get(DataSource, stream.source_id) if buckets else None
            if source is not None:
                session.expunge(source)
            return _Plan(
                stream.org_id,
                snapshot,
                dict(stream.definition or {}),
                interval,
                tz,
                delay,
                start,
                buckets,
                source,
            )

    def _schedule_only(self, plan: _Plan) -> None:
        """Nothing due yet: wake up when the next bucket is. A stream polled for the
        first time keeps where it starts (else a later first poll would start later and
        leave the buckets between out)."""
        with self.db.session() as session:
            stream = session.get(DataStream, self.stream_id, with_for_update=True)
            if stream is None:
                self.result.dropped = True
                return
            if _snapshot(stream) == plan.snapshot:
                if stream.watermark is None:
                    stream.watermark = plan.start
                stream.next_poll_at = next_due(plan.start, plan.interval, plan.delay, plan.tz)
            _release(stream, self.owner)
            self.result.status = stream.status

    # --- phase 2 -------------------------------------------------------------------

    def _read_and_map(self, plan: _Plan) -> tuple[list[schedule.Bucket], Collected]:
        """No transaction open: the rows of the due buckets, as points. A read with too
        many rows is tried again with half the buckets (a dense backfill) until one
        bucket is left or the query timeout has passed."""
        assert plan.source is not None
        cfg = self.settings.collect
        schema, time_definition = _parsed_definition(plan.definition, plan.source.type)
        buckets = plan.buckets
        deadline = self.started + cfg.query_timeout_s
        try:
            connector = access.connector_for(self.settings, plan.source)
        except SourceError as exc:
            raise _PollFailed(exc.code, exc.message) from exc
        except ConfigInvalid as exc:
            raise _PollFailed("source_invalid", f"{exc.field}: {exc.message}") from exc
        try:
            while True:
                start, end = schedule.span(buckets)
                try:
                    rows = connector.read(
                        plan.definition, Window(start, end, plan.tz), limit=cfg.max_rows_per_poll
                    )
                    break
                except TooManyRows as exc:
                    if len(buckets) == 1 or time.monotonic() >= deadline:
                        raise _PollFailed(exc.code, exc.message) from exc
                    buckets = buckets[: len(buckets) // 2]
                except SourceError as exc:
                    raise _PollFailed(exc.code, exc.message) from exc
        finally:
            try:
                connector.close()
            except Exception:
                log.warning("collector: closing the connector failed", exc_info=True)
        self.result.rows = len(rows)  # a run that fails in the mapping says what it read
        return buckets, _map(rows, schema, time_definition, plan, buckets)

    # --- phase 3 -------------------------------------------------------------------

    def _store(self, plan: _Plan, buckets: list[schedule.Bucket], collected: Collected) -> None:
        """One transaction: points, stream metrics, watermark, counters, schedule, lease
        and run. A stream deleted, paused or changed meanwhile stores nothing."""
        result, now = self.result, self.now
        parsed = _samples(collected)
        with self.db.session() as session:
            stream = session.get(DataStream, self.stream_id, with_for_update=True)
            if stream is None:
                result.dropped = True
                return
            if _snapshot(stream) != plan.snapshot:
                _release(stream, self.owner)
                result.dropped = True
                result.status = stream.status
                return
            try:
                outcome, ids, new = write_points(
                    session, self.settings, plan.org_id, parsed, self.cache
                )
            except QuotaExceeded as exc:
                raise _PollFailed("quota_exceeded", exc.message) from exc
            upsert(
                session,
                DataStreamMetric.__table__,
                [
                    {"stream_id": stream.id, "metric_id": metric_id, "org_id": plan.org_id}
                    for metric_id in sorted(set(ids.values()))
                ],
                keys=["stream_id", "metric_id"],
            )
            watermark = buckets[-1].end
            next_poll = next_due(watermark, plan.interval, plan.delay, plan.tz)
            stream.watermark = watermark
            stream.rows_read = (stream.rows_read or 0) + collected.rows_read
            stream.points_written = (stream.points_written or 0) + outcome.accepted
            stream.last_poll_at = now
            stream.last_success_at = now
            # Still behind after a whole chunk: the next chunk is due at once.
            behind = next_poll <= now
            stream.status = (StreamStatus.BACKFILLING if behind else StreamStatus.OK).value
            if stream.failures:
                _emit(session, stream, "data_stream.recovered")
            stream.failures = 0
            stream.last_error = None
            stream.error_code = None
            stream.next_poll_at = next_poll
            _release(stream, self.owner)
            result.points = outcome.accepted
            result.metrics_new = len(new)
            result.status = stream.status
            result.skipped = _skipped(collected, outcome)
            self._add_run(
                session,
                stream,
                window=schedule.span(buckets),
                status="ok",
                rows_read=collected.rows_read,
                rows_used=collected.rows_used,
                skipped=result.skipped,
                points=outcome.accepted,
                metrics_new=len(new),
            )

    def fail(self, code: str, message: str) -> None:
        """Record a failed poll: status ``error``, the message and code, one more
        failure, the next try after the backoff, a run row. The watermark stays."""
        result, now = self.result, self.now
        message = message[:MAX_ERROR_CHARS]
        result.error_code, result.error = code, message
        with self.db.session() as session:
            stream = session.get(DataStream, self.stream_id, with_for_update=True)
            if stream is None:
                result.dropped = True
                return
            failures = (stream.failures or 0) + 1
            try:
                interval_s = float(schedule.parse_interval(stream.polling_interval).seconds)
            except schedule.ScheduleError:
                interval_s = MIN_RETRY_S
            wait = retry_delay_s(interval_s, failures, self.settings.collect.retry_cap_s)
            stream.status = StreamStatus.ERROR.value
            stream.last_error = message
            stream.error_code = code
            stream.failures = failures
            if failures == 1:
                _emit(session, stream, "data_stream.failed")
            stream.last_poll_at = now
            stream.next_poll_at = now + timedelta(seconds=wait)
            _release(stream, self.owner)
            result.status = stream.status
            plan = self.plan
            self._add_run(
                session,
                stream,
                window=schedule.span(plan.buckets) if plan is not None and plan.buckets else None,
                status="error",
                rows_read=result.rows,
                error_code=code,
                error=message,
            )

    def _add_run(
        self,
        session: Session,
        stream: DataStream,
        *,
        window: tuple[datetime, datetime] | None,
        status: str,
        rows_read: int = 0,
        rows_used: int = 0,
        skipped: Mapping[str, int] | None = None,
        points: int = 0,
        metrics_new: int = 0,
        error_code: str | None = None,
        error: str | None = None,
    ) -> None:
        session.add(
            DataStreamRun(
                org_id=stream.org_id,
                stream_id=stream.id,
                started_at=self.now,
                finished_at=clock.now(),
                window_start=window[0] if window else None,
                window_end=window[1] if window else None,
                status=status,
                rows_read=rows_read,
                rows_used=rows_used,
                skipped=dict(skipped or {}),
                points=points,
                metrics_new=metrics_new,
                error_code=error_code,
                error=error,
                duration_ms=int((time.monotonic() - self.started) * 1000),
            )
        )
        session.flush()
        # Keep the newest KEEP_RUNS: the run at that rank and everything older goes.
        cutoff = session.scalar(
            select(DataStreamRun.id)
            .where(DataStreamRun.stream_id == stream.id)
            .order_by(DataStreamRun.id.desc())
            .offset(KEEP_RUNS)
            .limit(1)
        )
        if cutoff is not None:
            session.execute(
                delete(DataStreamRun)
                .where(DataStreamRun.stream_id == stream.id, DataStreamRun.id <= cutoff)
                .execution_options(synchronize_session=False)
            )


def _emit(session: Session, stream: DataStream, type: str) -> None:
    """The platform event of a stream that started failing or collects again, with what
    a receiver needs to say which and why (the error is the one the stream shows)."""
    source = session.get(DataSource, stream.source_id)
    data: dict[str, Any] = {
        "stream_id": stream.id,
        "name": stream.name,
        "source_id": stream.source_id,
        "source": source.name if source is not None else None,
        "type": stream.type,
        "status": stream.status,
    }
    if type == "data_stream.failed":
        data.update(error_code=stream.error_code, error=stream.last_error)
    else:
        data["watermark"] = None if stream.watermark is None else int(stream.watermark.timestamp())
    events.emit(session, org_id=stream.org_id, type=type, data=data)


def _release(stream: DataStream, owner: str) -> None:
    if stream.lease_owner in (owner, None):
        stream.lease_until = None
        stream.lease_owner = None


def _parsed_definition(
    definition: Mapping[str, Any], source_type: str
) -> tuple[StreamSchema, TimeDefinition]:
    try:
        schema = parse_schema(
            definition.get("schema") or {},
            filters=definition.get("filters") or None,
            missing_dim_policy=definition.get("missingDimPolicy") or None,
        )
        try:
            time_definition = parse_time_definition(definition)
        except SchemaError:
            if source_type != "prometheus":
                raise
            # A Prometheus series' time is always its "timestamp" column in seconds.
            time_definition = TimeDefinition("timestamp", "epoch_seconds")
    except SchemaError as exc:
        raise _PollFailed("stream_invalid", str(exc)) from exc
    return schema, time_definition


def _map(
    rows: pd.DataFrame,
    schema: StreamSchema,
    time_definition: TimeDefinition,
    plan: _Plan,
    buckets: list[schedule.Bucket],
) -> Collected:
    if len(rows):
        try:
            validate_columns(schema, list(rows.columns), time_definition)
        except ColumnMismatch as exc:
            raise _PollFailed("columns_changed", str(exc)) from exc
    try:
        return to_points(
            rows,
            schema,
            time_definition,
            plan.tz,
            interval=plan.interval,
            window=(float(buckets[0].start_s), float(buckets[-1].end_s)),
        )
    except MixedFormats as exc:
        raise _PollFailed("time_mixed_formats", str(exc)) from exc
    except ColumnMismatch as exc:
        raise _PollFailed("columns_changed", str(exc)) from exc
    except (SchemaError, TimeParseError) as exc:
        raise _PollFailed("stream_invalid", str(exc)) from exc


def _samples(collected: Collected) -> ParseResult:
    result = ParseResult()
    # A series' points share one properties mapping (the engine's): its dimensions are
    # worked out once per series, not once per point.
    dimensions: dict[int, dict[str, str]] = {}
    for index, point in enumerate(collected.points):
        dims = dimensions.get(id(point.properties))
        if dims is None:
            dims = dimensions[id(point.properties)] = point.dimensions
        result.add(
            index,
            Sample(
                what=point.what,
                dimensions=dims,
                timestamp=float(point.timestamp),
                value=point.value,
                target_type=point.target_type,
                tags={"unit": (point.unit,)} if point.unit else None,
            ),
        )
    return result


def _metric_ids(session: Session, org_id: int, digests: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in range(0, len(digests), _KEY_CHUNK):
        part = list(digests[chunk : chunk + _KEY_CHUNK])
        found.update(
            (digest, metric_id)
            for metric_id, digest in session.execute(
                select(Metric.id, Metric.key_hash).where(
                    Metric.org_id == org_id, Metric.key_hash.in_(part)
                )
            )
        )
    return found


def _quotas(settings: Settings) -> QuotaSettings:
    # Collected points are history at the source's pace, not a rate: only the metrics
    # and stored points quotas apply (as for the CSV backfill).
    return settings.quotas.model_copy(update={"points_per_minute": 0})


def write_points(
    session: Session,
    settings: Settings,
    org_id: int,
    parsed: ParseResult,
    cache: writer.MetricCache,
) -> tuple[writer.WriteOutcome, dict[str, int], set[str]]:
    """Write samples through the metrics writer and return the outcome, the metric id
    of each sample's key hash, and the hashes of metrics that did not exist before.

    A metric deleted while this process's cache still held its id would swallow the
    points (the inbox drops points of a gone metric); such entries are forgotten first,
    so the writer creates the metric again."""
    keys = list(dict.fromkeys(sample.key for sample in parsed.samples))
    digests = {writer.key_hash(key): key for key in keys}
    before = _metric_ids(session, org_id, list(digests))
    stale = set()
    for digest, key in digests.items():
        entry = cache.get(org_id, key)
        if entry is not None and before.get(digest) != entry.id:
            stale.add(entry.id)
    if stale:
        cache.forget(org_id, stale)
    outcome = writer.write(
        session,
        org_id=org_id,
        result=parsed,
        cache=cache,
        source=SOURCE,
        max_lateness_s=None,
        quotas=_quotas(settings),
        retention_days=settings.metrics.retention_days,
    )
    new = [d for d in digests if d not in before]
    ids = {**before, **_metric_ids(session, org_id, new)}
    return outcome, ids, {d for d in new if d in ids}


def _skipped(collected: Collected, outcome: writer.WriteOutcome) -> dict[str, int]:
    out: Counter[str] = Counter()
    if collected.rows_filtered:
        out["filtered"] += collected.rows_filtered
    out.update(collected.rows_skipped)
    out.update(collected.values_skipped)
    for error in outcome.errors:
        out[f"points refused: {error.code}"] += 1
    return dict(out)


# --------------------------------------------------------------------------- health


def dimension_value(name: str) -> str:
    """A stream name as a dimension value: letters, digits, ``_`` and ``-`` kept,
    anything else ``_``.

    >>> dimension_value("orders (EU) v2.1")
    'orders__EU__v2_1'
    """
    return _UNSAFE_DIMENSION.sub("_", name) or "_"


def write_health(db: Database, settings: Settings, cache: writer.MetricCache, now: datetime) -> int:
    """Write the collector's health as metrics of each organization with active streams,
    stamped at the start of ``now``'s minute (rounds within a minute update one point):
    ``augury_collector_active_streams``, and per stream (dimension ``stream``)
    ``augury_collector_lag_seconds`` (now minus the watermark),
    ``augury_collector_rows_read`` and ``augury_collector_errors`` (failures in a row).
    Returns the points written."""
    ts = float(math.floor(now.timestamp() / 60) * 60)
    with db.session() as session:
        rows = session.execute(
            select(
                DataStream.org_id,
                DataStream.name,
                DataStream.watermark,
                DataStream.backfill_from,
                DataStream.rows_read,
                DataStream.failures,
            )
            .where(DataStream.paused.is_(False))
            .order_by(DataStream.org_id, DataStream.id)
        ).all()
    by_org: dict[int, list[Any]] = {}
    for row in rows:
        by_org.setdefault(row.org_id, []).append(row)
    written = 0
    for org_id, streams in by_org.items():
        parsed = ParseResult()

        def add(what: str, value: float, dims: Mapping[str, str], parsed=parsed) -> None:
            parsed.add(len(parsed.samples), Sample(what, dict(dims), ts, float(value)))

        add(HEALTH_ACTIVE, len(streams), {})
        seen: set[str] = set()
        for row in streams:
            name = dimension_value(row.name)
            if name in seen:  # two names that sanitise alike: the first one speaks
                continue
            seen.add(name)
            dims = {"stream": name}
            mark = row.watermark or row.backfill_from
            if mark is not None:
                add(HEALTH_LAG, max(0.0, (now - mark).total_seconds()), dims)
            add(HEALTH_ROWS, row.rows_read or 0, dims)
            add(HEALTH_ERRORS, row.failures or 0, dims)
        try:
            with db.session() as session:
                outcome = writer.write(
                    session,
                    org_id=org_id,
                    result=parsed,
                    cache=cache,
                    source=SOURCE,
                    max_lateness_s=None,
                    quotas=_quotas(settings),
                    retention_days=settings.metrics.retention_days,
                )
            written += outcome.accepted
        except QuotaExceeded as exc:
            log.info("collector: health of organization %s not written: %s", org_id, exc)
    return written


# --------------------------------------------------------------------------- the loop


class Collector:
    """Claims due streams every round and polls them in a pool of
    ``AUGURY_COLLECT__WORKERS`` threads, each poll with its own sessions. A round does
    not wait for its polls (``wait=True`` does, for tests and one-off runs): a slow or
    failing source holds one worker until its timeout, never the others or the next
    round. The composition root runs :meth:`run_once` as a ``runtime.loops.Every``."""

    name = "collector"

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        owner: str | None = None,
        cache: writer.MetricCache | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.cfg = settings.collect
        self.owner = owner or default_owner()
        self.cache = cache if cache is not None else writer.MetricCache()
        self.pool = ThreadPoolExecutor(self.cfg.workers, thread_name_prefix="augury-collect")
        self._inflight: dict[int, Future[PollResult]] = {}
        self._lock = threading.Lock()
        self._polled = False
        """A poll finished since the health was last written."""
        self._health_minute: float | None = None
        self.on_result: Callable[[PollResult], object] | None = None
        """Called with each finished poll's result (tests, logs)."""

    def run_once(self, *, wait: bool = False) -> int:
        """One round: claim what is due up to the free workers and start polling it;
        while claims fill every worker, wait for one to free up and claim again, for
        at most ``tick_s`` (so 100 streams due together are all started within the
        round, not four per tick); then write the health. Returns how many streams
        were claimed. ``wait=True`` (tests, one-off runs) claims once and waits for
        those polls."""
        deadline = time.monotonic() + self.cfg.tick_s
        futures: list[Future[PollResult]] = []
        while True:
            with self._lock:
                self._inflight = {k: f for k, f in self._inflight.items() if not f.done()}
                capacity = self.cfg.workers - len(self._inflight)
                busy = list(self._inflight.values())
            if capacity <= 0:
                left = deadline - time.monotonic()
                if wait or left <= 0:
                    break
                concurrent.futures.wait(busy, timeout=left, return_when=FIRST_COMPLETED)
                continue
            claimed = claim_due(
                self.db, clock.now(), self.owner, capacity, lease_s=lease_seconds(self.settings)
            )
            for stream_id in claimed:
                future = self.pool.submit(self._poll, stream_id)
                future.add_done_callback(self._finished)
                with self._lock:
                    self._inflight[stream_id] = future
                futures.append(future)
            if wait or len(claimed) < capacity:
                break
        if wait:
            for future in futures:
                future.result()
            # (a waiter may wake before the future's callbacks have run)
            self._polled = self._polled or bool(futures)
        self._health(clock.now())
        return len(futures)

    def drain(self, rounds: int = 100) -> int:
        """Poll until nothing is due (tests, ``augury`` commands): rounds that wait for
        their polls. Returns the streams polled."""
        total = 0
        for _ in range(rounds):
            n = self.run_once(wait=True)
            total += n
            if n == 0:
                break
        return total

    def close(self) -> None:
        """Stop: polls not started yet are cancelled and their leases given back (the
        next start takes them at once); running ones finish on their own."""
        with self._lock:
            inflight = dict(self._inflight)
        self.pool.shutdown(wait=False, cancel_futures=True)
        cancelled = [k for k, f in inflight.items() if f.cancelled()]
        try:
            release_leases(self.db, cancelled, self.owner)
        except Exception:
            log.warning("collector: could not give back %d leases", len(cancelled), exc_info=True)

    def _poll(self, stream_id: int) -> PollResult:
        return poll_stream(
            self.db,
            self.settings,
            stream_id,
            now=clock.now(),
            owner=self.owner,
            cache=self.cache,
        )

    def _finished(self, future: Future[PollResult]) -> None:
        self._polled = True
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            log.error("collector: a poll raised", exc_info=exc)
            return
        result = future.result()
        if result.error_code:
            log.info(
                "collector: stream %s failed (%s): %s",
                result.stream_id,
                result.error_code,
                result.error,
            )
        if self.on_result is not None:
            self.on_result(result)

    def _health(self, now: datetime) -> None:
        """The health metrics, when a poll finished or the minute changed since the last
        time (rounds every few seconds with nothing new write nothing)."""
        minute = math.floor(now.timestamp() / 60) * 60
        if not self._polled and minute == self._health_minute:
            return
        self._polled = False
        self._health_minute = minute
        try:
            write_health(self.db, self.settings, self.cache, now)
        except Exception:
            log.exception("collector: writing the health metrics failed")
