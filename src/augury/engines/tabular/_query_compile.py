"""The structured query and its compilation to parameterised SQL.

The API validates a query's shape with pydantic and builds these dataclasses; this
module checks them against the dataset's columns (names, logical types) and writes
one ``SELECT`` over the dataset's view. Column names only ever enter the SQL through
:func:`~.columns.quote_ident` and values only as ``?`` parameters, so no user text is
ever formatted into a statement.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ._query_values import coerce
from .columns import ColumnSpec, quote_ident, sql_type
from .errors import TableError

OPS = (
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "between",
    "contains",
    "starts_with",
    "ends_with",
    "is_null",
    "not_null",
)
"""Filter operators. ``ne`` and ``not_in`` keep rows whose value is missing (a blank
is not equal to anything); the text operators are case-insensitive."""

AGGREGATES = ("count", "sum", "mean", "min", "max", "median", "distinct", "std", "corr")
"""Aggregate functions; ``distinct`` counts distinct values, ``std`` is the sample
standard deviation, ``corr`` Pearson's correlation of ``column`` and ``other``."""

UNITS = ("hour", "day", "week", "month", "quarter", "year")
"""Time buckets; weeks start on Monday (ISO)."""

NUMERIC = ("integer", "float", "decimal")
TEXT = ("string", "category")
MAX_IN_VALUES = 10_000

_COMPARE = {"eq": "=", "ne": "IS DISTINCT FROM", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_SQL_AGG = {
    "sum": "sum",
    "mean": "avg",
    "median": "median",
    "min": "min",
    "max": "max",
    "std": "stddev_samp",
}


@dataclass(frozen=True)
class Filter:
    """Keep the rows where ``column <op> value``.

    ``value`` is read as the column's logical type (``"2024-12-31"`` for a date
    column, ``"12"`` for an integer one); ``in``/``not_in`` take a list, ``between``
    a ``[low, high]`` pair (inclusive; ``None`` for an open end), ``is_null`` and
    ``not_null`` nothing.
    """

    column: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Aggregate:
    """One measure of a grouped query, named ``alias`` or ``<fn>_<column>``
    (``corr_<column>_<other>`` for a correlation)."""

    fn: str
    column: str | None = None
    alias: str | None = None
    other: str | None = None  # corr's second column

    @property
    def name(self) -> str:
        if self.alias:
            return self.alias
        if self.fn == "corr":
            return f"corr_{self.column}_{self.other}"
        return self.fn if self.column is None else f"{self.fn}_{self.column}"


@dataclass(frozen=True)
class Bucket:
    """A date or datetime column truncated to ``unit``, as a group key ``<column>_<unit>``."""

    column: str
    unit: str

    @property
    def name(self) -> str:
        return f"{self.column}_{self.unit}"


@dataclass
class Query:
    """A structured query. Without ``group_by``, ``aggregates`` or ``bucket`` it selects
    rows (``select`` names the columns, all by default); with them it returns one row
    per group: the bucket, the ``group_by`` columns, then the aggregates, ordered by
    the keys unless ``order`` says otherwise.
    """

    select: list[str] | None = None
    filters: list[Filter] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)
    aggregates: list[Aggregate] = field(default_factory=list)
    bucket: Bucket | None = None
    order: list[tuple[str, str]] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0

    @property
    def grouped(self) -> bool:
        return bool(self.group_by or self.aggregates or self.bucket)


@dataclass
class Compiled:
    """A query as SQL without LIMIT/OFFSET, its parameters, and its output columns'
    logical types where the dataset fixes them (``None``: read from the result)."""

    sql: str
    params: list[Any]
    columns: list[str]
    types: list[str | None]


class Columns:
    """The dataset's columns by name, for lookups that suggest close names."""

    def __init__(self, specs: list[ColumnSpec]):
        self.by_name = {s.name: s for s in specs}

    def get(self, name: str) -> ColumnSpec:
        spec = self.by_name.get(name)
        if spec is None:
            raise unknown_column(name, list(self.by_name))
        return spec


