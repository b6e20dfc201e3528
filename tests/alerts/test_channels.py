"""Alert channels against real receivers on loopback: an HTTP server and an SMTP server.

The payload checks follow each receiver's documented shape (Alertmanager's webhook v4,
Slack Block Kit, PagerDuty Events API v2, Office 365 MessageCard), so a renderer that
drifts from what the real service accepts fails here rather than in someone's pager.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import replace
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from augury.alerts.channels import (
    CHANNEL_TYPES,
    PAGERDUTY_URL,
    public_config,
    render_email,
    render_http,
    send,
    sign,
    validate_config,
    verify_signature,
)
from augury.alerts.models import Channel
from augury.alerts.notification import Notification, NotificationMetric
from augury.config import Settings
from augury.mail import read_outbox
from tests.fixtures.app import free_port

T0 = 1_700_000_000.0
NOW = int(T0) + 900
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def make_notification(event: str = "open", **changes) -> Notification:
    """A grouped anomaly alert on two metrics; ``close`` closes it and both metrics."""
    closing = event == "close"
    metrics = [
        NotificationMetric(
            id=11,
            name="what=cpu.host=web-1.dc=eu",
            what="cpu",
            dimensions={"host": "web-1", "dc": "eu", "k8s.pod": "p-1"},
            state="closed" if closing else "open",
            start=T0,
            end=T0 + 600,
            value=93.2,
            expected=40.1,
            delta=53.1,
            delta_pct=132.4,
            score=87.0,
            direction="up",
            url="http://augury.test/metrics/11",
        ),
        NotificationMetric(
            id=12,
            name="what=cpu.host=web-2.dc=eu",
            what="cpu",
            dimensions={"host": "web-2", "dc": "eu"},
            state="closed" if closing else "open",
            start=T0 + 60,
            end=T0 + 600,
            value=71.0,
            expected=38.0,
            score=64.5,
            direction="up",
            url="http://augury.test/metrics/12",
        ),
    ]
    n = Notification(
        event=event,
        trigger_id=7,
        group_key="config:3/dc=eu",
        config_id=3,
        title="CPU <high> & rising",
        description="CPU on the EU web hosts is far above its usual level.",
        severity="high",
        type="anomaly",
        status="closed" if closing else "open",
        start=T0,
        updated=T0 + 600,
        end=T0 + 1200 if closing else None,
        timescale="native",
        owner="ops@example.com",
        labels=["web", "eu"],
        group={"dc": "eu"},
        score=87.0,
        direction="up",
        metrics=metrics,
        url="http://augury.test/alerts/7",
        actions=[{"name": "runbook", "button": "Runbook", "url": "https://wiki.example.com/cpu"}],
        events=[{"title": "deploy 1.2", "category": "deploy", "source": "ci", "start": T0 - 60}],
        organization="Acme",
    )
    return replace(n, **changes)


LOOPBACK = ["127.0.0.0/8", "::1", "localhost"]
"""The allow-list the receivers of these tests need (they listen on loopback)."""


def webhook_config(url: str, **extra) -> dict:
    config = {"url": url, "secret": "s3cret-for-tests", **extra}
    return validate_config("webhook", config, allowed=LOOPBACK)


@pytest.fixture
def channel_settings(tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        base_url="http://augury.test",
        alerts={"allowed_private_networks": LOOPBACK},
    )


# --- a real HTTP receiver ---------------------------------------------------------------


class HookServer:
    """An HTTP server on loopback that records each POST and answers as the test says.

    Unlike the shared ``receiver`` of conftest.py it can answer a long body, to check how
    much of it an error keeps, and a slow answer is released at teardown.
    """

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.answer = b'{"status":"success"}'
        self.delay_s = 0.0
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.requests.append({"path": self.path, "headers": self.headers, "body": body})
                if server.delay_s:
                    server.release.wait(server.delay_s)
                try:
                    self.send_response(server.status)
                    self.send_header("Content-Length", str(len(server.answer)))
                    self.end_headers()
                    self.wfile.write(server.answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format, *args) -> None:
                pass

        return Handler

    @property
    def last(self) -> dict:
        return self.requests[-1]


@pytest.fixture
def hook():
    r = HookServer()
    thread = threading.Thread(target=r.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield r
    r.release.set()
    r.server.shutdown()
    r.server.server_close()


# --- webhook: delivery and signature ----------------------------------------------------


def test_webhook_delivery_is_signed_and_verifiable(hook, channel_settings):
    config = webhook_config(hook.url, headers={"Authorization": "Bearer abc"})
    result = send(
        "webhook", config, make_notification(), settings=channel_settings, delivery_id="dlv-1"
    )
    assert result.ok and result.status_code == 200 and result.error is None
    assert result.duration_ms > 0
    request = hook.last
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hook"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Augury-Event"] == "open"
    assert headers["X-Augury-Delivery"] == "dlv-1"
    assert headers["Authorization"] == "Bearer abc"
    assert json.loads(body)["delivery_id"] == "dlv-1"

    signature = headers["X-Augury-Signature"]
    assert verify_signature(config["secret"], signature, body)
    # An independent check, as a receiver in another language would write it.
    fields = dict(part.split("=", 1) for part in signature.split(","))
    assert abs(int(fields["t"]) - time.time()) < 60
    mac = hmac.new(b"s3cret-for-tests", fields["t"].encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(mac.hexdigest(), fields["v1"])
    assert sign(config["secret"], int(fields["t"]), body) == fields["v1"]

    assert not verify_signature(config["secret"], signature, body.replace(b"open", b"clos"))
    assert not verify_signature("another-secret", signature, body)
    stale = int(fields["t"]) + 301
    assert not verify_signature(config["secret"], signature, body, now=stale)
    assert verify_signature(config["secret"], signature, body, now=int(fields["t"]) + 299)
    assert not verify_signature(config["secret"], "v1=" + fields["v1"], body)
    assert not verify_signature(config["secret"], "garbage", body)


def test_verify_signature_accepts_any_of_several_v1_while_rotating():
    body = b'{"x":1}'
    header = f"t={NOW},v1={sign('old', NOW, body)},v1={sign('new', NOW, body)}"
    assert verify_signature("new", header, body, now=NOW)
    assert verify_signature("old", header, body, now=NOW)
    assert not verify_signature("other", header, body, now=NOW)


def test_augury_webhook_body_carries_every_fact():
    config = webhook_config("https://hooks.example.com/a")
    request = render_http("webhook", config, make_notification(), delivery_id="d-9", now=NOW)
    payload = json.loads(request.body)
    assert set(payload) == {
        "version", "event", "delivery_id", "group_key", "trigger", "metrics", "actions",
        "events", "organization", "sent_at", "sent_at_time",
    }  # fmt: skip
    assert payload["version"] == "1" and payload["event"] == "open"
    assert payload["group_key"] == "config:3/dc=eu"
    assert payload["sent_at"] == NOW and RFC3339.match(payload["sent_at_time"])
    trigger = payload["trigger"]
    for key in (
        "id", "url", "config_id", "title", "description", "severity", "type", "status", "start",
        "updated", "end", "duration_s", "timescale", "owner", "labels", "group", "score",
        "direction",
    ):  # fmt: skip
        assert key in trigger, key
    assert trigger["start"] == T0 and trigger["start_time"] == "2023-11-14T22:13:20Z"
    assert trigger["end"] is None and trigger["end_time"] is None
    assert trigger["duration_s"] == 600
    assert [m["id"] for m in payload["metrics"]] == [11, 12]
    assert payload["metrics"][0]["dimensions"]["k8s.pod"] == "p-1"
    assert RFC3339.match(payload["metrics"][1]["start_time"])
    assert payload["actions"][0]["url"] == "https://wiki.example.com/cpu"
    assert payload["events"][0]["start_time"] == "2023-11-14T22:12:20Z"
    # The signature covers exactly these bytes.
    assert verify_signature(
        config["secret"], request.headers["X-Augury-Signature"], request.body, now=NOW
    )


def test_webhook_body_is_strict_json_even_with_nan():
    n = make_notification(score=float("nan"))
    n.metrics[0].value = float("inf")
    request = render_http("webhook", webhook_config("http://x.test"), n, delivery_id="d", now=NOW)
    payload = json.loads(request.body, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert payload["trigger"]["score"] is None and payload["metrics"][0]["value"] is None


# --- HTTP failures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False), (301, False)],
)
def test_http_status_decides_whether_to_retry(hook, channel_settings, status, retryable):
    hook.status = status
    hook.answer = b"receiver says: " + b"x" * 1000
    result = send(
        "webhook",
        webhook_config(hook.url),
        make_notification(),
        settings=channel_settings,
        delivery_id="d",
    )
    assert not result.ok
    assert result.retryable is retryable
    assert result.status_code == status
    assert result.error.startswith(f"HTTP {status}: receiver says: xxx")
    assert len(result.error) <= len(f"HTTP {status}: ") + 300
    assert len(hook.requests) == 1  # a 301 is not followed


def test_slow_receiver_times_out_and_is_retryable(hook, channel_settings):
    hook.delay_s = 5.0
    started = time.perf_counter()
    result = send(
        "webhook",
        webhook_config(hook.url),
        make_notification(),
        settings=channel_settings,
        delivery_id="d",
        timeout_s=0.5,
    )
    assert time.perf_counter() - started < 3
    assert not result.ok and result.retryable and result.status_code is None
    assert "timeout" in result.error.lower()


def test_send_reports_a_broken_config_instead_of_raising(channel_settings):
    for type_, config in [("webhook", {}), ("carrier-pigeon", {"url": "http://x.test"})]:
        result = send(
            type_, config, make_notification(), settings=channel_settings, delivery_id="d"
        )
        assert not result.ok and not result.retryable and result.error


@pytest.mark.parametrize("type_", ["slack", "pagerduty", "teams"])
def test_chat_and_paging_channels_post_json_to_their_url(hook, channel_settings, type_):
    config = {"url": hook.url, "routing_key": "R0UT1NGKEY"} if type_ == "pagerduty" else {}
    config = validate_config(type_, config or {"url": hook.url}, allowed=LOOPBACK)
    result = send(type_, config, make_notification(), settings=channel_settings, delivery_id="d")
    assert result.ok, result.error
    assert hook.last["headers"]["Content-Type"] == "application/json"
    assert isinstance(json.loads(hook.last["body"]), dict)


# --- Alertmanager format ----------------------------------------------------------------


def check_alertmanager_shape(payload: dict) -> None:
    """Alertmanager's webhook_config body, version 4, key by key."""
    assert payload["version"] == "4"
    assert isinstance(payload["groupKey"], str) and payload["groupKey"]
    assert payload["truncatedAlerts"] == 0
    assert payload["status"] in ("firing", "resolved")
    assert isinstance(payload["receiver"], str)
    for key in ("groupLabels", "commonLabels", "commonAnnotations"):
        assert all(isinstance(v, str) for v in payload[key].values()), key
    assert isinstance(payload["externalURL"], str)
    assert payload["alerts"]
    for alert in payload["alerts"]:
        assert set(alert) == {
            "status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint",
        }  # fmt: skip
        assert alert["status"] in ("firing", "resolved")
        assert alert["labels"]["alertname"]
        for name, value in alert["labels"].items():
            assert re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name), name
            assert isinstance(value, str)
        assert all(isinstance(v, str) for v in alert["annotations"].values())
        assert RFC3339.match(alert["startsAt"]) and RFC3339.match(alert["endsAt"])
        assert re.fullmatch(r"[0-9a-f]{16}", alert["fingerprint"])
        # Common labels are the ones every alert has, with the same value.
        assert payload["commonLabels"].items() <= alert["labels"].items()
    firing = any(a["status"] == "firing" for a in payload["alerts"])
    assert payload["status"] == ("firing" if firing else "resolved")


