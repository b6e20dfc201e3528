"""Store parsed samples: create metrics on first sight, append the points, count.

:func:`write` is what every ingestion route (and the CSV backfill job) calls with a
:class:`~augury.metrics.ingest.points.ParseResult`. In one short transaction it

1. finds or creates the metric of each sample (``INSERT ... ON CONFLICT DO NOTHING`` on
   the organization and identity hash, so two writers racing on a new metric agree),
2. refuses samples older than their metric's newest point by more than the lateness
   allowance (``TOO_LATE``; ``max_lateness_s=None`` turns that off for backfills),
3. appends the points to ``metric_point_inbox`` (arrival order, the cheapest write
   there is); the stream processor moves them into ``metric_point`` in batches,
   where a duplicate timestamp overwrites the value (last one wins), and queues the
   spans for the later stages (:func:`augury.metrics.stream.compact`),
4. counts accepted and refused samples for the minute (EPS, the UI).

With ``quotas`` the organization's quotas apply first (:mod:`augury.metrics.quotas`):
a request over the points-per-minute or stored-points quota is refused whole, a sample
that would create a metric beyond the metrics quota is refused alone (QUOTA_EXCEEDED).

Metric ids and newest timestamps are cached per process (:class:`MetricCache`); the
cache is updated only after the transaction commits, so a rollback cannot leave ids
behind.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from augury.config import QuotaSettings
from augury.metrics import quotas as metric_quotas
from augury.metrics import searchable
from augury.metrics.ingest.points import ParseResult, Sample, SampleError
from augury.metrics.models import IngestStat, Metric, MetricDimension
from augury.search import service as search
from augury.store.upsert import upsert

TOO_LATE = "TOO_LATE"

MetricKey = tuple[str, tuple[tuple[str, str], ...]]


def _indexed(org_id: int, key: MetricKey, metric_id: int) -> tuple[int, int, search.Entry]:
    what, dimensions = key[0], dict(key[1])
    name = metric_name(what, dimensions)
    return org_id, metric_id, searchable.entry(metric_id, name, what, dimensions)


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


def _load_or_create(
    session: Session,
    org_id: int,
    samples: dict[MetricKey, tuple[Sample, str | None]],
    *,
    source: str,
) -> dict[MetricKey, CachedMetric]:
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
    search.index_rows(session, "metric", [_indexed(org_id, k, e.id) for k, e in found.items()])
    return found


def write(
    session: Session,
    *,
    org_id: int,
    result: ParseResult,
    cache: MetricCache,
    source: str,
    max_lateness_s: float | None,
    stream_schema_id: str | None = None,
    quotas: QuotaSettings | None = None,
    retention_days: int = 90,
) -> WriteOutcome:
    """Store the good samples of ``result``; return counts and every per-sample error."""
    outcome = WriteOutcome(errors=list(result.errors))
    if quotas is not None:
        metric_quotas.check_request(
            session,
            org_id=org_id,
            incoming=len(result.samples),
            quotas=quotas,
            retention_days=retention_days,
            owner=cache,
        )
    keys = [sample.key for sample in result.samples]
    entries: dict[MetricKey, CachedMetric] = {}
    missing: dict[MetricKey, tuple[Sample, str | None]] = {}
    for index, key, sample in zip(result.indices, keys, result.samples, strict=True):
        if key in entries or key in missing:
            continue
        entry = cache.get(org_id, key)
        if entry is None:
            missing[key] = (sample, result.streams.get(index, stream_schema_id))
        else:
            entries[key] = entry
    if missing and quotas is not None and quotas.metrics:
        over = {key_hash(key): key for key in missing}
        for key in metric_quotas.refuse_new_metrics(session, org_id, over, quotas.metrics):
            del missing[key]
    if missing:
        entries.update(_load_or_create(session, org_id, missing, source=source))

    rows: list[tuple[int, float, float]] = []
    spans: dict[int, list[float]] = {}
    for index, key, sample in zip(result.indices, keys, result.samples, strict=True):
        entry = entries.get(key)
        if entry is None:
            # Only the metrics quota leaves a sample without its metric.
            assert quotas is not None
            outcome.errors.append(
                SampleError(
                    index,
                    metric_quotas.QUOTA_EXCEEDED,
                    f"The organization has its quota of {quotas.metrics} metrics "
                    "(AUGURY_QUOTAS__METRICS); this sample would create another.",
                )
            )
            continue
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
        rows.append((entry.id, ts, sample.value))
        span = spans.get(entry.id)
        if span is None:
            spans[entry.id] = [ts, ts]
        elif ts < span[0]:
            span[0] = ts
        elif ts > span[1]:
            span[1] = ts
    outcome.errors.sort(key=lambda e: e.index)
    outcome.accepted = len(rows)

    # Plain driver executemany: the per-row cost of building SQLAlchemy parameters is
    # the largest part of a big batch otherwise.
    if rows:
        m = "?" if session.get_bind().dialect.name == "sqlite" else "%s"
        session.connection().exec_driver_sql(
            f"INSERT INTO metric_point_inbox (metric_id, ts, value) VALUES ({m}, {m}, {m})", rows
        )
    upsert(
        session,
        IngestStat.__table__,
        [
            {
                "org_id": org_id,
                "minute": int(time.time() // 60 * 60),
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
            span = spans.get(entry.id)
            if span is not None:
                first = span[0] if entry.first_ts is None else min(entry.first_ts, span[0])
                last = span[1] if entry.last_ts is None else max(entry.last_ts, span[1])
                entry = CachedMetric(entry.id, first, last)
            cache.put(org_id, key, entry)

    event.listen(session, "after_commit", remember, once=True)
    return outcome
