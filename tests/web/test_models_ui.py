"""Predictive models in a real headless Chromium: an admin subscribes the organization
to Failure prediction, trains a small failure model on an uploaded CSV through the
"Train a model" page (the plan shows the detected task and the identifier column left
out before anything trains), watches it train, reads its report (validation per fold,
the confusion matrix, importance), runs a what-if on a row with its explanation chart,
and predicts the whole dataset as a job whose output is a new dataset; a regression's
page draws its residuals.

The server is the real one with its job runner (``live_server``); what the pages
showed is checked against the API's own answers.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.fixtures.factories import signup
from tests.predictive.helpers import subscribe, upload_table
from tests.web.test_text_ui import console_errors, get
from tests.web.test_ui import api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

API = "/api/v1"
TRAINED_S = 240_000
"""How long the page may take to see a training end (ms): a 10 s budget on a loaded
2-core machine, with the job runner's start and the report's read around it."""


def _presses(n: int = 300, seed: int = 3) -> str:
    """A press's log as CSV: an identifier, two sensors that drive failures, a
    category and noise; about a fifth of the rows fail."""
    rng = np.random.default_rng(seed)
    temperature = rng.normal(70, 8, n).round(1)
    vibration = rng.uniform(0, 1, n).round(3)
    line = rng.choice(["north", "south", "east"], n)
    risk = (temperature - 70) / 8 + 2.5 * (vibration - 0.5) + (line == "east") * 0.5
    failure = np.where(risk + rng.normal(0, 0.4, n) > 1.0, "yes", "no")
    frame = pd.DataFrame(
        {
            "press_id": [f"P-{i:05d}" for i in range(n)],
            "temperature": temperature,
            "vibration": vibration,
            "line": line,
            "hours": rng.integers(100, 5000, n),
            "failure": failure,
        }
    )
    return frame.to_csv(index=False)


def _houses(n: int = 240, seed: int = 5) -> str:
    rng = np.random.default_rng(seed)
    area = rng.uniform(40, 200, n).round(1)
    rooms = rng.integers(1, 6, n)
    price = (area * 2.1 + rooms * 15 + rng.normal(0, 12, n)).round(2)
    return pd.DataFrame({"area": area, "rooms": rooms, "price": price}).to_csv(index=False)


def _three(v) -> str:
    """A 0-1 metric as the pages write it (3 decimals, en-US)."""
    return f"{v:.3f}"


def test_subscribe_train_a_failure_model_read_it_what_if_and_predict_a_dataset(ui, api):  # noqa: F811
    owner = signup(api, org="Presses Ltd")
    table = upload_table(api, owner.headers, _presses(), name="press log")
    page = ui.page
    errors = console_errors(page)

    # Subscribed from the applications' cards: paused and resumed on the way.
    ui.login_as(owner, "/models")
    expect(page.get_by_test_id("models-empty")).to_be_visible()
    expect(page.get_by_test_id("app-status-failure")).to_have_text("not subscribed")
    page.get_by_test_id("app-subscribe-failure").click()
    expect(page.get_by_test_id("app-status-failure")).to_have_text("active")
    page.get_by_test_id("app-pause-failure").click()
    expect(page.get_by_test_id("app-status-failure")).to_have_text("paused")
    [sub] = get(api, owner, f"{API}/subscriptions")
    assert (sub["application"], sub["status"]) == ("failure", "paused")
    page.get_by_test_id("app-resume-failure").click()
    expect(page.get_by_test_id("app-status-failure")).to_have_text("active")
    ui.shot("models-applications")

    # The form: the plan says what would train before anything does.
    page.get_by_test_id("app-train-failure").click()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("mn-app-input-failure")).to_be_checked()
    expect(page.get_by_test_id("mn-app-input-regression")).to_be_disabled()
    expect(page.get_by_test_id("mn-failure")).to_be_visible()
    page.get_by_test_id("mn-name").fill("press failures")
    page.get_by_test_id("mn-dataset").select_option(str(table["id"]))
    page.get_by_test_id("mn-target").select_option("failure")
    expect(page.get_by_test_id("mn-plan-task")).to_have_attribute("data-task", "binary")
    identifier = page.get_by_test_id("mn-excluded-press_id")
    expect(identifier).to_have_attribute("data-code", "identifier")
    expect(page.get_by_test_id("mn-plan-features")).to_contain_text("temperature")
    expect(page.get_by_test_id("mn-plan-features")).not_to_contain_text("press_id")
    # Leaving a column out moves it to the excluded ones, said as the user's choice.
    page.locator("#mn-more summary").click()
    page.get_by_test_id("exclude-hours").check()
    expect(page.get_by_test_id("mn-excluded-hours")).to_have_attribute("data-code", "user")
    page.get_by_test_id("mn-budget").fill("10")
    page.get_by_test_id("mn-cost-missed").fill("50")
    page.get_by_test_id("mn-cost-false-alarm").fill("5")
    ui.shot("model-new")
    page.get_by_test_id("mn-submit").click()

    # The model's page follows the training to its end.
    page.wait_for_url("**/models/*?version=1")
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("mv-name")).to_have_text("press failures")
    expect(page.get_by_test_id("mv-training")).to_be_visible()
    expect(page.get_by_test_id("mv-progress")).to_be_visible()
    ui.shot("model-training")
    [model] = get(api, owner, f"{API}/models")["items"]
    mid = model["id"]
    expect(page.get_by_test_id("mv-status")).to_have_attribute(
        "data-status", "ready", timeout=TRAINED_S
    )
    version = get(api, owner, f"{API}/models/{mid}/versions/1")
    assert version["options"]["exclude"] == ["hours"]
    assert version["options"]["cost_missed"] == 50
    assert version["current"] is True
    metrics, report = version["metrics"], version["report"]
    primary = metrics["primary"]
    expect(page.get_by_test_id("mv-current")).to_be_visible()
    expect(page.get_by_test_id("mv-primary")).to_have_text(_three(metrics["mean"][primary]))
    expect(page.get_by_test_id("mv-threshold")).to_have_text(_three(report["threshold"]))
    row_ = page.get_by_test_id(f"mv-metric-{primary}")
    expect(row_.locator("td")).to_have_count(len(metrics["folds"]) + 2)
    for i, fold in enumerate(metrics["folds"]):
        expect(row_.locator(f"[data-col=fold-{i}]")).to_have_text(_three(fold[primary]))
    expect(row_.locator("[data-col=mean]")).to_have_text(_three(metrics["mean"][primary]))
    expect(row_.locator("[data-col=std]")).to_have_text("± " + _three(metrics["std"][primary]))
    labels, matrix = report["confusion"]["labels"], report["confusion"]["matrix"]
    for i, counts in enumerate(matrix):
        for j, n in enumerate(counts):
            expect(page.get_by_test_id(f"mv-cm-{i}-{j}")).to_have_text(str(n))
    assert sum(map(sum, matrix)) == report["rows"] and len(labels) == 2
    bars = page.locator("[data-testid^=mv-importance-]:not([data-testid=mv-importance-bars])")
    expect(bars).to_have_count(min(15, len(report["importance"])))
    assert bars.first.get_attribute("data-feature") == report["importance"][0]["feature"]
    expect(page.get_by_test_id("mv-excluded-press_id")).to_have_attribute("data-code", "identifier")
    ui.shot("model-report")

    # What if: a calm press's row, its temperature doubled, fails.
    frame = pd.read_csv(io.StringIO(_presses()))
    calm = frame[(frame.failure == "no") & (frame.temperature < 66) & (frame.vibration < 0.4)]
    index = int(calm.index[0])
    page.get_by_test_id("wi-row-number").fill(str(index + 1))
    page.get_by_test_id("wi-load").click()
    expect(page.get_by_test_id("wi-row-caption")).to_contain_text(f"Row {index + 1} of 300")
    expect(page.get_by_test_id("wi-before")).to_be_visible()
    expect(page.locator("[data-testid^=wi-explanation-]")).not_to_have_count(0)
    first = page.get_by_test_id("wi-row-temperature")
    expect(first).to_be_visible()
    slider = page.get_by_test_id("wi-slider-temperature")
    slider.focus()
    page.keyboard.press("End")  # +100 %
    expect(page.get_by_test_id("wi-pct-temperature")).to_have_text("+100 %")
    expect(page.get_by_test_id("wi-after")).to_be_visible()
    expect(page.get_by_test_id("wi-delta")).to_be_visible()
    row = get(api, owner, f"{API}/datasets/{table['id']}/preview", offset=index, limit=1)
    record = dict(zip(row["columns"], row["rows"][0], strict=True))
    r = api.post(
        f"{API}/models/{mid}/what-if",
        json={"rows": [record], "changes": [{"column": "temperature", "percent": 100}]},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    answer = r.json()["rows"][0]
    assert answer["before"]["prediction"] != answer["after"]["prediction"]
    expect(page.get_by_test_id("wi-before").get_by_test_id("wi-label")).to_have_text(
        str(answer["before"]["prediction"])
    )
    expect(page.get_by_test_id("wi-after").get_by_test_id("wi-label")).to_have_text(
        str(answer["after"]["prediction"])
    )
    expect(page.get_by_test_id("wi-flipped")).to_be_visible()
    signs = page.locator("[data-testid^=wi-explanation-]").evaluate_all(
        "rs => rs.map(r => [r.dataset.feature, r.dataset.sign])"
    )
    top = max(answer["explanation"]["contributions"], key=lambda c: abs(c["contribution"]))
    assert signs[0] == [top["feature"], "+" if top["contribution"] >= 0 else "-"]
    ui.shot("model-whatif")

    # The whole dataset predicted as a job; its output opens as a dataset.
    page.get_by_test_id("pr-output").fill("press risk")
    page.get_by_test_id("pr-submit").click()
    ui.toast("Predicting press log")
    open_output = page.get_by_test_id("pr-open")
    expect(open_output).to_be_visible(timeout=TRAINED_S)
    ui.shot("model-predicted")
    open_output.click()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("ds-name")).to_have_text("press risk")
    [out] = get(api, owner, f"{API}/datasets", q="press risk")["items"]
    columns = [c["name"] for c in out["version"]["columns"]]
    # "yes"/"no" in a CSV read as booleans: the classes are True and False.
    assert {"prediction"} | {f"probability_{c}" for c in report["classes"]} <= set(columns)
    assert out["version"]["rows"] == 300

    # The list shows the model with its current version.
    ui.goto("/models")
    expect(page.get_by_test_id(f"model-row-{mid}")).to_have_attribute("data-status", "ready")
    expect(page.get_by_test_id(f"model-current-{mid}")).to_contain_text("v1")
    ui.shot("models")
    ui.assert_no_error_toast()
    ui.assert_only_local()
    assert not errors, errors


def test_a_regression_draws_its_residuals_and_a_second_version_compares(ui, api):  # noqa: F811
    owner = signup(api, org="Houses Ltd")
    subscribe(api, owner.headers, "regression")
    table = upload_table(api, owner.headers, _houses(), name="houses")
    body = {
        "name": "house prices",
        "application": "regression",
        "dataset_id": table["id"],
        "target": "price",
        "time_budget_s": 10,
    }
    r = api.post(f"{API}/models", json=body, headers=owner.headers)
    assert r.status_code == 202, r.text
    mid = r.json()["model"]["id"]
    page = ui.page
    errors = console_errors(page)
    ui.login_as(owner, f"/models/{mid}")
    expect(page.get_by_test_id("mv-status")).to_have_attribute(
        "data-status", "ready", timeout=TRAINED_S
    )
    version = get(api, owner, f"{API}/models/{mid}/versions/1")
    residuals = version["report"]["residuals"]
    expect(page.get_by_test_id("mv-residual-plot").locator("circle")).to_have_count(
        len(residuals["predicted"])
    )
    expect(page.get_by_test_id("mv-confusion")).not_to_contain_text("true ↓")

    # A typed row: its price as the API predicts it, with the interval.
    page.get_by_test_id("wi-mode-json").click()
    page.get_by_test_id("wi-json").fill('{"area": 120, "rooms": 3}')
    page.get_by_test_id("wi-use-json").click()
    r = api.post(
        f"{API}/models/{mid}/predict",
        json={"rows": [{"area": 120, "rooms": 3}]},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    [predicted] = r.json()["predictions"]
    before = page.get_by_test_id("wi-before")
    expect(before).to_contain_text("80 %")
    shown = float(before.locator(".pm-wi-label").inner_text().replace(",", ""))
    assert shown == pytest.approx(predicted["prediction"], abs=0.006)
    expect(page.locator("[data-testid^=wi-explanation-]")).to_have_count(2)

    # A second version from "Train again", then the two compared.
    page.get_by_test_id("mv-retrain").click()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("mn-target")).to_have_value("price")
    expect(page.get_by_test_id("mn-plan-task")).to_have_attribute("data-task", "regression")
    page.get_by_test_id("mn-submit").click()
    page.wait_for_url("**/models/*?version=2")
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("mv-status")).to_have_attribute(
        "data-status", "ready", timeout=TRAINED_S
    )
    page.get_by_test_id("mv-v-pick-1").check()
    page.get_by_test_id("mv-compare").click()
    table_ = page.get_by_test_id("mv-compare-table")
    expect(table_.locator("thead th")).to_have_count(3)
    expect(page.get_by_test_id("mv-compare-rmse")).to_be_visible()
    # Promoted: v2 is current, v1 no longer.
    page.get_by_test_id("mv-promote").click()
    expect(page.get_by_test_id("mv-current")).to_be_visible()
    assert get(api, owner, f"{API}/models/{mid}")["current_version"] == 2
    ui.shot("model-regression")
    ui.assert_no_error_toast()
    assert not errors, errors
