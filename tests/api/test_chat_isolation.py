"""Organization isolation and roles for every route of chat, ``/api/v1/chat``.

As ``test_text_isolation``: every operation the OpenAPI document has under
``/api/v1/chat`` is called with the ids of one of everything built in organization A
(a use case, a piece of knowledge, a chat with a question and an answer). Another
organization's owner (JWT) and admin key get 404 on each, A's data is unchanged
afterwards, and A's viewer gets 403 on every write. The widget's routes are public
(the use case's hash and the chat's token are the credentials): they are left out of
the matrix and checked here for a hash or token that names another organization's or
another use case's chat.
"""

from __future__ import annotations

import pytest

from tests.api import isolation
from tests.fixtures.factories import Account, invite_and_join

API = "/api/v1/chat"
PREFIXES = ("/api/v1/chat",)
PUBLIC = "/api/v1/chat/widget/"
"""The widget's routes: no sign-in."""
READ_BY_POST: set[tuple[str, str]] = set()
QUERIES = {"/api/v1/chat/use-cases/{use_case_id}/retrieve": "?q=vault"}
"""Query parameters a read needs."""


def _ok(r, *codes):
    assert r.status_code in (codes or (200, 201)), r.text
    return r.json()


@pytest.fixture
def world(client, owner: Account) -> dict:
    return build_world(client, owner)


def build_world(client, owner: Account) -> dict:
    """One of everything of chat in ``owner``'s organization, by the path parameter
    that names it (the fuzz run uses it too)."""
    h = owner.headers
    use_case = _ok(
        client.post(
            f"{API}/use-cases",
            json={"name": "secret bot", "welcome": "Hello!", "strict": False},
            headers=h,
        )
    )
    uid = use_case["id"]
    piece = _ok(
        client.post(
            f"{API}/use-cases/{uid}/knowledge",
            json={"kind": "sentence", "text": "The secret vault opens at nine."},
            headers=h,
        )
    )
    opened = _ok(client.post(f"{API}/chats", json={"use_case_id": uid}, headers=h))
    cid = opened["chat"]["id"]
    turn = _ok(
        client.post(f"{API}/chats/{cid}/messages", json={"text": "When does it open?"}, headers=h)
    )
    return {
        "use_case_id": uid,
        "knowledge_id": piece["id"],
        "chat_id": cid,
        "message_id": turn["answer"]["id"],
        "hash": use_case["hash"],
    }


def _operations(client) -> list[tuple[str, str]]:
    return [(m, t) for m, t in isolation.operations(client, PREFIXES) if not t.startswith(PUBLIC)]


def _snapshot(client, owner: Account, ids: dict) -> list:
    uid, cid, h = ids["use_case_id"], ids["chat_id"], owner.headers
    paths = (
        f"{API}/use-cases/{uid}",
        f"{API}/use-cases/{uid}/knowledge",
        f"{API}/chats",
        f"{API}/chats/{cid}",
        f"{API}/chats/{cid}/messages",
        f"{API}/tokens",
    )
    return [client.get(p, headers=h).json() for p in paths]


def test_every_chat_route_is_exercised(client, world):
    ops = _operations(client)
    assert len(ops) >= 25
    isolation.assert_every_id_known(ops, world)


@pytest.mark.parametrize("as_key", [False, True], ids=["jwt", "api_key"])
def test_another_organization_gets_404_everywhere(client, owner, other_org_owner, world, as_key):
    intruder = isolation.intruder(client, other_org_owner, as_key)
    before = _snapshot(client, owner, world)
    assert client.get(f"{API}/use-cases", headers=intruder).json()["total"] == 0
    assert client.get(f"{API}/chats", headers=intruder).json()["total"] == 0
    assert client.get(f"{API}/tokens", headers=intruder).json()["tokens"] == 0
    opened = client.post(
        f"{API}/chats", json={"use_case_id": world["use_case_id"]}, headers=intruder
    )
    assert opened.status_code == 404, opened.text
    for method, template in _operations(client):
        path = isolation.fill(template, world)
        if path is None:
            continue
        r = client.request(method, path, headers=intruder)
        isolation.assert_hidden(r, method, template, as_key)
    assert _snapshot(client, owner, world) == before


def test_a_viewer_reads_but_every_write_is_403(client, owner, world):
    viewer = invite_and_join(client, owner, "viewer")
    before = _snapshot(client, owner, world)
    writes = [(m, t) for m, t in _operations(client) if m != "GET" and (m, t) not in READ_BY_POST]
    assert len(writes) >= 15
    for method, template in writes:
        path = isolation.fill(template, world) or template
        r = client.request(method, path, headers=viewer.headers)
        assert r.status_code == 403, (method, template, r.status_code, r.text)
    for method, template in _operations(client):
        if method == "GET":
            path = (isolation.fill(template, world) or template) + QUERIES.get(template, "")
            r = client.get(path, headers=viewer.headers)
            assert r.status_code == 200, (template, r.status_code, r.text)
    assert _snapshot(client, owner, world) == before


def test_the_widget_names_a_chat_by_hash_and_token_only(client, owner, other_org_owner, world):
    theirs = build_world(client, other_org_owner)
    mine = client.post(f"{API}/widget/{world['hash']}/chats", json={}).json()
    foreign = client.post(f"{API}/widget/{theirs['hash']}/chats", json={}).json()
    public = [t for m, t in isolation.operations(client, PREFIXES) if t.startswith(PUBLIC)]
    assert len(public) >= 5
    wrong = [
        (theirs["hash"], mine["chat_id"], mine["token"]),  # our chat under their hash
        (world["hash"], foreign["chat_id"], foreign["token"]),  # theirs under ours
        (world["hash"], mine["chat_id"], foreign["token"]),  # our chat, their token
        (world["hash"], world["chat_id"], mine["token"]),  # a signed-in chat: no token
        ("no-such-hash", mine["chat_id"], mine["token"]),
    ]
    for method, template in isolation.operations(client, PREFIXES):
        if not template.startswith(PUBLIC) or "{chat_id}" not in template:
            continue
        for hash_, chat_id, token in wrong:
            ids = {"hash": hash_, "chat_id": chat_id, "message_id": world["message_id"]}
            r = client.request(
                method, isolation.fill(template, ids), headers={"X-Chat-Token": token}
            )
            assert r.status_code == 404, (method, template, hash_, r.status_code, r.text)
            assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
