"""The anomaly page's "Seen before" section in a real headless Chromium: a repeated
spike lists its earlier occurrence with a similarity and a link, "Save as pattern"
saves it, and a later spike like it is labelled with the pattern's name (the fixtures
and helpers are those of test_ui.py)."""

from __future__ import annotations

import time

import numpy as np
from playwright.sync_api import expect

from tests.fixtures.factories import make_key, signup
from tests.web import test_ui
from tests.web.test_ui import _anomalies, _ingest, _wait_until

browser = test_ui.browser
ui = test_ui.ui
api = test_ui.api
pytestmark = test_ui.pytestmark

POINTS = 1700  # one a minute, ending now
LATER = 1500  # the points from here on are sent after the pattern is saved
SPIKES = (700, 1100, 1600)


def _send(api, key, ts, y):
    body = [
        {"properties": {"what": "queue", "host": "a"}, "timestamp": t, "value": round(v, 4)}
        for t, v in zip(ts, y, strict=True)
    ]
    assert _ingest(api, key, body)["accepted"] == len(body)


def _spike(api, account, t):
    def closed():
        found = [
            a
            for a in _anomalies(api, account, timescale="native")
            if a["start"] == t and a["state"] == "closed"
        ]
        return found[0] if found else None

    return _wait_until(f"the spike at {t} closes", closed, timeout=120)


def test_a_repeated_spike_is_seen_before_and_saved_as_a_pattern_that_labels_the_next(ui, api):
    account = signup(api, org="Seen Before Inc")
    key = make_key(api, account, ["ingest"], name="sender")
    last = int(time.time()) // 60 * 60
    ts = [last - 60 * (POINTS - 1 - i) for i in range(POINTS)]
    rng = np.random.default_rng(3)
    y = 20 + np.sin(2 * np.pi * np.arange(POINTS) / 360) + 0.2 * rng.standard_normal(POINTS)
    for at, size in zip(SPIKES, (6.0, 6.0, 9.0), strict=True):
        y[at : at + 2] += size  # the third larger: the tails have learned two already
    _send(api, key, ts[:LATER], y[:LATER].tolist())
    first, second = (_spike(api, account, ts[at]) for at in SPIKES[:2])

    page = ui.page
    ui.login_as(account, f"/anomalies/{second['id']}")
    section = page.locator("[data-testid=seen-before]")
    expect(section).to_be_visible()
    row = page.locator("[data-testid=seen-before-row]").first
    expect(row).to_be_visible()
    assert row.locator("a").get_attribute("href") == f"/anomalies/{first['id']}"
    similarity = int(row.locator("[data-testid=seen-before-similarity]").inner_text()[:-1])
    assert similarity >= 80
    status = page.inner_text("[data-testid=seen-before-status]")
    assert "past anomalies compared are alike" in status

    page.fill("[data-testid=pattern-name]", "queue flush")
    page.click("[data-testid=pattern-save]")
    expect(page.locator(".toast").last).to_contain_text("Saved as pattern")
    (pattern,) = api.get("/api/v1/patterns", headers=account.headers).json()["items"]
    assert pattern["name"] == "queue flush"

    # The same spike again, later: the periodic matcher labels it with the pattern.
    _send(api, key, ts[LATER:], y[LATER:].tolist())
    third = _spike(api, account, ts[SPIKES[2]])
    _wait_until(
        "the pattern labels the next spike",
        lambda: (
            api.get(f"/api/v1/patterns/{pattern['id']}/matches", headers=account.headers)
            .json()
            .get("items")
        ),
        timeout=120,
    )
    ui.login_as(account, f"/anomalies/{third['id']}")
    label = page.locator("[data-testid=pattern-label]")
    expect(label).to_have_count(1)
    assert label.inner_text().startswith("queue flush")
    ui.shot("anomaly-seen-before")
    ui.assert_no_error_toast()
