"""The anomaly page's Explanation section in a real headless Chromium: a grouped
anomaly planted through the ingestion API and detected by the live server shows which
dimension value drives it (the fixtures and helpers are those of test_ui.py)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import numpy as np
from playwright.sync_api import expect

from tests.fixtures.factories import make_key, signup
from tests.web import test_ui
from tests.web.test_ui import _anomalies, _ingest, _wait_until

browser = test_ui.browser
ui = test_ui.ui
api = test_ui.api
pytestmark = test_ui.pytestmark

POINTS = 1500  # one a minute
SPIKE_AT = 1300


def _seed(api):
    """8 metrics of `requests` (4 hosts x 2 endpoints); both of web-3's spike together."""
    account = signup(api, org="Explained Inc")
    key = make_key(api, account, ["ingest"], name="sender")
    last = int(time.time()) // 60 * 60
    ts = [last - 60 * (POINTS - 1 - i) for i in range(POINTS)]
    samples = []
    for i, (host, endpoint) in enumerate(
        (f"web-{h}", e) for h in range(1, 5) for e in ("login", "search")
    ):
        rng = np.random.default_rng(i)
        y = 40 + 2 * np.sin(2 * np.pi * np.arange(POINTS) / 360) + 0.3 * rng.standard_normal(POINTS)
        if host == "web-3":
            y[SPIKE_AT] += 9.0 if endpoint == "login" else 12.0
        samples += [
            {
                "properties": {"what": "requests", "host": host, "endpoint": endpoint},
                "timestamp": t,
                "value": round(float(v), 4),
            }
            for t, v in zip(ts, y, strict=True)
        ]
    half = len(samples) // 2  # at most 10,000 a request
    for part in (samples[:half], samples[half:]):
        assert _ingest(api, key, part)["accepted"] == len(part)

    def grouped():
        found = [
            a
            for a in _anomalies(api, account, timescale="native", min_score=90)
            if a["start"] == ts[SPIKE_AT] and a["state"] == "closed"
        ]
        return found[0] if found and found[0]["metric_count"] == 2 else None

    return account, _wait_until("the grouped anomaly closes", grouped, timeout=120)


def test_a_grouped_anomaly_page_shows_its_explanation(ui, api):
    account, anomaly = _seed(api)
    detail = api.get(f"/api/v1/anomalies/{anomaly['id']}", headers=account.headers).json()
    e = detail["explanation"]
    assert e["drivers"] == [{"key": "host", "value": "web-3"}]

    page = ui.page
    ui.login_as(account, f"/anomalies/{anomaly['id']}")
    section = page.locator("[data-testid=anomaly-explanation]")
    expect(section).to_be_visible()
    sentence = page.inner_text("[data-testid=anomaly-explanation-sentence]")
    assert (
        sentence
        == e["sentence"]
        == ("host=web-3 accounts for 100% of the deviation (2 of 8 metrics).")
    )
    # The section comes before the metrics table.
    assert section.bounding_box()["y"] < page.locator("#anomaly-metrics").bounding_box()["y"]

    # One chip per token, largest share first, the driver marked, larger the more it carries.
    chips = page.locator("[data-testid=explanation-token]")
    assert chips.evaluate_all("cs => cs.map(c => c.dataset.token)") == [
        f"{t['key']}={t['value']}" for t in e["tokens"]
    ]
    assert [f"{t['key']}={t['value']}" for t in e["tokens"]][0] == "host=web-3"
    first = chips.first
    assert "explain-driver" in first.get_attribute("class")
    assert "100%" in first.inner_text() and "2/2" in first.inner_text()
    sizes = chips.evaluate_all("cs => cs.map(c => parseFloat(getComputedStyle(c).fontSize))")
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    ui.shot("anomaly-explanation")

    # A chip opens the metrics list filtered to the metrics of `requests` carrying it.
    href = first.get_attribute("href")
    assert urlsplit(href).path == "/metrics/explore"
    assert parse_qs(urlsplit(href).query)["q"] == ["what=requests AND host=web-3"]
    first.click()
    page.wait_for_url("**/metrics/explore?q=*")
    page.wait_for_selector("body[data-ready=true]")
    names = page.locator("[data-testid=metrics-table] tbody tr[data-metric-id]")
    expect(names).to_have_count(2)
    assert all("host=web-3" in t for t in names.all_inner_texts())
    ui.assert_no_error_toast()
