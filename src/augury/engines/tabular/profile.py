"""A table's profile: each column's logical type, statistics and semantic hint, and one
data-quality score, computed with DuckDB over the dataset's Parquet file.

Nothing is loaded into Python memory but aggregates: ten million rows take a handful of
scans (a reservoir sample, one aggregate pass over every column, one pass for the
histograms and outliers, one ``GROUP BY`` per text column for its top values, one hash
pass for duplicate rows).

**Types** are inferred on a sample (:data:`SAMPLE_SIZE` rows, ``REPEATABLE``) and then
checked on every row. A text column takes the first type, in this order, that the most
non-empty values parse as: integer, float/decimal, number with signs (``"$1,200"``,
``"45%"``: parse ``number``), boolean (true/false, yes/no, y/n, t/f), date (ISO, then
day-first, then month-first layouts, except with ``/`` where month-first comes first:
``12/31/2024``; the strptime format that parses the most values wins, so a column with
one day above 12 settles the order), datetime (ISO cast, then strptime layouts),
duration (``01:02:03``, ``3 days``). Text with leading zeros (``"02134"``) stays text.
A decimal is a number written with the same count of decimals on every value and a
trailing zero somewhere (``"12.50"``), a DuckDB ``DECIMAL``, or a ``DOUBLE`` whose
values all have two decimals at most, some exactly two (cents: ``12.25``, ``3.5``).
An integer column named like a time (``ts``, ``created_at``, ``timestamp``...) whose
values fall in 1990..2100 as seconds or milliseconds since 1970 is a datetime (parse
``epoch_s`` / ``epoch_ms``).
A text column stays ``string`` unless at least :data:`TYPE_MIN_SHARE` of its values
parse; it is ``mixed`` when at least 80% parse but not enough (booleans aside: y/n are
also one-letter codes), or when more than :data:`MIXED_TOLERANCE` of the values of the
type it got do not read as it. A ``string`` column becomes ``category`` when
it has at most :data:`CATEGORY_MAX_DISTINCT` distinct values and at most
:data:`CATEGORY_MAX_SHARE` of its non-empty rows are distinct values.

**Statistics**: ``nulls`` counts missing cells (empty or blank text counts as missing),
``invalid`` the cells present that do not read as the column's type; ``unique`` is
exact up to :data:`EXACT_LIMIT` rows, a HyperLogLog estimate above it
(``unique_approx``). ``median`` and the quartiles are exact up to the same limit,
t-digest estimates above. ``outliers`` counts the numbers outside
``[Q1 - 3 IQR, Q3 + 3 IQR]`` (none when the IQR is 0: a column of mostly one value has
no spread to measure against). Dates are ISO strings, durations seconds.

**Quality score** (:data:`QUALITY_WEIGHTS`, also in docs/data-quality.md), in 0..1,
rounded to 3 places::

    score = 0.4 * completeness      mean share of non-missing cells over columns
          + 0.2 * row_uniqueness    1 - duplicate rows / rows
          + 0.2 * validity          1 - invalid cells / present cells
          + 0.1 * consistency       1 - (constant or mixed columns) / columns
          + 0.1 * (1 - outlier_share)   outlier cells / numeric cells present

A table without rows scores 0. Duplicate rows are ``rows - count(DISTINCT hash(all
columns))``: exact but for 64-bit hash collisions (about one chance in 10^5 of a single
false duplicate among ten million distinct rows).

>>> import duckdb, tempfile, os
>>> folder = tempfile.mkdtemp()
>>> path = os.path.join(folder, "t.parquet")
>>> _ = duckdb.execute(
...     "COPY (SELECT range AS id, strftime(DATE '2024-01-01' + range::INT, '%d/%m/%Y')"
...     " AS day, ['red', 'blue'][range % 2 + 1] AS colour FROM range(100))"
...     f" TO '{path}' (FORMAT parquet)")
>>> result = profile(path)
>>> for c in result["columns"]:
...     print(c["name"], c["type"], c["parse"], c["semantic"])
id integer None identifier
day date strptime:%d/%m/%Y None
colour category None None
>>> result["columns"][1]["min"], result["quality"]["score"]
('2024-01-01', 1.0)
>>> [s.type for s in specs(result)]
['integer', 'date', 'category']
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from augury.engines.tabular._profile_countries import COUNTRIES
from augury.engines.tabular.columns import (
    TYPES,
    ColumnSpec,
    logical_expr,
    quote_ident,
    quote_literal,
)
from augury.engines.tabular.errors import TableError

from ._duckdb import connect as duck_connect

__all__ = [
    "CATEGORY_MAX_DISTINCT",
    "CATEGORY_MAX_SHARE",
    "EXACT_LIMIT",
    "QUALITY_WEIGHTS",
    "SAMPLE_SIZE",
    "profile",
    "specs",
]

SAMPLE_SIZE = 50_000
"""Rows in the reservoir sample that types and semantic hints are inferred on."""
EXACT_LIMIT = 1_000_000
"""Up to this many rows, distinct counts and quantiles are exact."""
CATEGORY_MAX_DISTINCT = 50
CATEGORY_MAX_SHARE = 0.05
TYPE_MIN_SHARE = 0.95
"""Share of a text column's values that must parse for it to take a type."""
MIXED_MIN_SHARE = 0.8
MIXED_TOLERANCE = 0.01
SEMANTIC_MIN_SHARE = 0.9

COLUMN_CHUNK = 64
"""Most columns profiled together: one sample table and one aggregate pass per chunk."""

