"""Mail goes through a real SMTP server when one is configured, else to the outbox."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from augury.app import create_app
from tests.fixtures.app import free_port
from tests.fixtures.factories import signup


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.mark.service
def test_password_reset_mail_through_real_smtp(settings, smtp_server):
    controller, inbox = smtp_server
    settings.smtp.host = "127.0.0.1"
    settings.smtp.port = controller.port
    settings.smtp.sender = "augury <noreply@example.com>"
    with TestClient(create_app(settings, run_jobs=False)) as c:
        owner = signup(c)
        assert (
            c.post("/api/v1/auth/password/forgot", json={"email": owner.email}).status_code == 202
        )
        assert len(inbox.messages) == 1
        envelope = inbox.messages[0]
        assert envelope.rcpt_tos == [owner.email]
        assert envelope.mail_from == "noreply@example.com"
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert msg["Subject"] == "Reset your augury password"
        text = msg.get_body(preferencelist=("plain",)).get_content()
        html = msg.get_body(preferencelist=("html",)).get_content()
        token = text.split("reset-password?token=")[1].split()[0]
        assert f"reset-password?token={token}" in html
        # The token from the real mail works.
        r = c.post(
            "/api/v1/auth/password/reset", json={"token": token, "new_password": "via smtp 123"}
        )
        assert r.status_code == 204
    assert not settings.outbox_dir.exists() or not any(settings.outbox_dir.iterdir())


@pytest.mark.service
def test_invitation_mail_through_real_smtp(settings, smtp_server):
    controller, inbox = smtp_server
    settings.smtp.host, settings.smtp.port = "127.0.0.1", controller.port
    with TestClient(create_app(settings, run_jobs=False)) as c:
        owner = signup(c, org="Initech")
        r = c.post(
            "/api/v1/invitations",
            json={"email": "peter@example.com", "role": "viewer"},
            headers=owner.headers,
        )
        assert r.status_code == 201
    msg = message_from_bytes(inbox.messages[0].content, policy=policy.default)
    assert msg["To"] == "peter@example.com"
    assert "Initech" in msg["Subject"]
    assert r.json()["invitation_link"] in msg.get_body(preferencelist=("plain",)).get_content()
