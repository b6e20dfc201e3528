"""The structured query over a dataset's Parquet file, read through its column specs.

The file stores what a reader found (dates as day-first text, prices as "$1,200.50",
booleans as yes/no); the specs give them their logical types, so every filter, bucket
and aggregate here also proves the query reads through ``view_sql``.
"""

import datetime as dt
import json
import time

import duckdb
import pytest

from augury.engines.tabular._query_exec import Limits, jsonable, session
from augury.engines.tabular.errors import TableError
from augury.engines.tabular.query import (
    Aggregate,
    Bucket,
    ColumnSpec,
    Filter,
    Query,
    count,
    run_query,
    top_n,
    what_if,
)

ROWS = """
(1, 'north', '05/01/2024', '2024-01-05 10:30', 10.0, '$1,200.50', 'Paid 50%', 'yes', '1 hour'),
(2, 'south', '20/01/2024', '2024-01-20 08:00', 5.5, '300', 'a_b', 'no', '2 hours'),
(3, 'north', '03/02/2024', '2024-02-03 23:59', 2.0, '15.25', NULL, 'y', '30 minutes'),
(4, 'east', 'garbage', '2024-02-10 00:00', NULL, NULL, '=cmd', NULL, NULL),
(5, 'south', '15/03/2024', '2024-03-15 12:00', 7.5, '99', 'ab', '0', '10 minutes'),
(6, 'north', '31/12/2024', '2024-12-31 18:00', 100.0, '1000', 'Abc', 'true', NULL)
"""

SPECS = [
    ColumnSpec("qty", "BIGINT", "integer"),
    ColumnSpec("region", "VARCHAR", "category"),
    ColumnSpec("day", "VARCHAR", "date", "strptime:%d/%m/%Y"),
    ColumnSpec("ts", "TIMESTAMP", "datetime"),
    ColumnSpec("amount", "DOUBLE", "float"),
    ColumnSpec("price", "VARCHAR", "decimal", "number"),
    ColumnSpec("note", "VARCHAR", "string"),
    ColumnSpec("active", "VARCHAR", "boolean", "boolean"),
    ColumnSpec("wait", "INTERVAL", "duration"),
]


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    out = tmp_path_factory.mktemp("query") / "sales.parquet"
    duckdb.sql(
        "SELECT qty::BIGINT AS qty, region, day, ts::TIMESTAMP AS ts, amount::DOUBLE AS amount,"
        " price, note, active, wait::INTERVAL AS wait"
        f" FROM (VALUES {ROWS}) t(qty, region, day, ts, amount, price, note, active, wait)"
    ).write_parquet(str(out))
    return out


def qtys(path, *filters):
    result = run_query(
        path, SPECS, Query(select=["qty"], filters=list(filters), order=[("qty", "asc")])
    )
    return [row[0] for row in result.rows]


def test_a_row_query_reads_every_column_as_its_logical_type(path):
    result = run_query(path, SPECS, Query())
    assert result.columns == [s.name for s in SPECS]
    assert result.types == [s.type for s in SPECS]
    assert result.rows[0] == [
        1,
        "north",
        "2024-01-05",
        "2024-01-05T10:30:00",
        10.0,
        1200.5,
        "Paid 50%",
        True,
        3600.0,
    ]
    assert result.rows[3][2] is None  # "garbage" is no date: NULL, not an error
    assert (result.total, result.truncated) == (6, False)
    assert "read_parquet" not in result.sql
    json.dumps(result.to_dict())


def test_select_order_limit_and_offset(path):
    query = Query(select=["region", "amount"], order=[("amount", "desc")], limit=2, offset=1)
    result = run_query(path, SPECS, query)
    assert result.columns == ["region", "amount"]
    assert result.rows == [["north", 10.0], ["south", 7.5]]
    assert (result.total, result.truncated) == (6, False)


def test_order_by_a_column_not_selected_puts_missing_values_last(path):
    result = run_query(path, SPECS, Query(select=["qty"], order=[("amount", "asc")]))
    assert [r[0] for r in result.rows] == [3, 2, 5, 1, 6, 4]


