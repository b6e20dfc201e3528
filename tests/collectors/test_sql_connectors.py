"""The SQL connectors against real databases: SQLite files here, and a PostgreSQL and
a MariaDB server started for this module (tests/collectors/servers.py).

Each behaviour the issue asks of a SQL source is shown on every database that has it:
the host or folder check, read-only reads, the time limit, the window's rows (and only
a bounded superset of them) in each ``timestampType`` and time zone, the preview, the
row limit, the error codes, and the connection test.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from augury.collectors.connectors import (
    ConfigInvalid,
    Limits,
    QueryFailed,
    QueryTimeout,
    QueryUnsafe,
    SourceRefused,
    SourceUnreachable,
    TooManyRows,
    Window,
    check_config,
    check_stream,
    connect,
)
from augury.engines.collect.timeparse import parse_times


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def seconds(frame, column: str, tz: str = "UTC") -> list[int]:
    """The time column as the engine reads it (epoch seconds), sorted."""
    parsed = parse_times(frame[column], "iso8601", tz)
    assert not parsed.invalid, parsed.invalid
    return sorted(int(s) for s in parsed.seconds)


def table_stream(**extra) -> dict:
    return {"tableName": "events", "timestampColumn": "ts", "timestampType": "TIMESTAMP", **extra}


# --------------------------------------------------------------------------- config


def test_config_is_checked_and_normalised():
    assert check_config("psql", {"host": "db.example.com", "database": "d", "user": "u"}, {}) == {
        "host": "db.example.com",
        "port": 5432,
        "database": "d",
        "user": "u",
        "ssl": "prefer",
    }
    mysql = check_config(
        "mariadb", {"host": "10.0.0.5", "database": "d", "user": "u"}, {"password": "pw"}
    )
    assert mysql["port"] == 3306 and mysql["ssl"] is False
    assert check_config("sqlite", {"path": "/data/x.db"}, {}) == {"path": "/data/x.db"}

    refusals = [
        ("psql", {"host": "h", "database": "d", "user": "u", "dbname": "x"}, {}, "config.dbname"),
        ("psql", {"database": "d", "user": "u"}, {}, "config.host"),
        ("psql", {"host": "h/x", "database": "d", "user": "u"}, {}, "config.host"),
        ("psql", {"host": "h", "port": 0, "database": "d", "user": "u"}, {}, "config.port"),
        ("psql", {"host": "h", "port": True, "database": "d", "user": "u"}, {}, "config.port"),
        ("psql", {"host": "h", "database": "d", "user": "u", "ssl": "allow"}, {}, "config.ssl"),
        ("mysql", {"host": "h", "database": "d", "user": "u", "ssl": "yes"}, {}, "config.ssl"),
        ("mysql", {"host": "h", "database": "", "user": "u"}, {}, "config.database"),
        ("mysql", {"host": "h", "database": "d", "user": "u"}, {"token": "x"}, "secret.token"),
        ("sqlite", {"path": "a/../../etc/x.db"}, {}, "config.path"),
        ("sqlite", {}, {}, "config.path"),
        ("sqlite", {"path": "/x.db"}, {"password": "pw"}, "secret.password"),
        ("oracle", {}, {}, "type"),
    ]
    for source_type, config, secret, field in refusals:
        with pytest.raises(ConfigInvalid) as caught:
            check_config(source_type, config, secret)
        assert caught.value.field == field, (config, caught.value.message)


def test_stream_is_checked():
    check_stream("psql", table_stream(schemaName="analytics"))
    check_stream(
        "mysql", {"customQuery": True, "query": "SELECT * FROM t;", "timestampColumn": "t"}
    )
    refusals = [
        (table_stream(tableName="events; DROP TABLE x"), "tableName"),
        (table_stream(tableName=None), "tableName"),
        (table_stream(schemaName='a"b'), "schemaName"),
        (table_stream(timestampColumn="1ts"), "timestampColumn"),
        (table_stream(timestampType="DATE_STRING"), "timestampType"),
        (table_stream(timePattern="yyyyMMdd"), "timePattern"),
        ({"customQuery": True, "timestampColumn": "ts"}, "query"),
        ({"customQuery": True, "query": "DELETE FROM t", "timestampColumn": "ts"}, "query"),
        (
            {
                "customQuery": True,
                "query": "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
                "timestampColumn": "ts",
            },
            "query",
        ),
        ({"customQuery": True, "query": "SELECT 1; SELECT 2", "timestampColumn": "ts"}, "query"),
    ]
    for stream, field in refusals:
        with pytest.raises(ConfigInvalid) as caught:
            check_stream("sqlite", stream)
        assert caught.value.field == field, (stream, caught.value.message)
    # MySQL reads # as a comment, so what follows it is not a second statement there
    check_stream("mysql", {"customQuery": True, "query": "SELECT 1 # ; x", "timestampColumn": "t"})


# --------------------------------------------------------------------------- SQLite


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    """events: wall times, UTC instants ('Z') and offsets (text, as SQLite keeps
    them), epoch seconds and milliseconds, amounts."""
    folder = tmp_path / "collect"
    folder.mkdir()
    path = folder / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, ts TEXT, ts_utc TEXT, "
            "epoch_s INTEGER, epoch_ms INTEGER, amount REAL, country TEXT)"
        )
        conn.execute("CREATE INDEX events_ts ON events (ts)")
        start = utc(2026, 1, 10, 10)
        for i in range(24):  # one row every 10 minutes, 10:00 to 13:50 UTC
            moment = start + timedelta(minutes=10 * i)
            conn.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    i,
                    moment.strftime("%Y-%m-%d %H:%M:%S"),
                    moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    int(moment.timestamp()),
                    int(moment.timestamp() * 1000),
                    float(i),
                    "FR" if i % 2 else "ES",
                ),
            )
        conn.execute("CREATE VIEW big AS SELECT * FROM events WHERE amount > 10")
    return path


def sqlite_source(path: Path, **limits):
    return connect(
        "sqlite", {"path": str(path)}, {}, Limits(allowed_folders=[path.parent], **limits)
    )


def test_sqlite_reads_a_window_in_each_timestamp_type(sqlite_db: Path):
    source = sqlite_source(sqlite_db)
    window = Window(utc(2026, 1, 10, 11), utc(2026, 1, 10, 12))
    expected = [
        int((utc(2026, 1, 10, 11) + timedelta(minutes=10 * i)).timestamp()) for i in range(6)
    ]
    try:
        frame = source.read(table_stream(), window, limit=100)
        assert list(frame.columns) == [
            "id",
            "ts",
            "ts_utc",
            "epoch_s",
            "epoch_ms",
            "amount",
            "country",
        ]
        assert seconds(frame, "ts") == expected
        assert sorted(frame["id"]) == [6, 7, 8, 9, 10, 11]

        frame = source.read(table_stream(timestampColumn="ts_utc"), window, limit=100)
        assert seconds(frame, "ts_utc") == expected

        frame = source.read(
            table_stream(timestampColumn="epoch_s", timestampType="UNIX_SECONDS"), window, limit=100
        )
        assert sorted(frame["epoch_s"]) == expected
        frame = source.read(
            table_stream(timestampColumn="epoch_ms", timestampType="UNIX_MILLIS"), window, limit=100
        )
        assert sorted(frame["epoch_ms"]) == [s * 1000 for s in expected]
    finally:
        source.close()


def test_sqlite_wall_times_follow_the_streams_time_zone(tmp_path: Path):
    """Wall times are read in the stream's zone, instants ('Z', '+01:00') as they are;
    across the autumn DST change every row of the window comes back."""
    folder = tmp_path / "collect"
    folder.mkdir()
    path = folder / "madrid.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (ts TEXT, n INTEGER)")
        conn.executemany(
            "INSERT INTO events VALUES (?, ?)",
            [
                ("2026-01-10 12:30:00", 1),  # Madrid wall time = 11:30Z
                ("2026-01-10T11:40:00Z", 2),  # 11:40Z
                ("2026-01-10T12:50:00+01:00", 3),  # 11:50Z
                ("2026-01-10 11:30:00", 4),  # 10:30Z: outside
                # 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:00-02:59 happen twice
                ("2026-10-25 01:55:00", 10),  # 23:55Z the 24th
                ("2026-10-25 02:30:00", 11),  # first 02:30, 00:30Z
                ("2026-10-25 03:10:00", 12),  # 02:10Z
                ("2026-10-25 04:00:00", 13),  # 03:00Z: outside
            ],
        )
    source = sqlite_source(path)
    try:
        frame = source.read(
            table_stream(),
            Window(utc(2026, 1, 10, 11), utc(2026, 1, 10, 12), "Europe/Madrid"),
            limit=10,
        )
        inside = frame[
            [
                11 * 3600 <= s % 86400 < 12 * 3600
                for s in parse_times(frame["ts"], "iso8601", "Europe/Madrid").seconds
            ]
        ]
        assert sorted(inside["n"]) == [1, 2, 3]
        assert 4 not in set(frame["n"])  # an hour early: not even in the superset

        # a window holding the change: 23:00Z to 03:00Z (01:00 CEST to 04:00 CET)
        autumn = Window(utc(2026, 10, 24, 23), utc(2026, 10, 25, 3), "Europe/Madrid")
        frame = source.read(table_stream(), autumn, limit=10)
        assert {10, 11, 12} <= set(frame["n"])
    finally:
        source.close()


def test_sqlite_custom_query_is_wrapped(sqlite_db: Path):
    source = sqlite_source(sqlite_db)
    stream = {
        "customQuery": True,
        "query": "SELECT ts AS t, country, sum(amount) AS total FROM events "
        "GROUP BY ts, country -- trailing comment;\n;",
        "timestampColumn": "t",
    }
    try:
        frame = source.read(
            stream, Window(utc(2026, 1, 10, 10), utc(2026, 1, 10, 10, 30)), limit=10
        )
        assert list(frame.columns) == ["t", "country", "total"]
        assert sorted(frame["total"]) == [0.0, 1.0, 2.0]
    finally:
        source.close()


def test_sqlite_preview_reads_the_latest_rows_and_a_window_is_bounded(sqlite_db: Path):
    source = sqlite_source(sqlite_db)
    try:
        frame = source.read(table_stream(), None, limit=3)
        assert list(frame["id"]) == [23, 22, 21]
        with pytest.raises(TooManyRows):
            source.read(table_stream(), Window(utc(2026, 1, 10), utc(2026, 1, 11)), limit=23)
        assert (
            len(source.read(table_stream(), Window(utc(2026, 1, 10), utc(2026, 1, 11)), limit=24))
            == 24
        )
    finally:
        source.close()


def test_sqlite_is_read_only(sqlite_db: Path):
    source = sqlite_source(sqlite_db)
    writes = [
        "DELETE FROM events",
        "UPDATE events SET amount = 0",
        "INSERT INTO events (id) VALUES (99)",
        "DROP TABLE events",
        "WITH d AS (DELETE FROM events RETURNING *) SELECT * FROM d",
        "SELECT 1; DELETE FROM events",
    ]
    try:
        for query in writes:
            with pytest.raises(QueryUnsafe):
                source.read(
                    {"customQuery": True, "query": query, "timestampColumn": "ts"}, None, limit=5
                )
        # past the check, the connection itself refuses: mode=ro and query_only
        with pytest.raises(QueryUnsafe, match="read"):
            source._run("DELETE FROM events", [], 1)
    finally:
        source.close()
    with sqlite3.connect(sqlite_db) as conn:
        assert conn.execute("SELECT count(*), sum(amount) FROM events").fetchone() == (24, 276.0)


def test_sqlite_query_past_the_time_limit_is_cancelled(sqlite_db: Path):
    source = sqlite_source(sqlite_db, timeout_s=0.5)
    forever = (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
        "SELECT n AS ts FROM r WHERE n < 0"
    )
    began = time.monotonic()
    try:
        with pytest.raises(QueryTimeout):
            source.read(
                {"customQuery": True, "query": forever, "timestampColumn": "ts"}, None, limit=5
            )
        assert time.monotonic() - began < 3
        # the connection is still good afterwards
        assert len(source.read(table_stream(), None, limit=2)) == 2
    finally:
        source.close()


def test_sqlite_files_only_inside_allowed_folders(sqlite_db: Path, tmp_path: Path):
    outside = tmp_path / "elsewhere.db"
    sqlite3.connect(outside).close()
    allowed = Limits(allowed_folders=[sqlite_db.parent])
    with pytest.raises(SourceRefused, match="AUGURY_COLLECT__ALLOWED_FOLDERS"):
        connect("sqlite", {"path": str(outside)}, {}, allowed)
    link = sqlite_db.parent / "link.db"
    link.symlink_to(outside)  # inside by name, outside in fact
    with pytest.raises(SourceRefused):
        connect("sqlite", {"path": str(link)}, {}, allowed)
    with pytest.raises(SourceRefused):
        connect("sqlite", {"path": str(sqlite_db)}, {}, Limits())
    with pytest.raises(SourceUnreachable, match="No SQLite database"):
        connect("sqlite", {"path": str(sqlite_db.parent / "none.db")}, {}, allowed)
    # a relative path is read inside the allowed folders
    source = connect("sqlite", {"path": "app.db"}, {}, allowed)
    try:
        probe = source.test()
    finally:
        source.close()
    assert probe.detail == f"SQLite {sqlite3.sqlite_version}"
    assert probe.objects == ["big", "events"]


def test_sqlite_errors_are_mapped(sqlite_db: Path, tmp_path: Path):
    source = sqlite_source(sqlite_db)
    try:
        with pytest.raises(QueryFailed, match="no such table"):
            source.read(table_stream(tableName="nope"), None, limit=5)
        with pytest.raises(QueryFailed, match="syntax error"):
            source.read(
                {"customQuery": True, "query": "SELECT FROM WHERE", "timestampColumn": "ts"},
                None,
                limit=5,
            )
    finally:
        source.close()
    junk = sqlite_db.parent / "junk.db"
    junk.write_text("not a database at all, just text" * 100)
    with pytest.raises(SourceUnreachable, match="not a database"):
        sqlite_source(junk)
