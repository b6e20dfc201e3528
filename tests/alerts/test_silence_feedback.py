"""Maintenance windows, suppress events, user events, feedback and the live preview,
each through the API with real detection underneath."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.alerts.test_alerts_api import api, cycle, spike_series, webhook
from tests.anomalies.test_detection import STEP, T0, normal, send


def alert_on_cpu(client, owner, hook, **extra):
    """An alert per host on cpu anomalies scoring 80 or more (unless ``extra`` says)."""
    return api(
        client,
        owner,
        "POST",
        "/alerts",
        json={
            "title": "cpu {{host}}",
            "expression": "what=cpu",
            "group_by": ["host"],
            "conditions": {"min_score": 80},
            "channel_ids": [hook["id"]],
            **extra,
        },
    )


def test_a_maintenance_window_holds_messages_and_releases_them_after(client, owner, key, receiver):
    hook = webhook(client, owner, receiver)
    alert_on_cpu(client, owner, hook)
    now = time.time()
    window = api(
        client,
        owner,
        "POST",
        "/maintenance-windows",
        json={"name": "db upgrade", "expression": "host=a", "start": now - 60, "end": now + 3600},
    )
    assert window["active"] is True and window["active_until"] == now + 3600
    send(client, key, spike_series(seed=1)[:1201], host="a")  # inside the window
    send(client, key, spike_series(seed=2)[:1201], host="b")  # outside it
    cycle(client)
    assert [m["trigger"]["title"] for m in receiver.delivered()] == ["cpu b"]
    held = api(client, owner, "GET", "/alerts/triggered", params={"q": "host=a"})["items"]
    assert "db upgrade" in held[0]["silenced_by"] and held[0]["status"] == "open"
    statuses = {d["status"] for d in api(client, owner, "GET", "/deliveries")["items"]}
    assert statuses == {"sent", "silenced"}
    api(client, owner, "DELETE", f"/maintenance-windows/{window['id']}")  # over
    cycle(client)
    assert sorted(m["trigger"]["title"] for m in receiver.delivered()) == ["cpu a", "cpu b"]
    (a,) = api(client, owner, "GET", "/alerts/triggered", params={"q": "host=a"})["items"]
    assert a["silenced_by"] is None


def test_a_recurring_window_is_active_on_its_schedule(client, owner):
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(hours=1)
    window = api(
        client,
        owner,
        "POST",
        "/maintenance-windows",
        json={
            "name": "nightly",
            "rrule": "FREQ=DAILY",
            "dtstart": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "duration_s": 7200,
            "timezone": "UTC",
        },
    )
    assert window["active"] is True
    assert window["active_until"] == (start + timedelta(hours=2)).timestamp()
    assert [s for s, _ in window["next"]][:3] == [  # the one in progress first
        (start + timedelta(days=k)).timestamp() for k in (0, 1, 2)
    ]
    berlin = api(
        client,
        owner,
        "POST",
        "/maintenance-windows",
        json={
            "name": "sundays",
            "cron": "0 2 * * 0",
            "duration_s": 7200,
            "timezone": "Europe/Berlin",
        },
    )
    first = datetime.fromtimestamp(berlin["next"][0][0], UTC)
    local = first.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert (local.weekday(), local.hour, local.minute) == (6, 2, 0)
    r = client.post(
        "/api/v1/maintenance-windows",
        headers=owner.headers,
        json={"name": "bad", "rrule": "FREQ=SOMETIMES", "duration_s": 60},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = client.post(
        "/api/v1/maintenance-windows",
        headers=owner.headers,
        json={"name": "bad", "start": 10, "end": 5},
    )
    assert r.status_code == 422


def test_a_suppress_event_holds_until_its_end_event(client, owner, key, receiver):
    hook = webhook(client, owner, receiver)
    alert_on_cpu(client, owner, hook)
    now = time.time()
    suppress = {
        "title": "deploy web",
        "category": "deployments",
        "source": "ci",
        "type": "suppress",
        "properties": {"host": "a"},
    }
    api(client, owner, "POST", "/events", json={**suppress, "action": "start", "start": now - 5})
    deploy = {"title": "v2.3 out", "category": "deployments", "source": "ci"}
    api(client, owner, "POST", "/events", json={**deploy, "start": T0 + 1190 * STEP})
    send(client, key, spike_series()[:1201], host="a")
    cycle(client)
    assert receiver.delivered() == []
    ended = api(client, owner, "POST", "/events", json={**suppress, "action": "end", "start": now})
    assert ended["end"] == now
    cycle(client)
    assert [m["event"] for m in receiver.delivered()] == ["open"]
    assert [e["title"] for e in receiver.delivered()[0]["events"]] == ["v2.3 out"]


def test_events_are_listed_by_range_category_and_source(client, owner):
    for i, (category, source) in enumerate((("deploys", "ci"), ("campaigns", "crm"))):
        api(
            client,
            owner,
            "POST",
            "/events",
            json={"title": f"e{i}", "category": category, "source": source, "start": T0 + 3600 * i},
        )
    got = api(client, owner, "GET", "/events", params={"from": T0 + 1800, "to": T0 + 7200})
    assert [e["title"] for e in got["items"]] == ["e1"]
    assert api(client, owner, "GET", "/events/categories") == ["campaigns", "deploys"]
    assert api(client, owner, "GET", "/events/sources") == ["ci", "crm"]
    assert api(client, owner, "GET", "/events", params={"source": "ci"})["total"] == 1
    r = client.post(
        "/api/v1/events",
        headers=owner.headers,
        json={"title": "x", "category": "c", "source": "s", "start": 10, "end": 5},
    )
    assert r.status_code == 422


def daily_benign_series(days=3, size=3.0, incident_day=None, incident=12.0):
    """A minute metric with the same small blip every day at 03:00 (a nightly job),
    and on ``incident_day`` a real incident three hours later."""
    n = days * 1440
    y = normal(n=n, seed=5)
    for d in range(1, days):
        y[d * 1440 + 180] += size
    if incident_day is not None:
        y[incident_day * 1440 + 360] += incident
    return y


def test_not_interesting_stops_the_repeat_but_not_the_incident(client, owner, key, receiver):
    S = T0 - 86400  # four days of data, up to yesterday
    hook = webhook(client, owner, receiver)
    alert_on_cpu(client, owner, hook, conditions={"min_score": 50})
    y = daily_benign_series(days=4, incident_day=3)
    send(client, key, y[: 2 * 1440], start=S)  # day 0 learns; day 1's nightly blip alerts
    cycle(client)
    first = [m for m in receiver.delivered() if m["event"] == "open"]
    assert len(first) == 1 and first[0]["trigger"]["start"] == S + (1440 + 180) * STEP
    trigger = api(client, owner, "GET", "/alerts/triggered")["items"][0]
    fb = api(
        client,
        owner,
        "POST",
        "/feedback",
        json={"type": "not_interesting", "trigger_id": trigger["id"], "comment": "nightly job"},
    )
    assert fb["metric_ids"] == [trigger["metrics"][0]["metric_id"]]
    (rule,) = fb["learned"]  # the rule learned, in words
    assert rule.startswith("upward deviations up to +") and "around 03:00 UTC" in rule
    assert "learned from 1 deviation marked not interesting" in rule
    profile = api(client, owner, "GET", f"/metrics/{fb['metric_ids'][0]}/feedback-profile")
    assert len(profile["benign"]) == 1 and profile["rules"] == [rule]
    assert profile["benign"][0]["away_s"] is not None  # read from the values
    listed = api(client, owner, "GET", "/feedback")["items"]
    assert [f["learned"] for f in listed] == [[]]  # only in the answer to the POST

    send(client, key, y[2 * 1440 :], start=S + 2 * 1440 * STEP)  # days 2 and 3
    cycle(client)
    opens = [m for m in receiver.delivered() if m["event"] == "open"]
    starts = [m["trigger"]["start"] for m in opens]
    incident = S + (3 * 1440 + 360) * STEP
    assert starts == [first[0]["trigger"]["start"], incident]  # blips held, incident sent
    blips = api(client, owner, "GET", "/anomalies", params={"min_score": 50})["items"]
    assert S + (2 * 1440 + 180) * STEP in {a["start"] for a in blips}  # still detected

    api(client, owner, "DELETE", f"/feedback/{fb['id']}")  # taken back: it is news again
    profile = api(client, owner, "GET", f"/metrics/{fb['metric_ids'][0]}/feedback-profile")
    assert profile.get("benign", []) == [] and profile.get("rules", []) == []


def test_preview_counts_what_a_configuration_would_have_fired(client, owner, key):
    now = int(time.time())
    start = now - 1500 * STEP
    for host, at in (("a", 1200), ("b", 1100), ("c", 1100)):
        send(client, key, spike_series(seed=ord(host), at=at), start=start, host=host)
    base = {"title": "x", "expression": "what=cpu", "conditions": {"min_score": 60}}
    got = api(client, owner, "POST", "/alerts/preview", json=base)
    assert got["metrics_matched"] == 3 and got["fired"] == 2  # minutes 1100 and 1200
    assert sorted(t["metrics"] for t in got["triggers"]) == [1, 2]
    per_host = api(client, owner, "POST", "/alerts/preview", json={**base, "group_by": ["host"]})
    assert per_host["fired"] == 3
    none = api(
        client,
        owner,
        "POST",
        "/alerts/preview",
        json={**base, "conditions": {"min_score": 80, "direction": "down"}},
    )
    assert none["fired"] == 0
    static = api(
        client,
        owner,
        "POST",
        "/alerts/preview",
        json={
            "title": "x",
            "type": "static",
            "expression": "what=cpu host=a",
            "conditions": {"above": 14.5},
        },
    )
    assert static["fired"] == 1  # host a's spike
    never = api(
        client,
        owner,
        "POST",
        "/alerts/preview",
        json={"type": "static", "expression": "what=cpu", "conditions": {"above": 1000}},
    )
    assert never["fired"] == 0  # (no title needed for a preview)
    quiet = api(
        client,
        owner,
        "POST",
        "/alerts/preview",
        json={"type": "no_data", "expression": "what=cpu", "conditions": {"no_data_s": 600}},
    )
    assert quiet["fired"] == 0 and quiet["metrics_matched"] == 3
    assert api(client, owner, "GET", "/alerts")["total"] == 0  # nothing saved


def test_a_masked_secret_sent_back_keeps_the_secret(client, owner, receiver):
    hook = webhook(client, owner, receiver, secret="s3cret-value-0123456789")
    shown = api(client, owner, "GET", f"/channels/{hook['id']}")["config"]
    assert shown["secret"] == "s3cr…"
    api(client, owner, "PATCH", f"/channels/{hook['id']}", json={"config": shown})
    api(client, owner, "POST", f"/channels/{hook['id']}/test")
    from augury.alerts.channels import verify_signature

    request = receiver.requests[-1]
    assert verify_signature(
        "s3cret-value-0123456789", request["headers"]["x-augury-signature"], request["body"]
    )


@pytest.mark.parametrize("kind", ["good_catch", "not_interesting"])
def test_feedback_is_listed(client, owner, key, kind):
    send(client, key, spike_series())
    (anomaly,) = api(client, owner, "GET", "/anomalies", params={"min_score": 80})["items"]
    api(client, owner, "POST", "/feedback", json={"type": kind, "anomaly_id": anomaly["id"]})
    (fb,) = api(client, owner, "GET", "/feedback", params={"type": kind})["items"]
    assert fb["anomaly_id"] == anomaly["id"] and fb["peak_score"] == anomaly["score"]
    other = "good_catch" if kind == "not_interesting" else "not_interesting"
    api(client, owner, "POST", "/feedback", json={"type": other, "anomaly_id": anomaly["id"]})
    (fb,) = api(client, owner, "GET", "/feedback", params={"anomaly_id": anomaly["id"]})["items"]
    assert fb["type"] == other  # a person's newer answer replaces the older one
    profile = api(client, owner, "GET", f"/metrics/{fb['metric_ids'][0]}/feedback-profile")
    learned = {"benign": "not_interesting", "good_catches": "good_catch"}
    assert [learned[k] for k, v in profile.items() if k in learned and v] == [other]


def test_breach_runs_and_gaps_are_what_the_evaluator_would_open():
    from augury.alerts.services.preview import breach_runs, gaps

    points = [(t, v) for t, v in enumerate([1, 9, 9, 9, 1, 9, 1, 9, 9])]
    assert breach_runs(points, {"above": 5}) == [(1, 4), (5, 6), (7, 8)]
    assert breach_runs(points, {"above": 5, "duration_s": 2}) == [(1, 4)]
    assert breach_runs(points, {"below": 0}) == []
    assert gaps([(0, 1), (10, 1), (100, 1)], quiet=30, now=200) == [(40, 100), (130, 200)]
    assert gaps([], quiet=30, now=200) == []