def test_alertmanager_payload_while_firing_and_once_resolved(hook, channel_settings):
    config = webhook_config(hook.url, format="alertmanager") | {"_name": "ops-hook"}
    for event in ("open", "close"):
        result = send(
            "webhook",
            config,
            make_notification(event),
            settings=channel_settings,
            delivery_id=event,
        )
        assert result.ok
    opened, closed = (json.loads(r["body"]) for r in hook.requests)
    for payload in (opened, closed):
        check_alertmanager_shape(payload)
        assert payload["receiver"] == "ops-hook"
        assert payload["groupKey"] == "config:3/dc=eu"
        assert payload["externalURL"] == "http://augury.test"
        assert len(payload["alerts"]) == 2
        assert payload["groupLabels"] == {"alertname": "CPU <high> & rising", "dc": "eu"}

    assert opened["status"] == "firing"
    assert {a["endsAt"] for a in opened["alerts"]} == {"0001-01-01T00:00:00Z"}
    first = opened["alerts"][0]
    assert first["labels"] == {
        "alertname": "CPU <high> & rising",
        "severity": "high",
        "what": "cpu",
        "host": "web-1",
        "dc": "eu",
        "k8s_pod": "p-1",
    }
    assert first["annotations"]["score"] == "87.0"
    assert "web-1" in first["annotations"]["summary"]
    assert first["generatorURL"] == "http://augury.test/metrics/11"
    assert opened["commonLabels"]["dc"] == "eu" and "host" not in opened["commonLabels"]

    assert closed["status"] == "resolved"
    assert all(a["status"] == "resolved" for a in closed["alerts"])
    assert closed["alerts"][0]["endsAt"] == "2023-11-14T22:23:20Z"
    fingerprints = [a["fingerprint"] for a in opened["alerts"]]
    assert fingerprints == [a["fingerprint"] for a in closed["alerts"]]
    assert len(set(fingerprints)) == 2
    assert "X-Augury-Signature" in hook.last["headers"]