EXACT_CELLS = 8_000_000
"""Most cells one pass counts distinct values of exactly (a hash table per column, which
DuckDB cannot spill): 8 columns of a million rows fit the 512 MB default."""
HIGH_NULLS = 0.5
OUTLIER_IQR = 3.0
BINS = 20
TOP = 10
SAMPLES = 5
_CANDIDATE_TOP = 50
_HIGH_CARDINALITY_TOP = 100_000

QUALITY_WEIGHTS = {
    "completeness": 0.4,
    "row_uniqueness": 0.2,
    "validity": 0.2,
    "consistency": 0.1,
    "outliers": 0.1,
}
"""The quality score's weights; each component is a share in 0..1 where 1 is best."""

Progress = Callable[[float, str], None]

_NUMERIC = ("integer", "float", "decimal")
_TEXTUAL = ("string", "category")
_INTEGER_PHYSICAL = (
    "BIGINT",
    "INTEGER",
    "SMALLINT",
    "TINYINT",
    "HUGEINT",
    "UBIGINT",
    "UINTEGER",
    "USMALLINT",
    "UTINYINT",
    "UHUGEINT",
)
_FLOAT_PHYSICAL = ("DOUBLE", "FLOAT", "REAL")
_BOOL_WORDS = ("true", "false", "t", "f", "yes", "no", "y", "n")

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d.%m.%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%a, %d %b %Y",
)
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%b %d, %Y %H:%M:%S",
    "%b %d, %Y %I:%M %p",
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%d/%b/%Y:%H:%M:%S %z",
    "%a, %d %b %Y %H:%M:%S %z",
)

_INT_RE = r"\s*[+-]?[0-9]+\s*"
_LEADING_ZERO_RE = r"\s*0[0-9]+\s*"
_FLOAT_RE = r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*"
_NUMBER_RE = (
    r"\s*[+-]?\s*[$€£¥]?\s*[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?\s*%?\s*"
    r"|\s*[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?\s*[$€£¥%]\s*"
)
_DURATION_RE = (
    r"\s*[0-9]+:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*"
    r"|\s*([0-9]+(\.[0-9]+)?\s*(year|month|week|day|hour|minute|min|second|sec|ms|"
    r"millisecond|microsecond|us)s?\s*,?\s*)+([0-9]+:[0-9]{2}(:[0-9]{2})?)?\s*"
)
_ISO_DURATION_RE = r"P([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9.]+S)?)?"
_EMAIL_RE = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
_URL_RE = r"(https?|ftp)://[^\s]+|www\.[^\s]+\.[^\s]+"
_UUID_RE = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
_PHONE_RE = r"\+?[0-9 ().-]{7,20}"
_POSTAL_RE = (
    r"[0-9]{5}(-[0-9]{4})?|[0-9]{4}"
    r"|[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}"
    r"|[A-Za-z][0-9][A-Za-z] ?[0-9][A-Za-z][0-9]"
)

_EPOCH_LOW = dt.datetime(1990, 1, 1, tzinfo=dt.UTC).timestamp()
_EPOCH_HIGH = dt.datetime(2100, 1, 1, tzinfo=dt.UTC).timestamp()

_ID_WORDS = {"id", "uuid", "guid", "key", "pk", "identifier"}
_TIME_WORDS = {
    "ts",
    "time",
    "timestamp",
    "date",
    "datetime",
    "epoch",
    "created",
    "updated",
    "modified",
    "at",
    "when",
    "unix",
}
_MONEY_WORDS = {
    "price",
    "amount",
    "revenue",
    "cost",
    "costs",
    "sales",
    "salary",
    "fee",
    "fees",
    "total",
    "subtotal",
    "income",
    "balance",
    "payment",
    "usd",
    "eur",
    "gbp",
    "profit",
    "spend",
    "budget",
}
_PERCENT_WORDS = {"pct", "percent", "percentage", "rate", "ratio", "share"}
_LAT_WORDS = {"lat", "latitude"}
_LON_WORDS = {"lon", "lng", "long", "longitude"}
_PHONE_WORDS = {"phone", "tel", "telephone", "mobile", "cell", "fax"}
_POSTAL_WORDS = {"zip", "zipcode", "postal", "postcode", "postalcode"}
_COUNTRY_WORDS = {"country", "nation", "cc", "iso"}


@dataclass
class _Column:
    """What the profile learns about one column, step by step."""

    name: str
    physical: str
    type: str = "string"
    parse: str | None = None
    override: str | None = None
    mixed: bool = False
    counts: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ident(self) -> str:
        return quote_ident(self.name)

    @property
    def text(self) -> bool:
        return self.physical.upper() == "VARCHAR"

    @property
    def spec(self) -> ColumnSpec:
        return ColumnSpec(self.name, self.physical, self.type, self.parse)

    @property
    def words(self) -> set[str]:
        return _words(self.name)


def profile(
    path: Path | str,
    *,
    overrides: dict[str, str] | None = None,
    progress: Progress | None = None,
    sample_size: int = SAMPLE_SIZE,
    memory_limit: str = "512MB",
    threads: int = 2,
) -> dict:
    """Profile the Parquet file at ``path``: a JSON-able dict (see the module docstring).

    ``overrides`` maps a column to the logical type the user wants: the profile then
    finds how to read the stored values as that type. A column the file lacks is
    ignored (a new version of a dataset may drop it); an unknown type raises
    :class:`TableError` ``INVALID_TYPE``. ``progress(percent, message)`` is called
    between the steps.
    """
    wanted = _check_overrides(overrides or {})
    report = progress or (lambda percent, message: None)
    with tempfile.TemporaryDirectory(prefix="augury-profile-") as spill:
        con = _connect(memory_limit, threads, spill)
        try:
            return _profile(con, Path(path), wanted, report, sample_size)
        finally:
            con.close()


