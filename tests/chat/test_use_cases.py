"""Use cases over HTTP: create, list, read, change, delete, open and close; validation
in the error envelope; another organization's use case is a 404; viewers read only."""

from __future__ import annotations

import pytest

from augury.chat.models import ChatUseCase
from tests.chat.helpers import API, make_use_case
from tests.fixtures.factories import invite_and_join

FULL = {
    "name": "Manolo Restaurant",
    "description": "Chatbot of Manolo Restaurant",
    "welcome": "Hi, I am a chatbot. What can I help you with?",
    "instructions": "Be brief.",
    "temperature": 0.3,
    "max_tokens": 800,
    "strict": False,
    "min_confidence": 0.5,
    "words_for_manual": ["human", " Person ", "human"],
    "words_for_attention": ["complaint"],
    "timeout_for_auto_msg_s": 100,
    "auto_msg": "Still there?",
    "manual_message": "A person is with you now.",
    "allowed_origins": ["https://manolo.example", "http://localhost:8080/"],
}


def test_create_get_list_update_delete(client, owner):
    r = client.post(f"{API}/use-cases", json=FULL, headers=owner.headers)
    assert r.status_code == 201, r.text
    uc = r.json()
    assert uc["name"] == "Manolo Restaurant" and uc["status"] == "open"
    assert uc["words_for_manual"] == ["human", "Person"]  # trimmed, repeats dropped
    assert uc["allowed_origins"] == ["https://manolo.example", "http://localhost:8080"]
    assert uc["opened_at"] and uc["closed_at"] is None and uc["tokens"] == 0
    assert uc["index"] == {
        "status": "empty",
        "version": 0,
        "passages": 0,
        "error": None,
        "indexed_at": None,
    }
    assert len(uc["hash"]) >= 20 and uc["provider_id"] is None
    for field, value in FULL.items():
        if field not in ("words_for_manual", "allowed_origins"):
            assert uc[field] == value, field

    got = client.get(f"{API}/use-cases/{uc['id']}", headers=owner.headers).json()
    assert got["hash"] == uc["hash"]
    listed = client.get(f"{API}/use-cases", headers=owner.headers).json()
    assert set(listed) == {"items", "total", "offset", "limit", "has_more"}
    assert listed["total"] == 1 and listed["items"][0]["id"] == uc["id"]
    assert client.get(f"{API}/use-cases?q=nothing", headers=owner.headers).json()["total"] == 0
    assert client.get(f"{API}/use-cases?q=manolo", headers=owner.headers).json()["total"] == 1

    r = client.patch(
        f"{API}/use-cases/{uc['id']}",
        json={"welcome": "Hello!", "timeout_for_auto_msg_s": None, "temperature": 1.5},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["welcome"] == "Hello!" and changed["timeout_for_auto_msg_s"] is None
    assert changed["temperature"] == 1.5 and changed["name"] == "Manolo Restaurant"
    assert changed["hash"] == uc["hash"]

    audit = client.get("/api/v1/audit?action=chat.use_case.*", headers=owner.headers).json()
    actions = [e["action"] for e in audit["items"]]
    assert "chat.use_case.create" in actions and "chat.use_case.update" in actions

    r = client.delete(f"{API}/use-cases/{uc['id']}", headers=owner.headers)
    assert r.status_code == 204
    r = client.get(f"{API}/use-cases/{uc['id']}", headers=owner.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_hashes_are_unique_and_random(client, owner):
    hashes = {make_use_case(client, owner, name=f"bot {i}")["hash"] for i in range(5)}
    assert len(hashes) == 5


def test_open_and_close(client, owner, frozen_clock):
    uc = make_use_case(client, owner)
    r = client.post(f"{API}/use-cases/{uc['id']}/close", headers=owner.headers)
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert client.get(f"{API}/use-cases?status=closed", headers=owner.headers).json()["total"] == 1
    assert client.get(f"{API}/use-cases?status=open", headers=owner.headers).json()["total"] == 0
    # Closing again changes nothing.
    again = client.post(f"{API}/use-cases/{uc['id']}/close", headers=owner.headers).json()
    assert again["closed_at"] == closed["closed_at"]
    r = client.post(f"{API}/use-cases/{uc['id']}/open", headers=owner.headers)
    opened = r.json()
    assert opened["status"] == "open" and opened["closed_at"] is None and opened["opened_at"]


def test_closed_use_case_refuses_through_require_open(db, client, owner):
    from augury.chat.services import use_cases
    from augury.errors import Conflict

    uc = make_use_case(client, owner)
    client.post(f"{API}/use-cases/{uc['id']}/close", headers=owner.headers)
    with db.session() as session:
        row = session.get(ChatUseCase, uc["id"])
        with pytest.raises(Conflict):
            use_cases.require_open(row)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "a", "temperature": 2.5}, "temperature"),
        ({"name": "a", "temperature": -0.1}, "temperature"),
        ({"name": "a", "max_tokens": 0}, "max_tokens"),
        ({"name": "a", "max_tokens": 32001}, "max_tokens"),
        ({"name": "a", "min_confidence": 1.5}, "min_confidence"),
        ({"name": "a", "timeout_for_auto_msg_s": 4}, "timeout_for_auto_msg_s"),
        ({"name": "a", "words_for_manual": ["x" * 101]}, "words_for_manual"),
        ({"name": "a", "allowed_origins": ["manolo.example"]}, "allowed_origins"),
        ({"name": "a", "allowed_origins": ["https://manolo.example/page"]}, "allowed_origins"),
        ({"name": "a", "allowed_origins": ["ftp://manolo.example"]}, "allowed_origins"),
        ({"name": "a", "unknown": 1}, "unknown"),
    ],
)
def test_validation_errors(client, owner, body, field):
    r = client.post(f"{API}/use-cases", json=body, headers=owner.headers)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in r.text


