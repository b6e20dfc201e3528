"""Logical columns over physical Parquet: how a stored column is read as its type.

A dataset's Parquet file keeps the types the reader found (``BIGINT``, ``DOUBLE``,
``VARCHAR``, ``DATE``...). The profile decides each column's *logical* type, one of
:data:`TYPES`, and where the stored values are text (``"31/12/2024"``, ``"$1,200"``)
how to read them (a :class:`ColumnSpec`'s ``parse``). Queries, exports and models read
the dataset through :func:`view_sql`, so a type the user overrides applies everywhere
without rewriting the file.

``parse`` is one of:

* ``None``: the stored value is used as it is (cast to the logical type if they differ);
* ``"strptime:<format>"``: text read as a date or datetime with a DuckDB ``strptime``
  format (``"strptime:%d/%m/%Y"``);
* ``"epoch_s"`` / ``"epoch_ms"``: numbers read as seconds or milliseconds since 1970;
* ``"number"``: text read as a number once currency signs, thousands separators,
  percent signs and spaces are removed (``"$1,200.50"`` -> 1200.5);
* ``"boolean"``: text read as a boolean (true/false, yes/no, y/n, 1/0, t/f);
* ``"iso_duration"``: text read as an ISO 8601 duration (``PT5M``, ``P1DT2H``).

A value that does not parse becomes NULL (``TRY_``), never an error: one odd cell must
not stop a query over ten million rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TYPES = (
    "integer",
    "float",
    "decimal",
    "boolean",
    "string",
    "category",
    "date",
    "datetime",
    "duration",
)
"""The logical types, as the API, the CLI and the profile name them."""

_SQL_TYPE = {
    "integer": "BIGINT",
    "float": "DOUBLE",
    "decimal": "DECIMAL(38, 10)",
    "boolean": "BOOLEAN",
    "string": "VARCHAR",
    "category": "VARCHAR",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "duration": "INTERVAL",
}

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its name, its stored (DuckDB) type, its logical type, how to parse.

    ``scale`` multiplies a numeric column's values as it is read (a what-if: ``1.1`` reads
    every value 10% higher) and makes it a ``float``.
    """

    name: str
    physical: str
    type: str
    parse: str | None = None
    scale: float | None = None


