"""The `augury` command on the test database, next to a real server where it matters."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from augury.cli import app
from augury.client import AuthenticationError, Client
from augury.config import Settings
from augury.jobs import service as jobs_service
from augury.mail import read_outbox
from augury.runtime.jobs import child_env
from tests.fixtures.app import free_port

PASSWORD = "correct horse battery"


@pytest.fixture
def augury(monkeypatch, db, settings):
    """Run `augury ARGS...` with the environment pointing at the test database and data folder."""
    monkeypatch.setenv("AUGURY_DATABASE_URL", db.url)
    monkeypatch.setenv("AUGURY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AUGURY_SECRET_KEY", settings.secret_key)
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return run


def _response(conn: socket.socket) -> bytes:
    """One whole HTTP response off a raw connection (its head and body may arrive in
    separate reads)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        chunk = conn.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return head + b"\r\n\r\n" + body


def create_user(augury, email: str, *extra: str) -> tuple[int, int]:
    out = augury("user", "create", email, "--password", PASSWORD, *extra).output
    user_id, org_id = re.search(r"user (\d+) \S+ in organization (\d+)", out).groups()
    return int(user_id), int(org_id)


def test_db_upgrade_and_user_create(augury):
    assert "database at head" in augury("db", "upgrade").output
    _, org_id = create_user(augury, "ada@example.com", "--name", "Ada", "--org", "Acme")
    _, same_org = create_user(augury, "bob@example.com", "--org-id", str(org_id), "--role", "admin")
    assert same_org == org_id
    assert (
        "already exists"
        in augury("user", "create", "ada@example.com", "--password", PASSWORD, code=2).output
    )
    assert (
        "error" in augury("user", "create", "eve@example.com", "--password", "short", code=2).output
    )
    augury("user", "create", "joe@example.com", "--password", PASSWORD, "--org-id", "9999", code=2)


def test_keys_create_list_revoke_against_the_server(augury, live_server):
    create_user(augury, "ops@example.com", "--org", "Ops")
    out = augury(
        "keys",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "deploy",
        "--scope",
        "read",
        "--scope",
        "write",
    ).output
    key_id = int(re.search(r"key (\d+) \(read, write\)", out).group(1))
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("aug_")

    with Client(live_server.url, api_key=secret) as machine:
        job = machine.jobs.create("demo.work", {"steps": 1, "step_seconds": 0})
        assert machine.jobs.get(job["id"])["type"] == "demo.work"
        listed = augury("keys", "list").output
        assert re.search(rf"^{key_id}\t.*read,write\tactive\tlast used 2", listed, re.M)
        assert secret not in listed

        assert f"key {key_id} revoked" in augury("keys", "revoke", str(key_id)).output
        with pytest.raises(AuthenticationError):
            machine.jobs.list()
    assert "\trevoked\t" in augury("keys", "list").output
    augury("keys", "revoke", "9999", code=2)
    augury("keys", "create", "--email", "nobody@example.com", code=2)


def test_outbox_lists_and_shows_the_reset_mail(augury, live_server):
    assert "outbox is empty" in augury("outbox").output
    create_user(augury, "forgetful@example.com")
    with Client(live_server.url) as anonymous:
        anonymous.forgot_password("forgetful@example.com")
    listing = augury("outbox", "list").output
    assert "forgetful@example.com\tReset your augury password" in listing
    assert listing == augury("outbox").output
    mail = augury("outbox", "show", "last").output
    assert "To: forgetful@example.com" in mail
    token = re.search(r"/reset-password\?token=(\S+)", mail).group(1)
    mail_id = listing.split("\t")[0]
    assert augury("outbox", "show", mail_id).output == mail
    augury("outbox", "show", "no-such-mail", code=2)

    with Client(live_server.url) as person:
        person.reset_password(token, "a new password")
        assert person.login("forgetful@example.com", "a new password")["user"]["email"]


