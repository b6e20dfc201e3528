"""Invitations, roles and members: who may do what in an organization."""

from __future__ import annotations

from augury.mail import read_outbox
from tests.fixtures.factories import PASSWORD, invite_and_join, signup


def test_invitation_is_mailed_and_accepted_by_a_new_person(client, owner, settings):
    r = client.post(
        "/api/v1/invitations",
        json={"email": "new@example.com", "role": "viewer"},
        headers=owner.headers,
    )
    assert r.status_code == 201
    inv = r.json()
    assert inv["role"] == "viewer" and inv["accepted_at"] is None
    mail = read_outbox(settings.outbox_dir)[-1]
    assert mail["to"] == "new@example.com" and "Acme" in mail["subject"]
    assert inv["invitation_link"] in mail["text"]
    pending = client.get("/api/v1/invitations", headers=owner.headers).json()
    assert [i["email"] for i in pending["items"]] == ["new@example.com"]
    token = inv["invitation_link"].split("token=")[1]
    r = client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": PASSWORD, "name": "New"}
    )
    assert r.status_code == 200
    assert r.json()["organization"]["id"] == owner.org_id and r.json()["role"] == "viewer"
    # Single use; no longer pending.
    again = client.post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert again.status_code == 401
    assert client.get("/api/v1/invitations", headers=owner.headers).json()["total"] == 0
    members = client.get("/api/v1/members", headers=owner.headers).json()["items"]
    assert {(m["email"], m["role"]) for m in members} == {
        (owner.email, "owner"),
        ("new@example.com", "viewer"),
    }


def test_existing_user_joins_second_org_with_own_password(client, owner):
    other = signup(client, org="Other")
    r = client.post(
        "/api/v1/invitations", json={"email": other.email, "role": "member"}, headers=owner.headers
    )
    token = r.json()["invitation_link"].split("token=")[1]
    bad = client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": "not theirs!"}
    )
    assert bad.status_code == 401
    ok = client.post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert ok.status_code == 200
    orgs = client.get("/api/v1/organizations", headers=other.headers).json()["items"]
    assert {o["id"] for o in orgs} == {owner.org_id, other.org_id}


def test_duplicate_and_revoked_invitations(client, owner):
    body = {"email": "dup@example.com", "role": "member"}
    first = client.post("/api/v1/invitations", json=body, headers=owner.headers)
    assert client.post("/api/v1/invitations", json=body, headers=owner.headers).status_code == 409
    inv_id = first.json()["id"]
    assert client.delete(f"/api/v1/invitations/{inv_id}", headers=owner.headers).status_code == 204
    token = first.json()["invitation_link"].split("token=")[1]
    r = client.post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert r.status_code == 401
    already = client.post(
        "/api/v1/invitations", json={"email": owner.email, "role": "member"}, headers=owner.headers
    )
    assert already.status_code == 409


def test_roles_gate_writes_and_admin_actions(client, owner):
    viewer = invite_and_join(client, owner, "viewer")
    member = invite_and_join(client, owner, "member")
    admin = invite_and_join(client, owner, "admin")
    job = {"type": "demo.work", "params": {"steps": 1, "step_seconds": 0}}
    # Viewers read but cannot write.
    assert client.get("/api/v1/jobs", headers=viewer.headers).status_code == 200
    r = client.post("/api/v1/jobs", json=job, headers=viewer.headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "PERMISSION_DENIED"
    assert client.post("/api/v1/jobs", json=job, headers=member.headers).status_code == 201
    # Only admins invite, see the audit log and manage members.
    invite = {"email": "x@example.com", "role": "member"}
    assert (
        client.post("/api/v1/invitations", json=invite, headers=member.headers).status_code == 403
    )
    assert client.get("/api/v1/audit", headers=member.headers).status_code == 403
    assert client.get("/api/v1/audit", headers=admin.headers).status_code == 200
    members = {
        m["email"]: m for m in client.get("/api/v1/members", headers=admin.headers).json()["items"]
    }
    # Admins cannot touch owners or make owners; owners can.
    owner_member = members[owner.email]["id"]
    r = client.patch(
        f"/api/v1/members/{owner_member}", json={"role": "member"}, headers=admin.headers
    )
    assert r.status_code == 403
    vid = members[viewer.email]["id"]
    r = client.patch(f"/api/v1/members/{vid}", json={"role": "owner"}, headers=admin.headers)
    assert r.status_code == 403
    r = client.patch(f"/api/v1/members/{vid}", json={"role": "member"}, headers=admin.headers)
    assert r.status_code == 200 and r.json()["role"] == "member"
    # The role change is effective at once with the viewer's existing token.
    assert client.post("/api/v1/jobs", json=job, headers=viewer.headers).status_code == 201


def test_disabling_a_member_locks_them_out(client, owner):
    member = invite_and_join(client, owner, "member")
    mid = next(
        m["id"]
        for m in client.get("/api/v1/members", headers=owner.headers).json()["items"]
        if m["email"] == member.email
    )
    r = client.patch(f"/api/v1/members/{mid}", json={"disabled": True}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert client.get("/api/v1/jobs", headers=member.headers).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/refresh", json={"refresh_token": member.refresh_token}
        ).status_code
        == 401
    )
    # They belong to no other org, so login is refused too.
    r = client.post("/api/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    assert r.status_code == 401
    client.patch(f"/api/v1/members/{mid}", json={"disabled": False}, headers=owner.headers)
    r = client.post("/api/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    assert r.status_code == 200


def test_last_owner_cannot_leave(client, owner):
    mid = client.get("/api/v1/members", headers=owner.headers).json()["items"][0]["id"]
    r = client.patch(f"/api/v1/members/{mid}", json={"role": "admin"}, headers=owner.headers)
    assert r.status_code == 409
    r = client.patch(f"/api/v1/members/{mid}", json={"disabled": True}, headers=owner.headers)
    assert r.status_code == 409
    second = invite_and_join(client, owner, "owner")
    assert second is not None
    r = client.patch(f"/api/v1/members/{mid}", json={"role": "admin"}, headers=owner.headers)
    assert r.status_code == 200


def test_organization_rename_needs_admin(client, owner):
    viewer = invite_and_join(client, owner, "viewer")
    url = f"/api/v1/organizations/{owner.org_id}"
    assert client.patch(url, json={"name": "New name"}, headers=viewer.headers).status_code == 403
    r = client.patch(url, json={"name": "New name"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["name"] == "New name"
    assert client.get(url, headers=viewer.headers).json()["name"] == "New name"


def test_organization_name_cannot_be_nulled(client, owner):
    url = f"/api/v1/organizations/{owner.org_id}"
    r = client.patch(url, json={"name": None}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert client.patch(url, json={"description": None}, headers=owner.headers).status_code == 200
    assert client.get(url, headers=owner.headers).json()["name"] == "Acme"