def test_the_row_cap_truncates_and_total_still_counts_everything(path):
    result = run_query(path, SPECS, Query(select=["qty"]), max_rows=2)
    assert len(result.rows) == 2
    assert (result.total, result.truncated) == (6, True)
    assert run_query(path, SPECS, Query(select=["qty"]), max_rows=2, with_total=False).total is None


def test_a_limit_below_the_cap_is_not_truncation(path):
    result = run_query(path, SPECS, Query(select=["qty"], limit=2), max_rows=5)
    assert (len(result.rows), result.total, result.truncated) == (2, 6, False)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Filter("region", "eq", "north"), [1, 3, 6]),
        (Filter("region", "ne", "north"), [2, 4, 5]),
        (Filter("amount", "ne", 10), [2, 3, 4, 5, 6]),
        (Filter("amount", "lt", 7.5), [2, 3]),
        (Filter("amount", "le", "7.5"), [2, 3, 5]),
        (Filter("amount", "gt", 7.5), [1, 6]),
        (Filter("amount", "ge", 7.5), [1, 5, 6]),
        (Filter("qty", "gt", "2.5"), [3, 4, 5, 6]),
        (Filter("qty", "le", 2), [1, 2]),
        (Filter("region", "in", ["north", "east"]), [1, 3, 4, 6]),
        (Filter("amount", "not_in", [10, 5.5]), [3, 4, 5, 6]),
        (Filter("day", "between", ["2024-01-10", "2024-03-15"]), [2, 3, 5]),
        (Filter("amount", "between", [None, 5.5]), [2, 3]),
        (Filter("day", "eq", "2024-01-05"), [1]),
        (Filter("day", "eq", dt.date(2024, 12, 31)), [6]),
        (Filter("ts", "ge", "2024-02-03T12:00:00"), [3, 4, 5, 6]),
        (Filter("ts", "lt", "2024-01-20T08:00:00+01:00"), [1]),
        (Filter("ts", "ge", "2024-12-31"), [6]),
        (Filter("active", "eq", True), [1, 3, 6]),
        (Filter("active", "eq", "no"), [2, 5]),
        (Filter("price", "gt", "1000"), [1]),
        (Filter("price", "le", 99), [3, 5]),
        (Filter("wait", "ge", 3600), [1, 2]),
        (Filter("wait", "lt", "00:30:01"), [3, 5]),
        (Filter("note", "contains", "50%"), [1]),
        (Filter("note", "contains", "a_b"), [2]),
        (Filter("note", "contains", "AB"), [5, 6]),
        (Filter("note", "starts_with", "paid"), [1]),
        (Filter("note", "ends_with", "C"), [6]),
        (Filter("amount", "is_null"), [4]),
        (Filter("day", "is_null"), [4]),
        (Filter("note", "not_null"), [1, 2, 4, 5, 6]),
    ],
    ids=lambda v: f"{v.column}-{v.op}" if isinstance(v, Filter) else "",
)
def test_each_filter_reads_its_value_as_the_columns_type(path, flt, expected):
    assert qtys(path, flt) == expected


def test_filters_combine_with_and(path):
    assert qtys(path, Filter("region", "eq", "north"), Filter("amount", "lt", 50)) == [1, 3]
    assert count(path, SPECS, [Filter("region", "eq", "north"), Filter("amount", "lt", 50)]) == 2


@pytest.mark.parametrize(
    "flt",
    [
        Filter("day", "eq", "31/31/2024"),
        Filter("day", "eq", "2024-02-30"),
        Filter("day", "eq", "2024-01-05T10:00:00"),
        Filter("ts", "ge", "yesterday"),
        Filter("qty", "eq", "abc"),
        Filter("qty", "eq", True),
        Filter("amount", "gt", [1]),
        Filter("price", "gt", "1,000"),
        Filter("active", "eq", "maybe"),
        Filter("region", "eq", {"a": 1}),
        Filter("wait", "gt", "forever"),
        Filter("region", "in", []),
        Filter("region", "in", "north"),
        Filter("amount", "between", [1]),
        Filter("amount", "between", [None, None]),
        Filter("amount", "contains", "1"),
        Filter("note", "contains", 5),
        Filter("region", "like", "n%"),
    ],
    ids=lambda f: f"{f.column}-{f.op}-{f.value!r}",
)
def test_a_value_the_column_cannot_hold_is_invalid_filter(path, flt):
    with pytest.raises(TableError) as err:
        run_query(path, SPECS, Query(filters=[flt]))
    assert err.value.code == "INVALID_FILTER"
    assert err.value.details["column"] == flt.column