def test_jobs_run_list_show_abort(augury, db):
    _, org_id = create_user(augury, "worker@example.com")
    out = augury(
        "jobs",
        "run",
        "demo.work",
        "--org-id",
        str(org_id),
        "--params",
        '{"steps":3,"step_seconds":0.1}',
    ).output
    figures = re.search(r"job (\d+): succeeded in [\d.]+s, cpu ([\d.]+)s, peak ([\d.]+) MB", out)
    assert figures, out
    job_id = int(figures.group(1))
    assert float(figures.group(3)) > 0

    listed = augury("jobs", "list").output
    assert re.search(rf"^{job_id}\torg {org_id}\tdemo.work\tsucceeded\t100%", listed, re.M)
    shown = json.loads(augury("jobs", "show", str(job_id)).output)
    assert shown["status"] == "succeeded" and shown["result"]["steps"] == 3

    with db.session() as session:
        pending = jobs_service.create(session=session, org_id=org_id, type="demo.work").id
    assert f"job {pending}: aborted" in augury("jobs", "abort", str(pending)).output
    assert json.loads(augury("jobs", "show", str(pending)).output)["status"] == "aborted"
    assert "already aborted" in augury("jobs", "abort", str(pending), code=2).output
    succeeded = augury("jobs", "list", "--status", "succeeded").output.splitlines()
    assert [int(line.split("\t")[0]) for line in succeeded] == [job_id]

    augury("jobs", "show", "9999", code=2)
    augury("jobs", "run", "no.such.type", "--org-id", str(org_id), code=2)
    augury("jobs", "run", "demo.work", "--org-id", str(org_id), "--params", "{not json", code=2)
    assert (
        "Organization not found"
        in augury("jobs", "run", "demo.work", "--org-id", "9999", code=2).output
    )


@pytest.mark.parametrize(
    ("host", "port", "link_base"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),
        ("::", 9000, "http://localhost:9000"),
        ("::1", 9001, "http://[::1]:9001"),
        ("augury.lan", 80, "http://augury.lan:80"),
    ],
)
def test_serve_links_use_the_serve_address_when_no_base_url_is_set(
    monkeypatch, host, port, link_base
):
    monkeypatch.delenv("AUGURY_BASE_URL", raising=False)
    settings = Settings()
    settings.resolve_base_url(host, port)
    assert settings.base_url == link_base
    # Child processes (stream processor: alert mails, webhooks) build the same links.
    assert child_env(settings, "sqlite://")["AUGURY_BASE_URL"] == link_base


def test_serve_warns_when_the_configured_base_url_is_another_address(monkeypatch):
    monkeypatch.setenv("AUGURY_BASE_URL", "https://augury.example.com/")
    settings = Settings()
    warning = settings.resolve_base_url("127.0.0.1", 9000)
    assert settings.base_url == "https://augury.example.com/"
    assert "https://augury.example.com/" in warning and "http://127.0.0.1:9000" in warning
    monkeypatch.setenv("AUGURY_BASE_URL", "http://127.0.0.1:9000/")
    settings = Settings()
    assert settings.resolve_base_url("127.0.0.1", 9000) is None
    assert settings.base_url == "http://127.0.0.1:9000/"


@pytest.mark.timeout(90)
def test_real_serve_on_another_port_links_there_and_ignores_forwarded_for(db, tmp_path):
    """`augury serve --port P` without AUGURY_BASE_URL: the invitation link points at P;
    a loopback client cannot choose its audited address with X-Forwarded-For."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "AUGURY_BASE_URL"}
    env.update(
        AUGURY_DATABASE_URL=db.url,
        AUGURY_DATA_DIR=str(tmp_path / "data"),
        AUGURY_SECRET_KEY="serve-test-secret-0123456789abcdef0123",
    )
    cmd = [sys.executable, "-m", "augury", "serve", "--port", str(port), "--api-only"]
    cmd += ["--log-level", "warning"]
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.1)
        with httpx.Client(
            base_url=base, headers={"X-Forwarded-For": "203.0.113.9"}, timeout=30
        ) as c:
            owner = c.post(
                "/api/v1/auth/signup",
                json={"email": "links@example.com", "password": PASSWORD, "organization_name": "L"},
            ).json()
            headers = {"Authorization": f"Bearer {owner['access_token']}"}
            invited = c.post(
                "/api/v1/invitations",
                headers=headers,
                json={"email": "new@example.com", "role": "member"},
            ).json()
            events = c.get("/api/v1/audit?action=user.signup", headers=headers).json()["items"]
        # An idle connection outlives clients' 5 s pools: at uvicorn's default the server
        # closed it as a client reused it ("connection reset by peer").
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            ask = b"GET /api/v1/health HTTP/1.1\r\nHost: augury\r\n\r\n"
            conn.sendall(ask)
            assert _response(conn).startswith(b"HTTP/1.1 200")
            time.sleep(6.5)
            conn.sendall(ask)
            assert _response(conn).startswith(b"HTTP/1.1 200")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert invited["invitation_link"].startswith(f"{base}/accept-invitation?token=")
    (mail,) = read_outbox(tmp_path / "data" / "outbox")
    assert invited["invitation_link"] in mail["text"]
    assert [e["ip"] for e in events] == ["127.0.0.1"]
