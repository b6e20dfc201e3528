"""No credential reaches a log line: not the access log of `augury serve`, not augury's own."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time

import httpx
from uvicorn.logging import AccessFormatter

from augury.runtime.logs import RedactingFilter, redact
from tests.fixtures.app import free_port
from tests.fixtures.factories import make_key, signup

KEY = "aug_0a1b2c3d_" + "S3cr3tPart" * 4
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_redact_removes_every_kind_of_credential():
    cases = {
        f"GET /api/v1/metrics?token={KEY}&protocol=anodot20": (
            "GET /api/v1/metrics?token=aug_0a1b2c3d_[redacted]&protocol=anodot20"
        ),
        "GET /x?api_key=abc123&password=hunter2&q=cpu": (
            "GET /x?api_key=[redacted]&password=[redacted]&q=cpu"
        ),
        "headers {'Authorization': 'Bearer abc.def.ghi'}": (
            "headers {'Authorization': 'Bearer [redacted]'}"
        ),
        "authorization: Basic dXNlcjpwYXNz": "authorization: Basic [redacted]",
        "X-Auth-Token: aug_ffff0000_zzz": "X-Auth-Token: aug_ffff0000_[redacted]",
        f"login with {JWT} failed": "login with [redacted] failed",
        "posting to https://bob:hunter2@hooks.example.com/in": (
            "posting to https://bob:[redacted]@hooks.example.com/in"
        ),
        "nothing secret here: cpu=93 token_count=4": "nothing secret here: cpu=93 token_count=4",
    }
    for text, expected in cases.items():
        assert redact(text) == expected


def test_filter_redacts_messages_arguments_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("augury.test-logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("key %s in an argument, %d times", KEY, 2)
        logger.warning(f"key {KEY} in the message")
        try:
            raise ValueError(f"bad ?token={KEY}")
        except ValueError:
            logger.exception("request failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "S3cr3tPart" not in text
    assert "key aug_0a1b2c3d_[redacted] in an argument, 2 times" in text
    assert "ValueError: bad ?token=aug_0a1b2c3d_[redacted]" in text


def test_uvicorn_access_records_keep_their_shape():
    """uvicorn's access formatter unpacks five arguments (the status an int)."""
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", f"/api/v1/metrics?token={KEY}", "1.1", 200),
        None,
    )
    assert RedactingFilter().filter(record)
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(record)
    assert (
        line == "127.0.0.1:5000 POST /api/v1/metrics?token=aug_0a1b2c3d_[redacted] HTTP/1.1 200 OK"
    )


def test_serve_logs_no_credential(db, tmp_path):
    """A real `augury serve`: keys in ?token=, headers and failed logins stay out of its
    output, the access log included, while the requests themselves are logged."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    env = {
        **os.environ,
        "AUGURY_DATABASE_URL": db.url,
        "AUGURY_DATA_DIR": str(tmp_path / "data"),
        "AUGURY_SECRET_KEY": "logs-test-secret-0123456789abcdef012345",
        "AUGURY_METRICS__PROCESSOR": "thread",
    }
    cmd = [sys.executable, "-m", "augury", "serve", "--port", str(port), "--api-only"]
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not start: " + log_path.read_text())
        with httpx.Client(base_url=base, timeout=60) as c:
            owner = signup(c)
            key = make_key(c, owner, ["ingest", "read"])
            point = [{"properties": {"what": "cpu"}, "timestamp": 1_700_000_000, "value": 1.0}]
            r = c.post(f"/api/v1/metrics?token={key}", json=point)
            assert r.status_code == 200, r.text
            assert c.get(f"/api/v1/jobs?token={key}").status_code == 401
            assert c.get("/api/v1/jobs", headers={"X-Auth-Token": key}).status_code == 200
            c.get(f"/api/v1/health?api_key={key}&password=hunter2&token={owner.access_token}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    text = log_path.read_text()
    secret = key.split("_", 2)[2]
    assert f'"POST /api/v1/metrics?token=aug_{key.split("_")[1]}_[redacted] HTTP/1.1" 200' in text
    assert "GET /api/v1/health?api_key=" in text  # the access log was captured
    for leaked in (secret, "hunter2", owner.access_token, owner.password):
        assert leaked not in text