def test_alertmanager_marks_a_closed_metric_resolved_in_an_open_alert():
    n = make_notification("update")
    n.metrics[1].state = "closed"
    config = webhook_config("http://x.test", format="alertmanager")
    payload = json.loads(render_http("webhook", config, n, delivery_id="d", now=NOW).body)
    check_alertmanager_shape(payload)
    assert payload["status"] == "firing"
    assert [a["status"] for a in payload["alerts"]] == ["firing", "resolved"]
    assert payload["alerts"][1]["endsAt"] != "0001-01-01T00:00:00Z"


def test_alertmanager_test_event_without_metrics_still_has_one_alert():
    n = make_notification("test", metrics=[])
    config = webhook_config("http://x.test", format="alertmanager")
    payload = json.loads(render_http("webhook", config, n, delivery_id="d", now=NOW).body)
    check_alertmanager_shape(payload)
    assert payload["receiver"] == "augury" and len(payload["alerts"]) == 1


# --- Slack, PagerDuty, Teams ------------------------------------------------------------

SLACK_BLOCK_TYPES = {"header", "section", "context", "actions", "divider", "image", "rich_text"}


def test_slack_message_has_fallback_text_and_valid_blocks():
    config = validate_config("slack", {"url": "https://hooks.slack.com/x", "channel": "alerts"})
    config = validate_config("slack", {**config, "username": "augury"})
    request = render_http("slack", config, make_notification(), delivery_id="d", now=NOW)
    payload = json.loads(request.body)
    assert payload["channel"] == "#alerts" and payload["username"] == "augury"
    # mrkdwn must escape <, > and & or Slack reads them as links.
    assert payload["text"] == "[HIGH] Open: CPU &lt;high&gt; &amp; rising"
    blocks = payload["blocks"]
    assert isinstance(blocks, list) and 0 < len(blocks) <= 50
    assert all(isinstance(b, dict) and b["type"] in SLACK_BLOCK_TYPES for b in blocks)
    header = blocks[0]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert len(header["text"]["text"]) <= 150 and "CPU <high>" in header["text"]["text"]
    fields = next(b for b in blocks if b.get("fields"))["fields"]
    assert len(fields) <= 10 and all(f["type"] == "mrkdwn" for f in fields)
    texts = " ".join(f["text"] for f in fields)
    assert "*Severity*\nHIGH" in texts and "*Score*\n87" in texts and "*Metrics*\n2" in texts
    metric_list = " ".join(b.get("text", {}).get("text", "") for b in blocks)
    assert "<http://augury.test/metrics/11|what=cpu.host=web-1.dc=eu>" in metric_list
    buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [b["url"] for b in buttons] == [
        "http://augury.test/alerts/7",
        "https://wiki.example.com/cpu",
    ]
    assert all(len(b["text"]["text"]) <= 75 for b in buttons)
    assert blocks[-1]["type"] == "context"

    closed = json.loads(
        render_http("slack", config, make_notification("close"), delivery_id="d", now=NOW).body
    )
    assert closed["blocks"][0]["text"]["text"] != header["text"]["text"]
    assert closed["text"].startswith("[HIGH] Closed:")


