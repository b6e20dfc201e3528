"""Every configuration change is in the audit log: who, what, and the changed fields
before and after, with the secrets of channels masked."""

from __future__ import annotations

import json
import time

from tests.fixtures.factories import make_key

SECRETS = (
    "SIGNINGSECRET123",
    "NEWSECRET456",
    "HEADERSECRET",
    "SECRETPATH",
    "SECRETTOKEN",
    "SLACKSECRET",
    "PDROUTINGKEY",
    "hunter2",
)


def api(client, owner, method, path, **kw):
    r = client.request(method, f"/api/v1{path}", headers=owner.headers, **kw)
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def events(client, owner, action: str) -> list[dict]:
    page = api(client, owner, "GET", "/audit", params={"action": action, "limit": 200})
    return page["items"]


def only(client, owner, action: str) -> dict:
    (event,) = events(client, owner, action)
    return event


def test_channel_alert_routing_window_and_action_changes_are_audited(client, owner):
    hook = api(
        client,
        owner,
        "POST",
        "/channels",
        json={
            "name": "ops",
            "type": "webhook",
            "config": {
                "url": "https://hunter2:hunter2@hooks.example.com/in/SECRETPATH?token=SECRETTOKEN",
                "secret": "SIGNINGSECRET123",
                "headers": {"Authorization": "Bearer HEADERSECRET"},
            },
        },
    )
    created = only(client, owner, "channel.create")
    assert created["target_type"] == "channel" and created["target_id"] == str(hook["id"])
    assert created["actor_user_id"] == owner.user_id and created["actor_email"] == owner.email
    assert created["outcome"] == "success"
    assert "before" not in created["details"]
    assert created["details"]["after"] == {
        "name": "ops",
        "type": "webhook",
        "enabled": True,
        "config": {
            "url": "https://hooks.example.com/…",
            "secret": "…",
            "format": "augury",
            "headers": {"Authorization": "…"},
        },
    }

    api(
        client,
        owner,
        "PATCH",
        f"/channels/{hook['id']}",
        json={"name": "ops-2", "config": {"secret": "NEWSECRET456"}},
    )
    updated = only(client, owner, "channel.update")
    assert updated["details"] == {
        "before": {"name": "ops", "config": {"secret": "…"}},
        "after": {"name": "ops-2", "config": {"secret": "…"}},
    }
    # Sent back as read (masked): nothing changes, nothing is recorded.
    read = api(client, owner, "GET", f"/channels/{hook['id']}")
    api(client, owner, "PATCH", f"/channels/{hook['id']}", json={"config": read["config"]})
    assert len(events(client, owner, "channel.update")) == 1

    slack = api(
        client,
        owner,
        "POST",
        "/channels",
        json={
            "name": "slack",
            "type": "slack",
            "config": {"url": "https://hooks.slack.com/services/T0/B0/SLACKSECRET"},
        },
    )
    api(
        client,
        owner,
        "POST",
        "/channels",
        json={"name": "pd", "type": "pagerduty", "config": {"routing_key": "PDROUTINGKEY"}},
    )
    mail = api(
        client,
        owner,
        "POST",
        "/channels",
        json={"name": "mail", "type": "email", "config": {"to": ["ops@example.com"]}},
    )
    sent = api(client, owner, "POST", f"/channels/{mail['id']}/test")
    tested = only(client, owner, "channel.test")
    assert tested["target_id"] == str(mail["id"])
    assert tested["details"] == {"delivery_id": sent["id"], "status": sent["status"]}

    body = {"title": "cpu", "expression": "what=cpu", "channel_ids": [hook["id"]]}
    alert = api(client, owner, "POST", "/alerts", json=body)
    created = only(client, owner, "alert.create")
    assert created["target_type"] == "alert" and created["target_id"] == str(alert["id"])
    after = created["details"]["after"]
    assert after["title"] == "cpu" and after["expression"] == "what=cpu"
    assert after["channel_ids"] == [hook["id"]] and after["severity"] == "medium"
    assert "updated_at" not in after and "created_at" not in after

    body = {**body, "title": "cpu high", "severity": "high", "channel_ids": [slack["id"]]}
    api(client, owner, "PUT", f"/alerts/{alert['id']}", json=body)
    assert only(client, owner, "alert.update")["details"] == {
        "before": {"title": "cpu", "severity": "medium", "channel_ids": [hook["id"]]},
        "after": {"title": "cpu high", "severity": "high", "channel_ids": [slack["id"]]},
    }
    api(client, owner, "POST", f"/alerts/{alert['id']}/pause")
    api(client, owner, "POST", f"/alerts/{alert['id']}/resume")
    assert only(client, owner, "alert.pause")["details"] == {
        "before": {"paused": False},
        "after": {"paused": True},
    }
    assert only(client, owner, "alert.resume")["details"] == {
        "before": {"paused": True},
        "after": {"paused": False},
    }
    snoozed = api(client, owner, "POST", f"/alerts/{alert['id']}/snooze", json={"duration_s": 60})
    api(client, owner, "DELETE", f"/alerts/{alert['id']}/snooze")
    assert only(client, owner, "alert.snooze")["details"] == {
        "before": {"snoozed_until": None},
        "after": {"snoozed_until": snoozed["snoozed_until"]},
    }
    assert only(client, owner, "alert.unsnooze")["details"] == {
        "before": {"snoozed_until": snoozed["snoozed_until"]},
        "after": {"snoozed_until": None},
    }
    # A refused change records nothing.
    r = client.put(
        f"/api/v1/alerts/{alert['id']}",
        json={**body, "expression": "(" * 40 + "a" + ")" * 40},
        headers=owner.headers,
    )
    assert r.status_code == 422
    assert len(events(client, owner, "alert.update")) == 1

    table = api(
        client,
        owner,
        "POST",
        "/routing-tables",
        json={
            "title": "by country",
            "dimension": "country",
            "routes": [{"value": "US", "channel_ids": [hook["id"]]}],
        },
    )
    api(
        client,
        owner,
        "PUT",
        f"/routing-tables/{table['id']}",
        json={
            "title": "by country",
            "dimension": "country",
            "routes": [{"value": "FR", "channel_ids": [mail["id"]]}],
        },
    )
    client.post(
        "/api/v1/routing-tables/csv?title=csv&dimension=country",
        content=b"DE,de-team@example.com\n",
        headers={**owner.headers, "Content-Type": "text/csv"},
    )
    api(client, owner, "DELETE", f"/routing-tables/{table['id']}")
    assert [
        e["details"]["after"]["title"] for e in events(client, owner, "routing_table.create")
    ] == [
        "csv",
        "by country",
    ]
    assert only(client, owner, "routing_table.update")["details"] == {
        "before": {"routes": [{"value": "US", "channel_ids": [hook["id"]]}]},
        "after": {"routes": [{"value": "FR", "channel_ids": [mail["id"]]}]},
    }
    deleted = only(client, owner, "routing_table.delete")
    assert deleted["target_id"] == str(table["id"]) and "after" not in deleted["details"]
    assert deleted["details"]["before"]["title"] == "by country"
    # The CSV's email address became a channel: that is a change too.
    assert "de-team@example.com" in [
        e["details"]["after"]["name"] for e in events(client, owner, "channel.create")
    ]

    now = time.time()
    window = api(
        client,
        owner,
        "POST",
        "/maintenance-windows",
        json={"name": "deploy", "start": now, "end": now + 3600},
    )
    api(
        client,
        owner,
        "PUT",
        f"/maintenance-windows/{window['id']}",
        json={"name": "deploy", "start": now, "end": now + 7200, "expression": "host=a"},
    )
    api(client, owner, "DELETE", f"/maintenance-windows/{window['id']}")
    assert only(client, owner, "maintenance_window.create")["details"]["after"]["end"] == now + 3600
    assert only(client, owner, "maintenance_window.update")["details"] == {
        "before": {"expression": "", "end": now + 3600},
        "after": {"expression": "host=a", "end": now + 7200},
    }
    assert only(client, owner, "maintenance_window.delete")["details"]["before"]["name"] == "deploy"

    link = {"name": "runbook", "button": "Runbook", "url": "https://wiki.example/a"}
    action = api(client, owner, "POST", "/alert-actions", json=link)
    api(client, owner, "PUT", f"/alert-actions/{action['id']}", json={**link, "button": "Open"})
    api(client, owner, "DELETE", f"/alert-actions/{action['id']}")
    assert only(client, owner, "alert_action.create")["details"]["after"] == link
    assert only(client, owner, "alert_action.update")["details"] == {
        "before": {"button": "Runbook"},
        "after": {"button": "Open"},
    }
    assert only(client, owner, "alert_action.delete")["details"]["before"] == {
        **link,
        "button": "Open",
    }

    api(client, owner, "DELETE", f"/alerts/{alert['id']}")
    assert only(client, owner, "alert.delete")["details"]["before"]["title"] == "cpu high"
    api(client, owner, "DELETE", f"/channels/{hook['id']}")
    deleted = only(client, owner, "channel.delete")
    assert deleted["target_id"] == str(hook["id"])
    assert deleted["details"]["before"]["config"]["secret"] == "…"

    everything = json.dumps(api(client, owner, "GET", "/audit", params={"limit": 200}))
    for secret in SECRETS:
        assert secret not in everything, secret


