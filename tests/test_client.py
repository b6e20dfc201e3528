"""The Python client against a real augury server over HTTP (no mocks)."""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import pkgutil
import re
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from augury import client as client_module
from augury.accounts.security import JWT_ALGORITHM, encode_access_token
from augury.client import (
    AuguryAPIError,
    AuthenticationError,
    Client,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ValidationError,
)
from augury.mail import read_outbox

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def signed_up(url: str, org: str = "Acme") -> Client:
    """A client logged in as the owner of a new organization."""
    c = Client(url, timeout=10)
    c.signup(f"client{next(_seq)}@example.com", PASSWORD, name="Ada", organization_name=org)
    return c


@pytest.fixture
def owner(live_server):
    with signed_up(live_server.url) as c:
        yield c


def test_all_is_complete_and_sorted():
    """`augury.client` exports every public name its modules define, and only those."""
    public = {}
    for info in pkgutil.iter_modules(client_module.__path__):
        module = importlib.import_module(f"{client_module.__name__}.{info.name}")
        for node in ast.parse(inspect.getsource(module)).body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            else:
                continue
            public.update({n: getattr(module, n) for n in names if not n.startswith("_")})
    assert client_module.__all__ == sorted(client_module.__all__)
    assert set(client_module.__all__) == set(public)
    assert all(getattr(client_module, name) is obj for name, obj in public.items())


def test_signup_login_me_orgs_and_logout(live_server, owner):
    assert owner.health()["status"] == "ok"
    me = owner.me()
    assert me["role"] == "owner" and me["organization"]["name"] == "Acme"
    assert owner.update_me(name="Ada L.")["name"] == "Ada L."

    with Client(live_server.url) as again:
        tokens = again.login(me["email"], PASSWORD)
        assert tokens["user"]["id"] == me["id"] and again.access_token and again.refresh_token
        assert again.me()["name"] == "Ada L."

    org_id = me["organization"]["id"]
    assert owner.orgs.get(org_id)["role"] == "owner"
    assert owner.orgs.update(org_id, description="rockets")["description"] == "rockets"
    second = owner.orgs.create("Acme Labs")
    assert [o["name"] for o in owner.orgs.iter()] == ["Acme", "Acme Labs"]
    owner.switch_organization(second["id"])
    assert owner.me()["organization"]["id"] == second["id"]
    with pytest.raises(NotFoundError):
        owner.orgs.get(org_id)  # only the organization you act in is visible

    old_token = owner.access_token
    owner.logout()
    assert owner.access_token is None and owner.refresh_token is None
    with Client(live_server.url, token=old_token) as stale, pytest.raises(AuthenticationError):
        stale.me()


def test_expired_access_token_is_refreshed_once(live_server, settings, owner):
    claims = jwt.decode(owner.access_token, options={"verify_signature": False})
    expired, _ = encode_access_token(
        key=settings.signing_key,
        user_id=int(claims["sub"]),
        org_id=claims["org"],
        session_id=claims["sid"],
        minutes=-1,
    )
    old_refresh = owner.refresh_token
    owner.access_token = expired
    assert owner.me()["role"] == "owner"  # 401, refresh, repeat
    assert owner.access_token != expired and owner.refresh_token != old_refresh
    jwt.decode(owner.access_token, settings.signing_key, algorithms=[JWT_ALGORITHM])

    # Without a usable refresh token the 401 reaches the caller.
    owner.access_token, owner.refresh_token = expired, old_refresh  # already rotated
    with pytest.raises(AuthenticationError):
        owner.me()
    with (
        Client(live_server.url, token=expired) as no_refresh,
        pytest.raises(AuthenticationError, match="expired"),
    ):
        no_refresh.me()


def test_api_keys_authenticate_with_their_scopes(live_server, owner):
    created = owner.keys.create("ci", scopes=["read", "write"])
    reader = owner.keys.create("dashboards", scopes=["read"])
    assert created["key"].startswith("aug_")
    assert {k["name"] for k in owner.keys.iter()} == {"ci", "dashboards"}

    with Client(live_server.url, api_key=created["key"]) as machine:
        assert "demo.work" in [t["name"] for t in machine.jobs.types()]
        job = machine.jobs.create("demo.work", {"steps": 1, "step_seconds": 0})
        assert job["status"] == "pending"
    with Client(live_server.url, api_key=reader["key"]) as read_only:
        assert read_only.jobs.get(job["id"])["id"] == job["id"]
        with pytest.raises(PermissionDeniedError) as err:
            read_only.jobs.create("demo.work")
        assert err.value.status == 403 and err.value.code == "PERMISSION_DENIED"

        owner.keys.revoke(reader["id"])
        with pytest.raises(AuthenticationError):
            read_only.jobs.list()
    listed = owner.keys.list(include_revoked=True)
    assert listed["total"] == 2
    assert next(k for k in listed["items"] if k["id"] == created["id"])["last_used_at"]


