"""The Overview, loading and error states, inline form errors, the 404 page, the small
screen layout and the charts where alert decisions are made, in a real headless Chromium
(the fixtures and helpers are those of test_ui.py)."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from augury.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from tests.fixtures.factories import Account, make_key, signup
from tests.web import test_ui
from tests.web.test_ui import UI, _api, _ingest, _seed_anomalies, _wait_until

# The browser, the page and the API client of test_ui.py, as fixtures here too.
browser = test_ui.browser
ui = test_ui.ui
api = test_ui.api
pytestmark = test_ui.pytestmark

# While the live server detects the demo's week, SQLite's write lock makes some answers slow.
SLOW = 60

FAIL_500 = '{"error": {"code": "INTERNAL_ERROR", "message": "Internal error.", "details": {}}}'


def _login(api, email: str, password: str) -> Account:
    r = api.post("/api/v1/auth/login", json={"email": email, "password": password}, timeout=SLOW)
    assert r.status_code == 200, r.text
    body = r.json()
    me = api.get(
        "/api/v1/users/me",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=SLOW,
    ).json()
    return Account(
        email,
        password,
        me["id"],
        me["organization"]["id"],
        body["access_token"],
        body["refresh_token"],
    )


def _demo(api, runner_app, settings) -> Account:
    """The demo organization `augury serve --demo` creates, its week detected by the live
    server's stream processor; a threshold alert that the latency breaches now is open."""
    assert seed_demo(runner_app.state.db, settings)
    demo = _login(api, DEMO_EMAIL, DEMO_PASSWORD)
    _wait_until(
        "the demo week is detected",
        lambda: _api(
            api, demo, "GET", "/alerts/triggered", params={"status": "closed"}, timeout=SLOW
        )["total"],
        timeout=240,
    )
    _api(
        api,
        demo,
        "POST",
        "/alerts",
        json={
            "title": "Latency above 0 on {{host}}",
            "type": "static",
            "severity": "critical",
            "expression": "what=latency_ms",
            "group_by": ["host"],
            "conditions": {"above": 0},
        },
        timeout=SLOW,
    )
    _wait_until(
        "the threshold alert opens",
        lambda: _api(
            api, demo, "GET", "/alerts/triggered", params={"status": "open"}, timeout=SLOW
        )["total"],
    )
    task = _api(
        api,
        demo,
        "POST",
        "/forecasts",
        json={
            "name": "Orders next day",
            "expression": "what=orders",
            "horizon": 24,
            "resolution": "1h",
        },
        timeout=SLOW,
    )
    _wait_until(
        "the forecast runs",
        lambda: (
            _api(api, demo, "GET", f"/forecasts/{task['id']}", timeout=SLOW)["runs"][0]["status"]
            in ("complete", "failed")
        ),
        timeout=120,
    )
    return demo


def test_overview_of_the_demo_org_shows_alerts_anomalies_ingestion_and_forecasts(
    ui, api, runner_app, settings
):
    demo = _demo(api, runner_app, settings)
    opened = _api(api, demo, "GET", "/alerts/triggered", params={"status": "open"})
    anomalies = _api(api, demo, "GET", "/anomalies", params={"limit": 5})
    page = ui.page
    ui.login_as(demo, "/")

    expect(page.get_by_test_id("stat-open-alerts")).to_have_text(str(opened["total"]))
    first = opened["items"][0]
    expect(page.get_by_test_id(f"home-alert-link-{first['id']}")).to_have_text(first["title"])
    assert page.get_by_test_id(f"home-alert-link-{first['id']}").get_attribute("href") == (
        f"/alerts/triggered/{first['id']}"
    )

    # The newest anomalies, each with a sparkline of its strongest metric and its band.
    for a in anomalies["items"]:
        expect(page.get_by_test_id(f"home-anomaly-link-{a['id']}")).to_have_text(a["what"])
    newest = anomalies["items"][0]
    spark = page.get_by_test_id(f"sparkline-{newest['id']}")
    expect(spark).to_be_visible()
    assert int(spark.get_attribute("data-points")) > 10
    expect(spark.locator(".learned-band")).to_have_count(1)

    # Ingestion health: samples/s, refusals and the detection lag of this organization.
    overview = _api(api, demo, "GET", "/metrics/overview")
    expect(page.get_by_test_id("health-accepted")).to_have_text(
        f"{overview['accepted_last_hour']:,}"
    )
    expect(page.get_by_test_id("health-refused")).to_have_text("0")
    expect(page.get_by_test_id("health-lag")).not_to_be_empty()
    expect(page.locator("[data-testid=home-ingest-chart] svg")).to_be_visible()

    # Recent forecasts, with their last run.
    expect(page.get_by_test_id("home-forecasts")).to_contain_text("Orders next day")

    # An organization with metrics and alerts needs no first steps; every section is
    # built, chatbots included.
    expect(page.get_by_test_id("checklist")).to_be_hidden()
    expect(page.get_by_test_id("not-built")).to_have_count(0)
    assert page.locator("[data-testid=nav-chat]").count() == 1
    assert page.locator("[data-testid=nav-data]").count() == 1
    ui.shot("overview-demo")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def _step_done(page, step: str, done: bool):
    expect(page.get_by_test_id(f"step-{step}")).to_have_attribute(
        "data-done", "true" if done else "false"
    )


