"""InfluxDB line protocol, including lines written by the real influxdb-client library."""

import pytest

from augury.metrics.ingest import IngestError, Sample
from augury.metrics.ingest.influx import parse, parse_line

NOW = 1_700_000_000.0
NS = 1_699_999_000_000_000_000  # NOW - 1000 s, in ns


def one(line: str, **kwargs):
    result = parse(line.encode(), now=NOW, **kwargs)
    assert result.errors == [], result.errors
    return result.samples


def test_basic_line():
    samples = one(f"cpu,host=web-1,region=eu usage_user=12.5,usage_system=3 {NS}")
    dims = {"host": "web-1", "region": "eu"}
    assert samples == [
        Sample("cpu.usage_user", dims, NOW - 1000, 12.5),
        Sample("cpu.usage_system", dims, NOW - 1000, 3.0),
    ]


def test_no_tags_and_no_timestamp_uses_now():
    [s] = one("load value=0.5")
    assert (s.what, dict(s.dimensions), s.timestamp) == ("load.value", {}, NOW)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1.0),
        ("-1.5", -1.5),
        ("1e3", 1000.0),
        ("1.5E-2", 0.015),
        (".5", 0.5),
        ("1.", 1.0),
        ("12i", 12.0),
        ("-12i", -12.0),
        ("9223372036854775807i", 9.223372036854776e18),
        ("12u", 12.0),
        ("18446744073709551615u", 1.8446744073709552e19),
        ("t", 1.0),
        ("T", 1.0),
        ("true", 1.0),
        ("True", 1.0),
        ("TRUE", 1.0),
        ("f", 0.0),
        ("F", 0.0),
        ("false", 0.0),
        ("False", 0.0),
        ("FALSE", 0.0),
    ],
)
def test_field_types(raw, expected):
    [s] = one(f"m f={raw} {NS}")
    assert s.value == expected


@pytest.mark.parametrize("precision", ["ns", "us", "ms", "s", "n", "u"])
def test_precision(precision):
    per_second = {"ns": 10**9, "n": 10**9, "us": 10**6, "u": 10**6, "ms": 10**3, "s": 1}
    ts = 1_699_999_000 * per_second[precision] + per_second[precision] // 4
    [s] = one(f"m f=1 {ts}", precision=precision)
    expected = 1_699_999_000 if precision == "s" else 1_699_999_000.25
    assert s.timestamp == pytest.approx(expected)


def test_coarse_v1_precisions():
    assert one("m f=1 28333316", precision="m")[0].timestamp == 28333316 * 60
    assert one("m f=1 472222", precision="h")[0].timestamp == 472222 * 3600


def test_unknown_precision_is_refused():
    with pytest.raises(IngestError):
        parse(b"m f=1", now=NOW, precision="fortnight")


def test_escapes():
    line = r"my\ meas\,x,host=a\ b\,c\=d,path=C:\dir f\ 1\=x=1,g=2i " + str(NS)
    samples = one(line)
    assert [s.what for s in samples] == ["my meas,x.f 1=x", "my meas,x.g"]
    assert samples[0].dimensions == {"host": "a b,c=d", "path": r"C:\dir"}


def test_equals_sign_in_measurement_is_literal():
    [s] = one("a=b f=1")
    assert s.what == "a=b.f"


def test_string_fields_are_skipped_not_errors():
    line = f'system,host=a uptime=10i,uptime_format="1 day, 2:03",note="a \\"q\\" b\\\\" {NS}'
    [s] = one(line)
    assert (s.what, s.value) == ("system.uptime", 10.0)
    assert one('system note="only text"') == []


def test_comments_blank_lines_and_crlf():
    body = f"# a comment\r\n\r\ncpu f=1 {NS}\r\n   \n"
    assert len(one(body)) == 1


