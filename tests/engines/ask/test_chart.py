"""The chart each answer shape gets, the chart types a person forces, and the specs'
structure (no Vega-Lite JSON schema ships in an installed package, so the structure a
renderer relies on is asserted instead: data inline, known marks and encoding types,
fields that exist, a tooltip with every column)."""

from __future__ import annotations

import json

import pytest

from augury.engines.ask.chart import (
    CHART_TYPES,
    MAX_CHART_ROWS,
    MAX_TABLE_ROWS,
    SCHEMA,
    chart_spec,
    chart_type_asked,
    column_title,
    shape_of,
)
from augury.engines.ask.plan import Measure, Plan
from augury.engines.tabular.query import Bucket

MARKS = {"bar", "line", "area", "arc", "point", "text"}
TYPES = {"quantitative", "temporal", "ordinal", "nominal"}
CHANNELS = {"x", "y", "xOffset", "yOffset", "color", "theta", "text", "tooltip", "detail"}

MONTHLY = Plan([Measure("mean", "temp")], bucket=Bucket("date", "month"))
MONTH_ROWS = [[f"2014-{m:02d}-01", 5.0 + m] for m in range(1, 13)]
BY_SPECIES = Plan([Measure("mean", "mass")], group_by=["species"])
SPECIES_ROWS = [["Adelie", 3700.7], ["Chinstrap", 3733.1], ["Gentoo", 5076.0]]
COUNTS = Plan([Measure("count")], group_by=["island"])
ISLAND_ROWS = [["Biscoe", 168], ["Dream", 124], ["Torgersen", 52]]


def _unescape(field: str) -> str:
    out, escaped = [], False
    for char in field:
        if escaped or char != "\\":
            out.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def assert_valid(kind: str, spec: dict, columns: list[str], rows: list[list]) -> None:
    """What a Vega-Lite renderer relies on, and what augury promises on top of it."""
    assert spec["$schema"] == SCHEMA
    assert json.loads(json.dumps(spec, allow_nan=False)) == spec
    values = spec["data"]["values"]
    assert all(list(v) == columns for v in values)
    assert values == [dict(zip(columns, r, strict=True)) for r in rows[: len(values)]]
    assert spec["usermeta"]["chart_type"] == kind
    assert spec["usermeta"]["rows"] == len(values)
    assert spec["usermeta"]["total_rows"] == len(rows)
    assert spec["config"]["background"]
    made = {a for t in spec.get("transform", []) for a in _outputs(t)}
    known = set(columns) | made
    views = spec.get("layer", [spec])
    for view in views:
        mark = view["mark"]["type"] if isinstance(view["mark"], dict) else view["mark"]
        assert mark in MARKS
        for channel, enc in view["encoding"].items():
            assert channel in CHANNELS
            for item in enc if isinstance(enc, list) else [enc]:
                if "field" in item:
                    assert _unescape(item["field"]) in known, item
                    assert item.get("type", "nominal") in TYPES, item
                else:
                    assert "value" in item
    if kind not in ("table",):
        tips = next(v["encoding"]["tooltip"] for v in views if "tooltip" in v["encoding"])
        assert {_unescape(t["field"]) for t in tips} >= set(columns)
        assert all(t.get("title") for t in tips)


def _outputs(transform: dict) -> list[str]:
    if "fold" in transform:
        return list(transform["as"])
    if "window" in transform:
        return [w["as"] for w in transform["window"]]
    if "joinaggregate" in transform:
        return [w["as"] for w in transform["joinaggregate"]]
    return [transform["as"]]


def chart(plan, columns, types, rows, **options):
    kind, spec = chart_spec(plan, columns, types, rows, **options)
    assert_valid(kind, spec, columns, rows)
    return kind, spec


# ---- the chart each shape gets ------------------------------------------------------


