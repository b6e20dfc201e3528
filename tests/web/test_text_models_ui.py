"""Text models and analyses in a real headless Chromium: a PDF's pages marked done in
the annotator view; a model trained from a labeled session through the project page,
its report page against the API's report, "Try it", promotion; a batch analysis over a
group with its results, filters, aggregates chart and export.

The server is the real one with its job runner (``live_server``); what the pages did is
checked through the API afterwards, not through the pages themselves.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.fixtures.factories import signup
from tests.text.helpers import add_documents, add_session, annotate, segments_of
from tests.text.test_files import text_pdf
from tests.text.test_models import ABSA, labeled_project
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


def _pct(v) -> str:
    """A 0-1 figure as the pages write it: one decimal, the browser's locale (en-US here)."""
    return f"{100 * v:.1f} %"


def _ready(api, account, pid: int, model_id: int) -> dict:  # noqa: F811
    return get(api, account, f"{API}/{pid}/models/{model_id}")


def test_a_model_trained_from_the_project_page_its_report_try_it_and_promotion(ui, api):  # noqa: F811
    account = signup(api, org="Intents Ltd")
    pid, sessions, _ = labeled_project(api, api.augury_db, account, name="Support intents")
    page = ui.page
    errors = console_errors(page)
    ui.login_as(account, f"/text/projects/{pid}?tab=models")
    expect(page.get_by_test_id("models-empty")).to_be_visible()
    # Before any model a CLASS project answers zero-shot.
    expect(page.get_by_test_id("tryit-model")).to_contain_text("Zero-shot")

    page.get_by_test_id("model-train").click()
    page.get_by_test_id("train-name").fill("intents")
    for sid in sessions:
        expect(page.get_by_test_id(f"session-{sid}")).to_be_checked()
    page.get_by_test_id("train-fraction").fill("25")
    ui.shot("text-model-train")
    page.get_by_test_id("train-submit").click()
    ui.toast("Training intents v1")
    [first] = get(api, account, f"{API}/{pid}/models")["items"]
    assert sorted(first["training"]["session_ids"]) == sessions
    assert first["training"]["test_fraction"] == 0.25
    # A second version, through the API, while the first trains.
    r = api.post(
        f"{API}/{pid}/models",
        json={"name": "intents", "session_ids": sessions, "seed": 7},
        headers=account.headers,
    )
    assert r.status_code == 202, r.text
    second = r.json()["model"]
    assert second["version"] == 2
    for m in (first, second):
        expect(page.get_by_test_id(f"model-row-{m['id']}")).to_have_attribute(
            "data-status", "READY", timeout=180_000
        )
    first, second = _ready(api, account, pid, first["id"]), _ready(api, account, pid, second["id"])
    expect(page.get_by_test_id(f"model-score-{first['id']}")).to_have_text(_pct(first["score"]))
    ui.shot("text-models")

    # Promoted from the list: the active version is the default of Try it.
    page.get_by_test_id(f"model-promote-{second['id']}").click()
    expect(page.get_by_test_id(f"model-active-{second['id']}")).to_be_visible()
    assert _ready(api, account, pid, second["id"])["active"] is True
    expect(page.get_by_test_id("tryit-model")).to_contain_text("Active model: intents v2")
    page.get_by_test_id("tryit-text").fill("The card you mailed me never arrived.")
    page.get_by_test_id("tryit-submit").click()
    expect(page.get_by_test_id("tryit-by")).to_contain_text("intents v2")
    expect(page.get_by_test_id("tryit-tag-0-0")).to_contain_text("Alpha")
    ui.shot("text-tryit")
    # Zero-shot stays at hand beside the active model, to compare with.
    page.get_by_test_id("tryit-model").select_option("zero-shot")
    page.get_by_test_id("tryit-submit").click()
    expect(page.get_by_test_id("tryit-by")).to_contain_text("zero-shot")

    # The first version's page: its report as the API gives it.
    page.get_by_test_id(f"model-link-{first['id']}").click()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("tm-name")).to_have_text("intents v1")
    report = get(api, account, f"{API}/{pid}/models/{first['id']}/report")
    expect(page.get_by_test_id("tm-score")).to_have_text(_pct(first["score"]))
    rows = page.locator("[data-testid=tm-per-class] tbody tr")
    expect(rows).to_have_count(len(report["per_class"]))
    weakest = sorted(report["per_class"].items(), key=lambda kv: (kv[1]["f1"], kv[0]))
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.class)") == [n for n, _ in weakest]
    for name, figures in report["per_class"].items():
        row = page.get_by_test_id(f"tm-class-{name}")
        for key in ("precision", "recall", "f1"):
            expect(row.locator(f"[data-col={key}]")).to_have_text(_pct(figures[key]))
        expect(row.locator("[data-col=support]")).to_have_text(str(figures["support"]))
    for i, counts in enumerate(report["confusion"]):
        for j, n in enumerate(counts):
            expect(page.get_by_test_id(f"tm-cm-{i}-{j}")).to_have_text(str(n) if n else "·")
    assert sum(map(sum, report["confusion"])) == first["training"]["counts"]["test"]
    # Sorted by support, most first, with a click.
    page.locator("[data-sort=support]").click()
    supports = rows.evaluate_all(
        "rs => rs.map(r => r.querySelector('[data-col=support]').textContent)"
    )
    assert supports == sorted(supports, key=int, reverse=True)
    ui.shot("text-model")

    # Made active here, then the two versions compared.
    page.get_by_test_id("tm-promote").click()
    expect(page.get_by_test_id("tm-active")).to_be_visible()
    expect(page.get_by_test_id("tm-promote")).to_be_hidden()
    assert _ready(api, account, pid, first["id"])["active"] is True
    assert _ready(api, account, pid, second["id"])["active"] is False
    page.get_by_test_id(f"tm-version-pick-{second['id']}").check()
    page.get_by_test_id("tm-compare").click()
    table = page.get_by_test_id("tm-compare-table")
    expect(table.locator("thead th")).to_have_count(3)
    compared = get(api, account, f"{API}/{pid}/models/compare", ids=f"{second['id']},{first['id']}")
    for name in compared["classes"]:
        expect(page.get_by_test_id(f"tm-compare-{name}")).to_be_visible()
    ui.shot("text-model-compare")

    # Downloaded as this server signs it, uploaded back under another name, deleted.
    with page.expect_download() as download:
        page.get_by_test_id("tm-download").click()
    assert download.value.suggested_filename == "intents-v1.zip"
    ui.goto(f"/text/projects/{pid}?tab=models")
    page.get_by_test_id("model-upload").click()
    page.get_by_test_id("model-upload-file").set_input_files(download.value.path())
    page.get_by_test_id("model-upload-name").fill("imported")
    page.get_by_test_id("model-upload-submit").click()
    ui.toast("Uploaded imported v1.")
    imported = get(api, account, f"{API}/{pid}/models", name="imported")["items"][0]
    assert (imported["status"], imported["origin"]) == ("READY", "uploaded")
    assert imported["content_hash"] == first["content_hash"]
    page.get_by_test_id(f"model-delete-{imported['id']}").click()
    ui.toast("Deleted imported v1.")
    expect(page.get_by_test_id(f"model-row-{imported['id']}")).to_have_count(0)
    assert get(api, account, f"{API}/{pid}/models")["total"] == 2
    ui.assert_no_error_toast()
    ui.assert_only_local()
    assert not errors, errors


