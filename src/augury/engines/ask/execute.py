"""Running a plan over a dataset: the tables engine's structured query, bounded.

The plan becomes a :class:`~augury.engines.tabular.query.Query` and runs through
:func:`~augury.engines.tabular.query.run_query`, so column names are checked and quoted
there and values bound as parameters; :class:`Limits` bounds its memory and time (a
query past the time limit is interrupted: ``QUERY_TIMEOUT``), ``max_rows`` the answer.

>>> import pathlib, tempfile, duckdb
>>> from augury.engines.ask.plan import Measure, Plan
>>> from augury.engines.tabular.columns import ColumnSpec
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
>>> rows = "VALUES ('a', 1.0), ('b', 3.0), ('a', 2.0)"
>>> duckdb.sql(f"SELECT * FROM ({rows}) t(k, v)").write_parquet(str(path))
>>> specs = [ColumnSpec("k", "VARCHAR", "category"), ColumnSpec("v", "DOUBLE", "float")]
>>> result = execute(Plan([Measure("sum", "v")], ["k"]), Table(path, specs))
>>> result.columns, result.rows
(['k', 'sum_v'], [['a', 3.0], ['b', 3.0]])
"""

from __future__ import annotations

from augury.engines.tabular.query import Limits, Result, run_query

from .context import Table
from .plan import Plan

__all__ = ["MAX_ROWS", "execute"]

MAX_ROWS = 5_000
"""The most rows an answer carries (its chart holds them inline)."""


def execute(
    plan: Plan, table: Table, limits: Limits | None = None, *, max_rows: int = MAX_ROWS
) -> Result:
    """``plan``'s answer over ``table``, within ``limits`` (the engine's defaults)."""
    return run_query(
        table.path,
        table.specs,
        plan.to_query(),
        max_rows=max_rows,
        with_total=False,
        limits=limits or Limits(),
    )