def test_a_new_organization_sees_the_checklist_ticked_step_by_step(ui, api):
    account = signup(api, org="Fresh Start")
    page = ui.page
    ui.login_as(account, "/")
    expect(page.get_by_test_id("checklist")).to_be_visible()
    for step in ("key", "metric", "band", "alert"):
        _step_done(page, step, False)
    expect(page.get_by_test_id("checklist-progress")).to_have_text("0 of 4 done")
    # Copyable commands that name this server.
    command = page.locator("#cmd-metric")
    expect(command).to_contain_text(
        f'curl -X POST "{ui.base_url}/api/v1/metrics?protocol=anodot20"'
    )
    expect(page.locator("#cmd-key")).to_contain_text(f"{ui.base_url}/api/v1/api-keys")
    expect(page.get_by_test_id("copy-metric")).to_be_visible()
    ui.shot("overview-new-org")

    key = make_key(api, account, ["ingest"], name="sender")
    ui.goto("/")
    _step_done(page, "key", True)
    _step_done(page, "metric", False)

    now = int(time.time()) // 60 * 60
    samples = [
        {
            "properties": {"what": "cpu_user", "host": "web-1"},
            "timestamp": now - 60 * i,
            "value": 40 + i % 5,
        }
        for i in range(30)
    ]
    _ingest(api, key, samples)
    ui.goto("/")
    _step_done(page, "metric", True)
    expect(page.get_by_test_id("checklist-progress")).to_contain_text("of 4 done")
    metric_id = _api(api, account, "GET", "/metrics")["items"][0]["id"]
    assert page.locator("#step-band-link").get_attribute("href") == f"/metrics/explore/{metric_id}"

    _api(api, account, "POST", "/alerts", json={"title": "CPU", "expression": "what=cpu_user"})
    ui.goto("/")
    # Metrics and an alert: the checklist has done its job.
    expect(page.get_by_test_id("stat-open-alerts")).to_have_text("0")
    expect(page.get_by_test_id("checklist")).to_be_hidden()
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_a_failed_part_shows_an_error_panel_whose_retry_loads_it(ui, api):
    account = signup(api, org="Flaky Network")
    page = ui.page
    failing = re.compile(r".*/api/v1/forecasts\?.*")

    def fail(route):
        route.fulfill(
            status=500,
            content_type="application/json",
            body=FAIL_500,
        )

    counting = re.compile(r".*/api/v1/anomalies/count\?.*")
    page.route(failing, fail)
    page.route(counting, fail)
    ui.login_as(account, "/")
    # A figure whose part failed says it is unknown; it does not shimmer on.
    expect(page.locator("#home-anomalies [data-testid=error-panel]")).to_be_visible()
    expect(page.get_by_test_id("stat-anomalies")).to_have_text("–")
    page.unroute(counting)
    page.locator("#home-anomalies [data-testid=retry]").click()
    expect(page.get_by_test_id("stat-anomalies")).to_have_text("0")
    expect(page.get_by_test_id("home-anomalies")).to_contain_text("No anomaly yet")
    panel = page.locator("#home-forecasts [data-testid=error-panel]")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Internal error.")
    # The rest of the page is there: one part failing does not blank the others.
    expect(page.get_by_test_id("stat-open-alerts")).to_have_text("0")
    ui.assert_no_error_toast()
    ui.shot("overview-error-panel")

    page.unroute(failing)
    panel.get_by_test_id("retry").click()
    expect(page.get_by_test_id("home-forecasts")).to_contain_text("No forecast yet")
    expect(panel).to_have_count(0)

    # The anomalies list too: a panel with Retry instead of a blank table and a toast.
    failing = re.compile(r".*/api/v1/anomalies\?.*")
    page.route(failing, fail)
    ui.goto("/anomalies")
    panel = page.locator("[data-testid=error-panel]")
    expect(panel).to_be_visible()
    page.unroute(failing)
    panel.get_by_test_id("retry").click()
    expect(page.locator("#anomalies-empty")).to_be_visible()
    expect(panel).to_have_count(0)
    ui.assert_no_error_toast()

    # And every other list: jobs, forecasts, alert configurations and channels.
    for path, api_path, empty in (
        ("/jobs", "jobs", "#jobs-empty"),
        ("/forecasts", "forecasts", "#forecasts-empty"),
        ("/alerts?tab=configs", "alerts", "#configs-empty"),
        ("/alerts?tab=channels", "channels", "#channels-empty"),
    ):
        failing = re.compile(rf".*/api/v1/{api_path}\?.*")
        page.route(failing, fail)
        ui.goto(path)
        panel = page.locator("[data-testid=error-panel]:visible")
        expect(panel).to_have_count(1)
        expect(page.locator(empty)).to_be_hidden()
        page.unroute(failing)
        panel.get_by_test_id("retry").click()
        expect(page.locator(empty)).to_be_visible()
        expect(page.locator("[data-testid=error-panel]:visible")).to_have_count(0)
        ui.assert_no_error_toast()