def test_jobs_run_wait_abort_logs_consumptions(owner):
    job = owner.jobs.create("demo.work", {"steps": 3, "step_seconds": 0.1})
    done = owner.jobs.wait(job["id"], timeout=30, poll_interval=0.1)
    assert done["status"] == "succeeded" and done["progress"] == 100
    assert done["cpu_seconds"] is not None and done["peak_memory_mb"] > 0
    assert done["result"]["steps"] == 3
    lines = [line["message"] for line in owner.jobs.iter_logs(job["id"])]
    assert "finished 3 sleep steps" in lines

    slow = owner.jobs.create("demo.work", {"steps": 200, "step_seconds": 0.2})
    with pytest.raises(TimeoutError):
        owner.jobs.wait(slow["id"], timeout=0.3, poll_interval=0.1)
    with pytest.raises(ConflictError):
        owner.jobs.delete(slow["id"])  # not finished yet
    aborting = owner.jobs.abort(slow["id"])
    assert aborting["status"] == "aborted" or aborting["abort_requested"]
    assert owner.jobs.wait(slow["id"], timeout=30, poll_interval=0.1)["status"] == "aborted"
    with pytest.raises(ConflictError):
        owner.jobs.abort(slow["id"])

    assert owner.jobs.list(status="aborted")["total"] == 1
    assert owner.jobs.list(status=["succeeded", "aborted"], type="demo.*")["total"] == 2
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert len(list(owner.jobs.iter(created_after=hour_ago, page_size=1))) == 2
    assert owner.jobs.list(created_before=hour_ago)["total"] == 0
    usage = owner.jobs.consumptions(type="demo.work", date_from=hour_ago)
    assert sum(row["jobs"] for row in usage) == 2
    assert sum(row["succeeded"] for row in usage) == 1 and sum(row["aborted"] for row in usage) == 1

    owner.jobs.delete(job["id"])
    with pytest.raises(NotFoundError):
        owner.jobs.get(job["id"])


def test_errors_carry_status_code_and_details(live_server, owner):
    with pytest.raises(NotFoundError) as err:
        owner.jobs.get(999_999)
    assert (err.value.status, err.value.code) == (404, "RESOURCE_NOT_FOUND")
    assert isinstance(err.value, AuguryAPIError)

    with pytest.raises(ValidationError) as err:
        owner.jobs.create("no.such.type")
    assert err.value.status == 422 and err.value.code == "VALIDATION_ERROR"
    with pytest.raises(ValidationError) as err:
        owner.jobs.list(status="bogus")
    assert "pending" in err.value.details["allowed"]

    email = owner.me()["email"]
    with Client(live_server.url) as stranger:
        with pytest.raises(ConflictError):
            stranger.signup(email, PASSWORD)
        with pytest.raises(AuthenticationError) as err:
            stranger.login(email, "wrong password")
        assert err.value.code == "AUTHENTICATION_FAILED"
        for _ in range(4):
            with pytest.raises(AuthenticationError):
                stranger.login(email, "wrong password")
        with pytest.raises(RateLimitError) as err:  # failed logins are throttled per account
            stranger.login(email, PASSWORD)
        assert err.value.status == 429 and err.value.retry_after > 0
        with pytest.raises(AuthenticationError):
            stranger.me()  # no credentials at all
    failures = owner.audit.list(action="auth.login", outcome="failure")
    assert failures["total"] == 5