def test_values_are_bound_never_formatted_into_the_sql(path):
    hostile = "x' OR 1=1 --"
    result = run_query(path, SPECS, Query(filters=[Filter("region", "eq", hostile)]))
    assert result.rows == []
    assert hostile not in result.sql and "?" in result.sql


def test_column_names_with_quotes_and_spaces_work(tmp_path):
    out = tmp_path / "odd.parquet"
    duckdb.sql("""SELECT 1 AS "net ""eur"" sales", 'a' AS "x'y" """).write_parquet(str(out))
    specs = [
        ColumnSpec('net "eur" sales', "INTEGER", "integer"),
        ColumnSpec("x'y", "VARCHAR", "string"),
    ]
    query = Query(
        filters=[Filter("x'y", "eq", "a")], aggregates=[Aggregate("sum", 'net "eur" sales')]
    )
    assert run_query(out, specs, query).rows == [[1]]


@pytest.mark.parametrize(
    "query",
    [
        Query(select=["regoin"]),
        Query(filters=[Filter("regoin", "eq", "north")]),
        Query(order=[("regoin", "asc")]),
        Query(group_by=["regoin"]),
        Query(aggregates=[Aggregate("sum", "amout")]),
    ],
)
def test_unknown_columns_name_the_close_ones(path, query):
    with pytest.raises(TableError) as err:
        run_query(path, SPECS, query)
    assert err.value.code == "UNKNOWN_COLUMN"
    assert err.value.details["suggestions"][0] in ("region", "amount")
    assert "Did you mean" in err.value.message


def test_group_by_with_every_aggregate(path):
    query = Query(
        group_by=["region"],
        aggregates=[
            Aggregate("count"),
            Aggregate("count", "amount"),
            Aggregate("sum", "amount", "total"),
            Aggregate("mean", "qty"),
            Aggregate("median", "amount"),
            Aggregate("min", "day"),
            Aggregate("max", "ts"),
            Aggregate("distinct", "active"),
            Aggregate("sum", "price"),
        ],
    )
    result = run_query(path, SPECS, query)
    assert result.columns == [
        "region",
        "count",
        "count_amount",
        "total",
        "mean_qty",
        "median_amount",
        "min_day",
        "max_ts",
        "distinct_active",
        "sum_price",
    ]
    assert result.types == [
        "category",
        "integer",
        "integer",
        "float",
        "float",
        "float",
        "date",
        "datetime",
        "integer",
        "decimal",
    ]
    assert result.rows == [
        ["east", 1, 0, None, 4.0, None, None, "2024-02-10T00:00:00", 0, None],
        ["north", 3, 3, 112.0, 10 / 3, 10.0, "2024-01-05", "2024-12-31T18:00:00", 1, 2215.75],
        ["south", 2, 2, 13.0, 3.5, 6.5, "2024-01-20", "2024-03-15T12:00:00", 1, 399.0],
    ]
    assert (result.total, result.truncated) == (3, False)


def test_aggregates_without_keys_give_one_row(path):
    query = Query(filters=[Filter("region", "ne", "east")], aggregates=[Aggregate("sum", "qty")])
    assert run_query(path, SPECS, query).rows == [[17]]


def test_group_keys_alone_list_the_distinct_combinations(path):
    query = Query(group_by=["region", "active"], order=[("region", "desc"), ("active", "asc")])
    assert run_query(path, SPECS, query).rows == [
        ["south", False],
        ["north", True],
        ["east", None],
    ]


