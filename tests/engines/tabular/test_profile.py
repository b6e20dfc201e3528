"""The table profile: logical types, overrides, statistics, hints and the quality score
on small Parquet files written here."""

from __future__ import annotations

import doctest
import json

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from augury.engines.tabular import _profile_countries as countries_module
from augury.engines.tabular import profile as profile_module
from augury.engines.tabular.columns import view_sql
from augury.engines.tabular.errors import TableError
from augury.engines.tabular.profile import profile, specs

N = 60


def cycle(values: list, n: int = N) -> list:
    return [values[i % len(values)] for i in range(n)]


def write(tmp_path, columns: dict, name: str = "t.parquet"):
    path = tmp_path / name
    pq.write_table(pa.table(columns), path)
    return path


def by_name(result: dict) -> dict[str, dict]:
    return {c["name"]: c for c in result["columns"]}


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    """One table with a column of every layout the profile recognises."""
    folder = tmp_path_factory.mktemp("typed")
    columns = {
        "iso_day": cycle(["2024-01-05", "2024-02-10", "2023-12-31"]),
        "day_first": cycle(["31/12/2024", "01/02/2024", "15/06/2023"]),
        "month_first": cycle(["12/31/2024", "01/02/2024", "06/15/2023"]),
        "dotted": cycle(["31.12.2024", "01.02.2024"]),
        "minutes": cycle(["2024-12-31 23:59", "2024-01-01 00:00"]),
        "iso_stamp": cycle(["2024-12-31T23:59:00Z", "2024-01-01T10:00:00+02:00"]),
        "us_stamp": cycle(["12/31/2024 11:59 PM", "01/02/2024 08:00 AM"]),
        "month_name": cycle(["Dec 31, 2024", "Jan 5, 2023"]),
        "day_month_name": cycle(["31 Dec 2024", "5 Jan 2023"]),
        "clock": cycle(["01:02:03", "00:10:00", "12:00:00"]),
        "spelled": cycle(["3 days", "2 hours", "1 day"]),
        "money": cycle(["$1,200.50", "$3.00", "$12.25"]),
        "percent": cycle(["45%", "12.5%", "100%"]),
        "thousands": cycle(["1,200", "3,400,000", "12"]),
        "fixed": cycle(["12.50", "3.00", "7.25"]),
        "reals": [str(i * 1.37) for i in range(N)],
        "counts": [str(i % 7) for i in range(N)],
        "zips": [f"0{2000 + i}" for i in range(N)],
        "yes_no": cycle(["yes", "no", "Yes"]),
        "true_false": cycle(["true", "false"]),
        "y_n": cycle(["Y", "N", "n"]),
        "colour": cycle(["red", "green", "blue"]),
        "words": [f"word {i}" for i in range(N)],
        "whole_doubles": [float(i % 9) for i in range(N)],
        "doubles": [i / 3 for i in range(N)],
        "cents": [i + 0.25 * (i % 4) for i in range(N)],
        "event_time": [1_700_000_000 + 3600 * i for i in range(N)],
        "created_at": [1_700_000_000_000 + 3_600_000 * i for i in range(N)],
        "big_number": [1_700_000_000 + 3600 * i for i in range(N)],
        "flag": cycle([True, False, None]),
    }
    path = write(folder, columns)
    return path, by_name(profile(path))


