"""Deliveries survive a restart: stop the server while its messages wait in the
outbox (the receiver is failing), start it again, and they arrive."""

from __future__ import annotations

import time

import httpx
import numpy as np
from sqlalchemy import select

from augury.alerts.models import Delivery
from tests.anomalies.test_restart import Server

STEP = 60


def _wait(predicate, timeout_s=90.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def _deliveries(db) -> list[tuple[str, str, int]]:
    with db.session() as s:
        return [
            (d.event, d.status, d.attempts)
            for d in s.scalars(select(Delivery).order_by(Delivery.id))
        ]


def test_queued_deliveries_are_sent_after_a_restart(tmp_path, db, receiver):
    server = Server(tmp_path, db.url)
    server.env.update(
        {
            "AUGURY_ALERTS__RETRY_BASE_S": "0.2",
            "AUGURY_ALERTS__RETRY_CAP_S": "0.5",
            "AUGURY_ALERTS__MAX_ATTEMPTS": "1000",
            "AUGURY_ALERTS__EVALUATE_INTERVAL_S": "0.2",
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
            f"{server.url}/api/v1/channels",
            json={"name": "hook", "type": "webhook", "config": {"url": receiver.url}},
            headers=auth,
            timeout=30,
        ).json()
        r = httpx.post(
            f"{server.url}/api/v1/alerts",
            json={"title": "load", "conditions": {"min_score": 80}, "channel_ids": [hook["id"]]},
            headers=auth,
            timeout=30,
        )
        assert r.status_code == 201, r.text
        key = httpx.post(
            f"{server.url}/api/v1/api-keys",
            json={"name": "k", "scopes": ["ingest"]},
            headers=auth,
            timeout=30,
        ).json()["key"]
        rng = np.random.default_rng(7)
        y = 20 + rng.standard_normal(1500)
        y[1400] += 15.0
        t0 = int(time.time()) - 1500 * STEP
        body = [
            {"properties": {"what": "load"}, "timestamp": t0 + STEP * i, "value": float(v)}
            for i, v in enumerate(y)
        ]
        r = httpx.post(f"{server.url}/api/v1/metrics?token={key}", json=body, timeout=60)
        assert r.status_code == 200 and r.json()["rejected"] == 0
        _wait(lambda: any(a >= 2 for _, _, a in _deliveries(db)))  # failing, retried
        server.stop()  # SIGTERM with the messages still in the outbox
        queued = _deliveries(db)
        assert sorted(e for e, _, _ in queued) == ["close", "open"]  # the spike came and went
        assert all(s in ("pending", "sending") for _, s, _ in queued)
        assert all(r["status"] == 503 for r in receiver.requests)

        receiver.answers.clear()  # the receiver is back ...
        server.start()  # ... and so is augury
        _wait(lambda: all(s == "sent" for _, s, _ in _deliveries(db)))
    finally:
        server.stop()
    messages = receiver.delivered()
    assert sorted(m["event"] for m in messages) == ["close", "open"]
    assert {m["trigger"]["title"] for m in messages} == {"load"}
    assert len(_deliveries(db)) == 2
