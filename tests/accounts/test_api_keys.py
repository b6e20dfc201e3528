"""API keys: scopes, the three ways to present them, last use and revocation."""

from __future__ import annotations

from tests.fixtures.factories import invite_and_join, make_key

INGEST = "/api/v1/metrics?protocol=anodot20"
"""Anodot 2.0 ingestion: a route that takes keys the ways senders present them."""


def _sample(what: str = "key_probe") -> list[dict]:
    return [{"properties": {"what": what}, "timestamp": 1_700_000_000, "value": 1.0}]


def _metric_names(client, account) -> list[str]:
    items = client.get("/api/v1/metrics", headers=account.headers).json()["items"]
    return [m["what"] for m in items]


def test_key_secret_shown_once_and_stored_hashed(client, owner, db):
    from sqlalchemy import select

    from augury.accounts.models import ApiKey

    r = client.post(
        "/api/v1/api-keys", json={"name": "ci", "scopes": ["read", "write"]}, headers=owner.headers
    )
    assert r.status_code == 201
    created = r.json()
    assert created["key"].startswith(f"aug_{created['prefix']}_")
    listed = client.get("/api/v1/api-keys", headers=owner.headers).json()["items"]
    assert listed[0]["id"] == created["id"] and "key" not in listed[0]
    with db.session() as s:
        stored = s.scalar(select(ApiKey))
        assert created["key"] not in (stored.key_hash, stored.prefix)
        assert len(stored.key_hash) == 64


def test_key_works_as_bearer_and_x_auth_token_and_records_use(client, owner):
    key = make_key(client, owner, ["read"])
    assert client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/api/v1/jobs", headers={"X-Auth-Token": key}).status_code == 200
    # ?token= is for ingestion routes only.
    assert client.get(f"/api/v1/jobs?token={key}").status_code == 401
    listed = client.get("/api/v1/api-keys", headers=owner.headers).json()["items"]
    assert listed[0]["last_used_at"] is not None