def test_patch_refuses_null_for_required_fields(client, owner):
    uc = make_use_case(client, owner)
    r = client.patch(f"{API}/use-cases/{uc['id']}", json={"name": None}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"


def _provider(db, org_id: int, name: str = "LLM") -> int:
    from augury.analytics.models import AIProvider

    with db.session() as session:
        row = AIProvider(org_id=org_id, name=name, base_url="http://127.0.0.1:9/v1", model="m")
        session.add(row)
        session.commit()
        return row.id


def test_provider_must_be_the_organizations(db, client, owner, other_org_owner):
    theirs = _provider(db, other_org_owner.org_id)
    r = client.post(
        f"{API}/use-cases", json={"name": "a", "provider_id": theirs}, headers=owner.headers
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "provider_id"
    ours = _provider(db, owner.org_id)
    r = client.post(
        f"{API}/use-cases", json={"name": "a", "provider_id": ours}, headers=owner.headers
    )
    assert r.status_code == 201 and r.json()["provider_id"] == ours
    r = client.patch(
        f"{API}/use-cases/{r.json()['id']}", json={"provider_id": theirs}, headers=owner.headers
    )
    assert r.status_code == 422


def test_another_organizations_use_case_is_404(client, owner, other_org_owner):
    uc = make_use_case(client, owner)
    for method, path in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/open"),
        ("POST", "/close"),
        ("GET", "/knowledge"),
    ]:
        kwargs = {"json": {"name": "x"}} if method == "PATCH" else {}
        r = client.request(
            method, f"{API}/use-cases/{uc['id']}{path}", headers=other_org_owner.headers, **kwargs
        )
        assert r.status_code == 404, (method, path, r.text)
    listed = client.get(f"{API}/use-cases", headers=other_org_owner.headers).json()
    assert listed["total"] == 0


def test_viewers_read_but_do_not_write(client, owner):
    uc = make_use_case(client, owner)
    viewer = invite_and_join(client, owner, "viewer")
    assert client.get(f"{API}/use-cases/{uc['id']}", headers=viewer.headers).status_code == 200
    assert client.get(f"{API}/use-cases", headers=viewer.headers).json()["total"] == 1
    r = client.post(f"{API}/use-cases", json={"name": "x"}, headers=viewer.headers)
    assert r.status_code == 403
    r = client.post(f"{API}/use-cases/{uc['id']}/close", headers=viewer.headers)
    assert r.status_code == 403
    r = client.post(
        f"{API}/use-cases/{uc['id']}/knowledge",
        json={"kind": "sentence", "text": "hi"},
        headers=viewer.headers,
    )
    assert r.status_code == 403


def test_delete_takes_the_knowledge_and_passages(db, client, owner):
    from sqlalchemy import func, select

    from augury.chat.models import ChatKnowledge, ChatPassage
    from tests.chat.helpers import add_sentence

    uc = make_use_case(client, owner)
    add_sentence(client, owner, uc["id"], "We open at nine.")
    assert client.delete(f"{API}/use-cases/{uc['id']}", headers=owner.headers).status_code == 204
    with db.session() as session:
        for model in (ChatKnowledge, ChatPassage):
            left = session.scalar(
                select(func.count()).select_from(model).where(model.use_case_id == uc["id"])
            )
            assert left == 0, model