def test_a_grouped_answer_cut_short_counts_its_groups(path):
    query = Query(group_by=["region"], aggregates=[Aggregate("count")])
    result = run_query(path, SPECS, query, max_rows=1)
    assert result.rows == [["east", 1]]
    assert (result.total, result.truncated) == (3, True)


def test_order_by_an_aggregate(path):
    query = Query(
        group_by=["region"],
        aggregates=[Aggregate("sum", "qty", "units")],
        order=[("units", "desc")],
    )
    assert run_query(path, SPECS, query).rows == [["north", 10], ["south", 7], ["east", 4]]


@pytest.mark.parametrize(
    ("bucket", "keys", "logical"),
    [
        (
            Bucket("day", "month"),
            ["2024-01-01", "2024-02-01", "2024-03-01", "2024-12-01", None],
            "date",
        ),
        (Bucket("day", "quarter"), ["2024-01-01", "2024-10-01", None], "date"),
        (Bucket("day", "year"), ["2024-01-01", None], "date"),
        (
            Bucket("day", "week"),
            ["2024-01-01", "2024-01-15", "2024-01-29", "2024-03-11", "2024-12-30", None],
            "date",
        ),
        (
            Bucket("ts", "day"),
            [f"2024-{d}T00:00:00" for d in ("01-05", "01-20", "02-03", "02-10", "03-15", "12-31")],
            "datetime",
        ),
        (Bucket("ts", "hour"), ["2024-01-05T10:00:00", "2024-01-20T08:00:00"], "datetime"),
    ],
    ids=lambda v: f"{v.column}-{v.unit}" if isinstance(v, Bucket) else "",
)
def test_time_buckets_are_group_keys_in_time_order(path, bucket, keys, logical):
    result = run_query(path, SPECS, Query(bucket=bucket, aggregates=[Aggregate("count")]))
    assert result.columns == [bucket.name, "count"]
    assert result.types[0] == logical
    assert [r[0] for r in result.rows][: len(keys)] == keys


def test_a_bucket_comes_before_the_other_keys(path):
    query = Query(
        bucket=Bucket("day", "year"), group_by=["region"], aggregates=[Aggregate("sum", "qty")]
    )
    assert run_query(path, SPECS, query).rows == [
        ["2024-01-01", "north", 10],
        ["2024-01-01", "south", 7],
        [None, "east", 4],
    ]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (Query(bucket=Bucket("region", "month")), "INVALID_BUCKET"),
        (Query(bucket=Bucket("day", "hour")), "INVALID_BUCKET"),
        (Query(bucket=Bucket("ts", "fortnight")), "INVALID_BUCKET"),
        (Query(aggregates=[Aggregate("sum", "region")]), "INVALID_AGGREGATE"),
        (Query(aggregates=[Aggregate("mean", "day")]), "INVALID_AGGREGATE"),
        (Query(aggregates=[Aggregate("median", "active")]), "INVALID_AGGREGATE"),
        (Query(aggregates=[Aggregate("sum")]), "INVALID_AGGREGATE"),
        (Query(aggregates=[Aggregate("mode", "qty")]), "INVALID_AGGREGATE"),
        (Query(aggregates=[Aggregate("sum", "qty"), Aggregate("sum", "qty")]), "INVALID_AGGREGATE"),
        (
            Query(group_by=["qty"], aggregates=[Aggregate("max", "amount", "qty")]),
            "INVALID_AGGREGATE",
        ),
        (Query(select=["qty"], group_by=["region"]), "INVALID_QUERY"),
        (Query(order=[("qty", "up")]), "INVALID_QUERY"),
        (Query(limit=-1), "INVALID_QUERY"),
        (Query(offset=-1), "INVALID_QUERY"),
        (Query(select=[]), "INVALID_QUERY"),
    ],
)
def test_queries_that_cannot_run_say_why(path, query, code):
    with pytest.raises(TableError) as err:
        run_query(path, SPECS, query)
    assert err.value.code == code


