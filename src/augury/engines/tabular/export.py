"""A dataset, a query's answer or a sandbox SELECT written out as a file.

CSV, JSON, JSONL and Parquet stream through DuckDB's ``COPY`` (bounded memory, however
many rows); XLSX streams through openpyxl's write-only workbook, capped at Excel's
1,048,575 data rows. The file appears at ``dst`` only once complete (written beside
it, then renamed), so a reader never sees half an export.

CSV and XLSX open in spreadsheets, which run a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return as a formula: such *text* cells are written
with a leading ``'`` (OWASP's CSV-injection advice). Numbers stay numbers; the data
formats (JSON, JSONL, Parquet) keep every value as it is.

>>> escape_cell("=cmd|' /C calc'!A0"), escape_cell("-2+3"), escape_cell(-2)
("'=cmd|' /C calc'!A0", "'-2+3", -2)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import math
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ._query_compile import Query, compile_query
from ._query_exec import Limits, Result, create_view, session
from .columns import ColumnSpec, quote_ident, quote_literal, sql_type
from .errors import TableError
from .query import TABLE, lock_down, single_select

FORMATS = ("csv", "json", "jsonl", "parquet", "xlsx")

XLSX_MAX_ROWS = 1_048_575
"""Excel's 1,048,576 rows less the header."""

XLSX_MAX_CELL = 32_767

_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_COPY_OPTIONS = {
    "csv": "FORMAT csv, HEADER true",
    "json": "FORMAT json, ARRAY true",
    "jsonl": "FORMAT json",
    "parquet": "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880",
}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SOURCE = "__export"


@dataclass(frozen=True)
class Dataset:
    """A dataset's Parquet file read through its specs, optionally through a query
    (all its rows: no row cap applies to an export)."""

    path: Path
    specs: list[ColumnSpec]
    query: Query | None = None


@dataclass(frozen=True)
class Sql:
    """A sandbox SELECT over datasets (see :func:`~.query.run_sql`)."""

    tables: dict[str, tuple[Path, list[ColumnSpec]]]
    sql: str


Source = Dataset | Sql | Result


def content_type(fmt: str) -> str:
    """The HTTP ``Content-Type`` of a format.

    >>> content_type("jsonl")
    'application/x-ndjson'
    """
    return _CONTENT_TYPES[_check(fmt)]


def extension(fmt: str) -> str:
    """The file name extension of a format.

    >>> extension("xlsx")
    '.xlsx'
    """
    return "." + _check(fmt)


def escape_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` where a spreadsheet would read text as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export(source: Source, dst: Path, fmt: str, *, limits: Limits = Limits()) -> int:
    """Write ``source`` to ``dst`` as ``fmt`` (one of :data:`FORMATS`); returns the rows.

    ``limits.timeout_s`` bounds the whole export. ``TableError`` codes:
    ``UNSUPPORTED_EXPORT_FORMAT``, ``TOO_MANY_ROWS_FOR_XLSX``, and those of the query
    or the sandbox behind the source.
    """
    _check(fmt)
    dst = Path(dst)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.tmp")
    try:
        rows = _write(source, tmp, fmt, limits)
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return rows


def _write(source: Source, tmp: Path, fmt: str, limits: Limits) -> int:
    code = "SQL_ERROR" if isinstance(source, Sql) else "QUERY_FAILED"
    with session(limits, error_code=code, conversion_code="INVALID_FILTER") as con:
        if fmt != "xlsx":
            # streams COPY in bounded memory; an ORDER BY still holds
            con.execute("SET preserve_insertion_order=false")
        _prepare(con, source, tmp)
        if fmt == "xlsx":
            return _write_xlsx(con, tmp)
        select = _select(con, escape=fmt == "csv")
        target = quote_literal(str(tmp))
        done = con.execute(f"COPY ({select}) TO {target} ({_COPY_OPTIONS[fmt]})").fetchone()
        return int(done[0]) if done else 0


def _prepare(con: duckdb.DuckDBPyConnection, source: Source, tmp: Path) -> None:
    """Make ``__export`` the view of the rows to write."""
    if isinstance(source, Result):
        con.register("__rows", _arrow(source))
        casts = ", ".join(
            _cast(name, logical) for name, logical in zip(source.columns, source.types, strict=True)
        )
        con.execute(f"CREATE VIEW {_SOURCE} AS SELECT {casts or '*'} FROM __rows")
    elif isinstance(source, Dataset):
        used = create_view(con, TABLE, source.path, source.specs)
        plan = compile_query(TABLE, used, source.query or Query())
        con.sql(plan.sql, params=plan.params).create_view(_SOURCE)
    else:
        statement = single_select(source.sql)
        lock_down(con, source.tables, writable=[str(tmp.resolve())])
        con.sql(statement.query).create_view(_SOURCE)


def _arrow(result: Result) -> pa.Table:
    arrays = [pa.array([row[i] for row in result.rows]) for i in range(len(result.columns))]
    return pa.Table.from_arrays(arrays, names=list(result.columns))


def _cast(name: str, logical: str) -> str:
    col = quote_ident(name)
    if logical in ("date", "datetime", "integer", "float", "decimal", "boolean"):
        return f"TRY_CAST({col} AS {sql_type(logical)}) AS {col}"
    return col


def _select(con: duckdb.DuckDBPyConnection, *, escape: bool) -> str:
    if not escape:
        return f"SELECT * FROM {_SOURCE}"
    relation = con.sql(f"SELECT * FROM {_SOURCE}")
    parts = []
    for name, kind in zip(relation.columns, relation.types, strict=True):
        col = quote_ident(name)
        if str(kind) == "VARCHAR":
            parts.append(
                f"CASE WHEN regexp_matches({col}, '^[=+\\-@\\t\\r]') THEN '''' || {col}"
                f" ELSE {col} END AS {col}"
            )
        else:
            parts.append(col)
    return f"SELECT {', '.join(parts)} FROM {_SOURCE}"


def _write_xlsx(con: duckdb.DuckDBPyConnection, tmp: Path) -> int:
    counted = con.execute(f"SELECT count(*) FROM {_SOURCE}").fetchone()
    rows = int(counted[0]) if counted else 0
    if rows > XLSX_MAX_ROWS:
        raise TableError(
            "TOO_MANY_ROWS_FOR_XLSX",
            f"{rows} rows do not fit in a spreadsheet (at most {XLSX_MAX_ROWS}); "
            "export CSV or Parquet instead.",
            {"rows": rows, "max_rows": XLSX_MAX_ROWS},
        )
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    cursor = con.execute(f"SELECT * FROM {_SOURCE}")
    sheet.append([_xlsx_cell(d[0]) for d in cursor.description or []])
    while batch := cursor.fetchmany(10_000):
        for row in batch:
            sheet.append([_xlsx_cell(v) for v in row])
    book.save(tmp)
    return rows


def _xlsx_cell(value: Any) -> Any:
    """A value as openpyxl can write it: text escaped and cleaned, no time zones."""
    if value is None or isinstance(value, bool | int | decimal.Decimal | dt.date | dt.time):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    text = value if isinstance(value, str) else str(value)
    return escape_cell(ILLEGAL_CHARACTERS_RE.sub("", text)[:XLSX_MAX_CELL])


def _check(fmt: str) -> str:
    if fmt not in FORMATS:
        raise TableError(
            "UNSUPPORTED_EXPORT_FORMAT",
            f"Cannot export as {fmt!r}; one of {', '.join(FORMATS)}.",
            {"format": fmt},
        )
    return fmt
