"""Rate limits: headers on every API answer, 429 with Retry-After, login throttling,
client addresses behind trusted proxies."""

from __future__ import annotations

import ipaddress

import pytest
from fastapi.testclient import TestClient

from augury.api.clientip import resolve_client_ip
from tests.fixtures.app import make_app
from tests.fixtures.factories import PASSWORD, signup


def test_headers_and_429_after_the_budget(settings, frozen_clock):
    # The limits count per calendar minute: the clock stays at the start of one.
    settings.ratelimit.default_per_minute = 5
    with TestClient(make_app(settings, run_jobs=False)) as c:
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


def test_budgets_are_per_credential(settings, frozen_clock):
    # The limits count per calendar minute: the clock stays at the start of one.
    settings.ratelimit.default_per_minute = 3
    with TestClient(make_app(settings, run_jobs=False)) as c:
        a, b = signup(c), signup(c)
        for _ in range(3):
            c.get("/api/v1/jobs", headers=a.headers)
        assert c.get("/api/v1/jobs", headers=a.headers).status_code == 429
        assert c.get("/api/v1/jobs", headers=b.headers).status_code == 200


def test_auth_routes_limited_per_ip(settings, frozen_clock):
    # The limits count per calendar minute: the clock stays at the start of one.
    settings.ratelimit.auth_per_minute = 3
    with TestClient(make_app(settings, run_jobs=False)) as c:
        codes = [
            c.post(
                "/api/v1/auth/login", json={"email": f"u{i}@example.com", "password": "x" * 10}
            ).status_code
            for i in range(4)
        ]
    assert codes == [401, 401, 401, 429]


def _login(c, email: str, password: str, **headers):
    return c.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
    )


def test_failed_logins_throttle_one_source_for_one_account_not_the_owner(
    client, app, owner, frozen_clock
):
    """Guessing from one address slows that address down for that account; the owner,
    logging in from elsewhere, gets in at once (no lockout an attacker can trigger)."""
    attacker = TestClient(app, client=("198.51.100.7", 4000))
    owner_pc = TestClient(app, client=("203.0.113.20", 5000))
    for _ in range(5):
        assert _login(attacker, owner.email, "wrong guess").status_code == 401
    assert _login(owner_pc, owner.email, PASSWORD).status_code == 200
    # The guessing address waits, even with the right password.
    r = _login(attacker, owner.email, PASSWORD)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    first_wait = int(r.headers["Retry-After"])
    assert 1 <= first_wait <= 30
    assert r.json()["error"]["details"]["retry_after"] == first_wait
    # Another account from the same address is not affected by this one's failures.
    other = signup(client)
    assert _login(attacker, other.email, other.password).status_code == 200

    # After the wait, one more failure doubles the next wait.
    frozen_clock.advance(31)
    assert _login(attacker, owner.email, "wrong again").status_code == 401
    r = _login(attacker, owner.email, PASSWORD)
    assert r.status_code == 429
    assert 30 < int(r.headers["Retry-After"]) <= 60
    # Once it has passed, the right password works and clears the count.
    frozen_clock.advance(61)
    assert _login(attacker, owner.email, PASSWORD).status_code == 200
    assert _login(attacker, owner.email, "one typo").status_code == 401
    assert _login(attacker, owner.email, PASSWORD).status_code == 200

    events = client.get("/api/v1/audit?action=auth.login", headers=owner.headers).json()["items"]
    attempts = [(e["ip"], e["outcome"]) for e in events if e["actor_email"] == owner.email]
    assert attempts.count(("198.51.100.7", "failure")) == 7
    assert attempts.count(("198.51.100.7", "throttled")) == 2
    assert ("203.0.113.20", "success") in attempts


def test_forwarded_for_counts_only_from_a_trusted_proxy(settings):
    settings.trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]
    app = make_app(settings, run_jobs=False)
    with TestClient(app, client=("127.0.0.1", 6000)) as via_proxy:
        owner = signup(via_proxy)
        chain = "192.0.2.1, 203.0.113.7, 10.1.2.3"  # client-supplied, the client, a proxy
        a = _login(via_proxy, owner.email, "wrong guess", **{"X-Forwarded-For": chain})
        b = _login(via_proxy, owner.email, "wrong guess", **{"X-Forwarded-For": "198.51.100.9"})
        direct = TestClient(app, client=("192.0.2.50", 7000))
        spoofed = _login(direct, owner.email, "wrong guess", **{"X-Forwarded-For": "192.0.2.99"})
        events = via_proxy.get("/api/v1/audit?action=auth.login", headers=owner.headers).json()
    assert a.status_code == b.status_code == spoofed.status_code == 401
    # Each client address has its own auth budget (not the proxy's shared one).
    limit = settings.ratelimit.auth_per_minute
    assert int(a.headers["X-RateLimit-Remaining"]) == limit - 1
    assert int(b.headers["X-RateLimit-Remaining"]) == limit - 1
    failed = [e["ip"] for e in events["items"] if e["outcome"] == "failure"]
    # Newest first; a peer that is not a trusted proxy cannot choose its address.
    assert failed == ["192.0.2.50", "198.51.100.9", "203.0.113.7"]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.0.0.2", ["203.0.113.7"], "203.0.113.7"),
        ("10.0.0.2", ["192.0.2.1, 203.0.113.7, 10.9.9.9"], "203.0.113.7"),
        ("10.0.0.2", ["192.0.2.1", "203.0.113.7"], "203.0.113.7"),  # two header lines
        ("10.0.0.2", ["10.0.0.3, 10.0.0.4"], "10.0.0.3"),  # all proxies: the farthest
        ("10.0.0.2", ["not-an-ip, 10.0.0.4"], "10.0.0.4"),  # garbage is never an address
        ("10.0.0.2", ["2001:db8::1"], "2001:db8::1"),
        ("10.0.0.2", [], "10.0.0.2"),
        ("192.0.2.50", ["203.0.113.7"], "192.0.2.50"),  # peer is not a proxy
    ],
)
def test_right_most_untrusted_forwarded_address(peer, forwarded, expected):
    trusted = [ipaddress.ip_network("10.0.0.0/8")]
    assert resolve_client_ip(peer, forwarded, trusted) == expected


def test_metrics_scrape_from_behind_a_local_proxy_is_not_a_loopback_client(settings):
    """A reverse proxy on the same host forwards an outside request: /metrics sees the
    forwarded address, not the proxy's loopback one."""
    settings.trusted_proxies = ["127.0.0.1"]
    app = make_app(settings, run_jobs=False)
    local = TestClient(app, client=("127.0.0.1", 6000))
    assert local.get("/metrics").status_code == 200
    outside = local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert outside.status_code == 403
