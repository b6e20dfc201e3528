"""Sign-up, login, refresh, logout, password change and reset, through the API."""

from __future__ import annotations

from datetime import timedelta

from augury import clock
from augury.accounts import security
from augury.mail import read_outbox
from tests.fixtures.factories import PASSWORD, signup


def test_signup_creates_owner_of_new_org(client):
    r = client.post(
        "/api/v1/auth/signup",
        json={
            "email": "Ada@Example.com",
            "password": PASSWORD,
            "name": "Ada",
            "organization_name": "Acme",
        },
    )
    assert r.status_code == 201
    body = r.json()
    assert body["role"] == "owner"
    assert body["organization"]["name"] == "Acme"
    assert body["user"]["email"] == "ada@example.com"
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["organizations"] == [
        {"id": body["organization"]["id"], "name": "Acme", "role": "owner"}
    ]


def test_signup_twice_with_same_email_conflicts(client, owner):
    r = client.post(
        "/api/v1/auth/signup", json={"email": owner.email.upper(), "password": PASSWORD}
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "CONFLICT"


def test_short_password_is_refused(client):
    r = client.post("/api/v1/auth/signup", json={"email": "a@example.com", "password": "short"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "8 characters" in r.json()["error"]["message"]


def test_login_with_right_and_wrong_password(client, owner):
    ok = client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert ok.status_code == 200
    assert ok.json()["organization"]["id"] == owner.org_id
    bad = client.post(
        "/api/v1/auth/login", json={"email": owner.email, "password": "wrong password"}
    )
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "x" * 9}
    )
    assert unknown.status_code == 401
    # Same message whether the account exists or not: no user enumeration.
    assert unknown.json()["error"]["message"] == bad.json()["error"]["message"]


def test_refresh_rotates_and_old_refresh_token_dies(client, owner):
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert r.status_code == 200
    new = r.json()
    assert new["refresh_token"] != owner.refresh_token
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {new['access_token']}"})
    assert me.status_code == 200
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert again.status_code == 401


def test_logout_kills_access_and_refresh_tokens(client, owner):
    assert client.post("/api/v1/auth/logout", headers=owner.headers).status_code == 204
    assert client.get("/api/v1/users/me", headers=owner.headers).status_code == 401
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert r.status_code == 401


def test_expired_and_tampered_access_tokens_are_refused(client, owner, settings):
    expired, _ = security.encode_access_token(
        key=settings.signing_key,
        user_id=owner.user_id,
        org_id=owner.org_id,
        session_id=1,
        minutes=-1,
    )
    r = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    assert "expired" in r.json()["error"]["message"].lower()
    header, payload, sig = owner.access_token.split(".")
    tampered = f"{header}.{payload}.{sig[:-4]}AAAA"
    r = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tampered}"})
    assert r.status_code == 401
    forged, _ = security.encode_access_token(
        key="another-key-" * 4, user_id=owner.user_id, org_id=owner.org_id, session_id=1, minutes=5
    )
    assert (
        client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )
    assert client.get("/api/v1/users/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/users/me").status_code == 401


def test_change_password_ends_other_sessions(client, owner):
    other = client.post(
        "/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD}
    ).json()
    r = client.post(
        "/api/v1/auth/password/change",
        headers=owner.headers,
        json={"current_password": "wrong one!", "new_password": "a new password"},
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"] == {"field": "current_password"}
    r = client.post(
        "/api/v1/auth/password/change",
        headers=owner.headers,
        json={"current_password": PASSWORD, "new_password": "a new password"},
    )
    assert r.status_code == 204
    assert client.get("/api/v1/users/me", headers=owner.headers).status_code == 200
    other_headers = {"Authorization": f"Bearer {other['access_token']}"}
    assert client.get("/api/v1/users/me", headers=other_headers).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD}
        ).status_code
        == 401
    )
    assert (
        client.post(
            "/api/v1/auth/login", json={"email": owner.email, "password": "a new password"}
        ).status_code
        == 200
    )


def test_password_reset_through_outbox_mail(client, owner, settings):
    r = client.post("/api/v1/auth/password/forgot", json={"email": owner.email})
    assert r.status_code == 202
    unknown = client.post("/api/v1/auth/password/forgot", json={"email": "ghost@example.com"})
    assert unknown.status_code == 202 and unknown.json() == r.json()
    mails = read_outbox(settings.outbox_dir)
    assert len(mails) == 1
    assert mails[0]["to"] == owner.email
    assert "http://augury.test/reset-password?token=" in mails[0]["text"]
    token = mails[0]["text"].split("reset-password?token=")[1].split()[0]
    r = client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": "brand new secret"}
    )
    assert r.status_code == 204
    # Single use, and old sessions are gone.
    r = client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": "another secret"}
    )
    assert r.status_code == 401
    assert client.get("/api/v1/users/me", headers=owner.headers).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/login", json={"email": owner.email, "password": "brand new secret"}
        ).status_code
        == 200
    )