def test_slack_without_channel_or_username_leaves_them_out():
    config = validate_config("slack", {"url": "https://hooks.slack.com/x"})
    payload = json.loads(
        render_http("slack", config, make_notification(), delivery_id="d", now=NOW).body
    )
    assert "channel" not in payload and "username" not in payload


def test_pagerduty_triggers_then_resolves_with_one_dedup_key():
    config = validate_config("pagerduty", {"routing_key": "R0UT1NGKEY"})
    assert config["url"] == PAGERDUTY_URL

    def event(n: Notification) -> dict:
        request = render_http("pagerduty", config, n, delivery_id="d", now=NOW)
        assert request.url == PAGERDUTY_URL
        return json.loads(request.body)

    opened, updated, closed = (event(make_notification(e)) for e in ("open", "update", "close"))
    for body in (opened, updated):
        assert body["routing_key"] == "R0UT1NGKEY" and body["event_action"] == "trigger"
        payload = body["payload"]
        assert payload["source"] == "augury" and payload["severity"] == "error"
        assert payload["component"] == "cpu" and payload["class"] == "anomaly"
        assert payload["group"] == "dc=eu" and RFC3339.match(payload["timestamp"])
        assert 0 < len(payload["summary"]) <= 1024
        assert len(payload["custom_details"]["metrics"]) == 2
        assert all(set(link) == {"href", "text"} for link in body["links"])
        assert body["client"] == "augury" and body["client_url"] == "http://augury.test/alerts/7"
    assert closed == {
        "routing_key": "R0UT1NGKEY",
        "event_action": "resolve",
        "dedup_key": opened["dedup_key"],
    }
    assert opened["dedup_key"] == updated["dedup_key"] == "config:3/dc=eu"
    assert event(make_notification("test"))["event_action"] == "trigger"


