"""The chat widget on another website, in a real headless Chromium: a page served by a
tiny HTTP server on another origin embeds ``/static/widget/chat.js`` from the live
augury server, as a customer's site would. The visitor opens the chat, gets an answer
streamed token by token with its source, rates it, keeps the chat across a reload,
reads the person who took it over, and is told politely when the chatbot closes. A page
on an origin the use case does not allow gets nothing: CORS refuses it.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.fixtures.app import free_port
from tests.fixtures.factories import signup
from tests.web.test_chat_ui import CHAT, HOURS, RETURNS, make_bot, ui_artifact
from tests.web.test_ui import api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Manolo's shop</title></head>
<body style="font-family: sans-serif; margin: 40px">
<h1>Manolo's shop</h1>
<p>Shoes, bags and repairs since 1972.</p>
<script src="{augury}/static/widget/chat.js" data-use-case="{hash}"></script>
</body></html>
"""


class Site:
    """A website of its own on 127.0.0.1 (and, as another origin, on localhost)."""

    def __init__(self, html: str):
        body = html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.origin = f"http://127.0.0.1:{self.port}"
        self.other_origin = f"http://localhost:{self.port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def widget_of(page):
    return page.locator("[data-augury-chat]")


def test_a_visitor_chats_through_the_widget_on_an_allowed_website(ui, api):  # noqa: F811
    account = signup(api, org="Manolo's")
    uc = make_bot(api, account, [HOURS, RETURNS], manual_message="Marta will answer you now.")
    with Site(PAGE.format(augury=ui.base_url, hash=uc["hash"])) as site:
        r = api.patch(
            f"{CHAT}/use-cases/{uc['id']}",
            json={"allowed_origins": [site.origin]},
            headers=account.headers,
        )
        assert r.status_code == 200, r.text
        page = ui.page
        page.goto(site.origin + "/")
        widget = widget_of(page)
        expect(widget).to_have_attribute("data-ready", "true")
        launcher = widget.get_by_test_id("widget-launcher")
        expect(widget.get_by_test_id("widget-panel")).to_be_hidden()
        launcher.click()
        expect(widget.get_by_test_id("widget-panel")).to_be_visible()
        expect(widget.get_by_test_id("widget-log")).to_contain_text("Hello! Ask me anything.")

        widget.get_by_test_id("widget-input").fill("When do you open in the morning?")
        widget.get_by_test_id("widget-send").click()
        answer = widget.locator("[data-testid=widget-msg][data-role=assistant][data-id]").last
        expect(answer).to_contain_text("nine in the morning")
        expect(answer.get_by_test_id("widget-sources")).to_be_visible()
        assert int(answer.get_attribute("data-streamed")) > 1, "the answer did not stream"
        answer.get_by_test_id("widget-rate-good").click()
        expect(answer.get_by_test_id("widget-rate-good")).to_have_attribute("aria-pressed", "true")
        chats = api.get(f"{CHAT}/chats", headers=account.headers).json()["items"]
        assert len(chats) == 1 and chats[0]["channel"] == "widget"
        chat_id = chats[0]["id"]
        stored = api.get(f"{CHAT}/chats/{chat_id}/messages", headers=account.headers).json()
        assert stored[-1]["rating"] == "good" and stored[-1]["sources"]
        page.screenshot(path=str(ui_artifact("chat-widget-site")))

        # A reload continues the same chat (its id and token are in sessionStorage).
        page.reload()
        expect(widget_of(page)).to_have_attribute("data-ready", "true")
        widget = widget_of(page)
        widget.get_by_test_id("widget-launcher").click()
        expect(widget.get_by_test_id("widget-log")).to_contain_text("When do you open")
        assert len(api.get(f"{CHAT}/chats", headers=account.headers).json()["items"]) == 1

        # A person takes over: the visitor reads the notice, then the person.
        r = api.post(f"{CHAT}/chats/{chat_id}/takeover", headers=account.headers)
        assert r.status_code == 200, r.text
        expect(widget.get_by_test_id("widget-log")).to_contain_text("Marta will answer you now.")
        expect(widget.get_by_test_id("widget-notice")).to_contain_text("A person is answering")
        r = api.post(
            f"{CHAT}/chats/{chat_id}/messages",
            json={"text": "Hi, Marta here. We open at nine."},
            headers=account.headers,
        )
        assert r.status_code == 201, r.text
        person = widget.locator("[data-testid=widget-msg][data-author=person]")
        expect(person).to_contain_text("Marta here")
        widget.get_by_test_id("widget-input").fill("Thanks Marta!")
        widget.get_by_test_id("widget-send").click()
        expect(widget.get_by_test_id("widget-input")).to_have_value("")
        page.wait_for_timeout(500)
        stored = api.get(f"{CHAT}/chats/{chat_id}/messages", headers=account.headers).json()
        assert [m["author"] for m in stored[-2:]] == ["person", "visitor"]
        page.screenshot(path=str(ui_artifact("chat-widget-site-person")))

        # Closed: the visitor is told so, politely, and nothing breaks.
        r = api.post(f"{CHAT}/use-cases/{uc['id']}/close", headers=account.headers)
        assert r.status_code == 200, r.text
        widget.get_by_test_id("widget-input").fill("Are you still there?")
        widget.get_by_test_id("widget-send").click()
        expect(widget.get_by_test_id("widget-notice")).to_contain_text("closed")
        expect(widget.get_by_test_id("widget-send")).to_be_disabled()
        page.screenshot(path=str(ui_artifact("chat-widget-site-closed")))
    ui.assert_only_local()


