"""The Ask benchmark's scorer: each rule of issue 15, with the near misses beside it."""

from datetime import date, datetime

import pytest
from benchmarks.ask.score import (
    cell_matches,
    mark_of,
    row_matches,
    score_answer,
    score_chart,
    score_scalar,
    score_table,
)


@pytest.mark.parametrize(
    ("cell", "expected", "ok"),
    [
        (100.9, 100.0, True),  # 0.9 % off
        (101.1, 100.0, False),  # 1.1 % off
        (99.1, 100.0, True),
        (98.9, 100.0, False),
        (0.009, 0.0, True),  # 0.01 absolute near zero
        (0.011, 0.0, False),
        (-0.3, -0.305, True),  # 0.005 absolute though 1.6 % relative
        (0.98, 0.963, False),  # 0.017 off: neither rule
        (344, 344.0, True),
        ("3.50", 3.5, True),  # a decimal sent as text
        ("3.6", 3.5, False),
        ("abc", 3.5, False),
        (None, 0.0, False),
        (True, 1.0, False),  # a boolean is not a number
        (float("nan"), 0.0, False),
    ],
)
def test_numbers_within_one_percent_or_a_hundredth(cell, expected, ok):
    assert cell_matches(cell, expected) is ok


@pytest.mark.parametrize(
    ("cell", "expected", "ok"),
    [
        ("biscoe", "Biscoe", True),
        ("BISCOE ", "Biscoe", True),
        ("Biscoe Island", "Biscoe", False),
        ("Bisco", "Biscoe", False),
        (8, "8", True),
        (None, "None", False),
    ],
)
def test_strings_case_insensitively(cell, expected, ok):
    assert cell_matches(cell, expected) is ok


@pytest.mark.parametrize(
    ("cell", "key", "ok"),
    [
        ("2007-01-01", "2007", True),
        ("2007-01-01T00:00:00", "2007", True),
        ("2007-01-01 00:00:00", "2007-01-01", True),
        ("2014-03-01", "2014-03", True),
        ("2014-03", "2014-03", True),
        (2007, "2007", True),
        (2007.0, "2007", True),
        (datetime(2014, 3, 1), "2014-03", True),
        (date(2014, 3, 1), "2014-03-01", True),
        ("2014-04-01", "2014-03", False),
        ("2008-01-01", "2007", False),
        ("20071", "2007", False),  # not a date boundary
        ("2014-03-011", "2014-03-01", False),
        ("2006", "2007", False),
    ],
)
def test_dates_match_by_prefix(cell, key, ok):
    assert cell_matches(cell, key) is ok


def test_alternatives_any_one_matches():
    assert cell_matches("2007-01-01", ["2007", "2007-01-01"])
    assert cell_matches(2007, ["2007", "2007-01-01"])
    assert not cell_matches("2008-01-01", ["2007", "2007-01-01"])
    assert cell_matches("Trebi", ["trebi", 1.0])


def test_scalar_any_cell_of_at_most_five_rows():
    assert score_scalar([[344]], 344.0).passed
    assert score_scalar([["Biscoe", 168], ["Dream", 124]], "Biscoe").passed
    assert score_scalar([["a", 1]] * 4 + [["b", 0.9628]], 0.9628654).passed
    six = [["a", 1]] * 5 + [["b", 0.9628]]
    verdict = score_scalar(six, 0.9628654)
    assert not verdict.passed
    assert "6 rows" in verdict.reason
    assert not score_scalar([[345.0]], 344.0 / 1.02).passed
    assert not score_scalar([], 0.0).passed


DEV_TABLE = [
    [["2007", "2007-01-01"], 110.0],
    [["2008", "2008-01-01"], 114.0],
    [["2009", "2009-01-01"], 120.0],
]


def test_table_every_row_found_in_any_order_and_any_column_order():
    rows = [["2009-01-01T00:00:00", 120], [114, "2008-01-01"], ["2007-01-01", 110.5]]
    assert score_table(rows, DEV_TABLE).passed


def test_table_needs_exactly_the_expected_number_of_rows():
    rows = [["2007-01-01", 110], ["2008-01-01", 114], ["2009-01-01", 120], ["2010-01-01", 0]]
    verdict = score_table(rows, DEV_TABLE)
    assert not verdict.passed
    assert verdict.reason == "4 rows, expected 3"
    assert not score_table(rows[:2], DEV_TABLE).passed


def test_table_a_wrong_value_fails_the_row():
    rows = [["2007-01-01", 110], ["2008-01-01", 116], ["2009-01-01", 120]]
    verdict = score_table(rows, DEV_TABLE)
    assert not verdict.passed
    assert "2008" in verdict.reason


def test_table_two_expected_rows_cannot_share_an_answer_row():
    expected = [[["a"], 1.0], [["a"], 1.0]]
    assert not score_table([["a", 1.0], ["b", 1.0]], expected).passed
    assert score_table([["a", 1.0], ["A", 1.0]], expected).passed


def test_table_matching_is_one_to_one_not_greedy():
    # The first expected row fits both answer rows; a greedy match that gave it the
    # first answer row would leave the second expected row without one.
    expected = [[["x"], 1.0], [["x"], 2.0]]
    rows = [["x", 1.0, 2.0], ["x", 1.0, 0.0]]
    assert score_table(rows, expected).passed


def test_row_keys_and_value_each_in_a_cell_of_their_own():
    assert row_matches(["Adelie", "female", 73], [["Adelie"], ["female"], 73.0])
    assert row_matches(["female", 73, "Adelie"], [["Adelie"], ["female"], 73.0])
    assert not row_matches(["Adelie", "male", 73], [["Adelie"], ["female"], 73.0])
    # one cell cannot stand for both the key 3 and the value 3
    assert not row_matches([3, 5], [[3], 3.0])
    assert row_matches([3, 3], [[3], 3.0])


def test_two_key_table_from_the_dev_file():
    expected = {
        "kind": "table",
        "rows": [[["Adelie"], ["female"], 73.0], [["Adelie"], ["male"], 73.0]],
    }
    assert score_answer([["Adelie", "male", 73], ["Adelie", "female", 73]], expected).passed
    assert not score_answer([["Adelie", "male", 73], ["Adelie", "male", 73]], expected).passed


def test_score_answer_dispatches_on_kind():
    assert score_answer([[19]], {"kind": "scalar", "value": 19.0}).passed
    with pytest.raises(ValueError):
        score_answer([[19]], {"kind": "chart"})


@pytest.mark.parametrize(
    ("spec", "expected", "ok"),
    [
        ({"mark": "line"}, "line", True),
        ({"mark": {"type": "area", "point": True}}, "line", True),
        ({"mark": "bar"}, "line", False),
        ({"mark": "bar"}, "bar", True),
        ({"mark": {"type": "bar"}}, "bar", True),
        ({"mark": "arc"}, "bar", False),
        ({"layer": [{"mark": "line"}, {"mark": "rule"}]}, "line", True),
        ({"layer": [{"mark": "rule"}, {"mark": "bar"}]}, "bar", False),
        ({}, "bar", False),
        (None, "line", False),
    ],
)
def test_chart_line_wants_line_or_area_bar_wants_bar(spec, expected, ok):
    assert score_chart(spec, expected) is ok


def test_chart_not_scored_when_the_question_names_none():
    assert score_chart({"mark": "text"}, None) is None


def test_mark_of_reads_the_main_mark():
    assert mark_of({"mark": {"type": "point"}}) == "point"
    assert mark_of({"layer": []}) is None