def test_list_pages_and_iterators(owner):
    for i in range(7):
        owner.invitations.create(f"guest{i}@example.com", role="viewer")
    page = owner.invitations.list(limit=3)
    assert (page["total"], page["limit"], len(page["items"]), page["has_more"]) == (7, 3, 3, True)
    last = owner.invitations.list(offset=6, limit=3)
    assert len(last["items"]) == 1 and not last["has_more"]
    emails = [inv["email"] for inv in owner.invitations.iter(page_size=3)]
    assert sorted(emails) == [f"guest{i}@example.com" for i in range(7)]

    owner.invitations.revoke(page["items"][0]["id"])
    assert owner.invitations.list()["total"] == 6
    assert owner.invitations.list(pending=False)["total"] == 7
    assert len(list(owner.audit.iter(action="invitation.*", page_size=2))) >= 7


def test_invitation_roles_members_and_passwords(live_server, settings, owner):
    link = owner.invitations.create("viewer@example.com", role="viewer")["invitation_link"]
    with Client(live_server.url) as viewer:
        joined = viewer.invitations.accept(link.split("token=")[1], PASSWORD, name="Vic")
        assert joined["role"] == "viewer" and viewer.access_token == joined["access_token"]
        with pytest.raises(PermissionDeniedError):
            viewer.jobs.create("demo.work")

        member = next(m for m in owner.members.iter() if m["email"] == "viewer@example.com")
        assert owner.members.update(member["id"], role="member")["role"] == "member"
        queued = viewer.jobs.create("demo.work", {"steps": 1, "step_seconds": 0})
        assert queued["status"] == "pending"
        with pytest.raises(PermissionDeniedError):
            viewer.members.update(member["id"], role="admin")

        viewer.change_password(PASSWORD, "a brand new password")
        viewer.forgot_password("viewer@example.com")
        mail = read_outbox(settings.outbox_dir)[-1]
        assert mail["to"] == "viewer@example.com"
        token = re.search(r"reset-password\?token=(\S+)", mail["text"]).group(1)
        viewer.reset_password(token, "the newest password")
        with pytest.raises(AuthenticationError):
            viewer.me()  # a reset ends every login
        viewer.login("viewer@example.com", "the newest password")
        assert viewer.me()["role"] == "member"


def test_organizations_are_isolated(live_server, owner):
    job = owner.jobs.create("demo.work", {"steps": 1, "step_seconds": 0})
    key = owner.keys.create("mine", scopes=["read"])
    invitation = owner.invitations.create("someone@example.com")
    member_id = owner.members.list()["items"][0]["id"]
    org_id = owner.me()["organization"]["id"]

    with signed_up(live_server.url, org="Globex") as other:
        for attempt in (
            lambda: other.jobs.get(job["id"]),
            lambda: other.jobs.abort(job["id"]),
            lambda: other.jobs.logs(job["id"]),
            lambda: other.jobs.delete(job["id"]),
            lambda: other.keys.revoke(key["id"]),
            lambda: other.invitations.revoke(invitation["id"]),
            lambda: other.members.update(member_id, role="viewer"),
            lambda: other.orgs.get(org_id),
        ):
            with pytest.raises(NotFoundError):
                attempt()
        with pytest.raises(PermissionDeniedError):
            other.switch_organization(org_id)
        assert other.jobs.list()["total"] == 0
        assert [k["name"] for k in other.keys.iter()] == []
        assert [m["email"] for m in other.members.iter()] == [other.me()["email"]]
    assert owner.jobs.get(job["id"])["id"] == job["id"]


def test_metrics_send_search_series_graph_and_backfill(live_server, owner):
    now = int(time.time()) // 60 * 60
    samples = [
        {"properties": {"what": "cpu", "host": f"h{i % 2}"}, "timestamp": now - 60 * i, "value": i}
        for i in range(10)
    ]
    samples.append({"properties": {"what": "cpu"}, "timestamp": now, "value": "NaN"})
    answer = owner.metrics.send(samples)
    assert answer["accepted"] == 10 and answer["errors"][0]["error"] == 2026
    found = list(owner.metrics.iter("what=cpu AND host=h1", page_size=1))
    assert [m["name"] for m in found] == ["what=cpu.host=h1"]
    points = owner.metrics.timeseries(found[0]["id"], start=0, resolution="native")
    assert points["values"] == [9, 7, 5, 3, 1]
    png = owner.metrics.graph(found[0]["id"], width=400, height=200)
    assert png.startswith(b"\x89PNG")
    assert owner.metrics.overview()["metrics"] == 2
    with pytest.raises(ValidationError, match="Invalid metric expression"):
        owner.metrics.list("what=(")
    job = owner.metrics.import_csv(f"timestamp,what,value\n{now - 86400},mem,5\n")
    assert owner.jobs.wait(job["id"], timeout=60)["result"]["accepted"] == 1
    owner.metrics.delete(found[0]["id"])
    with pytest.raises(NotFoundError):
        owner.metrics.get(found[0]["id"])


