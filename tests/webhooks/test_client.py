"""``client.webhooks`` against a real server with its loops running: the fan-out and
the dispatcher send what happens, as in production."""

from __future__ import annotations

import time

import pytest

from augury.alerts.channels import verify_signature
from augury.client import Client, NotFoundError, ValidationError


def test_client_webhooks(live_server, receiver):
    with Client(live_server.url, timeout=30) as c:
        c.signup("hooks@example.com", "correct horse battery", organization_name="Hooks")
        types = {t["type"] for t in c.webhooks.event_types()}
        assert {"chart.created", "member.invited", "job.finished"} <= types
        with pytest.raises(ValidationError):
            c.webhooks.create("bad", receiver.url, ["chart.exploded"])
        hook = c.webhooks.create("ops", receiver.url, ["member.invited"], secret="shh-secret")
        assert hook["secret"] == "shh-secret"
        c.invitations.create("new@example.com", "member")
        deadline = time.monotonic() + 60
        while not receiver.delivered():
            assert time.monotonic() < deadline, "no event arrived"
            time.sleep(0.1)
        (request,) = receiver.requests
        assert receiver.delivered()[0]["event"] == "member.invited"
        assert verify_signature(
            "shh-secret", request["headers"]["x-augury-signature"], request["body"]
        )
        (entry,) = c.webhooks.deliveries(hook["id"], status="sent")["items"]
        assert entry["event_type"] == "member.invited" and entry["status_code"] == 200
        assert c.webhooks.test(hook["id"])["status"] == "sent"
        assert c.webhooks.update(hook["id"], active=False)["active"] is False
        assert [h["id"] for h in c.webhooks.iter()] == [hook["id"]]
        assert c.webhooks.list()["total"] == 1
        c.webhooks.delete(hook["id"])
        with pytest.raises(NotFoundError):
            c.webhooks.get(hook["id"])