def unknown_column(name: str, names: list[str]) -> TableError:
    """``UNKNOWN_COLUMN`` naming up to three close matches.

    >>> unknown_column("revnue", ["revenue", "region"]).details
    {'column': 'revnue', 'suggestions': ['revenue']}
    """
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return TableError(
        "UNKNOWN_COLUMN",
        f"There is no column {name!r}.{hint}",
        {"column": name, "suggestions": close},
    )


def compile_query(table: str, specs: list[ColumnSpec], query: Query) -> Compiled:
    """``query`` as one ``SELECT`` over the view ``table``.

    >>> specs = [ColumnSpec("day", "DATE", "date"), ColumnSpec("sales", "DOUBLE", "float")]
    >>> q = Query(filters=[Filter("day", "ge", "2024-01-01")],
    ...           aggregates=[Aggregate("sum", "sales")], bucket=Bucket("day", "month"))
    >>> c = compile_query("dataset", specs, q)
    >>> print(c.sql)
    SELECT CAST(date_trunc('month', "day") AS DATE) AS "day_month", sum("sales") AS "sum_sales"
    FROM "dataset" WHERE "day" >= CAST(? AS DATE) GROUP BY 1 ORDER BY 1 ASC NULLS LAST
    >>> c.params, c.columns
    ([datetime.date(2024, 1, 1)], ['day_month', 'sum_sales'])
    """
    cols = Columns(specs)
    where, params = where_sql(cols, query.filters)
    _check_window(query)
    if query.grouped:
        select, names, types, n_keys = _grouped_select(cols, query)
        group = f" GROUP BY {', '.join(str(i + 1) for i in range(n_keys))}" if n_keys else ""
        default_order = [(n, "asc") for n in names[:n_keys]]
        order = _order_sql(query.order or default_order, names, names)
    else:
        chosen = list(specs) if query.select is None else [cols.get(c) for c in query.select]
        if not chosen:
            raise TableError("INVALID_QUERY", "The query selects no column.")
        select = [quote_ident(s.name) for s in chosen]
        names = [s.name for s in chosen]
        types = [s.type for s in chosen]
        group = ""
        order = _order_sql(query.order, names, list(cols.by_name))
    sql = f"SELECT {', '.join(select)}\nFROM {quote_ident(table)}{where}{group}{order}"
    return Compiled(sql, params, names, types)


def where_sql(cols: Columns, filters: list[Filter]) -> tuple[str, list[Any]]:
    """`` WHERE ...`` for ``filters`` (all must hold), or ``""``, and its parameters."""
    parts: list[str] = []
    params: list[Any] = []
    for f in filters:
        sql, values = filter_sql(cols.get(f.column), f)
        parts.append(sql)
        params.extend(values)
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


def filter_sql(spec: ColumnSpec, f: Filter) -> tuple[str, list[Any]]:
    """One filter as a condition on ``spec``'s column and its parameters.

    >>> filter_sql(ColumnSpec("n", "BIGINT", "integer"), Filter("n", "in", ["1", 2]))
    ('"n" IN (CAST(? AS BIGINT), CAST(? AS BIGINT))', [1, 2])
    >>> filter_sql(ColumnSpec("s", "VARCHAR", "string"), Filter("s", "contains", "50%"))
    ('"s" ILIKE ? ESCAPE \\'\\\\\\'', ['%50\\\\%%'])
    """
    col = quote_ident(spec.name)
    op = f.op
    if op == "is_null":
        return f"{col} IS NULL", []
    if op == "not_null":
        return f"{col} IS NOT NULL", []
    if op in ("contains", "starts_with", "ends_with"):
        return _text_filter(spec, f)
    if op in _COMPARE:
        value = coerce(spec, f.value, op)
        return f"{col} {_COMPARE[op]} {_placeholder(spec, value)}", [value]
    if op in ("in", "not_in"):
        values = _list_value(f, spec)
        holders = ", ".join(_placeholder(spec, v) for v in values)
        if op == "in":
            return f"{col} IN ({holders})", values
        return f"({col} IS NULL OR {col} NOT IN ({holders}))", values
    if op == "between":
        return _between(spec, f)
    raise TableError(
        "INVALID_FILTER",
        f"Unknown filter operator {op!r}; one of {', '.join(OPS)}.",
        {"column": f.column, "op": op},
    )


