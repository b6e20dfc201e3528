"""Prometheus remote write 1.0: snappy + protobuf WriteRequest."""

import math
import struct
import time
from pathlib import Path

import pytest

cramjam = pytest.importorskip("cramjam")

from augury.metrics.ingest import IngestError, Sample  # noqa: E402
from augury.metrics.ingest.prometheus import STALE_NAN_BITS, decompress, iter_fields, parse  # noqa: E402

NOW = 1_700_000_000.0
MS = 1_699_999_000_000  # NOW - 1000 s, in ms

# WriteRequest{timeseries: [TimeSeries{labels: [{__name__: "up"}], samples: [{1.0, 1000}]}]},
# encoded by hand from the protobuf encoding rules, independent of any encoder:
#   0a 1e            WriteRequest.timeseries (field 1, LEN), 30 bytes
#     0a 0e          TimeSeries.labels (field 1, LEN), 14 bytes
#       0a 08 "__name__"   Label.name;   12 02 "up"   Label.value
#     12 0c          TimeSeries.samples (field 2, LEN), 12 bytes
#       09 <1.0 as little-endian double>   Sample.value (field 1, I64)
#       10 e8 07                            Sample.timestamp (field 2, VARINT) = 1000
HAND_MADE = bytes.fromhex(
    "0a1e0a0e0a08" + b"__name__".hex() + "1202" + b"up".hex() + "120c09000000000000f03f10e807"
)


def snappy(raw: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(raw))