def test_a_422_shows_inline_errors_next_to_the_fields(ui, api):
    page = ui.page
    ui.goto("/signup")
    page.fill("#signup-email", "not an address")
    page.fill("#signup-password", "short")
    page.click("#signup-submit")
    email_error = page.get_by_test_id("field-error-email")
    expect(email_error).to_have_text("Enter an email address such as name@example.com.")
    expect(page.locator("#signup-email")).to_have_attribute("aria-invalid", "true")
    # Next to its field, inside the field's label; no toast with the raw message.
    field = page.locator("label.field", has=page.locator("#signup-email"))
    expect(field.get_by_test_id("field-error-email")).to_have_count(1)
    assert page.locator(".toast-error").count() == 0
    assert "not a valid email address" not in page.inner_text("body")
    ui.shot("signup-inline-errors")
    # Typing in the field clears its error.
    page.fill("#signup-email", "ada@example.com")
    expect(email_error).to_have_count(0)

    # A blank organization name: "String should have at least 1 character" in plain words.
    page.fill("#signup-password", "long enough password")
    page.evaluate("document.querySelector('#signup-org').value = ' x '")
    page.route(
        re.compile(r".*/api/v1/auth/signup$"),
        lambda route: route.continue_(
            post_data='{"email": "ada@example.com", "password": "long enough password",'
            ' "organization_name": ""}'
        ),
    )
    page.click("#signup-submit")
    expect(page.get_by_test_id("field-error-organization_name")).to_have_text(
        "This field is required."
    )
    assert "String should" not in page.inner_text("body")
    assert page.locator(".toast-error").count() == 0

    # An error the service names by field reads next to that field too.
    page.unroute(re.compile(r".*/api/v1/auth/signup$"))
    page.fill("#signup-password", "short")
    page.click("#signup-submit")
    expect(page.get_by_test_id("field-error-password")).to_have_text(
        "Password must have at least 8 characters."
    )
    expect(page.get_by_test_id("field-error-organization_name")).to_have_count(0)


