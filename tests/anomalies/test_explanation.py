"""The explanation of a grouped anomaly on GET /anomalies/{id}: points of several
metrics of one `what` go in through the ingestion route, detection groups the
anomalous ones, and the explanation names the dimension value that drives them."""

from __future__ import annotations

import time

import numpy as np
import pytest

from augury.client import Client
from tests.fixtures.factories import make_key

STEP = 60
N = 1500
T0 = (int(time.time()) // 86400 - 3) * 86400
SPIKE = 1300


def normal(seed, n=N):
    rng = np.random.default_rng(seed)
    return 10.0 + np.sin(2 * np.pi * np.arange(n) * STEP / 86400) + 0.2 * rng.standard_normal(n)


def post(client, key, dims, values, start=T0):
    body = [
        {"properties": {"what": "requests", **dims}, "timestamp": start + STEP * i, "value": v}
        for i, v in enumerate(map(float, values))
    ]
    for k in range(0, len(body), 500):
        r = client.post(f"/api/v1/metrics?token={key}", json=body[k : k + 500])
        assert r.status_code == 200 and r.json()["rejected"] == 0, r.text


def plant(client, key, culprit="web-2"):
    """8 metrics (4 hosts x 2 endpoints); both endpoints of ``culprit`` spike at
    SPIKE, by different amounts."""
    for i, (host, endpoint) in enumerate(
        (f"web-{h}", e) for h in range(1, 5) for e in ("login", "search")
    ):
        y = normal(seed=100 + i)
        if host == culprit:
            y[SPIKE] += 6.0 if endpoint == "login" else 9.0
        post(client, key, {"host": host, "endpoint": endpoint}, y)
    client.app.state.stream.drain()


def the_anomaly(client, owner):
    items = client.get(
        "/api/v1/anomalies",
        params={"timescale": "native", "min_score": 90, "q": "what=requests"},
        headers=owner.headers,
    ).json()["items"]
    (a,) = [a for a in items if a["start"] <= T0 + SPIKE * STEP <= a["end"]]
    return a


def test_the_explanation_names_the_culprit_host(client, owner, other_org_owner):
    key = make_key(client, owner, ["ingest", "read"])
    # Another organization's metrics of the same `what` must not count.
    other = make_key(client, other_org_owner, ["ingest"])
    for h in range(5, 9):
        post(client, other, {"host": f"web-{h}", "endpoint": "login"}, [1.0, 2.0])
    plant(client, key)

    a = the_anomaly(client, owner)
    assert a["metric_count"] == 2
    assert {m["dimensions"]["host"] for m in a["metrics"]} == {"web-2"}
    r = client.get(f"/api/v1/anomalies/{a['id']}", headers=owner.headers)
    assert r.status_code == 200, r.text
    e = r.json()["explanation"]
    assert e["drivers"] == [{"key": "host", "value": "web-2"}]
    assert not e["spread"]
    assert (e["matched"], e["matched_total"], e["metrics"], e["population"]) == (2, 2, 2, 8)
    assert e["sentence"] == "host=web-2 accounts for 100% of the deviation (2 of 8 metrics)."
    tokens = {(t["key"], t["value"]): t for t in e["tokens"]}
    assert set(tokens) == {("host", "web-2"), ("endpoint", "login"), ("endpoint", "search")}
    host = tokens[("host", "web-2")]
    assert (host["anomalous"], host["total"], host["share"]) == (2, 2, pytest.approx(1.0))
    assert host["lift"] == pytest.approx((2 / 2) / (2 / 8))
    # Each endpoint carries its metric's part of the deviation (|delta| at its peak).
    deltas = {m["dimensions"]["endpoint"]: abs(m["delta"]) for m in a["metrics"]}
    search = tokens[("endpoint", "search")]
    assert search["share"] == pytest.approx(deltas["search"] / sum(deltas.values()))
    assert search["share"] > tokens[("endpoint", "login")]["share"]
    assert (search["total"], search["lift"]) == (4, pytest.approx((1 / 2) / (4 / 8)))
    assert e["tokens"][0]["key"] == "host"  # largest share first
    assert e["token_count"] == 3


def test_the_client_reads_the_explanation(live_server):
    """``Client.anomalies.explanation(id)``, over real HTTP."""
    hour = int(time.time()) // 3600 * 3600
    n = 24 * 10
    with Client(live_server.url, timeout=30) as c:
        c.signup("explain@example.com", "correct horse battery", name="Ada", organization_name="X")
        points = []
        for i, region in enumerate(("eu", "us", "ap")):
            y = 50 + 10 * np.sin(2 * np.pi * np.arange(n) / 24)
            y += np.random.default_rng(i).normal(0, 1, n)
            if region == "us":
                y[n - 20] += 40
            points += [
                {"properties": {"what": "visits", "region": region}, "timestamp": t, "value": v}
                for t, v in zip(range(hour - n * 3600, hour, 3600), y.tolist(), strict=True)
            ]
        c.metrics.send(points)
        deadline = time.monotonic() + 60
        while not (found := list(c.anomalies.iter(q="visits", min_score=90, timescale="native"))):
            assert time.monotonic() < deadline, "no anomaly found"
            time.sleep(0.2)
        (a,) = found
        e = c.anomalies.explanation(a["id"])
    assert e["drivers"] == [{"key": "region", "value": "us"}]
    assert e["sentence"] == "region=us accounts for 100% of the deviation (1 of 3 metrics)."