ABSA_WORDS = {"POS": "positive", "NEG": "negative", "NEU": "neutral", "CONFLICT": "conflict"}

CLASSES = [
    {
        "name": "Food",
        "description": "The meal: dishes, taste, flavour, portions, the menu",
        "examples": ["The pasta was delicious", "Tasty soup and fresh bread"],
    },
    {
        "name": "Staff",
        "description": "The people serving: waiters, waitresses, service, friendliness",
        "examples": ["Our waiter was rude", "The staff were friendly and helpful"],
    },
    {
        "name": "Price",
        "description": "Money: the cost, the bill, expensive or cheap, value for money",
        "examples": ["Far too expensive", "The bill was reasonable for the price"],
    },
]
REVIEWS = [
    ("The lasagna tasted wonderful.", "2024-01-02"),
    ("The waitress was very kind to us.", "2024-01-02"),
    ("It cost a fortune for what you get.", "2024-01-09"),
    ("My steak was dry and the fries were cold.", "2024-01-10"),
    ("The waiter ignored our table all night.", "2024-02-05"),
    ("Cheap prices, great value for money.", "2024-02-06"),
]


def test_a_batch_analysis_of_a_group_its_results_chart_and_export(ui, api):  # noqa: F811
    account = signup(api, org="Bistro Ltd")
    pid = post(api, account, API, {"name": "Bistro reviews", "type": "CLASS"})["id"]
    post(api, account, f"{API}/{pid}/classes", CLASSES)
    documents = [{"text": t, "meta": {"written": day}} for t, day in REVIEWS]
    group = post(api, account, f"{API}/{pid}/groups", {"name": "Winter", "documents": documents})

    page = ui.page
    errors = console_errors(page)
    ui.login_as(account, f"/text/projects/{pid}?tab=analyses")
    expect(page.get_by_test_id("analyses-empty")).to_be_visible()
    page.get_by_test_id("analysis-new").click()
    page.get_by_test_id("analysis-name").fill("Winter reviews")
    expect(page.get_by_test_id("analysis-model")).to_contain_text("Zero-shot")
    page.get_by_test_id("analysis-group").select_option(str(group["id"]))
    page.get_by_test_id("analysis-group-time").fill("written")
    ui.shot("text-analysis-new")
    with page.expect_navigation():
        page.get_by_test_id("analysis-submit").click()
    page.wait_for_selector("body[data-ready=true]")
    [analysis] = get(api, account, f"{API}/{pid}/analyses")["items"]
    assert analysis["source"]["group_id"] == group["id"]
    assert analysis["source"]["time_column"] == "written"
    assert page.url.endswith(f"/text/projects/{pid}/analyses/{analysis['id']}")
    expect(page.get_by_test_id("ta-name")).to_have_text("Winter reviews")
    expect(page.get_by_test_id("ta-status-badge")).to_have_attribute(
        "data-status", "SUCCEEDED", timeout=180_000
    )
    done = get(api, account, f"{API}/{pid}/analyses/{analysis['id']}")
    expect(page.get_by_test_id("ta-segments")).to_have_text(str(done["segment_count"]))
    rows = page.locator("[data-testid^=ta-result-]")
    expect(rows).to_have_count(len(REVIEWS))

    # The chart: per day, then per week and per month, as the aggregates count them.
    chart = page.get_by_test_id("ta-chart")
    base = f"{API}/{pid}/analyses/{analysis['id']}"
    for period, periods in (("day", 5), ("week", 3), ("month", 2)):
        page.get_by_test_id(f"ta-period-{period}").click()
        expect(chart).to_have_attribute("data-shown", period)
        expect(chart).to_have_attribute("data-periods", str(periods))
        series = get(api, account, f"{base}/aggregates", period=period)["series"]
        assert len({p["period"] for p in series}) == periods
        expect(chart.get_by_test_id("vl-chart")).to_be_visible()
    ui.shot("text-analysis")

    # Filtered by class: the API's own filter decides which rows stay.
    food = get(api, account, f"{base}/results", **{"class": "Food"})
    assert food["total"] >= 1
    page.get_by_test_id("ta-class").select_option("Food")
    expect(rows).to_have_count(food["total"])
    expect(page.get_by_test_id("ta-results")).to_have_attribute("data-total", str(food["total"]))
    for item in food["items"]:
        expect(page.get_by_test_id(f"ta-result-{item['id']}")).to_be_visible()
    page.get_by_test_id("ta-q").fill("lasagna")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Food")
    page.get_by_test_id("ta-clear").click()
    expect(rows).to_have_count(len(REVIEWS))

    with page.expect_download() as download:
        page.get_by_test_id("ta-export-csv").click()
    assert download.value.suggested_filename == "Winter_reviews.csv"
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "lasagna" in exported and "Food" in exported
    ui.assert_no_error_toast()
    ui.assert_only_local()
    assert not errors, errors