@pytest.mark.parametrize(
    ("column", "kind", "parse"),
    [
        ("iso_day", "date", "strptime:%Y-%m-%d"),
        ("day_first", "date", "strptime:%d/%m/%Y"),
        ("month_first", "date", "strptime:%m/%d/%Y"),
        ("dotted", "date", "strptime:%d.%m.%Y"),
        ("minutes", "datetime", None),
        ("iso_stamp", "datetime", None),
        ("us_stamp", "datetime", "strptime:%m/%d/%Y %I:%M %p"),
        ("month_name", "date", "strptime:%b %d, %Y"),
        ("day_month_name", "date", "strptime:%d %b %Y"),
        ("clock", "duration", None),
        ("spelled", "duration", None),
        ("money", "decimal", "number"),
        ("percent", "float", "number"),
        ("thousands", "integer", "number"),
        ("fixed", "decimal", None),
        ("reals", "float", None),
        ("counts", "integer", None),
        ("zips", "string", None),
        ("yes_no", "boolean", "boolean"),
        ("true_false", "boolean", "boolean"),
        ("y_n", "boolean", "boolean"),
        ("colour", "category", None),
        ("words", "string", None),
        ("whole_doubles", "integer", None),
        ("doubles", "float", None),
        ("cents", "decimal", None),
        ("event_time", "datetime", "epoch_s"),
        ("created_at", "datetime", "epoch_ms"),
        ("big_number", "integer", None),
        ("flag", "boolean", None),
    ],
)
def test_each_layout_gets_its_type_and_parse(typed, column, kind, parse):
    _, columns = typed
    assert (columns[column]["type"], columns[column]["parse"]) == (kind, parse)
    assert columns[column]["mixed"] is False


