"""Event webhooks through the API, against a real receiver on loopback.

Each test subscribes a webhook, makes something happen (an invitation, a dataset, a
saved chart), runs the fan-out (``FanOut().run``) and the alert dispatcher
(``app.state.dispatcher.drain()``) as the server's loops do, and reads what the
receiver got, checked as a receiver would: the signature over the raw body.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select

from augury.alerts.channels import verify_signature
from augury.alerts.models import Channel, Delivery
from augury.events.catalog import EVENTS
from augury.events.models import PlatformEvent
from augury.webhooks.fanout import FanOut
from augury.webhooks.models import EventWebhook
from tests.fixtures.factories import invite_and_join


def api(client, account, method, path, expect=200, **kw):
    r = client.request(method, f"/api/v1{path}", headers=account.headers, **kw)
    assert r.status_code == expect, r.text
    return r.json() if r.content else None


def subscribe(client, account, url, events, **fields) -> dict:
    body = {"name": "ops", "url": url, "events": events, **fields}
    return api(client, account, "POST", "/webhooks", expect=201, json=body)


def deliver(client) -> int:
    """Fan out what happened and send it, as the server's loops would."""
    queued = FanOut().run(client.app.state.db)
    client.app.state.dispatcher.drain()
    return queued


def invite(client, account, email="new@example.com") -> dict:
    body = {"email": email, "role": "member"}
    return api(client, account, "POST", "/invitations", expect=201, json=body)


def save_chart(client, account) -> int:
    files = {"file": ("sales.csv", b"region,units\nNorth,3\nSouth,5\n")}
    r = client.post(
        "/api/v1/datasets", data={"name": "sales"}, files=files, headers=account.headers
    )
    assert r.status_code == 201, r.text
    body = {"query": "total units by region", "data_source": "sales", "save": True}
    return api(client, account, "POST", "/analytics/chart", expect=201, json=body)["chart_id"]


def received(receiver) -> list[tuple[str, dict]]:
    """(path, body) of each request, in order."""
    return [(r["path"], json.loads(r["body"])) for r in receiver.requests]


def test_events_arrive_signed_with_their_type(client, owner, receiver):
    hook = subscribe(client, owner, receiver.url, ["chart.created", "dataset.uploaded"])
    chart_id = save_chart(client, owner)
    assert deliver(client) == 2
    bodies = [body for _, body in received(receiver)]  # sent in parallel: any order
    uploaded, created = sorted(bodies, key=lambda b: int(b["id"]))
    assert [uploaded["event"], created["event"]] == ["dataset.uploaded", "chart.created"]
    assert uploaded["data"]["name"] == "sales" and uploaded["data"]["version"] == 1
    assert created["data"] == {
        "chart_id": chart_id,
        "title": created["data"]["title"],
        "query": "total units by region",
        "chart_type": created["data"]["chart_type"],
        "dataset_id": uploaded["data"]["dataset_id"],
        "user_id": owner.user_id,
    }
    for request, body in zip(receiver.requests, bodies, strict=True):
        assert body["organization_id"] == owner.org_id
        assert datetime.fromisoformat(body["timestamp"]).utcoffset().total_seconds() == 0
        headers = request["headers"]
        assert headers["x-augury-event"] == body["event"]
        assert headers["x-augury-delivery"].isdecimal()
        assert verify_signature(hook["secret"], headers["x-augury-signature"], request["body"])
        assert not verify_signature(
            "another secret", headers["x-augury-signature"], request["body"]
        )
    assert deliver(client) == 0  # each event is fanned out once
    assert len(receiver.requests) == 2