def test_pagerduty_severity_mapping_and_summary_limit():
    config = validate_config("pagerduty", {"routing_key": "k"})
    expected = {
        "critical": "critical",
        "high": "error",
        "medium": "warning",
        "low": "info",
        "info": "info",
    }
    for severity, pd_severity in expected.items():
        n = make_notification(severity=severity, title="t" * 3000)
        payload = json.loads(render_http("pagerduty", config, n, delivery_id="d", now=NOW).body)
        assert payload["payload"]["severity"] == pd_severity
        assert len(payload["payload"]["summary"]) <= 1024
    long_key = make_notification(group_key="g" * 400)
    body = json.loads(render_http("pagerduty", config, long_key, delivery_id="d", now=NOW).body)
    assert len(body["dedup_key"]) <= 255


def test_teams_message_card():
    config = validate_config("teams", {"url": "https://example.webhook.office.com/x"})
    card = json.loads(
        render_http("teams", config, make_notification(), delivery_id="d", now=NOW).body
    )
    assert card["@type"] == "MessageCard"
    assert card["@context"] == "https://schema.org/extensions"
    assert re.fullmatch(r"[0-9A-F]{6}", card["themeColor"])
    assert card["summary"]
    section = card["sections"][0]
    facts = {f["name"]: f["value"] for f in section["facts"]}
    assert facts["Severity"] == "HIGH" and "what=cpu.host=web-1.dc=eu" in facts
    assert "&lt;high&gt;" in section["activityTitle"]
    action = card["potentialAction"][0]
    assert action["@type"] == "OpenUri"
    assert action["targets"] == [{"os": "default", "uri": "http://augury.test/alerts/7"}]
    closed = json.loads(
        render_http("teams", config, make_notification("close"), delivery_id="d", now=NOW).body
    )
    assert closed["themeColor"] != card["themeColor"]


# --- email ------------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that accepts, or refuses with the reply the test sets."""

    def __init__(self) -> None:
        self.messages: list = []
        self.rcpt_reply: str | None = None
        self.data_reply = "250 Message accepted for delivery"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply.startswith("250"):
            self.messages.append(envelope)
        return self.data_reply