def test_a_website_not_allowed_is_refused_by_cors(ui, api):  # noqa: F811
    account = signup(api, org="Manolo's")
    uc = make_bot(api, account, [HOURS])
    with Site(PAGE.format(augury=ui.base_url, hash=uc["hash"])) as site:
        r = api.patch(
            f"{CHAT}/use-cases/{uc['id']}",
            json={"allowed_origins": [site.origin]},
            headers=account.headers,
        )
        assert r.status_code == 200, r.text
        page = ui.page
        # The same page, from an origin the use case does not list.
        page.goto(site.other_origin + "/")
        widget = widget_of(page)
        expect(widget).to_have_attribute("data-ready", "true")
        widget.get_by_test_id("widget-launcher").click()
        expect(widget.get_by_test_id("widget-notice")).to_contain_text("could not reach")
        api_url = f"{ui.base_url}/api/v1/chat/widget/{uc['hash']}"
        refused = page.evaluate(
            """async (url) => {
                const out = [];
                for (const call of [
                    () => fetch(url),
                    () => fetch(url + "/chats", {method: "POST",
                        headers: {"Content-Type": "application/json"}, body: "{}"}),
                ]) {
                    try { await call(); out.push("answered"); }
                    catch (e) { out.push(e.name); }
                }
                return out;
            }""",
            api_url,
        )
        assert refused == ["TypeError", "TypeError"], refused
        # The preflight itself is refused, so no chat was opened.
        assert api.get(f"{CHAT}/chats", headers=account.headers).json()["total"] == 0
        r = api.options(
            f"/api/v1/chat/widget/{uc['hash']}/chats",
            headers={"Origin": site.other_origin, "Access-Control-Request-Method": "POST"},
        )
        assert r.status_code >= 400 and "access-control-allow-origin" not in r.headers
        r = api.options(
            f"/api/v1/chat/widget/{uc['hash']}/chats",
            headers={"Origin": site.origin, "Access-Control-Request-Method": "POST"},
        )
        assert r.status_code == 204 and r.headers["access-control-allow-origin"] == site.origin
    ui.assert_only_local()


def test_the_widget_page_says_politely_when_a_visitor_sends_too_fast(ui, api):  # noqa: F811
    account = signup(api, org="Manolo's")
    uc = make_bot(api, account, [HOURS])
    page = ui.page
    page.goto(f"{ui.base_url}/chat/widget/{uc['hash']}")
    page.wait_for_selector("body[data-ready=true]")
    widget = widget_of(page)
    widget.get_by_test_id("widget-input").fill("When do you open?")
    widget.get_by_test_id("widget-send").click()
    expect(widget.locator("[data-testid=widget-msg][data-role=assistant][data-id]")).to_have_count(
        2
    )
    # The rest of the minute's messages, sent with the chat's own token, until one is
    # refused with most of a minute left to wait (the limit counts per clock minute: a
    # refusal just before the minute turns is waited out and the next window filled,
    # so the widget's own send below is refused too).
    statuses = page.evaluate(
        """async (hash) => {
            const s = JSON.parse(sessionStorage.getItem("augury.chat." + hash));
            const out = [];
            for (let i = 0; i < 100; i++) {
                const r = await fetch(`/api/v1/chat/widget/${hash}/chats/${s.chat_id}/messages`, {
                    method: "POST", body: JSON.stringify({text: "hello " + i}),
                    headers: {"Content-Type": "application/json", "X-Chat-Token": s.token}});
                out.push(r.status);
                if (r.status === 429) {
                    const wait = Number(r.headers.get("Retry-After"));
                    if (wait >= 20) break;
                    await new Promise((done) => setTimeout(done, (wait + 1) * 1000));
                }
            }
            return out;
        }""",
        uc["hash"],
    )
    assert statuses[-1] == 429 and statuses.count(201) >= 19, statuses
    widget.get_by_test_id("widget-input").fill("Hello again")
    widget.get_by_test_id("widget-send").click()
    expect(widget.get_by_test_id("widget-notice")).to_contain_text("please wait")
    # Not sent: the text is back in the box, to send again.
    expect(widget.get_by_test_id("widget-input")).to_have_value("Hello again")
    ui.shot("chat-widget-page-429")
    ui.assert_only_local()