def specs(profile: dict) -> list[ColumnSpec]:
    """The columns to read a profiled table through (:func:`.columns.view_sql`).

    >>> [spec] = specs({"columns": [{"name": "d", "physical": "VARCHAR", "type": "date",
    ...                              "parse": "strptime:%d/%m/%Y"}]})
    >>> spec.name, spec.type, spec.parse
    ('d', 'date', 'strptime:%d/%m/%Y')
    """
    return [
        ColumnSpec(c["name"], c["physical"], c["type"], c.get("parse")) for c in profile["columns"]
    ]


def _check_overrides(overrides: dict[str, str]) -> dict[str, str]:
    for column, wanted in overrides.items():
        if wanted not in TYPES:
            raise TableError(
                "INVALID_TYPE",
                f"Unknown type {wanted!r} for column {column!r}; one of {', '.join(TYPES)}.",
                {"column": column, "type": wanted, "types": list(TYPES)},
            )
    return dict(overrides)


def _connect(memory_limit: str, threads: int, spill: str) -> duckdb.DuckDBPyConnection:
    con = duck_connect()
    con.execute(f"SET memory_limit={quote_literal(memory_limit)}")
    con.execute(f"SET threads={int(threads)}")
    con.execute("SET preserve_insertion_order=false")
    # Every pass reads the same file: parse its footer once (ten thousand columns' worth
    # of metadata takes a fifth of a second to parse).
    con.execute("SET parquet_metadata_cache=true")
    con.execute(f"SET temp_directory={quote_literal(spill)}")
    return con


