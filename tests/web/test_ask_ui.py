"""Ask in a real headless Chromium: a question about an uploaded dataset answered with
its chart (drawn by augury's own renderer from the Vega-Lite spec), table, plan in
words and insights; the plan corrected in place and run again; a question augury
cannot place answered with the columns it could mean; answers saved as charts and
found, renamed, opened and deleted in the saved charts list.

The server is the real one with its job runner (``live_server``): the dataset is
uploaded as a CSV and profiled by its job, and the answers come from the offline parser.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import defaultdict
from pathlib import Path
from statistics import mean

import pytest
from playwright.sync_api import expect

from tests.fixtures.factories import invite_and_join, signup
from tests.web.conftest import HTTP_TIMEOUT_S, wait_js
from tests.web.test_ui import api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

SPECIES = ("Adelie", "Chinstrap", "Gentoo")
ISLANDS = ("Biscoe", "Dream", "Torgersen")


def penguins() -> tuple[bytes, list[dict]]:
    """36 penguins over six months: three species of distinct weights, two length columns
    (so "length" alone is ambiguous)."""
    records = [
        {
            "observed": f"2024-{1 + i % 6:02d}-{1 + (i * 5) % 27:02d}",
            "species": SPECIES[i % 3],
            "island": ISLANDS[(i // 3) % 3],
            "bill_length_mm": round(35 + (i % 3) * 5 + (i % 7) * 0.5, 1),
            "flipper_length_mm": 180 + (i % 3) * 15 + i % 5,
            "body_mass_g": 3500 + (i % 3) * 800 + (i * 37) % 300,
        }
        for i in range(36)
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode(), records


def by_species(records: list[dict], fn) -> dict[str, float]:
    groups: dict[str, list[float]] = defaultdict(list)
    for r in records:
        groups[r["species"]].append(r["body_mass_g"])
    return {k: fn(v) for k, v in groups.items()}


def upload_profiled(api, account, content: bytes | None = None) -> tuple[int, list[dict]]:  # noqa: F811
    """Upload penguins (or `content` as its next version) and wait for its profile."""
    records: list[dict] = []
    if content is None:
        content, records = penguins()
    r = api.post(
        "/api/v1/datasets",
        files={"file": ("penguins.csv", content, "text/csv")},
        data={"name": "penguins"},
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    dataset_id = r.json()["id"]
    # Questions read the profile's types (a date column, categories): wait for its job.
    deadline = time.monotonic() + HTTP_TIMEOUT_S
    while time.monotonic() < deadline:
        body = api.get(f"/api/v1/datasets/{dataset_id}", headers=account.headers).json()
        if body["version"]["profile_status"] in ("complete", "failed"):
            assert body["version"]["profile_status"] == "complete", body
            return dataset_id, records
        time.sleep(0.1)
    raise AssertionError("the profile job did not finish")


def shown_rows(page) -> list[list[str]]:
    rows = page.get_by_test_id("result-row")
    return [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]


def test_ask_read_the_answer_correct_the_plan_and_save_the_chart(ui, api):  # noqa: F811
    account = signup(api, org="Penguin Watch")
    dataset_id, records = upload_profiled(api, account)
    page = ui.page
    ui.login_as(account, "/ask")
    expect(page.get_by_test_id("nav-ask")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("ask-dataset")).to_have_value(str(dataset_id))
    suggestions = page.get_by_test_id("ask-suggestion")
    expect(suggestions.first).to_be_visible()
    said = suggestions.all_inner_texts()
    assert "how many rows" in said and any(s.endswith("per month") for s in said), said
    ui.shot("ask-start")

    # A question, asked with Enter: the bars, the table, the words, the insights.
    page.fill("[data-testid=ask-q]", "average body mass by species")
    page.press("[data-testid=ask-q]", "Enter")
    chart = page.locator("[data-testid=answer-chart] svg[data-testid=vl-chart]")
    expect(chart).to_have_attribute("data-kind", "bar")
    expect(chart.locator("[data-testid=vl-bar]")).to_have_count(3)
    assert "3 bars" in chart.get_attribute("aria-label")
    means = by_species(records, mean)
    rows = shown_rows(page)
    assert sorted(r[0] for r in rows) == sorted(SPECIES)
    for name, value in rows:
        assert float(value) == pytest.approx(means[name], abs=0.01)
    expect(page.get_by_test_id("plan-words")).to_contain_text("mean of body_mass_g by species")
    expect(page.get_by_test_id("insight").first).to_be_visible()
    expect(page.get_by_test_id("answer-confidence")).to_contain_text("confidence")
    expect(page.get_by_test_id("answer-meta")).to_contain_text("penguins · version 1 · 3 rows")
    assert f"dataset={dataset_id}" in page.url and "q=average" in page.url
    # The hover tip names the bar's fields.
    chart.locator("[data-testid=vl-bar]").first.hover()
    expect(page.locator(".vl-tip")).to_be_visible()
    expect(page.locator(".vl-tip")).to_contain_text("Species")
    ui.shot("ask-answer")

    # The rows as CSV and the spec as JSON, as shown.
    with page.expect_download() as got:
        page.click("[data-testid=result-csv]")
    lines = Path(got.value.path()).read_text().splitlines()
    assert lines[0] == "species,mean_body_mass_g" and len(lines) == 4, lines
    page.click("[data-testid=export-button]")
    with page.expect_download() as got:
        page.click("[data-testid=answer-spec]")
    spec = json.loads(Path(got.value.path()).read_text())
    assert spec["$schema"].endswith("/v5.json") and len(spec["data"]["values"]) == 3
    # The chart as drawn: an SVG of its three bars, and a PNG painted from it.
    page.click("[data-testid=export-button]")
    with page.expect_download() as got:
        page.click("[data-testid=export-svg]")
    image = Path(got.value.path()).read_text()
    assert image.startswith("<svg") and image.count('data-testid="vl-bar"') == 3
    assert "Average body mass g by species" in image
    page.click("[data-testid=export-button]")
    with page.expect_download() as got:
        page.click("[data-testid=export-png]")
    assert got.value.suggested_filename == "average-body-mass-by-species.png"
    assert Path(got.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The reading corrected in place: the maximum instead of the mean, run as a plan.
    page.select_option("[data-testid=plan-fn]", "max")
    expect(page.get_by_test_id("plan-dirty")).to_be_visible()
    page.click("[data-testid=plan-run]")
    expect(page.get_by_test_id("plan-words")).to_contain_text("maximum of body_mass_g by species")
    expect(page.get_by_test_id("plan-dirty")).to_be_hidden()
    maxima = by_species(records, max)
    expect(page.get_by_test_id("result-head")).to_contain_text("max_body_mass_g")
    for name, value in shown_rows(page):
        assert float(value) == maxima[name]
    expect(page.get_by_test_id("answer-question")).to_have_text("average body mass by species")
    # A filter added to the plan: one row left, shown as one number; then removed again.
    page.click("[data-testid=plan-add-filter]")
    page.select_option("[data-testid=plan-filter-col]", "species")
    page.fill("[data-testid=plan-filter-value]", "Gentoo")
    page.click("[data-testid=plan-run]")
    expect(page.get_by_test_id("plan-words")).to_contain_text("where species is Gentoo")
    expect(page.get_by_test_id("vl-number-value")).to_have_text(f"{maxima['Gentoo']:,}")
    expect(page.get_by_test_id("result-row")).to_have_count(1)
    ui.shot("ask-filtered")
    page.locator("[data-testid=plan-filter] [data-testid=plan-remove]").click()
    page.click("[data-testid=plan-run]")
    expect(chart.locator("[data-testid=vl-bar]")).to_have_count(3)
    ui.shot("ask-corrected")

    # Saved under a title: it is then a chart of its own (?chart=).
    page.click("[data-testid=answer-save]")
    expect(page.get_by_test_id("save-title")).to_have_value("average body mass by species")
    page.fill("[data-testid=save-title]", "Heaviest of each species")
    page.click("[data-testid=save-submit]")
    ui.toast("Saved as “Heaviest of each species”")
    expect(page).to_have_url(re.compile(r"/ask\?chart=\d+$"))
    chart_id = int(page.url.rsplit("=", 1)[1])

    # A suggestion over time: one point a month, on a line.
    page.get_by_test_id("ask-suggestion").filter(has_text="per month").click()
    line = page.locator("[data-testid=answer-chart] svg[data-testid=vl-chart][data-kind=line]")
    expect(line.locator("[data-testid=vl-point]")).to_have_count(6)
    expect(page.get_by_test_id("result-row")).to_have_count(6)
    ui.shot("ask-line")

    # The saved charts: found by search, renamed, opened (run again), deleted.
    ui.goto("/charts")
    row = page.get_by_test_id(f"chart-row-{chart_id}")
    expect(row).to_contain_text("Heaviest of each species")
    expect(row).to_contain_text("average body mass by species")
    expect(row).to_contain_text("penguins")
    ui.shot("charts")
    page.fill("[data-testid=charts-q]", "nothing like it")
    expect(page.get_by_test_id("charts-none")).to_be_visible()
    page.fill("[data-testid=charts-q]", "body mass")
    expect(row).to_be_visible()
    page.select_option("[data-testid=charts-type]", "line")
    expect(page.get_by_test_id("charts-none")).to_be_visible()
    page.select_option("[data-testid=charts-type]", "bar")
    expect(row).to_be_visible()
    page.click(f"[data-testid=chart-rename-{chart_id}]")
    page.fill("[data-testid=rename-title]", "Heaviest penguins")
    page.click("[data-testid=rename-submit]")
    expect(page.get_by_test_id(f"chart-link-{chart_id}")).to_have_text("Heaviest penguins")
    page.click(f"[data-testid=chart-open-{chart_id}]")
    page.wait_for_selector("body[data-ready=true]")
    expect(chart.locator("[data-testid=vl-bar]")).to_have_count(3)
    expect(page.get_by_test_id("vl-title")).to_have_text("Heaviest penguins")
    expect(page.get_by_test_id("plan-words")).to_contain_text("maximum of body_mass_g")
    ui.goto("/charts")
    page.click(f"[data-testid=chart-delete-{chart_id}]")
    expect(page.get_by_test_id("charts-empty")).to_be_visible()
    r = api.get(f"/api/v1/analytics/chart/{chart_id}", headers=account.headers)
    assert r.status_code == 404
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_a_question_it_cannot_place_offers_the_columns_it_could_mean(ui, api):  # noqa: F811
    account = signup(api, org="Ambiguous Birds")
    dataset_id, records = upload_profiled(api, account)
    page = ui.page
    ui.login_as(account, f"/ask?dataset={dataset_id}")
    page.fill("[data-testid=ask-q]", "average length by species")
    page.click("[data-testid=ask-submit]")
    expect(page.get_by_test_id("ask-problem")).to_be_visible()
    expect(page.get_by_test_id("ask-problem-message")).to_contain_text("length")
    candidates = page.get_by_test_id("ask-candidate")
    assert set(candidates.all_inner_texts()) == {"bill_length_mm", "flipper_length_mm"}
    expect(page.get_by_test_id("ask-answer")).to_be_hidden()
    ui.shot("ask-candidates")

    # A candidate rewrites the question with it and asks again.
    candidates.filter(has_text="flipper_length_mm").click()
    expect(page.get_by_test_id("ask-q")).to_have_value(re.compile(r"flipper length"))
    expect(page.get_by_test_id("plan-words")).to_contain_text("flipper_length_mm")
    expect(page.get_by_test_id("ask-problem")).to_be_hidden()
    chart = page.locator("[data-testid=answer-chart] svg[data-testid=vl-chart]")
    expect(chart.locator("[data-testid=vl-bar]")).to_have_count(3)

    # A question about nothing in the dataset says so, with no answer made up.
    page.fill("[data-testid=ask-q]", "what is the flux capacitor reading")
    page.press("[data-testid=ask-q]", "Enter")
    expect(page.get_by_test_id("ask-problem")).to_be_visible()
    expect(page.get_by_test_id("ask-answer")).to_be_hidden()
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_a_viewer_asks_switches_the_chart_but_cannot_save(ui, api):  # noqa: F811
    owner = signup(api, org="Read Only Birds")
    dataset_id, records = upload_profiled(api, owner)
    viewer = invite_and_join(api, owner, "viewer")
    page = ui.page
    # A deep link asks at once.
    ui.login_as(viewer, f"/ask?dataset={dataset_id}&q=how%20many%20rows%20by%20island")
    chart = page.locator("[data-testid=answer-chart] [data-testid=vl-chart]")
    expect(chart.locator("[data-testid=vl-bar]")).to_have_count(3)
    save = page.get_by_test_id("answer-save")
    expect(save).to_be_disabled()
    assert save.get_attribute("title") == "Viewers can ask but not save charts"

    # Another chart type for the same answer: the plan runs again, drawn as a pie.
    page.select_option("[data-testid=answer-chart-type]", "arc")
    expect(chart.locator("[data-testid=vl-arc]")).to_have_count(3)
    expect(page.get_by_test_id("vl-legend")).to_contain_text("Biscoe")
    ui.shot("ask-pie")

    # One number: a big-number card.
    page.select_option("[data-testid=answer-chart-type]", "auto")
    page.fill("[data-testid=ask-q]", "how many rows")
    page.press("[data-testid=ask-q]", "Enter")
    expect(page.get_by_test_id("vl-number-value")).to_have_text(str(len(records)))
    ui.shot("ask-number")

    # On a phone the chart is drawn again to its narrower box.
    page.fill("[data-testid=ask-q]", "average body mass by species")
    page.press("[data-testid=ask-q]", "Enter")
    bars = page.locator("[data-testid=answer-chart] svg[data-testid=vl-chart]")
    expect(bars.locator("[data-testid=vl-bar]")).to_have_count(3)
    page.set_viewport_size({"width": 390, "height": 844})
    wait_js(page, "document.querySelector('[data-testid=vl-chart]').getAttribute('width') < 390")
    ui.shot("ask-390")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_a_saved_chart_whose_column_is_gone_shows_as_saved_and_says_why(ui, api):  # noqa: F811
    account = signup(api, org="Changing Birds")
    dataset_id, records = upload_profiled(api, account)
    r = api.post(
        "/api/v1/analytics/chart",
        json={
            "query": "average body mass by species",
            "data_source": dataset_id,
            "save": True,
            "options": {"title": "Mass by species"},
        },
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    chart_id = r.json()["chart_id"]
    # The next version drops the measured column.
    content, _ = penguins()
    lines = [",".join(line.split(",")[:-1]) for line in content.decode().splitlines()]
    upload_profiled(api, account, "\n".join(lines).encode())

    page = ui.page
    ui.login_as(account, f"/ask?chart={chart_id}")
    note = page.get_by_test_id("answer-note")
    expect(note).to_contain_text("This chart no longer runs on version 2")
    expect(note).to_contain_text("Shown as it was saved.")
    chart = page.locator("[data-testid=answer-chart] svg[data-testid=vl-chart]")
    expect(chart.locator("[data-testid=vl-bar]")).to_have_count(3)
    expect(page.get_by_test_id("answer-question")).to_have_text("average body mass by species")
    expect(page.get_by_test_id("ask-q")).to_have_value("average body mass by species")
    ui.shot("ask-saved-stale")
    ui.assert_no_error_toast()
