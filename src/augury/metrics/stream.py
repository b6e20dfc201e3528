"""How ingested points get into place and reach the later stages (rollups, detection).

Ingestion appends points to ``metric_point_inbox``. The stream processor
(:class:`augury.runtime.stream.StreamProcessor`, wired with every consumer by the
composition root) first *compacts* (:func:`compact`): in one transaction it moves a
batch of inbox rows into ``metric_point`` (a duplicate timestamp updates the value),
extends each metric's first/last timestamps, and queues one ``metric_stream_queue`` row
per consumer naming the metrics and time spans moved. Then (:func:`process_once`) it
claims each consumer's rows, merges them into one :class:`Span` per metric, hands them
to the consumer, and deletes the rows in the transaction that stores the consumer's
results: a crash before the commit leaves the rows for the next run, so no point is
lost and none is counted twice.

This module is the queue; it knows no consumer. A domain that wants ingested points
offers a :class:`Consumer` and the composition root registers it.

A consumer that needs the points themselves calls :func:`load_batches`, which returns
one :class:`PointBatch` per metric in time order. The same code runs whether the
processor is a thread next to the API or a separate worker process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sqlalchemy import bindparam, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from augury import clock
from augury.metrics.models import MetricPoint, MetricPointInbox, StreamQueueItem
from augury.store.base import UTCDateTime
from augury.store.db import Database, changed

log = logging.getLogger("augury.metrics")

CLAIM_LIMIT = 500
"""Queue rows merged into one consumer call, at most ..."""
MAX_SPANS = 250
"""... and metrics per consumer transaction (about; a queue row holds at most this many):
short transactions, because on SQLite each one holds the database's write lock."""


@dataclass(frozen=True, slots=True)
class Span:
    """Points of one metric written between ``first_ts`` and ``last_ts`` (inclusive)."""

    org_id: int
    metric_id: int
    first_ts: float
    last_ts: float
    count: int


@dataclass(frozen=True, slots=True)
class PointBatch:
    """The stored points of one metric within a span, in time order."""

    org_id: int
    metric_id: int
    timestamps: np.ndarray
    values: np.ndarray


class Consumer(Protocol):
    name: str

    def consume(self, session: Session, spans: list[Span]) -> None:
        """Process ``spans`` (one per metric); write results with ``session``."""


def enqueue(
    session: Session, org_id: int, spans: dict[int, list[float]], consumers: Sequence[str]
) -> None:
    """Queue ``spans`` (metric id -> [first_ts, last_ts, count]) for each consumer."""
    items = list(spans.items())
    for start in range(0, len(items), MAX_SPANS):
        payload = {str(k): v for k, v in items[start : start + MAX_SPANS]}
        session.add_all(
            StreamQueueItem(consumer=name, org_id=org_id, spans=payload) for name in consumers
        )


COMPACT_LIMIT = 200_000
"""Inbox rows moved into ``metric_point`` per transaction."""

_COMPACT = {
    "sqlite": """
        INSERT INTO metric_point (metric_id, ts, value)
        SELECT metric_id, ts, value FROM metric_point_inbox
        WHERE id <= :hi AND metric_id IN (SELECT id FROM metric)
        ORDER BY metric_id, ts, id
        ON CONFLICT (metric_id, ts) DO UPDATE SET value = excluded.value""",
    "postgresql": """
        INSERT INTO metric_point (metric_id, ts, value)
        SELECT DISTINCT ON (metric_id, ts) metric_id, ts, value FROM metric_point_inbox
        WHERE id <= :hi AND metric_id IN (SELECT id FROM metric)
        ORDER BY metric_id, ts, id DESC
        ON CONFLICT (metric_id, ts) DO UPDATE SET value = excluded.value""",
}
_SPANS = """
    SELECT i.metric_id, m.org_id, min(i.ts), max(i.ts), count(*)
    FROM metric_point_inbox i JOIN metric m ON m.id = i.metric_id
    WHERE i.id <= :hi GROUP BY i.metric_id, m.org_id"""
_MOVE = {
    "sqlite": """
        UPDATE metric SET
          first_ts = min(coalesce(first_ts, :first), :first),
          last_ts = max(coalesce(last_ts, :last), :last),
          last_seen_at = :now
        WHERE id = :metric_id""",
    "postgresql": """
        UPDATE metric SET
          first_ts = LEAST(first_ts, :first), last_ts = GREATEST(last_ts, :last),
          last_seen_at = :now
        WHERE id = :metric_id""",
}


