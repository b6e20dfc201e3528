"""The SQL connectors against real databases: SQLite files here, and a PostgreSQL and
a MariaDB server started for this module (tests/collectors/servers.py).

Each behaviour the issue asks of a SQL source is shown on every database that has it:
the host or folder check, read-only reads, the time limit, the window's rows (and only
a bounded superset of them) in each ``timestampType`` and time zone, the preview, the
row limit, the error codes, and the connection test.
"""

from __future__ import annotations

import re
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from augury.collectors.connectors import (
    ConfigInvalid,
    Limits,
    QueryFailed,
    QueryTimeout,
    QueryUnsafe,
    SourceAuthFailed,
    SourceRefused,
    SourceUnreachable,
    TooManyRows,
    Window,
    check_config,
    check_stream,
    connect,
)
from augury.engines.collect.timeparse import parse_times
from tests.collectors import servers
from tests.collectors.servers import DATABASE, READER, Server, free_port


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
        ("psql", {"host": "db:5432", "database": "d", "user": "u"}, {}, "config.host"),
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
    # a stream being built may not name its time column yet (a saved one must: the service's)
    check_stream("sqlite", {"tableName": "events"})
    check_stream("psql", {"customQuery": True, "query": "SELECT 1", "timestampType": "TIMESTAMP"})


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


