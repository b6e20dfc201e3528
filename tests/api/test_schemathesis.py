"""Property-based run of schemathesis against augury's own OpenAPI schema: no 5xx, ever.

Every operation is called with generated input, authenticated either as an
organization owner (JWT) or with an API key holding every scope, admin included (so
requests reach the business logic rather than stopping at 401/403), with rate limits
off, and every error answer must have the documented envelope.

Each operation first gets schemathesis's coverage phase (the schema's boundary values:
what found `POST /alerts/{id}/snooze {"until": 0}` answering 500), then generated
requests; path ids name, half of the time, a real object of the organization. `make
test` runs 20 generated requests per operation (and at most 200 coverage cases: about
7,700 generated and 7,800 coverage cases over 386 operations); CI's PostgreSQL pass
runs 60 (AUGURY_SCHEMATHESIS_EXAMPLES=60: about 23,000 generated and 8,300 coverage
cases), and `make test-fuzz` 200 (about 77,000 and 8,300).
"""

from __future__ import annotations

import os
import re
from itertools import islice

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.generation.drivers import CoverageGenerator  # the coverage phase
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override

from augury.config import Settings
from tests.api import test_isolation as iso
from tests.api.test_chat_isolation import build_world as build_chat_world
from tests.api.test_collectors_isolation import build_world as build_collectors_world
from tests.api.test_models_isolation import build_world as build_models_world
from tests.api.test_patterns_isolation import build_world as build_patterns_world
from tests.api.test_text_isolation import build_world
from tests.fixtures.app import make_app
from tests.fixtures.factories import make_key, signup

# More examples for a deeper search: AUGURY_SCHEMATHESIS_EXAMPLES=200 make test
MAX_EXAMPLES = int(os.environ.get("AUGURY_SCHEMATHESIS_EXAMPLES", "20"))
# Logging out ends the session the other calls use; it has its own tests.
SKIP = {("POST", "/api/v1/auth/logout")}


def _operations() -> list[tuple[str, str]]:
    # make_app: the document built here is the one every app of this process answers.
    spec = make_app(Settings(database_url="sqlite://"), run_jobs=False).openapi()
    return sorted(
        (method.upper(), path)
        for path, methods in spec["paths"].items()
        for method in methods
        if (method.upper(), path) not in SKIP
    )


@pytest.fixture
def app(settings):
    settings.ratelimit.enabled = False  # a 429 would end a case before the logic runs
    return make_app(settings, run_jobs=False)


def _post_id(path: str, body: dict):
    def make(client, owner):
        return client.post(f"/api/v1{path}", json=body, headers=owner.headers).json()["id"]

    return make


# A path id that names nothing only reaches the 404: each case names, half of the time,
# a real object of the organization, made for the operation (its bugs live behind it:
# `POST /alerts/{id}/snooze {"until": 0}` answered 500 only for an existing alert).
MAKERS = {
    "organization_id": lambda client, owner: owner.org_id,
    "member_id": iso._make_member,
    "invitation_id": iso._make_invitation,
    "key_id": iso._make_key,
    "job_id": iso._make_job,
    "anomaly_id": iso._make_anomaly,
    "exclusion_id": _post_id("/exclusions", {"expression": "secret_sales"}),
    "rule_id": _post_id("/sensitivity-rules", {"expression": "", "sensitivity": "high"}),
    "trigger_id": iso._make_trigger,
    "config_id": iso._make_alert,
    "channel_id": iso._make_channel,
    "delivery_id": iso._make_delivery,
    "action_id": iso._make_action,
    "table_id": iso._make_routing,
    "event_id": iso._make_event,
    "window_id": iso._make_window,
    "feedback_id": iso._make_feedback,
    "metric_id": iso._make_metric,
    "task_id": iso._make_forecast,
    "chart_id": iso._make_chart,
    "analysis_id": iso._make_analysis,
    "provider_id": iso._make_provider,
    "webhook_id": iso._make_webhook,
    "dashboard_id": iso._make_dashboard,
    "pattern_id": lambda client, owner: build_patterns_world(client, owner)["pattern_id"],
}


@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_server_errors(method, path, client, app, db):
    owner = signup(client)
    key = make_key(client, owner, ["read", "write", "ingest", "admin"])
    identities = [owner.headers, {"Authorization": f"Bearer {key}"}]
    names = re.findall(r"{(\w+)}", path)
    real = {name: MAKERS[name](client, owner) for name in names if name in MAKERS}
    if path.startswith(("/api/v1/text/", "/api/v1/notifications/")) and names:
        # A text route's ids name one project's objects together: one of each, made once.
        world = build_world(client, db, owner)
        real.update({name: world[name] for name in names if name in world})
    if path.startswith(("/api/v1/models/", "/api/v1/subscriptions/")) and names:
        # A model's routes name it and one of its versions: a model with a READY one.
        world = build_models_world(client, owner)
        real.update({name: world[name] for name in names if name in world})
    if path.startswith(("/api/v1/data-sources/", "/api/v1/data-streams/")) and names:
        # A stream's id names it with its source: one real source and stream, made once.
        world = build_collectors_world(client, owner)
        real.update({name: world[name] for name in names if name in world})
    if path.startswith("/api/v1/chat/") and names:
        # A chat route's ids name one use case's objects together: one of each, made once.
        world = build_chat_world(client, owner)
        real.update({name: world[name] for name in names if name in world})
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operation = schema[path][method]

    # First schemathesis's coverage phase: the schema's boundary values, one by one (it
    # is what sends {"until": 0}); then generated requests.
    for i, case in enumerate(islice(_coverage_cases(schema, operation), 10 * MAX_EXAMPLES)):
        if real and i % 2 == 0:
            case.path_parameters = {**(case.path_parameters or {}), **real}
        _check(method, path, case.call(headers=identities[i % 2]))

    @given(
        case=operation.as_strategy(),
        headers=st.sampled_from(identities),
        existing=st.booleans(),
    )
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case, headers, existing):
        if existing and real:
            case.path_parameters = {**(case.path_parameters or {}), **real}
        _check(method, path, case.call(headers=headers))

    check()


def _check(method, path, response):
    assert response.status_code < 500, (method, path, response.status_code, response.text)
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details"}, error


def _coverage_cases(schema, operation):
    """The cases of schemathesis's coverage phase for ``operation`` (valid ones)."""
    return CoverageGenerator(
        operation=operation,
        generation_modes=[GenerationMode.POSITIVE],
        generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
        auth_storage=None,
        override=Override(),
        feedback=FeedbackSources(),
    )
