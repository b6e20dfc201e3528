"""The stream queue: points reach each consumer once, a failed run loses nothing."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from augury import clock
from augury.anomalies.models import PointScore
from augury.metrics import rollups, stream
from augury.metrics.models import Metric, MetricPoint, MetricRollup, StreamQueueItem
from augury.runtime import wiring
from augury.runtime.stream import StreamProcessor
from tests.fixtures.factories import make_key

NOW = int(time.time()) // 3600 * 3600
CONSUMERS = ["rollup", "detect"]


def _ingest(client, key, points):
    body = [{"properties": {"what": "q"}, "timestamp": t, "value": v} for t, v in points]
    assert client.post(f"/api/v1/metrics?token={key}", json=body).json()["rejected"] == 0


def _rollup_count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(MetricRollup))


def test_a_failing_consumer_leaves_the_queue_for_the_next_run(client, owner, db, monkeypatch):
    key = make_key(client, owner, ["ingest"])
    _ingest(client, key, [(NOW, 1.0), (NOW + 60, 2.0)])
    with db.session() as s:
        assert stream.pending(s) == 0  # the points wait in the inbox ...
    assert stream.compact(db, CONSUMERS) == 2  # ... until they are put in place and queued
    with db.session() as s:
        assert stream.pending(s, "rollup") == 1

    class Broken:
        name = "rollup"

        def consume(self, session, spans):
            rollups.update(session, spans)  # writes, then fails before the commit
            raise RuntimeError("crash")

    assert stream.process_once(db, Broken()) == 1  # handled: kept, to be retried
    assert _rollup_count(db) == 0
    with db.session() as s:
        assert stream.pending(s, "rollup") == 1
        (item,) = stream.parked(s)
        assert (item.attempts, item.parked_at) == (1, None)
        assert item.error == "RuntimeError: crash"
        retry_at = item.not_before
    assert client.app.state.stream.drain() == 1  # the detect row; the rollup row waits
    assert _rollup_count(db) == 0
    later = clock.now() + timedelta(seconds=retry_at - clock.now().timestamp() + 0.01)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert client.app.state.stream.drain() == 1  # retried after its backoff
    assert _rollup_count(db) == 5  # two 1m buckets, one each of 5m, 1h and 1d
    with db.session() as s:
        assert stream.pending(s) == 0


def test_spans_merge_and_batches_come_in_time_order(client, owner, db):
    key = make_key(client, owner, ["ingest"])
    _ingest(client, key, [(NOW + 120, 3.0), (NOW, 1.0)])
    _ingest(client, key, [(NOW + 60, 2.0)])
    stream.compact(db, CONSUMERS)
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
    assert stream.compact(db, CONSUMERS) == 4
    with db.session() as s:
        points = s.execute(select(MetricPoint.ts, MetricPoint.value).order_by(MetricPoint.ts)).all()
        assert [tuple(p) for p in points] == [(NOW, 2.0), (NOW + 60, 5.0)]
        metric = s.scalar(select(Metric).where(Metric.what == "q"))
        assert (metric.first_ts, metric.last_ts) == (NOW, NOW + 60)
        assert stream.pending(s, "rollup") == 1
    assert stream.compact(db, CONSUMERS) == 0


def test_retention_task_drops_old_ingest_counts(client, owner, db):
    from augury.metrics.models import IngestStat

    key = make_key(client, owner, ["ingest"])
    _ingest(client, key, [(NOW, 1.0)])
    with db.session() as s:
        s.add(IngestStat(org_id=owner.org_id, minute=NOW - 40 * 86400, accepted=5))
    rollups.RetentionTask(90, 730).run(db)
    with db.session() as s:
        minutes = list(s.scalars(select(IngestStat.minute)))
    assert len(minutes) == 1 and minutes[0] > NOW - 86400  # this minute's count stays


class _PoisonedBy:
    """A detection stage that fails whenever a batch holds one given metric."""

    name = "detect"

    def __init__(self, poison_metric_id: int):
        self.poison = poison_metric_id
        self.seen: list[int] = []

    def consume(self, session, spans):
        ids = [span.metric_id for span in spans]
        if self.poison in ids:
            raise ValueError(f"cannot score metric {self.poison}")
        self.seen.extend(ids)


def _metric_id(db, what, org_id):
    with db.session() as s:
        return s.scalar(select(Metric.id).where(Metric.what == what, Metric.org_id == org_id))


def test_one_poison_batch_does_not_stop_other_metrics_or_organizations(
    client, owner, other_org_owner, db, monkeypatch
):
    mine, theirs = (
        make_key(client, owner, ["ingest"]),
        make_key(client, other_org_owner, ["ingest"]),
    )
    body = [{"properties": {"what": w}, "timestamp": NOW, "value": 1.0} for w in ("bad", "good")]
    client.post(f"/api/v1/metrics?token={mine}", json=body)  # one queue row, both metrics
    client.post(f"/api/v1/metrics?token={theirs}", json=body[1:])
    stream.compact(db, CONSUMERS)
    bad = _metric_id(db, "bad", owner.org_id)
    consumer = _PoisonedBy(bad)
    assert stream.process_once(db, consumer) == 3  # 2 rows; the mixed one split in two
    good = {_metric_id(db, "good", owner.org_id), _metric_id(db, "good", other_org_owner.org_id)}
    assert set(consumer.seen) == good
    with db.session() as s:
        (failed,) = stream.parked(s)
        assert list(failed.spans) == [str(bad)] and failed.attempts == 1
        assert stream.pending(s, "detect") == 1

    # Retried with growing backoff, then parked with its error.
    real_now, start = clock.now, clock.now()
    waits = []
    for attempt in range(2, stream.MAX_ATTEMPTS + 1):
        with db.session() as s:
            due = stream.parked(s)[0].not_before
        waits.append(due - clock.now().timestamp())
        assert stream.process_once(db, consumer) == 0  # not due yet: nothing claimed
        at = datetime.fromtimestamp(due + 0.001, UTC)
        monkeypatch.setattr(clock, "now", lambda at=at: at)
        assert stream.process_once(db, consumer) == 1
        with db.session() as s:
            (failed,) = stream.parked(s)
            assert failed.attempts == attempt
    assert failed.parked_at is not None
    assert all(b > 1.9 * a for a, b in zip(waits, waits[1:], strict=False))
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(days=1))
    assert stream.process_once(db, consumer) == 0  # parked rows are not claimed
    monkeypatch.setattr(clock, "now", real_now)

    # The organization's admins see it; the other organization does not; /metrics does.
    seen = client.get("/api/v1/metrics/stream-failures", headers=owner.headers).json()
    assert [(f["consumer"], f["metric_ids"], f["attempts"], f["parked"]) for f in seen] == [
        ("detect", [bad], stream.MAX_ATTEMPTS, True)
    ]
    assert "ValueError: cannot score metric" in seen[0]["error"]
    assert (
        client.get("/api/v1/metrics/stream-failures", headers=other_org_owner.headers).json() == []
    )
    with TestClient(client.app, client=("127.0.0.1", 50000)) as local:  # /metrics: loopback
        scrape = local.get("/metrics").text
    assert 'augury_stream_failed_batches{consumer="detect",state="parked"} 1.0' in scrape

    # Retried on demand (here the stage is fixed, so it goes through).
    assert client.post(
        "/api/v1/metrics/stream-failures/retry", headers=other_org_owner.headers
    ).json() == {"retried": 0}
    assert client.post("/api/v1/metrics/stream-failures/retry", headers=owner.headers).json() == {
        "retried": 1
    }
    consumer.poison = -1
    assert stream.process_once(db, consumer) == 1
    assert bad in consumer.seen
    with db.session() as s:
        assert stream.parked(s) == [] and stream.pending(s, "detect") == 0


def test_stream_failures_are_for_admins(client, owner, db):
    from tests.fixtures.factories import invite_and_join

    viewer = invite_and_join(client, owner, "viewer")
    answer = client.get("/api/v1/metrics/stream-failures", headers=viewer.headers)
    assert answer.status_code == 403
    key = make_key(client, owner, ["read", "write"])
    assert (
        client.get("/api/v1/metrics/stream-failures", headers={"X-Auth-Token": key}).status_code
        == 403
    )


class _Task:
    def __init__(self, name, work, every_s=0.0):
        self.name, self.work, self.every_s = name, work, every_s

    def run(self, db):
        self.work()


def test_a_failing_periodic_task_does_not_skip_the_others(db):
    ran = []

    def broken():
        raise RuntimeError("retention broke")

    tasks = [_Task("broken", broken), _Task("fine", lambda: ran.append(1))]
    processor = StreamProcessor(db, wiring.consumers(), tasks)
    processor.run_cycle()
    assert ran == [1]


def test_periodic_tasks_run_when_due_and_a_failed_drain_backs_the_loop_off(db, monkeypatch):
    ran = []
    tasks = [
        _Task("often", lambda: ran.append("often")),
        _Task("hourly", lambda: ran.append("hourly"), 3600),
    ]
    processor = StreamProcessor(db, wiring.consumers(), tasks, interval_s=0.5)
    processor.run_cycle()
    processor.run_cycle()
    assert ran == ["often", "hourly", "often"]  # the hourly task waits for its hour

    def down(*_args, **_kwargs):
        raise ConnectionError("database is down")

    monkeypatch.setattr(stream, "compact", down)
    processor.run_cycle()
    processor.run_cycle()
    assert ran[-2:] == ["often", "often"]  # tasks still run when the drain fails ...
    assert processor.failures == 2 and processor.delay() == 2.0  # ... which backs off
    assert "ConnectionError: database is down" in (processor.last_error or "")
    monkeypatch.undo()
    processor.run_cycle()
    assert (processor.failures, processor.delay()) == (0, 0.5)  # one good round resets it


def test_a_gauge_alternating_extremes_is_scored_and_charted(client, owner, other_org_owner, db):
    """+-1e308 once made NaN scores that SQLite refused, stopping detection for all."""
    mine, theirs = (
        make_key(client, owner, ["ingest"]),
        make_key(client, other_org_owner, ["ingest"]),
    )
    t0 = NOW - 100 * 60
    extreme = [
        {"properties": {"what": "wild"}, "timestamp": t0 + 60 * i, "value": 1e308 * (-1) ** i}
        for i in range(20)
    ]
    calm = [
        {"properties": {"what": "calm"}, "timestamp": t0 + 60 * i, "value": 5.0 + i % 3}
        for i in range(20)
    ]
    assert client.post(f"/api/v1/metrics?token={mine}", json=extreme).json()["rejected"] == 0
    assert client.post(f"/api/v1/metrics?token={theirs}", json=calm).json()["rejected"] == 0
    client.app.state.stream.drain()
    with db.session() as s:
        scores = s.execute(select(PointScore.metric_id, PointScore.score, PointScore.upper)).all()
        assert stream.parked(s) == [] and stream.pending(s) == 0
    assert len(scores) == 40
    assert all(math.isfinite(sc) and 0 <= sc <= 100 for _, sc, _ in scores)
    assert all(up is None or np.isfinite(up) for _, _, up in scores)
    wild = _metric_id(db, "wild", owner.org_id)
    graph = client.get(f"/api/v1/metrics/{wild}/graph.png", headers=owner.headers)
    assert graph.status_code == 200 and graph.content[:4] == b"\x89PNG"