def test_forecasts_detection_controls_and_metric_deletion_are_audited(client, owner):
    key = make_key(client, owner, ["ingest"])
    now = int(time.time())
    samples = [
        {"properties": {"what": "orders", "shop": "eu"}, "timestamp": now - 60 * i, "value": i}
        for i in range(30)
    ]
    r = client.post(f"/api/v1/metrics?token={key}", json=samples)
    assert r.status_code == 200, r.text
    client.app.state.stream.drain()
    (metric,) = api(client, owner, "GET", "/metrics", params={"q": "orders"})["items"]

    body = {"name": "orders", "expression": "what=orders", "horizon": 5}
    task = api(client, owner, "POST", "/forecasts", json=body)
    created = only(client, owner, "forecast.create")
    assert created["target_type"] == "forecast" and created["target_id"] == str(task["id"])
    assert created["details"]["after"] == {
        **body,
        "resolution": "native",
        "levels": [80.0, 95.0],
        "every_minutes": None,
    }
    api(client, owner, "DELETE", f"/forecasts/{task['id']}")
    assert only(client, owner, "forecast.delete")["details"]["before"]["name"] == "orders"

    exclusion = api(
        client, owner, "POST", "/exclusions", json={"expression": "shop=eu", "reason": "test"}
    )
    api(client, owner, "DELETE", f"/exclusions/{exclusion['id']}")
    created = only(client, owner, "exclusion.create")
    assert created["target_id"] == str(exclusion["id"])
    assert created["details"]["after"] == {
        "expression": "shop=eu",
        "start": None,
        "end": None,
        "reason": "test",
    }
    assert only(client, owner, "exclusion.delete")["details"]["before"]["reason"] == "test"
    rule = api(
        client,
        owner,
        "POST",
        "/sensitivity-rules",
        json={"expression": "what=orders", "sensitivity": "low"},
    )
    api(client, owner, "DELETE", f"/sensitivity-rules/{rule['id']}")
    assert only(client, owner, "sensitivity_rule.create")["details"]["after"] == {
        "expression": "what=orders",
        "sensitivity": "low",
    }
    assert only(client, owner, "sensitivity_rule.delete")["target_id"] == str(rule["id"])
    stopped = api(
        client, owner, "POST", "/metrics/learning/stop", json={"q": "orders", "duration_s": 60}
    )
    api(client, owner, "POST", "/metrics/learning/resume", json={"metric_ids": [metric["id"]]})
    assert only(client, owner, "learning.stop")["details"]["after"] == {
        "metric_ids": [metric["id"]],
        "until": stopped["until"],
    }
    assert only(client, owner, "learning.resume")["details"]["after"] == {
        "metric_ids": [metric["id"]]
    }

    api(client, owner, "DELETE", f"/metrics/{metric['id']}")
    deleted = only(client, owner, "metric.delete")
    assert deleted["target_type"] == "metric" and deleted["target_id"] == str(metric["id"])
    assert deleted["details"]["before"] == {
        "name": metric["name"],
        "what": "orders",
        "dimensions": {"shop": "eu"},
    }
