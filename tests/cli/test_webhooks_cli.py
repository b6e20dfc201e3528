"""`augury webhooks ...` against a real augury server over HTTP with an API key, sending
to a real receiver on loopback."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from typer.testing import CliRunner

from augury.alerts.channels import verify_signature
from augury.cli import app
from augury.client import Client
from tests.alerts.conftest import Receiver

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def owner(live_server):
    with Client(live_server.url) as c:
        c.signup(f"cli-hooks{next(_seq)}@example.com", PASSWORD, organization_name="Hooks")
        yield c


def _runner(live_server, key: str):
    runner = CliRunner()
    env = {"AUGURY_URL": live_server.url, "AUGURY_API_KEY": key}

    def run(*args: str, code: int = 0, input: str | None = None):
        result = runner.invoke(app, ["webhooks", *args], env=env, input=input)
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return run


@pytest.fixture
def hooks(live_server, owner):
    """Run `augury webhooks ARGS...` with an admin key; the exit code is checked."""
    return _runner(live_server, owner.keys.create("cli", scopes=["read", "admin"])["key"])


def test_create_show_test_deliveries_update_delete(hooks, receiver):
    types = hooks("events").output.splitlines()
    assert types[0].split() == ["TYPE", "DESCRIPTION"]
    assert any(line.startswith("chart.created ") for line in types)
    assert hooks("list").output.startswith("no webhooks")

    out = hooks(
        "create", "ops", receiver.url + "/in", "-e", "chart.created", "-e", "job.finished",
        "-H", "X-Team: ops",
    ).output  # fmt: skip
    first, second = out.splitlines()
    m = re.fullmatch(
        rf"webhook (\d+) 'ops' \(active\) -> {re.escape(receiver.url)}/in created for "
        r"chart.created, job.finished",
        first,
    )
    assert m, first
    hook_id = m.group(1)
    secret = re.fullmatch(r"secret: (\S+) \(shown this once: .*\)", second).group(1)

    listed = [line.split() for line in hooks("list").output.splitlines()]
    assert listed[0] == ["ID", "NAME", "ACTIVE", "EVENTS", "DELIVERIES", "URL"]
    assert listed[1:] == [
        [hook_id, "ops", "yes", "chart.created,", "job.finished", "none", receiver.url + "/in"]
    ]
    shown = hooks("show", hook_id).output.splitlines()
    assert shown[1:4] == [
        "events: chart.created, job.finished",
        f"secret: {secret[:4]}…",
        "header: X-Team: ops…",
    ]

    # A test arrives signed; a failing receiver makes the command exit 1 after saying so.
    out = hooks("test", hook_id).output
    assert re.fullmatch(r"delivery \d+: sent HTTP 200 in \d+ ms\n", out), out
    request = receiver.requests[-1]
    assert request["headers"]["x-team"] == "ops"
    assert verify_signature(secret, request["headers"]["x-augury-signature"], request["body"])
    receiver.answers.append((500, 0.0))
    out = hooks("test", hook_id, code=1).output
    assert re.fullmatch(r"delivery \d+: failed HTTP 500 in \d+ ms \(.+\)\n", out), out

    log = [line.split() for line in hooks("deliveries", hook_id).output.splitlines()]
    assert log[0] == ["ID", "TIME", "EVENT", "STATUS", "ATTEMPTS", "CODE", "ERROR"]
    assert [(row[3], row[4], row[5], row[6]) for row in log[1:]] == [
        ("webhook.test", "failed", "1", "500"),
        ("webhook.test", "sent", "1", "200"),
    ]
    failed = [
        line.split()
        for line in hooks("deliveries", hook_id, "--status", "failed").output.splitlines()
    ]
    assert len(failed) == 2 and failed[1][4] == "failed"
    page = json.loads(hooks("deliveries", hook_id, "--status", "sent", "--json").output)
    assert [d["status_code"] for d in page["items"]] == [200]

    # Update: pause, every event, a rotated secret that signs from then on.
    out = hooks("update", hook_id, "--inactive", "-e", "*", "--rotate-secret").output
    first, second = out.splitlines()
    assert first == (
        f"webhook {hook_id} 'ops' (paused) -> {receiver.url}/in updated: events, secret, active"
    )
    rotated = re.fullmatch(r"secret: (\S+) \(shown this once\)", second).group(1)
    assert rotated != secret
    hook = json.loads(hooks("show", hook_id, "--json").output)
    assert hook["events"] == ["*"] and hook["active"] is False
    assert hook["secret"] == rotated[:4] + "…" and hook["headers"] == {"X-Team": "ops…"}
    hooks("test", hook_id)
    request = receiver.requests[-1]
    assert verify_signature(rotated, request["headers"]["x-augury-signature"], request["body"])
    assert hooks("update", hook_id, "--no-headers", "--json").output.count('"headers": {}') == 1

    # Delete asks first; --yes does not.
    assert "Aborted" in hooks("delete", hook_id, input="n\n", code=1).output
    assert hooks("delete", hook_id, "--yes").output == f"webhook {hook_id} 'ops' deleted\n"
    assert hooks("list").output.startswith("no webhooks")


def test_errors_are_one_line_with_exit_2(hooks, live_server, owner, receiver):
    err = hooks("create", "bad", receiver.url, "-e", "chart.exploded", code=2).output
    assert err.startswith("error: Unknown event type(s): chart.exploded.") and err.count("\n") == 1
    assert hooks("create", "none", receiver.url, code=2).output.startswith(
        "error: give at least one --event"
    )
    assert hooks("create", "h", receiver.url, "-e", "*", "-H", "nocolon", code=2).output == (
        "error: --header is 'Name: value', not 'nocolon'\n"
    )
    assert "error: Invalid webhook" in hooks("create", "u", "ftp://x", "-e", "*", code=2).output
    assert hooks("show", "999999", code=2).output.startswith("error: Webhook")
    assert hooks("update", "1", code=2).output.startswith("error: nothing to change")
    assert hooks("deliveries", "1", "--status", "lost", code=2).output.startswith(
        "error: --status is one of"
    )
    # A key without the admin scope: the server refuses, one line, exit 2.
    reader = _runner(live_server, owner.keys.create("r", scopes=["read"])["key"])
    out = reader("list", code=2).output
    assert out.startswith("error: ") and out.count("\n") == 1
