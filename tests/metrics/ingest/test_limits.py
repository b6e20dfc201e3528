"""The storage limits every protocol applies, and gzip bodies of several members."""

import gzip
import zlib

import pytest

from augury.metrics.ingest import IngestError, anodot, csv, influx, prometheus
from augury.metrics.ingest.encoding import inflate
from augury.metrics.ingest.limits import (
    MAX_DIMENSION_KEY_LEN,
    MAX_DIMENSION_VALUE_LEN,
    MAX_DIMENSIONS,
    MAX_WHAT_LEN,
    check_series,
)
from augury.metrics.models import Metric, MetricDimension

NOW = 1_700_000_000.0


def test_limits_are_the_column_sizes():
    assert MAX_WHAT_LEN == Metric.__table__.c.what.type.length == 255
    assert MAX_DIMENSION_KEY_LEN == MetricDimension.__table__.c.key.type.length == 100
    assert MAX_DIMENSION_VALUE_LEN == MetricDimension.__table__.c.value.type.length == 400


def test_anodot_rules_fit_inside_the_storage_limits():
    assert anodot.MAX_VALUE_LEN <= MAX_WHAT_LEN  # what is a property value; 3.0 measurements
    assert anodot.MAX_KEY_LEN <= MAX_DIMENSION_KEY_LEN
    assert anodot.MAX_VALUE_LEN <= MAX_DIMENSION_VALUE_LEN
    assert anodot.MAX_PROPERTIES - 1 <= MAX_DIMENSIONS  # less `what`
    assert anodot.MAX_SCHEMA_DIMENSIONS <= MAX_DIMENSIONS
    assert anodot.MAX_DIMENSION_NAME_LEN <= MAX_DIMENSION_KEY_LEN


@pytest.mark.parametrize(
    "what, dims, code",
    [
        ("m" * MAX_WHAT_LEN, {f"k{i}": "v" * MAX_DIMENSION_VALUE_LEN for i in range(30)}, None),
        ("m" * (MAX_WHAT_LEN + 1), {}, 2028),
        ("m", {f"k{i}": "v" for i in range(MAX_DIMENSIONS + 1)}, 2005),
        ("m", {"k" * MAX_DIMENSION_KEY_LEN: "v"}, None),
        ("m", {"k" * (MAX_DIMENSION_KEY_LEN + 1): "v"}, 2007),
        ("m", {"k": "v" * (MAX_DIMENSION_VALUE_LEN + 1)}, 2009),
        ("m\x00", {}, 2011),
        ("m\ud800", {}, 2011),
        ("m", {"k\x00": "v"}, 2010),
        ("m", {"k": "v\udfff"}, 2011),
        ("ñ" * MAX_WHAT_LEN, {"ü": "😀" * MAX_DIMENSION_VALUE_LEN}, None),  # characters
    ],
)
def test_check_series(what, dims, code):
    problem = check_series(what, dims)
    assert (problem and problem[0]) == code
    if problem:
        problem[1].encode("utf-8")  # quotable in an answer, surrogate or not
        assert len(problem[1]) < 300


def test_csv_rows_the_database_cannot_store_are_refused():
    rows = [
        "1699999000,cpu,1,host=a",
        f"1699999000,{'m' * (MAX_WHAT_LEN + 1)},1",
        "1699999000,cpu\x00,1",
        f"1699999000,cpu,1,host={'v' * (MAX_DIMENSION_VALUE_LEN + 1)}",
        "1699999000,cpu,1," + ";".join(f"k{i}=v" for i in range(MAX_DIMENSIONS + 1)),
        "1699999000,cpu,1,host=b",
    ]
    result = csv.parse("\n".join(rows).encode(), now=NOW)
    assert [s.dimensions.get("host") for s in result.samples] == ["a", "b"]
    assert [(e.index, e.code) for e in result.errors] == [
        (1, 2028),
        (2, 2011),
        (3, 2009),
        (4, 2005),
    ]


def test_csv_header_with_too_many_dimension_columns():
    header = "timestamp,what,value," + ",".join(f"d{i}" for i in range(MAX_DIMENSIONS + 1))
    row = "1699999000,cpu,1," + ",".join("v" for _ in range(MAX_DIMENSIONS + 1))
    result = csv.parse(f"{header}\n{row}\n".encode(), now=NOW)
    assert [(e.index, e.code) for e in result.errors] == [(0, 2005)]


def test_influx_refuses_the_line_and_quotes_it():
    result = influx.parse(f"cpu,host=a\x00 v=1,w=2\ncpu,{'k' * 101}=a v=1".encode(), now=NOW)
    assert result.samples == []
    assert [(e.index, e.code) for e in result.errors] == [(0, 2011), (1, 2007)]
    assert result.errors[0].message.startswith("unable to store 'cpu,host=a\\x00 v=1,w=2': ")


def test_influx_checks_every_field_name():
    result = influx.parse(f"cpu a=1,{'f' * MAX_WHAT_LEN}=2".encode(), now=NOW)
    assert result.samples == [] and [e.code for e in result.errors] == [2028]


def test_prometheus_bad_series_codes():
    body = prometheus.encode(
        [
            ({"__name__": "up", "job": "a\x00"}, [(1.0, NOW * 1000)]),
            ({"job": "x"}, [(1.0, NOW * 1000)]),
            ({"__name__": "q"}, [(float("nan"), NOW * 1000)]),
        ]
    )
    result = prometheus.parse(body, now=NOW)
    assert [(e.index, e.code) for e in result.errors] == [(0, 2011), (1, 2012), (2, 2026)]
    assert [e.code in prometheus.SERIES_CODES for e in result.errors] == [True, True, False]


def test_anodot_error_messages_can_always_be_answered():
    raw = b'[{"properties": {"what": "\\ud800\\u0000"}, "timestamp": "\\udfff", "value": 1}]'
    result = anodot.parse(raw, now=NOW)
    assert [e.code for e in result.errors] == [2011]
    assert "\\ud800\\x00" in result.errors[0].message
    with pytest.raises(IngestError) as err:
        anodot.parse_watermark(b'{"schemaId": "\\ud800", "watermark": 1}', now=NOW, schemas={})
    err.value.message.encode("utf-8")


# ------------------------------------------------------------------------------- gzip


def test_inflate_reads_every_member_and_zero_padding():
    body = gzip.compress(b"one\n") + gzip.compress(b"two\n") + b"\0\0\0"
    assert inflate(body, max_size=100) == b"one\ntwo\n"
    assert inflate(zlib.compress(b"deflate"), max_size=100) == b"deflate"
    assert inflate(b"", max_size=100) == b""


def test_inflate_size_limit_covers_all_members():
    member = gzip.compress(b"a" * 60)
    assert len(inflate(member + member, max_size=120)) == 120
    with pytest.raises(IngestError) as err:
        inflate(member + member + member, max_size=120)
    assert err.value.code == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    "body",
    [
        gzip.compress(b"abc")[:-3],
        gzip.compress(b"abc") + b"junk",
        gzip.compress(b"abc") + gzip.compress(b"def")[:10],
        b"\x1f\x8b not gzip",
    ],
    ids=["truncated", "trailing-junk", "truncated-second-member", "not-gzip"],
)
def test_inflate_refuses_what_does_not_end_cleanly(body):
    with pytest.raises(IngestError) as err:
        inflate(body, max_size=100)
    assert err.value.code == "INVALID_BODY"
