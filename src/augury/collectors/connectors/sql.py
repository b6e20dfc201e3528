"""SQL sources: PostgreSQL (``psql``, psycopg), MySQL and MariaDB (``mysql``,
``mariadb``, PyMySQL) and SQLite database files (``sqlite``, the standard library).

A stream reads a table (``tableName``, optionally ``schemaName``) or its own query
(``customQuery: true`` and ``query``), and names the time column (``timestampColumn``)
and how it holds time (``timestampType``: ``TIMESTAMP``, ``UNIX_SECONDS``,
``UNIX_MILLIS``). A poll reads one window, ``start <= time < end``, filtered by the
database (``SELECT * FROM t WHERE ts >= :a AND ts < :b``; a query is wrapped as
``SELECT * FROM (<query>) q WHERE q.ts ...``), so only the window's rows travel; a
preview reads the latest rows (``ORDER BY ts DESC LIMIT n``). A stream being built may
not name its time column yet (the builder picks it among the preview's columns): its
preview reads ``SELECT * FROM t LIMIT n``, in whatever order the database gives, and a
poll, which must filter by time, refuses it (``query_failed``).

What keeps a source safe to point augury at:

- **where it connects**: a database host is resolved and checked at every connection
  (:func:`~augury.alerts.channels.destinations.resolve_destination`): a loopback,
  private or link-local address is refused unless the operator allows it
  (``AUGURY_COLLECT__ALLOWED_PRIVATE_NETWORKS``), and the driver connects to the
  checked address, never to the name again (a name cannot resolve to a public address
  for the check and a private one for the connection). A SQLite file is opened only
  when its real path (symlinks resolved) is inside an allowed folder
  (``AUGURY_COLLECT__ALLOWED_FOLDERS``, and ``<data_dir>/collect`` which the service
  passes among them);
- **nothing is written**: a query passes :func:`~augury.engines.collect.sqlguard.check_read_only`
  first (the clear refusal, ``query_unsafe``), then every read runs in a read-only
  transaction (PostgreSQL ``BEGIN READ ONLY`` with ``default_transaction_read_only``;
  MySQL ``START TRANSACTION READ ONLY``; SQLite opened ``mode=ro`` with ``PRAGMA
  query_only``), which is the guard: a function that writes is refused by the database;
- **nothing runs long**: the server cancels a statement at ``Limits.timeout_s``
  (PostgreSQL ``statement_timeout``; MariaDB ``max_statement_time``; MySQL
  ``max_execution_time``; SQLite a progress handler), connecting waits at most
  ``min(10, timeout_s)`` seconds, and a read asks for one row more than its limit
  (``too_many_rows`` rather than an unbounded result).

Time is compared in the database, so the bounds must mean what the column means. Epoch
columns get numbers (seconds or milliseconds). A ``TIMESTAMP`` column may hold instants
(PostgreSQL ``timestamptz``, MySQL ``TIMESTAMP``) or wall-clock times of the stream's
time zone (``timestamp``, ``DATETIME``, SQLite text): PostgreSQL gets the bounds as
text with the zone's offset (an instant for ``timestamptz``; for ``timestamp`` the
offset is ignored, leaving the wall time), MySQL gets UTC or wall times by the
column's type (asked once per stream with ``LIMIT 0``), SQLite compares ``julianday``
of text with an offset against UTC and of text without against wall times. Near a DST
change the wall-time bounds widen by an hour, since local times repeat or go missing
there; the mapping keeps exactly the window's rows, so a read may return more, never
fewer.

Rows come back as a frame with the source's column names. Times of ``TIMESTAMP``
columns are datetimes: aware (UTC) for instants, naive for wall times (the mapping
reads those in the stream's time zone); a ``DATE`` becomes the naive midnight; SQLite
returns its text as stored. Errors are :class:`~.base.SourceError` s with the
driver's message scrubbed of credentials, never a driver exception.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import socket
import sqlite3
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from augury.alerts.channels.destinations import DestinationRefused, resolve_destination
from augury.collectors.connectors.base import (
    ConfigInvalid,
    Limits,
    Probe,
    QueryFailed,
    QueryTimeout,
    QueryUnsafe,
    SourceAuthFailed,
    SourceError,
    SourceRefused,
    SourceUnreachable,
    TooManyRows,
    Window,
)
from augury.engines.collect.schema import SchemaError, parse_time_definition
from augury.engines.collect.sqlguard import UnsafeQuery, check_read_only

__all__ = ["SECRET_FIELDS", "TYPES", "check_config", "check_stream", "connect"]

TYPES = ("psql", "mysql", "mariadb", "sqlite")
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "psql": ("password",),
    "mysql": ("password",),
    "mariadb": ("password",),
}
DIALECTS = {"psql": "postgresql", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}
"""Source type -> the SQL dialect :mod:`~augury.engines.collect.sqlguard` reads."""

PG_SSL_MODES = ("disable", "prefer", "require", "verify-full")
MAX_OBJECTS = 500
"""Tables and views a connection test lists at most."""
TIMESTAMP_TYPES = {
    "TIMESTAMP": None,
    "UNIX_SECONDS": 1,
    "EPOCH_SECONDS": 1,
    "UNIX_MILLIS": 1_000,
    "EPOCH_MILLIS": 1_000,
    "UNIX_MICROS": 1_000_000,
}
"""``timestampType`` -> units per second (``None``: a date-time column)."""
_EPOCH_UNITS = {"epoch_seconds": 1, "epoch_millis": 1_000, "epoch_micros": 1_000_000}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
_HOST = re.compile(r"[A-Za-z0-9_.:\-\[\]%]+\Z")
_ALLOW_NETWORKS = "AUGURY_COLLECT__ALLOWED_PRIVATE_NETWORKS"
_ALLOW_FOLDERS = "AUGURY_COLLECT__ALLOWED_FOLDERS"
_CONFIG_KEYS = {
    "psql": ("host", "port", "database", "user", "ssl"),
    "mysql": ("host", "port", "database", "user", "ssl"),
    "mariadb": ("host", "port", "database", "user", "ssl"),
    "sqlite": ("path",),
}
_DEFAULT_PORTS = {"psql": 5432, "mysql": 3306, "mariadb": 3306}
_NEAR_DST = timedelta(hours=3)
"""How close to a UTC-offset change a bound must be to widen (changes are an hour or
less and months apart)."""
_WIDEN = timedelta(hours=1)
_MESSAGE_CHARS = 500


# --------------------------------------------------------------------------- checks


def check_config(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any]
) -> dict[str, Any]:
    """``config`` checked for ``source_type`` and normalised (defaults filled in).

    Only the shape is checked here: whether a host is allowed depends on what it
    resolves to when augury connects, and a SQLite path on the allowed folders, which
    :func:`connect` checks every time.
    """
    if source_type not in TYPES:
        raise ConfigInvalid("type", f"Not a SQL source type: {source_type!r}.")
    if not isinstance(config, Mapping):
        raise ConfigInvalid("config", "config must be an object.")
    if not isinstance(secret, Mapping):
        raise ConfigInvalid("secret", "secret must be an object.")
    known = _CONFIG_KEYS[source_type]
    for key in config:
        if key not in known:
            raise ConfigInvalid(
                f"config.{key}", f"Unknown field for {source_type}; one of {', '.join(known)}."
            )
    secrets = SECRET_FIELDS.get(source_type, ())
    for key, value in secret.items():
        if key not in secrets:
            allowed = f"one of {', '.join(secrets)}" if secrets else "none"
            raise ConfigInvalid(f"secret.{key}", f"Unknown secret for {source_type}; {allowed}.")
        if value is not None and not isinstance(value, str):
            raise ConfigInvalid(f"secret.{key}", "Must be a string.")
    if source_type == "sqlite":
        return {"path": _check_path(config.get("path"))}
    out: dict[str, Any] = {
        "host": _check_host(config.get("host")),
        "port": _check_port(config.get("port", _DEFAULT_PORTS[source_type])),
        "database": _check_text("database", config.get("database"), 128),
        "user": _check_text("user", config.get("user"), 128),
    }
    ssl = config.get("ssl")
    if source_type == "psql":
        ssl = "prefer" if ssl is None else ssl
        if ssl not in PG_SSL_MODES:
            raise ConfigInvalid("config.ssl", f"One of {', '.join(PG_SSL_MODES)}.")
    else:
        ssl = False if ssl is None else ssl
        if not isinstance(ssl, bool):
            raise ConfigInvalid("config.ssl", "true or false.")
    out["ssl"] = ssl
    return out


def _check_text(name: str, value: object, longest: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigInvalid(f"config.{name}", "Required: a non-empty string.")
    if len(value) > longest or "\x00" in value:
        raise ConfigInvalid(f"config.{name}", f"At most {longest} characters, no NUL.")
    return value


def _check_host(value: object) -> str:
    host = _check_text("host", value, 253).strip()
    if not _HOST.match(host) or host.count(":") == 1:
        raise ConfigInvalid("config.host", "A host name or an IP address (no scheme, no port).")
    return host


def _check_port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigInvalid("config.port", "A port number, 1 to 65535.")
    return value


def _check_path(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigInvalid("config.path", "Required: the database file's path.")
    if "\x00" in value or len(value) > 4096:
        raise ConfigInvalid("config.path", "Not a file path.")
    if ".." in Path(value).parts:
        raise ConfigInvalid("config.path", "'..' is not allowed in the path.")
    return value


def check_stream(source_type: str, stream: Mapping[str, Any]) -> None:
    """``stream`` names a table (a plain identifier) or one read-only query, and, when
    it names its time column, a plain name of a known ``timestampType``;
    ``ConfigInvalid`` naming the field otherwise. That a saved stream names its time
    column is the service's rule: a preview of a stream being built reads without one."""
    _Target.of(source_type, stream)


