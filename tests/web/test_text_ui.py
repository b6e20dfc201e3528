"""The Text section in a real headless Chromium: a project made through its pages, its
classes edited in place, a CSV uploaded and its text column picked, a session created
and followed; the annotator view labeling ten documents with the keyboard alone; an
ABSA project's aspects, sentiments and spans (by keyboard and by mouse); the
notifications bell.

The server is the real one (``live_server``); what the pages did is checked through the
API afterwards, not through the pages themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from augury.notifications.service import notify
from augury.text.models import TextProject
from augury.text.services import review
from tests.fixtures.factories import invite_and_join, signup
from tests.web.test_ui import api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

API = "/api/v1/text/projects"


def post(api, account, path: str, body) -> dict:  # noqa: F811
    r = api.post(path, json=body, headers=account.headers)
    assert r.status_code == 201, r.text
    return r.json()


def get(api, account, path: str, **params) -> dict:  # noqa: F811
    r = api.get(path, params=params, headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()


def console_errors(page) -> list[str]:
    """Every console error of the page from now on (a failed request logs one too)."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)
    return seen


def session_with_documents(api, account, project_id: int, texts: list[str]) -> tuple[int, list]:  # noqa: F811
    """A session over ``texts`` (made documents first), assigned to ``account``; its id
    and its documents in the session's order."""
    docs = [{"text": t, "id": f"doc-{i}"} for i, t in enumerate(texts)]
    created = post(api, account, f"{API}/{project_id}/documents", {"documents": docs})
    assert created["count"] == len(texts)
    session = post(
        api,
        account,
        f"{API}/{project_id}/sessions",
        {"name": "First pass", "assignees": [account.user_id]},
    )
    order = get(api, account, f"{API}/{project_id}/sessions/{session['id']}/documents")["items"]
    assert len(order) == len(texts)
    return session["id"], order


