"""The ingestion routes against values the database cannot hold, and gzip bodies.

Every protocol applies the same storage limits (metric name, dimension count, key and
value lengths, no NUL, no lone surrogate) on SQLite and PostgreSQL: a bad sample is
refused the protocol's way and the good samples of the batch are stored.
"""

from __future__ import annotations

import gzip
import json
import time

import pytest

from augury.metrics.ingest import prometheus
from augury.metrics.ingest.limits import (
    MAX_DIMENSION_KEY_LEN,
    MAX_DIMENSION_VALUE_LEN,
    MAX_DIMENSIONS,
    MAX_WHAT_LEN,
)
from tests.fixtures.factories import make_key

NOW = int(time.time()) // 60 * 60 - 600


@pytest.fixture
def key(client, owner) -> str:
    return make_key(client, owner, ["ingest", "read"])


def metric_names(client, owner) -> set[str]:
    r = client.get("/api/v1/metrics", params={"limit": 1000}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return {m["name"] for m in r.json()["items"]}


def influx(client, key, lines: list[str], **headers):
    return client.post(
        "/api/v2/write?precision=s",
        content="\n".join(lines).encode(),
        headers={"Authorization": f"Token {key}", **headers},
    )


# ----------------------------------------------------------------------------- Influx


def test_influx_refuses_unstorable_lines_with_400_naming_the_line(client, owner, key):
    many = ",".join(f"t{i}=v" for i in range(MAX_DIMENSIONS + 1))
    lines = [
        f"cpu,host=a v=1 {NOW}",
        f"{'m' * MAX_WHAT_LEN} v=1 {NOW}",  # what = measurement + ".v": too long
        f"cpu,{'k' * (MAX_DIMENSION_KEY_LEN + 1)}=a v=1 {NOW}",
        f"cpu,host={'x' * (MAX_DIMENSION_VALUE_LEN + 1)} v=1 {NOW}",
        f"cpu,host=a\x00b v=1 {NOW}",
        f"cpu\x00 v=1 {NOW}",
        f"cpu,{many} v=1 {NOW}",
        f"cpu,host={'z' * 100_000} v=1 {NOW}",  # a 100 KB name, which SQLite used to take
        f"cpu,host=b v=2 {NOW}",
    ]
    r = influx(client, key, lines)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "invalid" and body["line"] == 2
    assert body["message"].startswith("partial write")
    assert "m" * 100 in body["message"]  # the offending line itself
    assert [e["index"] for e in body["error"]["details"]["errors"]] == [1, 2, 3, 4, 5, 6, 7]
    assert metric_names(client, owner) == {"what=cpu.v.host=a", "what=cpu.v.host=b"}


def test_influx_values_at_the_limits_are_stored(client, owner, key):
    tags = ",".join(f"t{i:02d}=v" for i in range(MAX_DIMENSIONS - 1))
    lines = [
        f"{'m' * (MAX_WHAT_LEN - 2)},{tags},{'k' * MAX_DIMENSION_KEY_LEN}=a v=1 {NOW}",
        f"cpu,host={'x' * MAX_DIMENSION_VALUE_LEN} v=1 {NOW}",
    ]
    r = influx(client, key, lines)
    assert r.status_code == 204, r.text
    assert len(metric_names(client, owner)) == 2


# ------------------------------------------------------------------------- Prometheus


def remote_write(client, key, series):
    return client.post(
        "/api/v1/prom/write",
        content=prometheus.encode(series),
        headers={"Authorization": f"Bearer {key}", "Content-Encoding": "snappy"},
    )


def test_prometheus_refuses_a_bad_series_with_400_and_stores_the_good_ones(client, owner, key):
    ms = NOW * 1000
    many = {f"l{i}": "v" for i in range(MAX_DIMENSIONS + 1)}
    series = [
        ({"__name__": "up", "job": "a"}, [(1.0, ms)]),
        ({"__name__": "u" * (MAX_WHAT_LEN + 1)}, [(1.0, ms)]),
        ({"__name__": "up", "k" * (MAX_DIMENSION_KEY_LEN + 1): "a"}, [(1.0, ms)]),
        ({"__name__": "up", "job": "x" * (MAX_DIMENSION_VALUE_LEN + 1)}, [(1.0, ms)]),
        ({"__name__": "up", "job": "a\x00b"}, [(1.0, ms)]),
        ({"__name__": "up", **many}, [(1.0, ms)]),
        ({"__name__": "up", "job": "b"}, [(2.0, ms)]),
    ]
    r = remote_write(client, key, series)
    assert r.status_code == 400, r.text  # 4xx: Prometheus drops it instead of retrying
    assert r.headers["X-Augury-Refused"] == "5"
    error = r.json()["error"]
    assert error["code"] == "INVALID_PAYLOAD" and error["message"].startswith("5 series refused: ")
    assert [e["index"] for e in error["details"]["errors"]] == [1, 2, 3, 4, 5]
    assert metric_names(client, owner) == {"what=up.job=a", "what=up.job=b"}


def test_prometheus_series_at_the_limits_are_stored(client, owner, key):
    labels = {f"l{i:02d}": "v" for i in range(MAX_DIMENSIONS - 1)}
    labels["k" * MAX_DIMENSION_KEY_LEN] = "x" * MAX_DIMENSION_VALUE_LEN
    r = remote_write(client, key, [({"__name__": "u" * MAX_WHAT_LEN, **labels}, [(1.0, NOW)])])
    assert r.status_code == 204, r.text
    assert len(metric_names(client, owner)) == 1


def test_prometheus_refused_values_still_answer_204(client, owner, key):
    """A NaN quantile of an empty summary is normal: no error for Prometheus to log."""
    r = remote_write(client, key, [({"__name__": "q"}, [(float("nan"), NOW * 1000)])])
    assert r.status_code == 204 and r.headers["X-Augury-Refused"] == "1"


# ----------------------------------------------------------------------------- Anodot


def post_raw(client, key, raw: str, protocol="anodot20"):
    return client.post(
        f"/api/v1/metrics?protocol={protocol}&token={key}",
        content=raw.encode(),
        headers={"Content-Type": "application/json"},
    )


def test_anodot20_lone_surrogates_and_nul_are_refused_per_sample(client, owner, key):
    good = {"properties": {"what": "cpu", "host": "a"}, "timestamp": NOW, "value": 1}
    items = [
        json.dumps(good),
        '{"properties": {"what": "cpu", "host": "\\ud800"}, "timestamp": NOW, "value": 1}',
        '{"properties": {"what": "\\udfff"}, "timestamp": NOW, "value": 1}',
        '{"properties": {"what": "cpu", "h\\ud800": "a"}, "timestamp": NOW, "value": 1}',
        '{"properties": {"what": "cpu", "host": "a\\u0000"}, "timestamp": NOW, "value": 1}',
        '{"properties": {"what": "cpu"}, "tags": {"t": ["\\ud800"]}, "timestamp": NOW, "value": 1}',
        '{"properties": {"what": "cpu"}, "tags": {"\\ud800": ["a"]}, "timestamp": NOW, "value": 1}',
        '{"properties": {"what": "cpu"}, "timestamp": "\\ud800", "value": 1}',
        '{"properties": {"what": "cpu"}, "timestamp": NOW, "value": "\\ud800"}',
        json.dumps({**good, "properties": {"what": "cpu", "host": "b"}}),
    ]
    r = post_raw(client, key, "[" + ",".join(items).replace("NOW", str(NOW)) + "]")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["accepted"] == 2 and out["rejected"] == 8
    codes = {e["index"]: e["error"] for e in out["errors"]}
    assert codes == {1: 2011, 2: 2011, 3: 2010, 4: 2011, 5: 2019, 6: 2018, 7: 2021, 8: 2025}
    assert "\\ud800" in out["errors"][0]["description"]  # shown escaped, not as is
    assert metric_names(client, owner) == {"what=cpu.host=a", "what=cpu.host=b"}


def test_anodot30_lone_surrogates_are_refused_per_data_point(client, owner, key):
    r = client.post(
        "/api/v2/stream-schemas",
        json={
            "name": "s",
            "dimensions": ["host"],
            "measurements": {"cpu": {"aggregation": "average"}},
        },
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    sid = r.json()["schema"]["id"]
    point = '{"schemaId": "%s", "timestamp": %d, "dimensions": {"host": "%s"}, %s}'
    raw = (
        "["
        + ",".join(
            [
                point % (sid, NOW, "a", '"measurements": {"cpu": 1}'),
                point % (sid, NOW, "\\ud800", '"measurements": {"cpu": 1}'),
                point % (sid, NOW, "b", '"measurements": {"cpu": 1}, "tags": {"t": "\\udc00"}'),
                point % (sid, NOW, "c", '"measurements": {"\\ud800": 1}'),
                point % ("\\ud800", NOW, "c", '"measurements": {"cpu": 1}'),
            ]
        )
        + "]"
    )
    r = post_raw(client, key, raw, protocol="anodot30")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["accepted"] == 1
    codes = [(e["index"], e["error"]) for e in out["errors"]]
    assert codes == [
        (1, 2011),
        (2, 2019),
        (3, "UNKNOWN_MEASUREMENT"),
        (4, "SCHEMA_NOT_FOUND"),
    ]
    assert metric_names(client, owner) == {"what=cpu.host=a"}


def test_stream_schema_with_a_lone_surrogate_is_a_validation_error(client, owner):
    raw = '{"name": "s\\ud800", "dimensions": [], "measurements": {"m": {"aggregation": "sum"}}}'
    r = client.post(
        "/api/v2/stream-schemas",
        content=raw.encode(),
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text


# ------------------------------------------------------------------------------- gzip


def test_every_gzip_member_is_read(client, owner, key):
    body = gzip.compress(f"a v=1 {NOW}\n".encode()) + gzip.compress(f"b v=2 {NOW}\n".encode())
    r = client.post(
        "/api/v2/write?precision=s",
        content=body,
        headers={"Authorization": f"Token {key}", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 204, r.text
    assert metric_names(client, owner) == {"what=a.v", "what=b.v"}

    r = client.post(
        f"/api/v1/metrics?protocol=anodot20&token={key}",
        content=gzip.compress(b"[") + gzip.compress(b"]"),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert r.status_code == 200 and r.json() == {"errors": [], "accepted": 0, "rejected": 0}


@pytest.mark.parametrize(
    "body",
    [
        gzip.compress(b"a v=1\n")[:-6],  # truncated: the end of the member is missing
        gzip.compress(b"a v=1\n") + b"trailing garbage",
    ],
    ids=["truncated", "trailing-garbage"],
)
def test_a_gzip_body_that_does_not_end_cleanly_is_refused(client, owner, key, body):
    r = client.post(
        "/api/v2/write",
        content=body,
        headers={"Authorization": f"Token {key}", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_PAYLOAD", r.text
    assert metric_names(client, owner) == set()
