"""Chats over HTTP: opening one (the welcome first), messages, handover words, takeover
and release, ratings, finishing, listing with filters, and the automatic message."""

from __future__ import annotations

import time

from augury.chat.models import Chat
from augury.chat.services.auto_messages import AutoMessages
from tests.chat.conversation import bot, open_chat, say, stream
from tests.chat.helpers import API
from tests.fixtures.factories import invite_and_join

HOURS = "We open at nine in the morning and close at six in the evening, Monday to Saturday."
RETURNS = "Returns are accepted within 30 days with the receipt."


def test_a_chat_starts_with_the_welcome_and_answers_from_the_knowledge(client, owner):
    use_case = bot(client, owner, [HOURS, RETURNS], welcome="Hello! Ask me anything.")
    opened = open_chat(client, owner, use_case["id"], visitor="Ana")
    chat = opened["chat"]
    assert chat["control"] == "bot" and chat["status"] == "active" and chat["visitor"] == "Ana"
    assert [(m["role"], m["text"]) for m in opened["messages"]] == [
        ("assistant", "Hello! Ask me anything.")
    ]

    r = say(client, owner, chat["id"], "When do you open in the morning?")

    assert r.status_code == 201, r.text
    turn = r.json()
    assert turn["question"]["role"] == "user" and turn["question"]["tokens"] > 0
    answer = turn["answer"]
    assert answer["role"] == "assistant" and answer["engine"] == "offline"
    assert "nine" in answer["text"]
    assert answer["sources"] and answer["sources"][0]["title"] is not None
    assert answer["tokens"] > 0 and answer["error"] is None
    assert turn["chat"]["control"] == "bot"
    listed = client.get(f"{API}/chats/{chat['id']}/messages", headers=owner.headers).json()
    assert [m["role"] for m in listed] == ["assistant", "user", "assistant"]
    after = client.get(
        f"{API}/chats/{chat['id']}/messages?after_id={listed[1]['id']}", headers=owner.headers
    ).json()
    assert [m["id"] for m in after] == [listed[2]["id"]]
    got = client.get(f"{API}/chats/{chat['id']}", headers=owner.headers).json()
    assert got["tokens"] == sum(m["tokens"] for m in listed)


def test_the_answer_streams_as_server_sent_events(client, owner):
    use_case = bot(client, owner, [HOURS])
    chat = open_chat(client, owner, use_case["id"])["chat"]

    got = stream(client, owner, chat["id"], "When do you open?")

    kinds = [k for k, _ in got]
    assert kinds[0] == "question" and kinds[-2:] == ["answer", "chat"]
    assert "token" in kinds
    answer = got[-2][1]
    assert "".join(d["text"] for k, d in got if k == "token") == answer["text"]
    assert got[-1][1]["control"] == "bot"
    stored = client.get(f"{API}/chats/{chat['id']}/messages", headers=owner.headers).json()
    assert stored[-1]["id"] == answer["id"] and stored[-2]["id"] == got[0][1]["id"]


def test_words_for_a_person_hand_over_and_the_bot_stays_quiet(client, owner):
    use_case = bot(
        client,
        owner,
        [HOURS],
        words_for_manual=["human", "complaint"],
        manual_message="Marta will be with you in a minute.",
    )
    chat = open_chat(client, owner, use_case["id"])["chat"]

    turn = say(client, owner, chat["id"], "I want to talk to a HUMAN please").json()

    assert turn["answer"] is None
    assert turn["notice"]["text"] == "Marta will be with you in a minute."
    assert turn["chat"]["control"] == "person"
    # Now the member's message is the person's answer.
    reply = say(client, owner, chat["id"], "Hi, Marta here.").json()
    assert reply["question"]["role"] == "assistant" and reply["question"]["author"] == "person"
    got = client.get(f"{API}/chats/{chat['id']}", headers=owner.headers).json()
    assert got["managed_by_id"] == owner.user_id


