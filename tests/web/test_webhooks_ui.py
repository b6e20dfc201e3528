"""Settings › Webhooks in a real headless Chromium: a webhook made in the dialog and
pointed at a real receiver on loopback, its secret shown once, a test that arrives
signed and shows in the delivery log, paused, edited (all events, a new secret) and
deleted; people who are not admins are told who manages webhooks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from augury.alerts.channels import verify_signature
from tests.alerts.conftest import Receiver
from tests.fixtures.factories import Account, invite_and_join, signup
from tests.web.test_ui import api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _get(api, account: Account, path: str):  # noqa: F811
    r = api.get(f"/api/v1{path}", headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_webhook_made_tested_paused_edited_and_deleted(ui, api, receiver):  # noqa: F811
    owner = signup(api, org="Hooked Inc")
    page = ui.page
    ui.login_as(owner, "/settings/webhooks")
    expect(page.get_by_test_id("webhooks-empty")).to_be_visible()
    assert page.locator("#tab-webhooks.active").count() == 1

    # The dialog: events grouped by their prefix, each with its meaning as a title.
    page.get_by_test_id("webhook-new").click()
    dialog = page.get_by_test_id("webhook-dialog")
    expect(dialog).to_be_visible()
    chart = dialog.get_by_test_id("wh-group-chart")
    assert chart.locator("legend").inner_text() == "chart"
    assert chart.locator("input").count() == 3
    page.fill("#wh-name", "warehouse <sync>")
    page.fill("#wh-url", receiver.url + "/hook")
    page.click("#webhook-submit")
    expect(page.get_by_test_id("webhook-form-error")).to_contain_text("Choose at least one event")
    page.get_by_test_id("wh-event-chart.created").check()
    page.get_by_test_id("wh-event-dataset.uploaded").check()
    page.fill("#wh-url", "ftp://files.example.com/in")
    page.click("#webhook-submit")
    expect(page.get_by_test_id("webhook-form-error")).to_contain_text("Invalid webhook")
    page.fill("#wh-url", receiver.url + "/hook")
    page.fill("#wh-headers", "X-Team: ops")
    ui.shot("settings-webhooks-new")
    page.click("#webhook-submit")
    ui.toast("Webhook \u201cwarehouse <sync>\u201d created.")
    expect(dialog).to_be_hidden()

    (hook,) = _get(api, owner, "/webhooks")["items"]
    assert hook["events"] == ["chart.created", "dataset.uploaded"] and hook["active"]
    assert hook["url"] == receiver.url + "/hook" and hook["headers"] == {"X-Team": "ops…"}
    # The secret whole, this once; the API shows it masked from then on.
    secret = page.get_by_test_id("webhook-secret").inner_text()
    assert len(secret) > 8 and hook["secret"] == secret[:4] + "…"
    row = page.get_by_test_id(f"webhook-row-{hook['id']}")
    assert "warehouse <sync>" in row.inner_text()  # text, not HTML
    assert row.locator("code.url").inner_text() == receiver.url + "/hook"
    assert row.locator(".badge").all_inner_texts() == ["chart.created", "dataset.uploaded"]
    expect(page.get_by_test_id(f"webhook-last-{hook['id']}")).to_have_text("none yet")
    page.get_by_test_id("webhook-secret-dismiss").click()
    expect(page.get_by_test_id("webhook-secret-box")).to_be_hidden()

    # Send test: it arrives signed with the secret shown, the toast says the answer, and
    # the row's last delivery and the log show it.
    page.get_by_test_id("webhook-log-toggle-" + str(hook["id"])).click()
    log = page.get_by_test_id(f"webhook-log-{hook['id']}")
    expect(log).to_contain_text("Nothing sent to this webhook yet.")
    page.get_by_test_id(f"webhook-test-{hook['id']}").click()
    expect(ui.toast("Test sent to")).to_contain_text("HTTP 200")
    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    assert sent["path"] == "/hook" and sent["headers"]["x-team"] == "ops"
    assert verify_signature(secret, sent["headers"]["x-augury-signature"], sent["body"])
    assert receiver.json(0)["event"] == "webhook.test"
    expect(page.get_by_test_id(f"webhook-last-status-{hook['id']}")).to_have_text("sent")
    (delivery,) = _get(api, owner, f"/webhooks/{hook['id']}/deliveries")["items"]
    expect(log.get_by_test_id(f"webhook-delivery-status-{delivery['id']}")).to_have_text("sent")
    assert log.get_by_test_id(f"webhook-delivery-code-{delivery['id']}").inner_text() == "200"
    assert "webhook.test" in log.get_by_test_id(f"webhook-delivery-{delivery['id']}").inner_text()
    ui.shot("settings-webhooks")
    # A failing receiver: the toast says so, and the log filters by status.
    receiver.answers.append((500, 0.0))
    page.get_by_test_id(f"webhook-test-{hook['id']}").click()
    expect(ui.toast("Test to")).to_contain_text("HTTP 500")
    expect(page.get_by_test_id(f"webhook-last-status-{hook['id']}")).to_have_text("failed")
    expect(log.locator("tbody tr")).to_have_count(2)
    log.get_by_test_id(f"webhook-log-status-{hook['id']}").select_option("failed")
    expect(log.locator("tbody tr")).to_have_count(1)
    expect(log.locator("tbody tr")).to_have_attribute("data-status", "failed")

    # Paused with the switch.
    page.get_by_test_id(f"webhook-active-{hook['id']}").uncheck()
    ui.toast("paused: no events are sent.")
    assert _get(api, owner, f"/webhooks/{hook['id']}")["active"] is False
    expect(row).to_have_class("row-dim")

    # Edit: every event, a new URL path, a secret rotated (shown once); headers kept.
    page.get_by_test_id(f"webhook-edit-{hook['id']}").click()
    expect(page.locator("#wh-name")).to_have_value("warehouse <sync>")
    expect(page.get_by_test_id("wh-event-chart.created")).to_be_checked()
    expect(page.get_by_test_id("wh-active")).not_to_be_checked()
    page.get_by_test_id("wh-all").check()
    expect(page.get_by_test_id("wh-event-job.finished")).to_be_disabled()
    page.fill("#wh-url", receiver.url + "/v2")
    page.get_by_test_id("wh-secret-generate").click()
    rotated = page.locator("#wh-secret").input_value()
    assert len(rotated) >= 32 and rotated != secret
    ui.shot("settings-webhooks-edit")
    page.click("#webhook-submit")
    ui.toast("Webhook \u201cwarehouse <sync>\u201d saved.")
    assert page.get_by_test_id("webhook-secret").inner_text() == rotated
    hook = _get(api, owner, f"/webhooks/{hook['id']}")
    assert hook["events"] == ["*"] and hook["url"] == receiver.url + "/v2"
    assert hook["secret"] == rotated[:4] + "…" and hook["headers"] == {"X-Team": "ops…"}
    assert hook["active"] is False
    row = page.get_by_test_id(f"webhook-row-{hook['id']}")
    expect(row.locator(".badge").first).to_have_text("all events")
    page.get_by_test_id(f"webhook-test-{hook['id']}").click()  # sent even while paused
    expect(page.get_by_test_id(f"webhook-last-status-{hook['id']}")).to_have_text("sent")
    assert len(receiver.requests) == 3
    last = receiver.requests[-1]
    assert last["path"] == "/v2"
    assert verify_signature(rotated, last["headers"]["x-augury-signature"], last["body"])

    # Deleted, after the confirm() the fixture accepts.
    page.get_by_test_id(f"webhook-delete-{hook['id']}").click()
    ui.toast("Webhook \u201cwarehouse <sync>\u201d deleted.")
    expect(page.get_by_test_id("webhooks-empty")).to_be_visible()
    assert _get(api, owner, "/webhooks")["total"] == 0
    ui.assert_only_local()


def test_members_are_told_only_admins_manage_webhooks(ui, api):  # noqa: F811
    owner = signup(api, org="Hooked Members")
    member = invite_and_join(api, owner, "member")
    page = ui.page
    ui.login_as(member, "/settings/webhooks")
    expect(page.get_by_test_id("needs-admin")).to_contain_text("Only the organization's admins")
    assert page.locator("#webhooks-body").is_hidden()
    ui.assert_no_error_toast()
