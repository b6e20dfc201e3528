"""The stream queue: points reach each consumer once, a failed run loses nothing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from augury.metrics import rollups, stream
from augury.metrics.models import Metric, MetricPoint, MetricRollup, StreamQueueItem
from tests.fixtures.factories import make_key

NOW = int(time.time()) // 3600 * 3600


def _ingest(client, key, points):
    body = [{"properties": {"what": "q"}, "timestamp": t, "value": v} for t, v in points]
    assert client.post(f"/api/v1/metrics?token={key}", json=body).json()["rejected"] == 0


def _rollup_count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(MetricRollup))


def test_a_failing_consumer_leaves_the_queue_for_the_next_run(client, owner, db):
    key = make_key(client, owner, ["ingest"])
    _ingest(client, key, [(NOW, 1.0), (NOW + 60, 2.0)])
    with db.session() as s:
        assert stream.pending(s, "rollup") == 1

    class Broken:
        name = "rollup"

        def consume(self, session, spans):
            rollups.update(session, spans)  # writes, then fails before the commit
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        stream.process_once(db, Broken())
    assert _rollup_count(db) == 0
    with db.session() as s:
        assert stream.pending(s, "rollup") == 1
    assert client.app.state.stream.drain() == 1
    assert _rollup_count(db) == 5  # two 1m buckets, one each of 5m, 1h and 1d
    with db.session() as s:
        assert stream.pending(s) == 0


def test_spans_merge_and_batches_come_in_time_order(client, owner, db):
    key = make_key(client, owner, ["ingest"])
    _ingest(client, key, [(NOW + 120, 3.0), (NOW, 1.0)])
    _ingest(client, key, [(NOW + 60, 2.0)])
    with db.session() as s:
        items = list(s.scalars(select(StreamQueueItem).where(StreamQueueItem.consumer == "rollup")))
        (span,) = stream.merge(items)
        assert (span.first_ts, span.last_ts, span.count) == (NOW, NOW + 120, 3)
        (batch,) = stream.load_batches(s, [span])
        assert batch.timestamps.tolist() == [NOW, NOW + 60, NOW + 120]
        assert batch.values.tolist() == [1.0, 2.0, 3.0]


def test_retention_drops_old_points_and_short_rollups(client, owner, db):
    key = make_key(client, owner, ["ingest"])
    old = NOW - 100 * 86400
    _ingest(client, key, [(old, 5.0), (NOW, 1.0)])
    client.app.state.stream.drain()
    with db.session() as s:
        rollups.apply_retention(s, retention_days=90, rollup_retention_days=730)
    with db.session() as s:
        assert s.scalars(select(MetricPoint.ts)).all() == [NOW]
        kept = s.execute(select(MetricRollup.resolution, MetricRollup.bucket)).all()
        old_levels = sorted(res for res, bucket in kept if bucket < NOW - 86400)
        assert old_levels == [3600, 86400]  # 1h and 1d outlive the native retention
        assert s.scalar(select(Metric.first_ts)) == NOW
