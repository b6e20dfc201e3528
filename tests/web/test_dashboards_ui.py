"""Dashboards in a real headless Chromium: a dashboard built from a saved chart, a metric
and a note; a tile dragged and resized with the pointer, still there after a reload; a
share link opened in a fresh browser with no login; the dashboard exported as PDF.

The server is the real one (``live_server``): the chart is a question saved through
the API, the metric's points go through ingestion and the stream processor.
"""

from __future__ import annotations

import html
import io
import re
import struct
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.fixtures.factories import invite_and_join, make_key, signup
from tests.web.conftest import wait_js
from tests.web.test_ui import ARTIFACTS, _ingest, api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

SALES = b"region,units\nNorth,3\nSouth,5\nEast,7\nWest,4\n"


def seed(api, account) -> dict:  # noqa: F811
    """A saved chart, a metric of the last hour, and a dashboard showing both and a note."""
    r = api.post(
        "/api/v1/datasets",
        files={"file": ("sales.csv", SALES, "text/csv")},
        data={"name": "sales"},
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    body = {"query": "total units by region", "data_source": "sales", "save": True}
    r = api.post("/api/v1/analytics/chart", json=body, headers=account.headers)
    assert r.status_code == 201, r.text
    chart_id = r.json()["chart_id"]
    now = int(time.time())
    samples = [
        {
            "properties": {"what": "checkout_latency", "dc": "eu"},
            "timestamp": now - 60 * i,
            "value": 120 + (i % 7) * 3,
        }
        for i in range(50)
    ]
    _ingest(api, make_key(api, account, ["ingest"]), samples)
    tiles = [
        {"id": "sales", "type": "chart", "chart_id": chart_id, "x": 0, "y": 0, "w": 6, "h": 4},
        {
            "id": "latency",
            "type": "metric",
            "expression": "what=checkout_latency",
            "x": 6,
            "y": 0,
            "w": 6,
            "h": 4,
        },
        {
            "id": "note",
            "type": "markdown",
            "text": "## Read me\n- **Units** by region\n- Latency in ms",
            "x": 0,
            "y": 4,
            "w": 4,
            "h": 3,
        },
    ]
    body = {
        "name": "Store health",
        "description": "Sales and checkout",
        "tiles": tiles,
        "settings": {"range": "1h"},
    }
    r = api.post("/api/v1/dashboards", json=body, headers=account.headers)
    assert r.status_code == 201, r.text
    return r.json()


def tile(page, tile_id: str):
    return page.locator(f"[data-testid=tile][data-tile-id={tile_id}]")


def drawn(page) -> None:
    """Every tile drawn: the chart's bars, the metric's line, the note's text."""
    expect(tile(page, "sales").locator("[data-testid=vl-bar]")).to_have_count(4)
    expect(tile(page, "latency").locator(".series-line")).to_have_count(1)
    expect(tile(page, "note").locator("strong")).to_have_text("Units")


def drag(page, locator, dx: float, dy: float) -> None:
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + dx * step / 10, y + dy * step / 10)
    page.mouse.up()


def saved_tiles(api, account, dashboard_id: int) -> dict:  # noqa: F811
    body = api.get(f"/api/v1/dashboards/{dashboard_id}", headers=account.headers).json()
    return {t["id"]: (t["x"], t["y"], t["w"], t["h"]) for t in body["tiles"]}