# A minimal encoder, used for shapes the generated classes below cannot make.
def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def ld(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def label(name: str, value: str) -> bytes:
    return ld(1, name.encode()) + ld(2, value.encode())


def sample_msg(value: float | None = None, ms: int = MS, *, bits: int | None = None) -> bytes:
    raw = struct.pack("<Q", bits) if bits is not None else struct.pack("<d", value)
    return b"\x09" + raw + b"\x10" + varint(ms)


def series(labels: dict[str, str], *samples: bytes, extra: bytes = b"") -> bytes:
    payload = b"".join(ld(1, label(k, v)) for k, v in labels.items())
    return ld(1, payload + b"".join(ld(2, s) for s in samples) + extra)


def test_hand_made_bytes():
    result = parse(snappy(HAND_MADE), now=NOW)
    assert result.errors == []
    assert result.samples == [Sample("up", {}, 1.0, 1.0)]
    assert parse(HAND_MADE, now=NOW, compressed=False).samples == result.samples


def test_labels_become_dimensions_verbatim():
    body = series(
        {
            "__name__": "http_requests_total",
            "job": "api",
            "instance": "10.0.0.1:9100",
            "path": "/a b.c",
            "ñ": "ü",
        },
        sample_msg(5.0),
        sample_msg(7.0, MS + 15_000),
    )
    result = parse(snappy(body), now=NOW)
    dims = {"instance": "10.0.0.1:9100", "job": "api", "path": "/a b.c", "ñ": "ü"}
    assert result.samples == [
        Sample("http_requests_total", dims, MS / 1000, 5.0),
        Sample("http_requests_total", dims, MS / 1000 + 15, 7.0),
    ]


def test_stale_markers_are_skipped_other_nan_refused():
    assert STALE_NAN_BITS == 0x7FF0000000000002
    body = series(
        {"__name__": "up"},
        sample_msg(1.0),
        sample_msg(bits=STALE_NAN_BITS, ms=MS + 1000),
        sample_msg(math.nan, MS + 2000),
        sample_msg(math.inf, MS + 3000),
        sample_msg(2.0, MS + 4000),
    )
    result = parse(snappy(body), now=NOW)
    assert [s.value for s in result.samples] == [1.0, 2.0]
    assert [(e.index, e.code) for e in result.errors] == [(0, 2026), (0, 2026)]


def test_mixed_batch_keeps_good_series():
    body = (
        series({"__name__": "a"}, sample_msg(1.0))
        + series({"job": "x"}, sample_msg(2.0))  # no __name__
        + series({"__name__": "c"}, sample_msg(3.0, (int(NOW) + 7200) * 1000), sample_msg(4.0))
        + series({"__name__": "d"}, sample_msg(5.0, -1000))
    )
    result = parse(snappy(body), now=NOW)
    assert [(s.what, s.value) for s in result.samples] == [("a", 1.0), ("c", 4.0)]
    assert [(e.index, e.code) for e in result.errors] == [(1, 2012), (2, 2022), (3, 2023)]


def test_unknown_fields_exemplars_and_metadata_are_skipped():
    exemplar = ld(3, ld(1, label("trace_id", "abc")) + sample_msg(9.0)[0:9])
    fixed32 = varint(15 << 3 | 5) + b"\x00\x00\x00\x00"
    body = (
        series({"__name__": "up"}, sample_msg(1.0), extra=exemplar + fixed32 + b"\x78\x01")
        + ld(3, ld(4, b"help text"))  # WriteRequest.metadata
    )
    result = parse(snappy(body), now=NOW)
    assert result.errors == [] and [s.value for s in result.samples] == [1.0]


def test_empty_request():
    assert parse(snappy(b""), now=NOW).samples == []


@pytest.mark.parametrize(
    "raw",
    [
        b"not snappy at all \xff\xff",
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
    ],
)
def test_body_that_is_not_snappy(raw):
    with pytest.raises(IngestError) as info:
        parse(raw, now=NOW)
    assert info.value.code in ("INVALID_BODY", "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "proto",
    [
        HAND_MADE[:-1],  # truncated
        b"\x0a\x7f\x00",  # length beyond the end
        b"\x0b\x00",  # wire type 3 (groups) unsupported
        b"\x00\x00",  # field number 0
        b"\x0a\x04\x0a\x02\x0a\xff",  # label name not UTF-8 / truncated
        b"\x08" + b"\xff" * 11,  # varint too long
    ],
)
def test_body_that_is_not_a_write_request(proto):
    with pytest.raises(IngestError) as info:
        parse(snappy(proto), now=NOW)
    assert info.value.code == "INVALID_BODY"


def test_snappy_bomb_is_refused():
    with pytest.raises(IngestError) as info:
        decompress(snappy(b"\x00" * 2048), max_size=1024)
    assert info.value.code == "PAYLOAD_TOO_LARGE"


def test_iter_fields_negative_int64():
    [(number, wire, value)] = list(iter_fields(b"\x10" + varint(-5)))
    assert (number, wire) == (2, 0) and value == 2**64 - 5
    body = series({"__name__": "x"}, sample_msg(1.0, -5))
    assert [e.code for e in parse(snappy(body), now=NOW).errors] == [2023]


# ------------------------------------------------ a body sent by a real Prometheus server

# Captured from Prometheus 2.42 (Debian package) scraping itself every second with
# ``remote_write`` to a local HTTP receiver (headers: Content-Encoding: snappy,
# Content-Type: application/x-protobuf, X-Prometheus-Remote-Write-Version: 0.1.0).
# The scrape target had the extra label ``env="aug test.1"``.
REAL_BODY = Path(__file__).parent / "data" / "prometheus-2.42-remote-write.bin"
REAL_MS = 1795431956924


def test_real_prometheus_server_body():
    result = parse(REAL_BODY.read_bytes(), now=REAL_MS / 1000 + 60)
    assert len(result.samples) == 327
    target = {"env": "aug test.1", "instance": "127.0.0.1:19090", "job": "self"}
    ups = [s for s in result.samples if s.what == "up"]
    assert ups == [Sample("up", target, REAL_MS / 1000, 1.0)]
    assert {s.timestamp for s in result.samples} == {REAL_MS / 1000}
    assert all(dict(s.dimensions).items() >= target.items() for s in result.samples)
    quantiles = [s for s in result.samples if s.what == "go_gc_duration_seconds"]
    assert sorted(s.dimensions["quantile"] for s in quantiles) == ["0", "0.25", "0.5", "0.75", "1"]
    # Summaries with no observations yet export NaN quantiles: real, refused as NaN.
    assert len(result.errors) == 26
    assert {e.code for e in result.errors} == {2026}
    assert all("_duration_seconds" in e.message for e in result.errors)


# ------------------------- the wire format as OpenTelemetry's remote-write exporter makes it


def test_round_trip_through_generated_protobuf_classes():
    pytest.importorskip("opentelemetry.exporter.prometheus_remote_write")
    from opentelemetry.exporter.prometheus_remote_write import (
        PrometheusRemoteWriteMetricsExporter as Exporter,
    )
    from opentelemetry.exporter.prometheus_remote_write.gen.types_pb2 import (
        Label,
        TimeSeries,
    )
    from opentelemetry.exporter.prometheus_remote_write.gen.types_pb2 import (
        Sample as PbSample,
    )

    expected = []
    timeseries = []
    for i in range(50):
        ts = TimeSeries()
        labels = {"__name__": f"metric_{i % 5}", "instance": f"host-{i}.example.com:9100"}
        for name, value in labels.items():
            ts.labels.append(Label(name=name, value=value))
        for j in range(20):
            value = i * 1000.0 + j / 4 - 100
            ts.samples.append(PbSample(value=value, timestamp=MS + j * 15_000))
            dims = {"instance": labels["instance"]}
            expected.append(Sample(labels["__name__"], dims, MS / 1000 + j * 15, value))
        timeseries.append(ts)
    stale = TimeSeries(labels=[Label(name="__name__", value="gone")])
    stale.samples.append(
        PbSample(value=struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0], timestamp=MS)
    )
    timeseries.append(stale)

    body = Exporter._build_message(timeseries)  # WriteRequest + python-snappy, as sent
    result = parse(body, now=NOW)
    assert result.errors == []
    assert result.samples == expected