@dataclass(frozen=True, slots=True)
class _Target:
    """What a stream reads: a table or a query, its time column (``None``: not named
    yet, a preview's) and the column's units per second (``None``: date-times)."""

    table: tuple[str, ...] | None
    query: str | None
    column: str | None
    units: int | None

    @classmethod
    def of(cls, source_type: str, stream: Mapping[str, Any]) -> _Target:
        if source_type not in TYPES:
            raise ConfigInvalid("type", f"Not a SQL source type: {source_type!r}.")
        column, units = _time_column(stream)
        if stream.get("customQuery"):
            query = stream.get("query")
            if not isinstance(query, str) or not query.strip():
                raise ConfigInvalid("query", "customQuery needs a query.")
            try:
                query = check_read_only(query, DIALECTS[source_type])
            except UnsafeQuery as exc:
                raise ConfigInvalid("query", str(exc)) from exc
            return cls(None, query, column, units)
        table = _identifier("tableName", stream.get("tableName"))
        schema = stream.get("schemaName")
        if schema in (None, ""):
            return cls((table,), None, column, units)
        return cls((_identifier("schemaName", schema), table), None, column, units)


def _time_column(stream: Mapping[str, Any]) -> tuple[str | None, int | None]:
    """The stream's time column and its units per second; ``(None, None)`` when it
    names none (``timestampType`` alone says nothing to read)."""
    if stream.get("timestampColumn") in (None, ""):
        return None, None
    column = _identifier("timestampColumn", stream.get("timestampColumn"))
    kind = stream.get("timestampType") or "TIMESTAMP"
    if not isinstance(kind, str) or kind.upper() not in TIMESTAMP_TYPES:
        raise ConfigInvalid(
            "timestampType", f"One of {', '.join(TIMESTAMP_TYPES)} (default TIMESTAMP)."
        )
    try:
        pattern = parse_time_definition(
            {k: v for k, v in stream.items() if k != "timeDefinition"}
        ).pattern
    except SchemaError as exc:
        raise ConfigInvalid("timestampColumn", str(exc)) from exc
    if pattern not in _EPOCH_UNITS and pattern != "iso8601":
        raise ConfigInvalid(
            "timePattern",
            "A SQL stream filters its time in the database: give timestampType "
            "(TIMESTAMP, UNIX_SECONDS, UNIX_MILLIS) rather than a pattern.",
        )
    return column, _EPOCH_UNITS.get(pattern)


