"""The metric expression language: parsing, errors, and matching one metric."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augury.metrics.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
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


# --- limits: nesting depth and length, checked before the parser recurses ------------


def nested(levels: int, shape: str = "parens") -> str:
    if shape == "parens":
        return "(" * levels + "what=cpu" + ")" * levels
    return "NOT " * levels + "what=cpu"


@pytest.mark.parametrize("shape", ["parens", "not"])
def test_nesting_up_to_the_limit_parses(shape):
    tree = parse(nested(MAX_DEPTH, shape))
    assert matches(tree, "cpu", {}) is (shape == "parens" or MAX_DEPTH % 2 == 0)


@pytest.mark.parametrize("shape", ["parens", "not"])
@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 330, 10_000])
def test_deeper_nesting_is_an_expression_error_never_a_recursion_error(levels, shape):
    text = nested(levels, shape)
    with pytest.raises(ExpressionError) as err:
        parse(text)
    if len(text) > MAX_LENGTH:
        assert f"longer than {MAX_LENGTH} characters" in str(err.value)
    else:
        assert f"nested deeper than {MAX_DEPTH} levels" in str(err.value)


def test_terms_are_limited_too():
    # Each dimension term is a subquery; PostgreSQL took seconds to plan 100 of them
    # ANDed, and SQLite refused 1,000 ("Expression tree is too large").
    assert len(parse("a " * MAX_TERMS, max_terms=MAX_TERMS).operands) == MAX_TERMS
    assert len(parse(" OR ".join(["host=a"] * MAX_TERMS), max_terms=MAX_TERMS).operands) == 50
    for text in ("a " * (MAX_TERMS + 1), "a " * 999, "(a b) " * 26, "NOT a " * 51):
        with pytest.raises(ExpressionError, match=f"more than {MAX_TERMS} terms"):
            parse(text, max_terms=MAX_TERMS)


def test_an_expression_stored_before_the_term_limit_still_parses():
    # Exclusions, rules, alerts and windows saved before the limit are read with parse()
    # by detection and the alert evaluator: refusing them there would stop both.
    stored = " OR ".join(f"host=web-{i}" for i in range(80))
    assert matches(parse(stored), "cpu", {"host": "web-79"}) is True


_PIECES = ["(", ")", "NOT ", "AND ", "OR ", "a", "b=", "c!=", '"x"', " ", "*", '"', "=", "!"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    opening=st.integers(min_value=0, max_value=1200),
    pieces=st.lists(st.sampled_from(_PIECES), max_size=200),
    closing=st.integers(min_value=0, max_value=1200),
    nots=st.booleans(),
)
def test_any_text_parses_or_raises_the_parsers_own_error(opening, pieces, closing, nots):
    text = ("NOT (" if nots else "(") * opening + "".join(pieces) + ")" * closing
    try:
        tree = parse(text)
    except ExpressionError:
        return
    matches(tree, "a", {"b": "x", "c": "y"})


# --- every route that takes an expression answers 422 in the error envelope ---------

_EXPRESSION_ROUTES = [
    ("GET", "/metrics", "q"),
    ("GET", "/anomalies", "q"),
    ("GET", "/anomalies/count", "q"),
    ("GET", "/alerts/triggered", "q"),
    ("GET", "/alerts/triggered/count", "q"),
    ("POST", "/alerts", {"title": "deep"}),
    ("POST", "/alerts/preview", {}),
    ("POST", "/forecasts", {"name": "deep", "horizon": 5}),
    ("POST", "/maintenance-windows", {"name": "deep", "start": 0, "end": 60}),
    ("POST", "/exclusions", {}),
    ("POST", "/sensitivity-rules", {"sensitivity": "low"}),
    ("POST", "/metrics/learning/stop", "body-q"),
    ("POST", "/metrics/learning/resume", "body-q"),
]


_REFUSED = [nested(330), nested(330, "not"), nested(10_000), nested(10_000, "not"), "a " * 999]


def test_every_route_refuses_a_too_deep_or_too_long_expression(client, owner):
    for text, (method, path, where) in itertools.product(_REFUSED, _EXPRESSION_ROUTES):
        if where == "q":
            r = client.get(f"/api/v1{path}", params={"q": text}, headers=owner.headers)
        elif where == "body-q":
            r = client.post(f"/api/v1{path}", json={"q": text}, headers=owner.headers)
        else:
            body = {**where, "expression": text}
            r = client.request(method, f"/api/v1{path}", json=body, headers=owner.headers)
        assert r.status_code == 422, (path, r.status_code, r.text[:300])
        error = r.json()["error"]
        assert error["code"] == "VALIDATION_ERROR", path
        if len(text) > MAX_LENGTH:
            assert "2000 characters" in error["message"], (path, error["message"])
        elif text.startswith("a "):
            assert f"more than {MAX_TERMS} terms" in error["message"], path
        else:
            assert f"nested deeper than {MAX_DEPTH} levels" in error["message"], path
    # Nothing was stored.
    for path in ("/alerts", "/forecasts", "/maintenance-windows"):
        assert client.get(f"/api/v1{path}", headers=owner.headers).json()["total"] == 0, path
    for path in ("/exclusions", "/sensitivity-rules"):
        assert client.get(f"/api/v1{path}", headers=owner.headers).json() == [], path


def test_an_expression_at_the_limits_is_accepted_by_the_routes(client, owner):
    deep = nested(MAX_DEPTH)
    long = " OR ".join(["what=" + "c" * 31] * MAX_TERMS)  # MAX_TERMS terms, 1,996 characters
    assert MAX_LENGTH - 10 < len(long) <= MAX_LENGTH
    for text in (deep, long):
        r = client.get("/api/v1/metrics", params={"q": text}, headers=owner.headers)
        assert r.status_code == 200, r.text
        r = client.post(
            "/api/v1/alerts",
            json={"title": "at the limit", "expression": text},
            headers=owner.headers,
        )
        assert r.status_code == 201, r.text
