"""Logical columns over stored values: each parse reads text as its type, a value that
does not parse becomes NULL, and a what-if scale multiplies numbers as they are read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from augury.engines.tabular.columns import ColumnSpec, logical_of, view_sql


def read(values: list, spec: ColumnSpec) -> list:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT unnest(?::{spec.physical}[]) AS {spec.name}", [values])
    return [row[0] for row in con.sql(view_sql("t", [spec])).fetchall()]


def test_iso_durations_become_intervals_and_anything_else_null():
    spec = ColumnSpec("d", "VARCHAR", "duration", "iso_duration")
    got = read(["PT5M", "P1DT2H", "pt1.5s", "P2W", "P", "5 minutes", None], spec)
    assert got == [
        dt.timedelta(minutes=5),
        dt.timedelta(days=1, hours=2),
        dt.timedelta(seconds=1.5),
        dt.timedelta(days=14),
        None,
        None,
        None,
    ]


def test_text_parses():
    assert read(
        ["31/12/2024", "1/2/2024", "2024-12-31"],
        ColumnSpec("d", "VARCHAR", "date", "strptime:%d/%m/%Y"),
    ) == [dt.date(2024, 12, 31), dt.date(2024, 2, 1), None]
    assert read(["$1,200.50", "45%", "n/a"], ColumnSpec("m", "VARCHAR", "float", "number")) == [
        1200.5,
        45.0,
        None,
    ]
    assert read(["Yes", "n", "0", "maybe"], ColumnSpec("b", "VARCHAR", "boolean", "boolean")) == [
        True,
        False,
        False,
        None,
    ]
    assert read([1_700_000_000_000], ColumnSpec("t", "BIGINT", "datetime", "epoch_ms")) == [
        dt.datetime(2023, 11, 14, 22, 13, 20)
    ]
    assert read(["12.50"], ColumnSpec("p", "VARCHAR", "decimal")) == [Decimal("12.5")]


def test_scale_reads_numbers_altered_and_refuses_non_finite():
    assert read([10, 20, None], ColumnSpec("u", "BIGINT", "float", scale=1.1)) == [
        pytest.approx(11.0),
        pytest.approx(22.0),
        None,
    ]
    with pytest.raises(ValueError):
        view_sql("t", [ColumnSpec("u", "BIGINT", "float", scale=float("inf"))])


def test_names_with_quotes_are_identifiers_not_sql():
    spec = ColumnSpec('a"; DROP TABLE t; --', "BIGINT", "integer")
    con = duckdb.connect()
    con.execute('CREATE TABLE t AS SELECT 1 AS "a""; DROP TABLE t; --"')
    assert con.sql(view_sql("t", [spec])).fetchall() == [(1,)]
    assert con.sql("SELECT count(*) FROM t").fetchall() == [(1,)]


@pytest.mark.parametrize(
    ("physical", "logical"),
    [
        ("INTEGER", "integer"),
        ("HUGEINT", "integer"),
        ("FLOAT", "float"),
        ("DECIMAL(10,2)", "decimal"),
        ("BOOLEAN", "boolean"),
        ("DATE", "date"),
        ("TIMESTAMP WITH TIME ZONE", "datetime"),
        ("INTERVAL", "duration"),
        ("VARCHAR", "string"),
        ("BLOB", "string"),
    ],
)
def test_stored_types_map_to_logical_ones(physical, logical):
    assert logical_of(physical) == logical


def test_money_stored_as_double_is_read_without_a_cast():
    spec = ColumnSpec("price", "DOUBLE", "decimal")
    assert view_sql("t", [spec]) == 'SELECT "price" AS "price" FROM t'
    assert read([12.5, 8.25], spec) == [12.5, 8.25]
