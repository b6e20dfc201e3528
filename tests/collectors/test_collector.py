"""The collector against real SQLite source files: windows, chunks, restarts, errors,
leases, rewinds and health. Time is the frozen clock's; nothing sleeps."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from augury.accounts.models import Organization
from augury.collectors.models import (
    DataSource,
    DataStream,
    DataStreamMetric,
    DataStreamRun,
)
from augury.collectors.services import access
from augury.collectors.services import collector as collector_service
from augury.collectors.services.collector import (
    Collector,
    claim_due,
    lease_seconds,
    poll_stream,
    write_health,
)
from augury.config import Settings
from augury.engines.collect import schedule
from augury.events.models import PlatformEvent
from augury.metrics import stream as metric_stream
from augury.metrics.models import Metric, MetricPoint, MetricPointInbox
from augury.metrics.writer import MetricCache

HOUR = 3600
FILE_GONE_CODE = "source_unreachable"

SCHEMA = {
    "columns": [
        {"name": "clicks", "type": "metric", "targetType": "counter", "sourceColumn": "clicks"},
        {"name": "country", "type": "dimension", "sourceColumn": "country"},
    ]
}
TABLE_STREAM = {
    "tableName": "events",
    "timestampColumn": "ts",
    "timestampType": "UNIX_SECONDS",
    "schema": SCHEMA,
}


# --------------------------------------------------------------------------- helpers


def _ts(t: datetime) -> int:
    return int(t.timestamp())


def write_source(path: Path, rows: Iterable[tuple[object, ...]], *, ts_type: str = "INTEGER"):
    """A SQLite source file with table ``events(ts, clicks, country)``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE IF EXISTS events")
        conn.execute(f"CREATE TABLE events (ts {ts_type}, clicks REAL, country TEXT)")
        conn.executemany("INSERT INTO events VALUES (?, ?, ?)", list(rows))
    conn.close()


def run_sql(path: Path, sql: str, params: tuple = ()) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(sql, params)
    conn.close()


def hourly_rows(start: datetime, hours: int) -> list[tuple[int, float, str]]:
    """Per hour: ES twice (1 + the hour's number) and FR once (5)."""
    rows = []
    for i in range(hours):
        t = _ts(start) + i * HOUR
        rows += [(t + 60, float(i), "ES"), (t + 1800, 1.0, "ES"), (t + 120, 5.0, "FR")]
    return rows