def test_a_monthly_bucket_is_a_line_over_utc_months():
    kind, spec = chart(MONTHLY, ["date_month", "mean_temp"], ["date", "float"], MONTH_ROWS)
    assert kind == "line"
    x, y = spec["encoding"]["x"], spec["encoding"]["y"]
    assert (x["field"], x["type"], x["timeUnit"]) == ("date_month", "temporal", "utcyearmonth")
    assert x["title"] == "Month of date"
    assert (y["type"], y["title"]) == ("quantitative", "Average temp")
    assert spec["mark"] == {"type": "line", "point": True}


def test_a_datetime_bucket_keeps_local_time_units():
    plan = Plan([Measure("count")], bucket=Bucket("at", "hour"))
    rows = [["2024-01-01T10:00:00", 3], ["2024-01-01T11:00:00", 5]]
    kind, spec = chart(plan, ["at_hour", "count"], ["datetime", "integer"], rows)
    assert kind == "line"
    assert spec["encoding"]["x"]["timeUnit"] == "yearmonthdatehours"


def test_asked_for_an_area_the_line_becomes_one():
    kind, spec = chart(
        MONTHLY, ["date_month", "mean_temp"], ["date", "float"], MONTH_ROWS, chart_type="area"
    )
    assert kind == "area"
    assert spec["mark"]["type"] == "area"
    assert "note" not in spec["usermeta"]


def test_an_integer_year_key_is_a_time_axis():
    plan = Plan([Measure("count")], group_by=["year"])
    rows = [[2007, 110], [2008, 114], [2009, 120]]
    kind, spec = chart(plan, ["year", "count"], ["integer", "integer"], rows)
    assert kind == "line"
    assert spec["transform"] == [{"calculate": 'utc(datum["year"], 0, 1)', "as": "__year_date"}]
    assert spec["encoding"]["x"]["type"] == "temporal"
    assert spec["encoding"]["x"]["timeUnit"] == "utcyear"
    year_tip = spec["encoding"]["tooltip"][0]
    assert year_tip["field"] == "year" and "format" not in year_tip  # 2007, never "2,007"


@pytest.mark.parametrize(
    ("name", "rows"),
    [("year", [[1, 5], [2, 6]]), ("cylinders", [[2007, 5], [2008, 6]])],
)
def test_integers_that_are_not_years_are_categories(name, rows):
    plan = Plan([Measure("count")], group_by=[name])
    kind, spec = chart(plan, [name, "count"], ["integer", "integer"], rows)
    assert kind == "bar"
    assert spec["encoding"]["x"]["type"] == "ordinal"


def test_a_date_key_without_a_bucket_is_a_time_axis():
    plan = Plan([Measure("max", "temp")], group_by=["day"])
    rows = [["2014-01-01", 3.0], ["2014-01-02", 4.5], ["2014-01-03", 2.0]]
    kind, spec = chart(plan, ["day", "max_temp"], ["date", "float"], rows)
    assert kind == "line"
    assert spec["encoding"]["x"]["timeUnit"] == "utcyearmonthdate"


def test_a_category_comparison_is_a_bar_in_the_plans_order():
    kind, spec = chart(BY_SPECIES, ["species", "mean_mass"], ["category", "float"], SPECIES_ROWS)
    assert kind == "bar"
    x, y = spec["encoding"]["x"], spec["encoding"]["y"]
    assert (x["field"], x["type"], x["sort"]) == ("species", "nominal", None)
    assert (y["field"], y["type"]) == ("mean_mass", "quantitative")
    tip = {t["field"]: t for t in spec["encoding"]["tooltip"]}
    assert tip["mean_mass"]["format"] == ",.0f"


@pytest.mark.parametrize(("direction", "sort"), [("desc", "-y"), ("asc", "y")])
def test_bars_ordered_by_their_measure_are_sorted_by_it(direction, sort):
    plan = Plan([Measure("count")], group_by=["island"], order=[("count", direction)])
    _, spec = chart(plan, ["island", "count"], ["category", "integer"], ISLAND_ROWS)
    assert spec["encoding"]["x"]["sort"] == sort