def test_sqlite_preview_without_a_time_column_reads_some_rows(sqlite_db: Path):
    """A stream being built names no time column yet: its preview is ``SELECT * ...
    LIMIT n`` (no order to read the latest by), of a table or a query; a poll, which
    reads a window by time, refuses it."""
    source = sqlite_source(sqlite_db)
    try:
        frame = source.read({"tableName": "events"}, None, limit=3)
        assert len(frame) == 3
        assert list(frame.columns) == [
            "id", "ts", "ts_utc", "epoch_s", "epoch_ms", "amount", "country"
        ]  # fmt: skip
        assert frame["ts"].map(type).eq(str).all()  # as stored: no time column to convert
        query = {"customQuery": True, "query": "SELECT country, amount FROM events -- c"}
        frame = source.read(query, None, limit=5)
        assert list(frame.columns) == ["country", "amount"] and len(frame) == 5
        with pytest.raises(QueryFailed, match="timestampColumn"):
            source.read(
                {"tableName": "events"}, Window(utc(2026, 1, 10), utc(2026, 1, 11)), limit=5
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
        assert time.monotonic() - began < 5  # unbounded otherwise
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


# --------------------------------------------------------------------------- servers

START = utc(2026, 1, 10, 10)
MADRID = "Europe/Madrid"
# every 10 minutes from 10:00 UTC on 2026-01-10 (24 rows), and around the autumn
# DST change in Madrid (2026-10-25 01:00 UTC: 03:00 CEST becomes 02:00 CET)
MOMENTS = [START + timedelta(minutes=10 * i) for i in range(24)]
AUTUMN = [utc(2026, 10, 24, 22) + timedelta(minutes=20 * i) for i in range(18)]


def madrid_wall(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(MADRID)).replace(tzinfo=None)


def inside(frame, column: str, window: Window, pattern: str = "iso8601") -> list:
    """The rows of ``frame`` whose time, as the engine reads it, is in ``window``."""
    parsed = parse_times(frame[column], pattern, window.time_zone)
    assert not parsed.invalid, parsed.invalid
    lo, hi = window.start.timestamp(), window.end.timestamp()
    return sorted(frame["id"][[lo <= s < hi for s in parsed.seconds]].tolist())


def insert_events(run, row: str, instant) -> None:
    """MOMENTS and AUTUMN into events, in one statement."""
    params: list = []
    for i, moment in enumerate(MOMENTS + AUTUMN):
        params += [
            i,
            moment.replace(tzinfo=None),
            instant(moment),
            madrid_wall(moment),
            int(moment.timestamp()),
            int(moment.timestamp() * 1000),
            i,
            "FR" if i % 2 else "ES",
        ]
    count = len(MOMENTS + AUTUMN)
    run(f"INSERT INTO events VALUES {', '.join([row] * count)}", params)


def fill_postgres(server: Server) -> Server:
    """PostgreSQL with the events (``ts`` UTC wall times, ``ts_tz`` instants, ``wall``
    Madrid wall times), a view, a table in another schema, one the reader may not
    read, and a function that writes (the reader may update events: only the
    read-only transaction stops it)."""
    run = server.admin
    run(
        "CREATE TABLE events (id int PRIMARY KEY, ts timestamp, ts_tz timestamptz, "
        "wall timestamp, epoch_s bigint, epoch_ms bigint, amount numeric(10, 2), country text)"
    )
    insert_events(run, "(%s, %s, %s, %s, %s, %s, %s, %s)", lambda moment: moment)
    run("CREATE VIEW big AS SELECT * FROM events WHERE amount > 10")
    run("CREATE SCHEMA analytics")
    run("CREATE TABLE analytics.visits (ts timestamptz, n int)")
    run("CREATE TABLE private_t (x int)")
    run(
        "CREATE FUNCTION bump() RETURNS int LANGUAGE sql AS "
        "$$ UPDATE events SET amount = amount + 1 RETURNING 1 $$"
    )
    run(f"GRANT SELECT, UPDATE ON events TO {READER}")
    run(f"GRANT SELECT ON big TO {READER}")
    run(f"GRANT USAGE ON SCHEMA analytics TO {READER}")
    run(f"GRANT SELECT ON analytics.visits TO {READER}")
    return server


def fill_mariadb(server: Server) -> Server:
    """MariaDB with the same events (``ts`` DATETIME in UTC, ``ts_tz`` a TIMESTAMP,
    ``wall`` Madrid wall times) and a function that writes."""
    run = server.admin
    run(
        "CREATE TABLE events (id int PRIMARY KEY, ts datetime, ts_tz timestamp NULL, "
        "wall datetime, epoch_s bigint, epoch_ms bigint, amount decimal(10, 2), "
        "country varchar(8))"
    )
    # FROM_UNIXTIME: a TIMESTAMP is stored from the session's zone, whatever it is
    insert_events(
        run,
        "(%s, %s, FROM_UNIXTIME(%s), %s, %s, %s, %s, %s)",
        lambda moment: int(moment.timestamp()),
    )
    run("CREATE VIEW big AS SELECT * FROM events WHERE amount > 10")
    run("CREATE TABLE private_t (x int)")
    run(
        "CREATE FUNCTION bump() RETURNS int MODIFIES SQL DATA "
        "BEGIN UPDATE events SET amount = amount + 1; RETURN 1; END"
    )
    run(f"GRANT SELECT, UPDATE ON {DATABASE}.events TO '{READER}'@'%'")
    run(f"GRANT SELECT ON {DATABASE}.big TO '{READER}'@'%'")
    run(f"GRANT EXECUTE ON FUNCTION {DATABASE}.bump TO '{READER}'@'%'")
    return server


@pytest.fixture(scope="module")
def pg() -> Iterator[Server]:
    with servers.postgres() as server:
        yield fill_postgres(server)


@pytest.fixture(scope="module")
def maria() -> Iterator[Server]:
    with servers.mariadb() as server:
        yield fill_mariadb(server)


LOCAL = ["127.0.0.0/8"]


def source(kind: str, server: Server, password: str | None = None, **limits):
    limits.setdefault("allowed_private_networks", LOCAL)
    config = {"host": server.host, "port": server.port, "database": server.database}
    config["user"] = server.user
    secret = {"password": server.password if password is None else password}
    return connect(kind, config, secret, Limits(**limits))


SERVERS = [("psql", "pg"), ("mariadb", "maria"), ("mysql", "maria")]


@pytest.fixture(params=SERVERS, ids=[k for k, _ in SERVERS])
def db(request) -> tuple[str, Server]:
    kind, fixture = request.param
    return kind, request.getfixturevalue(fixture)


def total(kind: str, server: Server) -> tuple:
    return tuple(float(v) for v in server.admin("SELECT count(*), sum(amount) FROM events")[0])


def test_server_reads_a_window_in_each_timestamp_type(db):
    kind, server = db
    window = Window(utc(2026, 1, 10, 11), utc(2026, 1, 10, 12))
    ids = [6, 7, 8, 9, 10, 11]
    connector = source(kind, server)
    try:
        frame = connector.read(table_stream(), window, limit=100)
        assert list(frame.columns) == [
            "id", "ts", "ts_tz", "wall", "epoch_s", "epoch_ms", "amount", "country"
        ]  # fmt: skip
        assert sorted(frame["id"]) == ids
        assert inside(frame, "ts", window) == ids
        for column, kind_ in [("epoch_s", "UNIX_SECONDS"), ("epoch_ms", "UNIX_MILLIS")]:
            stream = table_stream(timestampColumn=column, timestampType=kind_)
            assert sorted(connector.read(stream, window, limit=100)["id"]) == ids
        # instants come back aware, whatever the column type on the server
        frame = connector.read(table_stream(timestampColumn="ts_tz"), window, limit=100)
        assert sorted(frame["id"]) == ids
        assert frame["ts_tz"].dt.tz is not None
        assert inside(frame, "ts_tz", window) == ids
    finally:
        connector.close()


def test_server_time_zones_wall_times_and_instants(db):
    """In a stream's zone a wall-time column is read as that zone's times and an
    instant column as instants; away from DST the bounds are exact, and across the
    autumn change every row of the window comes back."""
    kind, server = db
    connector = source(kind, server)
    try:
        window = Window(utc(2026, 1, 10, 11), utc(2026, 1, 10, 12), MADRID)
        for column in ("wall", "ts_tz"):
            frame = connector.read(table_stream(timestampColumn=column), window, limit=100)
            assert sorted(frame["id"]) == [6, 7, 8, 9, 10, 11], column
            assert inside(frame, column, window) == [6, 7, 8, 9, 10, 11]
        everything = connector.read(table_stream(), None, limit=100)
        assert len(everything) == 42
        for start, end in [
            (utc(2026, 10, 24, 23), utc(2026, 10, 25, 3)),
            (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1)),  # 02:30 CEST to 02:00 CET
            (utc(2026, 10, 25, 1), utc(2026, 10, 25, 1, 30)),  # the repeated 02:00-02:30
        ]:
            window = Window(start, end, MADRID)
            for column in ("wall", "ts_tz"):
                got = connector.read(table_stream(timestampColumn=column), window, limit=100)
                expected = inside(everything, column, window)
                assert inside(got, column, window) == expected, (column, start)
                # and no more than the wider window around it (an hour a side, and the
                # repeated hour for wall times)
                wider = Window(start - timedelta(hours=2), end + timedelta(hours=2), MADRID)
                assert inside(got, column, wider) == sorted(got["id"])
    finally:
        connector.close()


