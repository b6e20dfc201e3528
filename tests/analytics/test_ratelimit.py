"""Aicser's rate-limit categories: analytics, AI analysis and data management each have
their own budget per key, apart from the default one."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from augury.api.ratelimit import route_group
from tests.fixtures.app import make_app
from tests.fixtures.factories import signup


@pytest.mark.parametrize(
    ("method", "path", "group"),
    [
        ("POST", "/api/v1/analytics/chart", "analytics"),
        ("GET", "/api/v1/analytics/charts", "analytics"),
        ("POST", "/api/v1/ai/intelligent-analysis", "ai"),
        ("GET", "/api/v1/ai/models", "ai"),
        ("POST", "/api/v1/data/upload", "data"),
        ("GET", "/api/v1/data/sources", "data"),
        ("GET", "/api/v1/datasets", "default"),
        ("GET", "/api/v1/analyticsx", "default"),
    ],
)
def test_route_groups(method, path, group):
    assert route_group(path, method) == group


def test_analytics_and_ai_are_limited_apart_from_the_default_budget(settings, frozen_clock):
    # The limits count per calendar minute: the clock stays at the start of one.
    settings.ratelimit.analytics_per_minute = 3
    settings.ratelimit.ai_per_minute = 2
    with TestClient(make_app(settings, run_jobs=False)) as c:
        owner = signup(c)
        charts = [c.get("/api/v1/analytics/charts", headers=owner.headers) for _ in range(4)]
        models = [c.get("/api/v1/ai/models", headers=owner.headers) for _ in range(3)]
        other = c.get("/api/v1/jobs", headers=owner.headers)
        someone_else = c.get("/api/v1/analytics/charts", headers=signup(c).headers)

    assert [r.status_code for r in charts] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Limit"] for r in charts] == ["3"] * 4
    assert [int(r.headers["X-RateLimit-Remaining"]) for r in charts] == [2, 1, 0, 0]
    error = charts[3].json()["error"]
    assert error["code"] == "RATE_LIMIT_EXCEEDED" and error["details"]["group"] == "analytics"
    assert 1 <= int(charts[3].headers["Retry-After"]) <= 60

    assert [r.status_code for r in models] == [200, 200, 429]
    assert models[0].headers["X-RateLimit-Limit"] == "2"

    # The default group keeps its own budget, and another key its own.
    assert other.status_code == 200
    assert other.headers["X-RateLimit-Limit"] == str(settings.ratelimit.default_per_minute)
    assert someone_else.status_code == 200


def test_the_seed_budgets_are_the_defaults():
    from augury.config import RateLimitSettings

    limits = RateLimitSettings()
    assert (limits.analytics_per_minute, limits.ai_per_minute, limits.data_per_minute) == (
        100,
        50,
        20,
    )