def test_long_labels_turn_bars_horizontal():
    plan = Plan([Measure("sum", "yield")], group_by=["site"], order=[("sum_yield", "desc")])
    rows = [["University Farm", 653.3], ["Grand Rapids", 498.6], ["Duluth", 559.9]]
    kind, spec = chart(plan, ["site", "sum_yield"], ["category", "float"], rows)
    assert kind == "bar"
    assert spec["encoding"]["y"]["field"] == "site"
    assert spec["encoding"]["x"]["field"] == "sum_yield"
    assert spec["encoding"]["y"]["sort"] == "-x"
    assert spec["height"] == {"step": 22}


def test_many_categories_turn_bars_horizontal():
    rows = [[f"S{i}", i] for i in range(30)]
    _, spec = chart(COUNTS, ["island", "count"], ["category", "integer"], rows)
    assert spec["encoding"]["y"]["field"] == "island"


def test_two_keys_make_grouped_bars():
    plan = Plan([Measure("count")], group_by=["species", "sex"])
    rows = [["Adelie", "female", 73], ["Adelie", "male", 73], ["Gentoo", "female", 58]]
    kind, spec = chart(plan, ["species", "sex", "count"], ["category"] * 2 + ["integer"], rows)
    assert kind == "bar"
    enc = spec["encoding"]
    assert enc["x"]["field"] == "species"
    assert enc["color"]["field"] == "sex"
    assert enc["xOffset"] == {"field": "sex", "type": "nominal"}


def test_a_second_key_with_many_values_stacks():
    plan = Plan([Measure("count")], group_by=["a", "b"])
    rows = [["x", f"b{i}", i] for i in range(12)]
    _, spec = chart(plan, ["a", "b", "count"], ["category", "category", "integer"], rows)
    assert spec["encoding"]["color"]["field"] == "b"
    assert "xOffset" not in spec["encoding"]


def test_a_time_key_and_a_group_make_one_line_per_group():
    plan = Plan([Measure("count")], bucket=Bucket("date", "year"), group_by=["weather"])
    rows = [["2012-01-01", "rain", 191], ["2012-01-01", "sun", 118], ["2013-01-01", "rain", 60]]
    kind, spec = chart(
        plan, ["date_year", "weather", "count"], ["date", "category", "integer"], rows
    )
    assert kind == "line"
    assert spec["encoding"]["x"]["field"] == "date_year"
    assert spec["encoding"]["color"]["field"] == "weather"


def test_rows_of_several_series_are_lines():
    rows = [
        ["MSFT", "2000-01-01", 39.81],
        ["AAPL", "2000-01-01", 25.94],
        ["MSFT", "2000-02-01", 36.35],
    ]
    plan = Plan(select=["symbol", "date", "price"])
    kind, spec = chart(plan, ["symbol", "date", "price"], ["category", "date", "float"], rows)
    assert kind == "line"
    assert spec["encoding"]["x"]["field"] == "date"
    assert spec["encoding"]["color"]["field"] == "symbol"


def test_two_measures_by_group_fold_into_grouped_bars():
    plan = Plan([Measure("mean", "a"), Measure("mean", "b")], group_by=["g"])
    rows = [["x", 1.0, 2.0], ["y", 3.0, 4.0]]
    kind, spec = chart(plan, ["g", "mean_a", "mean_b"], ["category", "float", "float"], rows)
    assert kind == "bar"
    assert spec["transform"] == [{"fold": ["mean_a", "mean_b"], "as": ["__measure", "__value"]}]
    assert spec["encoding"]["color"]["field"] == "__measure"
    assert spec["encoding"]["y"]["title"] == "Average a and Average b"


def test_a_listing_of_two_numeric_columns_is_a_scatter():
    plan = Plan(select=["horsepower", "mpg"])
    rows = [[130, 18.0], [165, 15.0], [150, 18.0], [95, 24.0]]
    kind, spec = chart(plan, ["horsepower", "mpg"], ["integer", "float"], rows)
    assert kind == "scatter"
    assert spec["mark"]["type"] == "point"
    assert (spec["encoding"]["x"]["field"], spec["encoding"]["y"]["field"]) == ("horsepower", "mpg")
    assert spec["encoding"]["x"]["scale"] == {"zero": False}