def test_anomalies_and_forecasts(live_server, owner):
    import numpy as np

    now = int(time.time()) // 3600 * 3600
    n = 24 * 14
    rng = np.random.default_rng(0)
    y = 50 + 10 * np.sin(2 * np.pi * np.arange(n) / 24) + rng.normal(0, 1, n)
    y[n - 30] += 40
    owner.metrics.send(
        {"properties": {"what": "visits"}, "timestamp": now - (n - i) * 3600, "value": v}
        for i, v in enumerate(y.tolist())
    )
    deadline = time.monotonic() + 60
    while not owner.anomalies.count(timescale="native")["total"]:
        assert time.monotonic() < deadline, "no anomaly found"
        time.sleep(0.2)
    (found,) = owner.anomalies.iter(q="visits", min_score=90, timescale="native")
    assert found["start"] == now - 30 * 3600 and found["direction"] == "up"
    detail = owner.anomalies.get(found["id"], context_points=10)
    assert len(detail["series"][0]["timestamps"]) == 21
    metric_id = found["metrics"][0]["metric_id"]
    assert owner.anomalies.stop_learning("visits")["metrics"] == 1
    assert owner.anomalies.resume_learning(metric_ids=[metric_id])["metrics"] == 1

    task = owner.forecasts.create("visits", 24, levels=[90, 95])
    assert owner.forecasts.wait(task["id"], timeout=120)["status"] == "complete"
    (result,) = owner.forecasts.results(task["id"])["results"]
    assert len(result["mean"]) == 24 and set(result["lower"]) == {"90", "95"}
    assert owner.forecasts.accuracy(task["id"])[0]["points"] == 0
    assert owner.forecasts.yhat(metric_id, steps=3)["source"] == "forecast_task"
    owner.forecasts.delete(task["id"])
    with pytest.raises(NotFoundError):
        owner.forecasts.get(task["id"])


def test_alerts_channels_events_and_feedback(live_server, owner):
    import numpy as np

    from tests.alerts.conftest import Receiver

    receiver = Receiver()
    try:
        hook = owner.channels.create("ops", "webhook", {"url": receiver.url})
        assert owner.channels.test(hook["id"])["status"] == "sent"
        config = owner.alerts.create(
            "visits {{what}}", conditions={"min_score": 80}, channel_ids=[hook["id"]]
        )
        now = int(time.time()) // 60 * 60
        rng = np.random.default_rng(1)
        y = 50 + rng.normal(0, 1, 1500)
        y[-1] += 30  # the newest point: an open anomaly
        owner.metrics.send(
            {"properties": {"what": "visits"}, "timestamp": now - (1500 - i) * 60, "value": v}
            for i, v in enumerate(y.tolist())
        )
        deadline = time.monotonic() + 60
        while len(receiver.delivered()) < 2:  # the test message, then the alert
            assert time.monotonic() < deadline, "no alert arrived"
            time.sleep(0.2)
        assert receiver.delivered()[-1]["trigger"]["title"] == "visits visits"
        (t,) = owner.alerts.triggered(status="open")["items"]
        assert t["config_id"] == config["id"]
        assert owner.alerts.triggered_count()["open"] == 1
        assert owner.alerts.acknowledge(t["id"])["acknowledged_at"]
        fb = owner.alerts.feedback("good_catch", trigger_id=t["id"], comment="real")
        assert fb["trigger_id"] == t["id"]
        assert owner.alerts.resolve(t["id"])["status"] == "closed"
        preview = owner.alerts.preview(conditions={"min_score": 80})
        assert preview["fired"] == 1
        event = owner.events.create("deploy", "deployments", "ci", now - 600)
        assert owner.events.list(start=now - 3600)["items"][0]["id"] == event["id"]
        window = owner.events.create_window("upgrade", start=now, end=now + 3600)
        assert window["active"] is True
        log = owner.channels.deliveries(hook["id"])["items"]
        assert {d["event"] for d in log} >= {"test", "open"}
    finally:
        receiver.close()
