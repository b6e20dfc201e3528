"""Property-based run of schemathesis against augury's own OpenAPI schema: no 5xx, ever.

Every operation is called with generated input, authenticated either as an
organization owner (JWT) or with an API key holding every scope, admin included (so
requests reach the business logic rather than stopping at 401/403), with rate limits
off, and every error answer must have the documented envelope.

`make test` runs 20 examples per operation; `.ci/run` also runs `make test-fuzz`
(AUGURY_SCHEMATHESIS_EXAMPLES=200, about 25,000 cases), the depth at which a 5-minute
schemathesis run found `POST /alerts/{id}/snooze {"until": 0}` answering 500.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augury.app import create_app
from augury.config import Settings
from tests.fixtures.factories import make_key, signup

# More examples for a deeper search: AUGURY_SCHEMATHESIS_EXAMPLES=200 make test
MAX_EXAMPLES = int(os.environ.get("AUGURY_SCHEMATHESIS_EXAMPLES", "20"))
# Logging out ends the session the other calls use; it has its own tests.
SKIP = {("POST", "/api/v1/auth/logout")}


def _operations() -> list[tuple[str, str]]:
    spec = create_app(Settings(database_url="sqlite://"), run_jobs=False).openapi()
    return sorted(
        (method.upper(), path)
        for path, methods in spec["paths"].items()
        for method in methods
        if (method.upper(), path) not in SKIP
    )


@pytest.fixture
def app(settings):
    settings.ratelimit.enabled = False  # a 429 would end a case before the logic runs
    return create_app(settings, run_jobs=False)


@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_server_errors(method, path, client, app):
    owner = signup(client)
    key = make_key(client, owner, ["read", "write", "ingest", "admin"])
    identities = [owner.headers, {"Authorization": f"Bearer {key}"}]
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operation = schema[path][method]

    @given(case=operation.as_strategy(), headers=st.sampled_from(identities))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case, headers):
        response = case.call(headers=headers)
        assert response.status_code < 500, (method, path, response.status_code, response.text)
        if response.status_code >= 400:
            error = response.json()["error"]
            assert set(error) == {"code", "message", "details"}, error

    check()