def test_server_custom_query_preview_and_row_limit(db):
    kind, server = db
    hour = "date_trunc('hour', ts)" if kind == "psql" else "DATE_FORMAT(ts, '%Y-%m-%d %H:00:00')"
    stream = {
        "customQuery": True,
        "query": f"SELECT {hour} AS hour, country, sum(amount) AS total, count(*) AS n "
        "FROM events WHERE country LIKE 'F%' GROUP BY 1, 2 -- one point per hour;",
        "timestampColumn": "hour",
    }
    connector = source(kind, server)
    try:
        frame = connector.read(stream, Window(utc(2026, 1, 10, 10), utc(2026, 1, 10, 12)), limit=10)
        assert list(frame.columns) == ["hour", "country", "total", "n"]
        assert sorted(
            (float(t), int(n)) for t, n in zip(frame["total"], frame["n"], strict=True)
        ) == [
            (9.0, 3),
            (27.0, 3),
        ]
        latest = connector.read(stream, None, limit=2)  # the query's % without parameters
        assert [
            (str(c), float(t)) for c, t in zip(latest["country"], latest["total"], strict=True)
        ] == [
            ("FR", 39.0 + 41.0),  # 03:00 UTC on 2026-10-25: ids 39 and 41
            ("FR", 37.0),  # 02:00: id 37
        ]
        twice = {**stream, "query": "SELECT ts AS hour, id AS n, amount AS n FROM events"}
        with pytest.raises(QueryFailed, match="'n' more than once|Duplicate column name 'n'"):
            connector.read(twice, None, limit=2)
        latest = connector.read(table_stream(), None, limit=3)
        assert list(latest["id"]) == [41, 40, 39]
        # no time column yet (a stream being built): some rows, in the database's order
        untimed = {k: v for k, v in stream.items() if k != "timestampColumn"}
        assert list(connector.read(untimed, None, limit=2).columns) == [
            "hour", "country", "total", "n"
        ]  # fmt: skip
        assert len(connector.read({"tableName": "events"}, None, limit=3)) == 3
        day = Window(utc(2026, 1, 10), utc(2026, 1, 11))
        with pytest.raises(TooManyRows):
            connector.read(table_stream(), day, limit=23)
        assert len(connector.read(table_stream(), day, limit=24)) == 24
    finally:
        connector.close()