def _identifier(field: str, value: object) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.match(value) or len(value) > 128:
        raise ConfigInvalid(
            field, "A plain name: letters, digits, '_' and '$', not starting with a digit."
        )
    return value


# --------------------------------------------------------------------------- time bounds


def _zone(name: str) -> ZoneInfo | None:
    """The stream's zone; ``None`` for UTC (no wall-time arithmetic needed)."""
    if name.upper() in ("UTC", "ETC/UTC", "Z", "GMT", "ETC/GMT", "UCT", "ZULU"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise QueryFailed(f"Unknown time zone {name!r}.") from exc


def _near_change(zone: ZoneInfo, at: datetime) -> bool:
    return (at - _NEAR_DST).astimezone(zone).utcoffset() != (at + _NEAR_DST).astimezone(
        zone
    ).utcoffset()


@dataclass(frozen=True, slots=True)
class _Bounds:
    """A window's bounds for a date-time column: ``start``/``end`` exact (aware UTC),
    ``low``/``high`` aware in the stream's zone, widened an hour where a DST change is
    near (their wall times bound every row of the window held as wall times)."""

    start: datetime
    end: datetime
    low: datetime
    high: datetime

    @classmethod
    def of(cls, window: Window) -> _Bounds:
        start, end = window.start.astimezone(UTC), window.end.astimezone(UTC)
        zone = _zone(window.time_zone)
        if zone is None:
            return cls(start, end, start, end)
        low = start - _WIDEN if _near_change(zone, start) else start
        high = end + _WIDEN if _near_change(zone, end) else end
        return cls(start, end, low.astimezone(zone), high.astimezone(zone))

    @property
    def wall(self) -> tuple[datetime, datetime]:
        return self.low.replace(tzinfo=None), self.high.replace(tzinfo=None)

    @property
    def utc(self) -> tuple[datetime, datetime]:
        return self.start.replace(tzinfo=None), self.end.replace(tzinfo=None)


def _epoch_bounds(window: Window, units: int) -> tuple[int, int]:
    return (
        math.floor(window.start.timestamp() * units),
        math.ceil(window.end.timestamp() * units),
    )


def _text(moment: datetime) -> str:
    return moment.isoformat(sep=" ")


# --------------------------------------------------------------------------- connect


def connect(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any], limits: Limits
) -> _Connector:
    """A connector for the source, connected (so a refused host, a wrong password or a
    file outside the allowed folders fails here, as its :class:`SourceError`)."""
    config = check_config(source_type, config, secret)
    connector: _Connector
    if source_type == "sqlite":
        connector = _SQLite(source_type, config, limits)
    elif source_type == "psql":
        connector = _Postgres(source_type, config, secret, limits)
    else:
        connector = _MySQL(source_type, config, secret, limits)
    connector.open()
    return connector