def test_build_arrange_share_and_export_a_dashboard(ui, api, browser, tmp_path):  # noqa: F811
    account = signup(api, org="Store")
    d = seed(api, account)
    page = ui.page
    ui.login_as(account, "/dashboards")
    expect(page.get_by_test_id("nav-dashboards")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id(f"dashboard-row-{d['id']}")).to_contain_text("Store health")
    ui.shot("dashboards-list")
    page.get_by_test_id(f"dashboard-link-{d['id']}").click()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("dash-name")).to_have_text("Store health")
    expect(page.get_by_test_id("dash-range-1h")).to_have_attribute("aria-pressed", "true")
    drawn(page)
    ui.shot("dashboard")

    # The note dragged to the right by about half the grid: it lands at x=6 on its row,
    # the save says so, and a reload shows it there.
    grid_width = page.get_by_test_id("dash-grid").bounding_box()["width"]
    drag(page, tile(page, "note").locator(".tile-head"), grid_width / 2, 0)
    expect(page.get_by_test_id("dash-saved")).to_contain_text("Layout saved · version 2")
    assert saved_tiles(api, account, d["id"])["note"] == (6, 4, 4, 3)

    # Resized by its corner: two columns wider, one row taller.
    col = (grid_width + 14) / 12
    drag(page, tile(page, "note").get_by_test_id("tile-resize"), 2 * col, 76)
    expect(page.get_by_test_id("dash-saved")).to_contain_text("version 3")
    assert saved_tiles(api, account, d["id"])["note"] == (6, 4, 6, 4)

    # The chart dropped onto the metric's place: the metric steps down below it.
    drag(page, tile(page, "sales").locator(".tile-head"), grid_width / 2, 0)
    expect(page.get_by_test_id("dash-saved")).to_contain_text("version 4")
    saved = saved_tiles(api, account, d["id"])
    assert saved["sales"] == (6, 0, 6, 4) and saved["latency"][1] >= 4, saved

    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    drawn(page)
    note = tile(page, "note").bounding_box()
    grid = page.get_by_test_id("dash-grid").bounding_box()
    assert note["x"] - grid["x"] == pytest.approx(6 * col, abs=2)
    assert note["width"] == pytest.approx(6 * col - 14, abs=2)

    # The metric tile as a PNG of the size it is drawn, the range it shows.
    metric = tile(page, "latency")
    metric.hover()
    with page.expect_download() as info:
        metric.get_by_test_id("tile-download").click()
    png = tmp_path / "latency.png"
    info.value.save_as(png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    body = metric.locator(".tile-body").bounding_box()
    assert struct.unpack(">II", data[16:24]) == (round(body["width"]), round(body["height"]))

    # Renamed through the details dialog.
    page.get_by_test_id("dash-edit").click()
    page.get_by_test_id("edit-name").fill("Store health, live")
    page.get_by_test_id("edit-submit").click()
    expect(page.get_by_test_id("dash-name")).to_have_text("Store health, live")

    # A tile added through the dialog: a single number of the metric.
    page.get_by_test_id("dash-add").click()
    page.get_by_test_id("tile-type").select_option("number")
    page.get_by_test_id("tile-expression").fill("what=checkout_latency")
    page.get_by_test_id("tile-stat").select_option("max")
    page.get_by_test_id("tile-title").fill("Worst latency")
    page.get_by_test_id("tile-submit").click()
    number = page.locator("[data-testid=tile][data-type=number]")
    expect(number.get_by_test_id("tile-number")).to_have_text("138")
    expect(number.locator(".tile-title")).to_have_text("Worst latency")
    ui.shot("dashboard-arranged")

    # A share link, opened in a fresh browser context: no login, the dashboard drawn.
    page.get_by_test_id("dash-share").click()
    page.get_by_test_id("share-label").fill("Office TV")
    page.get_by_test_id("share-create").click()
    expect(page.get_by_test_id("share-url")).to_contain_text("/share/dashboards/augsh_")
    url = page.get_by_test_id("share-url").inner_text()
    expect(page.get_by_test_id("share-iframe")).to_contain_text(f'src="{url}"')
    ui.shot("dashboard-share")
    fresh = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        other = fresh.new_page()
        other.goto(url)
        expect(other.get_by_test_id("shared-name")).to_have_text("Store health, live")
        drawn(other)
        assert other.locator("[data-testid=tile-remove]").count() == 0
        assert other.evaluate("localStorage.length") == 0
        other.screenshot(path=str(ARTIFACTS / "dashboard-shared.png"), full_page=True)
        # Revoked: the same page, reloaded, says the link opens nothing.
        page.get_by_test_id("share-table").locator("button", has_text="Revoke").click()
        revoked = page.get_by_test_id("share-table").locator("button", has_text="Revoked")
        expect(revoked).to_have_count(1)
        other.reload()
        expect(other.get_by_test_id("shared-gone")).to_be_visible()
        assert other.locator("[data-testid=tile]").count() == 0
    finally:
        fresh.close()
    page.locator("#share-close").click()

    # Exported as PDF: the file downloads, and pdftoppm draws its page, not blank.
    page.get_by_test_id("dash-export").click()
    page.get_by_test_id("export-page-size").select_option("letter")
    with page.expect_download() as info:
        page.get_by_test_id("export-submit").click()
    pdf = tmp_path / "dashboard.pdf"
    info.value.save_as(pdf)
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    assert len(reader.pages) == 1
    assert sorted(float(v) for v in reader.pages[0].mediabox[2:]) == [612.0, 792.0]
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / "page")], check=True)
    (image,) = sorted(tmp_path.glob("page*.png"))
    assert image.stat().st_size > 2000
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_a_viewer_sees_the_dashboard_but_cannot_arrange_it(ui, api):  # noqa: F811
    account = signup(api, org="Viewers")
    d = seed(api, account)
    viewer = invite_and_join(api, account, "viewer")
    page = ui.page
    ui.login_as(viewer, f"/dashboards/{d['id']}")
    drawn(page)
    assert page.locator("[data-testid=tile-resize]").count() == 0
    expect(page.get_by_test_id("dash-add")).to_be_disabled()
    expect(page.get_by_test_id("dash-range-24h")).to_be_disabled()
    wait_js(page, "!document.querySelector('.tile-grab')")