def compact(db: Database, consumers: Sequence[str], limit: int = COMPACT_LIMIT) -> int:
    """Move arrived points from the inbox into ``metric_point``; queue their spans for
    each of ``consumers`` (names).

    Returns the number of inbox rows moved. One transaction: the points, the metrics'
    first/last timestamps and the queue rows for every consumer commit together, so
    a consumer never sees a span before its points.
    """
    with db.session() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":  # one snapshot for every statement below
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            if not session.scalar(text("SELECT pg_try_advisory_xact_lock(7311)")):
                return 0  # another process is compacting
        lo, hi = session.execute(
            select(func.min(MetricPointInbox.id), func.max(MetricPointInbox.id))
        ).one()
        if hi is None:
            return 0
        hi = min(hi, lo + limit - 1)
        spans = session.execute(text(_SPANS), {"hi": hi}).all()
        session.execute(text(_COMPACT[dialect]), {"hi": hi})
        now = clock.now()
        if spans:
            session.execute(
                text(_MOVE[dialect]).bindparams(bindparam("now", type_=UTCDateTime())),
                [
                    {"metric_id": metric_id, "first": first, "last": last, "now": now}
                    for metric_id, _org, first, last, _n in spans
                ],
            )
        inbox = delete(MetricPointInbox).where(MetricPointInbox.id <= hi)
        moved = changed(session, inbox)
        by_org: dict[int, dict[int, list[float]]] = {}
        for metric_id, org_id, first, last, count in spans:
            by_org.setdefault(org_id, {})[metric_id] = [first, last, count]
        for org_id, org_spans in by_org.items():
            enqueue(session, org_id, org_spans, consumers)
        return moved


def merge(items: Iterable[StreamQueueItem]) -> list[Span]:
    """One span per metric covering every queued span of it."""
    merged: dict[int, Span] = {}
    for item in items:
        for key, (first, last, count) in item.spans.items():
            metric_id = int(key)
            old = merged.get(metric_id)
            if old is not None:
                first, last = min(first, old.first_ts), max(last, old.last_ts)
                count += old.count
            merged[metric_id] = Span(item.org_id, metric_id, first, last, int(count))
    return list(merged.values())


def load_batches(session: Session, spans: list[Span], chunk: int = 500) -> list[PointBatch]:
    """The stored points inside each span, one batch per metric, oldest first.

    Spans that cover similar times are read together (one query for up to ``chunk``
    metrics), so the usual batch of "the last few points of many metrics" costs a
    handful of queries rather than one per metric.
    """
    batches = []
    for part in _similar(spans, chunk):
        rows = session.execute(
            select(MetricPoint.metric_id, MetricPoint.ts, MetricPoint.value)
            .where(
                MetricPoint.metric_id.in_([s.metric_id for s in part]),
                MetricPoint.ts >= min(s.first_ts for s in part),
                MetricPoint.ts <= max(s.last_ts for s in part),
            )
            .order_by(MetricPoint.metric_id, MetricPoint.ts)
        ).all()
        by_metric: dict[int, list] = {}
        for metric_id, ts, value in rows:
            by_metric.setdefault(metric_id, []).append((ts, value))
        for span in part:
            points = [
                p
                for p in by_metric.get(span.metric_id, ())
                if span.first_ts <= p[0] <= span.last_ts
            ]
            stamps = np.array([p[0] for p in points], dtype=float)
            values = np.array([p[1] for p in points], dtype=float)
            batches.append(PointBatch(span.org_id, span.metric_id, stamps, values))
    return batches


def _similar(spans: list[Span], chunk: int):
    """Groups of at most ``chunk`` spans whose union is not much longer than they are."""
    group: list[Span] = []
    lo = hi = longest = 0.0
    for span in sorted(spans, key=lambda s: s.first_ts):
        length = span.last_ts - span.first_ts
        if group:
            new_hi, new_long = max(hi, span.last_ts), max(longest, length)
            if len(group) < chunk and new_hi - lo <= max(3600.0, 4 * new_long):
                group.append(span)
                hi, longest = new_hi, new_long
                continue
            yield group
        group, lo, hi, longest = [span], span.first_ts, span.last_ts, length
    if group:
        yield group


def pending(session: Session, consumer: str | None = None) -> int:
    """Queue rows waiting (for one consumer or all)."""
    stmt = select(func.count()).select_from(StreamQueueItem)
    if consumer:
        stmt = stmt.where(StreamQueueItem.consumer == consumer)
    return int(session.scalar(stmt) or 0)


RETRY_BASE_S = 1.0
"""A queue row that fails alone is retried after 1 s, 2 s, 4 s ... """
RETRY_CAP_S = 300.0
MAX_ATTEMPTS = 8
"""... and parked (kept, with its error, no longer claimed) after this many failures:
about four minutes of retries."""


