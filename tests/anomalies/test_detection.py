"""Server-side streaming detection: points in over HTTP, anomalies and bands out.

Every test sends points through the real ingestion route and lets the stream
processor (``app.state.stream.drain()``) run detection, then reads the API.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from sqlalchemy import select

from augury.anomalies.models import DetectorState, PointScore
from augury.engines.detect import score_series
from tests.fixtures.factories import make_key

STEP = 60
N = 1500
T0 = (int(time.time()) // 86400 - 3) * 86400  # three days ago, midnight


@pytest.fixture
def key(client, owner):
    return make_key(client, owner, ["ingest", "read", "write"])


def normal(n=N, seed=0, level=10.0, noise=0.2):
    rng = np.random.default_rng(seed)
    daily = np.sin(2 * np.pi * np.arange(n) * STEP / 86400)
    return level + daily + noise * rng.standard_normal(n)


def send(client, key, values, *, what="cpu", start=T0, step=STEP, batch=500, **dims):
    dims = dims or {"host": "a"}
    body = [
        {"properties": {"what": what, **dims}, "timestamp": start + step * i, "value": float(v)}
        for i, v in enumerate(values)
    ]
    for k in range(0, len(body), batch):
        r = client.post(f"/api/v1/metrics?token={key}", json=body[k : k + batch])
        assert r.status_code == 200 and r.json()["rejected"] == 0, r.text
    client.app.state.stream.drain()


def metric_id(client, owner, q):
    (item,) = client.get("/api/v1/metrics", params={"q": q}, headers=owner.headers).json()["items"]
    return item["id"]


def anomalies(client, owner, **params):
    r = client.get("/api/v1/anomalies", params=params, headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def native_scores(db, mid):
    with db.session() as s:
        return [
            r[0]
            for r in s.execute(
                select(PointScore.score)
                .where(PointScore.metric_id == mid, PointScore.timescale == 0)
                .order_by(PointScore.ts)
            )
        ]


def test_a_spike_becomes_a_closed_anomaly_with_the_seed_fields(client, owner, key):
    y = normal()
    y[1200] += 6.0
    send(client, key, y)
    (a,) = anomalies(client, owner, timescale="native")
    assert a["state"] == "closed" and a["what"] == "cpu" and a["metric_count"] == 1
    assert a["start"] == T0 + 1200 * STEP and a["score"] > 90
    assert a["direction"] == "up" and a["delta"] == pytest.approx(6.0, abs=1.0)
    assert a["delta_pct"] == pytest.approx(100 * a["delta"] / (y[1200] - a["delta"]), rel=1e-6)
    (m,) = a["metrics"]
    assert m["type"] == "transient" and m["duration"] == STEP and m["points"] == 1
    assert m["peak_value"] == pytest.approx(y[1200])
    detail = client.get(f"/api/v1/anomalies/{a['id']}", headers=owner.headers).json()
    (series,) = detail["series"]
    assert series["resolution"] == "native" and len(series["timestamps"]) == 121
    peak = series["timestamps"].index(a["start"])
    assert series["scores"][peak] == a["score"]
    assert all(lo < hi for lo, hi in zip(series["lower"], series["upper"], strict=True))


def test_scores_equal_the_offline_engine_whatever_the_batching(client, owner, key, db):
    y = normal(seed=3)
    y[700] -= 5.0
    send(client, key, y, batch=137)
    mid = metric_id(client, owner, "cpu")
    reference = score_series(y, T0 + STEP * np.arange(N))
    assert native_scores(db, mid) == list(np.round(100 * reference.scores, 3))
    ts = client.get(
        f"/api/v1/metrics/{mid}/timeseries",
        params={"from": T0 + 650 * STEP, "to": T0 + 750 * STEP, "resolution": "native"},
        headers=owner.headers,
    ).json()
    i = ts["timestamps"].index(T0 + 700 * STEP)
    assert ts["expected"][i] == pytest.approx(reference.expected[700])
    assert ts["lower"][i] == pytest.approx(reference.lower[700])
    assert [a["start"] for a in ts["anomalies"]] == [T0 + 700 * STEP]


def test_related_metrics_are_grouped_and_filters_work(client, owner, key):
    for host, shift in (("a", 6.0), ("b", 5.0), ("c", 0.0)):
        y = normal(seed=ord(host))
        y[1300] += shift
        send(client, key, y, host=host)
    y = normal(seed=9)
    y[1000] -= 4.0
    send(client, key, y, what="mem", host="a")
    # (the detector may also raise a weak anomaly on the noise: strong ones only)
    native = anomalies(client, owner, timescale="native", min_score=90)
    by_what = {a["what"]: a for a in native}
    assert set(by_what) == {"cpu", "mem"}
    cpu = by_what["cpu"]
    assert cpu["metric_count"] == 2
    assert {m["dimensions"]["host"] for m in cpu["metrics"]} == {"a", "b"}
    assert by_what["mem"]["direction"] == "down"
    strong = {"min_score": 90, "timescale": "native"}
    assert [a["what"] for a in anomalies(client, owner, direction="down", **strong)] == ["mem"]
    assert [a["what"] for a in anomalies(client, owner, q="host=b", **strong)] == ["cpu"]
    assert anomalies(client, owner, q="what=disk") == []
    scores = [a["score"] for a in anomalies(client, owner, sort="-score")]
    assert scores == sorted(scores, reverse=True)
    count = client.get("/api/v1/anomalies/count", params=strong, headers=owner.headers).json()
    assert count == {"total": 2, "open": 0, "closed": 2}
    assert anomalies(client, owner, **{"from": T0 + 1100 * STEP, **strong}) == [cpu]
    assert anomalies(client, owner, min_delta=100) == []


def test_the_peak_is_the_point_that_deviates_most(client, owner, key):
    # A spike that builds over four points: the first scores highest (later points of
    # an open anomaly are no news), but the peak a person reads is the largest one.
    y = normal()
    y[1200:1204] += [3.0, 6.0, 9.0, 5.0]
    send(client, key, y)
    (a,) = anomalies(client, owner, timescale="native")
    (m,) = a["metrics"]
    assert a["start"] == T0 + 1200 * STEP and m["end"] >= T0 + 1202 * STEP
    assert m["peak_ts"] == T0 + 1202 * STEP and m["peak_value"] == pytest.approx(y[1202])
    assert m["delta"] == pytest.approx(9.0, abs=1.0) and a["delta"] == m["delta"]
    assert m["peak_value"] - m["expected"] == pytest.approx(m["delta"])


def test_an_hourly_anomaly_closes_at_its_first_normal_hour(client, owner, key):
    day = 288
    hour = 12
    rng = np.random.default_rng(8)
    n = 3 * day + 2 * hour + 1  # three days, the bad hour, one normal hour and a point
    y = 50 + 2.0 * rng.standard_normal(n)
    bad = 3 * day - 1 * hour  # the day's last hour is far too high, then all is normal
    y[bad : bad + hour] += 8.0
    start = T0 - 3 * 86400
    send(client, key, y, start=start, step=300, batch=5000)
    (a,) = anomalies(client, owner, timescale="1h")
    (m,) = a["metrics"]
    assert a["start"] == start + bad * 300 == m["peak_ts"]
    assert a["state"] == "closed" and m["points"] == 1
    assert m["duration"] == 3600 and a["end"] == a["start"]


def test_a_level_shift_is_a_pattern_change_and_becomes_normal(client, owner, key):
    y = normal(noise=0.3)
    y[1000:] += 4.0
    send(client, key, y)
    found = anomalies(client, owner, timescale="native")
    assert found and found[-1]["start"] == T0 + 1000 * STEP
    mid = metric_id(client, owner, "cpu")
    ts = client.get(
        f"/api/v1/metrics/{mid}/timeseries",
        params={"from": T0 + 1400 * STEP, "resolution": "native"},
        headers=owner.headers,
    ).json()
    # the new level is learned: the recent points are inside the band again
    inside = [
        lo <= v <= hi for v, lo, hi in zip(ts["values"], ts["lower"], ts["upper"], strict=True)
    ]
    assert np.mean(inside) > 0.9


def test_a_slow_drift_is_caught_on_the_hourly_time_scale(client, owner, key):
    day = 288  # five-minute points: the hourly rollup needs hours, not minutes
    n = 6 * day
    rng = np.random.default_rng(5)
    y = 50 + 2.0 * rng.standard_normal(n)
    y[4 * day :] += np.linspace(0, 6, n - 4 * day)  # +6 over two days: 3 sigma per point
    send(client, key, y, start=T0 - 3 * 86400, step=300, batch=5000)
    hourly = anomalies(client, owner, timescale="1h")
    assert hourly, "the drift must show on the hourly rollup"
    assert all(a["start"] >= T0 - 3 * 86400 + 4 * 86400 for a in hourly)


def test_stop_learning_keeps_the_normal_and_resume_learns_again(client, owner, key, db):
    y = normal()
    send(client, key, y[:1000])
    mid = metric_id(client, owner, "cpu")
    r = client.post("/api/v1/metrics/learning/stop", json={"q": "cpu"}, headers=owner.headers)
    assert r.json() == {"metrics": 1, "until": None}
    assert (
        client.get("/api/v1/metrics/learning", headers=owner.headers).json()[0]["metric_id"] == mid
    )
    with db.session() as s:
        before = s.scalar(select(DetectorState.state).where(DetectorState.metric_id == mid))
    send(client, key, y[1000:1100] + 5.0, start=T0 + 1000 * STEP)
    with db.session() as s:
        after = s.scalar(
            select(DetectorState.state).where(
                DetectorState.metric_id == mid, DetectorState.timescale == 0
            )
        )
    assert after == before  # nothing learned while stopped
    assert min(native_scores(db, mid)[1000:1100]) > 50  # still scored, still anomalous
    r = client.post(
        "/api/v1/metrics/learning/resume", json={"metric_ids": [mid]}, headers=owner.headers
    )
    assert r.json()["metrics"] == 1
    send(client, key, y[1100:1200], start=T0 + 1100 * STEP)
    with db.session() as s:
        state = s.scalar(
            select(DetectorState).where(
                DetectorState.metric_id == mid, DetectorState.timescale == 0
            )
        )
        assert state.state != before and state.points == 1200


def test_exclusions_are_neither_scored_nor_learned(client, owner, key, db):
    r = client.post(
        "/api/v1/exclusions",
        json={"expression": "host=a", "start": T0 + 1000 * STEP, "end": T0 + 1100 * STEP},
        headers=owner.headers,
    )
    assert r.status_code == 201
    y = normal()
    y[1050] += 20
    send(client, key, y)
    send(client, key, y, host="b")
    a, b = metric_id(client, owner, "host=a"), metric_id(client, owner, "host=b")
    assert len(native_scores(db, a)) == N - 100 and len(native_scores(db, b)) == N
    assert {m["metric_id"] for g in anomalies(client, owner) for m in g["metrics"]} == {b}


def test_sensitivity_rules_change_what_is_raised(client, owner, key):
    y = normal(seed=11)
    bumps = [400, 700, 1000, 1300]
    for i, size in zip(bumps, (1.2, 1.4, 1.6, 1.8), strict=True):
        y[i] += size
    assert (
        client.post(
            "/api/v1/sensitivity-rules",
            json={"expression": "host=low", "sensitivity": "low"},
            headers=owner.headers,
        ).status_code
        == 201
    )
    client.post(
        "/api/v1/sensitivity-rules",
        json={"expression": "host=high", "sensitivity": "high"},
        headers=owner.headers,
    )
    send(client, key, y, host="low")
    send(client, key, y, host="high")
    found = {
        host: sum(
            1
            for g in anomalies(client, owner, timescale="native")
            for m in g["metrics"]
            if m["dimensions"]["host"] == host
        )
        for host in ("low", "high")
    }
    assert found["high"] > found["low"]
    r = client.post(
        "/api/v1/sensitivity-rules",
        json={"expression": "host=(", "sensitivity": "low"},
        headers=owner.headers,
    )
    assert r.status_code == 422


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "name, values, stamps",
    [
        ("constant", np.full(500, 7.0), None),
        ("single", np.array([3.0]), None),
        ("gaps", normal(800), np.concatenate([np.arange(400), np.arange(600, 1000)]) * STEP),
        ("jumps", np.concatenate([normal(300), normal(300) * 1e6, normal(300) * 1e-6]), None),
        ("zeros", np.zeros(300), None),
    ],
)
def test_bad_input_never_gives_nan_scores(client, owner, key, db, name, values, stamps):
    if stamps is None:
        stamps = np.arange(len(values)) * STEP
    body = [
        {"properties": {"what": name}, "timestamp": int(T0 + t), "value": float(v)}
        for t, v in zip(stamps, values, strict=True)
    ]
    for k in range(0, len(body), 500):
        client.post(f"/api/v1/metrics?token={key}", json=body[k : k + 500])
    client.app.state.stream.drain()
    scores = native_scores(db, metric_id(client, owner, name))
    assert len(scores) == len(values)
    assert all(0 <= s <= 100 for s in scores)
    if name == "constant":
        assert anomalies(client, owner) == []


def _native_state(db, mid):
    with db.session() as s:
        return s.scalar(
            select(DetectorState).where(
                DetectorState.metric_id == mid, DetectorState.timescale == 0
            )
        )


def _body(values, indices, what="cpu"):
    return [
        {
            "properties": {"what": what, "host": "a"},
            "timestamp": T0 + STEP * int(i),
            "value": values[i],
        }
        for i in indices
    ]


def test_a_burst_overlapping_scored_points_scores_each_point_once(client, owner, key, db):
    y = normal(600)
    send(client, key, y[:500])
    # a burst that arrives shuffled, partly older than what was already scored
    order = np.random.default_rng(1).permutation(np.arange(480, 600))
    r = client.post(f"/api/v1/metrics?token={key}", json=_body(y, order))
    assert r.json()["rejected"] == 0
    client.app.state.stream.drain()
    mid = metric_id(client, owner, "cpu")
    state = _native_state(db, mid)
    # 480-499 were scored already: nothing is left unscored, nothing is scored twice.
    assert state.late_points == 0 and state.points == 600
    assert len(native_scores(db, mid)) == 600


def test_late_points_are_scored_when_they_arrive(client, owner, key, db):
    y = normal(600)
    y[550] += 8.0  # a spike that arrives late
    held = set(range(400, 600, 10))
    on_time = [i for i in range(600) if i not in held]
    for k in range(0, len(on_time), 200):
        r = client.post(f"/api/v1/metrics?token={key}", json=_body(y, on_time[k : k + 200]))
        assert r.json()["rejected"] == 0
    client.app.state.stream.drain()
    mid = metric_id(client, owner, "cpu")
    assert len(native_scores(db, mid)) == 580
    assert anomalies(client, owner, timescale="native") == []
    r = client.post(f"/api/v1/metrics?token={key}", json=_body(y, sorted(held)))
    assert r.json()["rejected"] == 0
    client.app.state.stream.drain()
    scores = native_scores(db, mid)
    assert len(scores) == 600 and all(0 <= s <= 100 for s in scores)
    state = _native_state(db, mid)
    assert state.late_points == 0 and state.points == 600
    assert state.last_ts == T0 + 599 * STEP  # the late points did not move the model back
    # the late spike was found, the other late points are calm
    (a,) = anomalies(client, owner, timescale="native")
    assert a["start"] == T0 + 550 * STEP and a["state"] == "closed"
    late_scores = [scores[i] for i in sorted(held) if i != 550]
    assert max(late_scores) < 50


def test_points_later_than_a_day_are_counted_as_unscored(client, owner, key, db):
    y = normal(3 * 1440 // 10)
    step = 10 * STEP
    stamps = list(range(len(y)))
    body = [
        {"properties": {"what": "cpu", "host": "a"}, "timestamp": T0 + step * i, "value": y[i]}
        for i in stamps
        if i not in (5, 400)
    ]
    assert client.post(f"/api/v1/metrics?token={key}", json=body).json()["rejected"] == 0
    client.app.state.stream.drain()
    # Point 5 is more than a day older than the newest: stored (this organization's
    # senders may be 4 days late), not scored. Point 400 is within the day: scored.
    client.app.state.settings.metrics.max_lateness_s = 4 * 86400
    body = [
        {"properties": {"what": "cpu", "host": "a"}, "timestamp": T0 + step * i, "value": y[i]}
        for i in (5, 400)
    ]
    assert client.post(f"/api/v1/metrics?token={key}", json=body).json()["rejected"] == 0
    client.app.state.stream.drain()
    mid = metric_id(client, owner, "cpu")
    state = _native_state(db, mid)
    assert len(native_scores(db, mid)) == len(y) - 1
    assert state.late_points == 1 and state.points == len(y) - 1


def test_a_metric_that_stops_and_comes_back_days_later(client, owner, key, db):
    y = normal(1500)
    send(client, key, y[:700], start=T0 - 4 * 86400)
    send(client, key, y[700:], start=T0)
    scores = native_scores(db, metric_id(client, owner, "cpu"))
    assert len(scores) == 1500 and all(0 <= s <= 100 for s in scores)
    # the first points after the gap may look unusual, but it settles
    assert np.mean(np.array(scores[900:]) > 50) < 0.02


def test_viewers_read_anomalies_but_cannot_change_detection(client, owner):
    from tests.fixtures.factories import invite_and_join

    viewer = invite_and_join(client, owner, "viewer")
    assert client.get("/api/v1/anomalies", headers=viewer.headers).status_code == 200
    for path, body in (
        ("/api/v1/exclusions", {"expression": ""}),
        ("/api/v1/sensitivity-rules", {"expression": "", "sensitivity": "high"}),
        ("/api/v1/metrics/learning/stop", {"q": "cpu"}),
    ):
        r = client.post(path, json=body, headers=viewer.headers)
        assert r.status_code == 403, path
