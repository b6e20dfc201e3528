"""Collectors in a real headless Chromium: a SQLite data source added from the Add
source dialog after its connection test (and a failing test showing its error), a
stream built with the guided builder (the source, a table, the latest rows previewed,
metric and dimension columns ticked, the schedule limited to the seed's pairs, the
resulting metrics seen) and saved; the stream's page with its definition, its status
and runs once the collector polled it, paused and resumed; rewound and deleted.

The server is the real one (``live_server``) with its collector loop ticking fast; the
SQLite file lies under the server's ``<data_dir>/collect``, where sources may read.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.fixtures.factories import invite_and_join, signup
from tests.web.test_ui import api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

COUNTRIES = ("DE", "FR", "ES")
HOURS = 6


@pytest.fixture
def settings(settings):
    """The app's settings with a collector that looks for due streams every 0.2 s."""
    return settings.model_copy(
        update={"collect": settings.collect.model_copy(update={"tick_s": 0.2})}
    )


@pytest.fixture
def shop_db(settings):
    """``<data_dir>/collect/shop.db``: orders of the last hours, one each 10 minutes
    and country, as naive UTC text (SQLite's TIMESTAMP)."""
    folder = settings.data_dir / "collect"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "shop.db"
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    rows = []
    for i in range(HOURS * 6):
        at = now - timedelta(minutes=10 * (i + 1))
        for n, country in enumerate(COUNTRIES):
            rows.append(
                (len(rows) + 1, at.strftime("%Y-%m-%d %H:%M:%S"), country, 10.0 + n + i % 5)
            )
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, created_at TEXT, country TEXT,"
            " amount REAL)"
        )
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", rows)
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    return path


def option_values(page, selector: str) -> list[str]:
    return page.locator(f"{selector} option").evaluate_all("els => els.map(e => e.value)")