def _text_filter(spec: ColumnSpec, f: Filter) -> tuple[str, list[Any]]:
    if spec.type not in TEXT:
        raise _bad_filter(f, f"{f.op!r} applies to text columns; {spec.name!r} is {spec.type}.")
    if not isinstance(f.value, str):
        raise _bad_filter(f, f"{f.op!r} needs a text value.")
    escaped = f.value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = {
        "contains": f"%{escaped}%",
        "starts_with": f"{escaped}%",
        "ends_with": f"%{escaped}",
    }[f.op]
    return f"{quote_ident(spec.name)} ILIKE ? ESCAPE '\\'", [pattern]


def _list_value(f: Filter, spec: ColumnSpec) -> list[Any]:
    if not isinstance(f.value, list | tuple) or not f.value:
        raise _bad_filter(f, f"{f.op!r} needs a non-empty list of values.")
    if len(f.value) > MAX_IN_VALUES:
        raise _bad_filter(f, f"{f.op!r} takes at most {MAX_IN_VALUES} values.")
    return [coerce(spec, v, f.op) for v in f.value]


def _between(spec: ColumnSpec, f: Filter) -> tuple[str, list[Any]]:
    if not isinstance(f.value, list | tuple) or len(f.value) != 2:
        raise _bad_filter(f, "'between' needs a [low, high] pair.")
    col = quote_ident(spec.name)
    parts: list[str] = []
    params: list[Any] = []
    for bound, sign in zip(f.value, (">=", "<="), strict=True):
        if bound is None:
            continue
        value = coerce(spec, bound, f.op)
        parts.append(f"{col} {sign} {_placeholder(spec, value)}")
        params.append(value)
    if not parts:
        raise _bad_filter(f, "'between' needs at least one bound.")
    return "(" + " AND ".join(parts) + ")", params


def _placeholder(spec: ColumnSpec, value: Any) -> str:
    if spec.type == "integer" and isinstance(value, float):
        return "CAST(? AS DOUBLE)"
    return f"CAST(? AS {sql_type(spec.type)})"


def _bad_filter(f: Filter, message: str) -> TableError:
    return TableError("INVALID_FILTER", message, {"column": f.column, "op": f.op})


def aggregate_sql(cols: Columns, agg: Aggregate) -> tuple[str, str | None]:
    """An aggregate's SQL expression and, where the column fixes it, its logical type."""
    if agg.fn not in AGGREGATES:
        raise TableError(
            "INVALID_AGGREGATE",
            f"Unknown aggregate {agg.fn!r}; one of {', '.join(AGGREGATES)}.",
            {"fn": agg.fn},
        )
    if agg.column is None:
        if agg.fn != "count":
            raise TableError("INVALID_AGGREGATE", f"{agg.fn!r} needs a column.", {"fn": agg.fn})
        return "count(*)", "integer"
    spec = cols.get(agg.column)
    col = quote_ident(spec.name)
    if agg.fn == "count":
        return f"count({col})", "integer"
    if agg.fn == "distinct":
        return f"count(DISTINCT {col})", "integer"
    if (agg.other is not None) != (agg.fn == "corr"):
        raise TableError(
            "INVALID_AGGREGATE",
            "'corr', and only 'corr', takes a second column ('other').",
            {"fn": agg.fn},
        )
    if agg.fn in ("sum", "mean", "median", "std", "corr") and spec.type not in NUMERIC:
        raise _not_numeric(agg, spec)
    if agg.fn == "corr":
        other = cols.get(str(agg.other))
        if other.type not in NUMERIC:
            raise _not_numeric(agg, other)
        return f"corr(CAST({col} AS DOUBLE), CAST({quote_ident(other.name)} AS DOUBLE))", "float"
    if agg.fn == "std":
        return f"stddev_samp(CAST({col} AS DOUBLE))", "float"
    kept = {"min": spec.type, "max": spec.type, "sum": spec.type, "mean": "float"}.get(agg.fn)
    return f"{_SQL_AGG[agg.fn]}({col})", kept