def test_real_exporter_translation():
    pytest.importorskip("opentelemetry.exporter.prometheus_remote_write")
    from opentelemetry.exporter.prometheus_remote_write import (
        PrometheusRemoteWriteMetricsExporter as Exporter,
    )
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("augury-test")
    counter = meter.create_counter("requests", unit="1")
    counter.add(3, {"route": "/api/v1/x", "method": "GET"})
    counter.add(4, {"route": "/api/v1/x", "method": "GET"})
    counter.add(1, {"route": "/health", "method": "HEAD"})
    gauge = meter.create_up_down_counter("queue_depth")
    gauge.add(-2.5, {"queue": "jobs"})

    exporter = Exporter(endpoint="http://127.0.0.1:1/api/v1/write", resources_as_labels=False)
    body = exporter._build_message(exporter._translate_data(reader.get_metrics_data()))
    result = parse(body, now=time.time())
    assert result.errors == []
    got = {(s.what, tuple(s.dimensions.items())): s.value for s in result.samples}
    assert got == {
        ("requests_1", (("method", "GET"), ("route", "/api/v1/x"))): 7.0,
        ("requests_1", (("method", "HEAD"), ("route", "/health"))): 1.0,
        ("queue_depth", (("queue", "jobs"),)): -2.5,
    }
    assert all(abs(s.timestamp - time.time()) < 60 for s in result.samples)


def test_encode_is_the_inverse_of_parse():
    from augury.metrics.ingest.prometheus import encode, encode_labels

    series = [
        ({"__name__": "up", "job": "node", "instance": "a:9100"}, [(1.0, 1_700_000_000_123)]),
        (
            encode_labels({"__name__": "temp"}),
            [(-2.5, 1_700_000_000_000), (3e9, 1_700_000_060_000)],
        ),
    ]
    result = parse(encode(series), now=2e9)
    assert result.errors == []
    assert [(s.what, dict(s.dimensions), s.timestamp, s.value) for s in result.samples] == [
        ("up", {"instance": "a:9100", "job": "node"}, 1_700_000_000.123, 1.0),
        ("temp", {}, 1_700_000_000.0, -2.5),
        ("temp", {}, 1_700_000_060.0, 3e9),
    ]
    assert (
        parse(encode(series, compress=False), now=2e9, compressed=False).samples == result.samples
    )
