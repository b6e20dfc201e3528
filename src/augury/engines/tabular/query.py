"""Questions over a dataset's Parquet file: the structured query and the SQL sandbox.

Every function reads the dataset through :func:`~.columns.view_sql`, so the logical
types the profile or the user chose apply (a ``"31/12/2024"`` text column filters and
buckets as a date), opens its own bounded DuckDB connection (:class:`Limits`) and
answers a :class:`Result` or plain JSON-able values.

* :func:`run_query`: a :class:`Query` (filters, group keys, a time bucket, aggregates,
  order, limit and offset) compiled to one parameterised ``SELECT``;
* :func:`count`, :func:`top_n`, :func:`what_if`: the shortcuts the UI's quick answers use;
* :func:`run_sql`: one read-only ``SELECT`` a person wrote, over views named after the
  datasets, with every other file, setting and extension locked away.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "sales.parquet"
>>> duckdb.sql(
...     "SELECT region, day, amount::DOUBLE AS amount FROM (VALUES ('north', '05/01/2024', 10),"
...     " ('south', '20/01/2024', 5.5), ('north', '03/02/2024', 2)) t(region, day, amount)"
... ).write_parquet(str(path))
>>> specs = [ColumnSpec("region", "VARCHAR", "category"),
...          ColumnSpec("day", "VARCHAR", "date", "strptime:%d/%m/%Y"),
...          ColumnSpec("amount", "DOUBLE", "float")]
>>> result = run_query(path, specs, Query(bucket=Bucket("day", "month"),
...                                       aggregates=[Aggregate("sum", "amount")]))
>>> result.columns, result.types, result.rows
(['day_month', 'sum_amount'], ['date', 'float'], [['2024-01-01', 15.5], ['2024-02-01', 2.0]])
>>> count(path, specs, [Filter("day", "ge", "2024-01-20")])
2
>>> run_sql({"sales": (path, specs)}, "SELECT region, max(day) AS last FROM sales "
...         "GROUP BY region ORDER BY region").rows
[['north', '2024-02-03'], ['south', '2024-01-20']]
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

from ._query_compile import (
    AGGREGATES,
    NUMERIC,
    OPS,
    UNITS,
    Aggregate,
    Bucket,
    Columns,
    Filter,
    Query,
    compile_query,
    where_sql,
)
from ._query_exec import (
    Limits,
    Result,
    create_view,
    jsonable,
    logical_type,
    session,
)
from .columns import ColumnSpec, quote_ident, quote_literal
from .errors import TableError

__all__ = [
    "AGGREGATES",
    "DEFAULT_MAX_ROWS",
    "OPS",
    "TABLE",
    "UNITS",
    "WHAT_IF_AGGREGATES",
    "Aggregate",
    "Bucket",
    "ColumnSpec",
    "Filter",
    "Limits",
    "Query",
    "Result",
    "count",
    "lock_down",
    "run_query",
    "run_sql",
    "single_select",
    "top_n",
    "what_if",
]

DEFAULT_MAX_ROWS = 10_000
"""The most rows one answer carries; ``Result.truncated`` says when it cut one short."""

TABLE = "dataset"
"""The view name structured queries read, so ``Result.sql`` shows no file path."""

WHAT_IF_AGGREGATES = ("sum", "mean", "median", "min", "max")

_SQL_AGG = {"sum": "sum", "mean": "avg", "median": "median", "min": "min", "max": "max"}


def run_query(
    path: Path,
    specs: list[ColumnSpec],
    query: Query,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    with_total: bool = True,
    limits: Limits = Limits(),
) -> Result:
    """Answer ``query`` over the dataset at ``path`` read through ``specs``.

    At most ``max_rows`` rows come back whatever ``query.limit`` asks. ``total`` counts
    the rows without limit and offset; it costs a second ``count(*)`` only when the
    first answer was cut short (never when ``with_total`` is false).
    """
    with session(limits, error_code="QUERY_FAILED", conversion_code="INVALID_FILTER") as con:
        used = create_view(con, TABLE, path, specs)
        plan = compile_query(TABLE, used, query)
        capped = query.limit is None or query.limit > max_rows
        take = int(max_rows) + 1 if capped else int(query.limit or 0)
        offset = int(query.offset)
        sql = f"{plan.sql} LIMIT {take}" + (f" OFFSET {offset}" if offset else "")
        cursor = con.execute(sql, plan.params)
        raw = cursor.fetchall()
        described = [str(d[1]) for d in cursor.description or []]
        total: int | None = None
        if len(raw) < take and (raw or not offset):
            total = offset + len(raw)
        elif with_total:
            counted = con.execute(f"SELECT count(*) FROM ({plan.sql}) AS q", plan.params)
            total = int(_one(counted))
    truncated = capped and len(raw) > max_rows
    types = [known or logical_type(d) for known, d in zip(plan.types, described, strict=True)]
    rows = [[jsonable(v) for v in row] for row in raw[:max_rows]]
    return Result(plan.columns, types, rows, total, truncated, sql)


def count(
    path: Path,
    specs: list[ColumnSpec],
    filters: list[Filter] | None = None,
    *,
    limits: Limits = Limits(),
) -> int:
    """How many rows hold every filter (the count-only answer)."""
    with session(limits, error_code="QUERY_FAILED", conversion_code="INVALID_FILTER") as con:
        used = create_view(con, TABLE, path, specs)
        where, params = where_sql(Columns(used), list(filters or []))
        return int(_one(con.execute(f"SELECT count(*) FROM {quote_ident(TABLE)}{where}", params)))


def top_n(
    path: Path,
    specs: list[ColumnSpec],
    column: str,
    n: int,
    filters: list[Filter] | None = None,
    descending: bool = True,
    *,
    limits: Limits = Limits(),
) -> Result:
    """The ``n`` rows with the largest (or smallest) ``column``; missing values last."""
    if n < 1:
        raise TableError("INVALID_QUERY", "'n' must be at least 1.")
    query = Query(
        filters=list(filters or []),
        order=[(column, "desc" if descending else "asc")],
        limit=n,
    )
    return run_query(path, specs, query, max_rows=max(n, DEFAULT_MAX_ROWS), limits=limits)


def what_if(
    path: Path,
    specs: list[ColumnSpec],
    column: str,
    percent: float,
    aggregate: str = "sum",
    group_by: list[str] | None = None,
    filters: list[Filter] | None = None,
    *,
    max_groups: int = 1_000,
    limits: Limits = Limits(),
) -> list[dict[str, Any]]:
    """``aggregate`` of ``column`` as it is and with every value scaled by
    ``1 + percent / 100``, per group (one entry without ``group_by``).

    Each entry: ``{"group": {key: value}, "column", "percent", "aggregate",
    "baseline", "altered", "change", "change_percent"}``; groups in key order, at most
    ``max_groups`` of them.
    """
    if aggregate not in WHAT_IF_AGGREGATES:
        raise TableError(
            "INVALID_AGGREGATE",
            f"A what-if takes one of {', '.join(WHAT_IF_AGGREGATES)}, not {aggregate!r}.",
            {"fn": aggregate},
        )
    if isinstance(percent, bool) or not isinstance(percent, int | float):
        raise TableError("INVALID_QUERY", "'percent' must be a number.")
    if not math.isfinite(percent):
        raise TableError("INVALID_QUERY", "'percent' must be a finite number.")
    with session(limits, error_code="QUERY_FAILED", conversion_code="INVALID_FILTER") as con:
        cols = Columns(create_view(con, TABLE, path, specs))
        spec = cols.get(column)
        if spec.type not in NUMERIC:
            raise TableError(
                "INVALID_AGGREGATE",
                f"A what-if scales a numeric column; {spec.name!r} is {spec.type}.",
                {"column": spec.name, "type": spec.type},
            )
        keys = [cols.get(g).name for g in group_by or []]
        where, params = where_sql(cols, list(filters or []))
        fn, col = _SQL_AGG[aggregate], quote_ident(spec.name)
        select = [quote_ident(k) for k in keys]
        select += [f"{fn}({col}) AS baseline", f"{fn}({col} * CAST(? AS DOUBLE)) AS altered"]
        ordinals = ", ".join(str(i + 1) for i in range(len(keys)))
        grouping = f" GROUP BY {ordinals} ORDER BY {ordinals}" if keys else ""
        sql = (
            f"SELECT {', '.join(select)} FROM {quote_ident(TABLE)}{where}{grouping}"
            f" LIMIT {int(max_groups)}"
        )
        raw = con.execute(sql, [1 + percent / 100, *params]).fetchall()
    return [_what_if_entry(keys, row, column, percent, aggregate) for row in raw]


def _what_if_entry(
    keys: list[str], row: tuple[Any, ...], column: str, percent: float, aggregate: str
) -> dict[str, Any]:
    baseline, altered = jsonable(row[len(keys)]), jsonable(row[len(keys) + 1])
    change = None if baseline is None or altered is None else altered - baseline
    share = None if change is None or not baseline else change / abs(baseline) * 100
    return {
        "group": {k: jsonable(v) for k, v in zip(keys, row, strict=False)},
        "column": column,
        "percent": percent,
        "aggregate": aggregate,
        "baseline": baseline,
        "altered": altered,
        "change": change,
        "change_percent": share,
    }


def single_select(sql: str) -> duckdb.Statement:
    """The one ``SELECT`` statement ``sql`` holds, or ``TableError``.

    >>> single_select("SELECT 1;").type.name
    'SELECT'
    >>> single_select("SELECT 1; DROP TABLE t")
    Traceback (most recent call last):
    augury.engines.tabular.errors.TableError: Only one statement may run at a time; this holds 2.
    >>> single_select("CONNECT")
    Traceback (most recent call last):
    augury.engines.tabular.errors.TableError: Only SELECT statements may run here, not UNKNOWN.
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise TableError("SQL_ERROR", str(exc).strip()) from exc
    if len(statements) != 1:
        raise TableError(
            "SQL_NOT_ALLOWED",
            f"Only one statement may run at a time; this holds {len(statements)}.",
            {"statements": len(statements)},
        )
    statement = statements[0]
    try:
        kind = statement.type.name
    except ValueError:  # a statement DuckDB's Python enum has no name for ("CONNECT")
        kind = "UNKNOWN"
    if kind != "SELECT":
        raise TableError(
            "SQL_NOT_ALLOWED",
            f"Only SELECT statements may run here, not {kind}.",
            {"statement": kind},
        )
    return statement