def test_server_is_read_only(db):
    kind, server = db
    before = total(kind, server)
    writes = [
        "INSERT INTO events (id) VALUES (999)",
        "UPDATE events SET amount = 0",
        "DROP TABLE events",
        "WITH d AS (DELETE FROM events RETURNING *) SELECT * FROM d",
        "SELECT 1 AS ts; DELETE FROM events",
    ]
    connector = source(kind, server)
    try:
        for query in writes:
            with pytest.raises(QueryUnsafe):
                connector.read(
                    {"customQuery": True, "query": query, "timestampColumn": "ts"}, None, limit=5
                )
        # a function that writes passes the check; the read-only transaction refuses it
        with pytest.raises(QueryUnsafe, match="READ ONLY|read-only|read only"):
            connector.read(
                {"customQuery": True, "query": "SELECT bump() AS ts", "timestampColumn": "ts"},
                None,
                limit=5,
            )
        assert len(connector.read(table_stream(), None, limit=2)) == 2  # still usable
    finally:
        connector.close()
    assert total(kind, server) == before == (42.0, float(sum(range(42))))


def test_server_query_past_the_time_limit_is_cancelled(db):
    kind, server = db
    sleeps = {
        "psql": [
            "SELECT now() AS ts FROM pg_sleep(10)",
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
            "SELECT count(*) AS ts FROM r",
        ],
        "mariadb": ["SELECT SLEEP(10) AS ts", "SELECT BENCHMARK(100000000000, MD5('x')) AS ts"],
    }
    connector = source(kind, server, timeout_s=1)
    try:
        for query in sleeps.get(kind, sleeps["mariadb"]):
            began = time.monotonic()
            with pytest.raises(QueryTimeout):
                connector.read(
                    {"customQuery": True, "query": query, "timestampColumn": "ts"}, None, limit=5
                )
            assert time.monotonic() - began < 6, query  # 1 s, with room for a loaded machine
        assert len(connector.read(table_stream(), None, limit=2)) == 2
    finally:
        connector.close()


def test_server_host_is_checked_after_dns(db):
    kind, server = db
    config = {"host": server.host, "port": server.port, "database": "sales", "user": server.user}
    for host in ("127.0.0.1", "localhost", "127.1", "[::1]"):
        with pytest.raises(SourceRefused, match="AUGURY_COLLECT__ALLOWED_PRIVATE_NETWORKS"):
            connect(kind, {**config, "host": host}, {"password": server.password}, Limits())
    with pytest.raises(SourceUnreachable, match="resolve"):
        connect(kind, {**config, "host": "no-such-host.invalid"}, {}, Limits())
    # a name is connected by the address it resolved to (localhost may be ::1 too,
    # which this server does not listen on: the next address is tried)
    allowed = Limits(allowed_private_networks=["127.0.0.0/8", "::1/128"])
    connector = connect(
        kind, {**config, "host": "localhost"}, {"password": server.password}, allowed
    )
    try:
        assert "events" in connector.test().objects
    finally:
        connector.close()