def _not_numeric(agg: Aggregate, spec: ColumnSpec) -> TableError:
    return TableError(
        "INVALID_AGGREGATE",
        f"{agg.fn!r} needs a numeric column; {spec.name!r} is {spec.type}.",
        {"fn": agg.fn, "column": spec.name, "type": spec.type},
    )


def bucket_sql(cols: Columns, bucket: Bucket) -> tuple[str, str]:
    """The bucket's group-key expression and its logical type."""
    spec = cols.get(bucket.column)
    if bucket.unit not in UNITS:
        raise TableError(
            "INVALID_BUCKET",
            f"Unknown time bucket {bucket.unit!r}; one of {', '.join(UNITS)}.",
            {"unit": bucket.unit},
        )
    if spec.type not in ("date", "datetime") or (spec.type == "date" and bucket.unit == "hour"):
        raise TableError(
            "INVALID_BUCKET",
            f"Column {spec.name!r} ({spec.type}) cannot be bucketed by {bucket.unit}.",
            {"column": spec.name, "unit": bucket.unit, "type": spec.type},
        )
    expr = f"date_trunc('{bucket.unit}', {quote_ident(spec.name)})"
    if spec.type == "date":
        return f"CAST({expr} AS DATE)", "date"
    return expr, "datetime"


def _grouped_select(
    cols: Columns, query: Query
) -> tuple[list[str], list[str], list[str | None], int]:
    if query.select:
        raise TableError(
            "INVALID_QUERY",
            "'select' applies to row queries; a grouped query returns its keys and aggregates.",
        )
    select: list[str] = []
    names: list[str] = []
    types: list[str | None] = []

    def add(expr: str, name: str, logical: str | None) -> None:
        if name in names:
            raise TableError(
                "INVALID_AGGREGATE",
                f"Two output columns are named {name!r}; give one an alias.",
                {"name": name},
            )
        select.append(f"{expr} AS {quote_ident(name)}")
        names.append(name)
        types.append(logical)

    if query.bucket is not None:
        expr, logical = bucket_sql(cols, query.bucket)
        add(expr, query.bucket.name, logical)
    for name in query.group_by:
        spec = cols.get(name)
        add(quote_ident(spec.name), spec.name, spec.type)
    n_keys = len(names)
    for agg in query.aggregates:
        expr, kept = aggregate_sql(cols, agg)
        add(expr, agg.name, kept)
    return select, names, types, n_keys


def _order_sql(order: list[tuple[str, str]], outputs: list[str], allowed: list[str]) -> str:
    parts: list[str] = []
    for name, direction in order:
        if name not in allowed:
            raise unknown_column(name, allowed)
        if direction not in ("asc", "desc"):
            raise TableError(
                "INVALID_QUERY", f"Order direction {direction!r} is neither 'asc' nor 'desc'."
            )
        key = str(outputs.index(name) + 1) if name in outputs else quote_ident(name)
        parts.append(f"{key} {direction.upper()} NULLS LAST")
    return " ORDER BY " + ", ".join(parts) if parts else ""


def _check_window(query: Query) -> None:
    if query.limit is not None and query.limit < 0:
        raise TableError("INVALID_QUERY", "'limit' must be zero or more.")
    if query.offset < 0:
        raise TableError("INVALID_QUERY", "'offset' must be zero or more.")
