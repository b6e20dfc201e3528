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
        assert stream.pending(s) == 0  # the points wait in the inbox ...
    assert stream.compact(db) == 2  # ... until they are put in place and queued
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
    assert client.app.state.stream.drain() == 2  # the rollup and the detect rows
    assert _rollup_count(db) == 5  # two 1m buckets, one each of 5m, 1h and 1d
    with db.session() as s:
        assert stream.pending(s) == 0


def test_spans_merge_and_batches_come_in_time_order(client, owner, db):
    key = make_key(client, owner, ["ingest"])
    _ingest(client, key, [(NOW + 120, 3.0), (NOW, 1.0)])
    _ingest(client, key, [(NOW + 60, 2.0)])
    stream.compact(db)
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


def test_compaction_keeps_the_last_value_and_drops_points_of_deleted_metrics(client, owner, db):
    key = make_key(client, owner, ["ingest"])
    _ingest(client, key, [(NOW, 1.0), (NOW + 60, 5.0)])
    _ingest(client, key, [(NOW, 2.0)])
    body = [{"properties": {"what": "gone"}, "timestamp": NOW, "value": 1.0}]
    client.post(f"/api/v1/metrics?token={key}", json=body)
    with db.session() as s:
        gone = s.scalar(select(Metric).where(Metric.what == "gone"))
        s.execute(MetricPoint.__table__.delete().where(MetricPoint.metric_id == gone.id))
        s.delete(gone)  # deleted while its point waits in the inbox
    assert stream.compact(db) == 4
    with db.session() as s:
        points = s.execute(select(MetricPoint.ts, MetricPoint.value).order_by(MetricPoint.ts)).all()
        assert [tuple(p) for p in points] == [(NOW, 2.0), (NOW + 60, 5.0)]
        metric = s.scalar(select(Metric).where(Metric.what == "q"))
        assert (metric.first_ts, metric.last_ts) == (NOW, NOW + 60)
        assert stream.pending(s, "rollup") == 1
    assert stream.compact(db) == 0


def test_retention_task_drops_old_ingest_counts(client, owner, db):
    from augury.metrics.models import IngestStat

    key = make_key(client, owner, ["ingest"])
    _ingest(client, key, [(NOW, 1.0)])
    with db.session() as s:
        s.add(IngestStat(org_id=owner.org_id, minute=NOW - 40 * 86400, accepted=5))
    rollups.RetentionTask(90, 730, every_s=0)(db)
    with db.session() as s:
        minutes = list(s.scalars(select(IngestStat.minute)))
    assert len(minutes) == 1 and minutes[0] > NOW - 86400  # this minute's count stays
