"""A stream schema applied to rows: metric and dimension columns, transforms, filters,
the missing-dimension policy, header checks, aggregation per bucket and row counts."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from augury.engines.collect.mapping import (
    ColumnMismatch,
    Point,
    SchemaError,
    TimeDefinition,
    parse_schema,
    parse_time_definition,
    to_points,
    validate_columns,
)
from augury.engines.collect.timeparse import MixedFormats

T0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
TIME = TimeDefinition("ts", "epoch_seconds")

# The seed's Google Ads stream (scale, unit, counter, dummy dimension) ...
ADS = {
    "sourceColumns": [{"name": n, "id": n} for n in ("Cost", "Clicks", "Country")],
    "columns": [
        {
            "id": "32dd",
            "hidden": False,
            "name": "Cost",
            "metricTags": {"unit": "USD"},
            "type": "metric",
            "targetType": "counter",
            "transform": {
                "parameters": ["0.000001"],
                "name": "scale",
                "input": [{"sourceColumn": "Cost"}],
            },
        },
        {
            "name": "Clicks",
            "sourceColumn": "Clicks",
            "type": "metric",
            "targetType": "counter",
            "hidden": False,
        },
        {"name": "country", "sourceColumn": "Country", "type": "dimension", "hidden": False},
        {
            "name": "Dummy Dimension",
            "hidden": False,
            "transform": {"parameters": ["1"], "name": "dummy", "input": []},
            "type": "dimension",
        },
    ],
}


def ads_rows():
    return [
        {"ts": T0 + 10, "Cost": 2_000_000, "Clicks": 3, "Country": "ES"},
        {"ts": T0 + 20, "Cost": 1_000_000, "Clicks": 1, "Country": "ES"},
        {"ts": T0 + 30, "Cost": 5_000_000, "Clicks": 7, "Country": "FR"},
    ]


def by_key(points: list[Point]) -> dict[tuple, float]:
    return {(p.what, tuple(sorted(p.dimensions.items())), p.timestamp): p.value for p in points}


def test_seed_google_ads_stream_scale_unit_counter_and_dummy_dimension():
    out = to_points(ads_rows(), parse_schema(ADS), TIME, interval="hourly")
    got = by_key(out.points)
    es = (("Dummy_Dimension", "1"), ("country", "ES"))
    assert got[("Cost", es, T0)] == pytest.approx(3.0)  # micros scaled to USD, summed
    assert got[("Clicks", es, T0)] == 4.0
    cost = next(p for p in out.points if p.what == "Cost")
    assert cost.unit == "USD" and cost.target_type == "counter"
    sample = cost.to_anodot()
    assert sample["tags"] == {"unit": ["USD"]}
    assert sample["properties"]["target_type"] == "counter"
    json.dumps(sample)  # plain JSON, ready for the ingestion path
    assert out.rows_read == out.rows_used == 3 and not out.rows_skipped


def test_the_seed_s3_stream_by_column_position():
    # CSV without a header: source columns by index, time column index 5
    schema = parse_schema(
        {
            "columns": [
                {"targetType": "gauge", "sourceColumn": "0", "name": "id", "type": "metric"},
                {"name": "cloths", "sourceColumn": "4", "type": "dimension"},
            ],
            "sourceColumns": [{"id": str(i), "index": i} for i in range(5)],
        },
        missing_dim_policy={"action": "fill", "fill": "unknown"},
    )
    td = parse_time_definition(
        {"timeDefinition": {"timeColumnIdx": 5, "timePattern": "epoch_seconds"}}
    )
    frame = pd.DataFrame([[4, 0, 0, 0, "shirt", T0], [6, 0, 0, 0, None, T0]])
    got = by_key(to_points(frame, schema, td).points)
    assert got == {
        ("id", (("cloths", "shirt"),), T0): 4.0,
        ("id", (("cloths", "unknown"),), T0): 6.0,
    }


def test_gauges_are_averaged_counters_summed_per_bucket():
    schema = parse_schema(
        {
            "columns": [
                {"name": "temp", "type": "metric", "sourceColumn": "temp"},
                {"name": "hits", "type": "metric", "sourceColumn": "hits", "targetType": "counter"},
            ]
        }
    )
    rows = {"ts": [T0, T0 + 1800, T0 + 3600], "temp": [10, 20, 5], "hits": [1, 2, 3]}
    got = by_key(to_points(rows, schema, TIME, interval="hourly").points)
    assert got == {
        ("temp", (), T0): 15.0,
        ("hits", (), T0): 3.0,
        ("temp", (), T0 + 3600): 5.0,
        ("hits", (), T0 + 3600): 3.0,
    }


def test_out_of_order_and_duplicate_rows_give_the_same_points():
    schema = parse_schema(ADS)
    rows = ads_rows() * 3  # each row three times: summed three times, but stably
    once = to_points(rows, schema, TIME, interval="hourly").points
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    assert to_points(shuffled, schema, TIME, interval="hourly").points == once
    # re-reading the bucket gives exactly the same points: idempotent
    assert to_points(rows, schema, TIME, interval="hourly").points == once


def test_buckets_follow_the_stream_time_zone():
    schema = parse_schema({"columns": [{"name": "n", "type": "metric", "sourceColumn": "n"}]})
    # 23:30 UTC on 31 Dec is 00:30 on 1 Jan in Madrid: the daily bucket of 1 Jan local
    rows = {"ts": [T0 - 1800], "n": [1]}
    out = to_points(rows, schema, TIME, "Europe/Madrid", interval="daily")
    assert out.points[0].timestamp == T0 - 3600


def test_rename_and_concat():
    schema = parse_schema(
        {
            "columns": [
                {"name": "revenue", "type": "metric", "sourceColumn": "amt"},
                {
                    "name": "site",
                    "type": "dimension",
                    "transform": {
                        "name": "concat",
                        "parameters": ["-"],
                        "input": [{"sourceColumn": "region"}, {"sourceColumn": "dc"}],
                    },
                },
            ]
        }
    )
    rows = [{"ts": T0, "amt": 5, "region": "eu", "dc": 3}]
    (point,) = to_points(rows, schema, TIME).points
    assert dict(point.properties) == {"what": "revenue", "site": "eu-3"}


def test_hidden_columns_are_ignored_everywhere():
    schema = parse_schema(
        {
            "columns": [
                {"name": "n", "type": "metric", "sourceColumn": "n"},
                {"name": "secret", "type": "dimension", "sourceColumn": "s", "hidden": True},
            ]
        }
    )
    assert [c.name for c in schema.columns] == ["n"]
    validate_columns(schema, ["ts", "n"], TIME)  # the hidden one's source is not needed
    (point,) = to_points([{"ts": T0, "n": 1}], schema, TIME).points
    assert dict(point.properties) == {"what": "n"}


@pytest.mark.parametrize(
    "filters, kept",
    [
        ([{"path": "Country", "value": "ES"}], {"ES"}),
        ([{"sourceColumn": "Country", "operation": "in", "values": ["ES", "FR"]}], {"ES", "FR"}),
        ([{"sourceColumn": "Country", "operation": "notEquals", "value": "ES"}], {"FR"}),
        ([{"sourceColumn": "Country", "value": "ES", "not": True}], {"FR"}),
        ([{"sourceColumn": "Clicks", "value": 7}], {"FR"}),  # numbers compare as text
    ],
)
def test_filters(filters, kept):
    out = to_points(ads_rows(), parse_schema(ADS, filters=filters), TIME)
    assert {p.dimensions["country"] for p in out.points} == kept
    assert out.rows_filtered + out.rows_used == 3


@pytest.mark.parametrize(
    "policy, dims, used",
    [
        (
            {"action": "fill", "fill": "none given"},
            [{"country": "ES"}, {"country": "none_given"}],
            2,
        ),
        ({"action": "ignore"}, [{}, {"country": "ES"}], 2),  # the metric without the dimension
        ({"action": "skip"}, [{"country": "ES"}], 1),
        ({"action": "fail"}, [{"country": "ES"}], 1),
    ],
)
def test_missing_dimension_policy(policy, dims, used):
    schema = parse_schema(
        {
            "columns": [
                {"name": "n", "type": "metric", "sourceColumn": "n"},
                {"name": "country", "type": "dimension", "sourceColumn": "c"},
            ]
        },
        missing_dim_policy=policy,
    )
    rows = [{"ts": T0, "n": 1, "c": "ES"}, {"ts": T0, "n": 2, "c": "  "}]
    out = to_points(rows, schema, TIME)
    assert sorted((p.dimensions for p in out.points), key=len) == sorted(dims, key=len)
    assert out.rows_used == used
    if used == 1:
        assert out.rows_skipped == {"dimension 'country' empty": 1}


def test_counts_say_what_was_skipped_and_why():
    schema = parse_schema(ADS)
    rows = [
        *ads_rows(),
        {"ts": "", "Cost": 1, "Clicks": 1, "Country": "ES"},  # no time
        {"ts": "soon", "Cost": 1, "Clicks": 1, "Country": "ES"},  # unreadable time
        {"ts": T0 + 7200, "Cost": 1, "Clicks": 1, "Country": "ES"},  # outside the poll
        {"ts": T0 + 40, "Cost": "n/a", "Clicks": Decimal("2"), "Country": "ES"},
    ]
    out = to_points(rows, schema, TIME, interval="hourly", window=(T0, T0 + 3600))
    assert out.rows_read == 7
    assert out.rows_used == 4
    assert out.rows_skipped == {"time unreadable": 2, "time outside the polled range": 1}
    assert out.values_skipped == {"metric 'Cost' not a number": 1}
    assert set(out.invalid_times) == {3, 4}
    assert by_key(out.points)[("Clicks", (("Dummy_Dimension", "1"), ("country", "ES")), T0)] == 6


def test_a_time_column_with_mixed_formats_is_an_error_not_misparsed():
    schema = parse_schema(ADS)
    rows = [*ads_rows(), {"ts": (T0 + 50) * 1000, "Cost": 1, "Clicks": 1, "Country": "ES"}]
    with pytest.raises(MixedFormats, match="epoch_millis"):
        to_points(rows, schema, TIME)


def test_booleans_count_and_names_are_made_safe_for_anodot_20():
    # the seed's PostgreSQL stream: is_paused (a boolean column) as a counter
    schema = parse_schema(
        {
            "columns": [
                {
                    "name": "is_paused",
                    "type": "metric",
                    "targetType": "counter",
                    "sourceColumn": "p",
                },
                {"name": "serverId.id", "type": "dimension", "sourceColumn": "s"},
            ]
        }
    )
    rows = [
        {"ts": T0, "p": True, "s": "a b"},
        {"ts": T0, "p": False, "s": "a b"},
        {"ts": T0, "p": True, "s": "a b"},
    ]
    (point,) = to_points(rows, schema, TIME).points
    assert dict(point.properties) == {"what": "is_paused", "serverId_id": "a_b"}
    assert point.value == 2.0
    raw = to_points(rows, schema, TIME, sanitize=False).points[0]
    assert raw.dimensions == {"serverId.id": "a b"}


def test_a_changed_header_names_missing_and_extra_columns():
    schema = parse_schema(ADS)
    validate_columns(schema, ["ts", "Cost", "Clicks", "Country", "More"], TIME)  # extra is fine
    with pytest.raises(ColumnMismatch) as info:
        validate_columns(schema, ["ts", "Cost", "clicks", "Country"], TIME)
    assert info.value.missing == ["Clicks"] and info.value.extra == ["clicks"]
    with pytest.raises(ColumnMismatch, match="'ts'"):
        validate_columns(schema, ["Cost", "Clicks", "Country"], TIME)
    with pytest.raises(ColumnMismatch, match="'Clicks'"):
        to_points([{"ts": T0, "Cost": 1, "Country": "ES"}], schema, TIME)


def test_positions_beyond_the_row_are_missing():
    schema = parse_schema(
        {
            "columns": [{"name": "n", "type": "metric", "sourceColumn": "n"}],
            "sourceColumns": [{"id": "n", "index": 3}],
        }
    )
    with pytest.raises(ColumnMismatch, match="'3'"):
        validate_columns(schema, ["a", "b", "c"], TimeDefinition(0, "epoch_seconds"))


@pytest.mark.parametrize(
    "columns, message",
    [
        ([], "no visible metric"),
        ([{"name": "n", "type": "metric"}], "no 'sourceColumn'"),
        ([{"name": "n", "type": "measure", "sourceColumn": "n"}], "'metric' or 'dimension'"),
        (
            [{"name": "n", "type": "metric", "sourceColumn": "n", "targetType": "rate"}],
            "'gauge' or 'counter'",
        ),
        (
            [
                {
                    "name": "n",
                    "type": "metric",
                    "sourceColumn": "n",
                    "transform": {"name": "explode"},
                }
            ],
            "unknown transform 'explode'; one of: scale",
        ),
        (
            [
                {
                    "name": "n",
                    "type": "metric",
                    "sourceColumn": "n",
                    "transform": {"name": "scale", "parameters": ["x"]},
                }
            ],
            "scale needs one numeric parameter",
        ),
        (
            [
                {"name": "n", "type": "metric", "sourceColumn": "n"},
                {"name": "n", "type": "dimension", "sourceColumn": "m"},
            ],
            "unique",
        ),
        (
            [
                {"name": "n", "type": "metric", "sourceColumn": "n"},
                {"name": "what", "type": "dimension", "sourceColumn": "m"},
            ],
            "may not be named 'what'",
        ),
        (
            [
                {"name": "n", "type": "metric", "sourceColumn": "n"},
                {"name": "d", "type": "dimension", "transform": {"name": "dummy"}},
            ],
            "dummy needs its value",
        ),
    ],
)
def test_bad_schemas_are_refused_clearly(columns, message):
    with pytest.raises(SchemaError, match=message):
        parse_schema({"columns": columns})


def test_bad_policy_and_filter_are_refused():
    ok = {"columns": [{"name": "n", "type": "metric", "sourceColumn": "n"}]}
    with pytest.raises(SchemaError, match="missingDimPolicy"):
        parse_schema(ok, missing_dim_policy={"action": "guess"})
    with pytest.raises(SchemaError, match="operation"):
        parse_schema(ok, filters=[{"path": "x", "operation": "like", "value": "a%"}])
    with pytest.raises(SchemaError, match="names its column"):
        parse_schema(ok, filters=[{"value": "a"}])


def test_time_definitions_of_the_seed_streams():
    assert parse_time_definition(
        {"timeDefinition": {"path": "checksum.time", "timePattern": "epoch_millis"}}
    ) == TimeDefinition("checksum.time", "epoch_millis")
    assert parse_time_definition(
        {"timestampColumn": "t", "timestampType": "UNIX_MILLIS"}
    ) == TimeDefinition("t", "epoch_millis")
    with pytest.raises(SchemaError, match="no time column"):
        parse_time_definition({"timeDefinition": {"timePattern": "epoch_millis"}})


def test_a_large_batch_is_vectorised():
    n = 200_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "ts": T0 + rng.integers(0, 86400, n),
            "Cost": rng.integers(0, 1000, n),
            "Clicks": rng.integers(0, 10, n),
            "Country": rng.choice(["ES", "FR", "DE", "IT"], n),
        }
    )
    out = to_points(frame, parse_schema(ADS), TIME, interval="hourly")
    assert len(out.points) == 2 * 4 * 24
    assert sum(p.value for p in out.points if p.what == "Clicks") == frame["Clicks"].sum()


def test_names_that_become_the_same_once_made_safe_are_refused():
    schema = parse_schema(
        {
            "columns": [
                {"name": "n", "type": "metric", "sourceColumn": "n"},
                {"name": "a.b", "type": "dimension", "sourceColumn": "x"},
                {"name": "a b", "type": "dimension", "sourceColumn": "y"},
            ]
        }
    )
    with pytest.raises(SchemaError, match="both become 'a_b'"):
        to_points([{"ts": T0, "n": 1, "x": 1, "y": 2}], schema, TIME)
    assert (
        len(to_points([{"ts": T0, "n": 1, "x": 1, "y": 2}], schema, TIME, sanitize=False).points)
        == 1
    )


def test_filters_on_a_column_with_empty_cells():
    schema = parse_schema(
        ADS, filters=[{"path": "Country", "operation": "notIn", "values": ["FR"]}]
    )
    rows = [*ads_rows(), {"ts": T0, "Cost": 1, "Clicks": 1, "Country": None}]
    out = to_points(rows, schema, TIME)
    assert out.rows_filtered == 1 and out.rows_used == 3
    assert {p.dimensions["country"] for p in out.points} == {"ES", "unknown"}
