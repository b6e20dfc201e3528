"""Per-client rate limits by route group, with X-RateLimit-* headers and 429 + Retry-After.

A fixed one-minute window per (group, client). The client is the credential that was
presented (hashed; so each API key or login has its own budget) or else the IP (behind
a trusted proxy, the forwarded one: ``clientip``). Auth routes are always keyed by IP,
which slows password guessing across accounts; the accounts service separately throttles
failed logins per account and source (see ``login``).

Counters live in process memory: with several API processes each enforces its own
share. A shared backend (Redis) can implement ``RateLimiter.hit`` the same way.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable

from augury import clock
from augury.api.clientip import client_ip
from augury.config import RateLimitSettings

WINDOW_S = 60
# Ingestion routes (POST only) get the larger ingest budget.
INGEST_PATHS: frozenset[str] = frozenset(
    {
        "/api/v1/metrics",
        "/api/v1/metrics/watermark",
        "/api/v2/write",
        "/api/v1/prom/write",
        "/api/v1/metrics/import",
    }
)


# Aicser's route categories, each with its own budget (Analytics 100, AI Analysis 50,
# Data Management 20 a minute by default).
PREFIX_GROUPS: tuple[tuple[str, str], ...] = (
    ("/api/v1/analytics/", "analytics"),
    ("/api/v1/ai/", "ai"),
    ("/api/v1/data/", "data"),
)


def route_group(path: str, method: str = "GET") -> str | None:
    if not path.startswith("/api/"):
        return None
    if path.startswith("/api/v1/auth/") or path == "/api/v1/invitations/accept":
        return "auth"
    if method == "POST" and path.rstrip("/") in INGEST_PATHS:
        return "ingest"
    for prefix, group in PREFIX_GROUPS:
        if path.startswith(prefix):
            return group
    if path in ("/api/v1/health", "/api/v1/openapi.json"):
        return None
    return "default"


def _epoch() -> float:
    return clock.now().timestamp()


class RateLimiter:
    def __init__(self, settings: RateLimitSettings, clock: Callable[[], float] | None = None):
        self.settings = settings
        self.clock = clock or _epoch
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}

    def limit_for(self, group: str) -> int:
        s = self.settings
        return {
            "auth": s.auth_per_minute,
            "ingest": s.ingest_per_minute,
            "analytics": s.analytics_per_minute,
            "ai": s.ai_per_minute,
            "data": s.data_per_minute,
        }.get(group, s.default_per_minute)

    def hit(self, group: str, client: str) -> tuple[bool, int, int, int]:
        """Count one request; returns (allowed, limit, remaining, reset_epoch)."""
        now = self.clock()
        window = int(now // WINDOW_S)
        reset = (window + 1) * WINDOW_S
        limit = self.limit_for(group)
        key = (group, client)
        seen_window, count = self._counts.get(key, (window, 0))
        if seen_window != window:
            count = 0
        count += 1
        self._counts[key] = (window, count)
        if len(self._counts) > 100_000:
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
        return count <= limit, limit, max(0, limit - count), reset


def _client_key(scope, group: str) -> str:
    ip = client_ip(scope) or "unknown"
    if group == "auth":
        return f"ip:{ip}"
    headers = dict(scope.get("headers") or [])
    cred = headers.get(b"authorization") or headers.get(b"x-auth-token")
    if not cred and group == "ingest":
        for part in (scope.get("query_string") or b"").split(b"&"):
            if part.startswith(b"token="):
                cred = part[6:]
    if cred:
        return "cred:" + hashlib.sha256(cred).hexdigest()[:32]
    return f"ip:{ip}"


class RateLimitMiddleware:
    def __init__(self, app, limiter: RateLimiter):
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.limiter.settings.enabled:
            await self.app(scope, receive, send)
            return
        group = route_group(scope["path"], scope.get("method", "GET"))
        if group is None:
            await self.app(scope, receive, send)
            return
        allowed, limit, remaining, reset = self.limiter.hit(group, _client_key(scope, group))
        headers = [
            (b"x-ratelimit-limit", str(limit).encode()),
            (b"x-ratelimit-remaining", str(remaining).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]
        if not allowed:
            retry = max(1, math.ceil(reset - self.limiter.clock()))
            body = json.dumps(
                {
                    "error": {
                        "code": "RATE_LIMIT_EXCEEDED",
                        "message": f"Rate limit exceeded. Try again in {retry} seconds.",
                        "details": {"retry_after": retry, "group": group},
                    }
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": headers
                    + [
                        (b"retry-after", str(retry).encode()),
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", [])) + headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
