"""AIchat (a prompt's completion or its token count) and the token totals."""

from __future__ import annotations

import pytest

from augury.engines.chat import tokens
from tests.chat.conversation import add_provider, bot, open_chat, say
from tests.chat.helpers import API
from tests.fixtures.llm_server import FakeLLM


@pytest.fixture
def llm():
    with FakeLLM() as fake:
        yield fake


def test_tokens_only_counts_offline_without_a_provider(client, owner):
    r = client.post(
        f"{API}/aichat", json={"prompt": "Hello world", "tokens": True}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    expected = tokens.count_messages([{"role": "user", "content": "Hello world"}])
    assert r.json() == {"tokens": {"prompt": expected, "counted_by": "tokenizer"}}


def test_no_provider_is_a_clear_409(client, owner):
    r = client.post(f"{API}/aichat", json={"prompt": "Hello"}, headers=owner.headers)
    assert r.status_code == 409
    assert "provider" in r.json()["error"]["message"]


def test_the_default_provider_completes_the_prompt(client, owner, llm):
    add_provider(client, owner, llm, is_default=True)
    llm.answer("Write a haiku", text="Autumn moon rises", usage=(12, 4))

    r = client.post(
        f"{API}/aichat", json={"prompt": "Write a haiku", "max_tokens": 50}, headers=owner.headers
    )

    assert r.status_code == 200, r.text
    assert r.json() == {
        "completion": "Autumn moon rises",
        "tokens": {"prompt": 12, "completion": 4, "total": 16, "counted_by": "provider"},
        "engine": "provider:local",
    }
    (request,) = llm.requests
    assert request.body["max_tokens"] == 50 and request.body["stream"] is True


def test_a_message_list_and_a_named_provider(client, owner, llm):
    provider = add_provider(client, owner, llm)
    llm.answer("and now?", text="Now this.", report_usage=False)
    prompt = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "and now?"},
    ]

    r = client.post(
        f"{API}/aichat",
        json={"prompt": prompt, "provider_id": provider["id"]},
        headers=owner.headers,
    )

    body = r.json()
    assert body["completion"] == "Now this."
    assert body["tokens"]["counted_by"] == "tokenizer"
    assert body["tokens"]["prompt"] == tokens.count_messages(prompt)


def test_a_failing_provider_is_502(client, owner, llm):
    add_provider(client, owner, llm, is_default=True)
    llm.answer("boom", status=500, text="down")
    r = client.post(f"{API}/aichat", json={"prompt": "boom"}, headers=owner.headers)
    assert r.status_code == 502 and r.json()["error"]["code"] == "PROVIDER_ERROR"


def test_another_organizations_provider_is_404(client, owner, other_org_owner, llm):
    provider = add_provider(client, owner, llm)
    r = client.post(
        f"{API}/aichat",
        json={"prompt": "hi", "provider_id": provider["id"]},
        headers=other_org_owner.headers,
    )
    assert r.status_code == 404


def test_token_totals_add_chats_and_aichat(client, owner, other_org_owner):
    use_case = bot(client, owner, ["We open at nine in the morning."])
    chat = open_chat(client, owner, use_case["id"])["chat"]
    answer = say(client, owner, chat["id"], "When do you open?").json()["answer"]
    client.patch(
        f"{API}/chats/{chat['id']}/messages/{answer['id']}",
        json={"rating": "bad"},
        headers=owner.headers,
    )
    client.post(
        f"{API}/aichat", json={"prompt": "Hello world", "tokens": True}, headers=owner.headers
    )

    totals = client.get(f"{API}/tokens", headers=owner.headers).json()

    messages = client.get(f"{API}/chats/{chat['id']}/messages", headers=owner.headers).json()
    in_chat = sum(m["tokens"] for m in messages)
    counted = tokens.count_messages([{"role": "user", "content": "Hello world"}])
    assert totals["messages"] == in_chat and totals["aichat"] == counted
    assert totals["tokens"] == in_chat + counted
    assert totals["ratings"] == {"good": 0, "bad": 1}
    assert totals["use_cases"] == [
        {"use_case_id": use_case["id"], "name": use_case["name"], "tokens": in_chat}
    ]
    assert len(totals["days"]) == 1 and totals["days"][0]["tokens"] == in_chat + counted
    theirs = client.get(f"{API}/tokens", headers=other_org_owner.headers).json()
    assert theirs["tokens"] == 0 and theirs["use_cases"] == []
    assert theirs["ratings"] == {"good": 0, "bad": 0}
    empty = client.get(f"{API}/tokens?from=2099-01-01T00:00:00Z", headers=owner.headers).json()
    assert empty["tokens"] == 0
