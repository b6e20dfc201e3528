"""How the query and export functions run DuckDB: one short-lived connection per call.

Every call opens its own in-memory connection with a memory limit, a thread count,
extension autoloading off and no spilling unless a temp directory is given, so one
heavy query cannot starve the server, and closes it when done. A timer interrupts the
connection when the time limit passes; the interrupt surfaces as
``TableError("QUERY_TIMEOUT")`` whatever DuckDB raised on the way out.

A connection costs ~15 ms to open, small next to a query over a Parquet file, and
keeps calls independent (no shared state, no locks between requests).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from ._duckdb import Config as _Config
from ._duckdb import connect as duck_connect
from .columns import ColumnSpec, quote_ident, quote_literal, view_sql
from .errors import TableError


@dataclass(frozen=True)
class Limits:
    """What one call may use: DuckDB's memory limit and threads, and the time limit.

    ``temp_directory`` lets a large sort or aggregation spill to disk; ``None`` keeps
    everything in memory (a query over the limit fails with ``QUERY_TOO_LARGE``
    instead of writing into the server's working directory).
    """

    memory_limit: str = "512MB"
    threads: int = 2
    timeout_s: float = 30.0
    temp_directory: str | None = None


@dataclass
class Result:
    """A query's answer, JSON-able as it is.

    ``types`` are logical types (:data:`~.columns.TYPES`); ``total`` is the number of
    rows the query gives without its limit and offset (``None`` where it was not
    computed); ``truncated`` says the row cap cut the answer short; ``sql`` is the
    statement that ran (parameters as ``?``).
    """

    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    total: int | None
    truncated: bool
    sql: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def connect(limits: Limits) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection under ``limits`` (no time limit: see :func:`session`)."""
    config: _Config = {}
    config["memory_limit"] = limits.memory_limit
    config["threads"] = limits.threads
    config["temp_directory"] = limits.temp_directory or ""
    try:
        return duck_connect(config)
    except duckdb.Error as exc:
        raise TableError("INVALID_LIMITS", f"DuckDB refused the limits: {exc}") from exc


@contextmanager
def session(
    limits: Limits, *, error_code: str, conversion_code: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is interrupted after ``limits.timeout_s`` and always closed.

    DuckDB errors leave as :class:`TableError`: ``QUERY_TIMEOUT`` once interrupted,
    ``QUERY_TOO_LARGE`` past the memory limit, ``SQL_NOT_ALLOWED`` for a refused file
    or setting, ``conversion_code`` (where given) for a value DuckDB could not convert,
    ``error_code`` with DuckDB's message for anything else.
    """
    con = connect(limits)
    guard = threading.Lock()
    state = {"closed": False, "fired": False}

    def interrupt() -> None:
        with guard:
            if not state["closed"]:
                state["fired"] = True
                con.interrupt()

    timer = threading.Timer(limits.timeout_s, interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield con
    except duckdb.Error as exc:
        if state["fired"] or isinstance(exc, duckdb.InterruptException):
            raise _timeout(limits) from exc
        if conversion_code and isinstance(exc, duckdb.ConversionException):
            raise TableError(conversion_code, str(exc).strip().splitlines()[0]) from exc
        raise translate(exc, error_code) from exc
    except TableError:
        if state["fired"]:
            raise _timeout(limits) from None
        raise
    finally:
        timer.cancel()
        with guard:
            state["closed"] = True
        con.close()


def _timeout(limits: Limits) -> TableError:
    return TableError(
        "QUERY_TIMEOUT",
        f"The query took longer than {limits.timeout_s:g} s and was stopped.",
        {"timeout_s": limits.timeout_s},
    )


def translate(exc: duckdb.Error, error_code: str) -> TableError:
    """The :class:`TableError` a DuckDB error becomes (first line of its message)."""
    message = str(exc).strip()
    if isinstance(exc, duckdb.OutOfMemoryException):
        return TableError("QUERY_TOO_LARGE", "The query needs more memory than it may use.")
    if isinstance(exc, duckdb.PermissionException):
        return TableError("SQL_NOT_ALLOWED", message.splitlines()[0])
    return TableError(error_code, message, {"duckdb": type(exc).__name__})


def source_sql(path: Path | str) -> str:
    """The table expression that reads a dataset's Parquet file."""
    return f"read_parquet({quote_literal(str(path))})"


def create_view(
    con: duckdb.DuckDBPyConnection, name: str, path: Path | str, specs: list[ColumnSpec]
) -> list[ColumnSpec]:
    """Make ``name`` a view of the dataset read through ``specs``; returns the specs used.

    Without specs (a dataset not profiled yet) the Parquet file's own types apply.
    """
    con.execute(f"CREATE VIEW {quote_ident(name)} AS {view_sql(source_sql(path), specs)}")
    if specs:
        return list(specs)
    described = con.execute(f"DESCRIBE {quote_ident(name)}").fetchall()
    return [ColumnSpec(row[0], str(row[1]), logical_type(str(row[1]))) for row in described]


_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT")
_UNSIGNED = ("UINTEGER", "UBIGINT", "UHUGEINT")


def logical_type(duckdb_type: str) -> str:
    """The logical type of a DuckDB result column.

    >>> logical_type("DECIMAL(18,2)"), logical_type("TIMESTAMP WITH TIME ZONE")
    ('decimal', 'datetime')
    >>> logical_type("VARCHAR[]")
    'string'
    """
    t = duckdb_type.upper()
    if t in _INTEGERS or t in _UNSIGNED:
        return "integer"
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return "float"
    if t.startswith("DECIMAL"):
        return "decimal"
    if t == "BOOLEAN":
        return "boolean"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    if t == "INTERVAL":
        return "duration"
    return "string"


def jsonable(value: Any) -> Any:
    """A DuckDB value as JSON can carry it.

    Dates and datetimes become ISO text, durations seconds, decimals floats, NaN and
    infinities ``None`` (JSON has no spelling for them).

    >>> jsonable(dt.date(2024, 12, 31)), jsonable(dt.timedelta(minutes=2))
    ('2024-12-31', 120.0)
    >>> jsonable([decimal.Decimal("1.50"), float("nan")])
    [1.5, None]
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return jsonable(float(value))
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)
