"""Seen before: similar past episodes of an anomaly, saved patterns and their matches.

Anomalies are planted through the real ingestion route and found by the stream
processor's detection (``app.state.stream.drain()``); patterns label later anomalies
when the periodic task (:class:`PatternMatcher`) runs.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from sqlalchemy import delete, select

from augury.anomalies.models import MetricAnomaly
from augury.anomalies.patterns import PatternMatcher
from augury.metrics.models import MetricPoint, MetricRollup
from tests.fixtures.factories import invite_and_join, make_key
from tests.webhooks.test_sources import events_of

STEP = 60
N = 1500
T0 = (int(time.time()) // 86400 - 3) * 86400


def normal(n=N, seed=0, level=10.0, noise=0.2):
    rng = np.random.default_rng(seed)
    daily = np.sin(2 * np.pi * np.arange(n) * STEP / 86400)
    return level + level * 0.1 * daily + noise * rng.standard_normal(n)


def send(client, key, values, *, what="cpu", **dims):
    body = [
        {"properties": {"what": what, **dims}, "timestamp": T0 + STEP * i, "value": float(v)}
        for i, v in enumerate(values)
    ]
    for k in range(0, len(body), 500):
        r = client.post(f"/api/v1/metrics?token={key}", json=body[k : k + 500])
        assert r.status_code == 200 and r.json()["rejected"] == 0, r.text
    client.app.state.stream.drain()


def anomaly_at(client, headers, index, metric_q):
    """The anomaly of the metric ``metric_q`` that starts at point ``index``."""
    r = client.get(
        "/api/v1/anomalies",
        params={"q": metric_q, "timescale": "native", "limit": 1000},
        headers=headers,
    )
    found = [a for a in r.json()["items"] if a["start"] == T0 + index * STEP]
    assert len(found) == 1, (index, metric_q, [a["start"] - T0 for a in r.json()["items"]])
    return found[0]


@pytest.fixture
def planted(client, owner, frozen_clock):
    """cpu host=a: spikes at 700 and 1300, a dip at 1000; cpu host=b, a hundred times
    larger: a spike at 1100; mem: a spike at 900 (another ``what``)."""
    key = make_key(client, owner, ["ingest"])
    a = normal(seed=1)
    a[700] += 6.0
    a[1000] -= 6.0
    a[1300] += 6.0
    send(client, key, a, host="a")
    b = normal(seed=2, level=1000.0, noise=20.0)
    b[1100] += 600.0
    send(client, key, b, host="b")
    m = normal(seed=3)
    m[900] += 6.0
    send(client, key, m, what="mem", host="a")
    h = owner.headers
    return {
        "key": key,
        "a700": anomaly_at(client, h, 700, "cpu host=a"),
        "a1000": anomaly_at(client, h, 1000, "cpu host=a"),
        "a1300": anomaly_at(client, h, 1300, "cpu host=a"),
        "b1100": anomaly_at(client, h, 1100, "cpu host=b"),
        "m900": anomaly_at(client, h, 900, "mem"),
    }


def similar(client, headers, anomaly_id, **params):
    r = client.get(f"/api/v1/anomalies/{anomaly_id}/similar", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_seen_before_finds_the_same_spike_on_the_metric_and_at_another_scale(
    client, owner, planted
):
    out = similar(client, owner.headers, planted["a1300"]["id"], min_similarity=0)
    assert out["anomaly_id"] == planted["a1300"]["id"]
    assert out["episode"]["direction"] == "up" and out["episode"]["points"] == 1
    by_id = {i["anomaly_id"]: i for i in out["items"]}
    mine, other = by_id[planted["a700"]["id"]], by_id[planted["b1100"]["id"]]
    assert mine["same_metric"] and not other["same_metric"]
    assert mine["similarity"] > 0.8 and other["similarity"] > 0.8
    assert mine["link"] == f"/anomalies/{planted['a700']['id']}"
    # the dip is not like a spike, and mem is another measure
    assert planted["a1000"]["id"] not in by_id and planted["m900"]["id"] not in by_id
    # best first; only the past
    sims = [i["similarity"] for i in out["items"]]
    assert sims == sorted(sims, reverse=True)
    assert all(i["start"] < planted["a1300"]["start"] for i in out["items"])
    # the dip's own past: nothing like it before
    dip = similar(client, owner.headers, planted["a1000"]["id"], min_similarity=0.5)
    assert planted["a700"]["id"] not in {i["anomaly_id"] for i in dip["items"]}
    # a threshold above every similarity leaves nothing
    assert similar(client, owner.headers, planted["a1300"]["id"], min_similarity=1)["items"] == [
        i for i in out["items"] if i["similarity"] >= 1
    ]


def test_a_closed_episode_is_kept_on_its_anomaly_and_compared_from_there(
    client, owner, planted, db
):
    """Once closed with the points after it stored, an anomaly's episode is kept: the
    next "seen before" reads no points (with them deleted, it answers the same)."""
    first = similar(client, owner.headers, planted["a1300"]["id"], min_similarity=0)
    with db.session() as s:
        kept = {a.group_id: a.episode for a in s.scalars(select(MetricAnomaly))}
    assert kept[planted["a1300"]["id"]]["shape"] == first["episode"]["shape"]
    assert kept[planted["a700"]["id"]]["direction"] == "up"
    assert kept[planted["b1100"]["id"]] is not None
    with db.session() as s, s.begin():
        s.execute(delete(MetricPoint))
        s.execute(delete(MetricRollup))
    again = similar(client, owner.headers, planted["a1300"]["id"], min_similarity=0)
    assert again == first


def test_an_episode_whose_after_points_are_not_in_is_not_kept(client, owner, frozen_clock, db):
    """A spike three points before the newest point: its episode may still grow over
    the points to come, so it is computed on each request, not kept."""
    key = make_key(client, owner, ["ingest"])
    y = normal(seed=7)
    y[N - 30] += 6.0
    y[N - 4] += 6.0
    send(client, key, y, host="e")
    late = anomaly_at(client, owner.headers, N - 4, "cpu host=e")
    early = anomaly_at(client, owner.headers, N - 30, "cpu host=e")
    out = similar(client, owner.headers, late["id"], min_similarity=0)
    assert early["id"] in {i["anomaly_id"] for i in out["items"]}
    with db.session() as s:
        kept = {a.group_id: a.episode for a in s.scalars(select(MetricAnomaly))}
    assert kept[early["id"]] is not None and kept[late["id"]] is None


def test_a_metric_outside_the_anomaly_is_refused(client, owner, planted):
    r = client.get(
        f"/api/v1/anomalies/{planted['a1300']['id']}/similar",
        params={"metric_id": planted["m900"]["metrics"][0]["metric_id"]},
        headers=owner.headers,
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_pattern_labels_later_anomalies_that_match_it(client, owner, planted, db, frozen_clock):
    h = owner.headers
    frozen_clock.advance(60)
    body = {
        "anomaly_id": planted["a700"]["id"],
        "name": "cpu spike",
        "description": "deploys",
        "backfill_days": 0,
    }
    r = client.post("/api/v1/patterns", json=body, headers=h)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["name"] == "cpu spike" and p["scope"] == "what" and p["threshold"] == 0.8
    assert p["anomaly_id"] == planted["a700"]["id"] and p["what"] == "cpu"
    assert p["summary"]["direction"] == "up" and p["summary"]["points"] == 1
    assert len(p["shape"]) == 28 and p["match_count"] == 0
    again = client.post("/api/v1/patterns", json=body, headers=h)
    assert again.status_code == 409
    # without a backfill, anomalies from before the pattern are not labelled
    assert PatternMatcher().run(db) == 0
    # later: host c (same what) spikes, host d dips, mem spikes
    frozen_clock.advance(60)
    c = normal(seed=4, level=50.0, noise=1.0)
    c[1200] += 30.0
    send(client, planted["key"], c, host="c")
    d = normal(seed=5)
    d[1250] -= 6.0  # (apart from c's: one what's anomalies at one time share a group)
    send(client, planted["key"], d, host="d")
    m = normal(seed=6)
    m[1200] += 6.0
    send(client, planted["key"], m, what="mem", host="b")
    frozen_clock.advance(60)
    assert PatternMatcher().run(db) >= 1
    matches = client.get(f"/api/v1/patterns/{p['id']}/matches", headers=h).json()
    c1200 = anomaly_at(client, h, 1200, "cpu host=c")
    d1250 = anomaly_at(client, h, 1250, "cpu host=d")
    labelled = {x["anomaly_id"]: x for x in matches["items"]}
    assert c1200["id"] in labelled and d1250["id"] not in labelled
    assert all(x["similarity"] >= 0.8 for x in matches["items"])
    assert labelled[c1200["id"]]["link"] == f"/anomalies/{c1200['id']}"
    assert matches["total"] == len(matches["items"])
    # mem is another measure (scope "what"); the source itself is never its own match
    assert all(x["metric_name"].startswith("what=cpu.") for x in matches["items"])
    assert planted["a700"]["id"] not in labelled
    # the label shows on the anomaly
    labels = similar(client, h, c1200["id"])["patterns"]
    assert [(x["pattern_id"], x["name"]) for x in labels] == [(p["id"], "cpu spike")]
    assert client.get(f"/api/v1/patterns/{p['id']}", headers=h).json()["match_count"] == len(
        labelled
    )
    # running again changes nothing
    assert PatternMatcher().run(db) == 0
    # a threshold above the match drops it
    top = max(x["similarity"] for x in matches["items"])
    r = client.patch(
        f"/api/v1/patterns/{p['id']}", json={"threshold": min(1.0, top + 1e-3)}, headers=h
    )
    assert r.status_code == 200 and r.json()["match_count"] == 0
    # deleting it removes its matches, not the anomalies
    assert client.delete(f"/api/v1/patterns/{p['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/patterns/{p['id']}", headers=h).status_code == 404
    assert client.get(f"/api/v1/anomalies/{c1200['id']}", headers=h).status_code == 200
    actions = [
        e["action"]
        for e in client.get("/api/v1/audit", headers=h).json()["items"]
        if e["target_type"] == "pattern"
    ]
    assert sorted(actions) == ["pattern.create", "pattern.delete", "pattern.update"]


def test_a_new_pattern_labels_the_recent_past_and_says_so(client, owner, planted, db, frozen_clock):
    """By default a pattern also labels the anomalies of its last 30 days, and each new
    label is an ``anomaly.matched`` event (once, not again when the matcher reruns)."""
    h = owner.headers
    frozen_clock.advance(60)
    body = {"anomaly_id": planted["a700"]["id"], "name": "cpu spike"}
    p = client.post("/api/v1/patterns", json=body, headers=h).json()
    assert p["label_from"] < p["created_at"]
    assert PatternMatcher().run(db) >= 1
    labelled = {
        x["anomaly_id"]
        for x in client.get(f"/api/v1/patterns/{p['id']}/matches", headers=h).json()["items"]
    }
    # the later spike of its metric and the spike of host b (same what), recorded
    # before the pattern; not the dip, not mem, not the source itself
    assert {planted["a1300"]["id"], planted["b1100"]["id"]} <= labelled
    assert not labelled & {planted[k]["id"] for k in ("a1000", "m900", "a700")}
    events = [e.data for e in events_of(db, owner.org_id, "anomaly.matched")]
    assert sorted(e["anomaly_id"] for e in events) == sorted(labelled)
    first = next(e for e in events if e["anomaly_id"] == planted["a1300"]["id"])
    assert first["pattern_id"] == p["id"] and first["pattern"] == "cpu spike"
    assert first["similarity"] >= 0.8 and first["link"] == f"/anomalies/{first['anomaly_id']}"
    frozen_clock.advance(60)
    assert PatternMatcher().run(db) == 0
    assert len(events_of(db, owner.org_id, "anomaly.matched")) == len(events)


def test_scope_metric_labels_only_its_metric(client, owner, planted, db, frozen_clock):
    h = owner.headers
    frozen_clock.advance(60)
    body = {
        "anomaly_id": planted["a700"]["id"],
        "name": "a only",
        "scope": "metric",
        "backfill_days": 0,
    }
    pid = client.post("/api/v1/patterns", json=body, headers=h).json()["id"]
    frozen_clock.advance(60)
    c = normal(seed=4, level=50.0, noise=1.0)
    c[1200] += 30.0
    send(client, planted["key"], c, host="c")
    frozen_clock.advance(60)
    PatternMatcher().run(db)
    assert client.get(f"/api/v1/patterns/{pid}/matches", headers=h).json()["total"] == 0


def test_patterns_list_update_and_validation(client, owner, planted):
    h = owner.headers
    ids = []
    for name, source in (("one", "a700"), ("two", "a1000")):
        body = {"anomaly_id": planted[source]["id"], "name": name, "threshold": 0.9}
        ids.append(client.post("/api/v1/patterns", json=body, headers=h).json()["id"])
    page = client.get("/api/v1/patterns", params={"limit": 1}, headers=h).json()
    assert page["total"] == 2 and page["has_more"] and [x["id"] for x in page["items"]] == ids[1:]
    two = client.get(f"/api/v1/patterns/{ids[1]}", headers=h).json()
    assert two["summary"]["direction"] == "down"
    r = client.patch(
        f"/api/v1/patterns/{ids[0]}",
        json={"name": "renamed", "enabled": False, "scope": "all"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["name"] == "renamed" and not r.json()["enabled"]
    assert client.get("/api/v1/patterns", params={"enabled": False}, headers=h).json()["total"] == 1
    bad = [
        ("PATCH", f"/api/v1/patterns/{ids[0]}", {"name": "two"}, 409),
        ("PATCH", f"/api/v1/patterns/{ids[0]}", {"name": None}, 422),
        ("PATCH", f"/api/v1/patterns/{ids[0]}", {"threshold": 0.1}, 422),
        ("PATCH", f"/api/v1/patterns/{ids[0]}", {"surprise": 1}, 422),
        ("POST", "/api/v1/patterns", {"anomaly_id": 999999, "name": "x"}, 404),
        ("POST", "/api/v1/patterns", {"anomaly_id": planted["a700"]["id"], "name": ""}, 422),
    ]
    for method, path, body, code in bad:
        r = client.request(method, path, json=body, headers=h)
        assert r.status_code == code, (method, path, body, r.text)


def test_viewers_read_members_save(client, owner, planted):
    viewer = invite_and_join(client, owner, "viewer")
    member = invite_and_join(client, owner, "member")
    body = {"anomaly_id": planted["a700"]["id"], "name": "spike"}
    assert client.post("/api/v1/patterns", json=body, headers=viewer.headers).status_code == 403
    r = client.post("/api/v1/patterns", json=body, headers=member.headers)
    assert r.status_code == 201 and r.json()["created_by_id"] == member.user_id
    pid = r.json()["id"]
    for path in (
        f"/api/v1/anomalies/{planted['a1300']['id']}/similar",
        "/api/v1/patterns",
        f"/api/v1/patterns/{pid}",
        f"/api/v1/patterns/{pid}/matches",
    ):
        assert client.get(path, headers=viewer.headers).status_code == 200, path
    for method, json in (("PATCH", {"name": "x"}), ("DELETE", None)):
        r = client.request(method, f"/api/v1/patterns/{pid}", json=json, headers=viewer.headers)
        assert r.status_code == 403
    assert (
        client.patch(
            f"/api/v1/patterns/{pid}", json={"name": "x"}, headers=member.headers
        ).status_code
        == 200
    )
