"""The metric expression language: parsing, errors, and matching one metric."""

from __future__ import annotations

import pytest

from augury.metrics.expressions import (
    And,
    ExpressionError,
    Not,
    Or,
    Term,
    like_pattern,
    matches,
    parse,
)


def test_precedence_and_implicit_and():
    assert parse("a=1 b=2 OR c=3") == Or((And((Term("a", "1"), Term("b", "2"))), Term("c", "3")))
    assert parse("NOT a=1 AND b!=2") == And((Not(Term("a", "1")), Not(Term("b", "2"))))
    assert parse("cpu*") == Term("what", "cpu*")
    assert parse('host="a b \\"c\\""') == Term("host", 'a b "c"')
    assert parse("   ") is None


@pytest.mark.parametrize(
    "text, position",
    [("a=", 2), ("a AND", 5), ("(a=1", 4), ("a=1)", 3), ("a=1 !", 4), ("=x", 0)],
)
def test_errors_say_where(text, position):
    with pytest.raises(ExpressionError) as err:
        parse(text)
    assert err.value.position == position


@pytest.mark.parametrize(
    "text, expected",
    [
        ("what=cpu* AND host=web-1", True),
        ("what=cpu", False),
        ("cpu.u?er", True),
        ("host=web-?", True),
        ("host!=web-1", False),
        ("dc=eu", False),  # a missing dimension never equals
        ("dc!=eu", True),
        ("NOT (host=db* OR what=mem)", True),
    ],
)
def test_matches(text, expected):
    assert matches(parse(text), "cpu.user", {"host": "web-1"}) is expected


def test_like_pattern_escapes_sql_wildcards():
    assert like_pattern("a%b_c\\d*e?") == "a\\%b\\_c\\\\d%e_"