def run_sql(
    tables: dict[str, tuple[Path, list[ColumnSpec]]],
    sql: str,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    timeout_s: float = 10.0,
    limits: Limits = Limits(),
) -> Result:
    """Run one read-only ``SELECT`` over ``tables`` (name -> the dataset's Parquet file
    and specs), each a view of that name.

    Before the statement runs the connection may read only those files
    (``allowed_paths``), touches no other file (``enable_external_access=false``:
    no ``read_csv``, ``glob``, ``COPY``, ``ATTACH``, ``INSTALL``) and its settings are
    locked, so the statement can read the datasets and nothing else. It is stopped after
    ``timeout_s``; ``Result.total`` is only known when the answer was not cut short.
    """
    statement = single_select(sql)
    bounded = replace(limits, timeout_s=timeout_s)
    with session(bounded, error_code="SQL_ERROR") as con:
        lock_down(con, tables)
        relation = con.sql(statement.query)
        if relation is None:
            raise TableError("SQL_NOT_ALLOWED", "Only SELECT statements may run here.")
        columns = list(relation.columns)
        types = [logical_type(str(t)) for t in relation.types]
        raw = relation.limit(int(max_rows) + 1).fetchall()
    truncated = len(raw) > max_rows
    rows = [[jsonable(v) for v in row] for row in raw[:max_rows]]
    return Result(columns, types, rows, None if truncated else len(rows), truncated, sql)


def lock_down(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, tuple[Path, list[ColumnSpec]]],
    *,
    writable: list[str] | None = None,
) -> None:
    """Create a view per table, then allow ``con`` those files (and ``writable``, an
    export's destination) and nothing else, and lock its configuration."""
    paths: list[str] = list(writable or [])
    for name, (path, specs) in tables.items():
        if not name.strip():
            raise TableError("INVALID_TABLE_NAME", "A table needs a name.")
        resolved = str(Path(path).resolve())
        create_view(con, name, resolved, specs)
        paths.append(resolved)
    con.execute(f"SET allowed_paths=[{', '.join(quote_literal(p) for p in paths)}]")
    con.execute("SET enable_external_access=false")
    con.execute("SET lock_configuration=true")


def _one(cursor: duckdb.DuckDBPyConnection) -> Any:
    row = cursor.fetchone()
    return row[0] if row else 0