class World:
    """An organization with a SQLite source in ``<data_dir>/collect``, and its streams."""

    def __init__(self, db, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.path = settings.data_dir / "collect" / "source.db"
        self.collectors: list[Collector] = []
        with db.session() as s:
            org = Organization(name="acme", description=None)
            s.add(org)
            s.flush()
            self.org_id = org.id
            source = DataSource(
                org_id=org.id, name="warehouse", type="sqlite", config={"path": str(self.path)}
            )
            s.add(source)
            s.flush()
            self.source_id = source.id

    def configure(self, **collect) -> None:
        self.settings = self.settings.model_copy(
            update={"collect": self.settings.collect.model_copy(update=collect)}
        )

    def stream(
        self,
        *,
        name: str = "events",
        interval: str = "hourly",
        history: str | None = None,
        now: datetime,
        delay: int = 0,
        tz: str = "UTC",
        definition: dict | None = None,
        paused: bool = False,
    ) -> int:
        backfill = schedule.backfill_start(now, interval, history, tz) if history else None
        with self.db.session() as s:
            stream = DataStream(
                org_id=self.org_id,
                source_id=self.source_id,
                name=name,
                type="sqlite",
                definition=definition or TABLE_STREAM,
                polling_interval=interval,
                history=history,
                delay_minutes=delay,
                time_zone=tz,
                paused=paused,
                backfill_from=backfill,
                next_poll_at=now,
            )
            s.add(stream)
            s.flush()
            return stream.id

    def get(self, stream_id: int) -> DataStream:
        with self.db.session() as s:
            stream = s.get(DataStream, stream_id)
            assert stream is not None
            s.expunge(stream)
            return stream

    def set(self, stream_id: int, **values) -> None:
        with self.db.session() as s:
            s.execute(update(DataStream).where(DataStream.id == stream_id).values(**values))

    def collector(self, owner: str = "collector-a") -> Collector:
        c = Collector(self.db, self.settings, owner=owner)
        self.collectors.append(c)
        return c

    def poll(self, stream_id: int, now: datetime, owner: str = "test"):
        return poll_stream(self.db, self.settings, stream_id, now=now, owner=owner)

    def runs(self, stream_id: int) -> list[DataStreamRun]:
        with self.db.session() as s:
            runs = s.scalars(
                select(DataStreamRun)
                .where(DataStreamRun.stream_id == stream_id)
                .order_by(DataStreamRun.id)
            ).all()
            s.expunge_all()
            return list(runs)

    def inbox(self, what: str | None = "clicks") -> int:
        """Points waiting in the metrics inbox (of ``what``; every metric with ``None``)."""
        query = select(func.count()).select_from(MetricPointInbox)
        if what is not None:
            query = query.join(Metric, Metric.id == MetricPointInbox.metric_id).where(
                Metric.what == what
            )
        with self.db.session() as s:
            return s.scalar(query) or 0

    def points(self, what: str = "clicks") -> dict[tuple[tuple[str, str], ...], dict[int, float]]:
        """The stored points of ``what`` per dimensions (the inbox compacted first)."""
        metric_stream.compact(self.db, [])
        out: dict[tuple[tuple[str, str], ...], dict[int, float]] = {}
        with self.db.session() as s:
            rows = s.execute(
                select(Metric.dimensions, MetricPoint.ts, MetricPoint.value)
                .join(MetricPoint, MetricPoint.metric_id == Metric.id)
                .where(Metric.org_id == self.org_id, Metric.what == what)
            ).all()
        for dims, ts, value in rows:
            out.setdefault(tuple(sorted(dims.items())), {})[int(ts)] = value
        return out


@pytest.fixture
def world(db, settings) -> Iterator[World]:
    w = World(db, settings)
    yield w
    for c in w.collectors:
        c.close()
        c.pool.shutdown(wait=True)


ES = (("country", "ES"),)
FR = (("country", "FR"),)


# --------------------------------------------------------------------------- backfill


def test_a_backfill_goes_in_chunks_and_resumes_after_a_restart(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)  # d1 back from 12:00:10, on the hour
    before = [(_ts(start) - 600, 100.0, "ES")]  # older than the history: never read
    current = [(_ts(now) - 5, 100.0, "ES")]  # in the bucket still open
    write_source(world.path, before + hourly_rows(start, 24) + current)
    world.configure(backfill_chunk_buckets=5)
    sid = world.stream(history="d1", now=now)
    assert world.get(sid).backfill_from == start

    first = world.collector("a")
    assert first.run_once(wait=True) == 1
    stream = world.get(sid)
    assert stream.status == "backfilling"
    assert stream.watermark == start + timedelta(hours=5)
    assert stream.next_poll_at <= now  # the next chunk is due at once
    assert stream.lease_owner is None and stream.lease_until is None
    assert world.inbox() == 10  # 5 buckets x 2 countries

    # The process dies holding a fresh lease: nobody polls until it expires.
    first.close()
    assert claim_due(world.db, now, "crashed", 10, lease_s=lease_seconds(world.settings)) == [sid]
    second = world.collector("b")
    assert second.run_once(wait=True) == 0
    frozen_clock.advance(lease_seconds(world.settings) + 1)
    assert second.drain() == 4  # 5 + 5 + 5 + 4 buckets
    assert second.run_once(wait=True) == 0  # caught up: the 12:00 bucket is still open

    stream = world.get(sid)
    assert stream.status == "ok"
    assert stream.watermark == datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert stream.next_poll_at == datetime(2026, 3, 2, 13, tzinfo=UTC)
    assert world.inbox() == 48  # every bucket read exactly once
    points = world.points()
    hours = [_ts(start) + i * HOUR for i in range(24)]
    assert points[ES] == {t: float(i) + 1.0 for i, t in enumerate(hours)}
    assert points[FR] == dict.fromkeys(hours, 5.0)
    runs = world.runs(sid)
    assert [r.status for r in runs] == ["ok"] * 5
    assert [r.points for r in runs] == [10, 10, 10, 10, 8]
    assert runs[0].window_start == start
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert earlier.window_end == later.window_start  # no gap, no overlap
    assert runs[-1].window_end == stream.watermark


def test_steady_state_reads_only_new_buckets_after_the_delay(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    t = _ts(datetime(2026, 3, 2, 11, 50, tzinfo=UTC))
    rows = [(t + 60 * i, 1.0, "ES") for i in range(30)]  # a row a minute, 11:50 to 12:19
    write_source(world.path, rows)
    sid = world.stream(interval="m5", delay=10, now=now)

    # No history: the stream starts at the last complete bucket (11:55), which is due
    # 10 minutes after it ends.
    assert world.collector().run_once(wait=True) == 1
    stream = world.get(sid)
    assert stream.watermark == datetime(2026, 3, 2, 11, 55, tzinfo=UTC)
    assert stream.next_poll_at == datetime(2026, 3, 2, 12, 10, tzinfo=UTC)
    assert world.runs(sid) == []  # nothing was read
    assert world.inbox() == 0

    frozen_clock.set(datetime(2026, 3, 2, 12, 9, 59, tzinfo=UTC))
    c = world.collector()
    assert c.run_once(wait=True) == 0
    frozen_clock.set(datetime(2026, 3, 2, 12, 10, tzinfo=UTC))
    assert c.run_once(wait=True) == 1
    (run,) = world.runs(sid)
    assert (run.window_start, run.window_end) == (
        datetime(2026, 3, 2, 11, 55, tzinfo=UTC),
        datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
    )
    assert world.get(sid).next_poll_at == datetime(2026, 3, 2, 12, 15, tzinfo=UTC)

    frozen_clock.set(datetime(2026, 3, 2, 12, 16, tzinfo=UTC))
    assert c.run_once(wait=True) == 1
    assert c.run_once(wait=True) == 0
    runs = world.runs(sid)
    assert [(r.window_start.minute, r.window_end.minute) for r in runs] == [(55, 0), (0, 5)]
    assert world.points()[ES] == {_ts(datetime(2026, 3, 2, 11, 55, tzinfo=UTC)): 5.0} | {
        _ts(datetime(2026, 3, 2, 12, 0, tzinfo=UTC)): 5.0
    }


def test_daily_buckets_follow_the_stream_time_zone_through_a_dst_change(world, frozen_clock):
    # Madrid leaves summer time on 25 October 2026: that local day lasts 25 hours.
    now = datetime(2026, 10, 28, 9, tzinfo=UTC)  # 10:00 in Madrid
    frozen_clock.set(now)
    rows = [
        (_ts(datetime(2026, 10, 24, 21, 59, tzinfo=UTC)), 1.0, "ES"),  # 23:59 on the 24th
        (_ts(datetime(2026, 10, 24, 22, 0, tzinfo=UTC)), 2.0, "ES"),  # 00:00 on the 25th
        (_ts(datetime(2026, 10, 25, 22, 30, tzinfo=UTC)), 3.0, "ES"),  # 23:30 on the 25th
        (_ts(datetime(2026, 10, 25, 23, 30, tzinfo=UTC)), 4.0, "ES"),  # 00:30 on the 26th
        (_ts(datetime(2026, 10, 27, 23, 30, tzinfo=UTC)), 9.0, "ES"),  # the 28th: open
    ]
    write_source(world.path, rows)
    sid = world.stream(interval="daily", history="w1", tz="Europe/Madrid", now=now)
    assert world.get(sid).backfill_from == datetime(2026, 10, 20, 22, tzinfo=UTC)

    world.collector().drain()
    points = world.points()[ES]
    assert points == {
        _ts(datetime(2026, 10, 23, 22, tzinfo=UTC)): 1.0,  # local midnight, CEST
        _ts(datetime(2026, 10, 24, 22, tzinfo=UTC)): 5.0,  # the 25-hour day
        _ts(datetime(2026, 10, 25, 23, tzinfo=UTC)): 4.0,  # local midnight, CET
    }
    stream = world.get(sid)
    assert stream.watermark == datetime(2026, 10, 27, 23, tzinfo=UTC)  # the 28th, local
    assert stream.next_poll_at == datetime(2026, 10, 28, 23, tzinfo=UTC)


# --------------------------------------------------------------------------- failures


def test_a_failing_source_backs_off_keeps_its_watermark_then_catches_up(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    start = datetime(2026, 3, 2, 11, tzinfo=UTC)
    rows = [(_ts(start) + 300 * i, 1.0, "ES") for i in range(12 * 4)]  # 11:00 to 15:00
    write_source(world.path, rows)
    sid = world.stream(interval="m5", history="h1", now=now)
    c = world.collector()
    c.drain()
    watermark = world.get(sid).watermark
    assert watermark == datetime(2026, 3, 2, 12, tzinfo=UTC)

    backup = world.path.read_bytes()
    world.path.unlink()
    frozen_clock.set(datetime(2026, 3, 2, 12, 5, tzinfo=UTC))
    assert c.run_once(wait=True) == 1
    stream = world.get(sid)
    assert stream.status == "error"
    assert stream.error_code == FILE_GONE_CODE
    assert stream.last_error
    assert stream.failures == 1
    assert stream.watermark == watermark  # nothing skipped
    assert stream.next_poll_at == frozen_clock.at + timedelta(seconds=300)  # the interval
    assert stream.lease_owner is None

    frozen_clock.advance(299)
    assert c.run_once(wait=True) == 0  # backing off
    frozen_clock.advance(1)
    assert c.run_once(wait=True) == 1
    stream = world.get(sid)
    assert stream.failures == 2
    assert stream.next_poll_at == frozen_clock.at + timedelta(seconds=600)  # doubled
    assert stream.watermark == watermark
    runs = world.runs(sid)
    assert [r.status for r in runs[-2:]] == ["error", "error"]
    assert runs[-1].error_code == FILE_GONE_CODE

    world.path.write_bytes(backup)
    frozen_clock.advance(600)  # 12:20:00
    c.drain()
    stream = world.get(sid)
    assert (stream.status, stream.failures, stream.last_error, stream.error_code) == (
        "ok",
        0,
        None,
        None,
    )
    assert stream.watermark == datetime(2026, 3, 2, 12, 20, tzinfo=UTC)
    assert stream.last_success_at == frozen_clock.at
    # every 5 minutes from 11:00 to 12:15, once each
    expected = {_ts(start) + 300 * i: 1.0 for i in range(16)}
    assert world.points()[ES] == expected


def test_a_failing_stream_does_not_hold_up_the_others(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    start = datetime(2026, 3, 2, 11, tzinfo=UTC)
    write_source(world.path, [(_ts(start) + 60 * i, 1.0, "ES") for i in range(4 * 60)])
    good = world.stream(name="good", interval="m5", history="h1", now=now)
    with world.db.session() as s:
        missing = DataSource(
            org_id=world.org_id,
            name="gone",
            type="sqlite",
            config={"path": str(world.path.with_name("missing.db"))},
        )
        s.add(missing)
        s.flush()
        missing_id = missing.id
    bad = world.stream(name="bad", interval="m5", history="h1", now=now)
    world.set(bad, source_id=missing_id)

    c = world.collector()
    for _ in range(12):  # rounds every 5 minutes, 12:00:10 to 12:55:10
        c.drain()
        frozen_clock.advance(300)
    assert world.get(good).watermark == datetime(2026, 3, 2, 12, 55, tzinfo=UTC)
    assert world.get(good).status == "ok"
    assert len(world.points()[ES]) == 23  # 11:00 to 12:50, every bucket
    stream = world.get(bad)
    assert (stream.status, stream.error_code) == ("error", "source_unreachable")
    # tried at 12:00, 12:05, 12:15, 12:35: backing off, not once a round
    assert [r.started_at.strftime("%H:%M") for r in world.runs(bad)] == [
        "12:00",
        "12:05",
        "12:15",
        "12:35",
    ]
    assert stream.next_poll_at == datetime(2026, 3, 2, 13, 15, 10, tzinfo=UTC)


def test_one_round_starts_every_due_stream_not_one_per_worker(world, frozen_clock):
    """Ten streams due together, two workers: the round keeps claiming as workers free
    up, so all ten are polled in it (one claim per round polled two per tick)."""
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    write_source(world.path, [(_ts(now) - 60 * i, 1.0, "ES") for i in range(1, 30)])
    ids = [world.stream(name=f"s{i}", interval="m5", history="h1", now=now) for i in range(10)]
    world.configure(workers=2, tick_s=60.0)
    c = world.collector()
    assert c.run_once() == 10
    c.pool.shutdown(wait=True)
    assert all(world.get(i).last_poll_at is not None for i in ids)
    assert {world.get(i).status for i in ids} == {"ok"}


def _events(world: World) -> list[tuple[str, dict]]:
    with world.db.session() as s:
        rows = s.scalars(
            select(PlatformEvent)
            .where(PlatformEvent.org_id == world.org_id, PlatformEvent.type.like("data_stream.%"))
            .order_by(PlatformEvent.id)
        ).all()
        return [(e.type, dict(e.data)) for e in rows]


def test_failed_and_recovered_are_emitted_once_per_change(world, frozen_clock):
    """``data_stream.failed`` when a collecting stream starts failing, not on each retry
    (nor after a rewind of the failing stream); ``data_stream.recovered`` when it
    collects again; and again on the next failure."""
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    start = datetime(2026, 3, 2, 11, tzinfo=UTC)
    write_source(world.path, [(_ts(start) + 300 * i, 1.0, "ES") for i in range(12 * 4)])
    sid = world.stream(interval="m5", history="h1", now=now)
    c = world.collector()
    c.drain()
    assert world.get(sid).status == "ok" and _events(world) == []

    backup = world.path.read_bytes()
    world.path.unlink()
    frozen_clock.set(datetime(2026, 3, 2, 12, 5, tzinfo=UTC))
    for _ in range(3):  # fails, then backs off and fails twice more
        assert c.run_once(wait=True) == 1
        frozen_clock.set(world.get(sid).next_poll_at)
    assert world.get(sid).failures == 3
    # a rewind of the failing stream sets it backfilling; its next failure is no news
    world.set(sid, status="backfilling")
    assert c.run_once(wait=True) == 1
    [(kind, data)] = _events(world)
    assert kind == "data_stream.failed"
    assert data == {
        "stream_id": sid,
        "name": "events",
        "source_id": world.source_id,
        "source": "warehouse",
        "type": "sqlite",
        "status": "error",
        "error_code": FILE_GONE_CODE,
        "error": data["error"],
    }
    assert data["error"] and data["error"] == world.get(sid).last_error

    world.path.write_bytes(backup)
    frozen_clock.set(world.get(sid).next_poll_at)
    c.drain()
    assert world.get(sid).status == "ok"
    frozen_clock.advance(300)
    c.drain()  # collecting as usual: nothing to say
    events = _events(world)
    assert [kind for kind, _ in events] == ["data_stream.failed", "data_stream.recovered"]
    recovered = events[1][1]
    assert recovered["status"] == "ok" and recovered["stream_id"] == sid
    assert recovered["watermark"] == _ts(world.get(sid).watermark) - 300
    assert "error" not in recovered

    # the next failure is news again
    world.path.unlink()
    frozen_clock.set(world.get(sid).next_poll_at)
    c.drain()
    assert [kind for kind, _ in _events(world)] == [
        "data_stream.failed",
        "data_stream.recovered",
        "data_stream.failed",
    ]


def test_a_pending_stream_whose_first_poll_fails_is_failed(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    sid = world.stream(interval="hourly", history="d1", now=now)  # no source file yet
    assert world.get(sid).status == "pending"
    result = world.poll(sid, now)
    assert result.error_code == FILE_GONE_CODE
    assert [(k, d["status"], d["error_code"]) for k, d in _events(world)] == [
        ("data_stream.failed", "error", FILE_GONE_CODE)
    ]
    # its retry is no news
    frozen_clock.set(world.get(sid).next_poll_at)
    assert world.poll(sid, frozen_clock.at).error_code == FILE_GONE_CODE
    assert len(_events(world)) == 1


def test_the_backoff_doubles_from_the_interval_up_to_the_cap():
    assert collector_service.retry_delay_s(300, 1, 3600) == 300
    assert collector_service.retry_delay_s(300, 3, 3600) == 1200
    assert collector_service.retry_delay_s(300, 5, 3600) == 3600
    assert collector_service.retry_delay_s(60, 1, 3600) == 60
    assert collector_service.retry_delay_s(5, 1, 3600) == 30  # at least 30 s
    assert collector_service.retry_delay_s(86400, 1, 3600) == 3600
    assert collector_service.retry_delay_s(60, 10_000, 3600) == 3600  # no overflow


def test_a_dropped_column_is_columns_changed(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    write_source(world.path, hourly_rows(datetime(2026, 3, 2, 9, tzinfo=UTC), 6))
    sid = world.stream(history="d1", now=now)
    world.collector().drain()
    watermark = world.get(sid).watermark

    run_sql(world.path, "ALTER TABLE events DROP COLUMN country")
    frozen_clock.set(datetime(2026, 3, 2, 13, 0, 10, tzinfo=UTC))
    result = world.poll(sid, frozen_clock.at)
    assert result.error_code == "columns_changed"
    assert "country" in result.error
    stream = world.get(sid)
    assert (stream.status, stream.error_code, stream.watermark) == (
        "error",
        "columns_changed",
        watermark,
    )


def test_a_time_column_mixing_formats_fails_the_whole_poll(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    t = _ts(datetime(2026, 3, 2, 11, 10, tzinfo=UTC))
    # Epoch seconds kept as text, one of them written in milliseconds: SQLite compares
    # the text with the window's bounds as text, so the odd row is in the window.
    rows = [(str(t), 1.0, "ES"), (str(t + 600), 1.0, "ES"), (str((t + 900) * 1000), 1.0, "ES")]
    write_source(world.path, rows, ts_type="TEXT")
    sid = world.stream(history="d1", now=now)
    result = world.poll(sid, now)
    assert result.error_code == "time_mixed_formats"
    assert "epoch_millis" in result.error
    stream = world.get(sid)
    assert (stream.status, stream.error_code, stream.failures) == (
        "error",
        "time_mixed_formats",
        1,
    )
    assert stream.watermark is None  # the whole poll failed: nothing moved
    assert world.inbox() == 0
    (run,) = world.runs(sid)
    assert (run.status, run.rows_read, run.points) == ("error", 3, 0)
    assert run.error_code == "time_mixed_formats"


def test_a_query_past_the_timeout_is_query_timeout(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    write_source(world.path, [])
    world.configure(query_timeout_s=0.5)
    endless = (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
        "SELECT n AS ts, n AS clicks, 'ES' AS country FROM r WHERE n < 0"
    )
    definition = {
        "customQuery": True,
        "query": endless,
        "timestampColumn": "ts",
        "timestampType": "UNIX_SECONDS",
        "schema": SCHEMA,
    }
    sid = world.stream(history="h4", interval="m5", now=now, definition=definition)
    result = world.poll(sid, now)
    assert result.error_code == "query_timeout"
    stream = world.get(sid)
    assert (stream.status, stream.error_code, stream.failures) == ("error", "query_timeout", 1)
    (run,) = world.runs(sid)
    assert run.status == "error" and run.duration_ms < 30_000


def test_an_unexpected_error_is_recorded_as_internal(world, frozen_clock, monkeypatch):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    write_source(world.path, hourly_rows(datetime(2026, 3, 2, 9, tzinfo=UTC), 3))
    sid = world.stream(history="d1", now=now)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(collector_service, "to_points", broken)
    result = world.poll(sid, now)
    assert (result.error_code, result.error) == ("internal", "RuntimeError: a bug")
    stream = world.get(sid)
    assert (stream.status, stream.error_code, stream.failures) == ("error", "internal", 1)
    assert stream.watermark is None


# --------------------------------------------------------------------------- leases


def test_two_collectors_never_claim_one_stream(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    sid = world.stream(history="d1", now=now)
    assert claim_due(world.db, now, "a", 10, lease_s=60) == [sid]
    assert claim_due(world.db, now, "b", 10, lease_s=60) == []
    stream = world.get(sid)
    assert (stream.lease_owner, stream.lease_until) == ("a", now + timedelta(seconds=60))
    later = now + timedelta(seconds=61)  # the lease expired: a crashed holder is replaced
    assert claim_due(world.db, later, "b", 10, lease_s=60) == [sid]
    assert world.get(sid).lease_owner == "b"


def test_concurrent_claims_hand_each_stream_to_one_collector(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    ids = {world.stream(name=f"s{i}", history="d1", now=now) for i in range(6)}
    barrier = threading.Barrier(4)

    def claim(owner: str) -> list[int]:
        barrier.wait()
        return claim_due(world.db, now, owner, 10, lease_s=60)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(claim, ["a", "b", "c", "d"]))
    claimed = [sid for got in results for sid in got]
    assert sorted(claimed) == sorted(ids)  # each exactly once


def test_a_paused_stream_is_never_polled(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    write_source(world.path, hourly_rows(datetime(2026, 3, 2, 9, tzinfo=UTC), 3))
    sid = world.stream(history="d1", now=now, paused=True)
    assert claim_due(world.db, now, "a", 10) == []
    assert world.collector().run_once(wait=True) == 0
    result = world.poll(sid, now)  # even when asked directly
    assert result.dropped and result.window is None
    assert world.get(sid).watermark is None
    assert world.runs(sid) == []
    assert world.inbox() == 0


def test_a_stream_deleted_or_rewound_while_its_source_is_read_stores_nothing(
    world, frozen_clock, monkeypatch
):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    write_source(world.path, hourly_rows(datetime(2026, 3, 2, 9, tzinfo=UTC), 3))
    gone = world.stream(name="gone", history="d1", now=now)
    rewound = world.stream(name="rewound", history="d1", now=now)
    real = access.connector_for
    during_read = {}

    class ChangedWhileReading:
        """The real connector; the stream changes while it reads."""

        def __init__(self, inner) -> None:
            self.inner = inner
            self.type = inner.type

        def read(self, stream, window, *, limit):
            frame = self.inner.read(stream, window, limit=limit)
            during_read.pop("change")()
            return frame

        def close(self) -> None:
            self.inner.close()

    monkeypatch.setattr(
        access,
        "connector_for",
        lambda settings, source: ChangedWhileReading(real(settings, source)),
    )

    def delete_it():
        with world.db.session() as s:
            s.delete(s.get(DataStream, gone))

    during_read["change"] = delete_it
    result = world.poll(gone, now)
    assert result.dropped and result.error_code is None and result.points == 0

    back = datetime(2026, 3, 1, 6, tzinfo=UTC)
    during_read["change"] = lambda: world.set(rewound, watermark=back)
    result = world.poll(rewound, now)
    assert result.dropped and result.error_code is None
    stream = world.get(rewound)
    assert stream.watermark == back  # the rewind holds; the next poll reads from there
    assert stream.lease_owner is None
    assert world.inbox() == 0
    assert world.runs(rewound) == []


# --------------------------------------------------------------------------- rewind


def test_a_rewound_range_is_read_again_with_the_new_values(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    write_source(world.path, hourly_rows(start, 4))
    sid = world.stream(history="d1", now=now)
    world.collector().drain()
    hours = [_ts(start) + i * HOUR for i in range(4)]
    assert world.points()[FR] == dict.fromkeys(hours, 5.0)
    with world.db.session() as s:
        metrics = s.scalar(select(func.count()).select_from(DataStreamMetric))
        stored = s.scalar(select(func.count()).select_from(MetricPoint))

    # A late correction at the source, then a rewind to 10:30 (the 10:00 bucket).
    run_sql(
        world.path, "UPDATE events SET clicks = 7 WHERE country = 'FR' AND ts >= ?", (hours[2],)
    )
    stream = world.get(sid)
    to = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    world.set(
        sid,
        watermark=schedule.rewind(stream.watermark, to, "hourly"),
        next_poll_at=now,
    )
    result = world.poll(sid, now)
    assert result.window == (hours_dt(hours[2]), hours_dt(hours[3]) + timedelta(hours=1))
    assert world.points()[FR] == {hours[0]: 5.0, hours[1]: 5.0, hours[2]: 7.0, hours[3]: 7.0}
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(DataStreamMetric)) == metrics
        assert s.scalar(select(func.count()).select_from(MetricPoint)) == stored  # updated
    assert world.get(sid).watermark == datetime(2026, 3, 2, 12, tzinfo=UTC)


def hours_dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# --------------------------------------------------------------------------- records


def test_counters_runs_and_stream_metrics_are_recorded(world, frozen_clock, monkeypatch):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    start = datetime(2026, 3, 2, 7, tzinfo=UTC)
    rows = [*hourly_rows(start, 5), (_ts(start) + 100, None, "ES")]  # one empty cell
    write_source(world.path, rows)
    world.configure(backfill_chunk_buckets=1)
    monkeypatch.setattr(collector_service, "KEEP_RUNS", 3)
    sid = world.stream(history="d1", now=now)
    world.set(sid, backfill_from=start)
    c = world.collector()
    assert c.drain() == 5
    stream = world.get(sid)
    assert stream.rows_read == 16
    assert stream.points_written == 10
    assert stream.last_poll_at == now and stream.last_success_at == now
    runs = world.runs(sid)
    assert len(runs) == 3  # the newest three of five
    assert [r.window_start for r in runs] == [start + timedelta(hours=h) for h in (2, 3, 4)]
    assert all(r.rows_read == 3 and r.rows_used == 3 and r.points == 2 for r in runs)
    assert all(r.finished_at == now and r.status == "ok" for r in runs)
    with world.db.session() as s:
        linked = s.scalars(select(DataStreamMetric).where(DataStreamMetric.stream_id == sid)).all()
        metrics = s.scalars(select(Metric).where(Metric.what == "clicks")).all()
        assert sorted(link.metric_id for link in linked) == sorted(m.id for m in metrics)
        assert {m.source for m in metrics} == {"collector"}
        assert {m.target_type for m in metrics} == {"counter"}


def test_the_first_run_counts_new_metrics_and_what_it_skipped(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    rows = [*hourly_rows(start, 2), (_ts(start) + 100, None, "ES"), (_ts(start) + 50, 1.0, None)]
    write_source(world.path, rows)
    sid = world.stream(history="d1", now=now)
    world.set(sid, backfill_from=start)
    result = world.poll(sid, now)
    assert (result.rows, result.points, result.metrics_new) == (8, 5, 3)  # ES, FR, unknown
    (run,) = world.runs(sid)
    assert run.metrics_new == 3
    assert run.skipped == {"metric 'clicks' not a number": 1}
    again = world.poll(sid, now + timedelta(hours=1))
    assert again.metrics_new == 0


def test_too_many_rows_reads_fewer_buckets(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    write_source(world.path, hourly_rows(start, 4))  # 3 rows an hour
    world.configure(max_rows_per_poll=7)
    sid = world.stream(history="d1", now=now)
    world.set(sid, backfill_from=start)
    result = world.poll(sid, now)
    assert result.error_code is None
    assert result.window == (start, start + timedelta(hours=2))  # 4 buckets, then 2
    assert world.get(sid).status == "backfilling"
    world.collector().drain()
    assert world.get(sid).watermark == start + timedelta(hours=4)

    write_source(world.path, [(_ts(start) + 4 * HOUR + i, 1.0, "ES") for i in range(8)])
    frozen_clock.set(now + timedelta(hours=1))
    result = world.poll(sid, frozen_clock.at)  # one bucket is as small as it gets
    assert result.error_code == "too_many_rows"


# --------------------------------------------------------------------------- health


def test_health_metrics_are_written_per_organization_once_a_minute(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    write_source(world.path, hourly_rows(datetime(2026, 3, 2, 9, tzinfo=UTC), 3))
    one = world.stream(name="web orders.eu", history="d1", now=now)
    world.stream(name="other", history="d1", now=now)
    world.stream(name="paused", history="d1", now=now, paused=True)
    c = world.collector()
    c.drain()

    lag = world.points("augury_collector_lag_seconds")
    minute = _ts(datetime(2026, 3, 2, 12, tzinfo=UTC))
    assert set(lag) == {(("stream", "web_orders_eu"),), (("stream", "other"),)}
    assert lag[(("stream", "web_orders_eu"),)] == {minute: 10.0}  # now - 12:00
    assert world.points("augury_collector_active_streams") == {(): {minute: 2.0}}
    assert world.points("augury_collector_errors")[(("stream", "other"),)] == {minute: 0.0}
    assert world.points("augury_collector_rows_read")[(("stream", "other"),)] == {minute: 9.0}

    # Rewound, then failing, later in the same minute: the same points are updated.
    world.path.unlink()
    world.set(one, watermark=datetime(2026, 3, 2, 11, tzinfo=UTC), next_poll_at=now)
    frozen_clock.advance(30)
    assert c.run_once(wait=True) == 1
    assert world.get(one).failures == 1
    errors = world.points("augury_collector_errors")
    assert errors[(("stream", "web_orders_eu"),)] == {minute: 1.0}
    assert world.points("augury_collector_lag_seconds")[(("stream", "web_orders_eu"),)] == {
        minute: 3640.0
    }
    with world.db.session() as s:
        health = s.scalars(select(Metric).where(Metric.what.like("augury_collector_%"))).all()
        assert {m.source for m in health} == {"collector"}
        assert len(health) == 7  # active + 3 per stream
        linked = s.scalar(select(func.count()).select_from(DataStreamMetric))
        assert linked == 2 * 2  # the streams' own metrics only (ES, FR each)


def test_health_is_not_rewritten_when_nothing_changed_within_a_minute(world, frozen_clock):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    frozen_clock.set(now)
    write_source(world.path, [])
    world.stream(history="d1", now=now)
    c = world.collector()
    c.drain()
    world.points("augury_collector_active_streams")  # compacts the inbox
    frozen_clock.advance(20)
    assert c.run_once(wait=True) == 0
    assert world.inbox(None) == 0  # same minute, no poll: nothing written
    frozen_clock.advance(40)
    c.run_once(wait=True)
    assert world.inbox(None) == 4  # a new minute: active streams, lag, rows, errors


def test_write_health_skips_organizations_without_active_streams(world, frozen_clock, db):
    now = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
    world.stream(history="d1", now=now, paused=True)
    assert write_health(db, world.settings, MetricCache(), now) == 0