def quote_ident(name: str) -> str:
    """A column or table name as a DuckDB identifier, whatever it holds.

    >>> quote_ident('net "eur" sales')
    '"net ""eur"" sales"'
    """
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A string as a SQL literal.

    >>> quote_literal("O'Brien")
    "'O''Brien'"
    """
    return "'" + value.replace("'", "''") + "'"


def sql_type(logical: str) -> str:
    """The DuckDB type a logical type is read as.

    >>> sql_type("datetime")
    'TIMESTAMP'
    """
    try:
        return _SQL_TYPE[logical]
    except KeyError:
        raise ValueError(f"unknown column type {logical!r}; one of {', '.join(TYPES)}") from None


def logical_expr(spec: ColumnSpec) -> str:
    """The SQL expression that reads ``spec``'s stored column as its logical type (and
    scaled, when ``spec.scale`` is set).

    >>> logical_expr(ColumnSpec("units", "BIGINT", "float", scale=1.1))
    'CAST(TRY_CAST("units" AS DOUBLE) AS DOUBLE) * 1.1'
    """
    expr = _read_expr(spec)
    if spec.scale is None:
        return expr
    if not math.isfinite(spec.scale):
        raise ValueError("scale must be a finite number")
    return f"CAST({expr} AS DOUBLE) * {float(spec.scale)!r}"


def _read_expr(spec: ColumnSpec) -> str:
    r"""The SQL expression that reads ``spec``'s stored column as its logical type.

    >>> logical_expr(ColumnSpec("day", "VARCHAR", "date", "strptime:%d/%m/%Y"))
    'TRY_CAST(TRY_STRPTIME("day", \'%d/%m/%Y\') AS DATE)'
    >>> logical_expr(ColumnSpec("n", "BIGINT", "integer"))
    '"n"'
    >>> logical_expr(ColumnSpec("ts", "BIGINT", "datetime", "epoch_ms"))
    'TRY_CAST(epoch_ms(TRY_CAST("ts" AS BIGINT)) AS TIMESTAMP)'
    """
    col = quote_ident(spec.name)
    target = sql_type(spec.type)
    parse = spec.parse
    if parse is None:
        if _same_type(spec.physical, target):
            return col
        return f"TRY_CAST({col} AS {target})"
    if parse.startswith("strptime:"):
        fmt = quote_literal(parse.removeprefix("strptime:"))
        return f"TRY_CAST(TRY_STRPTIME({col}, {fmt}) AS {target})"
    if parse == "epoch_s":
        return f"TRY_CAST(to_timestamp(TRY_CAST({col} AS DOUBLE)) AS {target})"
    if parse == "epoch_ms":
        return f"TRY_CAST(epoch_ms(TRY_CAST({col} AS BIGINT)) AS {target})"
    if parse == "number":
        cleaned = f"regexp_replace(CAST({col} AS VARCHAR), '[\\s,$€£¥%]', '', 'g')"
        return f"TRY_CAST({cleaned} AS {target})"
    if parse == "iso_duration":
        return _iso_duration(col)
    if parse == "boolean":
        low = f"lower(trim(CAST({col} AS VARCHAR)))"
        trues = ", ".join(quote_literal(v) for v in _TRUE)
        falses = ", ".join(quote_literal(v) for v in _FALSE)
        return f"CASE WHEN {low} IN ({trues}) THEN TRUE WHEN {low} IN ({falses}) THEN FALSE END"
    raise ValueError(f"unknown parse {parse!r}")


_NUM = r"(\d+(?:\.\d+)?)"
_ISO_DURATION = (
    rf"^P(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?$"
)
_ISO_UNITS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")


def _iso_duration(col: str) -> str:
    """ISO 8601 durations (``PT5M``, ``P1DT2H``) as intervals: each part found by one
    regular expression becomes ``<n> <unit>`` text that DuckDB casts."""
    text = f"upper(trim(CAST({col} AS VARCHAR)))"
    pattern = quote_literal(_ISO_DURATION)
    parts = []
    for group, unit in enumerate(_ISO_UNITS, start=1):
        part = f"regexp_extract({text}, {pattern}, {group})"
        parts.append(f"CASE WHEN {part} <> '' THEN {part} || ' {unit}' END")
    joined = f"concat_ws(' ', {', '.join(parts)})"
    return (
        f"CASE WHEN regexp_full_match({text}, {pattern}) AND {text} NOT IN ('P', 'PT') "
        f"THEN TRY_CAST({joined} AS INTERVAL) END"
    )


def view_sql(source: str, specs: list[ColumnSpec]) -> str:
    """A ``SELECT`` over ``source`` (a table expression such as
    ``read_parquet('/x.parquet')``) giving every column its logical type, under its name.

    >>> print(view_sql("t", [ColumnSpec("a", "BIGINT", "float"), ColumnSpec("b", "DATE", "date")]))
    SELECT TRY_CAST("a" AS DOUBLE) AS "a", "b" AS "b" FROM t
    """
    if not specs:
        return f"SELECT * FROM {source}"
    cols = ", ".join(f"{logical_expr(s)} AS {quote_ident(s.name)}" for s in specs)
    return f"SELECT {cols} FROM {source}"


def _same_type(physical: str, target: str) -> bool:
    p = physical.upper()
    if target == "BIGINT":
        return p in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER")
    if target.startswith("DECIMAL"):
        # Money the reader stored as DOUBLE ("12.50") stays DOUBLE: casting every row to
        # DECIMAL(38, 10) would double a group-by's time for no visible difference.
        return p.startswith("DECIMAL") or p in ("DOUBLE", "FLOAT", "REAL")
    if target == "TIMESTAMP":
        return p.startswith("TIMESTAMP")
    return p == target


def logical_of(physical: str) -> str:
    """The logical type a stored column has before any profiling: what the reader found.

    >>> [logical_of(t) for t in ("BIGINT", "DOUBLE", "DECIMAL(18,2)", "VARCHAR", "TIMESTAMP")]
    ['integer', 'float', 'decimal', 'string', 'datetime']
    """
    p = physical.upper()
    if _same_type(p, "BIGINT") or p in ("USMALLINT", "UTINYINT"):
        return "integer"
    if p in ("DOUBLE", "FLOAT", "REAL"):
        return "float"
    if p.startswith("DECIMAL"):
        return "decimal"
    if p == "BOOLEAN":
        return "boolean"
    if p == "DATE":
        return "date"
    if p.startswith("TIMESTAMP"):
        return "datetime"
    if p == "INTERVAL":
        return "duration"
    return "string"