def test_ten_documents_are_labeled_with_the_keyboard_alone(ui, api):  # noqa: F811
    account = signup(api, org="Reviews Keyboard")
    project = post(api, account, API, {"name": "Hotel reviews", "type": "CLASS"})
    pid = project["id"]
    classes = ["positive", "negative", "neutral"]
    post(
        api,
        account,
        f"{API}/{pid}/classes",
        [{"name": c, "description": f"The guest is {c}."} for c in classes],
    )
    texts = [f"Room {i} was clean and quiet. The staff at desk {i} was rude." for i in range(10)]
    sid, order = session_with_documents(api, account, pid, texts)
    base = f"{API}/{pid}/sessions/{sid}"
    first = get(api, account, f"{base}/documents/{order[0]['id']}")
    assert [s["text"] for s in first["segments"]] == [
        "Room 0 was clean and quiet.",
        "The staff at desk 0 was rude.",
    ]

    page = ui.page
    errors = console_errors(page)
    ui.login_as(account, f"/text/projects/{pid}/sessions/{sid}/annotate")
    keys = page.keyboard
    position = page.get_by_test_id("ann-position")
    seg = [page.get_by_test_id("ann-seg-0"), page.get_by_test_id("ann-seg-1")]
    # From here on, the keyboard alone: not one click.
    expect(seg[0]).to_be_focused()
    keys.press("?")
    expect(page.get_by_test_id("ann-keys")).to_be_visible()
    expect(page.get_by_test_id("ann-keys-list")).to_contain_text("undo the last tag change")
    ui.shot("text-annotate-shortcuts")
    keys.press("Escape")
    expect(page.get_by_test_id("ann-keys")).to_be_hidden()

    expected: dict[int, tuple[str, str]] = {}
    n = 0
    while n < 10:
        expect(position).to_have_text(f"Document {n + 1} of 10")
        one, two = classes[n % 3], classes[(n + 1) % 3]
        if n == 0:
            # A wrong class, undone.
            keys.press("3")
            expect(page.get_by_test_id("ann-seg-tags-0")).to_have_text("neutral")
            keys.press("u")
            expect(page.get_by_test_id("ann-seg-tags-0")).to_have_text("no tags")
        if n == 4 and 4 not in expected:
            # Skipped, then back with ← and labeled after all.
            expected[4] = ("", "")
            keys.press("s")
            expect(position).to_have_text("Document 6 of 10")
            keys.press("ArrowLeft")
            continue
        keys.press(str(n % 3 + 1))
        expect(page.get_by_test_id("ann-seg-tags-0")).to_have_text(one)
        keys.press("Enter")  # segment done; the next one is focused
        expect(page.get_by_test_id("ann-seg-done-0")).to_be_visible()
        expect(seg[1]).to_be_focused()
        if n == 1:
            keys.press("k")
            expect(seg[0]).to_be_focused()
            keys.press("ArrowDown")
            expect(seg[1]).to_be_focused()
        keys.press(str((n + 1) % 3 + 1))
        if n == 2:
            # Another class replaces the first (one class per segment), and undo brings it back.
            keys.press(str((n + 2) % 3 + 1))
            expect(page.get_by_test_id("ann-seg-tags-1")).to_have_text(classes[(n + 2) % 3])
            keys.press("u")
        expect(page.get_by_test_id("ann-seg-tags-1")).to_have_text(two)
        expected[n] = (one, two)
        if n == 9:
            expect(page.get_by_test_id("ann-save")).to_have_text("All changes saved.")
            ui.shot("text-annotate")
        keys.press("Shift+Enter")
        n += 1
    expect(page.get_by_test_id("ann-finished")).to_be_visible()
    expect(page.get_by_test_id("ann-progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("ann-progress-text")).to_have_text("10 of 10 documents done")

    for n, item in enumerate(order):
        doc = get(api, account, f"{base}/documents/{item['id']}")
        tags = [[t["class"] for t in s["tags"]] for s in doc["segments"]]
        assert tags == [[expected[n][0]], [expected[n][1]]], (n, tags)
        assert [s["start"] for s in doc["segments"][0]["tags"]] == [None]
        assert [s["mark"] for s in doc["segments"]] == ["ANNOTATED", None], n
        assert doc["mark"] == "ANNOTATED", n
    states = get(api, account, f"{base}/documents")["items"]
    assert [d["state"] for d in states] == ["done"] * 10
    progress = get(api, account, f"{base}/progress")
    assert progress["progress"] == 100
    assert progress["annotators"][0]["documents_done"] == 10
    assert progress["annotators"][0]["segments_tagged"] == 20

    # The project's documents show the tags (with the mouse again, now).
    ui.goto(f"/text/projects/{pid}?tab=documents")
    page.get_by_test_id(f"doc-open-{order[3]['id']}").click()
    expect(page.get_by_test_id("doc-segment-0")).to_contain_text(expected[3][0])
    expect(page.get_by_test_id("doc-segment-1")).to_contain_text(expected[3][1])
    ui.assert_no_error_toast()
    ui.assert_only_local()
    assert not errors, errors


def test_a_save_over_tags_changed_elsewhere_shows_both_and_lets_the_annotator_pick(ui, api):  # noqa: F811
    account = signup(api, org="Reviews Conflict")
    pid = post(api, account, API, {"name": "Two tabs", "type": "LABEL"})["id"]
    post(api, account, f"{API}/{pid}/labels", [{"name": n} for n in ("clean", "noisy", "cheap")])
    sid, order = session_with_documents(api, account, pid, ["A clean and cheap room."])
    doc = f"{API}/{pid}/sessions/{sid}/documents/{order[0]['id']}"
    segment = get(api, account, doc)["segments"][0]

    page = ui.page
    ui.login_as(account, f"/text/projects/{pid}/sessions/{sid}/annotate")
    expect(page.get_by_test_id("ann-seg-0")).to_be_focused()
    # Meanwhile, another tab of the same person saves "noisy".
    r = api.put(
        f"{doc}/segments/{segment['id']}/tags",
        json={"tags": [{"label": "noisy"}], "version": None},
        headers=account.headers,
    )
    assert r.status_code == 200, r.text
    # One key: a second one could land before or after the refusal opens the dialog
    # (which then holds the focus), so what "yours" shows would depend on timing.
    page.keyboard.press("1")
    conflict = page.get_by_test_id("ann-conflict")
    expect(conflict).to_contain_text("Segment 1 was saved elsewhere")
    expect(page.get_by_test_id("ann-conflict-saved").locator(".badge")).to_have_text(["noisy"])
    expect(page.get_by_test_id("ann-conflict-yours").locator(".badge")).to_have_text(["clean"])
    expect(page.get_by_test_id("ann-save")).to_contain_text("changed elsewhere")
    ui.shot("text-annotate-conflict")
    page.get_by_test_id("ann-conflict-mine").click()
    expect(conflict).to_be_hidden()
    expect(page.get_by_test_id("ann-save")).to_have_text("All changes saved.")
    saved = get(api, account, doc)["segments"][0]
    assert [t["label"] for t in saved["tags"]] == ["clean"]
    assert saved["version"] == 2
    ui.assert_no_error_toast()


def test_absa_aspects_sentiments_and_spans_by_keyboard_and_mouse(ui, api):  # noqa: F811
    account = signup(api, org="Reviews Aspects")
    project = post(api, account, API, {"name": "Hotel aspects", "type": "ABSA"})
    pid = project["id"]
    post(api, account, f"{API}/{pid}/classes", [{"name": n} for n in ("room", "staff", "price")])
    texts = [
        "The room was clean but the price was high.",
        "Breakfast was cold and the staff did not care.",
    ]
    sid, order = session_with_documents(api, account, pid, texts)
    base = f"{API}/{pid}/sessions/{sid}"

    page = ui.page
    errors = console_errors(page)
    ui.login_as(account, f"/text/projects/{pid}/sessions/{sid}/annotate")
    keys = page.keyboard
    tags0 = page.get_by_test_id("ann-seg-tags-0")
    expect(page.get_by_test_id("ann-seg-0")).to_be_focused()
    keys.press("1")  # the aspect "room", waiting for its sentiment
    expect(page.get_by_test_id("ann-pending")).to_contain_text("room")
    keys.press("p")
    expect(tags0).to_have_text("room · POS")
    # "price was high": seven words on, then grown by two.
    for _ in range(7):
        keys.press("Shift+ArrowRight")
    expect(page.get_by_test_id("ann-selection")).to_contain_text("“price”")
    keys.press("Control+Shift+ArrowRight")
    keys.press("Control+Shift+ArrowRight")
    expect(page.get_by_test_id("ann-selection")).to_contain_text("“price was high”")
    keys.press("3")
    keys.press("n")
    expect(tags0).to_contain_text("price · NEG “price was high”")
    keys.press("2")
    keys.press("u")  # after an aspect, u is its sentiment (neutral), not undo
    keys.press("2")
    keys.press("c")  # one sentiment per aspect: conflict replaces neutral
    expect(tags0).to_contain_text("staff · CONFLICT")
    expect(tags0).not_to_contain_text("staff · NEU")
    keys.press("u")  # undo
    expect(tags0).to_contain_text("staff · NEU")
    expect(page.get_by_test_id("ann-save")).to_have_text("All changes saved.")
    ui.shot("text-annotate-absa")
    keys.press("Shift+Enter")
    expect(page.get_by_test_id("ann-position")).to_have_text("Document 2 of 2")

    # The mouse: select "the staff did not care" in the segment, then tag it.
    text = page.get_by_test_id("ann-seg-0").locator(".ann-seg-text")
    expect(text).to_have_text(texts[1])
    x0, y0, x1, y1 = page.evaluate(
        """() => {
          const node = document.querySelector("[data-testid=ann-seg-0] .ann-seg-text").firstChild;
          const at = node.textContent.indexOf("the staff");
          const end = node.textContent.length - 1;
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + 1);
          const a = range.getBoundingClientRect();
          range.setStart(node, end - 1);
          range.setEnd(node, end);
          const b = range.getBoundingClientRect();
          return [a.left + 1, a.top + a.height / 2, b.right - 1, b.top + b.height / 2];
        }"""
    )
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=8)
    page.mouse.up()
    expect(page.get_by_test_id("ann-selection")).to_contain_text("“the staff did not care”")
    page.get_by_test_id("ann-class-1").click()
    page.get_by_test_id("ann-label-1").click()
    expect(page.get_by_test_id("ann-seg-tags-0")).to_have_text(
        "staff · NEG “the staff did not care”"
    )
    expect(page.get_by_test_id("ann-save")).to_have_text("All changes saved.")

    first = get(api, account, f"{base}/documents/{order[0]['id']}")["segments"][0]
    spans = {(t["class"], t["label"], t["start"], t["end"]) for t in first["tags"]}
    at = texts[0].index("price was high")
    assert spans == {
        ("room", "POS", None, None),
        ("price", "NEG", at, at + len("price was high")),
        ("staff", "NEU", None, None),
    }
    second = get(api, account, f"{base}/documents/{order[1]['id']}")["segments"][0]
    at = texts[1].index("the staff")
    assert [(t["class"], t["label"], t["start"], t["end"]) for t in second["tags"]] == [
        ("staff", "NEG", at, len(texts[1]) - 1)
    ]

    # The project's sentiments are shown fixed: nothing to edit, add or delete.
    ui.goto(f"/text/projects/{pid}?tab=classes")
    expect(page.get_by_test_id("labels-card")).to_contain_text("Sentiments")
    labels = page.get_by_test_id("label-table")
    expect(labels.locator("tbody tr")).to_have_count(4)
    expect(labels).to_contain_text("fixed")
    expect(labels.get_by_role("button")).to_have_count(0)
    # Three aspects and the row that adds one.
    expect(page.get_by_test_id("aspect-table").locator("tbody tr")).to_have_count(4)
    ui.shot("text-project-absa-classes")
    ui.assert_no_error_toast()
    assert not errors, errors


def test_a_project_from_the_pages_a_csv_column_and_a_session(ui, api):  # noqa: F811
    account = signup(api, org="Reviews Pages")
    page = ui.page
    errors = console_errors(page)
    ui.login_as(account, "/text")
    expect(page.get_by_test_id("nav-text")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("projects-empty")).to_be_visible()
    ui.shot("text-projects-empty")

    page.get_by_test_id("project-new-empty").click()
    page.get_by_test_id("project-name").fill("Guest reviews")
    page.get_by_test_id("project-description").fill("What guests say about their stay.")
    page.get_by_test_id("project-type-CLASS").check()
    with page.expect_navigation():
        page.get_by_test_id("project-submit").click()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("tp-name")).to_have_text("Guest reviews")
    expect(page.get_by_test_id("tab-classes")).to_have_attribute("aria-selected", "true")
    pid = int(re.search(r"/text/projects/(\d+)", page.url).group(1))

    # Classes, added and edited in place.
    for name, description, examples in (
        ("praise", "The guest liked something.", "Lovely room\nGreat breakfast"),
        ("complaint", "Something went wrong.", "Cold shower"),
    ):
        page.get_by_test_id("class-input-name").fill(name)
        page.get_by_test_id("class-input-description").fill(description)
        page.get_by_test_id("class-input-examples").fill(examples)
        page.get_by_test_id("class-add").click()
        expect(page.get_by_test_id("class-table")).to_contain_text(name)
    classes = get(api, account, f"{API}/{pid}/classes")["items"]
    assert [(c["name"], c["examples"]) for c in classes] == [
        ("praise", ["Lovely room", "Great breakfast"]),
        ("complaint", ["Cold shower"]),
    ]
    page.get_by_test_id(f"class-edit-{classes[1]['id']}").click()
    page.get_by_test_id("class-input-name").first.fill("problem")
    page.get_by_test_id(f"class-save-{classes[1]['id']}").click()
    expect(page.get_by_test_id(f"class-name-{classes[1]['id']}")).to_have_text("problem")
    page.get_by_test_id("class-input-name").fill("praise")
    page.get_by_test_id("class-add").click()
    expect(page.get_by_test_id("field-error-name")).to_be_visible()
    ui.shot("text-project-classes")

    # A CSV uploaded, previewed, and its text column picked.
    page.get_by_test_id("tab-documents").click()
    expect(page.get_by_test_id("docs-empty")).to_be_visible()
    page.get_by_test_id("docs-add").click()
    rows = [
        ("h1", "5", "Lovely room. Great breakfast!"),
        ("h2", "1", "Cold shower. The staff did not care."),
        ("h3", "3", "Fine for one night."),
    ]
    csv = "ref,stars,comment\n" + "".join(f'{a},{b},"{c}"\n' for a, b, c in rows)
    page.get_by_test_id("docs-file").set_input_files(
        files=[{"name": "reviews.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    expect(page.get_by_test_id("docs-preview")).to_contain_text("Cold shower")
    expect(page.get_by_test_id("docs-column")).to_have_value("comment")
    page.get_by_test_id("docs-column").select_option("comment")
    page.get_by_test_id("docs-id-column").select_option("ref")
    expect(page.get_by_test_id("docs-file-submit")).to_have_text("Create 3 documents")
    ui.shot("text-upload-preview")
    page.get_by_test_id("docs-file-submit").click()
    ui.toast("3 documents added.")
    expect(page.locator("[data-testid^=doc-row-]")).to_have_count(3)
    docs = get(api, account, f"{API}/{pid}/documents", details="meta")["items"]
    assert sorted((d["external_id"], d["text"]) for d in docs) == [(a, c) for a, _, c in rows]
    # The other columns are kept with each document.
    assert sorted(str(d["meta"]["stars"]) for d in docs) == ["1", "3", "5"]

    page.get_by_test_id("docs-q").fill("shower")
    expect(page.locator("[data-testid^=doc-row-]")).to_have_count(1)
    page.locator("[data-testid^=doc-open-]").first.click()
    expect(page.get_by_test_id("doc-segments")).to_contain_text("The staff did not care.")
    expect(page.locator("[data-testid^=doc-segment-]")).to_have_count(2)
    ui.shot("text-document")
    page.get_by_test_id("doc-close").click()

    # A session over a sample of two, then its progress page.
    page.get_by_test_id("tab-sessions").click()
    expect(page.get_by_test_id("sessions-empty")).to_be_visible()
    page.get_by_test_id("session-new").click()
    page.get_by_test_id("session-name").fill("Pilot")
    page.get_by_test_id("session-sample").fill("2")
    expect(page.get_by_test_id(f"session-assignee-{account.user_id}")).to_be_checked()
    page.get_by_test_id("session-submit").click()
    ui.toast("Session Pilot created with 2 documents.")
    sessions = get(api, account, f"{API}/{pid}/sessions")["items"]
    assert [(s["name"], s["document_count"]) for s in sessions] == [("Pilot", 2)]
    sid = sessions[0]["id"]
    expect(page.get_by_test_id(f"session-progress-{sid}")).to_have_attribute("aria-valuenow", "0")
    ui.shot("text-project-sessions")
    page.get_by_test_id(f"session-link-{sid}").click()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("ts-name")).to_have_text("Pilot")
    expect(page.get_by_test_id("ts-agreement-none")).to_be_visible()
    ui.shot("text-session")

    # The overview counts what was made; the list shows the project.
    ui.goto(f"/text/projects/{pid}")
    expect(page.get_by_test_id("stat-documents")).to_have_text("3")
    expect(page.get_by_test_id("stat-classes")).to_have_text("2")
    expect(page.get_by_test_id("stat-sessions")).to_have_text("1")
    ui.shot("text-project-overview")
    ui.goto("/text")
    expect(page.get_by_test_id(f"project-row-{pid}")).to_contain_text("Guest reviews")
    expect(page.get_by_test_id(f"project-documents-{pid}")).to_have_text("3")
    ui.shot("text-projects")
    ui.assert_no_error_toast()
    ui.assert_only_local()
    # The one failed request: the duplicate class, refused with 409 and said at its field.
    assert errors == [
        "Failed to load resource: the server responded with a status of 409 (Conflict)"
    ]


def test_pasted_texts_export_project_roles_and_deletion(ui, api):  # noqa: F811
    owner = signup(api, org="Reviews Roles")
    member = invite_and_join(api, owner, "member")
    pid = post(api, owner, API, {"name": "Pasted", "type": "CLASS"})["id"]
    post(api, owner, f"{API}/{pid}/classes", [{"name": "fine"}, {"name": "poor"}])
    page = ui.page
    errors = console_errors(page)
    ui.login_as(owner, f"/text/projects/{pid}?tab=documents")

    page.get_by_test_id("docs-add-empty").click()
    page.get_by_test_id("docs-mode-paste").click()
    page.get_by_test_id("docs-paste").fill("Quiet street, fine bed.\n\nPoor wifi. Slow lift.\n")
    page.get_by_test_id("docs-paste-submit").click()
    ui.toast("2 documents added.")
    expect(page.locator("[data-testid^=doc-row-]")).to_have_count(2)

    # What an export holds: the tags of a session, one row per tag.
    session = post(api, owner, f"{API}/{pid}/sessions", {"name": "Export me"})
    base = f"{API}/{pid}/sessions/{session['id']}"
    item = get(api, owner, f"{base}/documents")["items"][0]
    segment = get(api, owner, f"{base}/documents/{item['id']}")["segments"][0]
    r = api.put(
        f"{base}/documents/{item['id']}/segments/{segment['id']}/tags",
        json={"tags": [{"class": "poor"}], "version": None},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    page.get_by_test_id("tab-export").click()
    expect(page.get_by_test_id("export-session").locator("option")).to_have_count(2)
    page.get_by_test_id("export-session").select_option(str(session["id"]))
    with page.expect_download() as download:
        page.get_by_test_id("export-submit").click()
    assert download.value.suggested_filename == f"Pasted-session{session['id']}.csv"
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert segment["text"] in exported and "poor" in exported

    # Deleting a class takes its tags along, and says how many.
    page.get_by_test_id("tab-classes").click()
    poor = next(c for c in get(api, owner, f"{API}/{pid}/classes")["items"] if c["name"] == "poor")
    page.get_by_test_id(f"class-delete-{poor['id']}").click()
    ui.toast("Deleted class poor; 1 tag went with it.")
    expect(page.get_by_test_id(f"class-row-{poor['id']}")).to_have_count(0)
    saved = get(api, owner, f"{base}/documents/{item['id']}")["segments"][0]
    assert saved["tags"] == []

    # A project role of its own for the member: annotator, then the organization's again.
    page.get_by_test_id("tab-members").click()
    page.get_by_test_id(f"member-role-{member.user_id}").select_option("ANNOTATOR")
    ui.toast("is now annotator in this project")
    members = {m["user_id"]: m for m in get(api, owner, f"{API}/{pid}/members")["items"]}
    assert members[member.user_id]["explicit_role"] == "ANNOTATOR"
    expect(page.get_by_test_id(f"member-role-{owner.user_id}")).to_be_disabled()
    ui.shot("text-project-members")

    # The annotator sees no session that is not theirs, and nothing to configure.
    ui.login_as(member, f"/text/projects/{pid}?tab=sessions")
    expect(page.get_by_test_id("tp-role-badge")).to_have_text("annotator")
    expect(page.get_by_test_id("sessions-empty")).to_contain_text("assigned to you")
    expect(page.get_by_test_id("tp-edit")).to_be_hidden()
    expect(page.get_by_test_id("session-new")).to_be_hidden()
    expect(page.get_by_test_id("tab-members")).to_be_hidden()

    ui.login_as(owner, f"/text/projects/{pid}?tab=members")
    page.get_by_test_id(f"member-reset-{member.user_id}").click()
    ui.toast("organization role")
    members = {m["user_id"]: m for m in get(api, owner, f"{API}/{pid}/members")["items"]}
    assert members[member.user_id]["explicit_role"] is None

    # Deleting asks with what would go (the page accepts the confirm), then the list.
    page.get_by_test_id("tp-edit").click()
    with page.expect_navigation():
        page.get_by_test_id("tp-delete").click()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("projects-empty")).to_be_visible()
    assert api.get(f"{API}/{pid}", headers=owner.headers).status_code == 404
    ui.goto(f"/text/projects/{pid}")
    expect(page.get_by_test_id("tp-name")).to_have_text("Project not found")
    ui.assert_no_error_toast()
    # The failed requests: the deletion asked first (409), the deleted project (404).
    assert [e.split("status of ")[1] for e in errors] == ["409 (Conflict)", "404 (Not Found)"]


def test_agreement_of_two_annotators_and_the_review_queue(ui, api):  # noqa: F811
    owner = signup(api, org="Reviews Agreement")
    member = invite_and_join(api, owner, "member")
    project = post(api, owner, API, {"name": "Agreement", "type": "CLASS"})
    pid = project["id"]
    classes = post(api, owner, f"{API}/{pid}/classes", [{"name": "good"}, {"name": "bad"}])["items"]
    docs = post(
        api,
        owner,
        f"{API}/{pid}/documents",
        {"documents": [{"text": f"Review number {i} of the hotel."} for i in range(6)]},
    )["items"]
    session = post(
        api,
        owner,
        f"{API}/{pid}/sessions",
        {"name": "Double", "assignees": [owner.user_id, member.user_id]},
    )
    base = f"{API}/{pid}/sessions/{session['id']}"
    # The two agree on five documents of six.
    for who, answers in ((owner, "gbgbgb"), (member, "gbgbgg")):
        for doc, answer in zip(docs, answers, strict=True):
            segment = get(api, who, f"{base}/documents/{doc['id']}")["segments"][0]
            r = api.put(
                f"{base}/documents/{doc['id']}/segments/{segment['id']}/tags",
                json={"tags": [{"class": "good" if answer == "g" else "bad"}], "version": None},
                headers=who.headers,
            )
            assert r.status_code == 200, r.text
    agreement = get(api, owner, f"{base}/agreement")
    assert agreement["items"] == 6

    page = ui.page
    errors = console_errors(page)
    ui.login_as(owner, f"/text/projects/{pid}/sessions/{session['id']}")
    expect(page.get_by_test_id("ts-kappa-value")).to_have_text(f"{agreement['kappa']:.2f}")
    expect(page.get_by_test_id("ts-kappa")).to_contain_text("83 % raw agreement over 6 segments")
    expect(page.locator("[data-testid^=ts-annotator-progress-]")).to_have_count(2)
    ui.shot("text-session-agreement")

    # Two unsure predictions go to the review queue: one accepted, one corrected.
    r = api.put(
        f"{API}/{pid}/review/config",
        json={"enabled": True, "threshold": 0.8, "assignee_ids": [owner.user_id]},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    segments = [get(api, owner, f"{base}/documents/{d['id']}")["segments"][0] for d in docs[:2]]
    with api.augury_db.session() as s:
        queued = review.submit(
            s,
            s.get(TextProject, pid),
            [
                {
                    "document_id": d["id"],
                    "segment_id": seg["id"],
                    "tags": [{"class_id": classes[0]["id"], "confidence": 0.4 + i / 10}],
                }
                for i, (d, seg) in enumerate(zip(docs[:2], segments, strict=True))
            ],
        )
        items = [q.id for q in queued]
    assert len(items) == 2
    ui.goto(f"/text/projects/{pid}?tab=review")
    expect(page.locator("[data-testid^=review-item-]")).to_have_count(2)
    expect(page.get_by_test_id(f"review-item-{items[0]}")).to_contain_text("Review number 0")
    expect(page.get_by_test_id("tab-count-review")).to_have_text("2")
    ui.shot("text-review")
    page.get_by_test_id(f"review-accept-{items[0]}").click()
    ui.toast("Accepted")
    expect(page.locator("[data-testid^=review-item-]")).to_have_count(1)
    page.get_by_test_id(f"review-correct-{items[1]}").click()
    page.get_by_test_id(f"review-item-{items[1]}").get_by_label("bad").check()
    page.get_by_test_id(f"review-save-{items[1]}").click()
    ui.toast("Corrected")
    expect(page.get_by_test_id("review-empty")).to_be_visible()
    done = {i["id"]: i for i in get(api, owner, f"{API}/{pid}/review/items")["items"]}
    assert done[items[0]]["status"] == "ACCEPTED"
    assert done[items[1]]["status"] == "CORRECTED"
    assert [t.get("class") for t in done[items[1]]["final"]] == ["bad"]
    ui.assert_no_error_toast()
    assert not errors, errors


def test_the_bell_counts_unread_notifications_and_marks_them_read(ui, api):  # noqa: F811
    account = signup(api, org="Bell Ltd")
    with api.augury_db.session() as s:
        for title in ("Upload segmented", "Model trained"):
            notify(
                s,
                org_id=account.org_id,
                user_id=account.user_id,
                kind="text.upload",
                title=title,
                body=f"{title}: 1,000 documents.",
                link="/text",
            )
    page = ui.page
    errors = console_errors(page)
    ui.login_as(account, "/")
    count = page.get_by_test_id("notif-count")
    expect(count).to_have_text("2")
    page.get_by_test_id("notif-button").click()
    items = page.locator("[data-testid^=notif-item-]")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Model trained")
    ui.shot("text-notifications")
    page.locator("[data-testid^=notif-mark-]").first.click()
    expect(count).to_have_text("1")
    page.get_by_test_id("notif-read-all").click()
    expect(count).to_be_hidden()
    assert get(api, account, "/api/v1/notifications/unread-count") == {"unread": 0}
    with page.expect_navigation():
        page.locator("[data-testid^=notif-open-]").first.click()
    assert page.url.endswith("/text")
    assert not errors, errors
