"""LLM providers over HTTP, against a local OpenAI-compatible server the test starts
(tests/fixtures/llm_server.py): the model proposes the plan, augury checks and runs it.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import text

from augury.analytics import providers
from augury.config import Settings
from tests.datasets.test_api import upload
from tests.fixtures.factories import invite_and_join, make_key
from tests.fixtures.llm_server import FakeLLM

SALES = (
    "date,region,product,units,price\n"
    "2024-01-05,North,A,3,9.50\n"
    "2024-01-20,South,B,5,12.00\n"
    "2024-02-03,North,B,2,12.00\n"
    "2024-02-14,East,A,7,9.50\n"
    "2024-03-01,South,A,1,9.50\n"
    "2024-03-09,North,C,4,20.25\n"
)
KEY = "sk-test-0123456789-secret-abcd"
BY_REGION = {
    "measures": [{"fn": "sum", "column": "units"}],
    "group_by": ["region"],
    "order": [["sum_units", "desc"]],
}


@pytest.fixture
def llm():
    with FakeLLM() as fake:
        yield fake


@pytest.fixture
def sales(client, owner):
    r = upload(client, owner, SALES)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def add_provider(client, account, llm, **body):
    body = {"name": "local", "base_url": llm.url, "model": "tiny-1", "api_key": KEY, **body}
    r = client.post("/api/v1/ai/providers", json=body, headers=account.headers)
    assert r.status_code == 201, r.text
    return r.json()


def ask(client, account, question, engine, **body):
    body = {"query": question, "data_source": "sales", "engine": engine, **body}
    return client.post("/api/v1/analytics/chart", json=body, headers=account.headers)


def test_the_model_proposes_the_plan_and_augury_runs_it(client, owner, sales, llm):
    provider = add_provider(client, owner, llm)
    fenced = "Sure:\n```json\n" + json.dumps(BY_REGION) + "\n```"
    llm.answer("which region sold the most units?", text=fenced)

    r = ask(client, owner, "which region sold the most units?", provider["id"])

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows"] == [["North", 9], ["East", 7], ["South", 6]]
    assert body["columns"] == ["region", "sum_units"]
    assert body["engine"] == "provider:local"
    assert body["plan"]["group_by"] == ["region"] and body["words"].startswith("total of units")
    assert body["confidence"] == 0.9
    assert body["notes"][0] == "the plan was proposed by local (tiny-1)"
    assert body["chart_type"] == "bar"
    (request,) = llm.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "tiny-1"
    assert request.body["temperature"] == 0
    assert request.body["response_format"] == {"type": "json_object"}
    assert request.question == "which region sold the most units?"
    for column in ('"date" (date)', '"region" (string)', '"units" (integer)', '"price" (float)'):
        assert column in request.system
    assert '"region" (string) values: ["North", "South", "East"]' in request.system


def test_the_key_is_encrypted_at_rest_and_never_returned(client, owner, sales, llm, db):
    created = add_provider(client, owner, llm)
    assert created["has_key"] is True and created["key_hint"] == "abcd"
    assert created["provider"] == "openai-compatible"
    pid = created["id"]
    llm.answer("total units by region", BY_REGION)
    responses = [
        client.get("/api/v1/ai/providers", headers=owner.headers),
        client.get(f"/api/v1/ai/providers/{pid}", headers=owner.headers),
        client.put(f"/api/v1/ai/providers/{pid}", json={"model": "tiny-2"}, headers=owner.headers),
        client.post(f"/api/v1/ai/providers/{pid}/test", headers=owner.headers),
        ask(client, owner, "total units by region", pid),
        client.get("/api/v1/ai/models", headers=owner.headers),
        client.get("/api/v1/audit", headers=owner.headers),
    ]
    for r in responses:
        assert r.status_code == 200, r.text
        assert KEY not in r.text and "0123456789-secret" not in r.text
    assert llm.requests[-1].headers["authorization"] == f"Bearer {KEY}"  # stored, and used
    with db.engine.connect() as conn:
        (stored,) = conn.execute(text("SELECT api_key_encrypted FROM ai_provider")).one()
        dump = "\n".join(str(row) for row in conn.execute(text("SELECT * FROM ai_provider")))
    assert KEY not in dump and stored and KEY not in stored
    events = client.get("/api/v1/audit?action=ai.provider.*", headers=owner.headers).json()
    actions = [e["action"] for e in events["items"]]
    assert actions == ["ai.provider.update", "ai.provider.create"]
    assert events["items"][1]["details"]["after"]["api_key"] == "(set)"


def test_an_injection_in_a_filter_value_is_bound_not_run(client, owner, sales, llm):
    provider = add_provider(client, owner, llm)
    hostile = "North'; DROP TABLE x; --"
    plan = {"select": ["region", "units"], "filters": [{"column": "region", "value": hostile}]}
    plan["filters"][0]["op"] = "eq"
    llm.answer("units of the north; DROP TABLE x", plan)

    r = ask(client, owner, "units of the north; DROP TABLE x", provider["id"])

    assert r.status_code == 200, r.text
    assert r.json()["rows"] == []
    assert r.json()["plan"]["filters"][0]["value"] == hostile
    assert r.json()["confidence"] < 0.9  # a value the column does not hold
    again = ask(client, owner, "total units by region", "offline")
    assert again.status_code == 200 and len(again.json()["rows"]) == 3


def test_a_plan_naming_unknown_columns_is_refused_with_candidates(client, owner, sales, llm):
    provider = add_provider(client, owner, llm)
    llm.answer("total revenue by region", {"measures": [{"fn": "sum", "column": "unit"}]})

    r = ask(client, owner, "total revenue by region", provider["id"])

    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "QUESTION_NOT_UNDERSTOOD"
    assert error["details"]["reason"] == "no_column" and "units" in error["details"]["candidates"]


def test_a_reply_that_is_no_plan_is_502_or_falls_back_to_the_parser(client, owner, sales, llm):
    provider = add_provider(client, owner, llm, is_default=True)
    llm.answer("total units by region", text="The North sold the most. DROP TABLE x;")

    explicit = ask(client, owner, "total units by region", provider["id"])
    assert explicit.status_code == 502, explicit.text
    error = explicit.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "PROVIDER_ERROR"
    assert error["details"] == {"provider": "local", "reason": "not_a_plan"}

    auto = ask(client, owner, "total units by region", "auto")
    assert auto.status_code == 200, auto.text
    body = auto.json()
    assert body["engine"] == "offline"
    assert sorted(body["rows"]) == [["East", 7], ["North", 9], ["South", 6]]
    assert body["notes"][0].startswith("local failed (The model's answer was not a plan")
    assert body["notes"][0].endswith("answered by augury's parser")


def test_the_timeout_holds(client, owner, sales, llm):
    provider = add_provider(client, owner, llm, timeout_s=0.3, is_default=True)
    llm.answer("total units by region", hang=True)

    started = time.monotonic()
    explicit = ask(client, owner, "total units by region", provider["id"])
    auto = ask(client, owner, "total units by region", "auto")

    assert time.monotonic() - started < 5
    assert explicit.status_code == 502, explicit.text
    assert explicit.json()["error"]["details"]["reason"] == "timeout"
    assert auto.status_code == 200 and auto.json()["engine"] == "offline"
    assert "no answer within 0.3 s" in auto.json()["notes"][0]


def test_http_errors_redirects_and_closed_ports_are_provider_errors(client, owner, sales, llm):
    provider = add_provider(client, owner, llm)
    llm.answer("total units by region", text=f"overloaded, key {KEY}", status=503)
    llm.answer("mean price", status=307, location="http://169.254.169.254/latest")
    closed = add_provider(client, owner, llm, name="closed", base_url="http://127.0.0.1:9/v1")

    failed = ask(client, owner, "total units by region", provider["id"])
    moved = ask(client, owner, "mean price", provider["id"])
    unreachable = ask(client, owner, "mean price", closed["id"])

    assert failed.status_code == 502 and failed.json()["error"]["details"]["reason"] == "http_error"
    assert "HTTP 503" in failed.text and KEY not in failed.text
    assert moved.status_code == 502 and "HTTP 307" in moved.json()["error"]["message"]
    assert len(llm.requests) == 2  # the redirect was not followed
    assert unreachable.status_code == 502
    assert unreachable.json()["error"]["details"]["reason"] == "unreachable"


def test_a_private_address_needs_the_operators_allowance(client, owner, settings):
    settings.analytics.allowed_private_networks = []
    body = {"name": "lan", "base_url": "http://127.0.0.1:11434/v1", "model": "m"}
    r = client.post("/api/v1/ai/providers", json=body, headers=owner.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["reason"] == "DESTINATION_REFUSED"
    for url in ("ftp://llm.example/v1", "https://user:pw@llm.example/v1", "https://x/v1?k=1"):
        r = client.post(
            "/api/v1/ai/providers", json={**body, "base_url": url}, headers=owner.headers
        )
        assert r.status_code == 422, (url, r.text)
        assert r.json()["error"]["details"]["reason"] == "INVALID_URL"


def test_a_name_resolving_to_a_private_address_is_refused_when_called(
    client, owner, sales, llm, settings
):
    provider = add_provider(client, owner, llm, base_url=llm.url.replace("127.0.0.1", "localhost"))
    settings.analytics.allowed_private_networks = []
    r = ask(client, owner, "total units by region", provider["id"])
    assert r.status_code == 502 and r.json()["error"]["details"]["reason"] == "refused"
    assert llm.requests == []


def test_an_edited_plan_runs_without_asking_the_model(client, owner, sales, llm):
    provider = add_provider(client, owner, llm)
    r = ask(client, owner, "total units by region", provider["id"], plan=BY_REGION)
    assert r.status_code == 200 and r.json()["engine"] == "offline"
    assert llm.requests == []


def test_auto_without_a_default_provider_reads_offline(client, owner, sales, llm):
    add_provider(client, owner, llm)  # not the default
    r = ask(client, owner, "total units by region", "auto")
    assert r.status_code == 200 and r.json()["engine"] == "offline"
    assert llm.requests == []


def test_the_test_route_asks_a_fixed_question_of_a_built_in_table(client, owner, llm):
    provider = add_provider(client, owner, llm)
    llm.answer("total units by region", BY_REGION)
    r = client.post(f"/api/v1/ai/providers/{provider['id']}/test", headers=owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["error"] is None and body["latency_ms"] >= 0
    assert body["question"] == "total units by region"
    assert body["words"] == "total of units by region, highest sum_units first"
    assert '"region" (category)' in llm.requests[0].system

    llm.answer("total units by region", {"measures": [{"fn": "sum", "column": "revenue"}]})
    body = client.post(f"/api/v1/ai/providers/{provider['id']}/test", headers=owner.headers).json()
    assert body["ok"] is False and "revenue" in body["error"] and body["plan"] is None


def test_models_lists_each_provider_with_its_median_response_time(client, owner, sales, llm):
    provider = add_provider(client, owner, llm, is_default=True)
    llm.answer("total units by region", BY_REGION)
    assert ask(client, owner, "total units by region", "auto").status_code == 200
    assert ask(client, owner, "total units by region", "auto").status_code == 200

    models = client.get("/api/v1/ai/models", headers=owner.headers).json()["available_models"]

    assert [m["model_id"] for m in models] == ["augury-offline", "tiny-1"]
    model = models[1]
    assert model["provider"] == "openai-compatible" and model["offline"] is False
    assert model["capabilities"] == ["query_understanding"]
    assert model["provider_id"] == provider["id"] and model["is_default"] is True
    assert model["status"] == "active"
    metrics = model["performance_metrics"]
    assert metrics["calls"] == 2 and 0 < metrics["response_time"] < 5
    assert metrics["accuracy"] is None or 0 <= metrics["accuracy"] <= 1

    llm.answer("total units by region", status=500)
    client.post(f"/api/v1/ai/providers/{provider['id']}/test", headers=owner.headers)
    models = client.get("/api/v1/ai/models", headers=owner.headers).json()["available_models"]
    assert models[1]["status"] == "error" and models[1]["performance_metrics"]["calls"] == 3


def test_update_default_key_removal_conflicts_and_delete(client, owner, llm):
    first = add_provider(client, owner, llm, is_default=True)
    second = add_provider(client, owner, llm, name="second", is_default=True)
    listed = client.get("/api/v1/ai/providers", headers=owner.headers).json()
    assert listed["total"] == 2
    assert {p["name"]: p["is_default"] for p in listed["items"]} == {
        "local": False,
        "second": True,
    }
    same = client.post(
        "/api/v1/ai/providers",
        json={"name": "local", "base_url": llm.url, "model": "m"},
        headers=owner.headers,
    )
    assert same.status_code == 409
    path = f"/api/v1/ai/providers/{first['id']}"
    kept = client.put(path, json={"timeout_s": 5}, headers=owner.headers).json()
    assert kept["has_key"] is True and kept["timeout_s"] == 5
    removed = client.put(path, json={"api_key": None}, headers=owner.headers).json()
    assert removed["has_key"] is False and removed["key_hint"] is None
    short = client.put(path, json={"api_key": "short"}, headers=owner.headers).json()
    assert short["has_key"] is True and short["key_hint"] is None
    for bad in ("ключ-0123456789", "two words", "line\nbreak"):
        r = client.put(path, json={"api_key": bad}, headers=owner.headers)
        assert r.status_code == 422, r.text
    renamed = client.put(path, json={"name": "second"}, headers=owner.headers)
    assert renamed.status_code == 409
    assert client.delete(path, headers=owner.headers).status_code == 204
    assert client.get(path, headers=owner.headers).status_code == 404
    assert client.get(f"/api/v1/ai/providers/{second['id']}", headers=owner.headers).json()[
        "is_default"
    ]
    actions = [
        e["action"]
        for e in client.get("/api/v1/audit?action=ai.provider.*", headers=owner.headers).json()[
            "items"
        ]
    ]
    assert actions.count("ai.provider.delete") == 1 and actions.count("ai.provider.update") == 3


def test_viewers_and_members_read_but_cannot_configure(client, owner, sales, llm):
    provider = add_provider(client, owner, llm)
    path = f"/api/v1/ai/providers/{provider['id']}"
    for role in ("viewer", "member"):
        person = invite_and_join(client, owner, role)
        h = person.headers
        body = {"name": role, "base_url": llm.url, "model": "m"}
        assert client.post("/api/v1/ai/providers", json=body, headers=h).status_code == 403
        assert client.put(path, json={"model": "x"}, headers=h).status_code == 403
        assert client.delete(path, headers=h).status_code == 403
        assert client.post(f"{path}/test", headers=h).status_code == 403
        assert client.get("/api/v1/ai/providers", headers=h).json()["total"] == 1
        assert client.get(path, headers=h).status_code == 200
    reader = {"X-Auth-Token": make_key(client, owner, ["read"])}
    llm.answer("total units by region", BY_REGION)
    r = client.post(
        "/api/v1/analytics/chart",
        json={"query": "total units by region", "data_source": "sales", "engine": provider["id"]},
        headers=reader,
    )
    assert r.status_code == 200 and r.json()["engine"] == "provider:local"


def test_another_organization_can_neither_see_nor_use_a_provider(
    client, owner, other_org_owner, sales, llm
):
    provider = add_provider(client, owner, llm, is_default=True)
    r = upload(client, other_org_owner, SALES)
    assert r.status_code == 201
    llm.answer("total units by region", BY_REGION)
    theirs = ask(client, other_org_owner, "total units by region", provider["id"])
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    auto = ask(client, other_org_owner, "total units by region", "auto")
    assert auto.status_code == 200 and auto.json()["engine"] == "offline"
    models = client.get("/api/v1/ai/models", headers=other_org_owner.headers).json()
    assert [m["model_id"] for m in models["available_models"]] == ["augury-offline"]
    assert llm.requests == []


def test_a_key_sealed_under_another_secret_fails_cleanly(client, owner, sales, llm, db, tmp_path):
    provider = add_provider(client, owner, llm)
    other = Settings(secret_key="another-secret-0123456789abcdef-01234", data_dir=tmp_path)
    sealed = providers.encrypt_key(other, KEY)  # as if the server's secret had changed since
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE ai_provider SET api_key_encrypted = :t"), {"t": sealed})
    r = ask(client, owner, "total units by region", provider["id"])
    assert r.status_code == 502, r.text
    assert r.json()["error"]["details"]["reason"] == "key_unreadable"
    assert llm.requests == []


def test_keys_are_sealed_with_the_servers_secret(settings):
    token = providers.encrypt_key(settings, KEY)
    assert KEY not in token and providers.decrypt_key(settings, token) == KEY
    assert providers.encrypt_key(settings, KEY) != token  # a fresh IV each time


def test_a_plan_the_tables_engine_refuses_is_422_or_falls_back(client, owner, sales, llm):
    provider = add_provider(client, owner, llm, is_default=True)
    llm.answer("total units by region", {"measures": [{"fn": "sum", "column": "region"}]})

    explicit = ask(client, owner, "total units by region", provider["id"])
    auto = ask(client, owner, "total units by region", "auto")

    assert explicit.status_code == 422, explicit.text
    assert explicit.json()["error"]["details"]["reason"] == "INVALID_AGGREGATE"
    assert auto.status_code == 200 and auto.json()["engine"] == "offline"
    assert auto.json()["notes"][0].startswith("local's plan was not usable ('sum' needs a numeric")