def test_the_parses_read_every_value_through_view_sql(typed):
    path, columns = typed
    result = {"columns": list(columns.values())}
    view = view_sql(f"read_parquet('{path}')", specs(result))
    row = duckdb.execute(f"SELECT * FROM ({view}) LIMIT 1").fetchone()
    assert row is not None
    first = dict(zip(columns, row, strict=True))
    assert str(first["day_first"]) == "2024-12-31"
    assert str(first["month_first"]) == "2024-12-31"
    assert float(first["money"]) == 1200.5
    assert first["percent"] == 45.0
    assert first["yes_no"] is True
    assert str(first["created_at"]) == "2023-11-14 22:13:20"
    nulls = duckdb.execute(
        "SELECT " + ", ".join(f'count("{name}")' for name in columns) + f" FROM ({view})"
    ).fetchone()
    expected = [N - N // 3 if name == "flag" else N for name in columns]
    assert list(nulls or ()) == expected


def test_day_first_wins_when_a_day_is_above_twelve(tmp_path):
    path = write(tmp_path, {"d": ["01/02/2024", "03/04/2024", "25/04/2024", "05/06/2024"]})
    assert by_name(profile(path))["d"]["parse"] == "strptime:%d/%m/%Y"


def test_dates_are_iso_and_histograms_cover_them(typed):
    _, columns = typed
    day = columns["iso_day"]
    assert (day["min"], day["max"]) == ("2023-12-31", "2024-02-10")
    assert day["histogram"]["edges"][0].startswith("2023-12-31")
    assert len(day["histogram"]["counts"]) == 20
    assert sum(day["histogram"]["counts"]) == N
    assert columns["clock"]["min"] == 600.0  # durations in seconds


def test_mixed_column_keeps_its_type_at_95_percent(tmp_path):
    mostly = [f"2024-01-{i % 28 + 1:02d}" for i in range(100)]
    mostly[7] = mostly[40] = "unknown"
    half = [f"2024-01-{i % 28 + 1:02d}" if i % 7 else "n/a" for i in range(100)]
    clean = [f"2024-01-{i % 28 + 1:02d}" for i in range(100)]
    columns = by_name(profile(write(tmp_path, {"mostly": mostly, "half": half, "clean": clean})))
    assert (columns["mostly"]["type"], columns["mostly"]["mixed"]) == ("date", True)
    assert columns["mostly"]["invalid"] == 2
    assert (columns["half"]["type"], columns["half"]["mixed"]) == ("string", True)
    assert columns["clean"]["mixed"] is False
    result = profile(write(tmp_path, {"mostly": mostly, "half": half}, "m.parquet"))
    codes = {(i["column"], i["code"]) for i in result["quality"]["issues"]}
    assert {("mostly", "mixed_types"), ("half", "mixed_types")} <= codes
    assert result["quality"]["mixed_columns"] == ["mostly", "half"]


def test_overrides_win_and_find_their_parse(tmp_path):
    path = write(
        tmp_path,
        {
            "day": cycle(["31/12/2024", "01/02/2024"]),
            "code": cycle(["1", "2", "3"]),
            "stamp": [1_700_000_000 + i for i in range(N)],
            "price": cycle(["$1,200", "$3"]),
            "answer": cycle(["yes", "no"]),
        },
    )
    overrides = {
        "day": "datetime",
        "code": "string",
        "stamp": "date",
        "price": "float",
        "answer": "category",
        "gone": "integer",
    }
    columns = by_name(profile(path, overrides=overrides))
    got = {name: (c["type"], c["parse"], c["override"]) for name, c in columns.items()}
    assert got == {
        "day": ("datetime", "strptime:%d/%m/%Y", "datetime"),
        "code": ("string", None, "string"),
        "stamp": ("date", "epoch_s", "date"),
        "price": ("float", "number", "float"),
        "answer": ("category", None, "category"),
    }
    assert columns["day"]["min"] == "2024-02-01T00:00:00"
    assert columns["price"]["max"] == 1200.0


def test_an_override_the_values_do_not_fit_is_kept_and_flagged(tmp_path):
    path = write(tmp_path, {"name": cycle(["alice", "bob"])})
    column = by_name(profile(path, overrides={"name": "integer"}))["name"]
    assert (column["type"], column["override"], column["mixed"]) == ("integer", "integer", True)
    assert column["invalid"] == N


def test_unknown_override_type_is_refused(tmp_path):
    path = write(tmp_path, {"a": [1, 2]})
    with pytest.raises(TableError) as err:
        profile(path, overrides={"a": "money"})
    assert err.value.code == "INVALID_TYPE"


def test_statistics_match_numpy(tmp_path):
    rng = np.random.default_rng(7)
    values = rng.normal(50, 10, 5000)
    values[:20] = np.nan
    ints = rng.integers(0, 1000, 5000)
    path = write(
        tmp_path,
        {"x": pa.array(values, from_pandas=True), "n": ints, "s": [f"k{i % 40}" for i in ints]},
    )
    columns = by_name(profile(path))
    x, finite = columns["x"], values[20:]
    assert x["nulls"] == 20 and x["nullable"] is True
    assert x["completeness"] == pytest.approx(1 - 20 / 5000)
    assert x["mean"] == pytest.approx(finite.mean())
    assert x["std"] == pytest.approx(finite.std(ddof=1))
    assert x["median"] == pytest.approx(np.median(finite))
    assert (x["min"], x["max"]) == (pytest.approx(finite.min()), pytest.approx(finite.max()))
    counts, edges = np.histogram(finite, bins=20)
    assert x["histogram"]["counts"] == counts.tolist()
    assert x["histogram"]["edges"] == pytest.approx(edges.tolist())
    n = columns["n"]
    assert n["unique"] == len(np.unique(ints)) and n["unique_approx"] is False
    assert (n["min"], n["max"]) == (int(ints.min()), int(ints.max()))
    s = columns["s"]
    labels, freq = np.unique([f"k{i % 40}" for i in ints], return_counts=True)
    top = sorted(zip(freq.tolist(), labels.tolist(), strict=True), key=lambda t: (-t[0], t[1]))
    assert [(t["count"], t["value"]) for t in s["top"]] == top[:10]
    assert s["type"] == "category" and s["unique"] == 40
    assert len(s["samples"]) == 5 and len(set(s["samples"])) == 5


def test_outliers_are_beyond_three_iqr(tmp_path):
    values = [float(i % 100) for i in range(1000)] + [1000.0, -700.0, 400.0]
    column = by_name(profile(write(tmp_path, {"v": values})))["v"]
    q1, q3 = np.percentile(values, [25, 75])
    fence = 3 * (q3 - q1)
    expected = sum(v < q1 - fence or v > q3 + fence for v in values)
    assert column["outliers"] == expected == 3
    constant = by_name(profile(write(tmp_path, {"v": [1.0] * 50 + [9.0]}, "c.parquet")))["v"]
    assert constant["outliers"] == 0  # no spread to measure against


def test_empty_strings_count_as_missing(tmp_path):
    column = by_name(profile(write(tmp_path, {"s": ["a", "", "  ", None, "b"]})))["s"]
    assert (column["nulls"], column["completeness"], column["unique"]) == (3, 0.4, 2)


@pytest.mark.parametrize(
    ("name", "values", "hint"),
    [
        ("contact", [f"user{i}@mail.example.org" for i in range(N)], "email"),
        ("homepage", [f"https://site{i}.example.com/a" for i in range(N)], "url"),
        ("ref", [f"123e4567-e89b-12d3-a456-4266141740{i:02d}" for i in range(N)], "identifier"),
        ("customer_id", [f"C{i:05d}" for i in range(N)], "identifier"),
        ("row", list(range(N)), "identifier"),
        ("origin", cycle(["France", "DE", "USA", "japan", "Brazil"]), "country"),
        ("lat", [-40 + i * 1.1 for i in range(N)], "latitude"),
        ("lng", [-170 + i * 5.5 for i in range(N)], "longitude"),
        ("unit_price", [i + 0.25 for i in range(N)], "currency"),
        ("total", cycle(["$1,200.50", "€3.00"]), "currency"),
        ("conversion_rate", [i / 100 for i in range(N)], "percentage"),
        ("growth", cycle(["12%", "7.5%"]), "percentage"),
        ("phone", cycle(["+1 (555) 010-2345", "+44 20 7946 0958"]), "phone"),
        ("zip", cycle(["02134", "90210-1234"]), "postal_code"),
        ("score", [i * 1.7 for i in range(N)], None),
        ("note", cycle(["ok", "late", "damaged"]), None),
    ],
)
def test_semantic_hints(tmp_path, name, values, hint):
    assert by_name(profile(write(tmp_path, {name: values})))[name]["semantic"] == hint


def test_other_stored_types_profile_as_json(tmp_path):
    path = tmp_path / "odd.parquet"
    duckdb.execute(
        "COPY (SELECT [range, 1] AS l, {'a': range} AS st, 'ab'::BLOB AS b,"
        " to_minutes(range) AS iv, (range / 100)::DECIMAL(10, 2) AS dec, uuid() AS u,"
        " range % 2 = 0 AS flag, CAST('nan' AS DOUBLE) AS nan"
        f" FROM range(30)) TO '{path}' (FORMAT parquet)"
    )
    result = profile(path)
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    columns = by_name(result)
    got = {name: c["type"] for name, c in columns.items()}
    assert got == {
        "l": "string",
        "st": "string",
        "b": "category",
        "iv": "duration",
        "dec": "decimal",
        "u": "string",
        "flag": "boolean",
        "nan": "float",
    }
    assert (columns["iv"]["min"], columns["iv"]["max"]) == (0.0, 1740.0)
    assert columns["u"]["semantic"] == "identifier"
    assert columns["nan"]["mean"] is None and columns["nan"]["histogram"] is None


def test_quality_drops_with_nulls_and_duplicates(tmp_path):
    base = {"a": list(range(100)), "b": [f"v{i}" for i in range(100)]}
    clean = profile(write(tmp_path, base, "clean.parquet"))["quality"]
    holes = {"a": [None if i % 4 == 0 else i for i in range(100)], "b": base["b"]}
    with_nulls = profile(write(tmp_path, holes, "nulls.parquet"))["quality"]
    repeated = {"a": base["a"][:80] + base["a"][:20], "b": base["b"][:80] + base["b"][:20]}
    with_dups = profile(write(tmp_path, repeated, "dups.parquet"))["quality"]
    assert clean["score"] == 1.0 and clean["duplicate_rows"] == 0
    assert with_nulls["score"] < clean["score"]
    assert with_nulls["completeness"] == pytest.approx(0.875)
    assert with_nulls["score"] == pytest.approx(round(0.4 * 0.875 + 0.6, 3))
    assert with_dups["duplicate_rows"] == 20 and with_dups["score"] == pytest.approx(0.96)
    worse = {"a": holes["a"][:80] + holes["a"][:20], "b": repeated["b"]}
    both = profile(write(tmp_path, worse, "both.parquet"))["quality"]
    assert both["score"] < min(with_nulls["score"], with_dups["score"])
    assert ("duplicate_rows", None) in {(i["code"], i["column"]) for i in both["issues"]}


def test_quality_issues_name_their_columns(tmp_path):
    path = write(
        tmp_path,
        {
            "same": ["x"] * 50,
            "sparse": [None] * 40 + ["a"] * 10,
            "empty": pa.array([None] * 50, pa.string()),
        },
    )
    quality = profile(path)["quality"]
    found = {(i["column"], i["code"], i["severity"]) for i in quality["issues"]}
    assert ("same", "constant_column", "warning") in found
    assert ("sparse", "missing_values", "warning") in found
    assert ("empty", "missing_values", "error") in found
    assert quality["constant_columns"] == ["same", "sparse"]
    assert quality["high_null_columns"] == ["sparse", "empty"]
    assert 0 <= quality["score"] < 1


def test_empty_table_scores_zero(tmp_path):
    path = write(tmp_path, {"a": pa.array([], pa.int64())})
    result = profile(path)
    assert result["rows"] == 0 and result["quality"]["score"] == 0.0
    assert result["quality"]["issues"][0]["code"] == "empty_table"


def test_output_is_json_with_the_documented_fields(typed):
    path, _ = typed
    calls: list[tuple[float, str]] = []
    result = profile(path, progress=lambda pct, msg: calls.append((pct, msg)))
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    fields = {
        "name", "type", "physical", "parse", "nullable", "nulls", "completeness", "unique",
        "unique_approx", "min", "max", "mean", "std", "median", "top", "samples", "histogram",
        "semantic", "outliers", "mixed", "override", "invalid",
    }  # fmt: skip
    assert all(set(c) == fields for c in result["columns"])
    assert {"score", "completeness", "duplicate_rows", "issues"} <= set(result["quality"])
    percents = [p for p, _ in calls]
    assert percents == sorted(percents) and percents[-1] == 100.0


def test_large_tables_estimate_distinct_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(profile_module, "EXACT_LIMIT", 100)
    path = write(tmp_path, {"n": list(range(1000)), "k": cycle(["a", "b"], 1000)})
    columns = by_name(profile(path, sample_size=200))
    assert columns["n"]["unique_approx"] is True
    assert columns["n"]["unique"] == pytest.approx(1000, rel=0.05)
    assert columns["n"]["median"] == pytest.approx(499.5, rel=0.02)
    assert columns["k"]["top"] == [{"value": "a", "count": 500}, {"value": "b", "count": 500}]


@pytest.mark.parametrize("module", [profile_module, countries_module])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_unnamed_unique_integers_are_identifiers_only_when_numbered_like_keys(tmp_path):
    path = write(
        tmp_path,
        {
            "seq": list(range(1000, 1100)),
            "spread": [(i * 37_003) % 1_000_003 for i in range(100)],
        },
    )
    semantic = {c["name"]: c["semantic"] for c in profile(path)["columns"]}
    assert semantic == {"seq": "identifier", "spread": None}
    small = write(tmp_path, {"units": [3, 5, 7]}, name="small.parquet")
    (units,) = profile(small)["columns"]
    assert units["semantic"] is None
    assert all(i["code"] != "identifier" for i in profile(small)["quality"]["issues"])


def test_columns_profiled_in_chunks_give_the_same_profile(tmp_path, monkeypatch):
    import augury.engines.tabular.profile as engine

    path = write(
        tmp_path,
        {
            "id": list(range(300)),
            "city": cycle(["Oslo", "Lima", "Pune"], 300),
            "amount": [i * 1.5 for i in range(300)],
            "day": cycle(["31/12/2024", "01/02/2024"], 300),
            "dup": [i % 7 for i in range(300)],
        },
    )
    whole = profile(path)
    monkeypatch.setattr(engine, "EXACT_CELLS", 300 * 2)  # two columns per chunk
    chunked = profile(path)
    assert chunked == whole


def test_a_thousand_columns_fit_a_small_memory_limit(tmp_path):
    # Profiled a chunk of columns at a time; all at once ran out of memory (10,000
    # columns are measured in docs/benchmarks.md rather than here: minutes, not seconds).
    columns = {f"c{i}": [r * i for r in range(5)] for i in range(1_000)}
    result = profile(write(tmp_path, columns), memory_limit="256MB")
    assert len(result["columns"]) == 1_000 and result["rows"] == 5
    assert result["columns"][999]["max"] == 4 * 999
