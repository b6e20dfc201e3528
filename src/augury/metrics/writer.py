"""Store parsed samples: create metrics on first sight, upsert points, queue the spans.

:func:`write` is what every ingestion route (and the CSV backfill job) calls with a
:class:`~augury.metrics.ingest.points.ParseResult`. In one transaction it

1. finds or creates the metric of each sample (``INSERT ... ON CONFLICT DO NOTHING`` on
   the organization and identity hash, so two writers racing on a new metric agree),
2. refuses samples older than their metric's newest point by more than the lateness
   allowance (``TOO_LATE``; ``max_lateness_s=None`` turns that off for backfills),
3. upserts the points: a duplicate timestamp overwrites the value (last one wins),
4. moves each metric's first/last timestamps, and queues the touched spans for the
   stream consumers (rollups, detection),
5. counts accepted and refused samples for the minute (EPS, the UI).

Metric ids and timestamps are cached per process (:class:`MetricCache`); the cache is
updated only after the transaction commits, so a rollback cannot leave ids behind.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import bindparam, case, event, select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.metrics import stream
from augury.metrics.ingest.points import ParseResult, Sample, SampleError
from augury.metrics.models import IngestStat, Metric, MetricDimension, MetricPoint
from augury.store.upsert import upsert

TOO_LATE = "TOO_LATE"
SEEN_REFRESH_S = 60.0
"""``metric.last_seen_at`` is written at most this often per metric when nothing else moves."""

MetricKey = tuple[str, tuple[tuple[str, str], ...]]


def key_hash(key: MetricKey) -> str:
    """Stable identity hash of (what, sorted dimensions)."""
    return hashlib.sha256(json.dumps(key, separators=(",", ":")).encode()).hexdigest()[:40]


def metric_name(what: str, dimensions: Mapping[str, str]) -> str:
    """Anodot's generated metric name: ``what=cpu.host=web-1`` (dimensions by key)."""
    return ".".join([f"what={what}", *(f"{k}={v}" for k, v in sorted(dimensions.items()))])


@dataclass(slots=True)
class CachedMetric:
    id: int
    first_ts: float | None
    last_ts: float | None
    seen_at: float = 0.0
    """``time.monotonic()`` of the last ``last_seen_at`` write."""


class MetricCache:
    """(org id, metric key) -> :class:`CachedMetric`, shared by the requests of a process."""

    def __init__(self) -> None:
        self._entries: dict[tuple[int, MetricKey], CachedMetric] = {}
        self._lock = threading.Lock()

    def get(self, org_id: int, key: MetricKey) -> CachedMetric | None:
        return self._entries.get((org_id, key))

    def put(self, org_id: int, key: MetricKey, entry: CachedMetric) -> None:
        with self._lock:
            self._entries[(org_id, key)] = entry

    def forget(self, org_id: int, metric_ids: set[int] | None = None) -> None:
        """Drop an organization's entries (all, or those of ``metric_ids``)."""
        with self._lock:
            for cache_key in [k for k, v in self._entries.items() if k[0] == org_id]:
                if metric_ids is None or self._entries[cache_key].id in metric_ids:
                    del self._entries[cache_key]


@dataclass(slots=True)
class WriteOutcome:
    accepted: int = 0
    errors: list[SampleError] = field(default_factory=list)
    metrics: int = 0
    created: int = 0


def _load_or_create(
    session: Session,
    org_id: int,
    samples: dict[MetricKey, tuple[Sample, str | None]],
    *,
    source: str,
) -> tuple[dict[MetricKey, CachedMetric], int]:
    hashes = {key_hash(key): key for key in samples}
    rows = []
    for digest, key in hashes.items():
        sample, stream_schema_id = samples[key]
        rows.append(
            {
                "org_id": org_id,
                "key_hash": digest,
                "what": sample.what,
                "name": metric_name(sample.what, sample.dimensions),
                "dimensions": dict(sample.dimensions),
                "tags": {k: list(v) for k, v in sample.tags.items()} if sample.tags else None,
                "target_type": sample.target_type,
                "source": source,
                "stream_schema_id": stream_schema_id,
            }
        )
    for chunk in range(0, len(rows), 500):
        upsert(session, Metric.__table__, rows[chunk : chunk + 500], keys=["org_id", "key_hash"])
    found: dict[MetricKey, CachedMetric] = {}
    digests = list(hashes)
    for chunk in range(0, len(digests), 500):
        for metric_id, digest, first_ts, last_ts in session.execute(
            select(Metric.id, Metric.key_hash, Metric.first_ts, Metric.last_ts).where(
                Metric.org_id == org_id, Metric.key_hash.in_(digests[chunk : chunk + 500])
            )
        ):
            found[hashes[digest]] = CachedMetric(metric_id, first_ts, last_ts)
    # Not in this process's cache: new, or new to this process (dimension rows are
    # written only once either way).
    dims = [
        {"metric_id": entry.id, "key": k, "value": v}
        for key, entry in found.items()
        for k, v in key[1]
    ]
    upsert(session, MetricDimension.__table__, dims, keys=["metric_id", "key"])
    return found, sum(1 for entry in found.values() if entry.last_ts is None)


