"""The benchmark's three questions, each written three ways: as the API's query body,
as pandas over a DataFrame read from the CSV, and as plain DuckDB SQL (over the CSV, or
over the Parquet file augury stored).

- ``group_by``: per region, the sum of units, the mean price and the row count (the
  issue's group-by, 11 groups counting the empty region);
- ``month``: per month of ``ts``, the sum of units and the row count (a time bucket,
  37 groups counting the empty ``ts``);
- ``filtered``: the rows of region ``north`` with a price of 500 or more, per product,
  the sum of units and the row count (a selective filter, about 4.5% of the rows, then
  1,001 groups).

Empty keys make a group of their own in all three forms, as they do in SQL (pandas
drops them unless ``dropna=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NAMES = ("group_by", "month", "filtered")

API: dict[str, dict[str, Any]] = {
    "group_by": {
        "group_by": ["region"],
        "aggregates": [
            {"fn": "sum", "column": "units"},
            {"fn": "mean", "column": "price"},
            {"fn": "count"},
        ],
    },
    "month": {
        "bucket": {"column": "ts", "unit": "month"},
        "aggregates": [{"fn": "sum", "column": "units"}, {"fn": "count"}],
    },
    "filtered": {
        "filters": [
            {"column": "region", "op": "eq", "value": "north"},
            {"column": "price", "op": "ge", "value": 500},
        ],
        "group_by": ["product"],
        "aggregates": [{"fn": "sum", "column": "units"}, {"fn": "count"}],
    },
}


def duckdb_sql(src: str) -> dict[str, str]:
    """The questions over the table expression ``src`` (``read_csv('x.csv')``: DuckDB
    detects the types, ``ts`` a timestamp)."""
    return {
        "group_by": f"SELECT region, sum(units), avg(price), count(*) FROM {src} GROUP BY region",
        "month": (
            f"SELECT date_trunc('month', ts) AS m, sum(units), count(*) FROM {src} GROUP BY m"
        ),
        "filtered": (
            f"SELECT product, sum(units), count(*) FROM {src} "
            "WHERE region = 'north' AND price >= 500 GROUP BY product"
        ),
    }


def pandas_queries() -> dict[str, Callable[[Any], Any]]:
    """The questions over the DataFrame ``read_csv`` gave, with ``ts`` already parsed."""

    def group_by(df):
        return df.groupby("region", dropna=False).agg(
            sum_units=("units", "sum"), mean_price=("price", "mean"), count=("id", "size")
        )

    def month(df):
        return df.groupby(df["ts"].dt.to_period("M"), dropna=False).agg(
            sum_units=("units", "sum"), count=("id", "size")
        )

    def filtered(df):
        rows = df[(df["region"] == "north") & (df["price"] >= 500)]
        return rows.groupby("product", dropna=False).agg(
            sum_units=("units", "sum"), count=("id", "size")
        )

    return {"group_by": group_by, "month": month, "filtered": filtered}
