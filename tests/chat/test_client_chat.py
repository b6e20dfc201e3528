"""``augury.client.chat`` against a real augury server over HTTP (no mocks): use cases,
knowledge (sentences, files, move, delete), retrieval, and, where the chats routes are
served, a chat whose answer comes from the knowledge."""

from __future__ import annotations

import itertools

import pytest

from augury.client import Client, ConflictError, NotFoundError, ValidationError
from augury.client.chat import Chat

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


@pytest.fixture
def client(live_server):
    with Client(live_server.url, timeout=30) as c:
        c.signup(f"chat{next(_seq)}@example.com", PASSWORD, organization_name="Manolo")
        yield c


@pytest.fixture
def chat(client) -> Chat:
    return client.chat


def test_use_cases_and_knowledge(chat, tmp_path):
    bot = chat.use_cases.create("Manolo", welcome="Hi!", temperature=0.2)
    assert bot["status"] == "open" and bot["welcome"] == "Hi!"
    with pytest.raises(TypeError):
        chat.use_cases.create("x", colour="red")
    with pytest.raises(ValidationError):
        chat.use_cases.create("x", temperature=3)
    assert chat.use_cases.list()["total"] == 1
    assert [u["id"] for u in chat.use_cases.iter()] == [bot["id"]]
    assert chat.use_cases.find(bot["hash"])["id"] == bot["id"]
    assert chat.use_cases.find("Manolo")["id"] == bot["id"]
    assert chat.use_cases.find(str(bot["id"]))["id"] == bot["id"]
    with pytest.raises(NotFoundError):
        chat.use_cases.find("nobody")

    one = chat.knowledge.add_sentence(bot["id"], "We open at nine.", title="Hours")
    more = chat.knowledge.add_sentences(bot["id"], ["Paella on Sundays.", "Parking is free."])
    faq = tmp_path / "faq.md"
    faq.write_text("# Returns\nReturns take 30 days.\n")
    uploaded = chat.knowledge.upload(bot["id"], faq)
    assert uploaded["kind"] == "file" and uploaded["position"] == 4
    listed = chat.knowledge.list(bot["id"])
    assert [p["position"] for p in listed["items"]] == [1, 2, 3, 4] and listed["tokens"] > 0
    moved = chat.knowledge.move(bot["id"], more[1]["id"], "up")
    assert [p["text"] for p in moved["items"]][:3] == [
        "We open at nine.",
        "Parking is free.",
        "Paella on Sundays.",
    ]
    changed = chat.knowledge.update(bot["id"], one["id"], text="We open at ten.")
    assert changed["text"] == "We open at ten."
    chat.knowledge.delete(bot["id"], more[0]["id"])
    assert chat.knowledge.list(bot["id"])["total"] == 3

    found = chat.use_cases.retrieve(bot["id"], "when do you open", k=2)
    assert found["items"][0]["title"] == "Hours"
    assert chat.use_cases.reindex(bot["id"])["status"] == "ready"
    assert chat.use_cases.update(bot["id"], welcome="Hola")["welcome"] == "Hola"
    assert chat.use_cases.close(bot["id"])["status"] == "closed"
    assert chat.use_cases.open(bot["id"])["status"] == "open"
    chat.use_cases.delete(bot["id"])
    with pytest.raises(NotFoundError):
        chat.use_cases.get(bot["id"])


def test_a_chat_answers_from_the_knowledge(client, chat):
    bot = chat.use_cases.create("Manolo", welcome="Hi, I am Manolo's bot.")
    chat.knowledge.add_sentences(
        bot["id"], ["The restaurant opens at nine in the morning.", "Parking is free."]
    )
    opened = chat.chats.open(bot["id"], visitor="Ada")
    assert opened["messages"][0]["text"] == "Hi, I am Manolo's bot."
    chat_id = opened["chat"]["id"]
    answered = chat.chats.send(chat_id, "When does the restaurant open?")
    assert "nine" in answered["answer"]["text"]
    assert answered["answer"]["sources"]
    messages = chat.chats.messages(chat_id)
    assert [m["role"] for m in messages][-2:] == ["user", "assistant"]
    rated = chat.chats.rate(chat_id, answered["answer"]["id"], "good")
    assert rated["rating"] == "good"
    events = [e for e, _ in chat.chats.stream(chat_id, "Is parking free?")]
    assert events[0] == "question" and "answer" in events
    assert chat.chats.takeover(chat_id)["chat"]["control"] == "person"
    assert chat.chats.release(chat_id)["control"] == "bot"
    assert chat.chats.list(use_case_id=bot["id"])["total"] == 1
    chat.chats.finish(chat_id)
    assert chat.chats.get(chat_id)["status"] == "finished"
    counted = chat.count_tokens("Hello world")
    assert counted["tokens"]["prompt"] > 0
    assert "organization" in chat.tokens() or chat.tokens()

    chat.use_cases.close(bot["id"])
    with pytest.raises(ConflictError):
        chat.chats.open(bot["id"])


def test_server_sent_events_are_read():
    import httpx

    from augury.client.chat import _events

    body = (
        b": keep-alive\n\n"
        b'event: question\ndata: {"id": 1}\n\n'
        b'event: token\ndata: {"text": "Hel"}\n\n'
        b"event: note\ndata: plain\ndata: text\n\n"
        b'event: answer\ndata: {"id": 2}'
    )
    events = list(_events(httpx.Response(200, content=body)))
    assert events == [
        ("question", {"id": 1}),
        ("token", {"text": "Hel"}),
        ("note", "plain\ntext"),
        ("answer", {"id": 2}),
    ]


def test_the_widgets_public_side(client, chat, live_server):
    bot = chat.use_cases.create("Manolo", welcome="Hola!")
    chat.knowledge.add_sentence(bot["id"], "Paella is served on Sundays.")
    with Client(live_server.url, timeout=30) as visitor:  # no credentials at all
        widget = Chat(visitor).widget
        assert widget.info(bot["hash"])["welcome"] == "Hola!"
        opened = widget.open(bot["hash"], visitor="Ada")
        chat_id, token = opened["chat_id"], opened["token"]
        turn = widget.send(bot["hash"], chat_id, token, "When is paella served?")
        assert "Sunday" in turn["answer"]["text"]
        events = [e for e, _ in widget.stream(bot["hash"], chat_id, token, "Paella?")]
        assert "answer" in events
        messages = widget.messages(bot["hash"], chat_id, token)
        assert messages[0]["text"] == "Hola!"
        rated = widget.rate(bot["hash"], chat_id, token, turn["answer"]["id"], "bad")
        assert rated["rating"] == "bad"
        widget.finish(bot["hash"], chat_id, token)
        with pytest.raises(NotFoundError):
            widget.messages(bot["hash"], chat_id, "not-the-token")
