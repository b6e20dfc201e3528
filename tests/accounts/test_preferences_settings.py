"""Preferences and organization settings: stored, validated and enforced."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from augury.datasets import service
from augury.datasets.models import Dataset, DatasetVersion
from augury.datasets.retention import DatasetRetention
from augury.metrics import rollups
from augury.metrics.models import Metric, MetricPoint
from tests.fixtures.factories import PASSWORD, invite_and_join, make_key

NOW = int(time.time()) // 3600 * 3600


def _settings(client, account, **changes):
    url = f"/api/v1/organizations/{account.org_id}/settings"
    return client.patch(url, json=changes, headers=account.headers)


# --- preferences ----------------------------------------------------------------------


def test_preferences_default_then_change_one_field_at_a_time(client, owner):
    r = client.get("/api/v1/users/me/preferences", headers=owner.headers)
    # no time zone: the UI shows times in the browser's
    assert r.json() == {"theme": "system", "language": "en", "timezone": None}
    r = client.patch("/api/v1/users/me/preferences", json={"theme": "dark"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["theme"] == "dark"
    r = client.patch(
        "/api/v1/users/me/preferences",
        json={"timezone": "Asia/Kolkata"},
        headers=owner.headers,
    )
    assert r.json() == {"theme": "dark", "language": "en", "timezone": "Asia/Kolkata"}
    me = client.get("/api/v1/users/me", headers=owner.headers).json()
    assert me["preferences"] == r.json()
    r = client.patch(
        "/api/v1/users/me/preferences",
        json={"timezone": None, "theme": None},
        headers=owner.headers,
    )
    assert r.json() == {"theme": "system", "language": "en", "timezone": None}


def test_bad_preferences_are_refused(client, owner):
    for body in (
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "../../etc/passwd"},
        {"theme": "neon"},
        {"language": "xx"},
        {"colour": "red"},
    ):
        r = client.patch("/api/v1/users/me/preferences", json=body, headers=owner.headers)
        assert r.status_code == 422, (body, r.text)
    prefs = client.get("/api/v1/users/me/preferences", headers=owner.headers).json()
    assert prefs["timezone"] is None and prefs["theme"] == "system"


def test_preferences_are_personal_and_not_for_api_keys(client, owner):
    member = invite_and_join(client, owner, "member")
    client.patch("/api/v1/users/me/preferences", json={"theme": "dark"}, headers=owner.headers)
    theirs = client.get("/api/v1/users/me/preferences", headers=member.headers).json()
    assert theirs["theme"] == "system"
    key = {"X-Auth-Token": make_key(client, owner, ["admin"])}
    assert client.get("/api/v1/users/me/preferences", headers=key).status_code == 403


# --- organization settings --------------------------------------------------------------


def test_settings_are_read_by_members_and_written_by_admins(client, owner):
    viewer = invite_and_join(client, owner, "viewer")
    url = f"/api/v1/organizations/{owner.org_id}/settings"
    assert client.get(url, headers=viewer.headers).json() == {
        "data_retention_days": None,
        "max_users": None,
        "allowed_models": None,
    }
    assert _settings(client, viewer, max_users=5).status_code == 403
    r = _settings(client, owner, max_users=5, allowed_models=["gpt-4o", " gpt-4o "])
    assert r.status_code == 200 and r.json()["allowed_models"] == ["gpt-4o"]
    r = _settings(client, owner, max_users=None)
    assert r.json() == {
        "data_retention_days": None,
        "max_users": None,
        "allowed_models": ["gpt-4o"],
    }
    assert _settings(client, owner, data_retention_days=0).status_code == 422
    audit = client.get("/api/v1/audit", headers=owner.headers).json()["items"]
    assert any(e["action"] == "org.settings.update" for e in audit)


def test_max_users_counts_members_and_pending_invitations(client, owner):
    invite_and_join(client, owner, "member")
    assert _settings(client, owner, max_users=3).status_code == 200
    r = client.post(
        "/api/v1/invitations",
        json={"email": "third@example.com", "role": "viewer"},
        headers=owner.headers,
    )
    assert r.status_code == 201
    r = client.post(
        "/api/v1/invitations",
        json={"email": "fourth@example.com", "role": "viewer"},
        headers=owner.headers,
    )
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["details"] == {
        "reason": "MAX_USERS",
        "max_users": 3,
        "members": 2,
        "pending_invitations": 1,
    }
    assert "3 users at most" in error["message"]


def test_accepting_an_invitation_checks_max_users_again(client, owner):
    r = client.post(
        "/api/v1/invitations",
        json={"email": "late@example.com", "role": "viewer"},
        headers=owner.headers,
    )
    token = r.json()["invitation_link"].split("token=")[1]
    invite_and_join(client, owner, "member")
    # the limit was lowered after the invitation went out
    assert _settings(client, owner, max_users=2).status_code == 200
    r = client.post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert r.status_code == 409 and r.json()["error"]["details"]["reason"] == "MAX_USERS"
    members = client.get("/api/v1/members", headers=owner.headers).json()["items"]
    assert "late@example.com" not in {m["email"] for m in members}


def _provider(client, account, model):
    body = {"name": f"llm {model}", "base_url": "https://llm.example/v1", "model": model}
    return client.post("/api/v1/ai/providers", json=body, headers=account.headers)


def test_allowed_models_limit_the_providers(client, owner):
    r = _provider(client, owner, "old-model")
    assert r.status_code == 201, r.text
    provider_id = r.json()["id"]
    assert _settings(client, owner, allowed_models=["gpt-4o"]).status_code == 200
    r = _provider(client, owner, "llama-3")
    assert r.status_code == 422
    assert r.json()["error"]["details"]["reason"] == "MODEL_NOT_ALLOWED"
    assert "'llama-3' is not allowed" in r.json()["error"]["message"]
    assert _provider(client, owner, "gpt-4o").status_code == 201
    url = f"/api/v1/ai/providers/{provider_id}"
    assert client.put(url, json={"model": "llama-3"}, headers=owner.headers).status_code == 422
    # a provider set up before the rule cannot be used until it complies
    r = client.post(f"{url}/test", headers=owner.headers)
    assert r.status_code == 403 and r.json()["error"]["details"]["model"] == "old-model"
    files = {"file": ("s.csv", b"region,units\nNorth,3\nSouth,5\n")}
    client.post("/api/v1/datasets", data={"name": "s"}, files=files, headers=owner.headers)
    body = {"query": "total units by region", "data_source": "s", "engine": provider_id}
    r = client.post("/api/v1/analytics/chart", json=body, headers=owner.headers)
    assert r.status_code == 403 and r.json()["error"]["details"]["reason"] == "MODEL_NOT_ALLOWED"
    assert client.put(url, json={"model": "gpt-4o"}, headers=owner.headers).status_code == 200


# --- retention --------------------------------------------------------------------------------


def _upload(client, account, name):
    files = {"file": (f"{name}.csv", b"region,units\nNorth,3\nSouth,5\n")}
    r = client.post("/api/v1/datasets", data={"name": name}, files=files, headers=account.headers)
    assert r.status_code == 201, r.text


def test_retention_deletes_old_dataset_versions_of_that_organization_only(
    client, owner, other_org_owner, settings, db, frozen_clock
):
    _upload(client, owner, "old")
    _upload(client, owner, "kept")
    _upload(client, owner, "kept")
    _upload(client, other_org_owner, "theirs")
    assert _settings(client, owner, data_retention_days=7).status_code == 200
    task = DatasetRetention(settings)
    frozen_clock.advance(6 * 86400)
    assert task.run(db) == 0  # nothing is 7 days old yet
    frozen_clock.advance(2 * 86400)
    with db.session() as s:
        # "kept" had a version uploaded a day ago
        newest = s.scalar(select(DatasetVersion).where(DatasetVersion.number == 2))
        newest.created_at = frozen_clock.now() - timedelta(days=1)
        files = {v.id: service.path_of(settings, v) for v in s.scalars(select(DatasetVersion))}
    assert all(path.exists() for path in files.values())
    assert task.run(db) == 2
    with db.session() as s:
        left = {
            (d.org_id, d.name): list(
                s.scalars(select(DatasetVersion.number).where(DatasetVersion.dataset_id == d.id))
            )
            for d in s.scalars(select(Dataset))
        }
    assert left == {(owner.org_id, "kept"): [2], (other_org_owner.org_id, "theirs"): [1]}
    assert [path.exists() for path in files.values()].count(False) == 2


def test_retention_deletes_old_metric_points_of_that_organization_only(
    client, owner, other_org_owner, db
):
    for account in (owner, other_org_owner):
        key = make_key(client, account, ["ingest"])
        body = [
            {"properties": {"what": "q"}, "timestamp": t, "value": 1.0}
            for t in (NOW - 20 * 86400, NOW)
        ]
        assert client.post(f"/api/v1/metrics?token={key}", json=body).json()["rejected"] == 0
    client.app.state.stream.drain()
    assert _settings(client, owner, data_retention_days=10).status_code == 200
    rollups.RetentionTask(90, 730).run(db)
    with db.session() as s:
        rows = s.execute(
            select(Metric.org_id, MetricPoint.ts)
            .join(Metric, Metric.id == MetricPoint.metric_id)
            .order_by(MetricPoint.ts)
        ).all()
    mine = [ts for org, ts in rows if org == owner.org_id]
    theirs = [ts for org, ts in rows if org == other_org_owner.org_id]
    assert mine == [NOW] and theirs == [NOW - 20 * 86400, NOW]