class _Connector:
    """What the three families share: the window's SELECT, the row limit, the frame."""

    dialect: str
    param = "%s"

    def __init__(self, source_type: str, limits: Limits, secrets: Sequence[str] = ()) -> None:
        self.type = source_type
        self.limits = limits
        self._secrets = [s for s in secrets if s]

    # -- what subclasses give

    def open(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def test(self) -> Probe:
        raise NotImplementedError

    def _fetch(
        self, sql: str, params: Sequence[Any], rows: int
    ) -> tuple[list[str], list[tuple[Any, ...]], set[str]]:
        """Run one read-only SELECT: its column names, up to ``rows`` rows, and the
        names of columns holding UTC instants returned as naive datetimes."""
        raise NotImplementedError

    def quote(self, name: str) -> str:
        return f'"{name}"'

    def _time_filter(
        self, target: _Target, source: str, column: str, window: Window
    ) -> tuple[str, list[Any]]:
        """The WHERE clause for a date-time column and its parameters."""
        raise NotImplementedError

    # -- shared

    def scrub(self, text: str) -> str:
        text = self.limits.scrub(text)
        for value in self._secrets:
            if len(value) >= 3:
                text = text.replace(value, "***")
        return text[:_MESSAGE_CHARS]

    def read(self, stream: Mapping[str, Any], window: Window | None, *, limit: int) -> pd.DataFrame:
        try:
            target = _Target.of(self.type, stream)
        except ConfigInvalid as exc:
            if exc.field == "query":
                raise QueryUnsafe(exc.message) from exc
            raise QueryFailed(f"{exc.field}: {exc.message}") from exc
        limit = max(1, min(int(limit), self.limits.max_rows))
        if target.query is not None:
            # the query on lines of its own: a trailing -- comment ends on its line
            source = f"(\n{self._escape(target.query)}\n) q"
            prefix = "q."
        else:
            source = ".".join(self.quote(part) for part in target.table or ())
            prefix = ""
        if target.column is None:
            if window is not None:
                raise QueryFailed(
                    "timestampColumn: a poll reads by time; the stream names no time column."
                )
            # a stream being built: some rows to show its columns, in the database's order
            sql = f"SELECT * FROM {source} LIMIT {limit}"
            names, rows, instants = self._fetch(sql, [], limit)
            return _frame(names, rows, None, instants)
        column = f"{prefix}{self.quote(target.column)}"
        if window is None:
            sql = f"SELECT * FROM {source} ORDER BY {column} DESC LIMIT {limit}"
            names, rows, instants = self._fetch(sql, [], limit)
        else:
            if target.units is not None:
                where, params = (
                    f"{column} >= {self.param} AND {column} < {self.param}",
                    list(_epoch_bounds(window, target.units)),
                )
            else:
                where, params = self._time_filter(target, source, column, window)
            sql = f"SELECT * FROM {source} WHERE {where} LIMIT {limit + 1}"
            names, rows, instants = self._fetch(sql, params, limit + 1)
            if len(rows) > limit:
                raise TooManyRows(
                    f"More than {limit} rows in one read; poll more often or read fewer "
                    "rows per bucket (a query that aggregates)."
                )
        return _frame(names, rows, target.column, instants)

    def _escape(self, query: str) -> str:
        """The query as the driver's paramstyle needs it (``%`` doubled for ``%s``)."""
        return query.replace("%", "%%") if self.param == "%s" else query


def _frame(
    names: list[str], rows: list[tuple[Any, ...]], time_column: str | None, instants: set[str]
) -> pd.DataFrame:
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise QueryFailed(
            f"The query returns {', '.join(map(repr, twice))} more than once: give each "
            "column a name of its own (AS ...)."
        )
    frame = pd.DataFrame.from_records(rows, columns=names)
    for name in dict.fromkeys([*([time_column] if time_column else []), *instants]):
        if name not in frame.columns:
            continue
        utc = name in instants
        column = frame[name]
        if column.dtype == object:
            frame[name] = column.map(lambda v, utc=utc: _moment(v, utc))
        elif utc and pd.api.types.is_datetime64_dtype(column.dtype):  # naive: UTC instants
            frame[name] = column.dt.tz_localize("UTC")
    return frame


def _moment(value: object, utc: bool) -> object:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if utc and value.tzinfo is None else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value


# --------------------------------------------------------------------------- SQLite


class _SQLite(_Connector):
    """A database file opened read-only (``mode=ro``, ``PRAGMA query_only``)."""

    dialect = "sqlite"
    param = "?"

    def __init__(self, source_type: str, config: Mapping[str, Any], limits: Limits) -> None:
        super().__init__(source_type, limits)
        self.path = str(config["path"])
        self._conn: sqlite3.Connection | None = None
        self._deadline = math.inf

    def _file(self) -> Path:
        """The real path of the database file, inside an allowed folder."""
        given = Path(self.path).expanduser()
        if ".." in given.parts:
            raise SourceRefused("'..' is not allowed in a SQLite path.")
        folders = [Path(os.path.realpath(f)) for f in self.limits.allowed_folders]
        candidates = [given] if given.is_absolute() else [f / given for f in folders]
        for candidate in candidates:
            real = Path(os.path.realpath(candidate))
            if not any(real.is_relative_to(folder) for folder in folders):
                raise SourceRefused(
                    f"{self.path} is outside the folders data sources may read (an "
                    f"operator can allow more in {_ALLOW_FOLDERS})."
                )
            if real.is_file():
                return real
        raise SourceUnreachable(f"No SQLite database file at {self.path}.")

    def open(self) -> None:
        real = self._file()
        try:
            conn = sqlite3.connect(
                f"{real.as_uri()}?mode=ro",
                uri=True,
                timeout=min(10.0, self.limits.timeout_s),
                check_same_thread=False,
            )
            conn.execute("PRAGMA query_only = ON")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise SourceUnreachable(
                self.scrub(f"Cannot open {self.path} as a SQLite database: {exc}")
            ) from exc
        conn.set_progress_handler(self._past_deadline, 10_000)
        self._conn = conn

    def _past_deadline(self) -> int:
        return 1 if time.monotonic() > self._deadline else 0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _run(self, sql: str, params: Sequence[Any], rows: int) -> tuple[list[str], list[tuple]]:
        if self._conn is None:
            self.open()
        assert self._conn is not None
        self._deadline = time.monotonic() + self.limits.timeout_s
        try:
            cursor = self._conn.execute(sql, list(params))
            fetched = cursor.fetchmany(rows)
            names = [d[0] for d in cursor.description or ()]
            cursor.close()
            return names, fetched
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        finally:
            self._deadline = math.inf
            if self._conn.in_transaction:
                self._conn.rollback()

    def _error(self, exc: sqlite3.Error) -> SourceError:
        text = self.scrub(str(exc))
        if "interrupted" in text and time.monotonic() > self._deadline:
            return QueryTimeout(
                f"The query ran past {self.limits.timeout_s:g} s and was cancelled."
            )
        if "readonly" in text or "read-only" in text or "query_only" in text:
            return QueryUnsafe(f"The database refused a write (sources are read only): {text}")
        if isinstance(exc, sqlite3.OperationalError) and (
            "unable to open" in text or "locked" in text or "disk I/O" in text
        ):
            return SourceUnreachable(f"{self.path}: {text}")
        if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
            return SourceUnreachable(f"{self.path}: {text}")
        return QueryFailed(text)

    def _fetch(
        self, sql: str, params: Sequence[Any], rows: int
    ) -> tuple[list[str], list[tuple[Any, ...]], set[str]]:
        names, fetched = self._run(sql, params, rows)
        return names, fetched, set()

    def _time_filter(
        self, target: _Target, source: str, column: str, window: Window
    ) -> tuple[str, list[Any]]:
        # Text with an offset ('...Z', '...+02:00') is an instant: julianday() reads it as
        # UTC. Text without one is a wall time of the stream's zone. The first two terms
        # only let an index on the column narrow the scan (ISO text sorts by its date).
        bounds = _Bounds.of(window)
        wall, utc = bounds.wall, bounds.utc
        first = min(wall[0], utc[0]).date() - timedelta(days=1)
        last = max(wall[1], utc[1]).date() + timedelta(days=2)
        day = f"julianday({column})"
        where = (
            f"{column} >= ? AND {column} < ? AND CASE WHEN {column} GLOB '*[zZ]' "
            f"OR {column} GLOB '*[+-][0-9][0-9]:[0-9][0-9]' "
            f"THEN {day} >= julianday(?) AND {day} < julianday(?) "
            f"ELSE {day} >= julianday(?) AND {day} < julianday(?) END"
        )
        params = [first.isoformat(), last.isoformat(), *map(_text, utc), *map(_text, wall)]
        return where, params

    def test(self) -> Probe:
        _, rows = self._run(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
            f"AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT {MAX_OBJECTS}",
            [],
            MAX_OBJECTS,
        )
        return Probe(f"SQLite {sqlite3.sqlite_version}", [str(r[0]) for r in rows])


# --------------------------------------------------------------------------- servers


class _Server(_Connector):
    """A database server: the host checked after DNS at every connection, the driver
    connected to the checked address; a lost connection is opened again on next use."""

    def __init__(
        self, source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any], limits: Limits
    ) -> None:
        self.password = str(secret.get("password") or "")
        super().__init__(source_type, limits, [self.password])
        self.host = str(config["host"]).strip("[]")
        self.port = int(config["port"])
        self.database = str(config["database"])
        self.user = str(config["user"])
        self.ssl = config["ssl"]
        self.connect_timeout = max(1.0, min(10.0, limits.timeout_s))
        self._conn: Any = None

    def _addresses(self) -> list[str]:
        try:
            return resolve_destination(self.host, self.port, self.limits.allowed_private_networks)
        except DestinationRefused as exc:
            raise SourceRefused(
                f"{self.host} is, or resolves to, a loopback, private or link-local address, "
                "which data sources may not reach (an operator can allow a database on this "
                f"machine or network in {_ALLOW_NETWORKS})."
            ) from exc
        except (OSError, UnicodeError) as exc:
            raise SourceUnreachable(self.scrub(f"Cannot resolve {self.host}: {exc}")) from exc

    def open(self) -> None:
        self.close()
        failure: SourceError | None = None
        for address in self._addresses():
            try:
                self._conn = self._connect(address)
                return
            except SourceUnreachable as exc:  # another address may answer
                failure = exc
        assert failure is not None
        raise failure

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing a connection that already failed
                conn.close()

    def _connect(self, address: str) -> Any:
        raise NotImplementedError

    def _timeout(self) -> QueryTimeout:
        return QueryTimeout(f"The query ran past {self.limits.timeout_s:g} s and was cancelled.")

    def _where(self, column: str, low: Any, high: Any) -> tuple[str, list[Any]]:
        return f"{column} >= %s AND {column} < %s", [low, high]