def test_only_subscribed_active_webhooks_of_the_organization_get_an_event(
    client, owner, other_org_owner, receiver
):
    subscribe(client, owner, f"{receiver.url}/invites", ["member.invited"])
    subscribe(client, owner, f"{receiver.url}/everything", ["*"])
    off = subscribe(client, owner, f"{receiver.url}/off", ["*"], active=False)
    subscribe(client, other_org_owner, f"{receiver.url}/theirs", ["*"])
    invite(client, owner)
    save_chart(client, owner)
    invite(client, other_org_owner, "theirs@example.com")
    deliver(client)
    got = sorted((path, body["event"]) for path, body in received(receiver))
    assert got == [
        ("/everything", "chart.created"),
        ("/everything", "dataset.uploaded"),
        ("/everything", "member.invited"),
        ("/invites", "member.invited"),
        ("/theirs", "member.invited"),
    ]
    theirs = [b for p, b in received(receiver) if p == "/theirs"]
    assert theirs[0]["organization_id"] == other_org_owner.org_id
    assert theirs[0]["data"]["email"] == "theirs@example.com"
    # Active again, it gets what happens from now on, not what it missed.
    api(client, owner, "PATCH", f"/webhooks/{off['id']}", json={"active": True})
    invite(client, owner, "later@example.com")
    deliver(client)
    assert [b["data"]["email"] for p, b in received(receiver) if p == "/off"] == [
        "later@example.com"
    ]


def test_every_emitting_service_records_a_known_event(client, owner, db):
    """Sign-up, invitation, acceptance (a new account), a dataset and a chart, changed
    and deleted: each in the transaction of its change."""
    chart_id = save_chart(client, owner)
    api(client, owner, "PUT", f"/analytics/chart/{chart_id}", json={"title": "Units"})
    api(client, owner, "DELETE", f"/analytics/chart/{chart_id}", expect=204)
    member = invite_and_join(client, owner, "member")
    with db.session() as s:
        rows = s.scalars(
            select(PlatformEvent)
            .where(PlatformEvent.org_id == owner.org_id)
            .order_by(PlatformEvent.id)
        ).all()
        got = [(e.type, e.user_id) for e in rows]
        data = {e.type: e.data for e in rows}
    assert got == [
        ("user.created", owner.user_id),
        ("dataset.uploaded", owner.user_id),
        ("chart.created", owner.user_id),
        ("chart.updated", owner.user_id),
        ("chart.deleted", owner.user_id),
        ("member.invited", owner.user_id),
        ("user.created", member.user_id),
    ]
    assert {t for t, _ in got} <= set(EVENTS)
    assert data["chart.updated"]["title"] == "Units"
    assert data["user.created"] == {
        "user_id": member.user_id,
        "email": member.email,
        "name": None,
        "role": "member",
        "via": "invitation",
    }


def test_delivery_log_and_a_failing_receiver_retried(client, owner, receiver, frozen_clock):
    hook = subscribe(client, owner, receiver.url, ["member.invited"])
    receiver.answers = [(500, 0.0)]
    invite(client, owner)
    deliver(client)
    (entry,) = api(client, owner, "GET", f"/webhooks/{hook['id']}/deliveries")["items"]
    now = frozen_clock.now().timestamp()
    assert entry["status"] == "pending" and entry["attempts"] == 1
    assert entry["status_code"] == 500 and entry["error"]
    assert entry["next_attempt_at"] > now
    assert entry["event_type"] == "member.invited" and entry["event_id"].isdecimal()
    assert client.app.state.dispatcher.drain() == 0  # not due yet
    frozen_clock.advance(entry["next_attempt_at"] - now + 1)
    client.app.state.dispatcher.drain()
    (entry,) = api(client, owner, "GET", f"/webhooks/{hook['id']}/deliveries")["items"]
    assert entry["status"] == "sent" and entry["attempts"] == 2 and entry["status_code"] == 200
    assert entry["sent_at"] is not None
    first, second = receiver.requests
    assert first["body"] == second["body"]  # the same event, again
    assert first["headers"]["x-augury-delivery"] == second["headers"]["x-augury-delivery"]
    sent = api(client, owner, "GET", f"/webhooks/{hook['id']}/deliveries?status=sent")
    assert sent["total"] == 1
    assert api(client, owner, "GET", f"/webhooks/{hook['id']}")["deliveries"] == {"sent": 1}