@pytest.fixture
def smtp_server(channel_settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    channel_settings.smtp.host = "127.0.0.1"
    channel_settings.smtp.port = controller.port
    channel_settings.smtp.sender = "augury <alerts@example.com>"
    yield inbox
    controller.stop()


@pytest.mark.service
def test_email_through_real_smtp_with_inline_chart(smtp_server, channel_settings):
    config = validate_config("email", {"to": ["Ops@Example.com", "oncall@example.com"]})
    result = send(
        "email",
        config,
        make_notification(),
        settings=channel_settings,
        delivery_id="dlv-7",
        images=[("chart-11@augury", PNG)],
    )
    assert result.ok, result.error
    envelope = smtp_server.messages[0]
    assert envelope.mail_from == "alerts@example.com"
    assert envelope.rcpt_tos == ["Ops@example.com", "oncall@example.com"]
    msg = message_from_bytes(envelope.content, policy=policy.default)
    assert msg["Subject"] == "[HIGH] Open: CPU <high> & rising"
    assert msg["X-Augury-Delivery"] == "dlv-7" and msg["Auto-Submitted"] == "auto-generated"

    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "what=cpu.host=web-1.dc=eu: 93.2 (expected 40.1, +132.4%)" in text
    assert "http://augury.test/alerts/7" in text
    html_body = msg.get_body(preferencelist=("html",)).get_content()
    assert "CPU &lt;high&gt; &amp; rising" in html_body and "<high>" not in html_body
    assert '<img src="cid:chart-11@augury"' in html_body
    assert 'href="http://augury.test/metrics/11"' in html_body

    images = [part for part in msg.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1
    assert images[0]["Content-ID"] == "<chart-11@augury>"
    assert images[0].get_content() == PNG
    assert images[0].get_content_disposition() == "inline"


def test_email_thread_links_update_and_close_to_the_open_mail(channel_settings):
    config = validate_config("email", {"to": "ops@example.com"})
    opened, closed = (
        render_email(config, make_notification(e), settings=channel_settings, images=[])
        for e in ("open", "close")
    )
    assert closed["In-Reply-To"] == closed["References"] == opened["Message-ID"]
    assert closed["Subject"] == "[HIGH] Closed: CPU <high> & rising"
    with pytest.raises(ValueError, match="content id"):
        render_email(config, make_notification(), settings=channel_settings, images=[("a b", PNG)])


def test_email_goes_to_the_outbox_without_smtp(channel_settings):
    config = validate_config("email", {"to": ["ops@example.com"]})
    result = send("email", config, make_notification(), settings=channel_settings, delivery_id="d")
    assert result.ok and result.error is None
    [mail] = read_outbox(channel_settings.outbox_dir)
    assert mail["to"] == "ops@example.com"
    assert mail["subject"] == "[HIGH] Open: CPU <high> & rising"


@pytest.mark.service
@pytest.mark.parametrize(
    ("rcpt_reply", "data_reply", "retryable", "code"),
    [
        (None, "451 4.3.0 Try again later", True, 451),
        (None, "554 5.7.1 Rejected as spam", False, 554),
        ("450 4.2.1 Mailbox busy", None, True, 450),
        ("550 5.1.1 No such user", None, False, 550),
    ],
)
def test_smtp_refusals_are_classified(
    smtp_server, channel_settings, rcpt_reply, data_reply, retryable, code
):
    smtp_server.rcpt_reply = rcpt_reply
    if data_reply:
        smtp_server.data_reply = data_reply
    config = validate_config("email", {"to": ["ops@example.com"]})
    result = send("email", config, make_notification(), settings=channel_settings, delivery_id="d")
    assert not result.ok
    assert result.retryable is retryable
    assert result.status_code == code
    assert str(code) in result.error


def test_smtp_connection_refused_is_retryable(channel_settings):
    channel_settings.smtp.host, channel_settings.smtp.port = "127.0.0.1", free_port()
    config = validate_config("email", {"to": ["ops@example.com"]})
    result = send("email", config, make_notification(), settings=channel_settings, delivery_id="d")
    assert not result.ok and result.retryable
    assert "connection" in result.error.lower()


# --- configuration ----------------------------------------------------------------------


URL = "https://example.com/hook"


@pytest.mark.parametrize(
    ("type_", "config", "message"),
    [
        ("sms", {}, "unknown channel type"),
        ("webhook", {}, "url is required"),
        ("webhook", {"url": "ftp://example.com/x"}, "http"),
        ("webhook", {"url": "http://"}, "http"),
        ("webhook", {"url": "http://example.com:port/"}, "not a valid URL"),
        ("webhook", {"url": URL, "format": "prometheus"}, "unknown webhook format"),
        ("webhook", {"url": URL, "secret": 12}, "secret"),
        ("webhook", {"url": URL, "headers": {"X-Augury-Event": "x"}}, "set by augury"),
        ("webhook", {"url": URL, "headers": {"Content-Type": "text/plain"}}, "set by augury"),
        ("webhook", {"url": URL, "headers": {"X-A": "a\r\nEvil: 1"}}, "single-line"),
        ("webhook", {"url": URL, "headers": {"bad name": "x"}}, "header name"),
        ("webhook", {"url": URL, "colour": "red"}, "unknown webhook setting"),
        ("slack", {"url": "not a url"}, "http"),
        ("slack", {"url": URL, "channel": "my channel"}, "spaces"),
        ("email", {}, "at least one address"),
        ("email", {"to": []}, "at least one address"),
        ("email", {"to": ["a@example.com", "not-an-address"]}, "address 'not-an-address'"),
        ("email", {"to": [42]}, "invalid email address"),
        ("pagerduty", {}, "routing_key is required"),
        ("pagerduty", {"routing_key": "   "}, "routing_key is required"),
        ("pagerduty", {"routing_key": "k", "url": "mailto:x@example.com"}, "http"),
        ("teams", {"url": ""}, "url is required"),
    ],
)
def test_validate_config_refuses_with_a_clear_message(type_, config, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_config(type_, config)


def test_validate_config_normalises():
    webhook = validate_config("webhook", {"url": " https://example.com/h ", "_name": "ops"})
    assert webhook["url"] == "https://example.com/h"
    assert webhook["format"] == "augury" and webhook["headers"] == {}
    assert len(webhook["secret"]) >= 40
    assert webhook["secret"] != validate_config("webhook", {"url": "https://e.com"})["secret"]
    assert "_name" not in webhook
    kept = validate_config("webhook", {**webhook, "format": "alertmanager"})
    assert kept["secret"] == webhook["secret"] and kept["format"] == "alertmanager"

    email = validate_config("email", {"to": "a@example.com, A@EXAMPLE.COM; b@example.com"})
    assert email == {"to": ["a@example.com", "b@example.com"]}
    assert validate_config("slack", {"url": "https://h.test", "channel": "@me"})["channel"] == "@me"
    assert validate_config("pagerduty", {"routing_key": " abc "})["routing_key"] == "abc"
    assert set(CHANNEL_TYPES) == {"webhook", "slack", "email", "pagerduty", "teams"}


def test_public_config_masks_secrets_and_keeps_urls():
    headers = {"Authorization": "Bearer t0ken"}
    webhook = validate_config(
        "webhook", {"url": "https://example.com/h", "secret": "abcdefghijkl", "headers": headers}
    )
    shown = public_config("webhook", webhook)
    assert shown == {
        "url": "https://example.com/h",
        "secret": "abcd…",
        "format": "augury",
        "headers": {"Authorization": "Bear…"},
    }
    assert webhook["secret"] == "abcdefghijkl"  # the stored config is untouched
    pagerduty = public_config(
        "pagerduty", validate_config("pagerduty", {"routing_key": "R0UT1NGKEY"})
    )
    assert pagerduty == {"routing_key": "R0UT…", "url": PAGERDUTY_URL}
    email = {"to": ["ops@example.com"]}
    assert public_config("email", email) == email


# --- destinations: no loopback, private, link-local or multicast receivers ----------------

REFUSED = "destination refused or unreachable"
PRIVATE_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one integer
    "http://0x7f.1/hook",
    "http://[::1]:9000/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.4/hook",
    "http://224.0.0.1/hook",
    "http://0.0.0.0:8000/hook",
    "http://[fe80::1]/hook",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
@pytest.mark.parametrize("type_", ["webhook", "slack", "teams", "pagerduty"])
def test_private_destinations_are_refused_when_configured(type_, url):
    config = {"url": url, "routing_key": "K"} if type_ == "pagerduty" else {"url": url}
    with pytest.raises(ValueError, match="private, loopback, link-local or multicast"):
        validate_config(type_, config)


def test_an_operator_allow_list_admits_on_premise_receivers():
    url = "http://127.0.0.1:8080/hook"
    assert validate_config("slack", {"url": url}, allowed=["127.0.0.0/8"])["url"] == url
    assert validate_config("teams", {"url": "http://[::1]/h"}, allowed=["::1"])
    assert validate_config("webhook", {"url": "http://localhost/h"}, allowed=["localhost"])
    assert validate_config("slack", {"url": "http://10.1.2.3/h"}, allowed=["10.0.0.0/8"])
    with pytest.raises(ValueError, match="private"):  # another network stays refused
        validate_config("slack", {"url": "http://192.168.0.10/h"}, allowed=["10.0.0.0/8"])
    with pytest.raises(ValueError, match="private"):
        validate_config("slack", {"url": "http://169.254.169.254/"}, allowed=["127.0.0.0/8"])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "[::1]"])
def test_send_refuses_a_private_destination_after_resolving_it(hook, channel_settings, host):
    """A stored URL is checked again at send time (DNS may have changed since): nothing
    reaches the receiver, and the answer says nothing about what is there."""
    channel_settings.alerts.allowed_private_networks = []
    url = hook.url.replace("127.0.0.1", host)
    for type_ in ("webhook", "slack", "teams", "pagerduty"):
        config = {"url": url, "secret": "s", "routing_key": "K", "format": "augury"}
        result = send(
            type_, config, make_notification(), settings=channel_settings, delivery_id="d"
        )
        assert not result.ok and not result.retryable
        assert (result.status_code, result.error) == (None, REFUSED)
    assert hook.requests == []


def test_send_keeps_the_host_name_of_an_allowed_destination(hook, channel_settings):
    """The request goes to the address that was checked, with the URL's own Host."""
    channel_settings.alerts.allowed_private_networks = ["localhost"]
    url = hook.url.replace("127.0.0.1", "localhost")
    result = send(
        "webhook",
        webhook_config(url),
        make_notification(),
        settings=channel_settings,
        delivery_id="d",
    )
    assert result.ok, result.error
    assert hook.last["headers"]["Host"] == f"localhost:{hook.server.server_port}"


def test_unreachable_destination_answers_a_generic_failure(channel_settings):
    url = f"http://127.0.0.1:{free_port()}/hook"
    for config in ({"url": url}, {"url": "http://no-such-host.invalid/hook"}):
        result = send(
            "slack", config, make_notification(), settings=channel_settings, delivery_id="d"
        )
        assert not result.ok and result.retryable
        assert (result.status_code, result.error) == (None, REFUSED)


# --- destinations over the API ----------------------------------------------------------


def _channels_api(client, account, method, path="", **kw):
    return client.request(method, f"/api/v1/channels{path}", headers=account.headers, **kw)


def test_api_refuses_private_destinations_with_a_clear_error(client, owner, settings):
    settings.alerts.allowed_private_networks = []
    for url in ["http://127.0.0.1:9/h", "http://2130706433/h", "http://[::1]/h"]:
        body = {"name": "x", "type": "webhook", "config": {"url": url}}
        r = _channels_api(client, owner, "POST", json=body)
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert "private, loopback, link-local or multicast" in error["message"]
    ok = {
        "name": "ok",
        "type": "slack",
        "config": {"url": "https://hooks.slack.com/services/T/B/X"},
    }
    created = _channels_api(client, owner, "POST", json=ok)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    r = _channels_api(
        client, owner, "PATCH", f"/{cid}", json={"config": {"url": "http://169.254.169.254/"}}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    with client.app.state.db.session() as s:  # nothing stored was lost
        assert s.get(Channel, cid).config["url"] == "https://hooks.slack.com/services/T/B/X"
    assert _channels_api(client, owner, "GET").json()["total"] == 1


def test_channel_test_answers_only_a_generic_failure(client, owner, settings, hook):
    """Neither a refused nor an unreachable destination says what is there."""
    body = {"name": "h", "type": "webhook", "config": {"url": hook.url}}
    cid = _channels_api(client, owner, "POST", json=body).json()["id"]
    settings.alerts.allowed_private_networks = []  # as if DNS had changed since
    hook.status, hook.answer = 500, b"internal admin panel: secret things"
    r = _channels_api(client, owner, "POST", f"/{cid}/test")
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["status"], d["status_code"], d["error"]) == ("failed", None, REFUSED)
    assert hook.requests == []
    settings.alerts.allowed_private_networks = ["127.0.0.0/8"]
    dead = {"name": "d", "type": "slack", "config": {"url": f"http://127.0.0.1:{free_port()}/"}}
    did = _channels_api(client, owner, "POST", json=dead).json()["id"]
    d = _channels_api(client, owner, "POST", f"/{did}/test").json()
    assert (d["status"], d["status_code"], d["error"]) == ("failed", None, REFUSED)


# --- URLs that are credentials ----------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "url", "shown"),
    [
        ("slack", "https://hooks.slack.com/services/T0/B0/XyZsecret", "https://hooks.slack.com/…"),
        ("teams", "https://acme.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d", None),
        ("webhook", "https://bob:hunter2@hooks.example.com/in", "https://hooks.example.com/…"),
        ("webhook", "https://hooks.example.com/in?token=s3cr3t&x=1", "https://hooks.example.com/…"),
        ("webhook", "https://hooks.example.com/in?api_key=s3cr3t", "https://hooks.example.com/…"),
        (
            "webhook",
            "https://x.example.com/invoke?sig=abc&api-version=1",
            "https://x.example.com/…",
        ),
        ("pagerduty", "https://pd.example.com/v2/enqueue?key=abc", "https://pd.example.com/…"),
    ],
)
def test_public_config_masks_urls_that_are_credentials(type_, url, shown):
    config = {"url": url, "routing_key": "R0UTE"} if type_ == "pagerduty" else {"url": url}
    stored = validate_config(type_, config)
    public = public_config(type_, stored)
    assert public["url"] == (shown or "https://acme.webhook.office.com/…")
    assert "secret" not in public["url"] and "hunter2" not in public["url"]
    assert stored["url"] == url  # what is sent is untouched


