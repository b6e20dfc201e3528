"""Usage metrics through the API: the figures follow what people really did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import augury.app
from augury.usage.models import ApiUsage
from augury.usage.recorder import UsageRecorder
from tests.fixtures.app import make_app
from tests.fixtures.factories import invite_and_join, make_key, signup


def _flush(client) -> None:
    client.app.state.usage.flush(client.app.state.db)


def _platform(client, account, **params) -> dict:
    _flush(client)
    r = client.get("/api/v1/metrics/platform", params=params, headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _upload(client, account, name="sales") -> None:
    files = {"file": (f"{name}.csv", b"region,units\nNorth,3\nSouth,5\n")}
    r = client.post("/api/v1/datasets", data={"name": name}, files=files, headers=account.headers)
    assert r.status_code == 201, r.text


def _ask(client, account, save=True) -> None:
    body = {"query": "total units by region", "data_source": "sales", "save": save}
    r = client.post("/api/v1/analytics/chart", json=body, headers=account.headers)
    assert r.status_code in (200, 201), r.text


def test_platform_figures_follow_requests_charts_uploads_and_jobs(client, owner):
    before = _platform(client, owner)
    assert before["charts"]["total"] == 0 and before["datasets"]["total"] == 0
    _upload(client, owner)
    _ask(client, owner)
    _ask(client, owner, save=False)
    r = client.post("/api/v1/jobs", json={"type": "demo.work"}, headers=owner.headers)
    assert r.status_code in (201, 202), r.text
    after = _platform(client, owner)

    assert after["users"] == {
        "total": 1,
        "active_today": 1,
        "active_this_week": 1,
        "active_this_month": 1,
    }
    assert after["charts"]["total"] == 1 and after["charts"]["created_today"] == 1
    assert after["ai_queries"]["total"] == 2 and after["ai_queries"]["today"] == 2
    assert after["datasets"]["total"] == 1 and after["datasets"]["uploaded_bytes"] > 0
    # the upload's profile job and the demo job
    assert after["jobs"]["total"] >= 2 and after["jobs"]["pending"] >= 1
    # every authenticated request before this one, the first platform call included
    assert after["requests"]["requests"] - before["requests"]["requests"] >= 5
    assert after["performance"]["average_response_time_ms"] > 0
    assert after["performance"]["uptime_s"] >= 0
    today = datetime.now(UTC).date().isoformat()
    assert after["daily"][-1]["day"] == today
    assert after["daily"][-1]["ai_queries"] == 2 and after["daily"][-1]["active_users"] == 1
    assert len(after["daily"]) == 31  # the default window: 30 days, both ends touched
    [me] = after["members"]
    assert me["user_id"] == owner.user_id and me["ai_queries"] == 2


def test_points_ingested_are_counted(client, owner):
    key = make_key(client, owner, ["ingest"])
    body = [
        {"properties": {"what": "sales"}, "timestamp": 1_700_000_000 + i, "value": i}
        for i in range(3)
    ]
    r = client.post(f"/api/v1/metrics?protocol=anodot20&token={key}", json=body)
    assert r.status_code < 300, r.text
    # the points arrived in this minute: the window that holds now counts them
    assert _platform(client, owner)["metrics"]["points_ingested"] == 3
    # a window past 2038 (beyond the 32-bit minute column) simply holds none
    later = {"from": "2038-12-01T00:00:00Z", "to": "2039-01-01T00:00:00Z"}
    assert _platform(client, owner, **later)["metrics"]["points_ingested"] == 0


def test_the_error_rate_counts_client_and_server_errors(client, owner):
    before = _platform(client, owner)["requests"]
    for _ in range(3):
        assert client.get("/api/v1/datasets/999999", headers=owner.headers).status_code == 404
    body = _platform(client, owner)
    delta = body["requests"]["client_errors"] - before["client_errors"]
    assert delta == 3
    requests = body["requests"]
    errors = requests["client_errors"] + requests["server_errors"]
    assert body["performance"]["error_rate"] == pytest.approx(
        errors / requests["requests"], abs=1e-6
    )
    assert body["performance"]["error_rate"] > 0


def test_requests_by_api_key_are_calls_not_activity(client, owner):
    key = make_key(client, owner, ["read"])
    for _ in range(4):
        assert client.get("/api/v1/datasets", headers={"X-Auth-Token": key}).status_code == 200
    _flush(client)
    me = client.get(f"/api/v1/metrics/user/{owner.user_id}", headers=owner.headers).json()
    assert me["usage"]["api_calls"] == 1 + 4  # making the key, then the key's requests
    member = invite_and_join(client, owner, "member")
    _flush(client)
    theirs = client.get(f"/api/v1/metrics/user/{member.user_id}", headers=owner.headers).json()
    assert theirs["usage"]["api_calls"] == 0
    assert theirs["activity"]["last_login"] is not None  # accepting signs them in


def test_user_metrics_count_their_charts_questions_and_uploads(client, owner):
    member = invite_and_join(client, owner, "member")
    login = {"email": member.email, "password": member.password}
    assert client.post("/api/v1/auth/login", json=login).status_code == 200
    _upload(client, member)
    _ask(client, member)
    _flush(client)
    body = client.get(f"/api/v1/metrics/user/{member.user_id}", headers=member.headers).json()
    assert body["user_id"] == member.user_id
    assert body["usage"]["charts_created"] == 1
    assert body["usage"]["ai_queries"] == 1
    assert body["usage"]["data_uploaded_bytes"] == len(b"region,units\nNorth,3\nSouth,5\n")
    assert body["usage"]["api_calls"] >= 2
    assert body["activity"]["login_count_this_month"] == 1
    assert body["performance"]["success_rate"] == 1.0
    assert body["performance"]["average_query_time"] > 0
    owners = client.get(f"/api/v1/metrics/user/{owner.user_id}", headers=owner.headers).json()
    assert owners["usage"]["charts_created"] == 0 and owners["usage"]["ai_queries"] == 0


def test_who_may_read_whose_usage(client, owner, other_org_owner):
    member = invite_and_join(client, owner, "member")
    viewer = invite_and_join(client, owner, "viewer")
    url = "/api/v1/metrics/user/{}"
    assert client.get(url.format(viewer.user_id), headers=viewer.headers).status_code == 200
    assert client.get(url.format(member.user_id), headers=owner.headers).status_code == 200
    r = client.get(url.format(owner.user_id), headers=member.headers)
    assert r.status_code == 403, r.text
    r = client.get(url.format(owner.user_id), headers=other_org_owner.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert client.get("/api/v1/metrics/platform", headers=viewer.headers).status_code == 403
    assert client.get("/api/v1/metrics/platform", headers=member.headers).status_code == 403


def test_each_organization_sees_its_own_usage(client, owner, other_org_owner):
    _upload(client, owner)
    _ask(client, owner)
    theirs = _platform(client, other_org_owner)
    assert theirs["charts"]["total"] == 0 and theirs["ai_queries"]["total"] == 0
    assert theirs["datasets"]["total"] == 0
    assert [m["user_id"] for m in theirs["members"]] == [other_org_owner.user_id]


def test_the_window_bounds_the_request_figures(client, owner, frozen_clock):
    client.get("/api/v1/datasets", headers=owner.headers)
    _flush(client)
    later = frozen_clock.now() + timedelta(days=2)
    body = _platform(
        client, owner, **{"from": later.isoformat(), "to": (later + timedelta(days=1)).isoformat()}
    )
    assert body["requests"]["requests"] == 0 and len(body["daily"]) == 2
    r = client.get(
        "/api/v1/metrics/platform",
        params={"from": later.isoformat(), "to": frozen_clock.now().isoformat()},
        headers=owner.headers,
    )
    assert r.status_code == 422


@pytest.mark.parametrize("params", [{"to": "0001-01-05"}, {"from": "1969-12-31T23:59:59Z"}])
@pytest.mark.parametrize("route", ["platform", "user"])
def test_a_window_before_1970_is_a_422_naming_its_field(client, owner, params, route):
    """30 days before 0001-01-05 is no date at all: the fuzz run found a 500 there."""
    url = (
        "/api/v1/metrics/platform"
        if route == "platform"
        else (f"/api/v1/metrics/user/{owner.user_id}")
    )
    r = client.get(url, params=params, headers=owner.headers)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["details"]["field"] == next(iter(params)) and "1970-01-01" in error["message"]


def test_the_buckets_add_up_across_flushes_and_processes(client, owner):
    """Two recorders (two server processes) writing the same minute sum into one row
    (the other one's request took 90 s: longer than any of this test's)."""
    other = UsageRecorder()
    other.record(
        org_id=owner.org_id,
        user_id=owner.user_id,
        key_id=None,
        method="GET",
        route="/api/v1/datasets",
        status=500,
        duration_ms=90_000.0,
        bytes_in=0,
    )
    client.get("/api/v1/datasets", headers=owner.headers)
    _flush(client)
    assert other.flush(client.app.state.db) == 1 and other.pending() == 0
    body = _platform(client, owner)
    assert body["requests"]["server_errors"] == 1
    assert body["performance"]["max_response_time_ms"] == pytest.approx(90_000.0)
    assert body["performance"]["uptime_percentage"] < 100


@pytest.fixture
def quiet_app(settings, monkeypatch):
    """An app whose usage loop waits an hour between writes: what is in memory stays
    there until the test flushes or the app stops."""
    monkeypatch.setattr(augury.app, "FLUSH_EVERY_S", 3600.0)
    return make_app(settings)


def test_the_recorder_writes_its_buckets_at_shutdown(quiet_app):
    with TestClient(quiet_app) as c:
        account = signup(c)
        c.get("/api/v1/datasets", headers=account.headers)
        assert quiet_app.state.usage.pending() == 1
    with quiet_app.state.db.session() as session:
        mine = ApiUsage.org_id == account.org_id
        assert session.scalar(select(func.sum(ApiUsage.requests)).where(mine)) == 1


def test_an_ingestion_request_is_counted_in_memory_until_the_flush(quiet_app):
    with TestClient(quiet_app) as client:
        owner = signup(client)
        key = make_key(client, owner, ["ingest"])
        _flush(client)
        body = [{"properties": {"what": "cpu"}, "timestamp": 1_700_000_000, "value": 1.0}]
        assert client.post(f"/api/v1/metrics?token={key}", json=body).status_code < 300
        route = ApiUsage.route == "/api/v1/metrics"
        with quiet_app.state.db.session() as session:
            assert session.scalar(select(func.count()).where(route)) == 0  # nothing written
        assert quiet_app.state.usage.pending() == 1
        _flush(client)
        with quiet_app.state.db.session() as session:
            row = session.scalar(select(ApiUsage).where(route))
        assert (row.method, row.requests, row.user_id) == ("POST", 1, owner.user_id)
        assert row.key_id > 0 and row.bytes_in > 0


def test_the_current_minute_counts_in_a_window_ending_now(client, owner, frozen_clock):
    """The clock stopped at the start of a minute: the requests of that minute are in it."""
    client.get("/api/v1/datasets", headers=owner.headers)
    body = _platform(client, owner)
    assert body["requests"]["requests"] >= 1
    assert body["daily"][-1]["requests"] >= 1 and body["users"]["active_today"] == 1


def test_platform_figures_count_chats_ratings_and_tokens(client, owner, other_org_owner):
    from tests.chat.conversation import bot, open_chat, say

    use_case = bot(
        client, owner, ["Returns are accepted within 30 days with the receipt."], welcome="Hi!"
    )
    chat = open_chat(client, owner, use_case["id"])["chat"]
    answer = say(client, owner, chat["id"], "How many days for returns?").json()["answer"]
    r = client.patch(
        f"/api/v1/chat/chats/{chat['id']}/messages/{answer['id']}",
        json={"rating": "good"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/api/v1/chat/aichat", json={"prompt": "hello there", "tokens": True}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    stored = client.get(f"/api/v1/chat/chats/{chat['id']}", headers=owner.headers).json()

    figures = _platform(client, owner)["chat"]

    assert figures["chats"] == 1
    assert figures["messages"] == 3  # the welcome, the question, the answer
    assert figures["rated_good"] == 1 and figures["rated_bad"] == 0
    assert figures["chat_tokens"] == stored["tokens"] > 0
    assert figures["aichat_tokens"] == r.json()["tokens"]["prompt"] > 0
    assert figures["tokens"] == figures["chat_tokens"] + figures["aichat_tokens"]
    assert _platform(client, other_org_owner)["chat"]["tokens"] == 0