def test_a_labelled_scatter_colors_its_points_by_the_label():
    rows = [[1.4, 0.2, "setosa"], [4.7, 1.4, "versicolor"], [6.0, 2.5, "virginica"]]
    kind, spec = chart(Plan(), ["pl", "pw", "species"], ["float", "float", "category"], rows)
    assert kind == "scatter"
    assert spec["encoding"]["color"]["field"] == "species"


def test_a_single_number_is_a_big_number_card():
    plan = Plan([Measure("count")])
    kind, spec = chart(plan, ["count"], ["integer"], [[344]])
    assert kind == "number"
    big, caption = spec["layer"]
    assert big["mark"]["type"] == "text" and big["mark"]["fontSize"] > caption["mark"]["fontSize"]
    assert big["encoding"]["text"] == {
        "field": "count",
        "title": "Number of rows",
        "type": "quantitative",
        "format": ",d",
    }
    assert caption["encoding"]["text"] == {"value": "Number of rows"}


def test_the_group_that_answers_which_is_the_card():
    plan = Plan([Measure("count")], group_by=["island"], order=[("count", "desc")], limit=1)
    kind, spec = chart(plan, ["island", "count"], ["category", "integer"], [["Biscoe", 168]])
    assert kind == "number"
    big, caption = spec["layer"]
    assert big["encoding"]["text"]["field"] == "island"
    assert caption["encoding"]["text"]["value"] == "Island with the highest number of rows: 168"


def test_a_listing_of_many_columns_is_a_table():
    columns = ["name", "origin", "mpg", "hp"]
    rows = [[f"car {i}", "USA", 20.0 + i, 100 + i] for i in range(300)]
    kind, spec = chart(Plan(), columns, ["string", "category", "float", "integer"], rows)
    assert kind == "table"
    assert spec["usermeta"]["render"] == "table"
    assert len(spec["data"]["values"]) == MAX_TABLE_ROWS
    assert spec["usermeta"]["note"] == f"The chart shows the first {MAX_TABLE_ROWS} of 300 rows."
    assert spec["transform"][1]["fold"] == columns
    assert spec["mark"]["type"] == "text"


def test_an_empty_answer_is_a_table():
    kind, _ = chart(BY_SPECIES, ["species", "mean_mass"], ["category", "float"], [])
    assert kind == "table"


def test_a_long_series_is_capped_and_says_so():
    plan = Plan([Measure("sum", "x")], bucket=Bucket("t", "hour"))
    rows = [[f"2024-01-01T{i % 24:02d}:{i // 24 % 60:02d}:00", float(i)] for i in range(6000)]
    _, spec = chart(plan, ["t_hour", "sum_x"], ["datetime", "float"], rows)
    assert len(spec["data"]["values"]) == MAX_CHART_ROWS
    assert spec["usermeta"]["note"] == "The chart shows the first 5,000 of 6,000 rows."


# ---- forced chart types -------------------------------------------------------------


def test_shares_asked_for_are_an_arc():
    for asked in ("arc", "pie"):
        kind, spec = chart(
            COUNTS, ["island", "count"], ["category", "integer"], ISLAND_ROWS, chart_type=asked
        )
        assert kind == "arc"
        assert spec["mark"]["type"] == "arc"
        assert spec["encoding"]["theta"]["field"] == "count"
        assert spec["encoding"]["color"]["field"] == "island"
        assert spec["transform"][0]["joinaggregate"][0] == {
            "op": "sum",
            "field": "count",
            "as": "__total",
        }


def test_shares_stay_bars_unless_asked():
    kind, _ = chart(COUNTS, ["island", "count"], ["category", "integer"], ISLAND_ROWS)
    assert kind == "bar"


def test_a_pie_of_averages_falls_back_to_bars_and_says_why():
    kind, spec = chart(
        BY_SPECIES, ["species", "mean_mass"], ["category", "float"], SPECIES_ROWS, chart_type="arc"
    )
    assert kind == "bar"
    assert spec["usermeta"]["note"] == (
        "A pie chart shows shares of a count or a total; showing a bar chart instead."
    )