def test_public_config_keeps_plain_urls():
    webhook = validate_config("webhook", {"url": "https://hooks.example.com/in?team=ops"})
    assert public_config("webhook", webhook)["url"] == "https://hooks.example.com/in?team=ops"
    pagerduty = validate_config("pagerduty", {"routing_key": "K"})
    assert public_config("pagerduty", pagerduty)["url"] == PAGERDUTY_URL


def test_viewers_and_read_only_keys_see_masked_urls_and_writers_keep_them(client, owner, settings):
    from tests.fixtures.factories import invite_and_join, make_key

    secret_url = "https://hooks.slack.com/services/T0/B0/XyZsecret"
    body = {"name": "chat", "type": "slack", "config": {"url": secret_url}}
    created = _channels_api(client, owner, "POST", json=body)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.json()["config"]["url"] == "https://hooks.slack.com/…"
    viewer = invite_and_join(client, owner, "viewer")
    key = make_key(client, owner, ["read"])
    for headers in (viewer.headers, {"Authorization": f"Bearer {key}"}):
        for path in ("", f"/{cid}"):
            r = client.get(f"/api/v1/channels{path}", headers=headers)
            assert r.status_code == 200, r.text
            assert "XyZsecret" not in r.text and "hooks.slack.com/…" in r.text
    # Saving what was read (the masked URL) keeps the stored one.
    shown = _channels_api(client, owner, "GET", f"/{cid}").json()
    r = _channels_api(
        client, owner, "PATCH", f"/{cid}", json={"name": "chat 2", "config": shown["config"]}
    )
    assert r.status_code == 200, r.text
    with client.app.state.db.session() as s:
        assert s.get(Channel, cid).config["url"] == secret_url