def test_the_test_button_sends_a_sample_now(client, owner, receiver):
    hook = subscribe(client, owner, receiver.url, ["chart.deleted"], active=False)
    result = api(client, owner, "POST", f"/webhooks/{hook['id']}/test")
    assert result["status"] == "sent" and result["status_code"] == 200
    assert result["event_type"] == "webhook.test" and result["attempts"] == 1
    (request,) = receiver.requests
    body = json.loads(request["body"])
    assert body["event"] == "webhook.test" and body["id"] == result["event_id"]
    assert body["data"]["webhook_id"] == hook["id"]
    assert request["headers"]["x-augury-event"] == "webhook.test"
    assert verify_signature(
        hook["secret"], request["headers"]["x-augury-signature"], request["body"]
    )
    receiver.answers = [(500, 0.0)]
    failed = api(client, owner, "POST", f"/webhooks/{hook['id']}/test")
    assert failed["status"] == "failed" and failed["status_code"] == 500  # said at once
    log = api(client, owner, "GET", f"/webhooks/{hook['id']}/deliveries")["items"]
    assert [d["status"] for d in log] == ["failed", "sent"]


@pytest.mark.parametrize(
    "events", [["chart.created", "chart.exploded"], ["webhook.test"], ["Chart.Created"]]
)
def test_unknown_event_names_are_refused(client, owner, receiver, events):
    r = client.post(
        "/api/v1/webhooks",
        json={"name": "x", "url": receiver.url, "events": events},
        headers=owner.headers,
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["events"] == sorted(set(events) - set(EVENTS))
    hook = subscribe(client, owner, receiver.url, ["chart.created"])
    r = client.patch(
        f"/api/v1/webhooks/{hook['id']}", json={"events": events}, headers=owner.headers
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert api(client, owner, "GET", f"/webhooks/{hook['id']}")["events"] == ["chart.created"]


def test_bad_urls_and_headers_are_refused(client, owner, settings):
    for body, expect in (
        ({"url": "ftp://example.com/x"}, 422),
        ({"url": "http://10.1.2.3/hook"}, 422),  # not public, not allowed
        ({"url": "https://example.com/x", "headers": {"X-Augury-Event": "x"}}, 422),
        ({"url": "https://example.com/x", "events": []}, 422),
    ):
        r = client.post(
            "/api/v1/webhooks",
            json={"name": "x", "events": ["*"], **body},
            headers=owner.headers,
        )
        assert r.status_code == expect, (body, r.text)
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_secret_shown_once_masked_after_and_kept_or_changed(client, owner, receiver):
    hook = subscribe(
        client,
        owner,
        receiver.url,
        ["member.invited"],
        secret="s3cret-of-the-receiver",
        headers={"Authorization": "Bearer abcdef"},
    )
    assert hook["secret"] == "s3cret-of-the-receiver"
    read = api(client, owner, "GET", f"/webhooks/{hook['id']}")
    assert read["secret"] == "s3cr…" and read["headers"] == {"Authorization": "Bear…"}
    # Sent back as read, masked values keep what is stored.
    masked = {"name": "renamed", "secret": read["secret"], "headers": read["headers"]}
    api(client, owner, "PATCH", f"/webhooks/{hook['id']}", json=masked)
    invite(client, owner)
    deliver(client)
    request = receiver.requests[-1]
    assert request["headers"]["authorization"] == "Bearer abcdef"
    sig = request["headers"]["x-augury-signature"]
    assert verify_signature("s3cret-of-the-receiver", sig, request["body"])
    api(client, owner, "PATCH", f"/webhooks/{hook['id']}", json={"secret": "rotated-secret"})
    invite(client, owner, "second@example.com")
    deliver(client)
    request = receiver.requests[-1]
    assert verify_signature(
        "rotated-secret", request["headers"]["x-augury-signature"], request["body"]
    )
    assert api(client, owner, "GET", f"/webhooks/{hook['id']}")["name"] == "renamed"
    audit = api(client, owner, "GET", "/audit?limit=100")["items"]
    actions = [e["action"] for e in audit if e["action"].startswith("webhook.")]
    assert sorted(actions) == ["webhook.create", "webhook.update", "webhook.update"]
    assert "s3cret" not in json.dumps(audit) and "rotated" not in json.dumps(audit)


def test_a_webhooks_channel_is_not_an_alert_channel(client, owner, receiver, db):
    hook = subscribe(client, owner, receiver.url, ["*"])
    with db.session() as s:
        channel_id = s.scalar(select(EventWebhook.channel_id).where(EventWebhook.id == hook["id"]))
    assert api(client, owner, "GET", "/channels")["items"] == []
    r = client.get(f"/api/v1/channels/{channel_id}", headers=owner.headers)
    assert r.status_code == 404
    r = client.patch(
        f"/api/v1/channels/{channel_id}", json={"name": "mine now"}, headers=owner.headers
    )
    assert r.status_code == 404
    r = client.post(
        "/api/v1/alerts", json={"title": "a", "channel_ids": [channel_id]}, headers=owner.headers
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["channel_ids"] == [channel_id]
    receiver.answers = [(400, 0.0)]  # a permanent failure: retryable by hand
    invite(client, owner)
    deliver(client)
    (entry,) = api(client, owner, "GET", f"/webhooks/{hook['id']}/deliveries")["items"]
    assert entry["status"] == "failed"
    assert api(client, owner, "GET", "/deliveries")["total"] == 0  # alerting's log
    r = client.post(f"/api/v1/deliveries/{entry['id']}/retry", headers=owner.headers)
    assert r.status_code == 404


def test_delete_removes_the_channel_and_its_log(client, owner, receiver, db):
    hook = subscribe(client, owner, receiver.url, ["member.invited"])
    receiver.answers = [(503, 0.0)]
    invite(client, owner)
    deliver(client)  # one delivery left pending in the outbox
    api(client, owner, "DELETE", f"/webhooks/{hook['id']}", expect=204)
    assert api(client, owner, "GET", "/webhooks")["total"] == 0
    r = client.get(f"/api/v1/webhooks/{hook['id']}", headers=owner.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Channel)) == 0
        assert s.scalar(select(func.count()).select_from(Delivery)) == 0


def test_catalog_and_roles(client, owner):
    types = api(client, owner, "GET", "/webhooks/events")
    assert [t["type"] for t in types] == list(EVENTS)
    assert all(t["description"] for t in types)
    hook = subscribe(client, owner, "https://example.com/hook", ["*"])
    assert hook["events"] == ["*"]
    routes = [
        ("GET", "/api/v1/webhooks/events", None),
        ("GET", "/api/v1/webhooks", None),
        (
            "POST",
            "/api/v1/webhooks",
            {"name": "x", "url": "https://example.com/x", "events": ["*"]},
        ),
        ("GET", f"/api/v1/webhooks/{hook['id']}", None),
        ("PATCH", f"/api/v1/webhooks/{hook['id']}", {"name": "pwned"}),
        ("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", None),
        ("POST", f"/api/v1/webhooks/{hook['id']}/test", None),
        ("DELETE", f"/api/v1/webhooks/{hook['id']}", None),
    ]
    spec = client.get("/api/v1/openapi.json").json()["paths"]
    listed = {
        (m.upper(), p) for p, ops in spec.items() if p.startswith("/api/v1/webhooks") for m in ops
    }
    assert len(listed) == len(routes)  # a route added later is added here too
    for role in ("viewer", "member"):
        person = invite_and_join(client, owner, role)
        for method, path, body in routes:
            r = client.request(method, path, json=body, headers=person.headers)
            assert r.status_code == 403, (role, method, path, r.text)
            assert r.json()["error"]["code"] == "PERMISSION_DENIED"
    assert api(client, owner, "GET", f"/webhooks/{hook['id']}")["name"] == hook["name"]


def test_the_docs_list_every_event_type():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    listed = {line.split("`")[1] for line in doc.splitlines() if line.startswith("| `")}
    assert set(EVENTS) <= listed