def write(
    session: Session,
    *,
    org_id: int,
    result: ParseResult,
    cache: MetricCache,
    source: str,
    max_lateness_s: float | None,
    stream_schema_id: str | None = None,
) -> WriteOutcome:
    """Store the good samples of ``result``; return counts and every per-sample error."""
    outcome = WriteOutcome(errors=list(result.errors))
    entries: dict[MetricKey, CachedMetric] = {}
    missing: dict[MetricKey, tuple[Sample, str | None]] = {}
    for index, sample in zip(result.indices, result.samples, strict=True):
        key = sample.key
        if key in entries or key in missing:
            continue
        entry = cache.get(org_id, key)
        if entry is None:
            missing[key] = (sample, result.streams.get(index, stream_schema_id))
        else:
            entries[key] = entry
    if missing:
        created, outcome.created = _load_or_create(session, org_id, missing, source=source)
        entries.update(created)

    points: dict[tuple[int, float], float] = {}
    spans: dict[int, list[float]] = {}
    for index, sample in zip(result.indices, result.samples, strict=True):
        entry = entries[sample.key]
        ts = sample.timestamp
        if (
            max_lateness_s is not None
            and entry.last_ts is not None
            and ts < entry.last_ts - max_lateness_s
        ):
            outcome.errors.append(
                SampleError(
                    index,
                    TOO_LATE,
                    f"Sample at {ts:.3f} is more than {max_lateness_s:g} s older than the "
                    f"newest point of its metric ({entry.last_ts:.3f}).",
                )
            )
            continue
        points[(entry.id, ts)] = sample.value
        span = spans.get(entry.id)
        if span is None:
            spans[entry.id] = [ts, ts, 1]
        else:
            span[0] = min(span[0], ts)
            span[1] = max(span[1], ts)
            span[2] += 1
    outcome.errors.sort(key=lambda e: e.index)
    outcome.accepted = len(result.samples) - (len(outcome.errors) - len(result.errors))
    outcome.metrics = len(spans)

    rows = [{"metric_id": m, "ts": ts, "value": v} for (m, ts), v in points.items()]
    for chunk in range(0, len(rows), 5000):
        upsert(
            session,
            MetricPoint.__table__,
            rows[chunk : chunk + 5000],
            keys=["metric_id", "ts"],
            update=["value"],
        )

    moved = _move_timestamps(session, entries, spans)
    stream.enqueue(session, org_id, spans)
    minute = int(time.time() // 60 * 60)
    upsert(
        session,
        IngestStat.__table__,
        [
            {
                "org_id": org_id,
                "minute": minute,
                "accepted": outcome.accepted,
                "refused": len(outcome.errors),
                "requests": 1,
            }
        ],
        keys=["org_id", "minute"],
        add=["accepted", "refused", "requests"],
    )

    def remember(_session) -> None:
        for key, entry in entries.items():
            cache.put(org_id, key, moved.get(entry.id, entry))

    event.listen(session, "after_commit", remember, once=True)
    return outcome


def _move_timestamps(
    session: Session, entries: dict[MetricKey, CachedMetric], spans: dict[int, list[float]]
) -> dict[int, CachedMetric]:
    """Extend each touched metric's first/last timestamps; return the new cache entries."""
    now = time.monotonic()
    moved: dict[int, CachedMetric] = {}
    params = []
    for entry in entries.values():
        span = spans.get(entry.id)
        if span is None:
            continue
        first = span[0] if entry.first_ts is None else min(entry.first_ts, span[0])
        last = span[1] if entry.last_ts is None else max(entry.last_ts, span[1])
        unchanged = first == entry.first_ts and last == entry.last_ts
        if unchanged and now - entry.seen_at < SEEN_REFRESH_S:
            continue
        moved[entry.id] = CachedMetric(entry.id, first, last, now)
        params.append({"mid": entry.id, "first": first, "last": last})
    if params:
        table = Metric.__table__
        first, last = bindparam("first"), bindparam("last")
        stmt = (
            update(table)
            .where(table.c.id == bindparam("mid"))
            .values(
                first_ts=case(
                    (table.c.first_ts.is_(None), first),
                    (table.c.first_ts > first, first),
                    else_=table.c.first_ts,
                ),
                last_ts=case(
                    (table.c.last_ts.is_(None), last),
                    (table.c.last_ts < last, last),
                    else_=table.c.last_ts,
                ),
                last_seen_at=clock.now(),
            )
        )
        session.execute(stmt, params)
    return moved
