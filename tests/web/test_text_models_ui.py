"""Text models and analyses in a real headless Chromium: a PDF's pages marked done in
the annotator view; a model trained from a labeled session through the project page,
its report page against the API's report, "Try it", promotion; a batch analysis over a
group with its results, filters, aggregates chart and export.

The server is the real one with its job runner (``live_server``); what the pages did is
checked through the API afterwards, not through the pages themselves.
"""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from tests.fixtures.factories import signup
from tests.text.test_files import text_pdf
from tests.web.test_text_ui import API, console_errors, get, post
from tests.web.test_ui import api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_a_pdf_page_is_marked_done_and_back_from_the_keyboard(ui, api):  # noqa: F811
    account = signup(api, org="Pages Ltd")
    pid = post(api, account, API, {"name": "Contracts", "type": "CLASS"})["id"]
    post(api, account, f"{API}/{pid}/classes", [{"name": "risk"}, {"name": "fine"}])
    pdf = text_pdf(["Payment is due in ten days. Late fees apply.", "The term is one year."])
    r = api.post(
        f"{API}/{pid}/files",
        files={"file": ("contract.pdf", io.BytesIO(pdf), "application/pdf")},
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    post(api, account, f"{API}/{pid}/documents", {"file_id": r.json()["id"], "column": "text"})
    sid = post(
        api, account, f"{API}/{pid}/sessions", {"name": "Read", "assignees": [account.user_id]}
    )["id"]
    base = f"{API}/{pid}/sessions/{sid}"
    [item] = get(api, account, f"{base}/documents")["items"]
    doc = f"{base}/documents/{item['id']}"
    assert [s["page"] for s in get(api, account, doc)["segments"]] == [1, 1, 2]

    page = ui.page
    errors = console_errors(page)
    ui.login_as(account, f"/text/projects/{pid}/sessions/{sid}/annotate")
    keys = page.keyboard
    state = page.get_by_test_id("ann-page-state")
    done = page.get_by_test_id("ann-page-done")
    expect(page.get_by_test_id("ann-seg-0")).to_be_focused()
    expect(page.get_by_test_id("ann-pages")).to_be_visible()
    expect(state).to_have_text("Page 1 of 2: not done yet")
    expect(page.get_by_test_id("ann-seg-page-2")).to_contain_text("Page 2")
    keys.press("?")
    expect(page.get_by_test_id("ann-keys-list")).to_contain_text("page done")
    keys.press("Escape")

    # Page 1 done: the focus goes on to page 2's first segment.
    keys.press("Shift+P")
    expect(page.get_by_test_id("ann-page-1")).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("ann-seg-2")).to_be_focused()
    expect(state).to_have_text("Page 2 of 2: not done yet")
    assert get(api, account, doc)["page_marks"] == {"1": "ANNOTATED"}
    # Undone with u, then done again from page 1's chip and the button.
    keys.press("u")
    expect(page.get_by_test_id("ann-page-1")).to_have_attribute("data-state", "open")
    expect(page.get_by_test_id("ann-save")).to_have_text("Undone: page 1 is no longer marked done.")
    assert get(api, account, doc)["page_marks"] == {}
    expect(page.get_by_test_id("ann-seg-0")).to_be_focused()
    done.click()
    expect(page.get_by_test_id("ann-page-1")).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("ann-seg-2")).to_be_focused()
    expect(done).to_have_attribute("aria-pressed", "false")
    # The last page done: every page is, so the document is (and the session finished).
    keys.press("Shift+P")
    expect(done).to_have_attribute("aria-pressed", "true")
    expect(state).to_have_text("Page 2 of 2: done")
    expect(page.get_by_test_id("ann-doc-done-badge")).to_be_visible()
    expect(page.get_by_test_id("ann-progress-text")).to_have_text("1 of 1 documents done")
    ui.shot("text-annotate-pages")
    assert get(api, account, doc)["page_marks"] == {"1": "ANNOTATED", "2": "ANNOTATED"}
    assert get(api, account, f"{base}/documents")["items"][0]["state"] == "done"
    ui.assert_no_error_toast()
    assert not errors, errors