def _profile(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    overrides: dict[str, str],
    report: Progress,
    sample_size: int,
) -> dict:
    source = f"read_parquet({quote_literal(str(path))})"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        raise TableError("UNREADABLE_FILE", f"Cannot read the table: {exc}") from exc
    columns = [_Column(str(row[0]), str(row[1])) for row in described]
    rows = int(con.execute(f"SELECT count(*) FROM {source}").fetchone()[0])  # type: ignore[index]
    size = COLUMN_CHUNK
    if 0 < rows <= EXACT_LIMIT:
        size = max(1, min(COLUMN_CHUNK, EXACT_CELLS // rows))
    chunks = [columns[i : i + size] for i in range(0, len(columns), size)]
    duplicates = 0
    for n, chunk in enumerate(chunks):
        # A wide table is profiled a chunk of columns at a time: DuckDB gives each column
        # of a table its own buffers, so ten thousand at once do not fit the memory limit.
        def step(pct: float, message: str, n: int = n) -> None:
            if len(chunks) > 1:
                message = f"{message} (columns {n * size + 1} of {len(columns)})"
            report(5.0 + (n + pct / 100.0) * 90.0 / len(chunks), message)

        single = len(chunks) == 1
        duplicates = _profile_columns(
            con, source, chunk, rows, overrides, step, sample_size, single
        )
    if len(chunks) > 1:
        duplicates = _duplicate_rows(con, source, columns, rows)
    report(95.0, "scoring quality")
    quality = _quality(columns, rows, duplicates)
    report(100.0, "done")
    return {"rows": rows, "columns": [_column_json(col) for col in columns], "quality": quality}


def _profile_columns(
    con: duckdb.DuckDBPyConnection,
    source: str,
    columns: list[_Column],
    rows: int,
    overrides: dict[str, str],
    report: Progress,
    sample_size: int,
    with_duplicates: bool,
) -> int:
    """Types, statistics, distributions, top values, samples and hints of ``columns``;
    returns the duplicate rows when ``with_duplicates`` (then ``columns`` is every column)."""
    report(0.0, "sampling rows")
    picked = ", ".join(col.ident for col in columns)
    con.execute("DROP TABLE IF EXISTS sample")
    con.execute(
        f"CREATE TEMP TABLE sample AS SELECT {picked} FROM {source} "
        f"USING SAMPLE reservoir({max(int(sample_size), 1)} ROWS) REPEATABLE (42)"
    )
    report(15.0, "inferring column types")
    _sample_counts(con, columns)
    for col in columns:
        _infer(col)
        if col.name in overrides:
            _apply_override(col, overrides[col.name])
    report(30.0, "computing statistics")
    duplicates = _aggregate(con, source, columns, rows, with_duplicates)
    for col in columns:
        _settle(col, rows)
    report(60.0, "computing histograms and outliers")
    _distributions(con, source, columns)
    report(75.0, "counting top values")
    samples = _samples(con, columns)
    for col, values in zip(columns, samples, strict=True):
        col.stats["top"] = _top(con, source, col) if _has_top(col) else []
        col.stats["samples"] = values
        col.stats["semantic"] = _semantic(col, rows)
    con.execute("DROP TABLE sample")
    return duplicates


def _duplicate_rows(
    con: duckdb.DuckDBPyConnection, source: str, columns: list[_Column], rows: int
) -> int:
    """Rows that repeat an earlier one, over every column (a wide table's own pass)."""
    if not rows:
        return 0
    everything = ", ".join(col.ident for col in columns)
    result = _one(con, f"SELECT count(DISTINCT hash({everything})) AS d FROM {source}")
    return rows - int(result["d"])


# -- inference on the sample ------------------------------------------------------------


def _sample_counts(con: duckdb.DuckDBPyConnection, columns: list[_Column]) -> None:
    """Count, per column, the sampled values each candidate type or hint parses (the
    numeric columns of a chunk in one query)."""
    numbers: list[_Column] = []
    for col in columns:
        base = _physical_base(col.physical)
        if col.text:
            col.counts = _text_counts(con, col)
        elif base in _INTEGER_PHYSICAL or base in _FLOAT_PHYSICAL or base == "DECIMAL":
            numbers.append(col)
        else:
            col.counts = {}
    if numbers:
        parts = [_number_count_parts(col, i) for i, col in enumerate(numbers)]
        result = _one(con, f"SELECT {', '.join(parts)} FROM sample")
        for i, col in enumerate(numbers):
            col.counts = {key: result[f"{key}_{i}"] for key in _NUMBER_COUNTS}


def _text_counts(con: duckdb.DuckDBPyConnection, col: _Column) -> dict[str, Any]:
    v = "v"
    checks: dict[str, str] = {
        "integer": f"regexp_full_match({v}, {quote_literal(_INT_RE)})",
        "leading_zero": f"regexp_full_match({v}, {quote_literal(_LEADING_ZERO_RE)})",
        "float": f"regexp_full_match({v}, {quote_literal(_FLOAT_RE)})"
        f" AND TRY_CAST({v} AS DOUBLE) IS NOT NULL",
        "number": f"regexp_full_match({v}, {quote_literal(_NUMBER_RE)})",
        "number_integral": f"regexp_full_match({v}, {quote_literal(_NUMBER_RE)})"
        f" AND NOT contains({v}, '.')",
        "currency_sign": f"regexp_matches({v}, '[$€£¥]')",
        "percent_sign": f"contains({v}, '%')",
        "trailing_zero": f"regexp_matches({v}, '\\.[0-9]*0\\s*%?\\s*$')",
        "boolean": f"lower(trim({v})) IN ({', '.join(map(quote_literal, _BOOL_WORDS))})",
        "cast_datetime": f"TRY_CAST({v} AS TIMESTAMP) IS NOT NULL"
        f" AND regexp_matches({v}, '^\\s*[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')",
        "duration": f"regexp_full_match({v}, {quote_literal(_DURATION_RE)})"
        f" AND TRY_CAST({v} AS INTERVAL) IS NOT NULL",
        "iso_duration": f"regexp_full_match(trim({v}), {quote_literal(_ISO_DURATION_RE)})"
        f" AND length(trim({v})) > 1",
        "email": f"regexp_full_match(trim({v}), {quote_literal(_EMAIL_RE)})",
        "url": f"regexp_full_match(trim({v}), {quote_literal(_URL_RE)})",
        "uuid": f"regexp_full_match(trim({v}), {quote_literal(_UUID_RE)})",
        "phone": f"regexp_full_match(trim({v}), {quote_literal(_PHONE_RE)})"
        f" AND length(regexp_replace({v}, '[^0-9]', '', 'g')) BETWEEN 7 AND 15",
        "postal": f"regexp_full_match(trim({v}), {quote_literal(_POSTAL_RE)})",
        "country": f"list_contains(getvariable('countries'), upper(trim({v})))",
    }
    for i, fmt in enumerate(_DATE_FORMATS):
        checks[f"date{i}"] = f"TRY_STRPTIME({v}, {quote_literal(fmt)}) IS NOT NULL"
    for i, fmt in enumerate(_DATETIME_FORMATS):
        checks[f"datetime{i}"] = f"TRY_STRPTIME({v}, {quote_literal(fmt)}) IS NOT NULL"
    decimals = f"length(regexp_extract({v}, '\\.([0-9]+)\\s*%?\\s*$', 1))"
    numeric = f"regexp_full_match({v}, {quote_literal(_NUMBER_RE)})"
    selects = ", ".join(
        [
            "coalesce(sum(n), 0) AS total",
            f"min({decimals}) FILTER (WHERE {numeric}) AS min_decimals",
            f"max({decimals}) FILTER (WHERE {numeric}) AS max_decimals",
        ]
        + [f"coalesce(sum(n) FILTER (WHERE {cond}), 0) AS {key}" for key, cond in checks.items()]
    )
    _set_countries(con)
    query = (
        f"WITH d AS (SELECT {col.ident} AS v, count(*) AS n FROM sample "
        f"WHERE trim({col.ident}) <> '' GROUP BY ALL) SELECT {selects} FROM d"
    )
    return _one(con, query)


def _set_countries(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET VARIABLE countries = ?::VARCHAR[]", [sorted(COUNTRIES)])


_NUMBER_COUNTS = ("total", "integral", "cents", "tenths", "epoch_s", "epoch_ms")


def _number_count_parts(col: _Column, i: int) -> str:
    """The sampled counts of one numeric column, as select items suffixed ``_<i>``."""
    x = f"CAST({col.ident} AS DOUBLE)"
    lo, hi = _EPOCH_LOW, _EPOCH_HIGH
    return (
        f"count({x}) AS total_{i}, "
        f"count(*) FILTER (WHERE isfinite({x}) AND {x} = trunc({x}) AND abs({x}) < 9e15)"
        f" AS integral_{i}, "
        f"count(*) FILTER (WHERE abs({x} * 100 - round({x} * 100)) < 1e-6) AS cents_{i}, "
        f"count(*) FILTER (WHERE abs({x} * 10 - round({x} * 10)) < 1e-6) AS tenths_{i}, "
        f"count(*) FILTER (WHERE {x} BETWEEN {lo} AND {hi}) AS epoch_s_{i}, "
        f"count(*) FILTER (WHERE {x} BETWEEN {lo * 1000} AND {hi * 1000}) AS epoch_ms_{i}"
    )


def _infer(col: _Column) -> None:
    """The column's type and parse from its physical type and sampled values."""
    base = _physical_base(col.physical)
    counts = col.counts
    if col.text:
        col.type, col.parse, col.mixed = _infer_text(counts)
    elif base in _INTEGER_PHYSICAL or base in _FLOAT_PHYSICAL:
        col.type, col.parse = _infer_number(col, base)
    elif base == "DECIMAL":
        scale = re.search(r",\s*(\d+)\)", col.physical)
        col.type = "integer" if scale and scale.group(1) == "0" else "decimal"
    elif base == "BOOLEAN":
        col.type = "boolean"
    elif base == "DATE":
        col.type = "date"
    elif base.startswith("TIMESTAMP"):
        col.type = "datetime"
    elif base == "INTERVAL":
        col.type = "duration"


def _infer_number(col: _Column, base: str) -> tuple[str, str | None]:
    counts = col.counts
    total = counts.get("total") or 0
    if total and col.words & _TIME_WORDS:
        for parse in ("epoch_s", "epoch_ms"):
            if counts[parse] >= TYPE_MIN_SHARE * total:
                return "datetime", parse
    if base in _INTEGER_PHYSICAL:
        return "integer", None
    if total and counts["integral"] == total:
        return "integer", None
    if total and counts["cents"] == total and counts["tenths"] < total:
        return "decimal", None
    return "float", None


def _candidates(counts: dict[str, Any]) -> list[tuple[str, str | None, int]]:
    """(type, parse, values parsed) for a text column, in order of preference."""
    number_type = _number_type(counts)
    found: list[tuple[str, str | None, int]] = []
    if not counts["leading_zero"]:
        found.append(("integer", None, counts["integer"]))
        found.append((number_type, None, counts["float"]))
        found.append((number_type, "number", counts["number"]))
    found.append(("boolean", "boolean", counts["boolean"]))
    for i, fmt in enumerate(_DATE_FORMATS):
        found.append(("date", f"strptime:{fmt}", counts[f"date{i}"]))
    found.append(("datetime", None, counts["cast_datetime"]))
    for i, fmt in enumerate(_DATETIME_FORMATS):
        found.append(("datetime", f"strptime:{fmt}", counts[f"datetime{i}"]))
    found.append(("duration", None, counts["duration"]))
    if _iso_duration_supported():
        found.append(("duration", "iso_duration", counts["iso_duration"]))
    return found


def _number_type(counts: dict[str, Any]) -> str:
    low, high = counts["min_decimals"], counts["max_decimals"]
    if not high:
        return "integer"
    if low == high and high <= 6 and counts["trailing_zero"]:
        return "decimal"
    return "float"


def _infer_text(counts: dict[str, Any]) -> tuple[str, str | None, bool]:
    total = counts["total"]
    if not total:
        return "string", None, False
    kind, parse, parsed = max(_candidates(counts), key=lambda c: c[2])
    share = parsed / total
    if share >= TYPE_MIN_SHARE:
        return kind, parse, share < 1 - MIXED_TOLERANCE
    # y/n/t/f are also ordinary one-letter codes: a few of them do not make text mixed.
    return "string", None, share >= MIXED_MIN_SHARE and kind != "boolean"


def _iso_duration_supported() -> bool:
    """Whether :mod:`.columns` reads ISO 8601 durations (``PT5M``) yet."""
    try:
        logical_expr(ColumnSpec("x", "VARCHAR", "duration", "iso_duration"))
    except ValueError:
        return False
    return True


def _apply_override(col: _Column, wanted: str) -> None:
    """The user's type wins; find the parse that reads the stored values as it."""
    col.override = wanted
    if wanted == col.type:
        return
    col.mixed = False
    col.type, col.parse = wanted, _parse_for(col, wanted)


def _parse_for(col: _Column, wanted: str) -> str | None:
    counts = col.counts
    if col.text and counts.get("total"):
        options = [c for c in _candidates(counts) if _fits(c[0], wanted)]
        if options:
            best = max(options, key=lambda c: c[2])
            if best[2]:
                return best[1]
        return "boolean" if wanted == "boolean" else None
    if col.text:
        return "boolean" if wanted == "boolean" else None
    if wanted in ("date", "datetime") and "epoch_ms" in counts:
        return "epoch_ms" if counts["epoch_ms"] > counts["epoch_s"] else "epoch_s"
    return None


def _fits(found: str, wanted: str) -> bool:
    if wanted in ("date", "datetime"):
        return found in ("date", "datetime")
    if wanted in _NUMERIC:
        return found in _NUMERIC
    if wanted in _TEXTUAL:
        return False
    return found == wanted


# -- the aggregate pass -----------------------------------------------------------------


def _present(col: _Column) -> str:
    if col.text:
        return f"{col.ident} IS NOT NULL AND trim({col.ident}) <> ''"
    return f"{col.ident} IS NOT NULL"


def _value(col: _Column) -> str:
    """The column read as its type, NULL where it is missing or does not parse."""
    expr = logical_expr(col.spec)
    if col.type in _TEXTUAL:
        return f"CASE WHEN trim({expr}) <> '' THEN {expr} END"
    return expr


def _number(col: _Column) -> str | None:
    """The column as a finite DOUBLE, for the numeric statistics (dates as epoch s)."""
    value = _value(col)
    if col.type in _NUMERIC:
        as_double = f"CAST({value} AS DOUBLE)"
        return f"CASE WHEN isfinite({as_double}) THEN {as_double} END"
    if col.type in ("date", "datetime", "duration"):
        return f"epoch({value})"
    return None


def _aggregate(
    con: duckdb.DuckDBPyConnection,
    source: str,
    columns: list[_Column],
    rows: int,
    with_duplicates: bool = True,
) -> int:
    """One pass: presence, validity, distinct counts, min/max, moments, quartiles, and
    (``with_duplicates``) the distinct rows over ``columns``."""
    exact = rows <= EXACT_LIMIT
    parts: list[str] = []
    for i, col in enumerate(columns):
        value = _value(col)
        parts.append(f"count(*) FILTER (WHERE {_present(col)}) AS p{i}")
        parts.append(f"count({value}) AS v{i}")
        distinct = f"count(DISTINCT {value})" if exact else f"approx_count_distinct({value})"
        parts.append(f"{distinct} AS u{i}")
        number = _number(col)
        if col.type in ("date", "datetime", "boolean") or col.type in _TEXTUAL:
            parts.append(f"min({value}) AS lo{i}, max({value}) AS hi{i}")
        elif number is not None:
            parts.append(f"min({number}) AS lo{i}, max({number}) AS hi{i}")
        if col.type in _NUMERIC and number is not None:
            quantile = "quantile_cont" if exact else "approx_quantile"
            parts.append(
                f"avg({number}) AS mean{i}, stddev_samp({number}) AS std{i}, "
                f"{quantile}({number}, [0.25, 0.5, 0.75]) AS q{i}"
            )
    if with_duplicates:
        everything = ", ".join(col.ident for col in columns)
        parts.append(f"count(DISTINCT hash({everything})) AS distinct_rows")
    result = _one(con, f"SELECT {', '.join(parts)} FROM {source}")
    for i, col in enumerate(columns):
        present = int(result[f"p{i}"])
        valid = present if col.type in _TEXTUAL else int(result[f"v{i}"])
        q = result.get(f"q{i}")
        col.stats = {
            "present": present,
            "invalid": max(present - valid, 0),
            "unique": min(int(result[f"u{i}"] or 0), valid),
            "min": result.get(f"lo{i}"),
            "max": result.get(f"hi{i}"),
            "mean": result.get(f"mean{i}"),
            "std": result.get(f"std{i}"),
            "quartiles": list(q) if q else None,
        }
    if not with_duplicates or not rows:
        return 0
    return rows - int(result["distinct_rows"])


def _settle(col: _Column, rows: int) -> None:
    """Decide what needs every row: category vs string, and mixed from the full data."""
    stats = col.stats
    if col.type == "string" and col.override is None:
        present = stats["present"]
        if (
            present
            and stats["unique"] <= CATEGORY_MAX_DISTINCT
            and stats["unique"] <= CATEGORY_MAX_SHARE * present
        ):
            col.type = "category"
    if stats["present"] and stats["invalid"] > MIXED_TOLERANCE * stats["present"]:
        col.mixed = True
    stats["unique_approx"] = rows > EXACT_LIMIT
    stats["nulls"] = rows - stats["present"]
    stats["completeness"] = round(stats["present"] / rows, 6) if rows else 0.0


# -- histograms, outliers, top values, samples ------------------------------------------


def _distributions(con: duckdb.DuckDBPyConnection, source: str, columns: list[_Column]) -> None:
    """One pass: a :data:`BINS`-bin histogram per number or date, outliers per number."""
    parts: list[str] = []
    for i, col in enumerate(columns):
        col.stats["histogram"] = None
        col.stats["outliers"] = None
        number = _number(col)
        if number is None or col.type == "duration":
            continue
        lo, hi = _as_float(col.stats["min"], col.type), _as_float(col.stats["max"], col.type)
        if lo is None or hi is None:
            continue
        if hi > lo:
            width = (hi - lo) / BINS
            bin_expr = f"least(greatest(floor(({number} - {lo!r}) / {width!r}), 0), {BINS - 1})"
            parts.append(
                f"histogram(CAST({bin_expr} AS INTEGER)) FILTER (WHERE {number} IS NOT NULL)"
                f" AS h{i}"
            )
        quartiles = col.stats.get("quartiles")
        if col.type in _NUMERIC:
            col.stats["outliers"] = 0
            if quartiles and quartiles[2] > quartiles[0]:
                iqr = quartiles[2] - quartiles[0]
                low, high = quartiles[0] - OUTLIER_IQR * iqr, quartiles[2] + OUTLIER_IQR * iqr
                parts.append(
                    f"count(*) FILTER (WHERE {number} < {low!r} OR {number} > {high!r}) AS o{i}"
                )
    result = _one(con, f"SELECT {', '.join(parts)} FROM {source}") if parts else {}
    for i, col in enumerate(columns):
        if f"o{i}" in result:
            col.stats["outliers"] = int(result[f"o{i}"])
        lo, hi = _as_float(col.stats["min"], col.type), _as_float(col.stats["max"], col.type)
        if lo is None or hi is None or col.type == "duration" or _number(col) is None:
            continue
        if f"h{i}" in result:
            bins = result[f"h{i}"] or {}
            counts = [int(bins.get(b, 0)) for b in range(BINS)]
            edges = [lo + (hi - lo) * b / BINS for b in range(BINS)] + [hi]
        else:
            counts, edges = [col.stats["present"] - col.stats["invalid"]], [lo, hi]
        col.stats["histogram"] = {"edges": [_edge(e, col.type) for e in edges], "counts": counts}


def _has_top(col: _Column) -> bool:
    return col.type in _TEXTUAL or col.type == "boolean"


def _top(con: duckdb.DuckDBPyConnection, source: str, col: _Column) -> list[dict]:
    """The :data:`TOP` most frequent values with their counts.

    A column with very many distinct values would need a hash table of all of them; its
    frequent values are then taken from the sample and only those counted on every row.
    """
    value = _value(col)
    where = f"{value} IS NOT NULL"
    if col.stats["unique"] > _HIGH_CARDINALITY_TOP:
        candidates = (
            f"SELECT v FROM (SELECT {value} AS v, count(*) AS n FROM sample WHERE {where} "
            f"GROUP BY v ORDER BY n DESC, v LIMIT {_CANDIDATE_TOP})"
        )
        where += f" AND {value} IN ({candidates})"
    query = (
        f"SELECT {value} AS v, count(*) AS n FROM {source} WHERE {where} "
        f"GROUP BY v ORDER BY n DESC, v LIMIT {TOP}"
    )
    return [{"value": _jsonable(v), "count": int(n)} for v, n in con.execute(query).fetchall()]


def _samples(con: duckdb.DuckDBPyConnection, columns: list[_Column]) -> list[list]:
    """Per column, up to :data:`SAMPLES` distinct stored values in the sample's order
    (one query for the chunk)."""
    parts = [
        f"(SELECT list(v ORDER BY k) FROM (SELECT {col.ident} AS v, min(rowid) AS k "
        f"FROM sample WHERE {_present(col)} GROUP BY ALL ORDER BY k LIMIT {SAMPLES})) AS s{i}"
        for i, col in enumerate(columns)
    ]
    result = _one(con, f"SELECT {', '.join(parts)}")
    return [[_jsonable(v) for v in result[f"s{i}"] or []] for i in range(len(columns))]


# -- semantic hints ---------------------------------------------------------------------


def _semantic(col: _Column, rows: int) -> str | None:
    """A hint about what the values mean, when at least 90% of sampled values agree."""
    counts, words = col.counts, col.words
    total = counts.get("total") or 0

    def share(key: str) -> bool:
        return bool(total) and counts.get(key, 0) >= SEMANTIC_MIN_SHARE * total

    if col.text:
        for hint, key in (("email", "email"), ("url", "url")):
            if share(key):
                return hint
        if share("uuid"):
            return "identifier"
        if col.type in _TEXTUAL and share("country") and (words & _COUNTRY_WORDS or total >= 5):
            return "country"
        if col.type in _TEXTUAL + ("integer",):
            if words & _PHONE_WORDS and share("phone"):
                return "phone"
            if words & _POSTAL_WORDS and share("postal"):
                return "postal_code"
        if col.type in _NUMERIC and share("currency_sign"):
            return "currency"
        if col.type in _NUMERIC and share("percent_sign"):
            return "percentage"
    numeric = _numeric_hint(col, words) if col.type in _NUMERIC else None
    if numeric:
        return numeric
    if _is_identifier(col, words, rows):
        return "identifier"
    return None


def _numeric_hint(col: _Column, words: set[str]) -> str | None:
    lo, hi = col.stats["min"], col.stats["max"]
    if lo is None or hi is None:
        return None
    counts = col.counts
    total = counts.get("total") or 0
    two_decimals = col.type == "decimal" or (
        bool(total) and counts.get("cents", 0) >= SEMANTIC_MIN_SHARE * total
    )
    if words & _MONEY_WORDS and (two_decimals or col.parse == "number"):
        return "currency"
    if words & _PERCENT_WORDS and lo >= 0 and (hi <= 1 or hi <= 100):
        return "percentage"
    if words & _LAT_WORDS and lo >= -90 and hi <= 90:
        return "latitude"
    if words & _LON_WORDS and lo >= -180 and hi <= 180:
        return "longitude"
    return None


def _is_identifier(col: _Column, words: set[str], rows: int) -> bool:
    """Unique values, and a name like ``id``/``user_id``, UUIDs, or integers numbered
    like keys: at least 20 of them, within ten times their count of each other (a small
    table's few distinct measures, 3, 5, 7, are not keys)."""
    stats = col.stats
    present = stats["present"]
    if present < 2 or col.type not in ("integer", "string"):
        return False
    distinct = stats["unique"]
    unique = distinct == present if rows <= EXACT_LIMIT else distinct >= 0.97 * present
    named = bool(words & _ID_WORDS) or col.physical.upper() == "UUID"
    return unique and (named or (col.type == "integer" and _numbered_like_keys(stats)))


def _numbered_like_keys(stats: dict) -> bool:
    low, high, present = stats.get("min"), stats.get("max"), stats["present"]
    if present < 20 or not isinstance(low, int | float) or not isinstance(high, int | float):
        return False
    return high - low + 1 <= 10 * present


# -- quality ----------------------------------------------------------------------------


def _quality(columns: list[_Column], rows: int, duplicates: int) -> dict:
    """The issues and the score (module docstring; docs/data-quality.md)."""
    issues: list[dict] = []
    if not rows:
        issues.append(_issue(None, "empty_table", "error", "The table has no rows."))
    elif duplicates:
        share = duplicates / rows
        issues.append(
            _issue(
                None,
                "duplicate_rows",
                "warning",
                f"{duplicates} rows ({share:.1%}) repeat an earlier row exactly.",
            )
        )
    constant, mixed, high_nulls, identifiers = [], [], [], []
    present = invalid = numeric_cells = outlier_cells = 0
    completeness: list[float] = []
    for col in columns:
        stats = col.stats
        present += stats["present"]
        invalid += stats["invalid"]
        completeness.append(stats["present"] / rows if rows else 0.0)
        issues.extend(_column_issues(col, rows))
        if rows > 1 and stats["present"] and stats["unique"] <= 1:
            constant.append(col.name)
        if col.mixed:
            mixed.append(col.name)
        if rows and stats["present"] < (1 - HIGH_NULLS) * rows:
            high_nulls.append(col.name)
        if stats["semantic"] == "identifier":
            identifiers.append(col.name)
        if stats["outliers"] is not None:
            numeric_cells += stats["present"] - stats["invalid"]
            outlier_cells += stats["outliers"]
    components = {
        "completeness": sum(completeness) / len(completeness) if completeness else 0.0,
        "row_uniqueness": 1 - duplicates / rows if rows else 0.0,
        "validity": 1 - invalid / present if present else 1.0,
        "consistency": 1 - len(set(constant) | set(mixed)) / len(columns) if columns else 1.0,
        "outliers": 1 - outlier_cells / numeric_cells if numeric_cells else 1.0,
    }
    score = sum(QUALITY_WEIGHTS[k] * v for k, v in components.items()) if rows else 0.0
    return {
        "score": round(score, 3),
        "completeness": round(components["completeness"], 4),
        "duplicate_rows": duplicates,
        "validity": round(components["validity"], 4),
        "consistency": round(components["consistency"], 4),
        "outlier_share": round(1 - components["outliers"], 4),
        "constant_columns": constant,
        "mixed_columns": mixed,
        "high_null_columns": high_nulls,
        "identifier_columns": identifiers,
        "issues": issues,
    }


def _column_issues(col: _Column, rows: int) -> list[dict]:
    stats, name = col.stats, col.name
    found: list[dict] = []
    missing = rows - stats["present"]
    if rows and missing:
        share = missing / rows
        severity = "error" if missing == rows else "warning" if share > HIGH_NULLS else "info"
        found.append(
            _issue(name, "missing_values", severity, f"{missing} values missing ({share:.1%}).")
        )
    if rows > 1 and stats["present"] and stats["unique"] <= 1:
        found.append(_issue(name, "constant_column", "warning", "Every value is the same."))
    if col.mixed:
        found.append(
            _issue(
                name,
                "mixed_types",
                "warning",
                f"Values of several types: {stats['invalid']} do not read as {col.type}."
                if stats["invalid"]
                else "Values of several types: too few read as one type, kept as text.",
            )
        )
    if stats["outliers"]:
        found.append(
            _issue(
                name,
                "outliers",
                "info",
                f"{stats['outliers']} values lie beyond 3 interquartile ranges of the quartiles.",
            )
        )
    if (
        col.type == "string"
        and stats["semantic"] is None
        and stats["present"] >= 100
        and stats["unique"] > 0.9 * stats["present"]
    ):
        found.append(
            _issue(
                name,
                "high_cardinality",
                "info",
                "Almost every value is different: free text or an identifier, not a grouping.",
            )
        )
    if stats["semantic"] == "identifier":
        found.append(
            _issue(name, "identifier", "info", "Looks like an identifier: unique per row.")
        )
    return found


def _issue(column: str | None, code: str, severity: str, message: str) -> dict:
    return {"column": column, "code": code, "severity": severity, "message": message}


# -- output -----------------------------------------------------------------------------


def _column_json(col: _Column) -> dict:
    stats = col.stats
    numeric = col.type in _NUMERIC
    quartiles = stats.get("quartiles")
    return {
        "name": col.name,
        "type": col.type,
        "physical": col.physical,
        "parse": col.parse,
        "nullable": stats["nulls"] > 0,
        "nulls": stats["nulls"],
        "completeness": stats["completeness"],
        "invalid": stats["invalid"],
        "unique": stats["unique"],
        "unique_approx": stats["unique_approx"],
        "min": _stat_value(stats["min"], col.type),
        "max": _stat_value(stats["max"], col.type),
        "mean": _finite(stats["mean"]) if numeric else None,
        "std": _finite(stats["std"]) if numeric else None,
        "median": _finite(quartiles[1]) if numeric and quartiles else None,
        "top": stats["top"],
        "samples": stats["samples"],
        "histogram": stats["histogram"],
        "semantic": stats["semantic"],
        "outliers": stats["outliers"],
        "mixed": col.mixed,
        "override": col.override,
    }


def _stat_value(value: Any, kind: str) -> Any:
    if kind in _NUMERIC:
        number = _finite(value)
        if kind == "integer" and number is not None and number.is_integer():
            return int(number)
        return number
    return _jsonable(value)


def _as_float(value: Any, kind: str) -> float | None:
    """A min or max as a number to bin on: dates become seconds since 1970."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return stamp.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
    if isinstance(value, bool) or kind not in _NUMERIC:
        return None
    return _finite(value)


def _edge(value: float, kind: str) -> Any:
    if kind in ("date", "datetime"):
        stamp = dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
        return stamp.isoformat()
    return value


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _jsonable(value: Any) -> Any:
    """A DuckDB value as JSON: dates ISO, durations seconds, decimals floats."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | Decimal):
        return _finite(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


# -- small helpers ----------------------------------------------------------------------


def _one(con: duckdb.DuckDBPyConnection, query: str) -> dict[str, Any]:
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description or ()]
    row = cursor.fetchone() or (None,) * len(names)
    return dict(zip(names, row, strict=True))


def _physical_base(physical: str) -> str:
    return physical.upper().split("(")[0].strip()


def _words(name: str) -> set[str]:
    """A column name's words, lower-cased: ``createdAt`` and ``created_at`` ->
    ``{"created", "at"}``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    words = {w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w}
    compact = re.sub(r"[^a-z0-9]", "", name.lower())
    return words | {compact}
