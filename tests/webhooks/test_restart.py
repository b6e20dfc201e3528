"""Event webhooks survive restarts: an event waiting to be fanned out, or a delivery
waiting in the outbox while the receiver is down, arrives once augury runs again."""

from __future__ import annotations

import json
import time

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from augury.alerts.channels import verify_signature
from augury.alerts.models import Delivery
from augury.events.models import PlatformEvent
from tests.anomalies.test_restart import Server
from tests.fixtures.app import make_app
from tests.fixtures.factories import signup


def _wait(predicate, timeout_s=90.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def _deliveries(db) -> list[tuple[str, int]]:
    with db.session() as s:
        return [(d.status, d.attempts) for d in s.scalars(select(Delivery).order_by(Delivery.id))]


def test_an_event_not_fanned_out_yet_is_sent_by_the_next_start(settings, db, receiver):
    with TestClient(make_app(settings)) as client:  # no loops: nothing fans out or sends
        owner = signup(client)
        body = {"name": "ops", "url": receiver.url, "events": ["member.invited"]}
        r = client.post("/api/v1/webhooks", json=body, headers=owner.headers)
        assert r.status_code == 201, r.text
        secret = r.json()["secret"]
        r = client.post(
            "/api/v1/invitations",
            json={"email": "new@example.com", "role": "viewer"},
            headers=owner.headers,
        )
        assert r.status_code == 201, r.text
    with db.session() as s:
        waiting = s.scalars(select(PlatformEvent).where(PlatformEvent.fanned_out.is_(False)))
        assert "member.invited" in {e.type for e in waiting}
    assert _deliveries(db) == [] and receiver.requests == []

    with TestClient(make_app(settings, run_jobs=True)):  # the server's loops run
        _wait(lambda: _deliveries(db) == [("sent", 1)])
    (request,) = receiver.requests
    assert json.loads(request["body"])["data"]["email"] == "new@example.com"
    assert verify_signature(secret, request["headers"]["x-augury-signature"], request["body"])


def test_queued_event_deliveries_are_sent_after_a_restart(tmp_path, db, receiver):
    server = Server(tmp_path, db.url)
    server.env.update(
        {
            "AUGURY_ALERTS__RETRY_BASE_S": "0.2",
            "AUGURY_ALERTS__RETRY_CAP_S": "0.5",
            "AUGURY_ALERTS__MAX_ATTEMPTS": "1000",
            "AUGURY_ALERTS__DISPATCH_INTERVAL_S": "0.1",
            "AUGURY_ALERTS__ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        }
    )
    receiver.answers = [(503, 0.0)] * 100_000  # down for maintenance
    server.start()
    try:
        owner = httpx.post(
            f"{server.url}/api/v1/auth/signup",
            json={"email": "a@example.com", "password": "a long secret", "organization_name": "A"},
            timeout=30,
        ).json()
        auth = {"Authorization": f"Bearer {owner['access_token']}"}
        hook = httpx.post(
            f"{server.url}/api/v1/webhooks",
            json={"name": "hook", "url": receiver.url, "events": ["member.invited"]},
            headers=auth,
            timeout=30,
        ).json()
        r = httpx.post(
            f"{server.url}/api/v1/invitations",
            json={"email": "b@example.com", "role": "member"},
            headers=auth,
            timeout=30,
        )
        assert r.status_code == 201, r.text
        _wait(lambda: any(a >= 2 for _, a in _deliveries(db)))  # fanned out, failing, retried
        server.stop()  # SIGTERM with the delivery still in the outbox
        ((status, _),) = _deliveries(db)
        assert status in ("pending", "sending")
        assert all(r["status"] == 503 for r in receiver.requests)

        receiver.answers.clear()  # the receiver is back ...
        server.start()  # ... and so is augury
        _wait(lambda: [s for s, _ in _deliveries(db)] == ["sent"])
    finally:
        server.stop()
    (delivered,) = [r for r in receiver.requests if r["status"] == 200]
    body = json.loads(delivered["body"])
    assert body["event"] == "member.invited" and body["data"]["email"] == "b@example.com"
    assert delivered["headers"]["x-augury-event"] == "member.invited"
    sig = delivered["headers"]["x-augury-signature"]
    assert verify_signature(hook["secret"], sig, delivered["body"])