def test_a_pie_of_negative_values_falls_back():
    plan = Plan([Measure("sum", "profit")], group_by=["region"])
    rows = [["north", 5.0], ["south", -2.0]]
    kind, spec = chart(
        plan, ["region", "sum_profit"], ["category", "float"], rows, chart_type="arc"
    )
    assert kind == "bar"
    assert spec["usermeta"]["note"].startswith("A pie chart cannot show negative values")


def test_a_pie_of_many_slices_falls_back():
    rows = [[f"S{i}", i] for i in range(20)]
    kind, spec = chart(COUNTS, ["island", "count"], ["category", "integer"], rows, chart_type="arc")
    assert kind == "bar"
    assert "at most 12 slices" in spec["usermeta"]["note"]


@pytest.mark.parametrize(
    ("asked", "mark"), [("bar", "bar"), ("scatter", "point"), ("table", "text"), ("line", "line")]
)
def test_forced_types_that_apply_are_drawn(asked, mark):
    kind, spec = chart(
        MONTHLY, ["date_month", "mean_temp"], ["date", "float"], MONTH_ROWS, chart_type=asked
    )
    assert kind == asked
    assert spec["mark"]["type"] == mark
    assert "note" not in spec["usermeta"]


def test_a_forced_bar_over_time_keeps_the_months_in_order():
    _, spec = chart(
        MONTHLY, ["date_month", "mean_temp"], ["date", "float"], MONTH_ROWS, chart_type="bar"
    )
    x = spec["encoding"]["x"]
    assert (x["type"], x["timeUnit"], x["sort"]) == ("ordinal", "utcyearmonth", None)


@pytest.mark.parametrize(
    ("asked", "note"),
    [
        ("line", "A line chart needs a time or numeric axis; showing a bar chart instead."),
        ("number", "A number card shows a one-row answer; showing a bar chart instead."),
        ("scatter", "A scatter plot needs two numeric columns; showing a bar chart instead."),
        ("radar", "Unknown chart type 'radar'; showing a bar chart instead."),
    ],
)
def test_forced_types_that_do_not_apply_fall_back_and_say_so(asked, note):
    kind, spec = chart(
        BY_SPECIES, ["species", "mean_mass"], ["category", "float"], SPECIES_ROWS, chart_type=asked
    )
    assert kind == "bar"
    assert spec["usermeta"]["note"] == note


# ---- titles, themes, names ----------------------------------------------------------


def test_titles_are_words():
    _, spec = chart(BY_SPECIES, ["species", "mean_mass"], ["category", "float"], SPECIES_ROWS)
    assert spec["title"] == "Average mass by species"
    _, spec = chart(
        BY_SPECIES, ["species", "mean_mass"], ["category", "float"], SPECIES_ROWS, title="Mass"
    )
    assert spec["title"] == "Mass"
    assert column_title(Plan(), "petalLength") == "Petal length"
    assert column_title(Plan(), "Miles_per_Gallon") == "Miles per Gallon"
    corr = Plan([Measure("corr", "petal_length", other="petal_width")])
    assert column_title(corr, "corr_petal_length_petal_width") == (
        "Correlation of petal length and petal width"
    )


def test_themes_set_the_config():
    args = (BY_SPECIES, ["species", "mean_mass"], ["category", "float"], SPECIES_ROWS)
    _, light = chart(*args)
    _, dark = chart(*args, theme="dark")
    assert light["config"]["background"] == "#ffffff"
    assert dark["config"]["background"] != light["config"]["background"]
    assert dark["config"]["axis"]["labelColor"] != light["config"]["axis"]["labelColor"]
    _, odd = chart(*args, theme="neon")
    assert odd["config"] == light["config"]
    assert odd["usermeta"]["note"] == "Unknown theme 'neon'; using light."