def test_query_token_authenticates_ingestion(client, owner):
    """Ingestion accepts ?token= (Anodot style), requires the ingest scope, and stores
    the samples in the key's organization."""
    ingest_key = make_key(client, owner, ["ingest"])
    read_key = make_key(client, owner, ["read"])
    r = client.post(f"{INGEST}&token={ingest_key}", json=_sample("by_query_token"))
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    assert _metric_names(client, owner) == ["by_query_token"]
    r = client.post(f"{INGEST}&token={read_key}", json=_sample("refused"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "PERMISSION_DENIED"
    r = client.post(f"{INGEST}&token=aug_nothing_here", json=_sample("refused"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    assert _metric_names(client, owner) == ["by_query_token"]


def test_scopes_limit_what_a_key_does(client, owner):
    read_key = make_key(client, owner, ["read"])
    write_key = make_key(client, owner, ["write"])
    ingest_key = make_key(client, owner, ["ingest"])
    job = {"type": "demo.work", "params": {"steps": 1, "step_seconds": 0}}
    assert (
        client.post("/api/v1/jobs", json=job, headers={"X-Auth-Token": read_key}).status_code == 403
    )
    assert (
        client.post("/api/v1/jobs", json=job, headers={"X-Auth-Token": write_key}).status_code
        == 201
    )
    assert client.get("/api/v1/jobs", headers={"X-Auth-Token": ingest_key}).status_code == 403
    # Keys cannot manage keys or act as people.
    r = client.post(
        "/api/v1/api-keys",
        json={"name": "x", "scopes": ["read"]},
        headers={"X-Auth-Token": write_key},
    )
    assert r.status_code == 403
    assert client.get("/api/v1/audit", headers={"X-Auth-Token": write_key}).status_code == 403


def test_key_cannot_exceed_its_creator(client, owner):
    viewer = invite_and_join(client, owner, "viewer")
    r = client.post(
        "/api/v1/api-keys", json={"name": "x", "scopes": ["write"]}, headers=viewer.headers
    )
    assert r.status_code == 403
    assert r.json()["error"]["details"]["allowed_scopes"] == ["read"]
    assert (
        client.post(
            "/api/v1/api-keys", json={"name": "x", "scopes": ["read"]}, headers=viewer.headers
        ).status_code
        == 201
    )


def test_revoked_key_stops_working(client, owner):
    r = client.post(
        "/api/v1/api-keys", json={"name": "gone", "scopes": ["read"]}, headers=owner.headers
    )
    key, key_id = r.json()["key"], r.json()["id"]
    assert client.delete(f"/api/v1/api-keys/{key_id}", headers=owner.headers).status_code == 204
    r = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    assert client.get("/api/v1/api-keys", headers=owner.headers).json()["total"] == 0
    revoked = client.get("/api/v1/api-keys?include_revoked=true", headers=owner.headers).json()
    assert revoked["items"][0]["revoked_at"] is not None


def test_expired_key_and_bad_expiry(client, owner):
    r = client.post(
        "/api/v1/api-keys",
        headers=owner.headers,
        json={"name": "old", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"},
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/api-keys",
        headers=owner.headers,
        json={"name": "naive", "scopes": ["read"], "expires_at": "2030-01-01T00:00:00"},
    )
    assert r.status_code == 422


def test_members_see_only_their_keys_admins_see_all(client, owner):
    member = invite_and_join(client, owner, "member")
    make_key(client, owner, ["read"], name="owner key")
    make_key(client, member, ["read"], name="member key")
    mine = client.get("/api/v1/api-keys", headers=member.headers).json()["items"]
    assert [k["name"] for k in mine] == ["member key"]
    all_keys = client.get("/api/v1/api-keys", headers=owner.headers).json()["items"]
    assert {k["name"] for k in all_keys} == {"owner key", "member key"}
    owner_key_id = next(k["id"] for k in all_keys if k["name"] == "owner key")
    assert (
        client.delete(f"/api/v1/api-keys/{owner_key_id}", headers=member.headers).status_code == 403
    )


def test_work_done_with_a_key_is_accounted_to_its_creator(client, owner):
    key = make_key(client, owner, ["write"])
    job = client.post("/api/v1/jobs", json={"type": "demo.work"}, headers={"X-Auth-Token": key})
    assert job.json()["user_id"] == owner.user_id
    client.post(f"/api/v1/jobs/{job.json()['id']}/abort", headers={"X-Auth-Token": key})
    events = client.get("/api/v1/audit?action=job.abort", headers=owner.headers).json()["items"]
    assert events[0]["actor_user_id"] == owner.user_id and events[0]["actor_key_id"] is not None


def test_a_persons_token_is_refused_where_only_keys_belong(client, owner):
    """?token=, X-Auth-Token and basic auth's password take API keys; a person's JWT
    there (it would land in access logs and proxies) is a 401 in the error envelope,
    while ``Authorization: Bearer`` keeps taking both."""
    jwt = owner.access_token
    assert jwt.count(".") == 2
    refused = [
        client.get("/api/v1/jobs", headers={"X-Auth-Token": jwt}),
        client.post(INGEST, json=_sample("refused"), headers={"X-Auth-Token": jwt}),
        client.post(f"{INGEST}&token={jwt}", json=_sample("refused")),
        client.post(INGEST, json=_sample("refused"), auth=("user", jwt)),
    ]
    for r in refused:
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    assert client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {jwt}"}).status_code == 200
    r = client.post(INGEST, json=_sample("by_bearer"), headers={"Authorization": f"Bearer {jwt}"})
    assert r.status_code == 200 and r.json()["accepted"] == 1
    key = make_key(client, owner, ["ingest"])
    r = client.post(INGEST, json=_sample("by_basic_auth"), auth=("user", key))
    assert r.status_code == 200 and r.json()["accepted"] == 1
    r = client.post(INGEST, json=_sample("by_header"), headers={"X-Auth-Token": key})
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert sorted(_metric_names(client, owner)) == ["by_basic_auth", "by_bearer", "by_header"]