@pytest.mark.parametrize(
    "line",
    [
        "cpu",  # no fields
        "cpu ",  # no fields
        ",host=a f=1",  # no measurement
        "cpu,host f=1",  # tag without value
        "cpu,host= f=1",  # empty tag value
        "cpu f=",  # empty field value
        "cpu =1",  # empty field key
        "cpu f=abc",
        "cpu f=1x",
        "cpu f=nan",
        "cpu f=inf",
        "cpu f=1e999",
        "cpu f=1.5i",
        "cpu f=-1u",
        "cpu f=9223372036854775808i",
        "cpu f=18446744073709551616u",
        'cpu f="unterminated',
        "cpu f=1 notatime",
        "cpu f=1 1.5",
        "cpu f=1 123 extra",
    ],
)
def test_invalid_lines(line):
    result = parse(line.encode(), now=NOW)
    assert result.samples == []
    assert [(e.index, e.code) for e in result.errors] == [(0, "INVALID_LINE")]


def test_future_and_negative_timestamps():
    future = (int(NOW) + 3601) * 10**9
    result = parse(f"m f=1 {future}\nm f=1 -1000000000".encode(), now=NOW)
    assert result.samples == []
    assert [(e.index, e.code) for e in result.errors] == [(0, 2022), (1, 2023)]


def test_mixed_batch_keeps_good_lines():
    body = "\n".join(
        [f"cpu,host=a f=1 {NS}", "cpu,host=b f=oops", "", f"cpu,host=c f=3,g=4 {NS}", "cpu"]
    ).encode()
    result = parse(body, now=NOW)
    assert [(s.dimensions["host"], s.value) for s in result.samples] == [
        ("a", 1.0),
        ("c", 3.0),
        ("c", 4.0),
    ]
    assert [(e.index, e.code) for e in result.errors] == [(1, "INVALID_LINE"), (4, "INVALID_LINE")]


def test_bad_utf8_is_refused():
    with pytest.raises(IngestError):
        parse(b"cpu f=1 \xff", now=NOW)


def test_parse_line_is_public():
    assert parse_line("m,t=v f=2i", now=NOW)[0].dimensions == {"t": "v"}


# ------------------------------------------------- lines from the real client library


def test_real_client_lines_round_trip():
    pytest.importorskip("influxdb_client")
    from influxdb_client import Point, WritePrecision

    points = [
        Point("cpu")
        .tag("host", "web-1")
        .tag("cpu", "cpu-total")
        .field("usage_idle", 97.25)
        .field("usage_user", 1.5)
        .time(NS, WritePrecision.NS),
        Point("my meas,x")
        .tag("host", "a b,c=d")
        .tag("eq", "x=y")
        .field("f 1", 1.5)
        .field("count", 3)
        .field("ok", True)
        .field("text", 'he said "hi" \\ ok, fine')
        .time(NS, WritePrecision.NS),
        Point("mem").field("used", 2**40).time(NS, WritePrecision.NS),
    ]
    body = "\n".join(p.to_line_protocol() for p in points).encode()
    result = parse(body, now=NOW)
    assert result.errors == []
    got = {(s.what, tuple(s.dimensions.items())): (s.value, s.timestamp) for s in result.samples}
    ts = NOW - 1000
    assert got == {
        ("cpu.usage_idle", (("cpu", "cpu-total"), ("host", "web-1"))): (97.25, ts),
        ("cpu.usage_user", (("cpu", "cpu-total"), ("host", "web-1"))): (1.5, ts),
        ("my meas,x.count", (("eq", "x=y"), ("host", "a b,c=d"))): (3.0, ts),
        ("my meas,x.f 1", (("eq", "x=y"), ("host", "a b,c=d"))): (1.5, ts),
        ("my meas,x.ok", (("eq", "x=y"), ("host", "a b,c=d"))): (1.0, ts),
        ("mem.used", ()): (float(2**40), ts),
    }


@pytest.mark.parametrize(
    ("precision", "ts"),
    [("ns", NS), ("us", NS // 10**3), ("ms", NS // 10**6), ("s", NS // 10**9)],
)
def test_real_client_precisions(precision, ts):
    pytest.importorskip("influxdb_client")
    from influxdb_client import Point

    line = Point("m").field("v", 1.0).time(ts, precision).to_line_protocol()
    [s] = parse(line.encode(), now=NOW, precision=precision).samples
    assert s.timestamp == NOW - 1000