def test_words_for_attention_flag_the_chat_and_the_bot_still_answers(client, owner):
    use_case = bot(client, owner, [RETURNS], words_for_attention=["lawyer"])
    chat = open_chat(client, owner, use_case["id"])["chat"]

    turn = say(client, owner, chat["id"], "My lawyer says returns take 30 days?").json()

    assert turn["answer"] is not None
    got = client.get(f"{API}/chats/{chat['id']}", headers=owner.headers).json()
    assert got["attention"] is True and "lawyer" in got["attention_reason"]
    flagged = client.get(f"{API}/chats?attention=true", headers=owner.headers).json()
    assert [c["id"] for c in flagged["items"]] == [chat["id"]]
    assert client.get(f"{API}/chats?attention=false", headers=owner.headers).json()["total"] == 0


def test_takeover_release_rating_and_finish(client, owner):
    use_case = bot(client, owner, [HOURS], manual_message="A person is here.")
    chat = open_chat(client, owner, use_case["id"])["chat"]
    cid = chat["id"]
    answer = say(client, owner, cid, "When do you open?").json()["answer"]

    taken = client.post(f"{API}/chats/{cid}/takeover", headers=owner.headers).json()
    assert taken["chat"]["control"] == "person" and taken["chat"]["managed_by_id"] == owner.user_id
    assert [m["text"] for m in taken["messages"]] == ["A person is here."]
    by_control = client.get(f"{API}/chats?control=person", headers=owner.headers).json()
    assert by_control["total"] == 1
    released = client.post(f"{API}/chats/{cid}/release", headers=owner.headers).json()
    assert released["control"] == "bot" and released["managed_by_id"] is None

    rated = client.patch(
        f"{API}/chats/{cid}/messages/{answer['id']}", json={"rating": "bad"}, headers=owner.headers
    )
    assert rated.status_code == 200 and rated.json()["rating"] == "bad"
    cleared = client.patch(
        f"{API}/chats/{cid}/messages/{answer['id']}", json={"rating": None}, headers=owner.headers
    )
    assert cleared.json()["rating"] is None
    bad = client.patch(
        f"{API}/chats/{cid}/messages/{answer['id']}", json={"rating": "meh"}, headers=owner.headers
    )
    assert bad.status_code == 422

    finished = client.post(f"{API}/chats/{cid}/finish", headers=owner.headers).json()
    assert finished["status"] == "finished" and finished["finished_at"]
    late = say(client, owner, cid, "one more thing")
    assert late.status_code == 409 and late.json()["error"]["code"] == "CONFLICT"
    assert client.get(f"{API}/chats?status=finished", headers=owner.headers).json()["total"] == 1


def test_a_closed_use_case_takes_no_chats_or_messages(client, owner):
    use_case = bot(client, owner, [HOURS])
    chat = open_chat(client, owner, use_case["id"])["chat"]
    r = client.post(f"{API}/use-cases/{use_case['id']}/close", headers=owner.headers)
    assert r.status_code == 200, r.text

    opened = client.post(
        f"{API}/chats", json={"use_case_id": use_case["id"]}, headers=owner.headers
    )
    posted = say(client, owner, chat["id"], "hello?")

    assert opened.status_code == 409 and "closed" in opened.json()["error"]["message"]
    assert posted.status_code == 409


def test_a_message_too_long_is_refused_whole(client, owner):
    use_case = bot(client, owner, [HOURS])
    chat = open_chat(client, owner, use_case["id"])["chat"]

    r = say(client, owner, chat["id"], "word " * 100_000)

    assert r.status_code in (413, 422), r.text
    assert r.json()["error"]["code"] in ("VALIDATION_ERROR", "PAYLOAD_TOO_LARGE")
    stored = client.get(f"{API}/chats/{chat['id']}/messages", headers=owner.headers).json()
    assert stored == []


def test_chats_are_listed_newest_activity_first(client, owner, frozen_clock):
    use_case = bot(client, owner, [HOURS])
    first = open_chat(client, owner, use_case["id"])["chat"]
    frozen_clock.advance(5)
    second = open_chat(client, owner, use_case["id"])["chat"]
    frozen_clock.advance(5)
    say(client, owner, first["id"], "When do you open?")

    page = client.get(f"{API}/chats?use_case_id={use_case['id']}", headers=owner.headers).json()

    assert [c["id"] for c in page["items"]] == [first["id"], second["id"]]
    assert page["total"] == 2


