"""Sample, ParseResult and the shared checks."""

import math

import pytest

from augury.metrics.ingest import IngestError, ParseResult, Sample, SampleError
from augury.metrics.ingest.points import check_timestamp, check_value, to_number

NOW = 1_700_000_000.0


def test_sample_dimensions_are_sorted_and_read_only():
    sample = Sample("cpu", {"z": "1", "a": "2"}, NOW, 1.0)
    assert list(sample.dimensions) == ["a", "z"]
    assert sample.dimensions == {"a": "2", "z": "1"}
    with pytest.raises(TypeError):
        sample.dimensions["b"] = "3"  # type: ignore[index]
    assert sample.key == ("cpu", (("a", "2"), ("z", "1")))
    assert sample.target_type == "gauge" and sample.tags is None


def test_sample_copies_its_inputs():
    dims = {"host": "a"}
    tags = {"team": ["x"]}
    sample = Sample("cpu", dims, NOW, 1.0, "counter", tags)
    dims["host"] = "b"
    tags["team"].append("y")
    assert sample.dimensions == {"host": "a"}
    assert sample.tags == {"team": ("x",)}


def test_parse_result_collects_errors():
    result = ParseResult()
    result.error(3, 2026, "NaN")
    assert result.errors == [SampleError(3, 2026, "NaN")]
    assert result.samples == []


def test_ingest_error_carries_code():
    exc = IngestError(1001, "bad json")
    assert isinstance(exc, ValueError)
    assert (exc.code, exc.message, str(exc)) == (1001, "bad json", "bad json")


@pytest.mark.parametrize(
    ("ts", "code"),
    [(NOW, None), (NOW + 3600, None), (NOW + 3601, 2022), (-1.0, 2023), (math.nan, 2021)],
)
def test_check_timestamp(ts, code):
    problem = check_timestamp(ts, now=NOW)
    assert (problem[0] if problem else None) == code


def test_check_value():
    assert check_value(1.5) is None
    assert check_value(math.inf)[0] == 2026
    assert check_value(math.nan)[0] == 2026


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, 1.0),
        (2.5, 2.5),
        ("3", 3.0),
        (" 4.5 ", 4.5),
        (True, None),
        ("", None),
        ("1_0", None),
        ("abc", None),
        (None, None),
        ([1], None),
        (10**400, None),
        ("1e400", float("inf")),
    ],
)
def test_to_number(raw, expected):
    assert to_number(raw) == expected


def test_samples_are_hashable():
    a = Sample("cpu", {"h": "1"}, NOW, 1.0, tags={"t": ["x"]})
    b = Sample("cpu", {"h": "1"}, NOW, 1.0, tags={"t": ["x"]})
    assert a == b and len({a, b}) == 1