def test_server_errors_are_mapped_without_credentials(db):
    kind, server = db
    with pytest.raises(SourceAuthFailed) as caught:
        source(kind, server, password="wrong-password")
    assert "wrong-password" not in caught.value.message
    with pytest.raises(SourceUnreachable):
        connect(
            kind,
            {"host": "127.0.0.1", "port": free_port(), "database": "sales", "user": "reader"},
            {"password": "x"},
            Limits(allowed_private_networks=LOCAL),
        )
    connector = source(kind, server)
    try:
        with pytest.raises(QueryFailed, match="nope"):
            connector.read(table_stream(tableName="nope"), None, limit=5)
        with pytest.raises(QueryFailed, match="syntax"):
            connector.read(
                {"customQuery": True, "query": "SELECT FROM WHERE x", "timestampColumn": "ts"},
                None,
                limit=5,
            )
        # the server quotes the query's value back; the password never shows
        quote = '"' if kind == "psql" else "`"
        leak = f"SELECT {quote}{server.password}{quote} AS ts FROM events"
        with pytest.raises(QueryFailed) as caught:
            connector.read(
                {"customQuery": True, "query": leak, "timestampColumn": "ts"}, None, limit=5
            )
        assert server.password not in caught.value.message
        assert "***" in caught.value.message
    finally:
        connector.close()


def test_server_connect_timeout(db):
    kind, _ = db
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        config = {
            "host": "127.0.0.1",
            "port": silent.getsockname()[1],
            "database": "d",
            "user": "u",
        }
        began = time.monotonic()
        with pytest.raises(SourceUnreachable):
            connect(
                kind, config, {"password": "x"}, Limits(timeout_s=1, allowed_private_networks=LOCAL)
            )
        # PostgreSQL waits 2 s (libpq's least), MySQL 1 s; without a limit, for ever
        assert time.monotonic() - began < 6


def test_server_gone_mid_read_then_back(db):
    kind, server = db
    connector = source(kind, server, timeout_s=20)
    sleep = "SELECT now() AS ts FROM pg_sleep(15)" if kind == "psql" else "SELECT SLEEP(15) AS ts"
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            connector.read(
                {"customQuery": True, "query": sleep, "timestampColumn": "ts"}, None, limit=1
            )
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            outcome.append(exc)

    if kind == "psql":
        find = (
            "SELECT pid FROM pg_stat_activity "
            "WHERE usename = 'reader' AND query LIKE '%%pg_sleep%%'"
        )
        kill = "SELECT pg_terminate_backend(%s)"
    else:
        find = (
            "SELECT id FROM information_schema.processlist "
            "WHERE user = 'reader' AND info LIKE '%%SLEEP%%'"
        )
        kill = "KILL %s"
    thread = threading.Thread(target=read)
    try:
        thread.start()
        deadline = time.monotonic() + 10
        while not (found := server.admin(find)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert found
        server.admin(kill, (found[0][0],))
        thread.join(10)
        assert len(outcome) == 1 and isinstance(outcome[0], SourceUnreachable), outcome
        # the next read connects again
        assert len(connector.read(table_stream(), None, limit=2)) == 2
    finally:
        thread.join(20)
        connector.close()


def test_server_probe(db):
    kind, server = db
    connector = source(kind, server)
    try:
        probe = connector.test()
    finally:
        connector.close()
    if kind == "psql":
        assert re.fullmatch(r"PostgreSQL \d+(\.\d+)?", probe.detail)
        assert probe.objects == ["big", "events", "analytics.visits"]
    else:
        assert re.fullmatch(r"MariaDB \d+\.\d+\.\d+", probe.detail)
        assert probe.objects == ["big", "events"]
