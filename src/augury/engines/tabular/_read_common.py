"""What every reader shares: the DuckDB connection, column names, and the final COPY.

Each format ends the same way: a ``SELECT`` over whatever DuckDB can scan (a CSV, a
JSON file, Parquet parts), written by one streaming ``COPY ... TO ... (FORMAT parquet)``
that renames the columns and turns nested values into JSON text. So names and types
follow one rule whatever the upload was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ._duckdb import connect as duck_connect
from .columns import quote_ident, quote_literal
from .errors import TableError

WIDE_COPY = 1_000
"""Tables wider than this are written through Arrow rather than DuckDB's COPY."""

_NESTED = re.compile(r"(STRUCT|MAP|UNION)\(|\[\d*\]$")
_WIDENED = {
    "TINYINT": "BIGINT",
    "SMALLINT": "BIGINT",
    "INTEGER": "BIGINT",
    "UTINYINT": "BIGINT",
    "USMALLINT": "BIGINT",
    "UINTEGER": "BIGINT",
    "FLOAT": "DOUBLE",
}


@dataclass
class Converted:
    """What :func:`~.read.convert` wrote: the table's shape and how the file was read.

    ``renamed`` maps each header that had to change (trimmed, empty, repeated) to the
    column name used. A header text renamed more than once (two empty headers, three
    ``"x"``) is keyed ``"<header>#<position>"`` from its second rename on, so no entry
    hides another.
    """

    rows: int
    columns: list[str]
    physical: dict[str, str]
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    renamed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def connect(memory_limit: str, threads: int, temp_dir: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that never downloads an extension and spills to ``temp_dir``."""
    con = duck_connect()
    con.execute(f"SET memory_limit={quote_literal(memory_limit)}")
    con.execute(f"SET threads={int(threads)}")
    con.execute(f"SET temp_directory={quote_literal(str(temp_dir))}")
    return con


def clean_names(raw: list[str], max_columns: int) -> tuple[list[str], dict[str, str]]:
    """Column names from header cells: trimmed, ``column_<n>`` for an empty one, and
    ``name_2``, ``name_3`` for repeats (case-insensitively, as DuckDB compares names).

    >>> clean_names([" id ", "", "x", "X", "x_2"], 100)
    (['id', 'column_2', 'x', 'X_3', 'x_2'], {' id ': 'id', '': 'column_2', 'X': 'X_3'})
    """
    if len(raw) > max_columns:
        raise TableError(
            "TOO_MANY_COLUMNS",
            f"The table has {len(raw):,} columns; at most {max_columns:,} are allowed.",
            {"columns": len(raw), "max_columns": max_columns},
        )
    bases = [(cell.strip() or f"column_{i}") for i, cell in enumerate(raw, start=1)]
    reserved = {b.lower() for b in bases}
    taken: set[str] = set()
    names: list[str] = []
    for base in bases:
        name = base
        if name.lower() in taken:
            k = 2
            while f"{base}_{k}".lower() in taken or f"{base}_{k}".lower() in reserved:
                k += 1
            name = f"{base}_{k}"
        taken.add(name.lower())
        names.append(name)
    renamed: dict[str, str] = {}
    for position, (cell, name) in enumerate(zip(raw, names, strict=True), start=1):
        if cell != name:
            key = cell if cell not in renamed else f"{cell}#{position}"
            renamed[key] = name
    return names, renamed


def stored_expr(column: str, physical: str) -> tuple[str, str]:
    """The expression and type a scanned column is stored as: nested values as JSON
    text (the profile and queries read scalars), small integers and floats widened,
    time zones dropped to UTC, bytes as base64 text.

    >>> stored_expr("n", "STRUCT(x BIGINT)")
    ('CAST(to_json("n") AS VARCHAR)', 'VARCHAR')
    >>> stored_expr("k", "INTEGER")
    ('CAST("k" AS BIGINT)', 'BIGINT')
    """
    col = quote_ident(column)
    upper = physical.upper()
    if _NESTED.search(upper) or upper == "JSON":
        return f"CAST(to_json({col}) AS VARCHAR)", "VARCHAR"
    if upper in _WIDENED:
        return f"CAST({col} AS {_WIDENED[upper]})", _WIDENED[upper]
    if upper == "TIMESTAMP WITH TIME ZONE":
        return f"timezone('UTC', {col})", "TIMESTAMP"
    if upper in ("TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"):
        return f"CAST({col} AS TIMESTAMP)", "TIMESTAMP"
    if upper == "BLOB":
        return f"to_base64({col})", "VARCHAR"
    if upper in ("UUID", "BIT", "NULL", '"NULL"'):
        return f"CAST({col} AS VARCHAR)", "VARCHAR"
    return col, physical


def describe(con: duckdb.DuckDBPyConnection, source_sql: str) -> list[tuple[str, str]]:
    """The (name, type) of each column ``source_sql`` yields, without reading its rows."""
    return [(row[0], row[1]) for row in con.execute(f"DESCRIBE {source_sql}").fetchall()]


def copy_to_parquet(
    con: duckdb.DuckDBPyConnection,
    source_sql: str,
    scanned: list[tuple[str, str]],
    dst: Path,
    *,
    raw_names: list[str] | None = None,
    max_columns: int,
) -> tuple[int, list[str], dict[str, str], dict[str, str]]:
    """Write ``source_sql``'s rows to ``dst`` under clean names, in one streaming COPY.

    ``scanned`` is what the source yields, ``raw_names`` the header texts the names
    come from (the scanned names when None). Returns rows, names, physical types and
    the renames.
    """
    names, renamed = clean_names(raw_names or [c for c, _ in scanned], max_columns)
    select = []
    physical: dict[str, str] = {}
    for (column, kind), name in zip(scanned, names, strict=True):
        expr, stored = stored_expr(column, kind)
        select.append(f"{expr} AS {quote_ident(name)}")
        physical[name] = stored
    query = f"SELECT {', '.join(select)} FROM {source_sql}"
    if len(names) > WIDE_COPY:
        return _write_wide(con, query, dst, len(names)), names, physical, renamed
    sql = (
        f"COPY ({query}) TO {quote_literal(str(dst))} "
        "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
    )
    result = con.execute(sql).fetchall()
    rows = int(result[0][0]) if result else 0
    return rows, names, physical, renamed


def _write_wide(con: duckdb.DuckDBPyConnection, query: str, dst: Path, width: int) -> int:
    """Write a table of thousands of columns through Arrow: DuckDB's COPY buffers a
    block per column and needs gigabytes for 10,000 columns; its scan does not."""
    batch_rows = max(16, 1_000_000 // width)
    group_rows = max(batch_rows, 20_000_000 // width)
    rows = 0
    pending: list[pa.RecordBatch] = []
    writer: pq.ParquetWriter | None = None
    try:
        reader = con.execute(query).to_arrow_reader(batch_rows)
        for batch in reader or ():
            if writer is None:
                writer = pq.ParquetWriter(dst, batch.schema, compression="zstd")
            pending.append(batch)
            rows += batch.num_rows
            if sum(b.num_rows for b in pending) >= group_rows:
                writer.write_table(pa.Table.from_batches(pending))
                pending = []
        if writer is not None and pending:
            writer.write_table(pa.Table.from_batches(pending))
    finally:
        if writer is not None:
            writer.close()
    return rows
