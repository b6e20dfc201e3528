"""The pages work under their Content-Security-Policy: a real Chromium reports no violation.

The policy is sent by the server (``augury.api.security``); a violation shows both as a
``securitypolicyviolation`` event and as a console error, and both are collected here.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from tests.fixtures.factories import signup
from tests.web.conftest import UI_TIMEOUT_MS
from tests.web.test_ui import api, browser  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile);
});
"""


def test_every_page_and_the_api_docs_load_without_a_csp_violation(
    browser,  # noqa: F811
    live_server,
    api,  # noqa: F811
    settings,
):
    account = signup(api, org="Policy Ltd")
    job = api.post(
        "/api/v1/jobs",
        json={"type": "demo.work", "params": {"steps": 2, "step_seconds": 0}},
        headers=account.headers,
    ).json()
    sample = {"timestamp": int(time.time()) - 60, "value": 1.5, "properties": {"what": "cpu"}}
    r = api.post("/api/v1/metrics", json=[sample], headers=account.headers)
    assert r.status_code == 200 and not r.json()["errors"], r.text
    metric = api.get("/api/v1/metrics", headers=account.headers).json()["items"][0]
    records = [{"region": "North", "units": 3}, {"region": "South", "units": 5}]
    dataset = api.post(
        "/api/v1/datasets/records",
        json={"name": "sales", "records": records},
        headers=account.headers,
    ).json()

    use_case = api.post(
        "/api/v1/chat/use-cases",
        json={"name": "Helper", "welcome": "Hello!"},
        headers=account.headers,
    ).json()

    (settings.data_dir / "collect").mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(settings.data_dir / "collect" / "policy.db") as db:
        db.execute("CREATE TABLE t (ts TEXT, n REAL)")
    source = api.post(
        "/api/v1/data-sources",
        json={"name": "policy", "type": "sqlite", "config": {"path": "policy.db"}},
        headers=account.headers,
    ).json()
    columns = [{"name": "n", "type": "metric", "sourceColumn": "n"}]
    stream = api.post(
        "/api/v1/data-streams",
        json={
            "name": "policy",
            "dataSourceId": source["id"],
            "tableName": "t",
            "timestampColumn": "ts",
            "schema": {"columns": columns},
            "pollingInterval": "hourly",
        },
        headers=account.headers,
    ).json()

    context = browser.new_context(viewport={"width": 1360, "height": 880})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    seen: dict[str, list[str]] = {}
    try:
        for path in ("/login", "/signup", "/forgot-password"):
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            seen[path] = page.evaluate("window.__cspViolations")
        page.evaluate(
            "([a, r]) => { localStorage.setItem('augury.access_token', a);"
            " localStorage.setItem('augury.refresh_token', r); }",
            [account.access_token, account.refresh_token],
        )
        for path in (
            "/",
            "/jobs",
            f"/jobs/{job['id']}",
            "/metrics/explore",
            f"/metrics/explore/{metric['id']}",
            "/anomalies",
            "/forecasts",
            "/alerts",
            "/alerts/new",
            "/data",
            f"/data/{dataset['id']}",
            "/ask",
            f"/ask?dataset={dataset['id']}",
            "/charts",
            "/models",
            "/models/new",
            "/settings/members",
            "/settings/api-keys",
            "/chat",
            f"/chat/{use_case['id']}",
            "/chat/live",
            f"/chat/widget/{use_case['hash']}",
            "/collect",
            "/collect/streams/new",
            f"/collect/streams/{stream['id']}",
        ):
            page.goto(live_server.url + path)
            page.wait_for_selector("body[data-ready=true]")
            page.wait_for_load_state("networkidle")
            seen[path] = page.evaluate("window.__cspViolations")
        page.goto(live_server.url + "/api/v1/docs")
        page.wait_for_selector(".swagger-ui .opblock")
        seen["/api/v1/docs"] = page.evaluate("window.__cspViolations")
        page.goto(live_server.url + "/api/v1/redoc")
        page.wait_for_selector("[data-section-id]")
        page.wait_for_load_state("networkidle")
        # ReDoc always shows Redocly's logo from its CDN; the policy keeps the page
        # offline by refusing it (the image's onError hides it). Nothing else may be refused.
        seen["/api/v1/redoc"] = [
            v
            for v in page.evaluate("window.__cspViolations")
            if not v.startswith("img-src https://cdn.redoc.ly/")
        ]
    finally:
        context.close()
    assert {path: v for path, v in seen.items() if v} == {}
    refused = [m for m in console if "Content Security Policy" in m and "cdn.redoc.ly" not in m]
    assert not refused, console
    assert not errors, errors
