"""Rate limits: headers on every API answer, 429 with Retry-After, login throttling."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from augury.app import create_app
from tests.fixtures.factories import PASSWORD, signup


def fresh_window(margin_s: float = 20.0) -> None:
    """Wait, if needed, so that the next requests fall in one one-minute window (the
    limits count per calendar minute; a test straddling a minute would see two)."""
    left = 60.0 - time.time() % 60.0
    if left < margin_s:
        time.sleep(left + 0.05)


def test_headers_and_429_after_the_budget(settings):
    settings.ratelimit.default_per_minute = 5
    fresh_window()
    with TestClient(create_app(settings, run_jobs=False)) as c:
        owner = signup(c)
        answers = [c.get("/api/v1/jobs", headers=owner.headers) for _ in range(6)]
    assert [a.status_code for a in answers[:5]] == [200] * 5
    first = answers[0].headers
    assert first["X-RateLimit-Limit"] == "5"
    assert [int(a.headers["X-RateLimit-Remaining"]) for a in answers[:5]] == [4, 3, 2, 1, 0]
    assert int(first["X-RateLimit-Reset"]) > 0
    blocked = answers[5]
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60


def test_budgets_are_per_credential(settings):
    settings.ratelimit.default_per_minute = 3
    fresh_window()
    with TestClient(create_app(settings, run_jobs=False)) as c:
        a, b = signup(c), signup(c)
        for _ in range(3):
            c.get("/api/v1/jobs", headers=a.headers)
        assert c.get("/api/v1/jobs", headers=a.headers).status_code == 429
        assert c.get("/api/v1/jobs", headers=b.headers).status_code == 200


def test_auth_routes_limited_per_ip(settings):
    settings.ratelimit.auth_per_minute = 3
    fresh_window()
    with TestClient(create_app(settings, run_jobs=False)) as c:
        codes = [
            c.post(
                "/api/v1/auth/login", json={"email": f"u{i}@example.com", "password": "x" * 10}
            ).status_code
            for i in range(4)
        ]
    assert codes == [401, 401, 401, 429]


def test_failed_logins_throttle_the_account_and_are_audited(client, owner):
    for _ in range(5):
        r = client.post(
            "/api/v1/auth/login", json={"email": owner.email, "password": "wrong guess"}
        )
        assert r.status_code == 401
    # Even the right password is refused while the account is throttled.
    r = client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(r.headers["Retry-After"]) > 60
    events = client.get("/api/v1/audit?action=auth.login", headers=owner.headers).json()["items"]
    outcomes = [e["outcome"] for e in events]
    assert outcomes.count("failure") == 5
    assert outcomes.count("throttled") == 1
