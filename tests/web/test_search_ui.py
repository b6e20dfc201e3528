"""The search box in the header, in a real headless Chromium: results as you type,
highlighted, keyboard to open one; another organization's objects never listed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.fixtures.factories import signup
from tests.web.test_data_ui import upload
from tests.web.test_ui import api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

CSV = b"region,units,revenue\nnorth,3,9.5\nsouth,5,12\n"


def test_the_header_box_finds_as_you_type_and_opens_with_the_keyboard(ui, api):  # noqa: F811
    owner = signup(api, org="Searchers")
    other = signup(api, org="Others")
    mine = upload(api, owner, "Quarterly revenue", CSV, description="Revenue by region")
    upload(api, other, "Quarterly revenue elsewhere", CSV)
    page = ui.page
    ui.login_as(owner, "/")
    page.keyboard.press("/")  # focuses the box from anywhere on the page
    box = page.locator("#global-search-input")
    expect(box).to_be_focused()
    box.type("quarterly rev")
    hit = page.get_by_test_id(f"search-hit-dataset-{mine['id']}")
    expect(hit).to_be_visible()
    results = page.get_by_test_id("global-search-results")
    expect(results.locator(".search-hit")).to_have_count(1)  # not the other org's
    expect(hit.locator(".search-title mark")).to_have_text(["Quarterly", "revenue"])
    expect(hit).to_have_attribute("aria-selected", "true")
    ui.shot("search-box")
    box.press("Enter")
    page.wait_for_url(f"{ui.base_url}/data/{mine['id']}")

    page.wait_for_selector("body[data-ready=true]")
    box = page.locator("#global-search-input")
    box.fill("nothing like this")
    expect(page.get_by_test_id("search-empty")).to_contain_text("Nothing matches")
    box.press("Escape")
    expect(results).to_be_hidden()
    ui.assert_no_error_toast()
    ui.assert_only_local()
