"""How stored points reach the stages after ingestion (rollups now, detection next).

Ingestion writes the points and, in the same transaction, one ``metric_stream_queue``
row per registered consumer naming the metrics and time spans it touched. A
:class:`StreamProcessor` (a thread in ``augury serve``, or ``augury worker`` at scale)
claims a consumer's rows, merges them into one :class:`Span` per metric, hands them to
the consumer, and deletes the rows in the transaction that stores the consumer's
results: a crash before the commit leaves the rows for the next run, so no point is
lost and none is counted twice.

A consumer that needs the points themselves calls :func:`load_batches`, which returns
one :class:`PointBatch` per metric in time order. The same code runs whether the
processor is a thread next to the API or a separate worker process.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from augury.config import Settings
from augury.metrics.models import MetricPoint, StreamQueueItem
from augury.store.db import Database

log = logging.getLogger("augury.metrics")

CLAIM_LIMIT = 500
"""Queue rows merged into one consumer call."""


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


CONSUMERS: dict[str, str] = {
    "rollup": "augury.metrics.rollups:RollupConsumer",
    "detect": "augury.anomalies.detection:DetectConsumer",
}
"""Every stage that ingested points go through: name -> "module:Class", loaded lazily
(so every process that writes points queues for all of them, whatever it imported)."""


def load_consumer(name: str) -> Consumer:
    module, _, attr = CONSUMERS[name].partition(":")
    return getattr(importlib.import_module(module), attr)()


def enqueue(session: Session, org_id: int, spans: dict[int, list[float]]) -> None:
    """Queue ``spans`` (metric id -> [first_ts, last_ts, count]) for every consumer."""
    if not spans:
        return
    payload = {str(k): v for k, v in spans.items()}
    session.add_all(
        StreamQueueItem(consumer=name, org_id=org_id, spans=payload) for name in CONSUMERS
    )


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


def load_batches(session: Session, spans: list[Span]) -> list[PointBatch]:
    """The stored points inside each span, one batch per metric, oldest first."""
    batches = []
    for span in spans:
        rows = session.execute(
            select(MetricPoint.ts, MetricPoint.value)
            .where(
                MetricPoint.metric_id == span.metric_id,
                MetricPoint.ts >= span.first_ts,
                MetricPoint.ts <= span.last_ts,
            )
            .order_by(MetricPoint.ts)
        ).all()
        ts = np.fromiter((r[0] for r in rows), dtype=float, count=len(rows))
        values = np.fromiter((r[1] for r in rows), dtype=float, count=len(rows))
        batches.append(PointBatch(span.org_id, span.metric_id, ts, values))
    return batches


def pending(session: Session, consumer: str | None = None) -> int:
    """Queue rows waiting (for one consumer or all)."""
    stmt = select(func.count()).select_from(StreamQueueItem)
    if consumer:
        stmt = stmt.where(StreamQueueItem.consumer == consumer)
    return int(session.scalar(stmt) or 0)


def process_once(db: Database, consumer: Consumer, limit: int = CLAIM_LIMIT) -> int:
    """Run ``consumer`` on up to ``limit`` queued rows; return how many were done."""
    with db.session() as session:
        stmt = (
            select(StreamQueueItem)
            .where(StreamQueueItem.consumer == consumer.name)
            .order_by(StreamQueueItem.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        items = list(session.scalars(stmt))
        if not items:
            return 0
        consumer.consume(session, merge(items))
        session.execute(
            delete(StreamQueueItem).where(StreamQueueItem.id.in_([item.id for item in items]))
        )
        return len(items)


class StreamProcessor:
    """Runs every registered consumer over the queue, in a thread or on demand."""

    def __init__(self, db: Database, interval_s: float = 0.5, periodic=()):
        self.db = db
        self.interval_s = interval_s
        self.consumers = [load_consumer(name) for name in CONSUMERS]
        self.periodic = list(periodic)
        """Callables ``f(db)`` run once per cycle after the consumers (retention ...)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> StreamProcessor:
        """The processor ``augury serve`` and ``augury worker`` run, with its periodic
        tasks: retention and the forecast refresh scheduler."""
        from augury.forecasts.jobs import ForecastScheduler
        from augury.metrics.rollups import RetentionTask

        m = settings.metrics
        retention = RetentionTask(m.retention_days, m.rollup_retention_days)
        return cls(db, interval_s=m.process_interval_s, periodic=[retention, ForecastScheduler()])

    def drain(self) -> int:
        """Process everything queued now; return the number of queue rows done."""
        done = 0
        for consumer in self.consumers:
            while n := process_once(self.db, consumer):
                done += n
        return done

    def run_cycle(self) -> int:
        done = self.drain()
        for task in self.periodic:
            task(self.db)
        return done

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="augury-stream", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_cycle()
            except Exception:  # keep going: the rows stay queued for the next cycle
                log.exception("stream processing failed")
            self._stop.wait(self.interval_s)
