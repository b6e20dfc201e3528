"""What the parser knows about one dataset version: its columns' words, types, values
and ranges, read once and kept (the server holds one per dataset version).

Reading is bounded whatever the dataset's size: the values come from a sample of at
most :data:`CELL_BUDGET` cells (whole vectors of rows drawn across the file, DuckDB's
system sampling), so 500 columns or ten million rows cost well under a second, once. A
text column with at most :data:`MAX_VALUES` distinct values in the sample keeps them,
so a value named in a question ("Biscoe") becomes a filter on its column; ranges are
the sample's, which is what the parser needs (is there a date column, what span does
it cover), not an exact statistic.

>>> import pathlib, tempfile, duckdb
>>> path = pathlib.Path(tempfile.mkdtemp()) / "penguins.parquet"
>>> duckdb.sql("SELECT * FROM (VALUES ('Adelie', 3750.0, 2007), ('Gentoo', 5000.0, 2008))"
...            " t(species, body_mass_g, year)").write_parquet(str(path))
>>> specs = [ColumnSpec("species", "VARCHAR", "category"),
...          ColumnSpec("body_mass_g", "DOUBLE", "float"), ColumnSpec("year", "BIGINT", "integer")]
>>> ctx = context_of(Table(path, specs, "penguins"))
>>> ctx.rows, ctx.column("species").values, sorted(ctx.column("body_mass_g").content)
(2, ['Adelie', 'Gentoo'], ['body', 'weight'])
>>> ctx.column("body_mass_g").unit, ctx.column("year").is_year
('g', True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from augury.engines.tabular._query_exec import Limits, create_view, jsonable, session
from augury.engines.tabular.columns import ColumnSpec, quote_ident

from . import lexicon

__all__ = ["CELL_BUDGET", "MAX_VALUES", "ColumnInfo", "Table", "TableContext", "context_of"]

CELL_BUDGET = 1_000_000
"""The most cells read to learn the values (rows x columns of the sample)."""
MAX_VALUES = 5_000
MIN_SAMPLE = 1_000

TEXT = ("string", "category")
NUMERIC = ("integer", "float", "decimal")
TIME = ("date", "datetime")

_TOKEN = re.compile(r"\d{4}-\d{2}(?:-\d{2})?|\d+(?:\.\d+)?|[^\W\d_]+", re.UNICODE)


@dataclass
class Table:
    """One dataset version as the ask engine reads it: its Parquet file, the logical
    types of its columns, and its name (a word a question may use: "penguins")."""

    path: Path
    specs: list[ColumnSpec]
    name: str = "dataset"


@dataclass
class ColumnInfo:
    """A column as the parser sees it.

    ``words`` are its name's words (lemmatised, phrases joined: ``Miles_per_Gallon`` ->
    ``["mpg"]``); ``content`` the concepts among them without units and connectors,
    which question words must match; ``values`` its distinct values where few enough.
    """

    name: str
    type: str
    words: list[str]
    content: frozenset[str]
    unit: str | None = None
    values: list[str] | None = None
    distinct: int = 0
    low: Any = None
    high: Any = None
    is_year: bool = False
    identifier: bool = False
    nulls: int = 0  # missing values in the sample

    @property
    def phrase(self) -> str:
        return " ".join(self.words)


@dataclass
class TableContext:
    """Everything the parser reads about a dataset, built once by :func:`context_of`."""

    name: str
    name_words: list[str]
    rows: int
    columns: list[ColumnInfo]
    sampled_rows: int = 0
    values: dict[tuple[str, ...], list[tuple[str, str]]] = field(default_factory=dict)
    _embeddings: Any = field(default=None, repr=False)

    def column(self, name: str) -> ColumnInfo:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def time_columns(self) -> list[ColumnInfo]:
        return [c for c in self.columns if c.type in TIME]

    def embeddings(self) -> np.ndarray | None:
        """The columns' phrases embedded (one row a column), or None where the model is
        unavailable; computed on first use and kept."""
        if self._embeddings is None:
            from .embed import embed

            vectors = embed([c.phrase or c.name for c in self.columns])
            self._embeddings = False if vectors is None else vectors
        return None if self._embeddings is False else self._embeddings


def tokens(text: str) -> list[str]:
    """``text`` as lower-case words and numbers (a date ``2014-03-01`` stays whole)."""
    return [t.lower() for t in _TOKEN.findall(text)]


def value_key(value: str) -> tuple[str, ...]:
    """How a categorical value is looked up: its lemmatised words."""
    return tuple(lexicon.lemma(t) for t in tokens(value))


def describe_name(name: str) -> tuple[list[str], frozenset[str], str | None]:
    """A column name's words, content concepts and unit.

    >>> describe_name("Weight_in_lbs")
    (['weight', 'in', 'lbs'], frozenset({'weight'}), 'lbs')
    >>> describe_name("Miles_per_Gallon")[:2]
    (['mpg'], frozenset({'mpg'}))
    """
    raw = lexicon.name_words(name)
    words = lexicon.rewrite([lexicon.lemma(w) if w not in lexicon.UNITS else w for w in raw])
    unit = None
    if len(words) > 1 and words[-1] in lexicon.UNITS:
        unit = words[-1]
    body = words[:-1] if unit else words
    content = frozenset(
        lexicon.concept(w) for w in body if w not in lexicon.CONNECTORS and not w.isdigit()
    ) or frozenset(lexicon.concept(w) for w in body)
    return words, content, unit


def context_of(table: Table, *, limits: Limits | None = None) -> TableContext:
    """Read ``table`` once: its size, and each column's words, values and range."""
    bounded = limits or Limits(timeout_s=60.0)
    with session(bounded, error_code="QUERY_FAILED") as con:
        specs = create_view(con, "dataset", table.path, table.specs)
        rows = int(_scalar(con, "SELECT count(*) FROM dataset"))
        n = max(1, len(specs))
        take = min(rows, max(MIN_SAMPLE, CELL_BUDGET // n))
        if take >= rows:
            sample_sql = "SELECT * FROM dataset"
        else:  # whole vectors spread over the file: cheap, and not just its first rows
            percent = min(100.0, 100.0 * 2 * take / rows)
            sample_sql = (
                f"SELECT * FROM dataset USING SAMPLE {percent:.6f}% (system, 7) LIMIT {take}"
            )
        con.execute(f"CREATE TEMP TABLE sample AS {sample_sql}")
        sampled = int(_scalar(con, "SELECT count(*) FROM sample"))
        columns = [_column(spec) for spec in specs]
        _nulls(con, columns)
        _ranges(con, columns)
        for col in columns:
            if col.type in TEXT or col.type == "boolean":
                _text_values(con, col, sampled)
    name_words = [lexicon.lemma(w) for w in lexicon.name_words(table.name)]
    context = TableContext(table.name, name_words, rows, columns, sampled)
    context.values = _value_index(columns)
    return context


def _column(spec: ColumnSpec) -> ColumnInfo:
    words, content, unit = describe_name(spec.name)
    is_year = spec.type == "integer" and bool({"year", "yr"} & set(words))
    return ColumnInfo(spec.name, spec.type, words, content, unit, is_year=is_year)


def _nulls(con: Any, columns: list[ColumnInfo]) -> None:
    for start in range(0, len(columns), 200):
        chunk = columns[start : start + 200]
        parts = [f"count(*) - count({quote_ident(c.name)})" for c in chunk]
        row = con.execute(f"SELECT {', '.join(parts)} FROM sample").fetchone() or ()
        for col, missing in zip(chunk, row, strict=False):
            col.nulls = int(missing or 0)


def _ranges(con: Any, columns: list[ColumnInfo]) -> None:
    ranged = [c for c in columns if c.type in NUMERIC or c.type in TIME]
    for start in range(0, len(ranged), 200):
        chunk = ranged[start : start + 200]
        parts = [
            f"min({quote_ident(c.name)}), max({quote_ident(c.name)}), "
            f"approx_count_distinct({quote_ident(c.name)})"
            for c in chunk
        ]
        row = con.execute(f"SELECT {', '.join(parts)} FROM sample").fetchone() or ()
        for i, col in enumerate(chunk):
            col.low, col.high = jsonable(row[3 * i]), jsonable(row[3 * i + 1])
            col.distinct = int(row[3 * i + 2] or 0)


def _text_values(con: Any, col: ColumnInfo, sampled: int) -> None:
    name = quote_ident(col.name)
    found = con.execute(
        f"SELECT CAST({name} AS VARCHAR) FROM sample WHERE {name} IS NOT NULL "
        f"GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT {MAX_VALUES + 1}"
    ).fetchall()
    col.distinct = len(found)
    if len(found) <= MAX_VALUES:
        col.values = [str(v[0]) for v in found]
    else:
        col.distinct = int(_scalar(con, f"SELECT approx_count_distinct({name}) FROM sample"))
    col.identifier = sampled >= 20 and col.distinct >= 0.7 * sampled


def _value_index(columns: list[ColumnInfo]) -> dict[tuple[str, ...], list[tuple[str, str]]]:
    index: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for col in columns:
        if col.type == "boolean":
            continue
        for value in col.values or []:
            key = value_key(value)
            if key and len(key) <= 8:
                index.setdefault(key, []).append((col.name, value))
    return index


def _scalar(con: Any, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else 0