def test_a_sqlite_source_and_a_stream_built_in_the_builder(ui, api, shop_db):  # noqa: F811
    account = signup(api, org="Shop Ltd")
    page = ui.page
    ui.login_as(account, "/collect")
    expect(page.get_by_test_id("sources-empty")).to_be_visible()
    expect(page.get_by_test_id("streams-empty")).to_be_visible()
    expect(page.get_by_test_id("nav-collect")).to_have_attribute("aria-current", "page")
    ui.shot("collect-empty")

    # A file that is not there: the test answers its code and message, and nothing is saved.
    page.click("#source-new")
    page.fill("#src-name", "nowhere")
    page.select_option("#src-type", "sqlite")
    page.fill("[data-testid=src-path]", "missing.db")
    page.click("[data-testid=src-test]")
    result = page.get_by_test_id("src-test-result")
    expect(result).to_have_attribute("data-ok", "false")
    expect(page.get_by_test_id("src-test-code")).to_have_text(re.compile(r"^source_\w+$"))
    expect(page.get_by_test_id("src-test-message")).to_contain_text("missing.db")
    ui.shot("collect-source-test-failed")

    # The real file: the test lists its tables; saved, it is listed with no stream.
    page.fill("#src-name", "shop")
    page.fill("[data-testid=src-path]", "shop.db")
    expect(result).to_be_hidden()
    page.click("[data-testid=src-test]")
    expect(result).to_have_attribute("data-ok", "true")
    expect(result).to_contain_text("Connection works.")
    expect(result).to_contain_text("orders")
    ui.shot("collect-source-test-ok")
    page.click("[data-testid=src-save]")
    ui.toast("Source “shop” saved.")
    sources = api.get("/api/v1/data-sources", headers=account.headers).json()["items"]
    assert [(s["name"], s["type"], s["config"]) for s in sources] == [
        ("shop", "sqlite", {"path": "shop.db"})
    ]
    source_id = sources[0]["id"]
    row = page.get_by_test_id(f"source-row-{source_id}")
    expect(row).to_contain_text("SQLite file")
    expect(page.get_by_test_id(f"source-streams-{source_id}")).to_have_text("0")

    # The builder, from the source's row: the source is chosen, its tables listed.
    page.get_by_test_id(f"source-stream-{source_id}").click()
    page.wait_for_url(re.compile(rf".*/collect/streams/new\?source={source_id}$"))
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("sb-tables-state")).to_have_text("2 found")
    assert option_values(page, "#sb-table") == ["", "customers", "orders"]
    expect(page.get_by_test_id("sb-step-1")).not_to_have_class(re.compile(r"\bdone\b"))
    expect(page.get_by_test_id("sb-preview")).to_be_disabled()
    page.select_option("#sb-table", "orders")
    expect(page.locator("#sb-name")).to_have_value("orders")
    # the table is enough to read rows: the time column is chosen among their columns
    expect(page.get_by_test_id("sb-step-2")).to_have_class(re.compile(r"\bdone\b"))
    expect(page.get_by_test_id("sb-preview")).to_be_enabled()

    # Preview rows (no schema, no time yet): a line per column with a role suggested.
    page.click("[data-testid=sb-preview]")
    expect(page.get_by_test_id("sb-row")).to_have_count(20)
    expect(page.get_by_test_id("sb-rows-count")).to_have_text("20 of 100 rows read")
    expect(page.get_by_test_id("sb-preview-error")).to_be_hidden()
    expect(page.get_by_test_id("sb-col-created_at")).to_have_attribute("data-role", "time")
    expect(page.get_by_test_id("sb-col-id")).to_have_attribute("data-role", "none")
    expect(page.get_by_test_id("sb-col-country")).to_have_attribute("data-role", "dimension")
    expect(page.get_by_test_id("sb-col-amount")).to_have_attribute("data-role", "metric")
    expect(page.get_by_test_id("sb-time-format")).to_have_value("TIMESTAMP")
    amount = page.get_by_test_id("sb-col-amount")
    amount.get_by_test_id("rename").fill("revenue")
    amount.get_by_test_id("agg").select_option("counter")
    amount.get_by_test_id("unit").fill("EUR")
    page.get_by_test_id("sb-col-country").get_by_test_id("role-dimension").check()
    expect(page.get_by_test_id("sb-step-3")).to_have_class(re.compile(r"\bdone\b"))
    ui.shot("collect-builder-columns")

    # The history ranges follow the seed's table for the polling interval.
    page.select_option("#sb-interval", "m1")
    assert option_values(page, "#sb-history") == ["h1", "h4", "d1", "d3", "w1"]
    page.select_option("#sb-interval", "m15")
    assert option_values(page, "#sb-history") == ["h1", "h4", "d1", "d3", "w1", "m1"]
    page.select_option("#sb-interval", "daily")
    assert option_values(page, "#sb-history")[-5:] == ["y2", "y5", "y10", "y15", "y20"]
    page.select_option("#sb-interval", "hourly")
    assert option_values(page, "#sb-history") == ["d1", "d3", "w1", "m1", "m3", "m6", "y1"]
    expect(page.locator("#sb-history")).to_have_value("d1")

    # The resulting metrics: one per country, hourly points summed.
    page.click("[data-testid=sb-metrics]")
    expect(page.get_by_test_id("sb-metric")).to_have_count(len(COUNTRIES))
    expect(page.get_by_test_id("sb-metric-count")).to_have_text("3")
    assert set(page.locator("[data-testid=sb-metric] td:first-child").all_inner_texts()) == {
        "revenue"
    }
    dims = page.locator("[data-testid=sb-metric] .dim").all_inner_texts()
    assert sorted(dims) == sorted(f"country={c}" for c in COUNTRIES)
    expect(page.get_by_test_id("sb-step-5")).to_have_class(re.compile(r"\bdone\b"))
    ui.shot("collect-builder-metrics")

    # Saved: the stream's page.
    page.click("[data-testid=sb-save]")
    page.wait_for_url(re.compile(r".*/collect/streams/\d+$"))
    page.wait_for_selector("body[data-ready=true]")
    stream_id = int(page.url.rsplit("/", 1)[1])
    stream = api.get(f"/api/v1/data-streams/{stream_id}", headers=account.headers).json()
    assert stream["name"] == "orders" and stream["tableName"] == "orders"
    assert stream["timestampColumn"] == "created_at" and stream["timestampType"] == "TIMESTAMP"
    assert stream["pollingInterval"] == "hourly"
    assert stream["historicalDateRange"] == {"constRange": "d1"}
    assert stream["schema"]["columns"] == [
        {"name": "country", "type": "dimension", "sourceColumn": "country"},
        {
            "name": "revenue",
            "type": "metric",
            "targetType": "counter",
            "sourceColumn": "amount",
            "metricTags": {"unit": "EUR"},
        },
    ]
    expect(page.get_by_test_id("ds-title")).to_have_text("orders")
    expect(page.get_by_test_id("ds-reads")).to_have_text("orders")
    expect(page.get_by_test_id("ds-column")).to_have_count(2)
    expect(page.get_by_test_id("ds-metric-link")).to_have_attribute(
        "href", "/metrics/explore?q=what%3Drevenue"
    )

    ui.shot("collect-stream-new")

    # The collector polls it: the stream catches up, its runs are listed.
    expect(page.get_by_test_id("ds-status-badge")).to_have_attribute("data-status", "ok")
    expect(page.get_by_test_id("run-row").first).to_be_visible()
    expect(page.get_by_test_id("run-row").first).to_have_attribute("data-status", "ok")
    polled = api.get(f"/api/v1/data-streams/{stream_id}", headers=account.headers).json()
    assert polled["rowsRead"] > 0 and polled["pointsWritten"] > 0
    page.click("[data-testid=ds-refresh]")
    expect(page.get_by_test_id("ds-points")).not_to_have_text("0")
    expect(page.get_by_test_id("ds-new-metrics")).to_have_text("3 / 3")
    ui.shot("collect-stream")

    # Pause and resume.
    page.click("[data-testid=ds-toggle]")
    ui.toast("Stream paused")
    expect(page.get_by_test_id("ds-status-badge")).to_have_attribute("data-status", "paused")
    assert api.get(f"/api/v1/data-streams/{stream_id}", headers=account.headers).json()["paused"]
    page.click("[data-testid=ds-toggle]")
    ui.toast("Stream resumed.")
    expect(page.get_by_test_id("ds-status-badge")).not_to_have_attribute("data-status", "paused")

    # The list: the stream with its status and counters, paused and resumed from there.
    ui.goto("/collect")
    expect(page.get_by_test_id(f"source-streams-{source_id}")).to_have_text("1")
    stream_row = page.get_by_test_id(f"stream-row-{stream_id}")
    expect(stream_row).to_contain_text("orders")
    expect(stream_row).to_contain_text("shop")
    expect(page.get_by_test_id(f"stream-status-{stream_id}")).to_have_text("ok")
    ui.shot("collect-list")
    page.get_by_test_id(f"stream-toggle-{stream_id}").click()
    ui.toast("Stream “orders” paused.")
    expect(page.get_by_test_id(f"stream-status-{stream_id}")).to_have_text("paused")
    expect(page.get_by_test_id(f"stream-toggle-{stream_id}")).to_have_text("Resume")
    page.get_by_test_id(f"stream-toggle-{stream_id}").click()
    ui.toast("Stream “orders” resumed.")
    expect(page.get_by_test_id(f"stream-toggle-{stream_id}")).to_have_text("Pause")

    # Rewind a day, then delete the stream keeping its metrics.
    page.get_by_test_id(f"stream-link-{stream_id}").click()
    page.wait_for_selector("body[data-ready=true]")
    page.click("[data-testid=ds-rewind-open]")
    expect(page.get_by_test_id("rewind-from")).not_to_have_value("")
    page.click("[data-testid=rewind-submit]")
    ui.toast("again.")
    page.click("[data-testid=ds-delete-open]")
    page.get_by_test_id("delete-metrics").uncheck()
    ui.shot("collect-stream-delete")
    page.click("[data-testid=delete-submit]")
    page.wait_for_url(re.compile(r".*/collect$"))
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("streams-empty")).to_be_visible()
    metrics = api.get("/api/v1/metrics", headers=account.headers).json()["items"]
    assert {m["what"] for m in metrics} >= {"revenue"}
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_a_folder_stream_built_from_csv_files(ui, api, settings):  # noqa: F811
    folder = settings.data_dir / "collect" / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    lines = ["time,host,cpu"]
    for i in range(1, 13):
        at = (now - timedelta(minutes=30 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines += [f"{at},web-1,{20 + i}", f"{at},web-2,{40 + i}"]
    (folder / "cpu.csv").write_text("\n".join(lines) + "\n")
    (folder / "notes.txt").write_text("not a CSV")
    account = signup(api, org="Files Ltd")
    r = api.post(  # a path relative to <data_dir>/collect
        "/api/v1/data-sources",
        json={"name": "exports", "type": "folder", "config": {"path": "exports"}},
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    page = ui.page
    ui.login_as(account, "/collect/streams/new")
    page.select_option("#sb-source", str(r.json()["id"]))
    expect(page.get_by_test_id("sb-pattern")).to_be_visible()
    expect(page.get_by_test_id("sb-table")).to_be_hidden()
    page.fill("#sb-name", "cpu")
    page.click("[data-testid=sb-preview]")
    expect(page.get_by_test_id("sb-row")).to_have_count(20)
    expect(page.get_by_test_id("sb-col-time")).to_have_attribute("data-role", "time")
    expect(page.get_by_test_id("sb-time-format")).to_have_value("iso8601")
    expect(page.get_by_test_id("sb-col-host")).to_have_attribute("data-role", "dimension")
    expect(page.get_by_test_id("sb-col-cpu")).to_have_attribute("data-role", "metric")
    page.get_by_test_id("sb-col-cpu").get_by_test_id("unit").fill("%")
    page.select_option("#sb-interval", "hourly")
    # Two columns under one name: the API's refusal shows in the step, nothing is listed.
    page.get_by_test_id("sb-col-host").get_by_test_id("rename").fill("cpu")
    page.click("[data-testid=sb-metrics]")
    expect(page.get_by_test_id("field-error-sb-columns-box")).to_contain_text("unique")
    expect(page.get_by_test_id("sb-result")).to_be_hidden()
    page.get_by_test_id("sb-col-host").get_by_test_id("rename").fill("host")
    page.click("[data-testid=sb-metrics]")
    expect(page.get_by_test_id("sb-metric")).to_have_count(2)
    expect(page.get_by_test_id("sb-rows-read")).to_have_text("24")
    expect(page.get_by_test_id("field-error-sb-columns-box")).to_have_count(0)
    ui.shot("collect-builder-folder")
    page.click("[data-testid=sb-save]")
    page.wait_for_url(re.compile(r".*/collect/streams/\d+$"))
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("ds-reads")).to_have_text("*.csv · csv")
    stream = api.get(
        page.url.replace("/collect/streams/", "/api/v1/data-streams/"), headers=account.headers
    ).json()
    assert stream["timeDefinition"] == {"path": "time", "timePattern": "iso8601"}
    assert stream["fileNamePattern"] == "*.csv" and stream["fileFormat"] == "csv"
    expect(page.get_by_test_id("ds-status-badge")).to_have_attribute("data-status", "ok")
    ui.assert_no_error_toast()


def test_a_stream_whose_source_fails_shows_its_error(ui, api, shop_db):  # noqa: F811
    account = signup(api, org="Broken Ltd")
    r = api.post(
        "/api/v1/data-sources",
        json={"name": "shop", "type": "sqlite", "config": {"path": "shop.db"}},
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    # The file goes before the collector's first poll (a stream may be saved while its
    # source cannot be reached: it shows the error then).
    shop_db.unlink()
    r = api.post(
        "/api/v1/data-streams",
        json={
            "name": "orders",
            "dataSourceId": r.json()["id"],
            "tableName": "orders",
            "timestampColumn": "created_at",
            "schema": {"columns": [{"name": "amount", "type": "metric", "sourceColumn": "amount"}]},
            "pollingInterval": "hourly",
            "historicalDateRange": {"constRange": "d1"},
        },
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    stream_id = r.json()["id"]
    page = ui.page
    ui.login_as(account, f"/collect/streams/{stream_id}")
    # Pending, the page watches the stream until the collector's poll fails.
    expect(page.get_by_test_id("ds-status-badge")).to_have_attribute("data-status", "error")
    expect(page.get_by_test_id("ds-error")).to_be_visible()
    expect(page.get_by_test_id("ds-error-text")).to_contain_text("shop.db")
    expect(page.get_by_test_id("ds-error-code")).to_have_text(re.compile(r"^source_\w+$"))
    expect(page.get_by_test_id("ds-live")).to_be_hidden()
    expect(page.get_by_test_id("run-row").first).to_have_attribute("data-status", "error")
    expect(page.get_by_test_id("run-error").first).to_contain_text("shop.db")
    ui.shot("collect-stream-error")

    ui.goto("/collect")
    # The saved source's own test, from its row, says why.
    source_id = api.get(f"/api/v1/data-streams/{stream_id}", headers=account.headers).json()[
        "dataSourceId"
    ]
    page.get_by_test_id(f"source-test-{source_id}").click()
    expect(page.get_by_test_id(f"source-test-outcome-{source_id}")).to_contain_text(
        "No SQLite database file at shop.db."
    )
    expect(page.get_by_test_id(f"stream-status-{stream_id}")).to_have_text("error")
    expect(page.get_by_test_id(f"stream-error-{stream_id}")).to_contain_text("shop.db")
    page.select_option("#streams-status", "ok")
    expect(page.get_by_test_id("streams-empty")).to_contain_text("No stream matches")
    page.select_option("#streams-status", "error")
    expect(page.get_by_test_id(f"stream-row-{stream_id}")).to_be_visible()
    ui.shot("collect-list-error")
    ui.assert_no_error_toast()


def test_a_viewer_cannot_change_collectors_and_a_member_lists_the_tables(ui, api, shop_db):  # noqa: F811
    admin = signup(api, org="Readers Ltd")
    r = api.post(
        "/api/v1/data-sources",
        json={"name": "shop", "type": "sqlite", "config": {"path": "shop.db"}},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    viewer = invite_and_join(api, admin, "viewer")
    page = ui.page
    ui.login_as(viewer, "/collect")
    expect(page.get_by_test_id("source-new")).to_be_disabled()
    source_id = r.json()["id"]
    expect(page.get_by_test_id(f"source-test-{source_id}")).to_be_disabled()
    expect(page.get_by_test_id(f"source-delete-{source_id}")).to_be_disabled()
    expect(page.get_by_test_id("stream-new")).to_have_attribute("aria-disabled", "true")
    ui.assert_no_error_toast()

    # A member builds streams but may not test a source (it holds credentials): the
    # builder lists its tables all the same (GET /data-sources/{id}/objects).
    member = invite_and_join(api, admin, "member")
    ui.login_as(member, f"/collect/streams/new?source={source_id}")
    expect(page.get_by_test_id("sb-tables-state")).to_have_text("2 found")
    assert option_values(page, "#sb-table") == ["", "customers", "orders"]
    page.select_option("#sb-table", "orders")
    expect(page.locator("#sb-name")).to_have_value("orders")
    page.click("[data-testid=sb-preview]")
    expect(page.get_by_test_id("sb-row")).to_have_count(20)
    expect(page.get_by_test_id("sb-col-created_at")).to_have_attribute("data-role", "time")
    ui.assert_no_error_toast()


def test_an_unknown_stream_says_so(ui, api):  # noqa: F811
    account = signup(api, org="Nobody Ltd")
    ui.login_as(account, "/collect/streams/999999")
    expect(ui.page.get_by_test_id("ds-missing")).to_contain_text("No such data stream")
    ui.assert_no_error_toast()