def test_dotted_column_names_are_escaped_as_fields():
    plan = Plan([Measure("sum", "a.b")], group_by=["g[0]"])
    _, spec = chart(plan, ["g[0]", "sum_a.b"], ["category", "float"], [["x", 1.0], ["y", 2.0]])
    assert spec["encoding"]["x"]["field"] == "g\\[0\\]"
    assert spec["encoding"]["y"]["field"] == "sum_a\\.b"
    assert spec["data"]["values"][0] == {"g[0]": "x", "sum_a.b": 1.0}


def test_shape_reads_keys_from_the_plan_and_listings_from_types():
    grouped = shape_of(BY_SPECIES, ["species", "mean_mass"], ["category", "float"], SPECIES_ROWS)
    assert (grouped.keys, grouped.measures, grouped.time) == (("species",), ("mean_mass",), None)
    listing = shape_of(
        Plan(), ["name", "year", "hp"], ["string", "integer", "integer"], [["a", 1970, 130]]
    )
    assert (listing.keys, listing.measures, listing.time) == (("name", "year"), ("hp",), "year")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("share of days by weather", "arc"),
        ("What proportion of cars come from each origin?", "arc"),
        ("penguins by island as a pie", "arc"),
        ("breakdown of sales by region", "arc"),
        ("percentage of flights by carrier", "arc"),
        ("average market share by region", "auto"),
        ("what proportion of days had rain?", "auto"),
        ("monthly sales as an area chart", "area"),
        ("price over time, line chart", "line"),
        ("horsepower against weight as a scatter plot", "scatter"),
        ("count by origin as a bar chart", "bar"),
        ("cars with more than 200 horsepower as a table", "table"),
        ("average miles per gallon by origin", "auto"),
        ("what is the scattering of values", "auto"),
    ],
)
def test_the_chart_type_a_question_names(question, kind):
    assert chart_type_asked(question) == kind


SHAPES = [
    (Plan(), ["a"], ["string"], [["x"], [None]]),
    (Plan(), ["n"], ["integer"], [[1], [2], [None]]),
    (Plan(), ["n"], ["float"], [[None]]),
    (Plan(), ["d", "v"], ["datetime", "float"], [["2024-01-01T10:00:00", None], [None, 2.0]]),
    (Plan(group_by=["g"]), ["g"], ["category"], [["x"], ["y"]]),
    (
        Plan([Measure("min", "d")], group_by=["g"]),
        ["g", "min_d"],
        ["category", "date"],
        [["x", "2024-01-01"], ["y", None]],
    ),
    (
        Plan([Measure("count")], group_by=["flag"]),
        ["flag", "count"],
        ["boolean", "integer"],
        [[True, 3], [False, 4], [None, 1]],
    ),
    (
        Plan([Measure("mean", "v"), Measure("max", "v")], bucket=Bucket("d", "quarter")),
        ["d_quarter", "mean_v", "max_v"],
        ["date", "float", "float"],
        [["2024-01-01", 1.0, 2.0], ["2024-04-01", None, 3.0]],
    ),
    (
        Plan([Measure("count")], group_by=["a", "b", "c"]),
        ["a", "b", "c", "count"],
        ["category"] * 3 + ["integer"],
        [["x", "y", "z", 1], ["x", "y", "w", 2]],
    ),
    (Plan([Measure("std", "v")]), ["std_v"], ["float"], [[None]]),
    (Plan([Measure("sum", "v")], group_by=["g"]), ["g", "sum_v"], ["category", "decimal"], []),
]


@pytest.mark.parametrize("case", range(len(SHAPES)))
def test_every_chart_type_and_theme_on_odd_answers_gives_a_valid_spec(case):
    """Missing values, booleans, dates as measures, three keys, no rows: every asked
    type either draws or falls back with a note, never raises."""
    plan, columns, types, rows = SHAPES[case]
    for asked in (*CHART_TYPES, "pie", "nonsense"):
        for theme in ("light", "dark"):
            kind, spec = chart(plan, columns, types, rows, chart_type=asked, theme=theme)
            assert kind in CHART_TYPES and kind != "auto"
            assert kind == asked or asked in ("auto", "pie") or spec["usermeta"]["note"]
