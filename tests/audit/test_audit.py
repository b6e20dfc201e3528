"""The audit log records security-relevant actions, readable by admins with filters."""

from __future__ import annotations

from tests.fixtures.factories import PASSWORD, invite_and_join, make_key


def test_audit_records_and_filters(client, owner):
    client.post("/api/v1/auth/login", json={"email": owner.email, "password": "bad password"})
    client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    make_key(client, owner, ["read"])
    member = invite_and_join(client, owner, "member")
    mid = next(
        m["id"]
        for m in client.get("/api/v1/members", headers=owner.headers).json()["items"]
        if m["email"] == member.email
    )
    client.patch(f"/api/v1/members/{mid}", json={"role": "viewer"}, headers=owner.headers)
    job = client.post("/api/v1/jobs", json={"type": "demo.work"}, headers=owner.headers).json()
    client.post(f"/api/v1/jobs/{job['id']}/abort", headers=owner.headers)
    client.delete(f"/api/v1/jobs/{job['id']}", headers=owner.headers)

    page = client.get("/api/v1/audit?limit=100", headers=owner.headers).json()
    actions = [e["action"] for e in page["items"]]
    for expected in (
        "user.signup",
        "auth.login",
        "api_key.create",
        "invitation.create",
        "invitation.accept",
        "member.role_change",
        "job.abort",
        "job.delete",
    ):
        assert expected in actions, expected
    # Newest first.
    stamps = [e["created_at"] for e in page["items"]]
    assert stamps == sorted(stamps, reverse=True)

    failures = client.get(
        "/api/v1/audit?action=auth.login&outcome=failure", headers=owner.headers
    ).json()
    assert failures["total"] == 1
    assert failures["items"][0]["actor_email"] == owner.email
    assert failures["items"][0]["ip"] == "testclient"
    family = client.get("/api/v1/audit?action=auth.*", headers=owner.headers).json()["items"]
    assert {e["action"] for e in family} <= {"auth.login", "auth.logout", "auth.switch_org"}
    role = client.get("/api/v1/audit?action=member.role_change", headers=owner.headers).json()[
        "items"
    ][0]
    assert role["details"]["role"] == ["member", "viewer"]
    assert role["target_type"] == "member" and role["target_id"] == str(mid)
    by_member = client.get(
        f"/api/v1/audit?actor_user_id={member.user_id}", headers=owner.headers
    ).json()
    assert {e["action"] for e in by_member["items"]} == {"invitation.accept"}
    future = client.get("/api/v1/audit?since=2999-01-01T00:00:00Z", headers=owner.headers).json()
    assert future["total"] == 0