class _Postgres(_Server):
    """PostgreSQL through psycopg: ``hostaddr`` the checked address and ``host`` the
    name (TLS checks the certificate against it); every read in ``BEGIN READ ONLY``
    with ``statement_timeout``; the session in UTC."""

    dialect = "postgresql"

    def _connect(self, address: str) -> Any:
        import psycopg

        timeout_ms = max(1, round(self.limits.timeout_s * 1000))
        options = (
            "-c default_transaction_read_only=on "
            f"-c statement_timeout={timeout_ms} "
            f"-c idle_in_transaction_session_timeout={timeout_ms + 60_000} "
            "-c TimeZone=UTC"
        )
        params: dict[str, Any] = {
            "host": self.host,
            "hostaddr": address,
            "port": self.port,
            "dbname": self.database,
            "user": self.user,
            # set, even empty: libpq would otherwise use PGPASSWORD or this machine's
            # ~/.pgpass, which hold augury's credentials, not the source's
            "password": self.password,
            "passfile": os.devnull,
            "sslmode": self.ssl,
            "connect_timeout": max(2, math.ceil(self.connect_timeout)),
            "application_name": "augury collector",
            "options": options,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
        if self.ssl == "verify-full":
            params["sslrootcert"] = "system"
        try:
            return psycopg.connect(autocommit=True, **params)
        except psycopg.Error as exc:
            raise self._connect_error(exc) from exc

    def _connect_error(self, exc: Exception) -> SourceError:
        text = " ".join(str(exc).split())
        reason = text.rsplit(" failed: ", 1)[-1].removeprefix("FATAL: ").strip()
        message = self.scrub(f"{self.host}:{self.port}: {reason}")
        lowered = reason.lower()
        if "authentication failed" in lowered or "password" in lowered or "pg_hba" in lowered:
            return SourceAuthFailed(message)
        if "role" in lowered and "does not exist" in lowered:
            return SourceAuthFailed(message)
        return SourceUnreachable(message)

    def _error(self, exc: Exception) -> SourceError:
        import psycopg

        if isinstance(exc, psycopg.errors.QueryCanceled):
            return self._timeout()
        state = getattr(exc, "sqlstate", None) or ""
        diag = getattr(exc, "diag", None)
        text = self.scrub(getattr(diag, "message_primary", None) or " ".join(str(exc).split()))
        if state == "25006":  # read_only_sql_transaction
            return QueryUnsafe(f"The database refused a write (sources are read only): {text}")
        if state.startswith("28"):
            return SourceAuthFailed(text)
        conn = self._conn
        if state.startswith(("08", "57P")) or conn is None or conn.broken or conn.closed:
            return SourceUnreachable(f"The connection to {self.host} was lost: {text}")
        return QueryFailed(text)

    def _run(
        self, sql: str, params: Sequence[Any] | None, rows: int
    ) -> tuple[list[str], list[tuple[Any, ...]], list[int]]:
        import psycopg

        if self._conn is None or self._conn.closed or self._conn.broken:
            self.open()
        conn = self._conn
        timeout_ms = max(1, round(self.limits.timeout_s * 1000))
        try:
            with conn.cursor() as cursor:
                cursor.execute("BEGIN READ ONLY")
                try:
                    cursor.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
                    cursor.execute(sql, params)
                    fetched = cursor.fetchmany(rows)
                    description = cursor.description or []
                    return (
                        [d.name for d in description],
                        [tuple(r) for r in fetched],
                        [d.type_code for d in description],
                    )
                finally:
                    if not (conn.closed or conn.broken):
                        cursor.execute("ROLLBACK")
        except psycopg.Error as exc:
            error = self._error(exc)
            if isinstance(error, SourceUnreachable):
                self.close()
            raise error from exc

    def _fetch(
        self, sql: str, params: Sequence[Any], rows: int
    ) -> tuple[list[str], list[tuple[Any, ...]], set[str]]:
        names, fetched, _ = self._run(sql, list(params), rows)
        return names, fetched, set()

    def _time_filter(
        self, target: _Target, source: str, column: str, window: Window
    ) -> tuple[str, list[Any]]:
        # Text with the zone's offset, typed by the server from the column: an instant
        # for timestamptz; for timestamp the offset is ignored, leaving the wall time.
        bounds = _Bounds.of(window)
        return self._where(column, _text(bounds.low), _text(bounds.high))

    def test(self) -> Probe:
        _, version, _ = self._run("SHOW server_version", None, 1)
        _, rows, _ = self._run(
            "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') "
            "AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' "
            "AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT') "
            f"ORDER BY n.nspname <> 'public', n.nspname, c.relname LIMIT {MAX_OBJECTS}",
            None,
            MAX_OBJECTS,
        )
        objects = [name if schema == "public" else f"{schema}.{name}" for schema, name in rows]
        return Probe(f"PostgreSQL {str(version[0][0]).split()[0]}", objects)


_MYSQL_TIMEOUTS = {1969, 3024, 1317, 1028}
"""MariaDB max_statement_time, MySQL max_execution_time, query interrupted, sort aborted."""
_MYSQL_AUTH = {1044, 1045, 1698, 1251, 2059, 1862}
_MYSQL_GONE = {1927, 2002, 2003, 2005, 2006, 2013, 2055, 1040, 1049, 1053, 1152, 1158, 1159}
_MYSQL_READ_ONLY = {1792, 1290, 1836}
_MYSQL_TIMESTAMP = 7
"""The wire type of a MySQL ``TIMESTAMP`` column (an instant, sent in the session's zone)."""


class _MySQL(_Server):
    """MySQL or MariaDB through PyMySQL, on a socket augury opens to the checked address
    (TLS, when ``ssl`` is true, checks the certificate against the host name); the
    session in UTC with the server's statement time limit; every read in ``START
    TRANSACTION READ ONLY``."""

    dialect = "mysql"

    def __init__(
        self, source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any], limits: Limits
    ) -> None:
        super().__init__(source_type, config, secret, limits)
        self.version = ""
        self._instants: dict[tuple[str, str], bool] = {}

    def quote(self, name: str) -> str:
        return f"`{name}`"

    def _connect(self, address: str) -> Any:
        import pymysql

        try:
            sock = socket.create_connection((address, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            raise SourceUnreachable(
                self.scrub(f"{self.host}:{self.port}: {exc.strerror or exc}")
            ) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        context = None
        if self.ssl:
            context = ssl.create_default_context()  # verified, against the host's name
        conn = pymysql.Connection(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=self.database,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=self.connect_timeout,
            read_timeout=self.limits.timeout_s + 10,
            write_timeout=self.limits.timeout_s + 10,
            ssl=context,
            local_infile=False,
            defer_connect=True,
        )
        # the greeting and login must come within the connect timeout: a server that
        # accepts and says nothing is cut off then, not at the (longer) read timeout
        cut = threading.Event()

        def cut_off() -> None:
            cut.set()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(self.connect_timeout, cut_off)
        timer.start()
        try:
            conn.connect(sock)
        except (pymysql.Error, OSError) as exc:
            sock.close()
            if cut.is_set():
                raise SourceUnreachable(
                    f"{self.host}:{self.port} did not answer within {self.connect_timeout:g} s."
                ) from exc
            raise self._error(exc, connecting=True) from exc
        finally:
            timer.cancel()
        if cut.is_set():
            conn.close()
            raise SourceUnreachable(
                f"{self.host}:{self.port} did not answer within {self.connect_timeout:g} s."
            )
        self.version = str(conn.get_server_info() or "")
        limit = (
            f"max_statement_time = {self.limits.timeout_s:.6f}"
            if self.mariadb
            else f"max_execution_time = {max(1, round(self.limits.timeout_s * 1000))}"
        )
        try:
            with conn.cursor() as cursor:
                cursor.execute(f"SET SESSION time_zone = '+00:00', SESSION {limit}")
        except pymysql.Error as exc:
            conn.close()
            raise self._error(exc, connecting=True) from exc
        return conn

    @property
    def mariadb(self) -> bool:
        return "mariadb" in self.version.lower()

    def _error(self, exc: Exception, *, connecting: bool = False) -> SourceError:
        args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
        code = args[0] if args and isinstance(args[0], int) else 0
        text = self.scrub(str(args[1]) if len(args) > 1 else str(exc) or type(exc).__name__)
        if code in _MYSQL_TIMEOUTS:
            return self._timeout()
        if code in _MYSQL_AUTH:
            return SourceAuthFailed(f"{self.host}:{self.port}: {text}")
        if code in _MYSQL_READ_ONLY:
            return QueryUnsafe(f"The database refused a write (sources are read only): {text}")
        if code in _MYSQL_GONE or connecting or isinstance(exc, OSError):
            if code == 2013 and "timed out" in text and not connecting:
                return self._timeout()
            return SourceUnreachable(f"{self.host}:{self.port}: {text}")
        return QueryFailed(text)

    def _run(
        self, sql: str, params: Sequence[Any] | None, rows: int
    ) -> tuple[list[str], list[tuple[Any, ...]], list[int]]:
        import pymysql

        if self._conn is None or not self._conn.open:
            self.open()
        conn = self._conn
        try:
            with conn.cursor() as cursor:
                cursor.execute("START TRANSACTION READ ONLY")
                try:
                    cursor.execute(sql, params)
                    fetched = cursor.fetchmany(rows)
                    description = cursor.description or ()
                    return (
                        [str(d[0]) for d in description],
                        [tuple(r) for r in fetched],
                        [int(d[1]) for d in description],
                    )
                finally:
                    if conn.open:
                        try:
                            cursor.execute("ROLLBACK")
                        except pymysql.Error:
                            self.close()
        except (pymysql.Error, OSError) as exc:
            error = self._error(exc)
            if isinstance(error, SourceUnreachable | QueryTimeout):
                self.close()  # a cut connection; a timed-out one may still be sending
            raise error from exc

    def _fetch(
        self, sql: str, params: Sequence[Any], rows: int
    ) -> tuple[list[str], list[tuple[Any, ...]], set[str]]:
        names, fetched, types = self._run(sql, list(params), rows)
        instants = {n for n, t in zip(names, types, strict=True) if t == _MYSQL_TIMESTAMP}
        return names, fetched, instants

    def _instant(self, source: str, column: str) -> bool:
        """Whether the time column is a ``TIMESTAMP`` (an instant; compared in the
        session's UTC) rather than a ``DATETIME`` or ``DATE`` (a wall time)."""
        key = (source, column)
        if key not in self._instants:
            _, _, types = self._run(f"SELECT {column} FROM {source} LIMIT 0", [], 0)
            self._instants[key] = bool(types) and types[0] == _MYSQL_TIMESTAMP
        return self._instants[key]

    def _time_filter(
        self, target: _Target, source: str, column: str, window: Window
    ) -> tuple[str, list[Any]]:
        bounds = _Bounds.of(window)
        low, high = bounds.utc if self._instant(source, column) else bounds.wall
        return self._where(column, low, high)

    def test(self) -> Probe:
        _, version, _ = self._run("SELECT VERSION()", None, 1)
        _, rows, _ = self._run(
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = DATABASE() ORDER BY table_name LIMIT {MAX_OBJECTS}",
            None,
            MAX_OBJECTS,
        )
        text = str(version[0][0])
        number = text.split("-")[0]
        name = "MariaDB" if "mariadb" in text.lower() else "MySQL"
        return Probe(f"{name} {number}", [str(r[0]) for r in rows])