def test_an_absa_model_its_sentiments_try_it_and_an_analysis_stacked_by_sentiment(ui, api):  # noqa: F811
    account = signup(api, org="Aspects Ltd")
    db = api.augury_db
    pid = post(api, account, API, {"name": "Dinner aspects", "type": "ABSA"})["id"]
    aspects = {
        c["name"]: c["id"]
        for c in post(
            api, account, f"{API}/{pid}/classes", [{"name": "Food"}, {"name": "Service"}]
        )["items"]
    }
    sentiments = {x["name"]: x["id"] for x in get(api, account, f"{API}/{pid}/labels")["items"]}
    docs = add_documents(db, pid, [t for t, _ in ABSA])
    sid = add_session(db, pid, docs)
    for doc, (_, pairs) in zip(docs, ABSA, strict=True):
        tags = [{"class_id": aspects[a], "label_id": sentiments[p]} for a, p in pairs]
        annotate(db, sid, segments_of(db, doc)[0].id, tags, user_id=account.user_id)
    r = api.post(
        f"{API}/{pid}/models",
        json={"name": "aspects", "session_ids": [sid], "test_fraction": 0.3},
        headers=account.headers,
    )
    assert r.status_code == 202, r.text
    model = r.json()["model"]

    page = ui.page
    errors = console_errors(page)
    ui.login_as(account, f"/text/projects/{pid}/models/{model['id']}")
    # The page follows the training and shows the report once it is READY.
    expect(page.get_by_test_id("tm-status")).to_have_attribute(
        "data-status", "READY", timeout=180_000
    )
    report = get(api, account, f"{API}/{pid}/models/{model['id']}/report")
    expect(page.get_by_test_id("tm-matrix")).to_be_visible()
    names = [p for p in ("POS", "NEG", "NEU", "CONFLICT") if p in report["confusion"]]
    for i, truth in enumerate(names):
        for j, said in enumerate(names):
            n = report["confusion"][truth].get(said, 0)
            expect(page.get_by_test_id(f"tm-cm-{i}-{j}")).to_have_text(str(n) if n else "·")
    ui.shot("text-model-absa")

    page.get_by_test_id("tm-promote").click()
    expect(page.get_by_test_id("tm-active")).to_be_visible()
    ui.goto(f"/text/projects/{pid}?tab=models")
    page.get_by_test_id("tryit-text").fill("The waiter was rude and slow.")
    page.get_by_test_id("tryit-submit").click()
    tag = page.get_by_test_id("tryit-tag-0-0")
    expect(tag).to_contain_text("Service · negative")
    expect(tag.locator(".polarity-NEG")).to_have_text("negative")

    # A batch analysis over a group, counted per sentiment.
    texts = ["Delicious food.", "The waiter was rude.", "Cold soup and a kind host."]
    documents = [{"text": t, "meta": {"day": "2024-03-04"}} for t in texts]
    group = post(api, account, f"{API}/{pid}/groups", {"name": "March", "documents": documents})
    r = api.post(
        f"{API}/{pid}/analyses",
        json={"name": "March", "group_id": group["id"], "time_column": "day"},
        headers=account.headers,
    )
    assert r.status_code == 202, r.text
    aid = r.json()["analysis"]["id"]
    ui.goto(f"/text/projects/{pid}/analyses/{aid}")
    expect(page.get_by_test_id("ta-status-badge")).to_have_attribute(
        "data-status", "SUCCEEDED", timeout=180_000
    )
    aggregates = get(api, account, f"{API}/{pid}/analyses/{aid}/aggregates")
    # A bar per sentiment said (one day), and each aspect's count with its sentiment.
    chart = page.get_by_test_id("ta-chart")
    said = {t["label"] for t in aggregates["totals"]}
    expect(chart).to_have_attribute("data-bars", str(len(said)))
    totals = page.get_by_test_id("ta-totals").locator(".badge")
    expect(totals).to_have_count(len(aggregates["totals"]))
    for t in aggregates["totals"]:
        word = ABSA_WORDS[t["label"]]
        expect(page.get_by_test_id("ta-totals")).to_contain_text(
            f"{t['class']} · {word}: {t['count']}"
        )
    expect(page.get_by_test_id("ta-aspect")).to_contain_text("Food")
    ui.shot("text-analysis-absa")
    ui.assert_no_error_toast()
    assert not errors, errors