def process_once(db: Database, consumer: Consumer, limit: int = CLAIM_LIMIT) -> int:
    """Run ``consumer`` on up to ``limit`` queued rows; return how many were handled.

    One row that makes the consumer fail (a poison batch) must not stop the others,
    which may belong to other organizations: when a batch fails, each of its rows is
    tried alone, a failing row of several metrics is split into one row per metric,
    and a row that still fails is retried with backoff, then parked with its error
    (:func:`parked`, ``retry_parked``).
    """
    claimed: list[int] = []
    try:
        return _consume(db, consumer, limit, claimed)
    except Exception:
        if not claimed:
            raise  # failed before claiming anything: not a poison row
        log.warning(
            "consumer %s failed on %d queue rows; trying them one by one",
            consumer.name,
            len(claimed),
            exc_info=True,
        )
    return sum(_consume_alone(db, consumer, item_id) for item_id in claimed)


def _claim(session: Session, consumer: str, limit: int, ids: list[int] | None):
    now = clock.now().timestamp()
    stmt = (
        select(StreamQueueItem)
        .where(
            StreamQueueItem.consumer == consumer,
            StreamQueueItem.parked_at.is_(None),
            or_(StreamQueueItem.not_before.is_(None), StreamQueueItem.not_before <= now),
        )
        .order_by(StreamQueueItem.id)
        .limit(limit)
    )
    if ids is not None:
        stmt = stmt.where(StreamQueueItem.id.in_(ids))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return session.scalars(stmt)


def _consume(
    db: Database,
    consumer: Consumer,
    limit: int,
    claimed: list[int],
    ids: list[int] | None = None,
) -> int:
    """One transaction: claim rows (appending their ids to ``claimed``), consume, delete."""
    with db.session() as session:
        items: list[StreamQueueItem] = []
        spans = 0
        for item in _claim(session, consumer.name, limit, ids):
            if items and spans + len(item.spans) > MAX_SPANS:
                break
            items.append(item)
            spans += len(item.spans)
        if not items:
            return 0
        claimed.extend(item.id for item in items)
        consumer.consume(session, merge(items))
        session.execute(
            delete(StreamQueueItem).where(StreamQueueItem.id.in_([item.id for item in items]))
        )
        return len(items)


def _consume_alone(db: Database, consumer: Consumer, item_id: int) -> int:
    claimed: list[int] = []
    try:
        return _consume(db, consumer, 1, claimed, ids=[item_id])
    except Exception as exc:
        if not claimed:
            raise
        parts = _split(db, item_id)
        if parts:
            return sum(_consume_alone(db, consumer, part) for part in parts)
        _record_failure(db, consumer.name, item_id, exc)
        return 1


def _split(db: Database, item_id: int) -> list[int]:
    """Replace a row of several metrics by one row per metric; [] if it has one."""
    with db.session() as session:
        item = session.get(StreamQueueItem, item_id)
        if item is None or len(item.spans) <= 1:
            return []
        parts = [
            StreamQueueItem(
                consumer=item.consumer,
                org_id=item.org_id,
                spans={key: span},
                attempts=item.attempts,
                created_at=item.created_at,
            )
            for key, span in item.spans.items()
        ]
        session.add_all(parts)
        session.delete(item)
        session.flush()
        return [part.id for part in parts]


def _record_failure(db: Database, consumer: str, item_id: int, exc: Exception) -> None:
    with db.session() as session:
        item = session.get(StreamQueueItem, item_id)
        if item is None:
            return
        item.attempts += 1
        item.error = f"{type(exc).__name__}: {exc}"[:2000]
        now = clock.now()
        if item.attempts >= MAX_ATTEMPTS:
            item.parked_at = now
            log.error(
                "consumer %s parked queue row %d (organization %d, metrics %s) after %d "
                "failures: %s",
                consumer,
                item_id,
                item.org_id,
                ",".join(item.spans),
                item.attempts,
                item.error,
            )
        else:
            delay = min(RETRY_BASE_S * 2 ** (item.attempts - 1), RETRY_CAP_S)
            item.not_before = now.timestamp() + delay
            log.warning(
                "consumer %s failed on queue row %d (organization %d, metrics %s), attempt "
                "%d; retrying in %.0f s: %s",
                consumer,
                item_id,
                item.org_id,
                ",".join(item.spans),
                item.attempts,
                delay,
                item.error,
            )


def parked(session: Session, org_id: int | None = None) -> list[StreamQueueItem]:
    """Rows that failed and wait: parked ones, and ones retrying with backoff."""
    stmt = select(StreamQueueItem).where(StreamQueueItem.attempts > 0).order_by(StreamQueueItem.id)
    if org_id is not None:
        stmt = stmt.where(StreamQueueItem.org_id == org_id)
    return list(session.scalars(stmt))


def retry_parked(session: Session, org_id: int, item_id: int | None = None) -> int:
    """Make parked rows (all of the organization's, or one) claimable again now."""
    stmt = (
        update(StreamQueueItem)
        .where(StreamQueueItem.org_id == org_id, StreamQueueItem.attempts > 0)
        .values(parked_at=None, not_before=None, attempts=0)
    )
    if item_id is not None:
        stmt = stmt.where(StreamQueueItem.id == item_id)
    return changed(session, stmt)