def test_min_and_max_work_on_any_type(path):
    query = Query(aggregates=[Aggregate("min", "region"), Aggregate("max", "note")])
    assert run_query(path, SPECS, query).rows == [["east", "ab"]]


def test_a_dataset_without_specs_reads_the_files_own_types(path):
    result = run_query(path, [], Query(select=["qty", "day"], limit=1))
    assert (result.types, result.rows) == (["integer", "string"], [[1, "05/01/2024"]])


def test_count(path):
    assert count(path, SPECS) == 6
    assert count(path, SPECS, [Filter("day", "ge", "2024-02-01")]) == 3


def test_top_n(path):
    result = top_n(path, SPECS, "amount", 2)
    assert [r[0] for r in result.rows] == [6, 1]
    result = top_n(path, SPECS, "amount", 2, [Filter("region", "eq", "south")], descending=False)
    assert [r[0] for r in result.rows] == [2, 5]
    assert result.total == 2
    with pytest.raises(TableError) as err:
        top_n(path, SPECS, "amount", 0)
    assert err.value.code == "INVALID_QUERY"


def test_what_if_scales_the_column_before_aggregating(path):
    [entry] = what_if(path, SPECS, "amount", 10, "sum")
    assert entry["group"] == {}
    assert entry["baseline"] == 125.0
    assert entry["altered"] == pytest.approx(137.5)
    assert entry["change"] == pytest.approx(12.5)
    assert entry["change_percent"] == pytest.approx(10)
    assert {"column": "amount", "percent": 10, "aggregate": "sum"}.items() <= entry.items()


def test_what_if_per_group_with_filters(path):
    entries = what_if(
        path, SPECS, "price", -50, "mean", group_by=["region"], filters=[Filter("qty", "ge", 2)]
    )
    assert [e["group"] for e in entries] == [
        {"region": "east"},
        {"region": "north"},
        {"region": "south"},
    ]
    assert [(e["baseline"], e["altered"], e["change"]) for e in entries] == [
        (None, None, None),
        (pytest.approx(507.625), pytest.approx(253.8125), pytest.approx(-253.8125)),
        (pytest.approx(199.5), pytest.approx(99.75), pytest.approx(-99.75)),
    ]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("region", 10, "sum"), "INVALID_AGGREGATE"),
        (("amount", 10, "count"), "INVALID_AGGREGATE"),
        (("amount", float("inf"), "sum"), "INVALID_QUERY"),
        (("amount", "10", "sum"), "INVALID_QUERY"),
        (("amonut", 10, "sum"), "UNKNOWN_COLUMN"),
    ],
)
def test_what_if_refuses_what_it_cannot_scale(path, args, code):
    with pytest.raises(TableError) as err:
        what_if(path, SPECS, *args)
    assert err.value.code == code


def test_a_query_past_its_time_limit_is_interrupted():
    started = time.perf_counter()
    with pytest.raises(TableError) as err, session(Limits(timeout_s=0.2), error_code="X") as con:
        con.execute("SELECT count(*) FROM range(10000000000) WHERE range % 7 = 3").fetchall()
    assert err.value.code == "QUERY_TIMEOUT"
    assert time.perf_counter() - started < 5


def test_a_query_past_its_memory_limit_is_too_large():
    with (
        pytest.raises(TableError) as err,
        session(Limits(memory_limit="32MB"), error_code="X") as con,
    ):
        con.execute("SELECT list(range::VARCHAR) FROM range(20000000)").fetchall()
    assert err.value.code == "QUERY_TOO_LARGE"


def test_a_missing_file_is_query_failed(tmp_path):
    with pytest.raises(TableError) as err:
        run_query(tmp_path / "gone.parquet", SPECS, Query())
    assert err.value.code == "QUERY_FAILED"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
        (float("inf"), None),
        (b"\x00\x01", "AAE="),
        ({"a": [dt.date(2024, 1, 1)]}, {"a": ["2024-01-01"]}),
    ],
)
def test_values_come_back_json_able(value, expected):
    assert jsonable(value) == expected