def test_a_viewer_reads_chats_but_cannot_write(client, owner):
    use_case = bot(client, owner, [HOURS])
    chat = open_chat(client, owner, use_case["id"])["chat"]
    viewer = invite_and_join(client, owner, "viewer")

    assert client.get(f"{API}/chats/{chat['id']}", headers=viewer.headers).status_code == 200
    assert say(client, viewer, chat["id"], "hi").status_code == 403


def test_the_automatic_message_is_sent_once_after_the_timeout(client, owner, db, frozen_clock):
    use_case = bot(
        client,
        owner,
        [HOURS],
        words_for_manual=["person"],
        timeout_for_auto_msg_s=60,
        auto_msg="Sorry for the wait, we are still here.",
    )
    widget = f"{API}/widget/{use_case['hash']}"
    opened = client.post(f"{widget}/chats", json={}).json()
    chat = {"id": opened["chat_id"]}
    h = {"X-Chat-Token": opened["token"]}
    for text in ("a person please", "hello?"):  # the bot stays quiet after the first
        r = client.post(f"{widget}/chats/{chat['id']}/messages", json={"text": text}, headers=h)
        assert r.status_code == 201, r.text
    task = AutoMessages()

    frozen_clock.advance(30)
    assert task.run(db) == 0
    frozen_clock.advance(31)
    assert task.run(db) == 1
    frozen_clock.advance(600)
    assert task.run(db) == 0

    stored = client.get(f"{API}/chats/{chat['id']}/messages", headers=owner.headers).json()
    assert stored[-1]["text"] == "Sorry for the wait, we are still here."
    assert stored[-1]["author"] == "auto"
    with db.session() as s:
        assert s.get(Chat, chat["id"]).auto_msg_sent_at is not None


def test_an_answer_is_stored_even_when_the_visitor_leaves_mid_stream(client, owner):
    use_case = bot(client, owner, [HOURS])
    chat = open_chat(client, owner, use_case["id"])["chat"]

    with client.stream(
        "POST",
        f"{API}/chats/{chat['id']}/messages",
        json={"text": "When do you open?"},
        headers={**owner.headers, "Accept": "text/event-stream"},
    ) as r:
        assert r.status_code == 200
        next(r.iter_lines())  # the question's event, then the visitor goes

    deadline = time.monotonic() + 10
    while True:  # the answer is written after the visitor left
        stored = client.get(f"{API}/chats/{chat['id']}/messages", headers=owner.headers).json()
        if len(stored) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert "nine" in stored[-1]["text"]


def _notified(client, account) -> list[dict]:
    r = client.get("/api/v1/notifications", headers=account.headers)
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["kind"].startswith("chat.")]


def test_handover_and_attention_words_alert_the_operators_once(client, owner, db):
    from tests.webhooks.test_sources import events_of

    member = invite_and_join(client, owner, "member")
    viewer = invite_and_join(client, owner, "viewer")
    use_case = bot(
        client, owner, [RETURNS], words_for_manual=["human"], words_for_attention=["lawyer"]
    )
    chat = open_chat(client, owner, use_case["id"], visitor="Ana")["chat"]

    say(client, owner, chat["id"], "My lawyer asks about returns")
    say(client, owner, chat["id"], "My lawyer again")  # already flagged: no second alert

    [attention] = events_of(db, owner.org_id, "chat.attention")
    assert attention.data["chat_id"] == chat["id"] and attention.data["words"] == ["lawyer"]
    for person in (owner, member):
        [note] = _notified(client, person)
        assert note["kind"] == "chat.attention" and "Ana wrote: My lawyer" in note["body"]
        assert note["link"] == f"/chat/live?chat={chat['id']}"
    assert _notified(client, viewer) == []

    client.post(f"{API}/chats/{chat['id']}/takeover", headers=member.headers)
    client.post(f"{API}/chats/{chat['id']}/release", headers=member.headers)
    # Released: nobody manages it, so a handover word alerts every operator again.
    say(client, owner, chat["id"], "a human please")
    [handover] = events_of(db, owner.org_id, "chat.handover")
    assert handover.data["words"] == ["human"]
    assert [n["kind"] for n in _notified(client, member)] == ["chat.handover", "chat.attention"]
