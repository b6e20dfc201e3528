"""Chatbots in a real headless Chromium: a chatbot created from the New chatbot dialog,
its knowledge added, reordered, edited and previewed; its test chat answering token by
token with a source, the answer rated; the live console taking a chat over, a person's
answer reaching the visitor on the widget's page, the chat given back and finished; and
the tokens chart.

The server is the real one (``live_server``): answers stream as server-sent events
from the offline answer (no provider), as a website's visitor would get them.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.fixtures.factories import signup
from tests.web.conftest import wait_js
from tests.web.test_ui import api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

CHAT = "/api/v1/chat"
HOURS = "We open at nine in the morning and close at six in the evening, Monday to Saturday."
RETURNS = "Returns are accepted within 30 days with the receipt."
DELIVERY = "Deliveries inside the city arrive the next working day."
CARE = "# Shoe care\n\nLeather shoes are cleaned with a damp cloth and polished once a month.\n"


def make_bot(api, account, sentences, **body) -> dict:  # noqa: F811
    r = api.post(
        f"{CHAT}/use-cases",
        json={"name": "Shop helper", "welcome": "Hello! Ask me anything.", **body},
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    uc = r.json()
    r = api.post(
        f"{CHAT}/use-cases/{uc['id']}/knowledge",
        json={"sentences": sentences},
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    return uc


def knowledge_texts(page) -> list[str]:
    return page.locator("[data-testid=kn-item] [data-testid=kn-text]").all_inner_texts()


def test_a_chatbot_built_from_the_ui_answers_its_test_chat_token_by_token(ui, api):  # noqa: F811
    account = signup(api, org="Shop Ltd")
    page = ui.page
    ui.login_as(account, "/chat")
    expect(page.get_by_test_id("uc-empty")).to_be_visible()
    ui.shot("chat-empty")

    page.click("#uc-new")
    page.fill("#new-name", "Shop helper")
    page.fill("#new-description", "Answers the shop's visitors.")
    page.fill("#new-welcome", "Hello! Ask me anything.")
    page.fill("#new-temperature", "0.2")
    page.fill("#new-words-manual", "human, agent")
    page.fill("#new-manual-message", "A person is answering you now.")
    page.fill("#new-auto-msg", "We will be with you shortly.")
    page.fill("#new-auto-timeout", "120")
    page.fill("#new-origins", "https://www.example.com")
    ui.shot("chat-new-dialog")
    page.click("[data-testid=new-submit]")
    page.wait_for_url(re.compile(r".*/chat/\d+$"))
    page.wait_for_selector("body[data-ready=true]")
    use_case_id = int(page.url.rsplit("/", 1)[1])
    uc = api.get(f"{CHAT}/use-cases/{use_case_id}", headers=account.headers).json()
    assert uc["name"] == "Shop helper" and uc["temperature"] == 0.2
    assert uc["words_for_manual"] == ["human", "agent"]
    assert uc["timeout_for_auto_msg_s"] == 120
    assert uc["allowed_origins"] == ["https://www.example.com"]
    expect(page.locator("#uc-title")).to_have_text("Shop helper")
    expect(page.get_by_test_id("uc-hash")).to_have_text(uc["hash"])
    snippet = page.get_by_test_id("uc-snippet").inner_text()
    assert snippet == (
        f'<script src="{ui.base_url}/static/widget/chat.js" data-use-case="{uc["hash"]}"></script>'
    )

    # Two sentences at once (one a line), then a third; moved up; one edited.
    page.fill("#sentence-text", f"{RETURNS}\n{DELIVERY}")
    page.click("#sentence-add")
    ui.toast("2 sentences added.")
    page.fill("#sentence-text", HOURS)
    page.click("#sentence-add")
    ui.toast("Sentence added.")
    expect(page.get_by_test_id("kn-item")).to_have_count(3)
    assert knowledge_texts(page) == [RETURNS, DELIVERY, HOURS]
    page.locator("[data-testid=kn-item]").nth(2).get_by_test_id("kn-up").click()
    expect(page.locator("[data-testid=kn-item] [data-testid=kn-text]").nth(1)).to_have_text(HOURS)
    page.locator("[data-testid=kn-item]").nth(1).get_by_test_id("kn-up").click()
    expect(page.locator("[data-testid=kn-item] [data-testid=kn-text]").nth(0)).to_have_text(HOURS)
    assert knowledge_texts(page) == [HOURS, RETURNS, DELIVERY]
    page.locator("[data-testid=kn-item]").nth(2).get_by_test_id("kn-down").is_disabled()
    page.locator("[data-testid=kn-item]").nth(2).get_by_test_id("kn-edit").click()
    page.fill("[data-testid=kn-edit-text]", DELIVERY.replace("next working day", "same day"))
    page.click("[data-testid=kn-edit-save]")
    ui.toast("Knowledge saved.")
    expect(page.locator("[data-testid=kn-item] [data-testid=kn-text]").nth(2)).to_contain_text(
        "same day"
    )
    listed = api.get(f"{CHAT}/use-cases/{use_case_id}/knowledge", headers=account.headers).json()
    assert [p["text"] for p in listed["items"]][:2] == [HOURS, RETURNS]
    expect(page.get_by_test_id("index-status")).to_have_attribute("data-status", "ready")

    # A file uploaded and a dataset attached join the knowledge, after the sentences.
    page.set_input_files(
        "#kn-file",
        files=[{"name": "care.txt", "mimeType": "text/plain", "buffer": CARE.encode()}],
    )
    ui.toast("“care.txt” added.")
    records = [{"shoe": "Oxford", "price": 120}, {"shoe": "Loafer", "price": 95}]
    r = api.post(
        "/api/v1/datasets/records",
        json={"name": "price list", "records": records},
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    page.click("#kn-attach-open")
    page.select_option("#attach-kind", "dataset")
    expect(page.locator("#attach-ref option", has_text="price list")).to_have_count(1)
    page.select_option("#attach-ref", label="price list")
    page.click("[data-testid=attach-submit]")
    ui.toast("Attached.")
    expect(page.get_by_test_id("kn-item")).to_have_count(5)
    kinds = [
        p["kind"]
        for p in api.get(
            f"{CHAT}/use-cases/{use_case_id}/knowledge", headers=account.headers
        ).json()["items"]
    ]
    assert kinds == ["sentence", "sentence", "sentence", "file", "dataset"]
    expect(page.get_by_test_id("index-status")).to_have_attribute("data-status", "ready")

    # The retrieval preview finds the opening hours first.
    page.fill("#retrieve-q", "when do you open in the morning")
    expect(page.get_by_test_id("retrieve-hit").first).to_contain_text("nine in the morning")

    # The test chat: the welcome, then an answer streamed token by token, with a source.
    expect(page.get_by_test_id("test-log")).to_contain_text("Hello! Ask me anything.")
    page.fill("#test-text", "When do you open in the morning?")
    page.click("#test-send")
    answer = page.locator("#test-log [data-testid=chat-msg][data-role=assistant][data-id]").last
    expect(answer.get_by_test_id("chat-source").first).to_be_visible()
    expect(answer.get_by_test_id("chat-text")).to_contain_text("nine")
    assert int(answer.get_attribute("data-streamed-tokens")) > 1, "the answer did not stream"
    answer.get_by_test_id("rate-good").click()
    expect(answer.get_by_test_id("rate-good")).to_have_attribute("aria-pressed", "true")
    chat_id = int(page.get_by_test_id("test-log").get_attribute("data-chat"))
    stored = api.get(f"{CHAT}/chats/{chat_id}/messages", headers=account.headers).json()
    assert [m["rating"] for m in stored if m["role"] == "assistant"][-1] == "good"
    ui.shot("chat-use-case")

    # Settings saved; the chatbot closed and opened again.
    page.fill("#uc-temperature", "0.5")
    page.click("#uc-save")
    ui.toast("Settings saved.")
    assert (
        api.get(f"{CHAT}/use-cases/{use_case_id}", headers=account.headers).json()["temperature"]
        == 0.5
    )
    page.click("#uc-toggle")
    expect(page.locator(f"[data-testid=uc-status-{use_case_id}]")).to_have_text("closed")
    page.click("#uc-toggle")
    expect(page.locator(f"[data-testid=uc-status-{use_case_id}]")).to_have_text("open")

    # The list shows it with its knowledge tokens, index and chats.
    page.click("#nav-chat")
    page.wait_for_selector("body[data-ready=true]")
    row = page.get_by_test_id(f"uc-row-{use_case_id}")
    expect(row).to_contain_text("Shop helper")
    expect(row).to_contain_text("open")
    expect(row).to_contain_text("indexed")
    expect(row.locator("td").nth(4)).to_have_text("1")
    ui.shot("chat-list")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_the_live_console_takes_a_chat_over_and_the_visitor_reads_the_person(ui, api):  # noqa: F811
    account = signup(api, org="Console Ltd")
    uc = make_bot(
        api,
        account,
        [HOURS, RETURNS],
        words_for_attention=["complaint"],
        manual_message="A person is answering you now.",
    )
    page = ui.page
    ui.login_as(account, "/chat/live")
    expect(page.get_by_test_id("live-empty")).to_be_visible()

    # The visitor, on the widget's own page, asks and gets a streamed answer.
    visitor = page.context.new_page()
    visitor.goto(f"{ui.base_url}/chat/widget/{uc['hash']}")
    visitor.wait_for_selector("body[data-ready=true]")
    widget = visitor.locator("[data-augury-chat]")
    expect(widget.get_by_test_id("widget-log")).to_contain_text("Hello! Ask me anything.")
    widget.get_by_test_id("widget-input").fill("When do you open in the morning?")
    widget.get_by_test_id("widget-send").click()
    answer = widget.locator("[data-testid=widget-msg][data-role=assistant][data-id]").last
    expect(answer).to_contain_text("nine")
    expect(answer.get_by_test_id("widget-sources")).to_be_visible()
    assert int(answer.get_attribute("data-streamed")) > 1, "the answer did not stream"
    # A word for attention flags the chat.
    widget.get_by_test_id("widget-input").fill("I want to make a complaint")
    widget.get_by_test_id("widget-send").click()
    expect(widget.locator("[data-testid=widget-msg][data-role=assistant][data-id]")).to_have_count(
        3
    )

    # The console lists it within a poll, flagged for attention.
    chats = api.get(f"{CHAT}/chats", headers=account.headers).json()["items"]
    assert len(chats) == 1 and chats[0]["attention"]
    chat_id = chats[0]["id"]
    item = page.get_by_test_id(f"live-item-{chat_id}")
    expect(item).to_have_attribute("data-attention", "true")
    expect(item.get_by_test_id(f"attention-{chat_id}")).to_be_visible()
    page.get_by_test_id(f"live-open-{chat_id}").click()
    expect(page.get_by_test_id("live-log")).to_contain_text("make a complaint")
    expect(page.get_by_test_id("live-attention-note")).to_contain_text("complaint")
    expect(page.get_by_test_id("live-text")).to_be_disabled()

    page.click("#live-takeover")
    ui.toast("You answer this chat now.")
    expect(page.get_by_test_id(f"control-{chat_id}").first).to_have_text("person")
    expect(page.get_by_test_id("live-text")).to_be_enabled()
    # The visitor reads the handover notice at the widget's next poll.
    expect(widget.get_by_test_id("widget-log")).to_contain_text("A person is answering you now.")
    expect(widget.get_by_test_id("widget-notice")).to_contain_text("A person is answering")

    page.fill("#live-text", "Hello, this is Marta. We open at nine; sorry for the trouble.")
    page.click("#live-send")
    expect(page.get_by_test_id("live-log")).to_contain_text("this is Marta")
    person = widget.locator("[data-testid=widget-msg][data-author=person]")
    expect(person).to_contain_text("this is Marta")
    ui.shot("chat-live")
    visitor.screenshot(path=str(ui_artifact("chat-widget-page-person")), full_page=True)

    # While the person answers, the visitor's message gets no bot answer.
    widget.get_by_test_id("widget-input").fill("Thank you Marta")
    widget.get_by_test_id("widget-send").click()
    expect(page.get_by_test_id("live-log")).to_contain_text("Thank you Marta")
    stored = api.get(f"{CHAT}/chats/{chat_id}/messages", headers=account.headers).json()
    assert stored[-1]["text"] == "Thank you Marta" and stored[-1]["role"] == "user"

    page.click("#live-release")
    ui.toast("The bot answers this chat again.")
    expect(page.get_by_test_id(f"control-{chat_id}").first).to_have_text("bot")
    page.click("#live-finish")
    ui.toast("Chat finished.")
    assert api.get(f"{CHAT}/chats/{chat_id}", headers=account.headers).json()["status"] == (
        "finished"
    )

    # The visitor is told the chat ended; sending again starts a new one.
    widget.get_by_test_id("widget-input").fill("Hello?")
    widget.get_by_test_id("widget-send").click()
    expect(widget.get_by_test_id("widget-notice")).to_contain_text("This chat has ended")
    expect(widget.get_by_test_id("widget-input")).to_have_value("Hello?")
    widget.get_by_test_id("widget-send").click()
    expect(widget.get_by_test_id("widget-log")).to_contain_text("Hello! Ask me anything.")
    expect(widget.locator("[data-testid=widget-msg][data-role=user]")).to_have_count(1)
    chats = api.get(f"{CHAT}/chats", headers=account.headers).json()
    assert chats["total"] == 2

    # Tokens per day, and the ratings.
    msgs = api.get(f"{CHAT}/chats/{chat_id}/messages", headers=account.headers).json()
    bot_answer = next(m for m in msgs if m["author"] == "bot" and m["sources"])
    r = api.patch(
        f"{CHAT}/chats/{chat_id}/messages/{bot_answer['id']}",
        json={"rating": "bad"},
        headers=account.headers,
    )
    assert r.status_code == 200, r.text
    page.select_option("#tokens-days", "7")
    expect(page.get_by_test_id("ratings-bad")).to_have_text("1")
    wait_js(page, "Number(document.querySelector('#tokens-chart').dataset.bars || 0) > 0")
    assert int(page.get_by_test_id("tokens-total").inner_text().replace(",", "")) > 0
    ui.shot("chat-live-finished")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def ui_artifact(name: str):
    from tests.web.test_ui import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"
