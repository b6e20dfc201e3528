"""CSV backfill: header and plain forms."""

import pytest

from augury.metrics.ingest import IngestError, Sample
from augury.metrics.ingest.csv import parse

NOW = 1_700_000_000.0
T = 1_699_999_000


def test_plain_form():
    body = f"{T},cpu,1.5\n{T + 60},cpu,2,host=web-1;dc=eu\n".encode()
    result = parse(body, now=NOW)
    assert result.errors == []
    assert result.samples == [
        Sample("cpu", {}, T, 1.5),
        Sample("cpu", {"dc": "eu", "host": "web-1"}, T + 60, 2.0),
    ]


def test_header_form_with_dimension_columns():
    body = (
        "timestamp,what,value,host,dc,target_type\n"
        f"{T},requests,10,web-1.example.com,eu,counter\n"
        f"{T + 60},requests,12,web-2,,\n"
    ).encode()
    result = parse(body, now=NOW)
    assert result.errors == []
    assert result.samples == [
        Sample("requests", {"dc": "eu", "host": "web-1.example.com"}, T, 10.0, "counter"),
        Sample("requests", {"host": "web-2"}, T + 60, 12.0, "gauge"),
    ]


def test_header_columns_in_any_order_bom_crlf_quotes():
    body = (f'\ufeffTimestamp,region,Value,What\r\n{T},"Paris, FR",3,"sales ""net"""\r\n').encode()
    [s] = parse(body, now=NOW).samples
    assert (s.what, dict(s.dimensions), s.value) == ('sales "net"', {"region": "Paris, FR"}, 3.0)


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2023-11-14T22:00:00Z", 1699999200.0),
        ("2023-11-14T23:00:00+01:00", 1699999200.0),
        ("2023-11-14 22:00:00", 1699999200.0),
        (f"{T}.5", T + 0.5),
    ],
)
def test_timestamp_forms(ts, expected):
    [s] = parse(f"{ts},cpu,1".encode(), now=NOW).samples
    assert s.timestamp == expected


@pytest.mark.parametrize(
    ("row", "code"),
    [
        (f"{T},,1", 2012),
        (f"{T},cpu,", 2024),
        (f"{T},cpu,abc", 2025),
        (f"{T},cpu,1;2", 2025),
        (f"{T},cpu,nan", 2026),
        (f"{T},cpu,-inf", 2026),
        (",cpu,1", 2020),
        ("yesterday,cpu,1", 2021),
        (f"{int(NOW) + 3601},cpu,1", 2022),
        ("-1,cpu,1", 2023),
        (f"{T},cpu", "INVALID_ROW"),
        (f"{T},cpu,1,a=b,extra", "INVALID_ROW"),
        (f"{T},cpu,1,host", "INVALID_ROW"),
        (f"{T},cpu,1,host=", "INVALID_ROW"),
    ],
)
def test_plain_errors(row, code):
    result = parse(row.encode(), now=NOW)
    assert result.samples == []
    assert [(e.index, e.code) for e in result.errors] == [(0, code)]


@pytest.mark.parametrize(
    ("row", "code"),
    [
        (f"{T},cpu,1,gauge,a", "INVALID_ROW"),
        (f"{T},cpu,1,rate", 2030),
        (f"{T},,1,gauge", 2012),
    ],
)
def test_header_errors(row, code):
    result = parse(f"timestamp,what,value,target_type\n{row}".encode(), now=NOW)
    assert [(e.index, e.code) for e in result.errors] == [(0, code)]


@pytest.mark.parametrize(
    "header",
    ["timestamp,what,host", "timestamp,what,value,host,host", "timestamp,what,value,,host"],
)
def test_bad_header(header):
    with pytest.raises(IngestError):
        parse(f"{header}\n{T},cpu,1,a".encode(), now=NOW)


def test_mixed_batch_keeps_good_rows():
    body = "\n".join(
        [f"{T},cpu,1", f"{T},cpu,NaN", "", f"{T + 60},cpu,3,host=a", f"{T},mem,x"]
    ).encode()
    result = parse(body, now=NOW)
    assert [s.value for s in result.samples] == [1.0, 3.0]
    assert [(e.index, e.code) for e in result.errors] == [(1, 2026), (4, 2025)]


def test_empty_and_bad_encoding():
    assert parse(b"", now=NOW).samples == []
    assert parse(b"timestamp,what,value\n", now=NOW).samples == []
    with pytest.raises(IngestError):
        parse(b"\xff\xfe1,cpu,1", now=NOW)
