"""SQL sources: PostgreSQL (``psql``, psycopg), MySQL and MariaDB (``mysql``,
``mariadb``, PyMySQL) and SQLite database files (``sqlite``, the standard library).

A stream reads a table (``tableName``, optionally ``schemaName``) or its own query
(``customQuery: true`` and ``query``), and names the time column (``timestampColumn``)
and how it holds time (``timestampType``: ``TIMESTAMP``, ``UNIX_SECONDS``,
``UNIX_MILLIS``). A poll reads one window, ``start <= time < end``, filtered by the
database (``SELECT * FROM t WHERE ts >= :a AND ts < :b``; a query is wrapped as
``SELECT * FROM (<query>) q WHERE q.ts ...``), so only the window's rows travel; a
preview reads the latest rows (``ORDER BY ts DESC LIMIT n``).

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

import math
import os
import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from augury.collectors.connectors.base import (
    ConfigInvalid,
    Limits,
    Probe,
    QueryFailed,
    QueryTimeout,
    QueryUnsafe,
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
    if not _HOST.match(host):
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
    """``stream`` names a table (a plain identifier) or one read-only query, and a time
    column of a known ``timestampType``; ``ConfigInvalid`` naming the field otherwise."""
    _Target.of(source_type, stream)


@dataclass(frozen=True, slots=True)
class _Target:
    """What a stream reads: a table or a query, its time column and the column's units
    per second (``None``: date-times)."""

    table: tuple[str, ...] | None
    query: str | None
    column: str
    units: int | None

    @classmethod
    def of(cls, source_type: str, stream: Mapping[str, Any]) -> _Target:
        if source_type not in TYPES:
            raise ConfigInvalid("type", f"Not a SQL source type: {source_type!r}.")
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
        units = _EPOCH_UNITS.get(pattern)
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
            column = f"q.{self.quote(target.column)}"
        else:
            source = ".".join(self.quote(part) for part in target.table or ())
            column = self.quote(target.column)
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
    names: list[str], rows: list[tuple[Any, ...]], time_column: str, instants: set[str]
) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=names)
    for name in dict.fromkeys([time_column, *instants]):
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


class _Postgres(_Connector):
    dialect = "postgresql"

    def __init__(self, source_type: str, config: Any, secret: Any, limits: Limits) -> None:
        super().__init__(source_type, limits)

    def open(self) -> None:
        raise SourceUnreachable("PostgreSQL sources are not ready yet.")


class _MySQL(_Postgres):
    dialect = "mysql"