def test_expired_reset_token_is_refused(client, owner, settings, db):
    from sqlalchemy import update

    from augury import clock
    from augury.accounts.models import PasswordReset

    client.post("/api/v1/auth/password/forgot", json={"email": owner.email})
    token = read_outbox(settings.outbox_dir)[0]["text"].split("token=")[1].split()[0]
    with db.session() as s:
        s.execute(update(PasswordReset).values(expires_at=clock.now() - timedelta(seconds=1)))
    r = client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": "brand new secret"}
    )
    assert r.status_code == 401


def test_user_in_several_orgs_switches(client, owner):
    r = client.post("/api/v1/organizations", json={"name": "Second"}, headers=owner.headers)
    assert r.status_code == 201
    second = r.json()["id"]
    orgs = client.get("/api/v1/organizations", headers=owner.headers).json()
    assert {o["name"] for o in orgs["items"]} == {"Acme", "Second"}
    r = client.post("/api/v1/auth/switch", json={"organization_id": second}, headers=owner.headers)
    assert r.status_code == 200
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/v1/users/me", headers=headers).json()["organization"]["id"] == second
    # Cannot switch into an organization one does not belong to.
    other = signup(client)
    r = client.post(
        "/api/v1/auth/switch", json={"organization_id": other.org_id}, headers=owner.headers
    )
    assert r.status_code == 403
    # Login straight into a chosen organization.
    r = client.post(
        "/api/v1/auth/login",
        json={"email": owner.email, "password": PASSWORD, "organization_id": second},
    )
    assert r.json()["organization"]["id"] == second


def _reset_tokens(settings) -> list[str]:
    return [
        m["text"].split("reset-password?token=")[1].split()[0]
        for m in read_outbox(settings.outbox_dir)
    ]


def test_using_one_reset_token_kills_the_others(client, owner, settings):
    for _ in range(2):
        client.post("/api/v1/auth/password/forgot", json={"email": owner.email})
    older, newer = _reset_tokens(settings)
    r = client.post(
        "/api/v1/auth/password/reset", json={"token": newer, "new_password": "brand new secret"}
    )
    assert r.status_code == 204
    r = client.post(
        "/api/v1/auth/password/reset", json={"token": older, "new_password": "attacker's pick"}
    )
    assert r.status_code == 401
    ok = client.post(
        "/api/v1/auth/login", json={"email": owner.email, "password": "brand new secret"}
    )
    assert ok.status_code == 200


def test_changing_the_password_kills_outstanding_reset_tokens(client, owner, settings):
    client.post("/api/v1/auth/password/forgot", json={"email": owner.email})
    (token,) = _reset_tokens(settings)
    r = client.post(
        "/api/v1/auth/password/change",
        headers=owner.headers,
        json={"current_password": PASSWORD, "new_password": "a new password"},
    )
    assert r.status_code == 204
    r = client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": "attacker's pick"}
    )
    assert r.status_code == 401
    login = client.post(
        "/api/v1/auth/login", json={"email": owner.email, "password": "a new password"}
    )
    assert login.status_code == 200


def test_replaying_a_rotated_refresh_token_revokes_its_family(client, owner, monkeypatch):
    other = client.post(
        "/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD}
    ).json()
    first = client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert first.status_code == 200
    second = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}
    )
    assert second.status_code == 200
    latest = second.json()
    # Later, someone presents a token that was already rotated: the thief or the owner.
    later = clock.now() + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    # Every token of that login died, the newest included ...
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": latest["refresh_token"]})
    assert r.status_code == 401
    latest_headers = {"Authorization": f"Bearer {latest['access_token']}"}
    assert client.get("/api/v1/users/me", headers=latest_headers).status_code == 401
    assert client.get("/api/v1/users/me", headers=owner.headers).status_code == 401
    # ... and another login of the same person goes on.
    other_headers = {"Authorization": f"Bearer {other['access_token']}"}
    assert client.get("/api/v1/users/me", headers=other_headers).status_code == 200
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert r.status_code == 200
    events = client.get("/api/v1/audit?action=auth.refresh_reuse", headers=other_headers).json()[
        "items"
    ]
    assert len(events) == 1
    assert events[0]["outcome"] == "failure"
    assert events[0]["actor_user_id"] == owner.user_id


def test_two_tabs_renewing_at_once_keep_the_login(client, owner):
    """Both tabs of a browser present the same refresh token at once: the loser is
    refused, and the login goes on with the winner's new token (no reuse alarm)."""
    winner = client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    loser = client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert winner.status_code == 200 and loser.status_code == 401
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": winner.json()["refresh_token"]})
    assert r.status_code == 200
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (
        client.get("/api/v1/audit?action=auth.refresh_reuse", headers=headers).json()["items"] == []
    )


def test_logout_after_refresh_ends_the_whole_login(client, owner):
    fresh = client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token}).json()
    fresh_headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=fresh_headers).status_code == 204
    # The access token issued before the refresh belongs to the same login.
    assert client.get("/api/v1/users/me", headers=owner.headers).status_code == 401
