"""Insights on made-up answers whose facts are known: a rising series is called rising
with its slope, a constant one gets no trend, the top group is named with its share,
an outlying group is flagged, a correlation is worded by its size."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from augury.engines.ask.insights import Insight, format_number, format_percent, insights_for
from augury.engines.ask.plan import Measure, Plan
from augury.engines.tabular.query import Bucket, Filter

MONTHLY = Plan([Measure("sum", "sales")], bucket=Bucket("day", "month"))
MONTH_COLUMNS, MONTH_TYPES = ["day_month", "sum_sales"], ["date", "float"]


def months(values) -> list[list]:
    return [[f"{2014 + i // 12}-{i % 12 + 1:02d}-01", float(v)] for i, v in enumerate(values)]


def by_kind(found: list[Insight]) -> dict[str, Insight]:
    return {i.kind: i for i in found}


def series(values, plan=MONTHLY) -> dict[str, Insight]:
    return by_kind(insights_for(plan, MONTH_COLUMNS, MONTH_TYPES, months(values), limit=20))


# ---- time series --------------------------------------------------------------------


def test_a_rising_monthly_series_is_rising_with_its_slope():
    wiggle = [0.3, -0.2, 0.1, -0.3, 0.2, 0.0] * 2
    found = series([100 + 5 * i + w for i, w in enumerate(wiggle)])
    trend = found["trend"]
    assert trend.numbers["direction"] == "rising"
    assert trend.numbers["slope"] == pytest.approx(5, abs=0.2)
    assert trend.numbers["p_value"] < 0.001
    assert trend.column == "sum_sales"
    slope = format_number(trend.numbers["slope"])
    assert trend.text.startswith(
        f"Total sales is rising: +{slope} per month on average (p < 0.001)"
    )
    assert "from 100.3 in Jan 2014 to 155 in Dec 2014 (+54.5%)" in trend.text
    assert trend.numbers["change_pct"] == pytest.approx((155 - 100.3) / 100.3 * 100)


def test_a_falling_series_is_falling():
    trend = series([50 - 2 * i for i in range(10)])["trend"]
    assert trend.numbers["direction"] == "falling"
    assert trend.numbers["slope"] == pytest.approx(-2)
    assert "is falling: -2 per month" in trend.text


def test_theil_sen_ignores_one_wild_month():
    values = [10 + i for i in range(12)]
    values[6] = 500
    assert series(values)["trend"].numbers["slope"] == pytest.approx(1)


def test_a_constant_series_gets_no_trend_claim():
    found = series([7.0] * 12)
    assert "trend" not in found and "compound_growth" not in found
    assert list(found) == ["constant"]
    assert found["constant"].text == "Total sales is 7 in every month."
    assert not any(w in found["constant"].text for w in ("rising", "falling"))


def test_a_seasonal_series_has_no_clear_trend_and_no_compound_rate():
    found = series([10, 12, 16, 20, 24, 27, 26, 22, 17, 13, 10, 9])
    assert found["trend"].numbers["direction"] == "flat"
    assert "shows no clear trend over 12 months (p = 0.630)" in found["trend"].text
    assert "compound_growth" not in found


def test_peak_and_trough_with_their_dates():
    found = series([10, 12, 16, 20, 24, 27, 26, 22, 17, 13, 10, 9])
    assert found["peak"].text == "Total sales was highest in Jun 2014: 27."
    assert found["peak"].numbers == {"value": 27.0, "at": "2014-06-01"}
    assert found["trough"].text == "Total sales was lowest in Dec 2014: 9."


def test_growth_rates_name_the_largest_rise_and_fall_and_the_compound_rate():
    values = [100 * 1.1**i for i in range(8)]
    values[5] = values[4] * 0.5  # one bad month
    found = series(values)
    assert found["fall"].numbers["from"] == "2014-05-01"
    assert found["fall"].numbers["change_pct"] == pytest.approx(-50)
    assert found["fall"].text == "The largest fall was -73.21 from May 2014 to Jun 2014 (-50.0%)."
    assert found["rise"].numbers["from"] == "2014-06-01"
    rate = found["compound_growth"].numbers["rate_pct"]
    assert rate == pytest.approx((1.1**7) ** (1 / 7) * 100 - 100)
    assert f"+{rate:.1f}% per month compounded over 7 months" in found["compound_growth"].text


def test_an_integer_year_series_speaks_in_years():
    plan = Plan([Measure("count")], group_by=["year"])
    rows = [[2007, 110], [2008, 114], [2009, 120], [2010, 125]]
    found = by_kind(insights_for(plan, ["year", "count"], ["integer", "integer"], rows))
    assert found["trend"].text == (
        "Number of rows rose every year: +5 per year on average, from 110 in 2007 to 125 in 2010"
        " (+13.6%)."
    )
    assert found["trend"].numbers["direction"] == "rising"


def test_a_daily_date_key_without_a_bucket_finds_its_step():
    plan = Plan([Measure("max", "temp")], group_by=["day"])
    rows = [[f"2014-01-{d:02d}", float(d)] for d in range(1, 11)]
    found = by_kind(insights_for(plan, ["day", "max_temp"], ["date", "float"], rows))
    assert "+1 per day" in found["trend"].text
    assert found["peak"].text == "Maximum temp was highest in 2014-01-10: 10."


def test_series_by_group_name_the_largest_rise_and_fall():
    plan = Plan([Measure("count")], bucket=Bucket("date", "year"), group_by=["weather"])
    rows = [
        ["2012-01-01", "rain", 200],
        ["2012-01-01", "sun", 100],
        ["2012-01-01", "fog", 10],
        ["2013-01-01", "rain", 100],
        ["2013-01-01", "sun", 150],
        ["2013-01-01", "fog", 11],
    ]
    found = by_kind(
        insights_for(plan, ["date_year", "weather", "count"], ["date", "category", "integer"], rows)
    )
    assert found["group_rise"].numbers["group"] == "sun"
    assert found["group_rise"].text == (
        "sun: number of rows went from 100 in 2012 to 150 in 2013 (+50.0%), "
        "the largest rise of the 3 groups."
    )
    assert found["group_fall"].numbers["group"] == "rain"
    assert found["group_fall"].numbers["change_pct"] == pytest.approx(-50)


# ---- groups -------------------------------------------------------------------------


COUNTS = Plan([Measure("count")], group_by=["island"])
ISLANDS = [["Biscoe", 168], ["Dream", 124], ["Torgersen", 52]]


def test_the_top_group_is_named_with_its_share():
    found = by_kind(insights_for(COUNTS, ["island", "count"], ["category", "integer"], ISLANDS))
    top = found["top"]
    assert top.text == "Biscoe has the highest number of rows: 168 (48.8% of the total)."
    assert top.numbers["share"] == pytest.approx(168 / 344 * 100)
    assert (
        found["bottom"].text == "Torgersen has the lowest number of rows: 52 (15.1% of the total)."
    )
    assert found["gap"].text == "Biscoe leads Dream by 44 number of rows (35.5% more)."


def test_a_limited_answer_says_its_share_is_of_the_groups_shown():
    plan = Plan([Measure("count")], group_by=["island"], order=[("count", "desc")], limit=2)
    found = insights_for(plan, ["island", "count"], ["category", "integer"], ISLANDS[:2])
    assert (
        found[0].text
        == "Biscoe has the highest number of rows: 168 (57.5% of the total of these 2)."
    )


def test_ties_are_said_and_equal_groups_are_not_ranked():
    rows = [["Adelie", 73], ["Gentoo", 73], ["Chinstrap", 34]]
    found = by_kind(insights_for(COUNTS, ["island", "count"], ["category", "integer"], rows))
    assert found["top"].text == (
        "Adelie and Gentoo share the highest number of rows: 73 (40.6% of the total each)."
    )
    assert found["top"].numbers["tied"] == 2
    assert "gap" not in found
    same = [["a", 5], ["b", 5], ["c", 5]]
    found = by_kind(insights_for(COUNTS, ["island", "count"], ["category", "integer"], same))
    assert list(found) == ["constant"]
    assert found["constant"].text == "All 3 groups have the same number of rows: 5."


def test_averages_get_no_share_of_a_total():
    plan = Plan([Measure("mean", "mass")], group_by=["species"])
    rows = [["Adelie", 3700.66], ["Chinstrap", 3733.09], ["Gentoo", 5076.02]]
    found = by_kind(insights_for(plan, ["species", "mean_mass"], ["category", "float"], rows))
    assert found["top"].text == "Gentoo has the highest average mass: 5,076."
    assert "share" not in found["top"].numbers
    assert "concentration" not in found


def test_the_measure_the_plan_orders_by_is_the_one_described():
    plan = Plan(
        [Measure("mean", "a"), Measure("sum", "b")], group_by=["g"], order=[("sum_b", "desc")]
    )
    rows = [["x", 1.0, 5.0], ["y", 9.0, 3.0]]
    found = insights_for(plan, ["g", "mean_a", "sum_b"], ["category", "float", "float"], rows)
    assert found[0].column == "sum_b" and found[0].numbers["group"] == "x"


def test_the_group_that_answers_which_is_named():
    plan = Plan([Measure("count")], group_by=["island"], order=[("count", "desc")], limit=1)
    (found,) = insights_for(plan, ["island", "count"], ["category", "integer"], [["Biscoe", 168]])
    assert (found.kind, found.text) == ("top", "Biscoe has the highest number of rows: 168.")
    (found,) = insights_for(COUNTS, ["island", "count"], ["category", "integer"], [["Dream", 124]])
    assert (found.kind, found.text) == ("value", "Number of rows for Dream: 124.")


def test_a_near_tie_at_the_top_is_said():
    rows = [["Trebi", 472.8], ["Wisconsin No. 38", 472.73], ["No. 457", 430.17]]
    plan = Plan([Measure("sum", "yield")], group_by=["variety"])
    found = by_kind(insights_for(plan, ["variety", "sum_yield"], ["category", "float"], rows))
    assert found["gap"].text.startswith("Trebi leads Wisconsin No. 38 by only 0.07 total yield")


def test_concentration_of_the_total_in_the_top_groups():
    rows = [[f"g{i}", v] for i, v in enumerate([50, 30, 10, 5, 3, 2])]
    found = by_kind(insights_for(COUNTS, ["island", "count"], ["category", "integer"], rows))
    assert found["concentration"].numbers == {"top_k": 3, "groups": 6, "share": 90.0}
    assert found["concentration"].text == (
        "The top 3 of 6 groups hold 90.0% of the total number of rows."
    )


def test_an_outlier_group_is_flagged():
    values = [100, 104, 97, 101, 99, 103, 98, 1000]
    rows = [[f"store {i}", v] for i, v in enumerate(values)]
    plan = Plan([Measure("sum", "sales")], group_by=["store"])
    found = insights_for(plan, ["store", "sum_sales"], ["category", "float"], rows, limit=10)
    outliers = [i for i in found if i.kind == "outlier"]
    assert [o.numbers["group"] for o in outliers] == ["store 7"]
    assert outliers[0].numbers["z_score"] > 3.5
    assert outliers[0].text.startswith("store 7 stands out at 1,000, far above the median group")


def test_evenly_spread_groups_have_no_outlier():
    rows = [[f"g{i}", 10.0 * i] for i in range(1, 9)]
    found = insights_for(COUNTS, ["island", "count"], ["category", "float"], rows, limit=10)
    assert "outlier" not in {i.kind for i in found}


def test_outliers_when_most_groups_tie():
    rows = [[f"g{i}", v] for i, v in enumerate([10, 10, 10, 10, 11, 50])]
    found = insights_for(COUNTS, ["island", "count"], ["category", "integer"], rows, limit=10)
    assert [i.numbers["group"] for i in found if i.kind == "outlier"] == ["g5"]


def test_two_keys_are_ranked_as_pairs():
    plan = Plan([Measure("count")], group_by=["species", "sex"])
    rows = [["Adelie", "female", 73], ["Gentoo", "male", 61], ["Gentoo", None, 5]]
    found = insights_for(plan, ["species", "sex", "count"], ["category"] * 2 + ["integer"], rows)
    kinds = by_kind(found)
    assert kinds["top"].numbers["group"] == "Adelie, female"
    assert kinds["bottom"].numbers["group"] == "Gentoo, (missing)"


def test_a_listing_of_labelled_values_ranks_them():
    plan = Plan(select=["name", "hp"], order=[("hp", "desc")], limit=3)
    rows = [["pontiac", 230], ["buick", 225], ["ford", 220]]
    found = by_kind(insights_for(plan, ["name", "hp"], ["string", "integer"], rows))
    assert found["top"].text == "pontiac has the highest hp: 230."


def test_missing_values_are_skipped():
    rows = [["a", None], ["b", 5.0], ["c", float("nan")], ["d", 2.0]]
    found = by_kind(insights_for(COUNTS, ["island", "count"], ["category", "float"], rows))
    assert found["top"].numbers["group"] == "b"
    assert found["gap"].numbers["second"] == "d"


# ---- single numbers and correlations --------------------------------------------------


def test_a_single_number_is_said_with_the_plans_words():
    plan = Plan([Measure("mean", "yield")], filters=[Filter("year", "eq", 1932)])
    found = insights_for(plan, ["mean_yield"], ["float"], [[31.76333]])
    assert found == [
        Insight(
            "value", "Mean of yield where year is 1932: 31.76.", {"value": 31.76333}, "mean_yield"
        )
    ]


@pytest.mark.parametrize(
    ("r", "words"),
    [
        (0.9628, "a very strong positive"),
        (-0.62, "a strong negative"),
        (0.41, "a moderate positive"),
        (-0.2, "a weak negative"),
        (0.05, "no"),
    ],
)
def test_a_correlation_is_worded_by_its_size(r, words):
    plan = Plan([Measure("corr", "petal_length", other="petal_width")])
    (found,) = insights_for(plan, ["corr_petal_length_petal_width"], ["float"], [[r]])
    assert found.kind == "correlation"
    assert found.numbers["r"] == r
    assert (
        found.text == f"Petal length and petal width show {words} linear correlation (r = {r:.2f})."
    )


def test_rows_of_two_numeric_columns_get_their_correlation():
    x = np.arange(50, dtype=float)
    y = 3 - 0.5 * x + np.sin(x) * 4
    rows = [[float(a), float(b)] for a, b in zip(x, y, strict=True)] + [[None, 1.0]]
    (found,) = insights_for(Plan(), ["hp", "mpg"], ["float", "float"], rows)
    r = float(np.corrcoef(x, y)[0, 1])
    assert found.numbers["r"] == pytest.approx(r)
    assert found.numbers["rows"] == 50
    assert (
        found.text
        == f"Hp and mpg show a very strong negative linear correlation (r = {r:.2f}, 50 rows)."
    )


def test_a_wide_listing_gets_no_insights():
    rows = [[f"car {i}", "USA", 20.0 + i, 100 + i, 3000 - i] for i in range(20)]
    types = ["string", "category", "float", "integer", "integer"]
    assert insights_for(Plan(), ["name", "origin", "mpg", "hp", "weight"], types, rows) == []


# ---- the contract -------------------------------------------------------------------


def test_limit_and_order_are_kept():
    rows = [[f"g{i}", v] for i, v in enumerate([50, 30, 10, 5, 3, 2, 400])]
    found = insights_for(COUNTS, ["island", "count"], ["category", "integer"], rows)
    assert [i.kind for i in found] == ["top", "outlier", "gap", "bottom", "concentration"]
    assert (
        len(insights_for(COUNTS, ["island", "count"], ["category", "integer"], rows, limit=2)) == 2
    )
    assert insights_for(COUNTS, ["island", "count"], ["category", "integer"], rows, limit=0) == []


def test_every_number_stated_is_in_numbers_and_json_able():
    found = series([100 * 1.05**i for i in range(24)])
    for insight in found.values():
        assert insight.numbers
        for value in insight.numbers.values():
            assert isinstance(value, str) or (
                isinstance(value, float | int) and math.isfinite(value)
            )
        assert insight.to_dict()["text"] == insight.text


def test_deterministic_and_fast():
    rng = np.random.default_rng(3)
    long = months(100 + np.cumsum(rng.normal(1, 5, 1000)))
    groups = [[f"g{i}", float(v)] for i, v in enumerate(rng.gamma(2, 50, 1000))]
    cases = [
        (MONTHLY, MONTH_COLUMNS, MONTH_TYPES, long),
        (
            Plan([Measure("sum", "x")], group_by=["g"]),
            ["g", "sum_x"],
            ["category", "float"],
            groups,
        ),
    ]
    for case in cases:
        assert insights_for(*case) == insights_for(*case)
        best = min(_timed(case) for _ in range(5))
        assert best < 0.025, best  # ~2 ms here; a quadratic slip would take far longer


def _timed(case) -> float:
    start = time.perf_counter()
    insights_for(*case)
    return time.perf_counter() - start


def test_numbers_are_written_for_people():
    assert [format_number(v) for v in (1234567.0, 3700.66, 748.44, 2.5, 0.12345, -0.0004)] == [
        "1,234,567",
        "3,701",
        "748.4",
        "2.5",
        "0.123",
        "-0.0004",
    ]
    assert format_percent(33.333) == "33.3%"
    assert format_percent(1234.5, signed=True) == "+1,234%"
    assert format_percent(0.0312) == "0.031%"


ODD = [
    (Plan(), ["a"], ["string"], [["x"], [None]]),
    (Plan(), ["n"], ["float"], [[None]]),
    (Plan(), ["d", "v"], ["datetime", "float"], [["2024-01-01T10:00:00", None], [None, 2.0]]),
    (Plan(), ["a", "b"], ["float", "float"], [[1.0, 2.0], [1.0, 3.0], [1.0, None]]),
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
        [[True, 0], [False, 0]],
    ),
    (
        Plan([Measure("sum", "v")], bucket=Bucket("d", "week")),
        ["d_week", "sum_v"],
        ["date", "float"],
        [["2024-01-01", 0.0], ["2024-01-08", 5.0], ["2024-01-15", None], ["2024-01-22", -5.0]],
    ),
    (
        Plan([Measure("count")], group_by=["a", "b", "c"]),
        ["a", "b", "c", "count"],
        ["category"] * 3 + ["integer"],
        [["x", "y", "z", 1], ["x", "y", "w", 2]],
    ),
    (Plan([Measure("std", "v")]), ["std_v"], ["float"], [[None]]),
    (Plan([Measure("sum", "v")], group_by=["g"]), ["g", "sum_v"], ["category", "float"], []),
]


@pytest.mark.parametrize("case", range(len(ODD)))
def test_odd_answers_get_facts_or_nothing_never_an_error(case):
    for insight in insights_for(*ODD[case]):
        assert insight.text and insight.numbers
        assert "nan" not in insight.text.lower() and "inf" not in insight.text.lower()