@pytest.fixture
def other_site():
    """A page on another origin (another port) that embeds whatever ``?src=`` names, as
    a site embedding a shared dashboard would."""

    class Embedding(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            src = html.escape(parse_qs(urlsplit(self.path).query)["src"][0], quote=True)
            frame = f'<iframe src="{src}" width="1200" height="700"></iframe>'
            body = f"<!doctype html><title>wall</title>{frame}"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Embedding)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_shared_dashboard_shows_in_another_sites_iframe(ui, api, browser, other_site):  # noqa: F811
    account = signup(api, org="Embedded")
    d = seed(api, account)
    r = api.post(f"/api/v1/dashboards/{d['id']}/shares", json={}, headers=account.headers)
    url = ui.base_url + r.json()["url"]
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(other_site + "/?" + urlencode({"src": url}))
        frame = page.frame_locator("iframe")
        expect(frame.get_by_test_id("shared-name")).to_have_text("Store health")
        expect(
            frame.locator("[data-testid=tile][data-tile-id=sales] [data-testid=vl-bar]")
        ).to_have_count(4)
        # The app's own pages refuse to be framed (the load event waits for the frame).
        page.goto(other_site + "/?" + urlencode({"src": ui.base_url + "/dashboards"}))
        assert page.frames[1].url in ("", "about:blank", "chrome-error://chromewebdata/")
    finally:
        context.close()


def test_create_a_dashboard_and_write_a_note_on_it(ui, api):  # noqa: F811
    account = signup(api, org="Notes")
    page = ui.page
    ui.login_as(account, "/dashboards")
    expect(page.get_by_test_id("dashboards-empty")).to_be_visible()
    page.get_by_test_id("dashboard-new").click()
    page.get_by_test_id("new-name").fill("Team notes")
    page.get_by_test_id("new-description").fill("What we watch this week")
    page.get_by_test_id("new-submit").click()
    page.wait_for_url(re.compile(r"/dashboards/\d+$"))
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_test_id("dash-empty")).to_be_visible()
    expect(page.get_by_test_id("dash-grid")).to_be_hidden()
    ui.shot("dashboard-empty")
    page.get_by_test_id("dash-add").click()
    page.get_by_test_id("tile-type").select_option("markdown")
    expect(page.get_by_test_id("tile-chart")).to_be_hidden()
    page.get_by_test_id("tile-text").fill("## This week\n- ship **dashboards**\n- <b>no markup</b>")
    page.get_by_test_id("tile-submit").click()
    note = page.get_by_test_id("tile-markdown")
    expect(note.locator("h4")).to_have_text("This week")
    expect(note.locator("strong")).to_have_text("dashboards")
    expect(note.locator("li").nth(1)).to_have_text("<b>no markup</b>")
    assert note.locator("b").count() == 0
    expect(page.get_by_test_id("dash-empty")).to_be_hidden()
    # Moved and resized with the keyboard: two cells right, one row taller.
    head = page.locator("[data-testid=tile] .tile-head")
    head.focus()
    for key, version in (("ArrowRight", 3), ("ArrowRight", 4), ("Shift+ArrowDown", 5)):
        page.keyboard.press(key)
        expect(page.get_by_test_id("dash-saved")).to_contain_text(f"version {version}")
        expect(head).to_be_focused()  # the saved tile keeps its place in the page
    d = api.get("/api/v1/dashboards", headers=account.headers).json()["items"][0]
    (note,) = api.get(f"/api/v1/dashboards/{d['id']}", headers=account.headers).json()["tiles"]
    assert (note["x"], note["y"], note["w"], note["h"]) == (2, 0, 6, 4)
    ui.assert_no_error_toast()