def test_an_unknown_url_answers_the_html_404_page(ui, api):
    page = ui.page
    response = page.goto(ui.base_url + "/no/such/page")
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_test_id("not-found-path")).to_have_text("/no/such/page")
    ui.shot("not-found")
    page.get_by_test_id("not-found-home").click()
    page.wait_for_url(re.compile(r".*/login(\?.*)?$"))
    # The API keeps its JSON 404, whatever the client accepts.
    r = api.get("/api/v1/no/such/thing", headers={"Accept": "text/html"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    r = api.get("/no/such/page")  # no browser: the JSON envelope
    assert r.status_code == 404 and r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_at_390_px_the_pages_fit_the_screen_and_the_menu_button_opens_the_menu(
    browser, live_server, api
):
    seeded = _seed_anomalies(api, "Phone Co")
    account = seeded.account
    metric_id = seeded.cpu["metrics"][0]["metric_id"]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        phone = UI(page, live_server.url)
        phone.login_as(account, "/")
        nav = page.get_by_test_id("nav-metrics")
        expect(nav).to_be_hidden()
        page.get_by_test_id("nav-toggle").click()
        expect(nav).to_be_visible()
        expect(page.get_by_test_id("nav-toggle")).to_have_attribute("aria-expanded", "true")
        nav.click()
        page.wait_for_url(live_server.url + "/metrics/explore")
        for path in (
            f"/metrics/explore/{metric_id}",
            "/anomalies",
            "/alerts",
            "/alerts?tab=configs",
            "/",
        ):
            phone.goto(path)
            width = page.evaluate("document.scrollingElement.scrollWidth")
            assert width <= 390, (path, width)
        phone.goto("/anomalies")
        phone.shot("anomalies-390")
    finally:
        context.close()


def _open_alert(api, org: str) -> tuple[Account, dict]:
    """An alert on cpu, then points up to a spike on hosts a and b: the spike is the
    newest point, so the anomaly and the alert it opens stay open."""
    account = signup(api, org=org)
    key = make_key(api, account, ["ingest"], name="sender")
    _api(
        api,
        account,
        "POST",
        "/alerts",
        json={"title": "CPU is off", "expression": "what=cpu", "conditions": {"min_score": 50}},
    )
    n = test_ui.SPIKE_AT + 1
    last = int(time.time()) // 60 * 60
    ts = [last - 60 * (n - 1 - i) for i in range(n)]
    samples = []
    for host, seed, level, jump in (("a", 1, 50.0, 12.0), ("b", 2, 40.0, 10.0)):
        y = test_ui._smooth(seed, level)[:n]
        y[-1] += jump
        samples += [
            {
                "properties": {"what": "cpu", "host": host},
                "timestamp": t,
                "value": round(float(v), 4),
            }
            for t, v in zip(ts, y, strict=True)
        ]
    _ingest(api, key, samples)

    def opened():
        items = _api(api, account, "GET", "/alerts/triggered")["items"]
        return items[0] if items and items[0]["metric_count"] == 2 else None

    return account, _wait_until("the alert opens on both metrics", opened)


def test_the_triggered_alert_page_draws_the_metric_with_its_band_and_the_alert(ui, api):
    account, trigger = _open_alert(api, "Chart Alert Inc")
    page = ui.page
    ui.login_as(account, f"/alerts/triggered/{trigger['id']}")
    chart = page.locator("[data-testid=trigger-chart] [data-testid=chart-svg]")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("data-learned", "true")
    expect(chart.get_by_test_id("chart-learned-band")).to_have_count(1)
    expect(chart.get_by_test_id("chart-line")).to_have_count(1)
    fired = chart.get_by_test_id("chart-fired")
    expect(fired).to_have_count(1)
    assert float(fired.get_attribute("data-start")) == trigger["start"]
    # The anomaly that opened it is shaded there too.
    expect(chart.get_by_test_id("chart-anomaly").first).to_be_visible()
    ui.shot("alert-triggered-chart")

    # Both metrics can be charted: the strongest first, the other from the menu.
    first, second = (m["metric_id"] for m in trigger["metrics"])
    menu = page.get_by_test_id("trigger-chart-metric")
    expect(menu).to_have_value(str(first))
    drawn = chart.get_attribute("aria-label")
    menu.select_option(str(second))
    expect(chart).not_to_have_attribute("aria-label", drawn)
    expect(chart.get_by_test_id("chart-fired")).to_have_count(1)
    expect(chart).to_have_attribute("data-learned", "true")
    ui.assert_no_error_toast()


def test_the_alert_form_preview_charts_the_band_and_when_it_would_have_fired(ui, api):
    seeded = _seed_anomalies(api, "Preview Chart Inc")
    account = seeded.account
    page = ui.page
    ui.login_as(account, "/alerts/new")
    page.fill("[data-testid=af-expression]", "what=cpu")
    page.fill("[data-testid=af-min-score]", "50")
    page.fill("[data-testid=af-group-by]", "host")
    got = _api(
        api,
        account,
        "POST",
        "/alerts/preview",
        json={
            "title": "x",
            "expression": "what=cpu",
            "group_by": ["host"],
            "conditions": {"min_score": 50},
        },
    )
    assert got["fired"] == 2  # one per host
    newest = got["triggers"][0]
    expect(page.get_by_test_id("preview-fired")).to_have_text("2")
    chart = page.locator("[data-testid=preview-chart] [data-testid=chart-svg]")
    expect(chart.get_by_test_id("chart-fired")).to_have_count(1)  # this host's one
    expect(chart).to_have_attribute("data-learned", "true")
    assert (
        float(chart.get_by_test_id("chart-fired").get_attribute("data-start")) == (newest["start"])
    )
    metric = _api(api, account, "GET", f"/metrics/{newest['metric_ids'][0]}")
    expect(page.get_by_test_id("preview-chart-card")).to_contain_text(metric["name"])
    expect(page.get_by_test_id("preview-chart-caption")).to_contain_text(
        "1 more on other metrics or groups"
    )
    ui.shot("alert-form-preview-chart")

    # Without grouping, both hosts' spikes are one alert: one mark, on the chart still.
    page.fill("[data-testid=af-group-by]", "")
    expect(page.get_by_test_id("preview-fired")).to_have_text("1")
    expect(page.get_by_test_id("preview-chart-caption")).to_have_text(
        "Marked: the 1 time this alert would have fired on this metric."
    )
    expect(chart.get_by_test_id("chart-fired")).to_have_count(1)
    ui.assert_no_error_toast()
