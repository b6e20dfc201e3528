"""The widget's public side: no sign-in, the use case's hash and the chat's token, CORS
from the use case's allowed origins, a rate limit per visitor, 404 for any other
organization's or use case's chat, 409 for a closed use case."""

from __future__ import annotations

import pytest

from augury.chat.models import Chat
from tests.chat.conversation import bot, events
from tests.chat.helpers import API

HOURS = "We open at nine in the morning and close at six in the evening, Monday to Saturday."
SITE = "https://shop.example.com"


@pytest.fixture
def limited(settings):
    """The per-visitor limits on (the tests' settings raise the global ones)."""
    settings.ratelimit.enabled = True
    return settings


def widget(use_case: dict) -> str:
    return f"{API}/widget/{use_case['hash']}"


def start(client, use_case: dict, **headers) -> dict:
    r = client.post(f"{widget(use_case)}/chats", json={"visitor": "Ana"}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_visitor_chats_with_the_token_alone(client, owner, db):
    use_case = bot(client, owner, [HOURS], welcome="Hi! Ask away.")
    info = client.get(widget(use_case)).json()
    assert info == {"name": use_case["name"], "welcome": "Hi! Ask away.", "status": "open"}

    opened = start(client, use_case)
    token, cid = opened["token"], opened["chat_id"]
    assert [m["text"] for m in opened["messages"]] == ["Hi! Ask away."]
    assert len(token) >= 40
    with db.session() as s:
        stored = s.get(Chat, cid)
        assert stored.channel == "widget" and stored.token_hash != token
        assert len(stored.token_hash) == 64

    h = {"X-Chat-Token": token}
    turn = client.post(
        f"{widget(use_case)}/chats/{cid}/messages", json={"text": "When do you open?"}, headers=h
    )
    assert turn.status_code == 201, turn.text
    answer = turn.json()["answer"]
    assert "nine" in answer["text"] and "error" not in answer and "author_id" not in answer
    streamed = client.post(
        f"{widget(use_case)}/chats/{cid}/messages",
        json={"text": "And when do you close?"},
        headers={**h, "Accept": "text/event-stream"},
    )
    assert [k for k, _ in events(streamed.text)][-2:] == ["answer", "chat"]
    listed = client.get(f"{widget(use_case)}/chats/{cid}/messages", headers=h).json()
    assert len(listed) == 5
    rated = client.patch(
        f"{widget(use_case)}/chats/{cid}/messages/{answer['id']}",
        json={"rating": "good"},
        headers=h,
    )
    assert rated.status_code == 200 and rated.json()["rating"] == "good"
    # The organization sees the visitor's chat.
    seen = client.get(f"{API}/chats/{cid}", headers=owner.headers).json()
    assert seen["channel"] == "widget" and seen["visitor"] == "Ana"

    assert client.post(f"{widget(use_case)}/chats/{cid}/finish", headers=h).status_code == 204
    late = client.post(f"{widget(use_case)}/chats/{cid}/messages", json={"text": "wait"}, headers=h)
    assert late.status_code == 409


def test_a_wrong_token_or_another_use_cases_chat_is_404(client, owner, other_org_owner):
    ours = bot(client, owner, [HOURS])
    other = bot(client, owner, [HOURS], name="Other")
    theirs = bot(client, other_org_owner, [HOURS])
    mine = start(client, ours)
    foreign = start(client, theirs)
    cid = mine["chat_id"]
    cases = [
        (widget(ours), cid, "not-the-token"),
        (widget(ours), cid, None),
        (widget(other), cid, mine["token"]),  # the right token, another use case
        (widget(theirs), cid, mine["token"]),  # another organization's use case
        (widget(ours), foreign["chat_id"], foreign["token"]),  # their chat by our hash
        (f"{API}/widget/no-such-hash", cid, mine["token"]),
    ]
    for base, chat_id, token in cases:
        h = {"X-Chat-Token": token} if token else {}
        for method, path, body in (
            ("GET", f"{base}/chats/{chat_id}/messages", None),
            ("POST", f"{base}/chats/{chat_id}/messages", {"text": "hi"}),
            ("PATCH", f"{base}/chats/{chat_id}/messages/1", {"rating": "good"}),
            ("POST", f"{base}/chats/{chat_id}/finish", None),
        ):
            r = client.request(method, path, json=body, headers=h)
            assert r.status_code == 404, (method, path, token, r.status_code, r.text)
            assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    # A signed-in member of another organization cannot reach the chat either.
    r = client.get(f"{API}/chats/{cid}", headers=other_org_owner.headers)
    assert r.status_code == 404


def test_a_closed_use_case_answers_409(client, owner):
    use_case = bot(client, owner, [HOURS])
    opened = start(client, use_case)
    client.post(f"{API}/use-cases/{use_case['id']}/close", headers=owner.headers)

    assert client.get(widget(use_case)).json()["status"] == "closed"
    assert client.post(f"{widget(use_case)}/chats", json={}).status_code == 409
    r = client.post(
        f"{widget(use_case)}/chats/{opened['chat_id']}/messages",
        json={"text": "hi"},
        headers={"X-Chat-Token": opened["token"]},
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"


def test_cors_follows_the_use_cases_allowed_origins(client, owner):
    use_case = bot(client, owner, [HOURS], allowed_origins=[SITE])
    preflight = {"Origin": SITE, "Access-Control-Request-Method": "POST"}

    ok = client.options(f"{widget(use_case)}/chats", headers=preflight)
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == SITE
    assert "X-Chat-Token" in ok.headers["access-control-allow-headers"]
    refused = client.options(
        f"{widget(use_case)}/chats", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers

    got = client.get(widget(use_case), headers={"Origin": SITE})
    assert got.headers["access-control-allow-origin"] == SITE
    other = client.get(widget(use_case), headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    opened = client.post(f"{widget(use_case)}/chats", json={}, headers={"Origin": SITE})
    assert opened.headers["access-control-allow-origin"] == SITE
    streamed = client.post(
        f"{widget(use_case)}/chats/{opened.json()['chat_id']}/messages",
        json={"text": "When do you open?"},
        headers={
            "Origin": SITE,
            "Accept": "text/event-stream",
            "X-Chat-Token": opened.json()["token"],
        },
    )
    assert streamed.headers["access-control-allow-origin"] == SITE


def test_a_flood_of_messages_is_429_with_retry_after(client, owner, limited, frozen_clock):
    use_case = bot(client, owner, [HOURS])
    opened = start(client, use_case)
    h = {"X-Chat-Token": opened["token"]}
    url = f"{widget(use_case)}/chats/{opened['chat_id']}/messages"

    codes = [client.post(url, json={"text": f"hi {i}"}, headers=h).status_code for i in range(21)]

    assert codes[:20] == [201] * 20 and codes[20] == 429
    r = client.post(url, json={"text": "again"}, headers=h)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    frozen_clock.advance(61)
    assert client.post(url, json={"text": "later"}, headers=h).status_code == 201


def test_opening_chats_is_limited_per_address(client, owner, limited, frozen_clock):
    use_case = bot(client, owner, [HOURS], allowed_origins=[SITE])
    url = f"{widget(use_case)}/chats"
    codes = [client.post(url, json={}).status_code for _ in range(10)]
    refused = client.post(url, json={}, headers={"Origin": SITE})
    assert codes == [201] * 10 and refused.status_code == 429
    # The page can read why, and when to try again.
    assert refused.headers["access-control-allow-origin"] == SITE
    assert "Retry-After" in refused.headers["access-control-expose-headers"]
    assert refused.headers["retry-after"]


def test_errors_carry_the_cors_headers_for_an_allowed_origin(client, owner):
    use_case = bot(client, owner, [HOURS], allowed_origins=[SITE])
    missing = client.get(
        f"{widget(use_case)}/chats/999/messages",
        headers={"Origin": SITE, "X-Chat-Token": "nope"},
    )
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == SITE
    opened = start(client, use_case)
    invalid = client.post(
        f"{widget(use_case)}/chats/{opened['chat_id']}/messages",
        json={"text": ""},
        headers={"Origin": SITE, "X-Chat-Token": opened["token"]},
    )
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "VALIDATION_ERROR"
    assert invalid.headers["access-control-allow-origin"] == SITE
