"""Metrics over HTTP: ingestion semantics, bad input, rollups, search, series, graphs."""

from __future__ import annotations

import gzip
import io
import time

import pytest
from PIL import Image

from augury.metrics.rollups import RollupConsumer
from augury.runtime.stream import StreamProcessor
from tests.fixtures.factories import make_key

NOW = int(time.time()) // 3600 * 3600  # a whole hour, so rollup buckets are predictable


@pytest.fixture
def key(client, owner) -> str:
    return make_key(client, owner, ["ingest", "read"])


def post20(client, key, samples, **params):
    query = "&".join(f"{k}={v}" for k, v in {"protocol": "anodot20", **params}.items())
    return client.post(f"/api/v1/metrics?{query}&token={key}", json=samples)


def sample(what="cpu", ts=NOW, value=1.0, **dims):
    return {"properties": {"what": what, **dims}, "timestamp": ts, "value": value}


def metric_id(client, owner, expression) -> int:
    items = client.get("/api/v1/metrics", params={"q": expression}, headers=owner.headers)
    items = items.json()["items"]
    assert len(items) == 1, items
    return items[0]["id"]


def series(client, owner, mid, resolution="native", start=0, end=NOW + 86400 * 2):
    r = client.get(
        f"/api/v1/metrics/{mid}/timeseries",
        params={"resolution": resolution, "from": start, "to": end},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


def drain(client):
    client.app.state.stream.drain()


# ------------------------------------------------------------------ ingestion


def test_anodot20_stores_points_and_creates_metrics_on_first_sight(client, owner, key):
    body = [sample(ts=NOW - 60 * i, value=float(i), host="web-1") for i in range(5)]
    body.append({**sample(what="orders", value=3.0, Geo="US"), "tags": {"team": ["shop"]}})
    body[-1]["properties"]["target_type"] = "counter"
    r = post20(client, key, body)
    assert r.status_code == 200
    assert r.json() == {"errors": [], "accepted": 6, "rejected": 0}
    drain(client)  # first/last timestamps move when the points are put in place

    listed = client.get("/api/v1/metrics", headers=owner.headers).json()
    assert listed["total"] == 2
    by_what = {m["what"]: m for m in listed["items"]}
    assert by_what["cpu"]["name"] == "what=cpu.host=web-1"
    assert by_what["cpu"]["dimensions"] == {"host": "web-1"}
    assert by_what["cpu"]["first_ts"] == NOW - 240 and by_what["cpu"]["last_ts"] == NOW
    assert by_what["orders"]["target_type"] == "counter"
    assert by_what["orders"]["tags"] == {"team": ["shop"]}
    s = series(client, owner, by_what["cpu"]["id"])
    assert s["timestamps"] == [NOW - 240, NOW - 180, NOW - 120, NOW - 60, NOW]
    assert s["values"] == [4.0, 3.0, 2.0, 1.0, 0.0]


def test_duplicate_timestamp_is_an_update_not_a_second_point(client, owner, key):
    post20(client, key, [sample(value=1.0), sample(ts=NOW - 60, value=5.0)])
    post20(client, key, [sample(value=2.0)])
    post20(client, key, [sample(value=3.0), sample(value=4.0)])  # last one in a batch wins
    mid = metric_id(client, owner, "cpu")
    s = series(client, owner, mid)
    assert s["timestamps"] == [NOW - 60, NOW] and s["values"] == [5.0, 4.0]
    drain(client)
    assert series(client, owner, mid, "1m")["count"] == [1, 1]


def test_mixed_batch_keeps_good_samples_and_reports_each_bad_one(client, owner, key):
    body = [
        sample(value=1.0),
        sample(ts=int(time.time()) + 7200),  # > 1 h ahead
        {"properties": {"what": "cpu"}, "timestamp": NOW, "value": "NaN"},
        {"properties": {"what": "cpu", "bad key": "x"}, "timestamp": NOW, "value": 1},
        {"properties": {"host": "a"}, "timestamp": NOW, "value": 1},
        {"properties": {"what": "cpu"}, "timestamp": -5, "value": 1},
        "not an object",
        sample(what="mem", value=2.0),
    ]
    r = post20(client, key, body)
    assert r.status_code == 200
    out = r.json()
    assert out["accepted"] == 2 and out["rejected"] == 6
    codes = {e["index"]: e["error"] for e in out["errors"]}
    assert codes == {1: 2022, 2: 2026, 3: 2010, 4: 2012, 5: 2023, 6: "INVALID_SAMPLE"}
    assert all(e["description"] for e in out["errors"])
    names = {
        m["name"] for m in client.get("/api/v1/metrics", headers=owner.headers).json()["items"]
    }
    assert names == {"what=cpu", "what=mem"}


@pytest.mark.parametrize(
    "body, code",
    [
        (b"not json", 1001),
        (b'{"an": "object"}', 1001),
        (b"[" + b"[" * 100_000 + b"]" * 100_001, 1001),
    ],
    ids=["garbage", "object", "deep"],
)
def test_unreadable_body_is_refused_whole_and_nothing_stored_is_touched(
    client, owner, key, body, code
):
    post20(client, key, [sample(value=7.0)])
    r = client.post(f"/api/v1/metrics?protocol=anodot20&token={key}", content=body)
    assert r.status_code == 400
    out = r.json()
    assert out["error"]["code"] == "INVALID_PAYLOAD"
    assert out["errors"][0]["error"] == code and out["errors"][0]["index"] is None
    assert series(client, owner, metric_id(client, owner, "cpu"))["values"] == [7.0]


def test_oversized_batches_are_refused(client, owner, key):
    r = post20(client, key, [sample(ts=NOW - i) for i in range(10_001)])
    assert r.status_code == 400 and "10000" in r.json()["error"]["message"]
    assert client.get("/api/v1/metrics", headers=owner.headers).json()["total"] == 0
    huge = b"[" + b" " * (11 * 1024 * 1024) + b"]"
    r = client.post(f"/api/v1/metrics?protocol=anodot20&token={key}", content=huge)
    assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    "auth",
    [
        {"params": {"token": "aug_00000000_wrong"}},
        {"headers": {"Authorization": "Bearer aug_00000000_wrong"}},
        {},
    ],
    ids=["query-token", "bearer", "none"],
)
def test_wrong_token_is_401_and_stores_nothing(client, owner, auth):
    r = client.post(
        "/api/v1/metrics",
        params={"protocol": "anodot20", **auth.get("params", {})},
        headers=auth.get("headers", {}),
        json=[sample()],
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    assert client.get("/api/v1/metrics", headers=owner.headers).json()["total"] == 0


def test_a_read_only_key_cannot_ingest(client, owner):
    reader = make_key(client, owner, ["read"])
    r = post20(client, reader, [sample()])
    assert r.status_code == 403


def test_late_points_within_the_allowance_are_kept_older_ones_refused(client, owner, key, app):
    allowance = app.state.settings.metrics.max_lateness_s
    post20(client, key, [sample(ts=NOW, value=1.0)])
    r = post20(
        client,
        key,
        [
            sample(ts=NOW - 120, value=2.0),  # out of order, within the allowance
            sample(ts=int(NOW - allowance - 60), value=3.0),  # too late
        ],
    )
    assert r.json()["accepted"] == 1
    assert [(e["index"], e["error"]) for e in r.json()["errors"]] == [(1, "TOO_LATE")]
    mid = metric_id(client, owner, "cpu")
    assert series(client, owner, mid)["values"] == [2.0, 1.0]
    # A new metric may bring any history (the allowance is relative to its newest point).
    r = post20(client, key, [sample(what="old", ts=NOW - 40 * 86400), sample(what="old")])
    assert r.json()["accepted"] == 2


def test_anodot30_schema_samples_and_watermark(client, owner, key):
    schema = {
        "version": "1",
        "name": "shop",
        "dimensions": ["Geo", "Device"],
        "measurements": {
            "orders": {"aggregation": "sum", "countBy": "none"},
            "latency": {"aggregation": "average", "countBy": "none", "units": "ms"},
        },
        "missingDimPolicy": {"action": "fill", "fill": "unknown"},
    }
    r = client.post("/api/v2/stream-schemas", json=schema, headers=owner.headers)
    assert r.status_code == 201, r.text
    sid = r.json()["schema"]["id"]
    assert r.json()["schema"]["name"] == "shop"
    listed = client.get("/api/v2/stream-schemas/schemas", headers=owner.headers).json()
    assert [w["streamSchemaWrapper"]["schema"]["id"] for w in listed] == [sid]

    point = {
        "schemaId": sid,
        "timestamp": str(NOW),
        "dimensions": {"Geo": "US"},
        "measurements": {"orders": "10", "latency": 25.5},
    }
    unknown = {**point, "schemaId": "no-such-schema"}
    r = client.post(f"/api/v1/metrics?protocol=anodot30&token={key}", json=[point, unknown])
    assert r.json()["accepted"] == 2
    assert [(e["index"], e["error"]) for e in r.json()["errors"]] == [(1, "SCHEMA_NOT_FOUND")]
    orders = client.get("/api/v1/metrics?q=orders", headers=owner.headers).json()["items"][0]
    assert orders["dimensions"] == {"Device": "unknown", "Geo": "US"}
    assert orders["target_type"] == "counter" and orders["stream_schema_id"] == sid

    r = client.post(
        f"/api/v1/metrics/watermark?protocol=anodot30&token={key}",
        json={"schemaId": sid, "watermark": NOW},
    )
    assert r.status_code == 200
    r = client.post(
        f"/api/v1/metrics?protocol=anodot30&token={key}",
        json=[point, {**point, "timestamp": NOW + 60}],
    )
    assert [(e["index"], e["error"]) for e in r.json()["errors"]] == [(0, "BEFORE_WATERMARK")]
    assert r.json()["accepted"] == 2  # two measurements of the second data point
    r = client.post(
        f"/api/v1/metrics/watermark?protocol=anodot30&token={key}",
        json={"schemaId": "nope", "watermark": NOW},
    )
    assert r.status_code == 400 and r.json()["errors"][0]["error"] == "SCHEMA_NOT_FOUND"
    streams = client.get(f"/api/v1/metrics/cardinality/streams?sort=size&token={key}").json()
    assert streams == {"streams": [{"name": "shop", "numMetrics": 2}]}


def test_bad_stream_schema_is_a_validation_error(client, owner):
    r = client.post(
        "/api/v2/stream-schemas",
        json={"name": "x", "dimensions": ["a", "a"], "measurements": {}},
        headers=owner.headers,
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_influx_write_with_gzip_and_partial_write(client, owner, key):
    lines = f"disk,host=a,path=/ used=10i,free=2.5 {NOW}\ndisk,host=a,path=/ used=11i {NOW + 60}"
    r = client.post(
        "/api/v2/write?org=o&bucket=b&precision=s",
        content=gzip.compress(lines.encode()),
        headers={"Authorization": f"Token {key}", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 204, r.text
    mid = metric_id(client, owner, "what=disk.used AND host=a")
    assert series(client, owner, mid)["values"] == [10.0, 11.0]
    r = client.post(
        "/api/v2/write?precision=s",
        content=f"disk,host=b used=1i {NOW}\nthis is not a line\n".encode(),
        headers={"Authorization": f"Token {key}"},
    )
    assert r.status_code == 400
    assert r.json()["code"] == "invalid" and r.json()["line"] == 2
    assert r.json()["message"].startswith("partial write")
    metric_id(client, owner, "what=disk.used AND host=b")  # the good line was kept
    r = client.post(
        "/api/v2/write",
        content=b"\x1f\x8b not gzip",
        headers={"Authorization": f"Token {key}", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_PAYLOAD"


def test_gzip_bomb_is_refused(client, key):
    bomb = gzip.compress(b"a" * (80 * 1024 * 1024))
    r = client.post(
        "/api/v2/write",
        content=bomb,
        headers={"Authorization": f"Token {key}", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 413


def test_prometheus_remote_write_refuses_undecodable_bodies(client, key):
    r = client.post(
        "/api/v1/prom/write",
        content=b"definitely not snappy",
        headers={"Authorization": f"Bearer {key}", "Content-Encoding": "snappy"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_PAYLOAD"


# ------------------------------------------------------------- rollups and series


def test_rollups_average_gauges_and_sum_counters(client, owner, key):
    body = []
    for i in range(180):  # three hours of 1-minute points, values 0..179
        body.append(sample(what="temp", ts=NOW - 3 * 3600 + 60 * i, value=float(i)))
        counter = sample(what="hits", ts=NOW - 3 * 3600 + 60 * i, value=2.0)
        counter["properties"]["target_type"] = "counter"
        body.append(counter)
    post20(client, key, body)
    drain(client)
    temp = metric_id(client, owner, "temp")
    hits = metric_id(client, owner, "hits")
    five = series(client, owner, temp, "5m")
    assert len(five["timestamps"]) == 36 and five["values"][0] == 2.0  # mean of 0..4
    assert five["min"][0] == 0.0 and five["max"][0] == 4.0 and five["count"][0] == 5
    hour = series(client, owner, temp, "1h")
    assert hour["timestamps"] == [NOW - 3 * 3600, NOW - 2 * 3600, NOW - 3600]
    assert hour["values"] == [29.5, 89.5, 149.5]
    assert series(client, owner, hits, "1h")["values"] == [120.0, 120.0, 120.0]
    day = series(client, owner, hits, "1d")
    assert sum(day["values"]) == 360.0 and sum(day["count"]) == 180

    # A late point and an update move the buckets they touch (recomputed, not added).
    post20(client, key, [sample(what="temp", ts=NOW - 3 * 3600, value=100.0)])
    drain(client)
    five = series(client, owner, temp, "5m")
    assert five["values"][0] == (100 + 1 + 2 + 3 + 4) / 5 and five["max"][0] == 100.0
    assert series(client, owner, temp, "1h")["values"][0] == pytest.approx(
        (sum(range(60)) + 100) / 60
    )


def test_auto_resolution_fits_the_range(client, owner, key):
    for start in (6000, 0):  # oldest first: within the lateness allowance
        post20(
            client, key, [sample(ts=NOW - 60 * i, value=1.0) for i in range(start, start + 6000)]
        )
    # The resolution depends on the rollups alone: 12,000 points need not be scored.
    StreamProcessor(client.app.state.db, [RollupConsumer()]).drain()
    mid = metric_id(client, owner, "cpu")
    assert series(client, owner, mid, "auto", NOW - 3600, NOW + 1)["resolution"] == "native"
    assert series(client, owner, mid, "auto", NOW - 3000 * 60, NOW + 1)["resolution"] == "5m"
    assert series(client, owner, mid, "auto", 0, NOW + 1)["resolution"] == "1h"
    r = client.get(
        f"/api/v1/metrics/{mid}/timeseries",
        params={"resolution": "1m", "from": 0, "to": NOW},
        headers=owner.headers,
    )
    assert r.status_code == 422 and "coarser" in r.json()["error"]["message"]
    r = client.get(
        f"/api/v1/metrics/{mid}/timeseries",
        params={"from": NOW, "to": NOW - 5},
        headers=owner.headers,
    )
    assert r.status_code == 422


def test_default_range_is_the_last_day_of_data(client, owner, key):
    post20(client, key, [sample(ts=NOW - 3 * 86400), sample(ts=NOW - 3600), sample(ts=NOW)])
    mid = metric_id(client, owner, "cpu")
    r = client.get(f"/api/v1/metrics/{mid}/timeseries", headers=owner.headers).json()
    assert r["timestamps"] == [NOW - 3600, NOW] and r["resolution"] == "native"


def test_graph_png_draws_the_series(client, owner, key):
    post20(client, key, [sample(ts=NOW - 60 * i, value=float(i % 7)) for i in range(100)])
    mid = metric_id(client, owner, "cpu")
    r = client.get(f"/api/v1/metrics/{mid}/graph.png?width=640&height=240", headers=owner.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(r.content)).convert("RGB")
    assert image.size == (640, 240)
    blue = sum(1 for px in image.getdata() if px[2] > 200 and px[0] < 80)
    assert blue > 300  # the line is drawn
    empty = client.get(f"/api/v1/metrics/{mid}/graph.png?from=0&to=10", headers=owner.headers)
    assert empty.status_code == 200


# ----------------------------------------------------------------- search & stats


def test_expression_search(client, owner, key):
    post20(
        client,
        key,
        [
            sample(what="cpu_user", host="web-1", dc="eu"),
            sample(what="cpu_system", host="web-2", dc="eu"),
            sample(what="mem", host="web-1", dc="us"),
            sample(what="Cpu", host="db-1"),
        ],
    )

    def names(q):
        r = client.get("/api/v1/metrics", params={"q": q}, headers=owner.headers)
        assert r.status_code == 200, r.text
        return sorted(m["name"] for m in r.json()["items"])

    assert names("what=cpu* AND host=web-1") == ["what=cpu_user.dc=eu.host=web-1"]
    assert len(names("cpu*")) == 2  # case-sensitive
    assert names("host=web-1 AND NOT what=mem") == ["what=cpu_user.dc=eu.host=web-1"]
    assert len(names("dc=us OR host=db-?")) == 2
    assert len(names("dc!=eu")) == 2  # metrics without dc match !=
    assert names('what="mem"') == ["what=mem.dc=us.host=web-1"]
    assert len(names("(what=cpu* OR what=mem) dc=eu")) == 2
    assert names("what=cpu%") == []  # % and _ are literal, not LIKE wildcards
    assert names("what=cpu?user") == ["what=cpu_user.dc=eu.host=web-1"]
    r = client.get("/api/v1/metrics", params={"q": "what=cpu AND (host=a"}, headers=owner.headers)
    assert r.status_code == 422 and "missing ')'" in r.json()["error"]["message"]


def test_cardinality_eps_and_overview(client, owner, key):
    body = [
        sample(what="req", ts=NOW - 60 * i, host=f"h{h}", dc=f"d{h % 2}")
        for h in range(4)
        for i in range(10)
    ]
    post20(client, key, body)
    post20(client, key, [sample(ts=int(time.time()) + 7200)])  # one refusal
    drain(client)
    card = client.get(
        f"/api/v2/metrics/cardinality?startTime={NOW - 3600}&endTime={NOW + 1}",
        headers=owner.headers,
    ).json()
    assert card["totalMetrics"] == 4
    assert list(card["metricsCardinality"]) == ["host", "dc"]
    assert card["metricsCardinality"]["host"]["cardinality"] == 4
    assert card["metricsCardinality"]["dc"]["what"] == ["req"]
    eps = client.get(f"/api/v1/metrics/eps?rollup=short&token={key}").json()
    assert len(eps) == 4 and eps[0]["eps"] == pytest.approx(10 / 3600, rel=1e-3)
    overview = client.get("/api/v1/metrics/overview", headers=owner.headers).json()
    assert overview["metrics"] == 4 and overview["measures"] == 1
    assert overview["accepted_last_hour"] == 40 and overview["refused_last_hour"] == 1
    assert overview["eps"] == pytest.approx(40 / 300, abs=1e-3)


def test_delete_metric_removes_points_and_a_new_sample_recreates_it(client, owner, key):
    post20(client, key, [sample(value=1.0)])
    mid = metric_id(client, owner, "cpu")
    r = client.delete(f"/api/v1/metrics/{mid}", headers=owner.headers)
    assert r.status_code == 204
    assert client.get(f"/api/v1/metrics/{mid}", headers=owner.headers).status_code == 404
    assert post20(client, key, [sample(value=2.0)]).json()["accepted"] == 1
    new = metric_id(client, owner, "cpu")
    assert new != mid and series(client, owner, new)["values"] == [2.0]


def test_backfill_csv_job_stores_history_with_progress(runner_client, db):
    from tests.fixtures.factories import signup

    owner = signup(runner_client, org="Backfill")
    key = make_key(runner_client, owner, ["ingest", "read"])
    rows = ["timestamp,what,value,host"]
    rows += [f"{NOW - 400 * 86400 + 3600 * i},load,{i},h1" for i in range(500)]
    rows += ["oops,load,1,h1", f"{NOW},load,NaN,h1"]
    r = runner_client.post(
        "/api/v1/metrics/import",
        content="\n".join(rows).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"},
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = runner_client.get(f"/api/v1/jobs/{job_id}", headers=owner.headers).json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    assert job["progress"] == 100.0
    assert job["result"]["accepted"] == 500 and job["result"]["refused"] == 2
    assert [e["row"] for e in job["result"]["errors"]] == [500, 501]
    mid = runner_client.get("/api/v1/metrics?q=load", headers=owner.headers).json()["items"][0]
    s = runner_client.get(
        f"/api/v1/metrics/{mid['id']}/timeseries",
        params={"resolution": "native", "from": 0, "to": NOW},
        headers=owner.headers,
    ).json()
    assert len(s["values"]) == 500 and s["values"][:3] == [0.0, 1.0, 2.0]


def test_import_refuses_non_csv(client, key):
    r = client.post(
        "/api/v1/metrics/import",
        content=b"\xff\xfe\x00binary",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 400


def test_the_newest_rollup_bucket_is_marked_partial_while_it_fills(client, owner, key):
    """A chart must not draw a filling hour as if complete: a counter's reads low."""
    hour = 3600
    last = (int(time.time()) // hour - 2) * hour
    start = last - 3 * hour
    body = [
        {"properties": {"what": "hits"}, "timestamp": start + 300 * i, "value": 1.0}
        for i in range(3 * 12 + 2)  # three full hours of 5-minute points, then 2 of 12
    ]
    assert client.post(f"/api/v1/metrics?token={key}", json=body).json()["rejected"] == 0
    client.app.state.stream.drain()
    (m,) = client.get("/api/v1/metrics?q=hits", headers=owner.headers).json()["items"]
    q = {"from": start, "to": last + hour, "resolution": "1h"}
    s = client.get(f"/api/v1/metrics/{m['id']}/timeseries", params=q, headers=owner.headers)
    assert s.json()["count"] == [12, 12, 12, 2] and s.json()["partial"] is True
    # The rest of the hour arrives: complete, no longer partial.
    body = [
        {"properties": {"what": "hits"}, "timestamp": last + 300 * i, "value": 1.0}
        for i in range(2, 12)
    ]
    assert client.post(f"/api/v1/metrics?token={key}", json=body).json()["rejected"] == 0
    client.app.state.stream.drain()
    s = client.get(f"/api/v1/metrics/{m['id']}/timeseries", params=q, headers=owner.headers)
    assert s.json()["count"] == [12, 12, 12, 12] and s.json()["partial"] is False
    # A range that ends before the newest bucket has no partial bucket in it.
    q["to"] = last
    s = client.get(f"/api/v1/metrics/{m['id']}/timeseries", params=q, headers=owner.headers)
    assert s.json()["partial"] is False
