"""The web UI in a real headless Chromium (Debian's package) driven by Playwright.

Each test runs augury on a free port with its job runner (``live_server``) and uses the
pages as a person would: forms, buttons, menus. Every test also checks that the browser
asked nothing of any host but augury itself (the UI must work offline). Screenshots land
in tests/web/artifacts/ for a human to look at.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from augury.mail import read_outbox
from augury.metrics.models import MetricPointInbox
from tests.alerts.conftest import Receiver
from tests.fixtures.factories import PASSWORD, Account, invite_and_join, make_key, signup
from tests.web.conftest import HTTP_TIMEOUT_S, UI_TIMEOUT_MS, wait_js

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the UI tests need Debian's chromium package "
            "(apt-get install chromium). They are never skipped."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class UI:
    page: object
    base_url: str
    requests: list[str] = field(default_factory=list)

    def goto(self, path: str):
        self.page.goto(self.base_url + path)
        # The page's module marks the body once the page is filled from the API.
        self.page.wait_for_selector("body[data-ready=true]")

    def login_as(self, account: Account, path: str = "/"):
        """Start logged in, as the page would be after the login form."""
        self.page.goto(self.base_url + "/login")
        self.page.evaluate(
            "([a, r]) => { localStorage.setItem('augury.access_token', a);"
            " localStorage.setItem('augury.refresh_token', r); }",
            [account.access_token, account.refresh_token],
        )
        self.goto(path)

    def shot(self, name: str):
        ARTIFACTS.mkdir(exist_ok=True)
        # Show end states: progress bars ease towards their value, toasts fade in.
        # A constructed style sheet: the pages' policy refuses inline <style> elements.
        self.page.evaluate(
            "() => { const s = new CSSStyleSheet(); s.replaceSync('*, *::before "
            "{ transition: none !important; animation: none !important; }');"
            " document.adoptedStyleSheets = [...document.adoptedStyleSheets, s]; }"
        )
        # From the top: sticky bars would otherwise land mid-page in a full-page shot.
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def toast(self, text: str):
        toast = self.page.locator("[data-testid=toast]", has_text=text)
        toast.first.wait_for()
        return toast.first

    def assert_no_error_toast(self):
        errors = self.page.locator(".toast-error").all_inner_texts()
        assert not errors, f"unexpected errors shown: {errors}"

    def assert_only_local(self):
        assert self.requests, "no request was recorded"
        foreign = sorted(
            {
                url
                for url in self.requests
                if urlsplit(url).scheme in {"http", "https", "ws", "wss"}
                and urlsplit(url).hostname not in LOCAL_HOSTS
            }
        )
        assert not foreign, f"the UI reached beyond augury: {foreign}"


@pytest.fixture
def ui(browser, live_server):
    context = browser.new_context(viewport={"width": 1360, "height": 880})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.on("dialog", lambda dialog: dialog.accept())  # confirm() before revoking
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # What the Content-Security-Policy refused (augury.api.security): the UI needs nothing.
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield UI(page, live_server.url, requests)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not refused, f"refused by the Content-Security-Policy: {refused}"


@pytest.fixture
def api(live_server, runner_app):
    with httpx.Client(base_url=live_server.url, timeout=HTTP_TIMEOUT_S) as client:
        client.augury_db = runner_app.state.db  # for _ingest to see its points put in place
        yield client


def test_sign_up_log_out_and_log_in_through_the_forms(ui):
    page = ui.page
    ui.goto("/signup")
    ui.shot("signup")
    page.fill("#signup-name", "Ada Lovelace")
    page.fill("#signup-email", "ada@example.com")
    page.fill("#signup-password", PASSWORD)
    page.fill("#signup-org", "Analytical Engines")
    page.click("#signup-submit")
    page.wait_for_url(ui.base_url + "/")
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text("#user-name") == "Ada Lovelace"
    assert "Analytical Engines" in page.inner_text("#org-switcher")
    assert page.inner_text("#my-role") == "owner"
    ui.shot("home")

    page.click("[data-testid=user-menu]")
    page.click("[data-testid=logout]")
    page.wait_for_url(re.compile(r".*/login$"))
    assert page.evaluate("localStorage.getItem('augury.access_token')") is None

    # A page of the app without a login sends the visitor to the login form, and back.
    ui.goto("/jobs")
    page.wait_for_url(re.compile(r".*/login\?next=%2Fjobs$"))
    page.wait_for_selector("body[data-ready=true]")
    ui.shot("login")
    page.fill("#login-email", "ada@example.com")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(ui.base_url + "/jobs")
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text("#user-name") == "Ada Lovelace"

    # Change password from the user menu: a wrong current password is an error that
    # must not end the login.
    page.click("[data-testid=user-menu]")
    page.click("[data-testid=change-password]")
    page.fill("#pw-current", "not my password")
    page.fill("#pw-new", "a brand new password")
    page.click("#password-submit")
    # The service names the field: its message shows next to it.
    expect(page.get_by_test_id("field-error-current_password")).to_have_text(
        "Current password is wrong."
    )
    ui.shot("change-password")
    assert page.evaluate("localStorage.getItem('augury.access_token')")
    page.fill("#pw-current", PASSWORD)
    page.click("#password-submit")
    ui.toast("Password changed.")
    assert page.locator("[data-testid=password-dialog]").is_hidden()
    r = httpx.post(
        f"{ui.base_url}/api/v1/auth/login",
        json={"email": "ada@example.com", "password": "a brand new password"},
        timeout=HTTP_TIMEOUT_S,
    )
    assert r.status_code == 200
    ui.assert_only_local()


def test_a_wrong_password_shows_the_api_error(ui, api):
    account = signup(api, email="grace@example.com")
    page = ui.page
    ui.goto("/login")
    page.fill("#login-email", account.email)
    page.fill("#login-password", "not the password")
    page.click("#login-submit")
    toast = ui.toast("Invalid email or password.")
    assert toast.is_visible()
    ui.shot("login-wrong-password")
    assert page.url.endswith("/login")
    assert page.evaluate("localStorage.getItem('augury.access_token')") is None
    ui.assert_only_local()


def test_api_key_secret_is_shown_once_then_listed_and_revoked(ui, api):
    account = signup(api, org="Keys Inc")
    page = ui.page
    ui.login_as(account, "/settings/api-keys")
    assert page.locator("#keys-empty").is_visible()

    page.fill("#key-name", "grafana agent")
    page.check("#scope-ingest")
    page.click("#key-submit")
    secret_el = page.locator("[data-testid=key-secret]")
    secret_el.wait_for()
    secret = secret_el.inner_text().strip()
    assert len(secret) > 20
    assert "will not be shown again" in page.inner_text("[data-testid=key-created]")
    row = page.locator("#keys-body tr", has_text="grafana agent")
    row.wait_for()
    prefix = row.locator("code").inner_text().rstrip("…")
    assert prefix and secret.startswith(prefix) and prefix != secret
    assert row.locator(".badge", has_text="ingest").count() == 1
    assert row.locator(".badge", has_text="read").count() == 1
    ui.shot("api-key-created")

    # The key works, and after a reload its secret is nowhere on the page.
    assert api.get("/api/v1/jobs", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    ui.goto("/settings/api-keys")
    page.locator("#keys-body tr", has_text="grafana agent").wait_for()
    assert secret not in page.content()
    assert page.locator("[data-testid=key-created]").is_hidden()
    assert "just now" in page.locator("#keys-body tr", has_text="grafana agent").inner_text()
    ui.shot("api-keys")

    key_row = page.locator("#keys-body tr", has_text="grafana agent")
    key_row.locator("button", has_text="Revoke").click()
    ui.toast("revoked")
    page.locator("#keys-empty").wait_for(state="visible")
    assert api.get("/api/v1/jobs", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    page.check("#keys-include-revoked")
    key_row.locator(".badge", has_text="revoked").wait_for()
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_demo_job_progress_moves_live_until_it_succeeds(ui, api):
    account = signup(api, org="Jobs Ltd")
    page = ui.page
    ui.login_as(account, "/jobs")
    assert page.locator("#jobs-empty").is_visible()
    page.evaluate("window.__sameDocument = true")  # gone if the page reloaded
    page.fill("#demo-steps", "20")
    page.fill("#demo-step-seconds", "0.3")
    page.click("[data-testid=run-demo-job]")
    row = page.locator("#jobs-body tr").first
    row.wait_for()
    job_id = row.get_attribute("data-job-id")
    bar = page.locator(f"[data-testid=job-progress-{job_id}]")
    status = page.locator(f"[data-testid=job-status-{job_id}]")

    seen: list[float] = []
    shot_taken = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        value = float(bar.get_attribute("aria-valuenow"))
        if not seen or value != seen[-1]:
            seen.append(value)
        if 30 <= value < 100 and not shot_taken:
            ui.shot("jobs-running")
            shot_taken = True
        if status.inner_text() == "succeeded":
            # The bar was read just before the status: read what it shows now.
            if (last := float(bar.get_attribute("aria-valuenow"))) != seen[-1]:
                seen.append(last)
            break
        time.sleep(0.15)
    assert status.inner_text() == "succeeded", f"job ended as {status.inner_text()!r}, saw {seen}"
    increases = sum(1 for a, b in zip(seen, seen[1:], strict=False) if b > a)
    partial = [v for v in seen if 0 < v < 100]
    assert increases >= 2 and len(partial) >= 2, f"progress did not move live: {seen}"
    assert seen == sorted(seen)
    assert seen[-1] == 100
    assert page.evaluate("window.__sameDocument") is True
    assert page.inner_text(f"[data-testid=job-message-{job_id}]") == "done"
    page.locator("#consumptions-body tr", has_text="demo.work").wait_for()
    ui.shot("jobs")

    page.click(f"[data-testid=job-link-{job_id}]")
    page.wait_for_url(ui.base_url + f"/jobs/{job_id}")
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text("[data-testid=job-status]") == "succeeded"
    assert page.get_attribute("[data-testid=job-progress]", "aria-valuenow") == "100"
    page.locator("[data-testid=job-logs]", has_text="finished 20 sleep steps").wait_for()
    ui.shot("job-detail")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_abort_a_running_job(ui, api):
    account = signup(api, org="Abort Co")
    page = ui.page
    ui.login_as(account, "/jobs")
    page.fill("#demo-steps", "200")
    page.fill("#demo-step-seconds", "0.2")
    page.click("[data-testid=run-demo-job]")
    row = page.locator("#jobs-body tr").first
    row.wait_for()
    job_id = row.get_attribute("data-job-id")
    page.locator(f"[data-testid=job-status-{job_id}]", has_text="running").wait_for()
    page.click(f"[data-testid=abort-job-{job_id}]")
    page.locator(f"[data-testid=job-status-{job_id}]", has_text="aborted").wait_for()
    job = api.get(f"/api/v1/jobs/{job_id}", headers=account.headers).json()
    assert job["status"] == "aborted" and job["progress"] < 100
    ui.goto("/jobs")
    page.locator(f"[data-testid=job-status-{job_id}]", has_text="aborted").wait_for()
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_invite_a_member_who_then_joins(ui, api, browser):
    account = signup(api, org="Team Org")
    page = ui.page
    ui.login_as(account, "/settings/invitations")
    assert page.locator("#invitations-empty").is_visible()
    page.fill("#invite-email", "newcomer@example.com")
    page.select_option("#invite-role", "admin")
    page.click("[data-testid=invite-submit]")
    link = page.locator("[data-testid=invite-link]")
    link.wait_for()
    assert "/accept-invitation?token=" in link.inner_text()
    row = page.locator("#invitations-body tr", has_text="newcomer@example.com")
    row.wait_for()
    assert row.locator(".badge", has_text="admin").count() == 1
    ui.shot("invitations")

    # The invited person opens the link (on this server) in a browser of their own.
    token = link.inner_text().split("token=", 1)[1].strip()
    other = browser.new_context(viewport={"width": 1360, "height": 880})
    other.on("request", lambda request: ui.requests.append(request.url))
    try:
        joiner = other.new_page()
        joiner.goto(f"{ui.base_url}/accept-invitation?token={token}")
        joiner.fill("#accept-name", "New Comer")
        joiner.fill("#accept-password", PASSWORD)
        joiner.click("#accept-submit")
        joiner.wait_for_url(ui.base_url + "/")
        joiner.wait_for_selector("body[data-ready=true]")
        assert "Team Org" in joiner.inner_text("#org-switcher")
        assert joiner.inner_text("#my-role") == "admin"
    finally:
        other.close()

    ui.goto("/settings/members")
    member = page.locator("#members-body tr", has_text="newcomer@example.com")
    member.wait_for()
    member_id = member.get_attribute("data-testid").rsplit("-", 1)[1]
    page.select_option(f"[data-testid=member-role-{member_id}]", "viewer")
    ui.toast("Updated New Comer")
    page.click(f"[data-testid=member-toggle-{member_id}]")
    page.locator(f"[data-testid=member-row-{member_id}] .badge", has_text="disabled").wait_for()
    members = api.get("/api/v1/members", headers=account.headers).json()["items"]
    joined = next(m for m in members if m["email"] == "newcomer@example.com")
    assert joined["role"] == "viewer" and joined["disabled"] is True
    ui.shot("members")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_audit_log_shows_the_login(ui, api):
    account = signup(api, email="auditor@example.com", org="Audit Org")
    page = ui.page
    ui.goto("/login")
    page.fill("#login-email", account.email)
    page.fill("#login-password", "a wrong guess")
    page.click("#login-submit")
    ui.toast("Invalid email or password.")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(ui.base_url + "/")
    ui.goto("/settings/audit")
    page.locator("#audit-body tr[data-action='auth.login']").first.wait_for()
    page.select_option("#audit-action", "auth.login")
    page.locator("#audit-body tr[data-action='user.signup']").wait_for(state="detached")
    rows = page.locator("#audit-body tr")
    assert rows.count() >= 1
    actions = set(rows.evaluate_all("rows => rows.map(r => r.dataset.action)"))
    assert actions == {"auth.login"}
    first = rows.first.inner_text()
    assert "auditor@example.com" in first and "success" in first
    page.select_option("#audit-outcome", "failure")
    wait_js(
        page,
        "[...document.querySelectorAll('#audit-body tr')]"
        ".every(r => r.innerText.includes('failure'))",
    )
    assert rows.count() == 1
    assert "auth.login" in rows.first.inner_text()
    page.select_option("#audit-action", "")
    page.select_option("#audit-outcome", "")
    page.locator("#audit-body tr[data-action='user.signup']").wait_for()
    ui.shot("audit")
    ui.assert_only_local()


def test_organizations_switch_and_every_section_has_its_menu_entry(ui, api):
    account = signup(api, org="First Org")
    page = ui.page
    ui.login_as(account, "/settings/organization")
    assert page.input_value("#org-name") == "First Org"
    page.fill("#org-name", "First Org Renamed")
    page.click("[data-testid=org-save]")
    ui.toast("Organization saved.")
    page.fill("#new-org-name", "Second Org")
    page.click("[data-testid=new-org-submit]")
    switch = page.locator("#orgs-body tr", has_text="Second Org").locator("button")
    switch.wait_for()
    ui.shot("organization")
    switch.click()
    # (A web-first assertion: wait_for_function evaluates a string, which the CSP forbids.)
    expect(page.locator("#org-switcher option:checked")).to_have_text(re.compile(r"^Second Org"))
    page.wait_for_selector("body[data-ready=true]")

    # The header switcher goes back to the first organization.
    with page.expect_navigation():
        page.select_option("#org-switcher", label="First Org Renamed")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#org-switcher option:checked").inner_text().startswith("First Org Renamed")

    # Every section is built: the Overview lists none as missing, each has its entry.
    ui.goto("/")
    expect(page.get_by_test_id("not-built")).to_have_count(0)
    # Metrics has arrived: under /metrics/explore (/metrics is Prometheus' scrape endpoint);
    # so have anomalies, alerts and datasets (Data).
    assert page.get_attribute("[data-testid=nav-metrics]", "href") == "/metrics/explore"
    assert page.get_attribute("[data-testid=nav-anomalies]", "href") == "/anomalies"
    assert page.get_attribute("[data-testid=nav-alerts]", "href") == "/alerts"
    assert page.get_attribute("[data-testid=nav-data]", "href") == "/data"
    assert page.get_attribute("[data-testid=nav-ask]", "href") == "/ask"
    assert page.get_attribute("[data-testid=nav-text]", "href") == "/text"
    assert page.get_attribute("[data-testid=nav-chat]", "href") == "/chat"
    ui.assert_no_error_toast()
    ui.assert_only_local()


def _forged_jwt(exp_in_s: int) -> str:
    """JWT-shaped, unexpired by its claims, but not signed by augury: the API answers 401."""

    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return ".".join(
        [
            part({"alg": "HS256", "typ": "JWT"}),
            part({"sub": "1", "exp": int(time.time()) + exp_in_s}),
            "c2lnbmF0dXJl",
        ]
    )


def test_a_rejected_access_token_is_refreshed_once_and_the_calls_retried(ui, api):
    account = signup(api, org="Refresh Org")
    page = ui.page
    # The overview fires four API calls at once: all get 401, one refresh serves them all
    # (the refresh token rotates, so a second refresh with it would fail and log out).
    stale = Account(**{**account.__dict__, "access_token": _forged_jwt(600)})
    ui.login_as(stale, "/")
    expect(page.locator("#stat-open-alerts")).to_have_text("0")
    refreshes = [u for u in ui.requests if u.endswith("/api/v1/auth/refresh")]
    assert len(refreshes) == 1, refreshes
    tokens = page.evaluate(
        "[localStorage.getItem('augury.access_token'),"
        " localStorage.getItem('augury.refresh_token')]"
    )
    assert tokens[0] != stale.access_token and tokens[1] != account.refresh_token
    ui.assert_no_error_toast()

    # When the login cannot be renewed any more, the page goes to the login form.
    page.evaluate(
        "localStorage.setItem('augury.access_token', 'x.y.z');"
        " localStorage.setItem('augury.refresh_token', 'no-longer-valid')"
    )
    page.goto(ui.base_url + "/settings/api-keys")
    page.wait_for_url(re.compile(r".*/login\?next=%2Fsettings%2Fapi-keys$"))
    assert page.evaluate("localStorage.getItem('augury.refresh_token')") is None
    ui.assert_only_local()


def test_forgot_and_reset_password_through_the_mailed_link(ui, api, settings):
    account = signup(api, email="forgetful@example.com")
    page = ui.page
    ui.goto("/login")
    page.click("#forgot-link")
    page.wait_for_url(ui.base_url + "/forgot-password")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#forgot-email", account.email)
    page.click("#forgot-submit")
    page.locator("[data-testid=forgot-done]").wait_for()
    assert "reset mail is on its way" in page.inner_text("[data-testid=forgot-done]")

    mail = next(m for m in read_outbox(settings.outbox_dir) if m["to"] == account.email)
    token = re.search(r"/reset-password\?token=([\w\-]+)", mail["text"]).group(1)
    ui.goto(f"/reset-password?token={token}")
    page.fill("#reset-password", "my new secret words")
    page.fill("#reset-confirm", "my new secret words")
    ui.shot("reset-password")
    page.click("#reset-submit")
    page.locator("[data-testid=reset-done]").wait_for()

    ui.goto("/login")
    page.fill("#login-email", account.email)
    page.fill("#login-password", "my new secret words")
    page.click("#login-submit")
    page.wait_for_url(ui.base_url + "/")
    page.wait_for_selector("body[data-ready=true]")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_a_viewer_sees_what_they_may_do(ui, api):
    owner = signup(api, org="Viewers Org")
    viewer = invite_and_join(api, owner, "viewer", email="watcher@example.com")
    page = ui.page
    ui.login_as(viewer, "/jobs")
    assert page.inner_text("#my-role") == "viewer"
    assert page.locator("[data-testid=run-demo-job]").is_disabled()
    ui.goto("/settings/audit")
    assert "Only admins and owners" in page.inner_text("[data-testid=needs-admin]")
    assert page.locator("#audit-table").is_hidden()
    ui.goto("/settings/members")
    assert page.locator("[data-testid=needs-admin]").is_visible()
    assert page.locator("#members-body select").count() == 0  # roles shown, not editable
    assert page.locator("#members-body tr").count() == 2
    ui.goto("/settings/api-keys")
    assert page.locator("#scope-read").is_enabled()
    for scope in ("ingest", "write", "admin"):
        assert page.locator(f"#scope-{scope}").is_disabled()
    ui.shot("viewer-api-keys")
    ui.assert_no_error_toast()
    ui.assert_only_local()


# --- metrics ------------------------------------------------------------------------------

STEP = 600
CPU_POINTS = 144  # what=cpu_user host=web-1: one point every 10 minutes for a day
CPU_NAME = "what=cpu_user.dc=east.host=web-1"


@dataclass
class Seeded:
    account: Account
    last: int
    """Newest timestamp of every seeded metric (epoch s)."""
    cpu_ts: list[int]
    accepted: int


def _ingest(api, key: str, samples: list[dict]) -> dict:
    r = api.post("/api/v1/metrics", params={"protocol": "anodot20", "token": key}, json=samples)
    assert r.status_code == 200, r.text
    _wait_for_inbox(api)
    return r.json()


def _wait_for_inbox(api):
    """Ingestion appends the points to an inbox that the live server's stream processor
    moves into place every half second: wait until it has, as a person would see them."""
    deadline = time.monotonic() + 30
    while True:
        with api.augury_db.session() as session:
            waiting = session.scalar(select(func.count()).select_from(MetricPointInbox))
        if not waiting:
            return
        assert time.monotonic() < deadline, f"{waiting} points still in the inbox"
        time.sleep(0.05)


def _seed_metrics(api, org: str) -> Seeded:
    """30 metrics in 5 measures sent through the real ingestion API, and 1 refused sample."""
    account = signup(api, org=org)
    key = make_key(api, account, ["ingest"], name="sender")
    last = int(time.time()) // STEP * STEP
    cpu_ts = [last - STEP * i for i in reversed(range(CPU_POINTS))]
    samples = [
        {
            "properties": {"what": "cpu_user", "host": "web-1", "dc": "east"},
            "timestamp": t,
            "value": round(50 + 20 * math.sin(i / 12) + 4 * math.sin(i * 1.7), 3),
        }
        for i, t in enumerate(cpu_ts)
    ]
    others = [
        ({"what": "cpu_user", "host": "web-2", "dc": "east"}, 30),
        ({"what": "cpu_system", "host": "web-1", "dc": "west"}, 8),
        ({"what": "mem_used", "host": "web-1", "dc": "east"}, 2048),
        ({"what": "requests", "host": "web-2", "path": "/api", "target_type": "counter"}, 120),
    ]
    for props, base in others:
        samples += [
            {"properties": props, "timestamp": last - STEP * i, "value": base + i} for i in range(6)
        ]
    samples += [
        {"properties": {"what": "queue_depth", "queue": f"q{n:02d}"}, "timestamp": last, "value": n}
        for n in range(1, 26)
    ]
    # More than an hour in the future: refused (Anodot's error 2022), counted as refused.
    future = {"properties": {"what": "cpu_user", "host": "web-9"}, "timestamp": last + 7800}
    samples.append({**future, "value": 1})
    out = _ingest(api, key, samples)
    assert out["rejected"] == 1 and out["errors"][0]["error"] == 2022, out
    assert out["accepted"] == CPU_POINTS + 4 * 6 + 25
    return Seeded(account, last, cpu_ts, out["accepted"])


def _metric_id(api, account: Account, q: str) -> int:
    r = api.get("/api/v1/metrics", params={"q": q}, headers=account.headers)
    items = r.json()["items"]
    assert len(items) == 1, items
    return items[0]["id"]


def _series(api, account: Account, metric_id: int, **params) -> httpx.Response:
    return api.get(
        f"/api/v1/metrics/{metric_id}/timeseries", params=params, headers=account.headers
    )


def _wait_for_rollup(api, account, metric_id, resolution, span, points) -> dict:
    """The stream processor that live_server runs computes rollups within a second or so."""
    deadline = time.monotonic() + 30
    while True:
        r = _series(
            api, account, metric_id, resolution=resolution, **{"from": span[0], "to": span[1]}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        if sum(body["count"]) == points:
            return body
        assert time.monotonic() < deadline, f"{resolution} rollups hold {sum(body['count'])} points"
        time.sleep(0.1)


def _drawn_points(page) -> int:
    """Points of the line actually drawn: one M or L command per point."""
    return len(re.findall(r"[ML]", page.get_attribute("[data-testid=chart-line]", "d")))


def _row_names(page) -> list[str]:
    return page.locator("#metrics-body tr a").all_inner_texts()


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_metrics_page_shows_the_overview_and_pages_through_the_metrics(ui, api):
    seeded = _seed_metrics(api, "Metrics Inc")
    headers = seeded.account.headers
    page = ui.page
    ui.login_as(seeded.account, "/metrics/explore")
    assert page.locator("[data-testid=nav-metrics].active").count() == 1
    assert page.locator("[data-testid=nav-metrics] .nav-soon").count() == 0

    # The overview: 30 metrics in 5 measures, all with a point today; the ingest rate is
    # the samples accepted over the last 5 minutes; one sample was refused.
    assert page.inner_text("#stat-metrics") == "30"
    assert page.inner_text("#stat-active-metrics") == "30"
    assert page.inner_text("#stat-measures") == "5"
    assert page.inner_text("#stat-eps") == f"{seeded.accepted / 300:.2f}"
    assert page.inner_text("#stat-refused") == "1"
    assert page.inner_text("#ingest-accepted") == str(seeded.accepted)
    assert page.locator("#ingest-chart rect.ingest-accepted").count() >= 1
    assert page.locator("#ingest-chart rect.ingest-refused").count() >= 1

    # The list, 25 a page, in the API's order, each row linking to its metric.
    api_page = api.get("/api/v1/metrics", params={"limit": 25}, headers=headers).json()
    assert _row_names(page) == [m["name"] for m in api_page["items"]]
    assert page.inner_text("[data-testid=metrics-range]") == "1–25 of 30"
    cpu = next(m for m in api_page["items"] if m["name"] == CPU_NAME)
    row = page.locator(f"[data-testid=metric-row-{cpu['id']}]")
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == "cpu_user" and cells[3] == "gauge"
    assert "dc=east" in cells[2] and "host=web-1" in cells[2]
    assert (
        row.locator("time")
        .get_attribute("datetime")
        .startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(seeded.last)))
    )
    assert row.locator("a").get_attribute("href") == f"/metrics/explore/{cpu['id']}"

    # Dimensions by cardinality over the last 24 h of data.
    dims = page.locator("#cardinality li").evaluate_all(
        "els => els.map(e => [e.dataset.dimension, e.querySelector('.num').textContent])"
    )
    assert dims == [["queue", "25"], ["dc", "2"], ["host", "2"], ["path", "1"]]
    assert "30 metrics" in page.inner_text("#cardinality-caption")
    ui.shot("metrics")

    page.click("#metrics-next")
    wait_js(page, "document.querySelectorAll('#metrics-body tr').length === 5")
    assert _query(page) == {"offset": ["25"]}
    second = api.get("/api/v1/metrics", params={"offset": 25}, headers=headers).json()
    assert _row_names(page) == [m["name"] for m in second["items"]]
    assert page.inner_text("[data-testid=metrics-range]") == "26–30 of 30"
    requests_row = page.locator("#metrics-body tr", has_text="what=requests")
    assert requests_row.locator(".badge", has_text="counter").count() == 1

    # A dimension in the cardinality panel lists the metrics that have it.
    page.click("[data-testid=cardinality-path] button")
    wait_js(page, "document.querySelectorAll('#metrics-body tr').length === 1")
    assert _row_names(page) == ["what=requests.host=web-2.path=/api"]
    assert page.input_value("#metrics-q") == "path=*"
    assert _query(page) == {"q": ["path=*"]}

    # A row opens its metric.
    page.click(f"[data-testid=metric-link-{_metric_id(api, seeded.account, 'path=*')}]")
    page.wait_for_url(re.compile(r".*/metrics/explore/\d+$"))
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text("#metric-what") == "requests"
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_metrics_search_narrows_the_list_and_explains_a_bad_expression(ui, api):
    seeded = _seed_metrics(api, "Search Inc")
    page = ui.page
    ui.login_as(seeded.account, "/metrics/explore")
    assert page.locator("#metrics-body tr").count() == 25

    page.fill("#metrics-q", "what=cpu* AND host=web-1")
    page.press("#metrics-q", "Enter")
    wait_js(page, "document.querySelectorAll('#metrics-body tr').length === 2")
    assert sorted(_row_names(page)) == ["what=cpu_system.dc=west.host=web-1", CPU_NAME]
    assert _query(page) == {"q": ["what=cpu* AND host=web-1"]}
    assert page.locator("[data-testid=metrics-range]").count() == 0  # one page: no pager
    ui.shot("metrics-search")

    # The expression lives in the URL: a reload (or a shared link) shows the same list.
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.input_value("#metrics-q") == "what=cpu* AND host=web-1"
    assert sorted(_row_names(page)) == ["what=cpu_system.dc=west.host=web-1", CPU_NAME]

    # The button searches too; NOT and a bare word (which matches what) work.
    page.fill("#metrics-q", "cpu_user AND NOT host=web-2")
    page.click("[data-testid=metrics-search]")
    wait_js(page, "document.querySelectorAll('#metrics-body tr').length === 1")
    assert _row_names(page) == [CPU_NAME]

    # A bad expression shows the API's own message, which says where it went wrong.
    bad = "what=cpu* AND (host=web-1"
    r = api.get("/api/v1/metrics", params={"q": bad}, headers=seeded.account.headers)
    assert r.status_code == 422
    message = r.json()["error"]["message"]
    assert message.startswith("Invalid metric expression:") and "(at character" in message
    page.fill("#metrics-q", bad)
    page.press("#metrics-q", "Enter")
    error = page.locator("[data-testid=metrics-q-error]")
    error.wait_for(state="visible")
    assert error.inner_text() == message
    assert page.get_attribute("#metrics-q", "aria-invalid") == "true"
    assert _row_names(page) == []
    assert "Fix the expression" in page.inner_text("#metrics-body")
    ui.shot("metrics-search-error")

    # Fixing it clears the error; going back brings the bad one (and its message) again.
    page.fill("#metrics-q", "mem*")
    page.press("#metrics-q", "Enter")
    error.wait_for(state="hidden")
    wait_js(page, "document.querySelectorAll('#metrics-body tr a').length === 1")
    assert _row_names(page) == ["what=mem_used.dc=east.host=web-1"]
    page.go_back()
    error.wait_for(state="visible")
    assert page.input_value("#metrics-q") == bad
    page.click("#metrics-search-clear")
    wait_js(page, "document.querySelectorAll('#metrics-body tr').length === 25")
    assert _query(page) == {}
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_metric_page_draws_the_series_switches_resolution_and_zooms(ui, api):
    seeded = _seed_metrics(api, "Chart Inc")
    account = seeded.account
    metric_id = _metric_id(api, account, "what=cpu_user AND host=web-1")
    day = (seeded.last + 1 - 86400, seeded.last + 1)  # the default: a day to the newest point
    hourly = _wait_for_rollup(api, account, metric_id, "1h", day, CPU_POINTS)
    page = ui.page
    ui.login_as(account, "/metrics/explore")
    page.click(f"[data-testid=metric-link-{metric_id}]")
    page.wait_for_url(f"{ui.base_url}/metrics/explore/{metric_id}")
    page.wait_for_selector("body[data-ready=true]")
    chart = page.locator("[data-testid=chart-svg]")

    assert page.inner_text("#metric-what") == "cpu_user"
    assert page.inner_text("#metric-name") == CPU_NAME
    assert page.inner_text("[data-testid=dimension-host]") == "web-1"
    # Every ingested point is drawn, at native resolution (auto's choice for 144 points).
    assert chart.get_attribute("data-points") == str(CPU_POINTS)
    assert chart.get_attribute("data-resolution") == "native"
    assert _drawn_points(page) == CPU_POINTS
    assert page.inner_text("[data-testid=series-resolution]") == "native"
    assert page.inner_text("[data-testid=series-count]") == str(CPU_POINTS)
    assert page.locator("[data-testid=chart-band]").count() == 0  # native has no min/max
    labels = page.locator("[data-testid=chart-svg] .axis text").all_text_contents()
    assert sum(bool(re.fullmatch(r"\d\d:\d\d", t)) for t in labels) >= 4, labels
    assert page.locator("[data-testid=range-24h][aria-pressed=true]").count() == 1
    assert page.locator("[data-testid=resolution-auto][aria-pressed=true]").count() == 1
    assert page.locator("[data-testid=zoom-reset]").is_hidden()
    ui.shot("metric")

    # Hourly rollups: the answer's buckets, with their min-max band.
    page.click("[data-testid=resolution-1h]")
    page.wait_for_selector("[data-testid=chart-svg][data-resolution='1h']")
    buckets = len(hourly["timestamps"])
    assert buckets in (24, 25)
    assert page.inner_text("[data-testid=series-resolution]") == "1h"
    assert chart.get_attribute("data-points") == str(buckets)
    # The newest hour, unless its last 10 minutes have arrived, is still filling: drawn
    # apart (dashed, hollow), not on the line of complete hours.
    partial = sum(1 for t in seeded.cpu_ts if t >= hourly["timestamps"][-1]) < 6
    assert hourly["partial"] is partial
    assert _drawn_points(page) == buckets - partial
    assert page.locator("[data-testid=chart-partial]").count() == int(partial)
    assert page.inner_text("[data-testid=series-count]") == str(buckets)
    assert f"({CPU_POINTS} samples)" in page.inner_text("#series-count-label")
    assert page.locator("[data-testid=chart-band]").count() == 1
    assert _query(page) == {"resolution": ["1h"]}
    ui.shot("metric-1h")

    # Presets end at the newest point.
    page.click("[data-testid=resolution-auto]")
    page.wait_for_selector(
        f"[data-testid=chart-svg][data-resolution=native][data-points='{CPU_POINTS}']"
    )
    page.click("[data-testid=range-6h]")
    six = sum(1 for t in seeded.cpu_ts if day[1] - 6 * 3600 <= t < day[1])
    page.wait_for_selector(f"[data-testid=chart-svg][data-points='{six}']")
    assert _query(page) == {"range": ["6h"]}
    page.click("[data-testid=range-24h]")
    page.wait_for_selector(f"[data-testid=chart-svg][data-points='{CPU_POINTS}']")
    assert _query(page) == {}

    # Drag across the middle half of the chart: from/to land in the URL, fewer points show.
    box = page.locator("[data-testid=chart-overlay]").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, y, steps=8)
    page.mouse.up()
    page.wait_for_url(re.compile(r".*[?&]from=\d+&to=\d+$"))
    lo, hi = int(_query(page)["from"][0]), int(_query(page)["to"][0])
    assert day[0] < lo < hi < day[1]
    assert abs((hi - lo) - 43200) < 1200, (lo, hi)  # half of the day
    zoomed = sum(1 for t in seeded.cpu_ts if lo <= t < hi)
    assert 60 <= zoomed <= 80
    page.wait_for_selector(f"[data-testid=chart-svg][data-points='{zoomed}']")
    assert _drawn_points(page) == zoomed
    assert page.inner_text("[data-testid=series-count]") == str(zoomed)
    assert page.locator("[data-testid=zoom-reset]").is_visible()
    assert page.locator("#range-presets [aria-pressed=true]").count() == 0
    page.mouse.move(box["x"] + box["width"] * 0.5, y)  # a tooltip names the point
    tip = page.locator("#chart-tip")
    tip.wait_for(state="visible")
    assert re.search(r"\d", tip.inner_text())
    ui.shot("metric-zoomed")

    # Reset zoom goes back to the day; the browser's back button to the zoom.
    page.click("[data-testid=zoom-reset]")
    page.wait_for_selector(f"[data-testid=chart-svg][data-points='{CPU_POINTS}']")
    assert _query(page) == {}
    page.go_back()
    page.wait_for_selector(f"[data-testid=chart-svg][data-points='{zoomed}']")
    assert _query(page) == {"from": [str(lo)], "to": [str(hi)]}

    # The server's PNG of the same range, fetched with the token and shown from a blob.
    page.click("[data-testid=metric-png]")
    page.locator("[data-testid=png-dialog][open]").wait_for()
    wait_js(
        page,
        "() => { const i = document.querySelector('#png-image');"
        " return i.complete && i.naturalWidth === 1200; }",
    )
    assert page.get_attribute("#png-image", "src").startswith("blob:")
    assert any(f"/graph.png?from={lo}&to={hi}" in u for u in ui.requests)
    ui.shot("metric-png")
    page.click("#png-close")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_metric_page_explains_too_many_points_and_offers_coarser_resolutions(ui, api):
    account = signup(api, org="Busy Inc")
    key = make_key(api, account, ["ingest"])
    last = int(time.time()) // 60 * 60
    ts = [last - 8 * i for i in reversed(range(10_050))]  # 22 h, more than one answer holds
    for chunk in (ts[:5025], ts[5025:]):
        samples = [
            {"properties": {"what": "rps", "host": "web-1"}, "timestamp": t, "value": t // 60 % 17}
            for t in chunk
        ]
        assert _ingest(api, key, samples)["accepted"] == len(chunk)
    metric_id = _metric_id(api, account, "rps")
    day = (last + 1 - 86400, last + 1)
    r = _series(api, account, metric_id, resolution="native", **{"from": day[0], "to": day[1]})
    assert r.status_code == 422
    message = r.json()["error"]["message"]

    page = ui.page
    ui.login_as(account, f"/metrics/explore/{metric_id}?resolution=native")
    error = page.locator("[data-testid=chart-error]")
    assert error.is_visible()
    assert error.inner_text().startswith(message)
    assert "coarser resolution" in error.inner_text()
    assert page.locator("[data-testid=chart-svg]").count() == 0
    assert page.locator("[data-testid=series-count]").is_hidden()
    assert page.locator("[data-testid=suggest-5m]").is_visible()
    ui.shot("metric-too-many-points")

    five = _wait_for_rollup(api, account, metric_id, "5m", day, len(ts))
    page.click("[data-testid=suggest-5m]")
    page.wait_for_selector("[data-testid=chart-svg][data-resolution='5m']")
    assert error.is_hidden()
    assert _query(page) == {"resolution": ["5m"]}
    assert page.inner_text("[data-testid=series-resolution]") == "5m"
    # (a newest bucket still filling is drawn apart from the line)
    assert _drawn_points(page) == len(five["timestamps"]) - five["partial"]

    # auto picks a rollup by itself for this many points.
    page.click("[data-testid=resolution-auto]")
    page.wait_for_selector("[data-testid=chart-svg][data-resolution='1m']")
    minutes = _series(api, account, metric_id, **{"from": day[0], "to": day[1]}).json()
    assert minutes["resolution"] == "1m"
    assert page.inner_text("[data-testid=series-count]") == f"{len(minutes['timestamps']):,}"
    ui.assert_no_error_toast()
    ui.assert_only_local()


# --- anomalies ----------------------------------------------------------------------------

ANOMALY_POINTS = 1500  # one a minute: 25 hours
SPIKE_AT = 1300  # cpu on hosts a and b, together: one grouped anomaly, up
DIP_AT = 1100  # mem_free on host c: an anomaly of its own, down


@dataclass
class Detected:
    account: Account
    last: int
    """Newest timestamp (epoch s)."""
    cpu: dict
    """The grouped anomaly of cpu on hosts a and b, as the API lists it."""
    mem: dict


def _smooth(seed: int, level: float) -> np.ndarray:
    """A slow wave with a little noise, which the detector learns as normal."""
    rng = np.random.default_rng(seed)
    i = np.arange(ANOMALY_POINTS)
    return level + 2 * np.sin(2 * np.pi * i / 360) + 0.3 * rng.standard_normal(ANOMALY_POINTS)


def _anomalies(api, account, **params) -> list[dict]:
    r = api.get("/api/v1/anomalies", params=params, headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _seed_anomalies(api, org: str) -> Detected:
    """Points sent through the ingestion API; the live server's stream processor detects."""
    account = signup(api, org=org)
    key = make_key(api, account, ["ingest"], name="sender")
    last = int(time.time()) // 60 * 60
    ts = [last - 60 * (ANOMALY_POINTS - 1 - i) for i in range(ANOMALY_POINTS)]
    series = {}
    for what, host, seed, level, at, jump in (
        ("cpu", "a", 1, 50.0, SPIKE_AT, 12.0),
        ("cpu", "b", 2, 40.0, SPIKE_AT, 10.0),
        ("mem_free", "c", 3, 30.0, DIP_AT, -6.0),
    ):
        y = _smooth(seed, level)
        y[at] += jump
        series[(what, host)] = y
    samples = [
        {"properties": {"what": what, "host": host}, "timestamp": t, "value": round(float(v), 4)}
        for (what, host), y in series.items()
        for t, v in zip(ts, y, strict=True)
    ]
    assert _ingest(api, key, samples)["accepted"] == len(samples)

    # Detection runs in the stream processor, next to the API: wait until every point is
    # scored and both anomalies are over.
    ids = {host: _metric_id(api, account, f"host={host}") for host in ("a", "b", "c")}
    deadline = time.monotonic() + 90
    while True:
        scored = all(
            (
                _series(api, account, mid, resolution="native", **{"from": last, "to": last + 1})
                .json()
                .get("scores")
                or [None]
            )[-1]
            is not None
            for mid in ids.values()
        )
        found = _anomalies(api, account, limit=100)
        if scored and len(found) == 2 and all(a["state"] == "closed" for a in found):
            break
        assert time.monotonic() < deadline, f"scored: {scored}, anomalies: {found}"
        time.sleep(0.25)
    by_what = {a["what"]: a for a in found}
    assert set(by_what) == {"cpu", "mem_free"}, found
    cpu, mem = by_what["cpu"], by_what["mem_free"]
    assert cpu["metric_count"] == 2 and cpu["direction"] == "up" and cpu["start"] == ts[SPIKE_AT]
    assert {m["dimensions"]["host"] for m in cpu["metrics"]} == {"a", "b"}
    assert mem["metric_count"] == 1 and mem["direction"] == "down" and mem["start"] == ts[DIP_AT]
    # The filters below split them by score too.
    assert cpu["score"] >= 90 > mem["score"], (cpu["score"], mem["score"])
    return Detected(account, last, cpu, mem)


def _anomaly_rows(page) -> list[int]:
    return [
        int(x)
        for x in page.locator("#anomalies-body tr[data-anomaly-id]").evaluate_all(
            "rows => rows.map(r => r.dataset.anomalyId)"
        )
    ]


def _wait_rows(page, ids: list[int]):
    wait_js(
        page,
        "ids => JSON.stringify([...document.querySelectorAll('#anomalies-body tr')]"
        ".map(r => Number(r.dataset.anomalyId || 0)).filter(Boolean)) === JSON.stringify(ids)",
        arg=ids,
    )


def test_anomalies_list_shows_the_grouped_anomaly_and_filters_it(ui, api):
    seeded = _seed_anomalies(api, "Anomalies Inc")
    cpu, mem = seeded.cpu, seeded.mem
    account = seeded.account
    page = ui.page
    ui.login_as(account, "/metrics/explore")
    assert page.locator("[data-testid=nav-anomalies] .nav-soon").count() == 0
    page.click("[data-testid=nav-anomalies]")
    page.wait_for_url(ui.base_url + "/anomalies")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("[data-testid=nav-anomalies].active").count() == 1
    assert page.locator("[data-testid=not-available]").count() == 0

    # Counts and list as the API answers them: newest first.
    assert page.inner_text("#stat-anomalies") == "2"
    assert page.inner_text("#stat-open") == "0"
    assert page.inner_text("#stat-closed") == "2"
    assert (
        _anomaly_rows(page) == [a["id"] for a in _anomalies(api, account)] == [cpu["id"], mem["id"]]
    )
    assert page.locator("[data-testid=range-all][aria-pressed=true]").count() == 1

    # The grouped anomaly: its two metrics, the API's score, and the rest of its fields.
    row = page.locator(f"[data-testid=anomaly-row-{cpu['id']}]")
    score = row.locator(f"[data-testid=anomaly-score-{cpu['id']}]")
    assert score.inner_text() == str(round(cpu["score"]))
    assert float(score.get_attribute("data-score")) == cpu["score"]
    assert row.locator(f"[data-testid=anomaly-link-{cpu['id']}]").inner_text() == "cpu"
    assert row.locator(f"[data-testid=anomaly-link-{cpu['id']}]").get_attribute("href") == (
        f"/anomalies/{cpu['id']}"
    )
    metrics = row.locator(f"[data-testid=anomaly-metrics-{cpu['id']}]")
    assert "2 metrics" in metrics.inner_text()
    assert sorted(metrics.locator(".dim").all_inner_texts()) == ["host=a", "host=b"]
    assert row.locator(f"[data-testid=anomaly-direction-{cpu['id']}]").inner_text() == "↑"
    assert row.locator(f"[data-testid=anomaly-state-{cpu['id']}]").inner_text() == "closed"
    assert row.locator(f"[data-testid=anomaly-timescale-{cpu['id']}]").inner_text() == "native"
    assert cpu["duration"] == 60
    assert row.locator(f"[data-testid=anomaly-duration-{cpu['id']}]").inner_text() == "1 min"
    assert row.locator(".badge", has_text="transient").count() == 1
    delta = row.locator(f"[data-testid=anomaly-delta-{cpu['id']}]").inner_text()
    assert re.fullmatch(r"\+[\d.,]+ \(\+[\d.,]+ %\)", delta), delta
    assert f"{cpu['delta_pct']:.1f}" in delta.replace(",", "")
    assert (
        row.locator("time")
        .get_attribute("datetime")
        .startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(cpu["start"])))
    )
    mem_row = page.locator(f"[data-testid=anomaly-row-{mem['id']}]")
    assert mem_row.locator(f"[data-testid=anomaly-direction-{mem['id']}]").inner_text() == "↓"
    assert "1 metric" in mem_row.locator(f"[data-testid=anomaly-metrics-{mem['id']}]").inner_text()

    # Sparklines: the strongest metric's points around the anomaly, with its band.
    spark = page.locator(f"[data-testid=sparkline-{cpu['id']}]")
    spark.wait_for()
    strongest = cpu["metrics"][0]
    around = _series(
        api,
        account,
        strongest["metric_id"],
        resolution="native",
        **{"from": strongest["start"] - 30 * 60, "to": strongest["end"] + 30 * 60 + 1},
    ).json()
    assert int(spark.get_attribute("data-points")) == len(around["timestamps"]) == 61
    assert spark.locator("path.learned-band").count() == 1
    assert spark.locator("rect.anomaly-span").count() == 1
    page.locator(f"[data-testid=sparkline-{mem['id']}]").wait_for()
    ui.shot("anomalies")

    # Filters change the list, the counts and the URL.
    page.select_option("[data-testid=filter-direction]", "down")
    _wait_rows(page, [mem["id"]])
    assert _query(page) == {"direction": ["down"]}
    assert page.inner_text("#stat-anomalies") == "1"
    page.select_option("[data-testid=filter-direction]", "up")
    _wait_rows(page, [cpu["id"]])
    page.select_option("[data-testid=filter-direction]", "")
    _wait_rows(page, [cpu["id"], mem["id"]])
    assert _query(page) == {}

    page.select_option("[data-testid=filter-min-score]", "90")
    _wait_rows(page, [cpu["id"]])
    assert _query(page) == {"min_score": ["90"]}
    assert [a["id"] for a in _anomalies(api, account, min_score=90)] == [cpu["id"]]
    page.select_option("[data-testid=filter-min-score]", "")
    _wait_rows(page, [cpu["id"], mem["id"]])

    page.fill("[data-testid=anomalies-q]", "host=a")
    page.press("[data-testid=anomalies-q]", "Enter")
    _wait_rows(page, [cpu["id"]])
    assert _query(page) == {"q": ["host=a"]}
    page.fill("[data-testid=anomalies-q]", "host=c")
    page.click("[data-testid=anomalies-search]")
    _wait_rows(page, [mem["id"]])
    assert _query(page) == {"q": ["host=c"]}

    # A bad expression shows the API's message where it was typed.
    page.fill("[data-testid=anomalies-q]", "host=(a")
    page.press("[data-testid=anomalies-q]", "Enter")
    error = page.locator("[data-testid=anomalies-q-error]")
    error.wait_for(state="visible")
    assert error.inner_text().startswith("Invalid metric expression:")
    assert _anomaly_rows(page) == []
    page.fill("[data-testid=anomalies-q]", "")
    page.press("[data-testid=anomalies-q]", "Enter")
    error.wait_for(state="hidden")
    _wait_rows(page, [cpu["id"], mem["id"]])

    # Both are over: none is open. The state, sort and range live in the URL too.
    page.select_option("[data-testid=filter-state]", "open")
    page.locator("#anomalies-body", has_text="No anomaly matches these filters.").wait_for()
    assert page.inner_text("#stat-anomalies") == "0"
    page.select_option("[data-testid=filter-state]", "closed")
    _wait_rows(page, [cpu["id"], mem["id"]])
    page.select_option("[data-testid=anomalies-sort]", "start")
    _wait_rows(page, [mem["id"], cpu["id"]])
    page.click("[data-testid=range-24h]")
    wait_js(page, "location.search.includes('range=24h')")
    _wait_rows(page, [mem["id"], cpu["id"]])
    assert _query(page) == {"range": ["24h"], "state": ["closed"], "sort": ["start"]}
    ui.shot("anomalies-filtered")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.input_value("[data-testid=filter-state]") == "closed"
    assert page.input_value("[data-testid=anomalies-sort]") == "start"
    assert page.locator("[data-testid=range-24h][aria-pressed=true]").count() == 1
    _wait_rows(page, [mem["id"], cpu["id"]])
    page.click("[data-testid=anomalies-reset]")
    _wait_rows(page, [mem["id"], cpu["id"]])  # the sort is not a filter
    assert _query(page) == {"sort": ["start"]}

    # Each anomaly opens its page.
    page.click(f"[data-testid=anomaly-link-{cpu['id']}]")
    page.wait_for_url(f"{ui.base_url}/anomalies/{cpu['id']}")
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text("[data-testid=anomaly-what]") == "cpu"
    ui.assert_no_error_toast()
    ui.assert_only_local()


def _drawn(chart) -> int:
    return len(re.findall(r"[ML]", chart.locator("[data-testid=chart-line]").get_attribute("d")))


def test_anomaly_page_draws_each_metric_with_its_band(ui, api):
    seeded = _seed_anomalies(api, "Anomaly Page Inc")
    cpu = seeded.cpu
    account = seeded.account
    detail = api.get(f"/api/v1/anomalies/{cpu['id']}", headers=account.headers).json()
    page = ui.page
    ui.login_as(account, f"/anomalies/{cpu['id']}")
    assert page.locator("[data-testid=nav-anomalies].active").count() == 1
    assert page.inner_text("[data-testid=anomaly-what]") == "cpu"
    assert page.inner_text("[data-testid=anomaly-score]") == str(round(cpu["score"]))
    assert page.inner_text("[data-testid=anomaly-state]") == "closed"
    assert page.inner_text("[data-testid=fact-duration]") == "1 min"
    assert page.inner_text("[data-testid=fact-timescale]") == "native"
    assert page.inner_text("[data-testid=fact-metrics]") == "2"
    assert "transient" in page.inner_text("[data-testid=fact-type]")
    assert "2 metrics of cpu went up" in page.inner_text("[data-testid=anomaly-summary]")

    # Its metrics, strongest first, each linking to the metric.
    links = page.locator("#anomaly-metrics-body a")
    assert links.all_inner_texts() == [m["name"] for m in detail["metrics"]]
    assert [links.nth(i).get_attribute("href") for i in range(2)] == [
        f"/metrics/explore/{m['metric_id']}" for m in detail["metrics"]
    ]

    # One chart per metric: every point of the API's series, the learned band, the
    # anomalous interval shaded and the peak marked.
    assert len(detail["series"]) == 2
    assert page.locator("#anomaly-charts [data-testid=chart-svg]").count() == 2
    for s in detail["series"]:
        m = next(m for m in detail["metrics"] if m["metric_id"] == s["metric_id"])
        card = page.locator(f"[data-testid=anomaly-chart-{s['metric_id']}]")
        chart = card.locator("[data-testid=chart-svg]")
        n = len(s["timestamps"])
        assert n == 121  # 60 points either side
        assert chart.get_attribute("data-points") == str(n)
        assert chart.get_attribute("data-learned") == "true"
        assert _drawn(card) == n
        with_band = sum(
            lo is not None and hi is not None for lo, hi in zip(s["lower"], s["upper"], strict=True)
        )
        assert card.locator("[data-testid=chart-learned-band]").get_attribute("data-points") == str(
            with_band
        )
        assert with_band == n
        shaded = card.locator("[data-testid=chart-anomaly]")
        assert shaded.count() == 1
        assert float(shaded.get_attribute("data-start")) == m["start"] == cpu["start"]
        peak = card.locator("[data-testid=chart-peak]")
        assert float(peak.get_attribute("data-ts")) == m["peak_ts"]
        # The peak is drawn inside the shaded interval, above the band.
        sbox, pbox = shaded.bounding_box(), peak.bounding_box()
        assert sbox["x"] - 4 <= pbox["x"] + pbox["width"] / 2 <= sbox["x"] + sbox["width"] + 4
        band_top = card.locator("[data-testid=chart-learned-band]").bounding_box()["y"]
        assert pbox["y"] < band_top
        assert card.locator(".metric-name a").inner_text() == s["name"]
    chart = page.locator("#anomaly-charts [data-testid=chart-overlay]").first
    chart.scroll_into_view_if_needed()  # below the explanation: the mouse stays in view
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tip = page.locator("#anomaly-charts .chart-tip").first
    tip.wait_for(state="visible")
    assert "Anomaly" in tip.inner_text() and "normal" in tip.inner_text()
    ui.shot("anomaly")

    # "Open in explorer" shows the same points on the metric page.
    first = detail["series"][0]
    page.click(f"[data-testid=explore-{first['metric_id']}]")
    page.wait_for_url(
        re.compile(rf".*/metrics/explore/{first['metric_id']}\?from=\d+&to=\d+&resolution=native$")
    )
    page.wait_for_selector(f"[data-testid=chart-svg][data-points='{len(first['timestamps'])}']")
    assert page.locator("[data-testid=chart-learned-band]").count() == 1
    assert page.locator("[data-testid=chart-anomaly]").count() == 1
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_metric_page_shows_the_learned_band_and_opens_the_anomaly(ui, api):
    seeded = _seed_anomalies(api, "Band Inc")
    cpu = seeded.cpu
    account = seeded.account
    metric_id = _metric_id(api, account, "what=cpu AND host=a")
    day = (seeded.last + 1 - 86400, seeded.last + 1)
    answer = _series(api, account, metric_id, **{"from": day[0], "to": day[1]}).json()
    assert answer["resolution"] == "native" and len(answer["timestamps"]) == 1440
    assert [a["anomaly_id"] for a in answer["anomalies"]] == [cpu["id"]]
    page = ui.page
    ui.login_as(account, f"/metrics/explore/{metric_id}")
    chart = page.locator("[data-testid=chart-svg]")
    assert chart.get_attribute("data-points") == "1440"
    assert _drawn_points(page) == 1440
    band = page.locator("[data-testid=chart-learned-band]")
    with_band = sum(v is not None for v in answer["lower"])
    assert band.get_attribute("data-points") == str(with_band)
    assert with_band > 1400  # all but the first points, while it learns
    assert page.locator("[data-testid=chart-band]").count() == 0  # native: no min-max
    assert page.locator("[data-testid=legend-learned]").is_visible()
    assert page.locator("[data-testid=legend-anomaly]").is_visible()
    shaded = page.locator("[data-testid=chart-anomaly]")
    assert shaded.count() == 1
    assert shaded.get_attribute("data-anomaly-id") == str(cpu["id"])
    listed = page.locator(f"[data-testid=metric-anomaly-{cpu['id']}]")
    assert listed.get_attribute("href") == f"/anomalies/{cpu['id']}"
    assert listed.is_visible()
    peak = round(answer["anomalies"][0]["peak_score"])
    assert listed.locator(".score").inner_text() == str(peak)
    ui.shot("metric-anomaly")

    # Hovering the shaded interval says what it is; clicking it opens the anomaly.
    box = shaded.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tip = page.locator("#chart-tip")
    tip.wait_for(state="visible")
    assert f"Anomaly #{cpu['id']}" in tip.inner_text()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(f"{ui.base_url}/anomalies/{cpu['id']}")
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text("[data-testid=anomaly-what]") == "cpu"

    # Back on the metric: 5-minute rollups have no learned band (detection runs on native,
    # 1h and 1d), but still show the anomaly; the list under the chart leads to it too.
    page.go_back()
    page.wait_for_selector("body[data-ready=true]")
    bucket0 = day[0] // 300 * 300  # the first 5-minute bucket starts before the range
    _wait_for_rollup(api, account, metric_id, "5m", day, (seeded.last - bucket0) // 60 + 1)
    page.click("[data-testid=resolution-5m]")
    page.wait_for_selector("[data-testid=chart-svg][data-resolution='5m']")
    assert page.locator("[data-testid=chart-learned-band]").count() == 0
    assert page.locator("[data-testid=legend-learned]").is_hidden()
    assert page.locator("[data-testid=chart-band]").count() == 1
    assert page.locator("[data-testid=chart-anomaly]").count() == 1

    # Hourly rollups: detection runs there too, on the hours the data closed, so the band
    # is there once it has learned a few of them.
    hour0 = max(day[0] // 3600 * 3600, seeded.last - 60 * (ANOMALY_POINTS - 1))
    hourly = _wait_for_rollup(api, account, metric_id, "1h", day, (seeded.last - hour0) // 60 + 1)
    learned = sum(v is not None for v in hourly["lower"] or [])
    assert learned >= 6, hourly["lower"]
    page.click("[data-testid=resolution-1h]")
    page.wait_for_selector("[data-testid=chart-svg][data-resolution='1h']")
    assert page.get_attribute("[data-testid=chart-learned-band]", "data-points") == str(learned)
    assert page.locator("[data-testid=chart-band]").count() == 1
    assert page.locator("[data-testid=legend-learned]").is_visible()
    ui.shot("metric-anomaly-1h")

    page.click(f"[data-testid=metric-anomaly-{cpu['id']}]")
    page.wait_for_url(f"{ui.base_url}/anomalies/{cpu['id']}")
    page.wait_for_selector("body[data-ready=true]")

    # ... and to the list of this metric's anomalies.
    page.go_back()
    page.wait_for_selector("body[data-ready=true]")
    page.click("[data-testid=metric-anomalies-all]")
    page.wait_for_url(re.compile(r".*/anomalies\?q=.*"))
    page.wait_for_selector("body[data-ready=true]")
    assert _query(page) == {"q": ['what="cpu" AND host="a"']}
    assert page.input_value("[data-testid=anomalies-q]") == 'what="cpu" AND host="a"'
    _wait_rows(page, [cpu["id"]])
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_anomalies_section_before_any_anomaly_and_an_unknown_anomaly(ui, api):
    account = signup(api, org="Calm Inc")
    page = ui.page
    ui.login_as(account, "/anomalies")
    assert page.locator("#anomalies-empty").is_visible()
    assert page.locator("#anomalies-table").is_hidden()
    assert page.inner_text("#stat-anomalies") == "0"
    ui.shot("anomalies-empty")
    # Filters that match nothing say so, rather than "no anomalies yet".
    page.select_option("[data-testid=filter-direction]", "down")
    page.locator("#anomalies-body", has_text="No anomaly matches these filters.").wait_for()
    assert page.locator("#anomalies-empty").is_hidden()

    ui.goto("/anomalies/987654")
    assert "does not exist" in page.inner_text("[data-testid=anomaly-summary]")
    assert page.locator("#anomaly-root").is_hidden()
    ui.assert_no_error_toast()
    ui.assert_only_local()


# --- forecasts ----------------------------------------------------------------------------

HOUR = 3600
LOAD_DAYS = 21
HORIZON = 24
HOSTS = {"a": 1, "b": 2}  # host -> seed of its noise


def _daily(seed: int, n: int) -> np.ndarray:
    """A daily cycle with a little noise, hourly: what forecasting should pick up."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 20 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 2, n)


@dataclass
class Load:
    account: Account
    key: str
    ts: list[int]
    """21 days of hours, ending at the current hour."""
    values: dict[str, np.ndarray]
    metric_ids: dict[str, int]


def _send_load(api, load: Load, lo: int, hi: int):
    samples = [
        {"properties": {"what": "load", "host": host}, "timestamp": t, "value": round(float(v), 4)}
        for host, y in load.values.items()
        for t, v in zip(load.ts[lo:hi], y[lo:hi], strict=True)
    ]
    assert _ingest(api, load.key, samples)["accepted"] == len(samples)
    if not load.metric_ids:
        load.metric_ids = {
            h: _metric_id(api, load.account, f"what=load AND host={h}") for h in load.values
        }
    # Forecasts at 1h read the hourly rollups, which the stream processor keeps up.
    for mid in load.metric_ids.values():
        _wait_for_rollup(api, load.account, mid, "1h", (load.ts[0], load.ts[hi - 1] + 1), hi)


def _seed_load(api, org: str) -> Load:
    """Hourly load of hosts a and b sent through the ingestion API, but for the last day:
    the first forecast covers that day, and :func:`_send_load` sends it later to check it."""
    account = signup(api, org=org)
    key = make_key(api, account, ["ingest"], name="sender")
    hour = int(time.time()) // HOUR * HOUR
    n = 24 * LOAD_DAYS
    ts = [hour - HOUR * (n - 1 - i) for i in range(n)]
    values = {host: _daily(seed, n) for host, seed in HOSTS.items()}
    load = Load(account, key, ts, values, {})
    _send_load(api, load, 0, n - HORIZON)
    return load


def _points(d: str) -> list[tuple[float, float]]:
    """The points of an SVG path drawn with M and L only."""
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", d)]


def _hold_the_runner(api, account) -> list[int]:
    """Two long demo jobs take both runner slots (concurrency 2 in the tests), so what is
    queued next waits: a run stays pending for as long as the test needs to look at it."""
    ids = []
    for _ in range(2):
        r = api.post(
            "/api/v1/jobs",
            json={"type": "demo.work", "params": {"steps": 600, "step_seconds": 0.1}},
            headers=account.headers,
        )
        assert r.status_code in (201, 202), r.text
        ids.append(r.json()["id"])
    deadline = time.monotonic() + 30
    while not all(
        api.get(f"/api/v1/jobs/{i}", headers=account.headers).json()["status"] == "running"
        for i in ids
    ):
        assert time.monotonic() < deadline, "the demo jobs did not start"
        time.sleep(0.1)
    return ids


def _release_the_runner(api, account, ids: list[int]):
    for i in ids:
        assert api.post(f"/api/v1/jobs/{i}/abort", headers=account.headers).status_code == 200


def _forecast_results(api, account, task_id: int) -> dict:
    r = api.get(f"/api/v1/forecasts/{task_id}/results", headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _check_forecast_charts(page, results: dict, history: int):
    """Each metric's chart against the API's result: the forecast's points and bands, the
    history before it, the model, its reason and the candidates."""
    assert page.locator("#forecast-results [data-testid=chart-svg]").count() == len(
        results["results"]
    )
    for r in results["results"]:
        mid = r["metric_id"]
        assert r["status"] == "ok" and len(r["timestamps"]) == len(r["mean"]) == HORIZON
        card = page.locator(f"[data-testid=forecast-result-{mid}]")
        chart = card.locator("[data-testid=chart-svg]")
        chart.wait_for()
        assert card.locator(f"[data-testid=forecast-metric-{mid}]").inner_text() == r["name"]
        assert chart.get_attribute("data-points") == str(history)
        assert _drawn(card) == history
        assert chart.get_attribute("data-forecast-points") == str(HORIZON)
        assert chart.get_attribute("data-forecast-levels") == "95,80"
        origin = card.locator("[data-testid=chart-forecast-origin]")
        assert float(origin.get_attribute("data-ts")) == r["origin"]

        # The forecast line: one point per step, after the history, with its highest and
        # lowest points where the API's are (SVG y grows downwards).
        line = card.locator("[data-testid=chart-forecast-line]")
        assert line.get_attribute("data-points") == str(HORIZON)
        pts = _points(line.get_attribute("d"))
        assert len(pts) == HORIZON
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        assert xs == sorted(xs) and len(set(xs)) == HORIZON
        # Left of it, the three horizons of history up to the origin; over it, the actual
        # points that arrived since (if any), one at each forecast step.
        drawn = [x for x, _ in _points(card.locator("[data-testid=chart-line]").get_attribute("d"))]
        assert len([x for x in drawn if x < xs[0] - 0.5]) == 3 * HORIZON
        since = [x for x in drawn if x >= xs[0] - 0.5]
        assert len(since) == history - 3 * HORIZON
        assert all(min(abs(x - fx) for fx in xs) < 0.6 for x in since)
        assert ys[int(np.argmax(r["mean"]))] == pytest.approx(min(ys), abs=0.15)
        assert ys[int(np.argmin(r["mean"]))] == pytest.approx(max(ys), abs=0.15)

        # A band per level, the wider one drawn first, lighter, and around the narrower.
        bands = card.locator("[data-testid=chart-forecast-band]")
        assert bands.count() == 2 == len(r["lower"]) == len(r["upper"])
        assert [bands.nth(i).get_attribute("data-level") for i in range(2)] == ["95", "80"]
        assert all(bands.nth(i).get_attribute("data-points") == str(HORIZON) for i in range(2))
        wide, narrow = bands.nth(0), bands.nth(1)
        assert float(wide.get_attribute("fill-opacity")) < float(
            narrow.get_attribute("fill-opacity")
        )
        wb, nb = wide.bounding_box(), narrow.bounding_box()
        assert wb["y"] <= nb["y"] + 0.5
        assert wb["y"] + wb["height"] >= nb["y"] + nb["height"] - 0.5
        assert wb["height"] > nb["height"]

        # The model chosen, why, and every candidate's backtest error with the chosen one marked.
        assert card.locator(f"[data-testid=forecast-model-{mid}]").inner_text() == r["model"]
        assert r["reason"] in card.locator(f"[data-testid=forecast-reason-{mid}]").inner_text()
        rows = card.locator(f"[data-testid=candidate-{mid}]")
        names = rows.evaluate_all("rows => rows.map(r => r.dataset.name)")
        assert sorted(names) == sorted(r["candidates"]) and len(names) >= 3
        errors = [r["candidates"][n] for n in names]
        known = [e for e in errors if e is not None]
        assert known == sorted(known) and errors[: len(known)] == known  # best first
        chosen = card.locator(f"[data-testid=candidate-{mid}][data-chosen=true]")
        assert chosen.count() == 1 and chosen.get_attribute("data-name") == r["model"]
        assert "chosen" in chosen.inner_text()


def test_forecast_created_in_the_form_runs_and_draws_each_metric(ui, api):
    load = _seed_load(api, "Forecast Inc")
    account = load.account
    headers = account.headers
    page = ui.page
    ui.login_as(account, "/metrics/explore")
    page.click("[data-testid=nav-forecasts]")
    page.wait_for_url(ui.base_url + "/forecasts")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("[data-testid=nav-forecasts].active").count() == 1
    assert page.locator("[data-testid=forecasts-empty]").is_visible()
    assert page.locator("#forecasts-table").is_hidden()
    ui.shot("forecasts-empty")

    # The form shows the API's own message for a bad expression, and for one matching nothing.
    page.click("[data-testid=new-forecast]")
    page.locator("[data-testid=forecast-dialog][open]").wait_for()
    page.fill("[data-testid=fc-name]", "Load of the web hosts")
    error = page.locator("[data-testid=forecast-form-error]")
    for bad in ("host=(a", "what=nothing_here"):
        r = api.post(
            "/api/v1/forecasts",
            json={"name": "x", "expression": bad, "horizon": HORIZON},
            headers=headers,
        )
        assert r.status_code == 422
        message = r.json()["error"]["message"]
        page.fill("[data-testid=fc-expression]", bad)
        page.click("[data-testid=forecast-submit]")
        wait_js(
            page,
            "m => document.querySelector('[data-testid=forecast-form-error]').textContent === m",
            arg=message,
        )
        assert error.is_visible()
        assert page.get_attribute("[data-testid=fc-expression]", "aria-invalid") == "true"
    assert message == "No metric matches the expression."
    assert page.url == ui.base_url + "/forecasts"
    ui.shot("forecast-form-error")
    assert api.get("/api/v1/forecasts", headers=headers).json()["total"] == 0

    page.fill("[data-testid=fc-expression]", "what=load")
    page.fill("[data-testid=fc-horizon]", str(HORIZON))
    page.select_option("[data-testid=fc-resolution]", "1h")
    assert page.is_checked("[data-testid=fc-level-80]") and page.is_checked(
        "[data-testid=fc-level-95]"
    )
    assert not page.is_checked("[data-testid=fc-level-99]")
    assert page.inner_text("[data-testid=fc-horizon-hint]") == "24 steps of 1 h: 24 h ahead."
    ui.shot("forecast-form")
    page.click("[data-testid=forecast-submit]")
    page.wait_for_url(re.compile(r".*/forecasts/\d+$"))
    page.wait_for_selector("body[data-ready=true]")
    task_id = int(urlsplit(page.url).path.rsplit("/", 1)[1])
    task = api.get(f"/api/v1/forecasts/{task_id}", headers=headers).json()
    assert (task["name"], task["expression"], task["horizon"], task["resolution"]) == (
        "Load of the web hosts",
        "what=load",
        HORIZON,
        "1h",
    )
    assert task["levels"] == [80.0, 95.0] and task["every_minutes"] is None
    assert page.inner_text("[data-testid=forecast-name]") == "Load of the web hosts"
    assert page.locator("[data-testid=nav-forecasts].active").count() == 1

    # The job runner runs it; the page follows the run until it is complete.
    first_run = task["runs"][0]["id"]
    page.locator(f"[data-testid=run-row-{first_run}][data-status=complete]").wait_for(
        timeout=90_000
    )
    assert page.inner_text("[data-testid=forecast-status]") == "complete"
    results = _forecast_results(api, account, task_id)
    assert results["run"]["id"] == first_run
    assert {r["metric_id"] for r in results["results"]} == set(load.metric_ids.values())
    wait_js(
        page, "document.querySelectorAll('#forecast-results [data-testid=chart-svg]').length === 2"
    )
    # History: the last three horizons up to the forecast's origin, at 1h.
    _check_forecast_charts(page, results, history=3 * HORIZON)
    assert results["results"][0]["origin"] == load.ts[-HORIZON - 1]
    accuracy = api.get(f"/api/v1/forecasts/{task_id}/accuracy", headers=headers).json()
    assert [a["points"] for a in accuracy] == [0, 0]
    for mid in load.metric_ids.values():
        assert "No past forecast to check yet" in page.inner_text(f"[data-testid=accuracy-{mid}]")
    assert f"From run #{first_run}" in page.inner_text("[data-testid=results-caption]")

    # Hovering the forecast part tells its value and intervals.
    first = results["results"][0]
    card = page.locator(f"[data-testid=forecast-result-{first['metric_id']}]")
    box = card.locator("[data-testid=chart-overlay]").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    tip = card.locator(".chart-tip")
    tip.wait_for(state="visible")
    assert "forecast" in tip.inner_text()
    tip_text = tip.inner_text().replace("\xa0", " ")
    assert "80 %:" in tip_text and "95 %:" in tip_text
    page.mouse.move(0, 0)
    ui.shot("forecast")

    # The list shows the task with its settings and how its run ended.
    page.click("[data-testid=nav-forecasts]")
    page.wait_for_url(ui.base_url + "/forecasts")
    page.wait_for_selector("body[data-ready=true]")
    row = page.locator(f"[data-testid=forecast-row-{task_id}]")
    assert page.locator("#forecasts-body tr").count() == 1
    assert row.locator(f"[data-testid=forecast-link-{task_id}]").inner_text() == task["name"]
    assert page.inner_text(f"[data-testid=forecast-expression-{task_id}]") == "what=load"
    assert page.inner_text(f"[data-testid=forecast-horizon-{task_id}]") == "24 × 1h"
    levels = row.locator(f"[data-testid=forecast-levels-{task_id}] .badge").all_inner_texts()
    assert [t.replace("\xa0", " ") for t in levels] == ["80 %", "95 %"]
    assert page.inner_text(f"[data-testid=forecast-schedule-{task_id}]") == "once"
    assert page.inner_text(f"[data-testid=forecast-status-{task_id}]") == "complete"
    assert page.inner_text(f"[data-testid=forecast-outcome-{task_id}]") == "2 metrics"
    ui.shot("forecasts")

    # The day that was forecast arrives: accuracy compares it with what was forecast, and
    # the chart shows it over the forecast.
    _send_load(api, load, len(load.ts) - HORIZON, len(load.ts))
    accuracy = {
        a["metric_id"]: a
        for a in api.get(f"/api/v1/forecasts/{task_id}/accuracy", headers=headers).json()
    }
    page.click(f"[data-testid=forecast-link-{task_id}]")
    page.wait_for_url(f"{ui.base_url}/forecasts/{task_id}")
    page.wait_for_selector("body[data-ready=true]")
    _check_forecast_charts(page, results, history=4 * HORIZON)
    for mid, acc in accuracy.items():
        assert acc["points"] == HORIZON and acc["runs_evaluated"] == 1
        assert acc["smape"] < 10 and set(acc["coverage"]) == {"80", "95"}

        def shown(testid: str) -> float:
            text = page.inner_text(f"[data-testid={testid}]")
            return float(text.replace("\xa0", " ").rstrip(" %").replace(",", ""))

        assert shown(f"accuracy-smape-{mid}") == pytest.approx(acc["smape"], abs=0.0051)
        assert shown(f"accuracy-mase-{mid}") == pytest.approx(acc["mase"], abs=0.00051)
        for level in ("80", "95"):
            assert shown(f"accuracy-coverage-{mid}-{level}") == pytest.approx(
                acc["coverage"][level], abs=0.051
            )
        assert page.inner_text(f"[data-testid=accuracy-points-{mid}]") == "24 points, 1 run"
    ui.shot("forecast-accuracy")

    # "Run now" while a run started elsewhere (here: the API) is still queued: the API's
    # conflict message, then the page shows that run and holds the button while it goes.
    run_button = page.locator("[data-testid=forecast-run]")
    assert run_button.is_enabled()
    held = _hold_the_runner(api, account)
    r = api.post(f"/api/v1/forecasts/{task_id}/run", headers=headers)
    assert r.status_code == 202
    second_run = r.json()["id"]
    conflict = api.post(f"/api/v1/forecasts/{task_id}/run", headers=headers)
    assert conflict.status_code == 409
    run_button.click()
    toast = ui.toast(conflict.json()["error"]["message"])
    page.locator(f"[data-testid=run-row-{second_run}][data-status=pending]").wait_for()
    assert page.locator("#runs-body tr").count() == 2
    assert run_button.is_disabled()
    assert "wait for it to finish" in run_button.get_attribute("title")
    assert page.locator(f"[data-testid=run-progress-{second_run}]").is_visible()
    assert "waiting for a runner" in page.inner_text(f"[data-testid=run-row-{second_run}]")
    ui.shot("forecast-run-conflict")
    toast.locator(".toast-close").click()
    _release_the_runner(api, account, held)
    page.locator(f"[data-testid=run-row-{second_run}][data-status=complete]").wait_for(
        timeout=90_000
    )
    wait_js(page, "!document.querySelector('[data-testid=forecast-run]').disabled")
    wait_js(
        page,
        "id => document.querySelector('[data-testid=results-caption]').textContent"
        ".startsWith('From run #' + id)",
        arg=second_run,
    )

    # "Run now" queues a run: the runs table grows; the list follows it live too.
    held = _hold_the_runner(api, account)
    run_button.click()
    ui.toast("queued.")
    wait_js(page, "document.querySelectorAll('#runs-body tr').length === 3")
    third_run = api.get(f"/api/v1/forecasts/{task_id}", headers=headers).json()["runs"][0]
    assert third_run["id"] > second_run and third_run["status"] == "pending"
    page.locator(f"[data-testid=run-row-{third_run['id']}][data-status=pending]").wait_for()
    assert run_button.is_disabled()
    page.click("[data-testid=nav-forecasts]")
    page.wait_for_url(ui.base_url + "/forecasts")
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text(f"[data-testid=forecast-status-{task_id}]") == "pending"
    assert page.locator(f"[data-testid=forecast-progress-{task_id}]").is_visible()
    assert page.locator("#forecasts-live").is_visible()
    ui.shot("forecasts-running")
    _release_the_runner(api, account, held)
    page.locator(f"[data-testid=forecast-status-{task_id}]", has_text="complete").wait_for(
        timeout=90_000
    )
    assert page.locator("#forecasts-live").is_hidden()

    # The newest run forecasts from the day that arrived, the current hour.
    page.click(f"[data-testid=forecast-link-{task_id}]")
    page.wait_for_url(f"{ui.base_url}/forecasts/{task_id}")
    page.wait_for_selector("body[data-ready=true]")
    results = _forecast_results(api, account, task_id)
    assert results["run"]["id"] == third_run["id"]
    assert results["results"][0]["origin"] == load.ts[-1]
    _check_forecast_charts(page, results, history=3 * HORIZON)
    assert page.locator("#runs-body tr").count() == 3

    # Delete, once confirmed, goes back to the list, empty again.
    page.click("[data-testid=forecast-delete]")
    page.wait_for_url(ui.base_url + "/forecasts")
    page.wait_for_selector("body[data-ready=true]")
    page.locator("[data-testid=forecasts-empty]").wait_for()
    assert api.get(f"/api/v1/forecasts/{task_id}", headers=headers).status_code == 404
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_metric_forecast_button_prefills_the_form_and_a_short_metric_says_why(ui, api):
    account = signup(api, org="Short Inc")
    key = make_key(api, account, ["ingest"])
    last = int(time.time()) // 60 * 60
    samples = [
        {"properties": {"what": "cpu", "host": host}, "timestamp": last - 60 * i, "value": 40 + i}
        for host in ("a", "b")
        for i in range(5)
    ]
    assert _ingest(api, key, samples)["accepted"] == 10
    metric_id = _metric_id(api, account, "what=cpu AND host=a")
    page = ui.page
    ui.login_as(account, f"/metrics/explore/{metric_id}")
    button = page.locator("[data-testid=metric-forecast]")
    assert parse_qs(urlsplit(button.get_attribute("href")).query) == {
        "new": ["1"],
        "expression": ['what="cpu" AND host="a"'],
        "name": ["cpu on host=a"],
    }
    button.click()
    page.locator("[data-testid=forecast-dialog][open]").wait_for()
    assert page.input_value("[data-testid=fc-expression]") == 'what="cpu" AND host="a"'
    assert page.input_value("[data-testid=fc-name]") == "cpu on host=a"
    assert page.url == ui.base_url + "/forecasts"  # read once: a reload does not reopen it
    ui.shot("forecast-form-prefilled")

    page.select_option("[data-testid=fc-resolution]", "native")
    page.click("[data-testid=forecast-submit]")
    page.wait_for_url(re.compile(r".*/forecasts/\d+$"))
    page.wait_for_selector("body[data-ready=true]")
    task_id = int(urlsplit(page.url).path.rsplit("/", 1)[1])
    card = page.locator(f"[data-testid=forecast-result-{metric_id}]")
    card.wait_for(timeout=90_000)
    results = _forecast_results(api, account, task_id)
    (result,) = results["results"]
    assert result["metric_id"] == metric_id and result["status"] == "too_short"
    assert card.get_attribute("data-status") == "too_short"
    assert page.inner_text(f"[data-testid=result-status-{metric_id}]") == "too short"
    assert page.inner_text(f"[data-testid=result-message-{metric_id}]") == result["message"]
    assert "needs at least 8" in result["message"]
    assert card.locator("[data-testid=chart-svg]").count() == 0
    run = results["run"]
    assert (run["metrics"], run["failed_metrics"]) == (1, 1)
    assert "1 metric, 1 not forecast" in page.inner_text("[data-testid=results-caption]")
    ui.shot("forecast-too-short")
    ui.assert_no_error_toast()
    ui.assert_only_local()


# --- alerts ------------------------------------------------------------------------------


@pytest.fixture
def receiver():
    """A real HTTP endpoint on loopback that records what the alert channels send it."""
    r = Receiver()
    yield r
    r.close()


def _api(api, account: Account, method: str, path: str, **kw):
    r = api.request(method, f"/api/v1{path}", headers=account.headers, **kw)
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def _wait_until(what: str, check, timeout: float = 60):
    """Poll ``check`` until it answers something truthy; that answer is returned."""
    deadline = time.monotonic() + timeout
    while True:
        out = check()
        if out:
            return out
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_alerts_channel_created_in_the_form_sends_a_test(ui, api, receiver):
    account = signup(api, org="Channels Inc")
    page = ui.page
    ui.login_as(account, "/")
    assert page.locator("[data-testid=nav-alerts] .nav-soon").count() == 0
    page.click("[data-testid=nav-alerts]")
    page.wait_for_url(ui.base_url + "/alerts")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("[data-testid=nav-alerts].active").count() == 1
    assert page.locator("[data-testid=triggered-empty]").is_visible()
    page.click("[data-testid=tab-channels]")
    assert _query(page) == {"tab": ["channels"]}
    assert page.locator("[data-testid=channels-empty]").is_visible()

    # The form asks for what each type needs: a URL for a webhook.
    page.fill("[data-testid=ch-name]", "ops <hook>")
    page.click("[data-testid=channel-submit]")
    assert "Give the URL" in page.inner_text("[data-testid=channel-form-error]")
    page.select_option("[data-testid=ch-type]", "email")
    assert page.locator("[data-testid=ch-email-to]").is_visible()
    assert page.locator("[data-testid=ch-webhook-url]").is_hidden()
    page.select_option("[data-testid=ch-type]", "webhook")
    page.fill("[data-testid=ch-webhook-url]", "not a url")
    page.click("[data-testid=channel-submit]")
    error = page.locator("[data-testid=channel-form-error]")
    wait_js(page, "el => el.textContent.includes('url')", arg=error.element_handle())
    assert "Invalid webhook channel" in error.inner_text()  # the API's own message

    page.fill("[data-testid=ch-webhook-url]", receiver.url + "/hook")
    page.fill("[data-testid=ch-webhook-headers]", "X-Team: ops")
    page.click("[data-testid=channel-submit]")
    ui.toast("Channel \u201cops <hook>\u201d added.")
    assert error.is_hidden()
    (channel,) = _api(api, account, "GET", "/channels")["items"]
    assert channel["type"] == "webhook" and channel["name"] == "ops <hook>"
    assert channel["config"]["url"] == receiver.url + "/hook"
    assert channel["config"]["headers"] == {"X-Team": "ops…"}  # masked as the API shows it
    # The signing secret is shown once, in full; the list shows it masked afterwards.
    secret = page.inner_text("[data-testid=channel-secret]")
    assert len(secret) > 8 and channel["config"]["secret"] == secret[:4] + "…"
    row = page.locator(f"[data-testid=channel-row-{channel['id']}]")
    assert "ops <hook>" in row.inner_text()  # user text shown as text, not HTML
    assert row.locator("code.url").inner_text() == receiver.url + "/hook"
    assert page.inner_text("[data-testid=stat-channels]") == "1"

    # Send test: the outcome shows in the row, and the receiver got the sample alert.
    page.click(f"[data-testid=channel-test-{channel['id']}]")
    status = page.locator(f"[data-testid=channel-test-status-{channel['id']}]")
    status.wait_for()
    assert status.inner_text() == "sent"
    assert "HTTP 200" in page.inner_text(f"[data-testid=channel-test-result-{channel['id']}]")
    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    assert sent["path"] == "/hook" and sent["headers"]["x-team"] == "ops"
    assert receiver.json(0)["event"] == "test"
    # The row's delivery count is fetched again after the test; wait for it.
    expect(page.locator(f"[data-testid=channel-deliveries-{channel['id']}]")).to_contain_text(
        "1 sent"
    )

    # A failing endpoint: the test says so, with the answer it got.
    receiver.answers.append((500, 0.0))
    page.click(f"[data-testid=channel-test-{channel['id']}]")
    wait_js(
        page,
        "id => document.querySelector(`[data-testid=channel-test-status-${id}]`)"
        "?.textContent === 'failed'",
        arg=channel["id"],
    )
    assert "HTTP 500" in page.inner_text(f"[data-testid=channel-test-result-{channel['id']}]")
    assert len(receiver.requests) == 2

    # The delivery log, newest first, opens under the row.
    page.click(f"[data-testid=channel-log-toggle-{channel['id']}]")
    log = page.locator(f"[data-testid=channel-log-{channel['id']}]")
    log.locator("tbody tr").nth(1).wait_for()
    rows = _api(api, account, "GET", f"/channels/{channel['id']}/deliveries")["items"]
    assert [(d["event"], d["status"], d["status_code"]) for d in rows] == [
        ("test", "failed", 500),
        ("test", "sent", 200),
    ]
    assert [log.locator(f"[data-testid=delivery-status-{d['id']}]").inner_text() for d in rows] == [
        "failed",
        "sent",
    ]
    assert log.locator(f"[data-testid=delivery-retry-{rows[0]['id']}]").is_visible()
    ui.shot("alerts-channels")
    ui.assert_only_local()


def _preview(api, account, **body) -> dict:
    return _api(api, account, "POST", "/alerts/preview", json={"title": "t", **body})


def _fired(page) -> int:
    """The count the preview shows, once no preview is pending."""
    wait_js(
        page,
        "() => document.querySelector('#preview-busy').hidden"
        " && document.querySelector('[data-testid=preview]').dataset.fired !== ''",
    )
    return int(page.get_attribute("[data-testid=preview]", "data-fired"))


def test_alerts_form_previews_on_stored_anomalies_then_creates_and_edits(ui, api):
    seeded = _seed_anomalies(api, "Alert Form Inc")
    account = seeded.account
    cpu = seeded.cpu
    assert cpu["score"] < 100  # so that a minimum score of 100 lets nothing through
    hook = _api(
        api,
        account,
        "POST",
        "/channels",
        json={"name": "ops", "type": "webhook", "config": {"url": "http://127.0.0.1:9/x"}},
    )
    page = ui.page
    ui.login_as(account, "/alerts?tab=configs")
    assert page.locator("[data-testid=configs-empty]").is_visible()
    page.click("[data-testid=new-alert]")
    page.wait_for_url(ui.base_url + "/alerts/new")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("[data-testid=nav-alerts].active").count() == 1

    # The preview runs at once on the defaults (every metric, score >= 70) ...
    expected = _preview(api, account, conditions={"min_score": 70})["fired"]
    assert expected >= 1
    assert _fired(page) == expected

    # ... and again as the form changes, a moment after the typing stops.
    page.fill("[data-testid=af-title]", "CPU of {{host}} <is off>")
    page.fill("[data-testid=af-expression]", "what=cpu")
    page.fill("[data-testid=af-min-score]", "50")
    wait_js(
        page,
        "() => document.querySelector('[data-testid=preview-facts]').textContent"
        ".startsWith('2 metrics match')",
    )
    fired = _fired(page)
    assert (
        fired
        == _preview(api, account, expression="what=cpu", conditions={"min_score": 50})["fired"]
    )
    assert fired >= 1
    text = page.inner_text("[data-testid=preview-text]")
    assert (
        text == f"This would have fired {fired} time{'s' if fired > 1 else ''} in the last 7 days."
    )
    assert page.locator("[data-testid=preview-list] li").count() == fired
    assert page.locator("[data-testid=preview-trigger-0] .score").inner_text() == str(
        round(cpu["score"])
    )

    page.fill("[data-testid=af-min-score]", "100")
    wait_js(page, "() => document.querySelector('[data-testid=preview]').dataset.fired === '0'")
    assert page.inner_text("[data-testid=preview-fired]") == "0"
    assert "would not have fired" in page.inner_text("[data-testid=preview-text]")
    assert page.locator("[data-testid=preview-list] li").count() == 0

    # One alert per host: the preview splits the grouped anomaly.
    page.fill("[data-testid=af-min-score]", "50")
    page.fill("[data-testid=af-group-by]", "host")
    wait_js(
        page,
        "() => document.querySelector('[data-testid=preview-list]').textContent.includes('host=')",
    )
    by_host = _preview(
        api, account, expression="what=cpu", group_by=["host"], conditions={"min_score": 50}
    )
    assert _fired(page) == by_host["fired"] == 2

    # A bad expression: the API's message, in the preview.
    page.fill("[data-testid=af-expression]", "what=(cpu")
    page.locator("[data-testid=preview-error]").wait_for()
    assert page.inner_text("[data-testid=preview-fired]") == "–"
    page.fill("[data-testid=af-expression]", "what=cpu")
    page.locator("[data-testid=preview-error]").wait_for(state="hidden")

    # A threshold alert needs a bound before it can be previewed.
    page.click("[data-testid=af-type-static]")
    assert page.locator("[data-testid=af-above]").is_visible()
    assert page.locator("[data-testid=af-min-score]").is_hidden()
    wait_js(
        page,
        "() => document.querySelector('[data-testid=preview-text]').textContent"
        ".startsWith('Give a bound')",
    )
    page.fill("[data-testid=af-above]", "1000")
    # The count is the API's (its static preview is checked against the API, not a number:
    # see the report on /alerts/preview for threshold alerts).
    static = _preview(
        api,
        account,
        type="static",
        expression="what=cpu",
        group_by=["host"],
        conditions={"above": 1000},
    )
    wait_js(
        page,
        "() => document.querySelector('[data-testid=preview-facts]').textContent"
        " === '2 metrics match.'",
    )
    assert _fired(page) == static["fired"]
    page.click("[data-testid=af-type-anomaly]")

    page.select_option("[data-testid=af-severity]", "high")
    page.fill("[data-testid=af-min-duration]", "1")
    page.check(f"[data-testid=af-channel-{hook['id']}]")
    page.uncheck("[data-testid=af-notify-update]")
    page.fill("[data-testid=af-repeat]", "30")
    _fired(page)
    ui.shot("alert-new")
    page.click("[data-testid=alert-save]")
    page.wait_for_url(ui.base_url + "/alerts?tab=configs")
    page.wait_for_selector("body[data-ready=true]")
    (config,) = _api(api, account, "GET", "/alerts")["items"]
    assert config["title"] == "CPU of {{host}} <is off>"
    assert config["type"] == "anomaly" and config["severity"] == "high"
    assert config["expression"] == "what=cpu" and config["group_by"] == ["host"]
    assert config["conditions"]["min_score"] == 50
    assert config["conditions"]["min_duration_s"] == 60
    assert config["notify_on"] == ["open", "close"]
    assert config["repeat_interval_s"] == 1800
    assert config["channel_ids"] == [hook["id"]]
    row = page.locator(f"[data-testid=config-row-{config['id']}]")
    assert row.locator(f"[data-testid=config-link-{config['id']}]").inner_text() == config["title"]
    assert "ops" in row.inner_text() and "high" in row.inner_text()
    assert page.inner_text(f"[data-testid=config-state-{config['id']}]") == "active"

    # Pause and resume from the list.
    page.click(f"[data-testid=pause-{config['id']}]")
    wait_js(
        page,
        "id => document.querySelector(`[data-testid=config-state-${id}]`)"
        "?.textContent === 'paused'",
        arg=config["id"],
    )
    assert _api(api, account, "GET", f"/alerts/{config['id']}")["paused"] is True
    page.click(f"[data-testid=resume-{config['id']}]")
    wait_js(
        page,
        "id => document.querySelector(`[data-testid=config-state-${id}]`)"
        "?.textContent === 'active'",
        arg=config["id"],
    )
    assert _api(api, account, "GET", f"/alerts/{config['id']}")["paused"] is False
    page.select_option(f"[data-testid=snooze-{config['id']}]", "3600")
    page.locator(f"[data-testid=unsnooze-{config['id']}]").wait_for()
    assert page.inner_text(f"[data-testid=config-state-{config['id']}]") == "snoozed"
    assert page.inner_text(f"[data-testid=config-snoozed-until-{config['id']}]").startswith(
        "until "
    )
    assert _api(api, account, "GET", f"/alerts/{config['id']}")["snoozed_until"] > time.time()
    ui.shot("alerts-configs")

    # The edit form holds what was saved, previews it, and saves with PUT.
    page.click(f"[data-testid=edit-{config['id']}]")
    page.wait_for_url(f"{ui.base_url}/alerts/{config['id']}/edit")
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text("[data-testid=alert-form-title]") == config["title"]
    assert page.input_value("[data-testid=af-title]") == config["title"]
    assert page.input_value("[data-testid=af-group-by]") == "host"
    assert page.input_value("[data-testid=af-min-score]") == "50"
    assert page.input_value("[data-testid=af-min-duration]") == "1"
    assert page.input_value("[data-testid=af-repeat]") == "30"
    assert page.is_checked(f"[data-testid=af-channel-{hook['id']}]")
    assert not page.is_checked("[data-testid=af-notify-update]")
    assert _fired(page) == by_host["fired"]
    ui.shot("alert-edit")
    page.fill("[data-testid=af-title]", "CPU of {{host}}")
    page.click("[data-testid=alert-save]")
    page.wait_for_url(ui.base_url + "/alerts?tab=configs")
    saved = _api(api, account, "GET", f"/alerts/{config['id']}")
    assert saved["title"] == "CPU of {{host}}"
    assert saved["group_by"] == ["host"] and saved["channel_ids"] == [hook["id"]]
    ui.assert_no_error_toast()
    ui.assert_only_local()


def _seed_open_alert(api, org: str, hook_url: str) -> tuple[Account, dict, dict]:
    """An alert configuration on cpu, then points up to a spike on hosts a and b: the
    spike is the newest point, so the anomaly (and the alert it opens) stays open."""
    account = signup(api, org=org)
    key = make_key(api, account, ["ingest"], name="sender")
    hook = _api(
        api,
        account,
        "POST",
        "/channels",
        json={"name": "ops hook", "type": "webhook", "config": {"url": hook_url}},
    )
    config = _api(
        api,
        account,
        "POST",
        "/alerts",
        json={
            "title": "CPU is off",
            "expression": "what=cpu",
            "severity": "high",
            "conditions": {"min_score": 50},
            "channel_ids": [hook["id"]],
        },
    )
    n = SPIKE_AT + 1
    last = int(time.time()) // 60 * 60
    ts = [last - 60 * (n - 1 - i) for i in range(n)]
    samples = []
    for host, seed, level, jump in (("a", 1, 50.0, 12.0), ("b", 2, 40.0, 10.0)):
        y = _smooth(seed, level)[:n]
        y[-1] += jump
        samples += [
            {
                "properties": {"what": "cpu", "host": host},
                "timestamp": t,
                "value": round(float(v), 4),
            }
            for t, v in zip(ts, y, strict=True)
        ]
    assert _ingest(api, key, samples)["accepted"] == len(samples)

    def opened():
        items = _api(api, account, "GET", "/alerts/triggered")["items"]
        return items[0] if items and items[0]["metric_count"] == 2 else None

    trigger = _wait_until("the alert to open on both hosts", opened, timeout=90)
    assert trigger["status"] == "open" and trigger["config_id"] == config["id"]
    return account, config, trigger


def test_alerts_triggered_alert_is_acknowledged_and_resolved(ui, api, receiver):
    account, config, trigger = _seed_open_alert(api, "Triggered Inc", receiver.url)
    tid = trigger["id"]
    _wait_until("the open message", lambda: receiver.delivered())
    assert receiver.delivered()[0]["event"] == "open"
    page = ui.page
    ui.login_as(account, "/alerts")
    row = page.locator(f"[data-testid=trigger-row-{tid}]")
    # The counts come from their own request, which may answer after the list's.
    expect(page.locator("[data-testid=stat-open-alerts]")).to_have_text("1")
    expect(page.locator("[data-testid=tab-count-triggered]")).to_have_text("1")
    assert page.inner_text(f"[data-testid=trigger-link-{tid}]") == "CPU is off"
    assert page.get_attribute(f"[data-testid=trigger-link-{tid}]", "href") == (
        f"/alerts/triggered/{tid}"
    )
    assert page.inner_text(f"[data-testid=trigger-severity-{tid}]") == "high"
    assert page.inner_text(f"[data-testid=trigger-status-{tid}]") == "open"
    assert page.inner_text(f"[data-testid=trigger-score-{tid}]") == str(
        round(trigger["peak_score"])
    )
    assert row.locator("td").nth(5).inner_text() == "2"  # metrics
    ui.shot("alerts-triggered")

    # Filters: open shows it, closed does not.
    page.select_option("[data-testid=triggered-status]", "closed")
    wait_js(page, "() => !document.querySelector('[data-testid^=trigger-row-]')")
    assert "No triggered alert matches" in page.inner_text("#triggered-body")
    assert _query(page) == {"status": ["closed"]}
    page.select_option("[data-testid=triggered-status]", "")
    page.select_option("[data-testid=triggered-severity]", "low")
    wait_js(page, "() => !document.querySelector('[data-testid^=trigger-row-]')")
    page.select_option("[data-testid=triggered-severity]", "high")
    row.wait_for()

    # Acknowledge, unacknowledge, acknowledge: in the table and in the API.
    page.click(f"[data-testid=ack-{tid}]")
    page.locator(f"[data-testid=trigger-acked-{tid}]").wait_for()
    assert _api(api, account, "GET", f"/alerts/triggered/{tid}")["acknowledged_at"]
    page.click(f"[data-testid=unack-{tid}]")
    page.locator(f"[data-testid=trigger-acked-{tid}]").wait_for(state="detached")
    assert _api(api, account, "GET", f"/alerts/triggered/{tid}")["acknowledged_at"] is None
    page.click(f"[data-testid=ack-{tid}]")
    page.locator(f"[data-testid=trigger-acked-{tid}]").wait_for()

    # Resolve: closed in the table (no more buttons) and in the API; the close goes out.
    page.click(f"[data-testid=resolve-{tid}]")
    wait_js(
        page,
        "id => document.querySelector(`[data-testid=trigger-status-${id}]`)"
        "?.textContent === 'closed'",
        arg=tid,
    )
    assert row.get_attribute("data-status") == "closed"
    assert row.locator("button").count() == 0
    # The counts come from their own request, which may answer after the list's.
    wait_js(
        page, "() => document.querySelector('[data-testid=stat-open-alerts]').textContent === '0'"
    )
    assert page.inner_text("[data-testid=stat-closed-alerts]") == "1"
    resolved = _api(api, account, "GET", f"/alerts/triggered/{tid}")
    assert resolved["status"] == "closed" and resolved["resolved_by_id"] == account.user_id
    _wait_until("the close message", lambda: len(receiver.delivered()) == 2)
    assert receiver.delivered()[1]["event"] == "close"

    # Its page: facts, the metrics with links to their charts and anomalies, the messages.
    page.click(f"[data-testid=trigger-link-{tid}]")
    page.wait_for_url(f"{ui.base_url}/alerts/triggered/{tid}")
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text("[data-testid=trigger-title]") == "CPU is off"
    assert page.inner_text("[data-testid=trigger-status]") == "closed"
    assert "by you" in page.inner_text("[data-testid=fact-acknowledged]")
    assert page.inner_text("[data-testid=fact-resolved]") == "you"
    assert page.get_attribute("[data-testid=trigger-config-link]", "href") == (
        f"/alerts/{config['id']}/edit"
    )
    assert page.locator("[data-testid=trigger-ack]").is_disabled()
    assert page.locator("[data-testid=trigger-resolve]").is_disabled()
    for m in resolved["metrics"]:
        link = page.locator(f"[data-testid=trigger-metric-link-{m['metric_id']}]")
        assert link.get_attribute("href") == f"/metrics/explore/{m['metric_id']}"
        assert link.inner_text() == m["name"]
        anomaly = page.locator(f"[data-testid=trigger-anomaly-link-{m['metric_id']}]")
        assert anomaly.get_attribute("href") == f"/anomalies/{m['anomaly_id']}"
    deliveries = _api(api, account, "GET", f"/alerts/triggered/{tid}/deliveries")["items"]
    _wait_until(
        "both messages logged as sent",
        lambda: (
            [
                d["status"]
                for d in _api(api, account, "GET", f"/alerts/triggered/{tid}/deliveries")["items"]
            ]
            == ["sent", "sent"]
        ),
    )
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    rows = page.locator("#trigger-deliveries-body tr")
    assert rows.count() == 2
    assert [rows.nth(i).get_attribute("data-event") for i in range(2)] == ["close", "open"]
    assert "ops hook" in rows.nth(0).inner_text()
    assert len(deliveries) >= 1

    # Feedback on the alert: recorded with its trigger.
    page.fill("[data-testid=feedback-comment]", "real <incident>")
    page.click("[data-testid=feedback-good]")
    page.locator("[data-testid=feedback-done]").wait_for()
    (fb,) = _api(api, account, "GET", "/feedback")["items"]
    assert fb["type"] == "good_catch" and fb["trigger_id"] == tid
    assert fb["comment"] == "real <incident>" and fb["origin"] == "ui"
    assert "real <incident>" in page.inner_text("[data-testid=feedback-done]")
    ui.shot("alert-triggered")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_alerts_events_are_drawn_on_the_metric_chart(ui, api):
    seeded = _seed_metrics(api, "Events Inc")
    account = seeded.account
    metric_id = _metric_id(api, account, "what=cpu_user AND host=web-1")
    last = seeded.last
    deploy = _api(
        api,
        account,
        "POST",
        "/events",
        json={
            "title": "Deploy <v1.2>",
            "category": "deploy",
            "source": "ci",
            "start": last - 6 * 3600,
        },
    )
    suppress = _api(
        api,
        account,
        "POST",
        "/events",
        json={
            "title": "Backup",
            "category": "maintenance",
            "source": "cron",
            "type": "suppress",
            "start": last - 3 * 3600,
            "end": last - 2 * 3600,
            "properties": {"host": "web-1"},
        },
    )
    _api(
        api,
        account,
        "POST",
        "/events",
        json={
            "title": "Campaign",
            "category": "marketing",
            "source": "crm",
            "start": last - 3 * 86400,
        },
    )
    page = ui.page
    ui.login_as(account, f"/metrics/explore/{metric_id}")
    chart = page.locator("[data-testid=chart-svg]")
    assert chart.get_attribute("data-events") == "2"  # the campaign is before these 24 h
    markers = page.locator("[data-testid=chart-event]")
    assert markers.count() == 2
    by_id = {int(markers.nth(i).get_attribute("data-event-id")): markers.nth(i) for i in range(2)}
    assert set(by_id) == {deploy["id"], suppress["id"]}
    # Each says what it is on hover (SVG <title>), as text.
    title = by_id[deploy["id"]].locator("title").text_content()
    assert title.startswith("Deploy <v1.2>\nevent · deploy · ci")
    assert (
        "Alert messages held for host=web-1"
        in by_id[suppress["id"]].locator("title").text_content()
    )
    # A suppress event covers its span with a band, from its start to its end.
    band = page.locator("[data-testid=chart-event-band]")
    assert band.count() == 1 and band.get_attribute("data-event-id") == str(suppress["id"])
    line = by_id[deploy["id"]].locator(".event-line")
    x_deploy = float(line.get_attribute("x1"))
    bx, bw = float(band.get_attribute("x")), float(band.get_attribute("width"))
    assert x_deploy < bx and bw > 10
    # In time order, left to right: the deploy 6 h ago, the backup 3 to 2 h ago.
    plot = page.locator("[data-testid=chart-overlay]")
    px, pw = float(plot.get_attribute("x")), float(plot.get_attribute("width"))
    assert abs((x_deploy - px) / pw - 18 / 24) < 0.02
    assert abs((bx - px) / pw - 21 / 24) < 0.02 and abs(bw / pw - 1 / 24) < 0.02
    assert page.locator("[data-testid=legend-events]").is_visible()
    assert page.locator("[data-testid=legend-suppress]").is_visible()
    # Hovering the chart next to the deploy names it in the tooltip too.
    box = line.bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + box["height"] * 0.8)
    tip = page.locator("#chart-tip")
    tip.wait_for(state="visible")
    assert "Event: Deploy <v1.2>" in tip.inner_text()
    ui.shot("metric-events")

    page.click("[data-testid=range-7d]")
    page.wait_for_selector("[data-testid=chart-svg][data-events='3']")
    assert page.locator("[data-testid=chart-event]").count() == 3
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_alerts_feedback_buttons_on_the_anomaly_page(ui, api):
    seeded = _seed_anomalies(api, "Feedback Inc")
    account = seeded.account
    cpu = seeded.cpu
    page = ui.page
    ui.login_as(account, f"/anomalies/{cpu['id']}")
    assert page.locator("[data-testid=feedback-done]").is_hidden()
    page.fill("[data-testid=feedback-comment]", "the <deploy>")
    page.click("[data-testid=feedback-good]")
    page.locator("[data-testid=feedback-done]").wait_for()
    assert "good catch" in page.inner_text("[data-testid=feedback-done]")
    assert page.get_attribute("[data-testid=feedback-good]", "aria-pressed") == "true"
    (fb,) = _api(api, account, "GET", "/feedback")["items"]
    assert (fb["type"], fb["anomaly_id"], fb["trigger_id"]) == ("good_catch", cpu["id"], None)
    assert fb["comment"] == "the <deploy>" and fb["origin"] == "ui"
    assert sorted(fb["metric_ids"]) == sorted(m["metric_id"] for m in cpu["metrics"])
    ui.shot("anomaly-feedback")

    # Changing one's mind replaces the feedback; the page remembers it.
    page.click("[data-testid=feedback-bad]")
    wait_js(
        page,
        "() => document.querySelector('[data-testid=feedback-bad]')"
        ".getAttribute('aria-pressed') === 'true'",
    )
    (fb,) = _api(api, account, "GET", "/feedback")["items"]
    assert fb["type"] == "not_interesting" and fb["anomaly_id"] == cpu["id"]
    # ... and says, in words, the rule it taught
    rules = page.locator("[data-testid=feedback-rules]")
    rules.wait_for()
    assert rules.inner_text().startswith("Rule learned:") and "held" in rules.inner_text()
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.get_attribute("[data-testid=feedback-bad]", "aria-pressed") == "true"
    assert "not interesting" in page.inner_text("[data-testid=feedback-done]")

    # Undo withdraws it.
    page.click("[data-testid=feedback-undo]")
    page.locator("[data-testid=feedback-done]").wait_for(state="hidden")
    assert _api(api, account, "GET", "/feedback")["items"] == []
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_alerts_maintenance_windows_once_and_recurring(ui, api):
    account = signup(api, org="Windows Inc")
    page = ui.page
    ui.login_as(account, "/alerts?tab=windows")
    assert page.locator("[data-testid=windows-empty]").is_visible()
    assert page.locator("[data-testid=mw-dtstart]").is_hidden()

    # Once, from an hour ago to an hour from now (in the browser's zone): active now.
    around = page.evaluate(
        "() => [-1, 1].map(h => { const d = new Date(Date.now() + h * 3600e3);"
        " const p = n => String(n).padStart(2, '0');"
        " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}"
        "T${p(d.getHours())}:${p(d.getMinutes())}`; })"
    )
    page.fill("[data-testid=mw-name]", "Upgrade <db>")
    page.fill("[data-testid=mw-expression]", "host=db-1")
    page.fill("[data-testid=mw-start]", around[0])
    page.fill("[data-testid=mw-end]", around[1])
    page.click("[data-testid=window-submit]")
    ui.toast("Maintenance window \u201cUpgrade <db>\u201d added: active now.")
    (once,) = _api(api, account, "GET", "/maintenance-windows")["items"]
    assert once["active"] is True and once["expression"] == "host=db-1"
    assert abs(once["end"] - once["start"] - 7200) <= 60
    assert page.inner_text(f"[data-testid=window-active-{once['id']}]").startswith("active")

    # Recurring: the API's own message for a rule it cannot read, then a daily window.
    page.check("[data-testid=mw-kind-recurring]")
    assert page.locator("[data-testid=mw-start]").is_hidden()
    page.fill("[data-testid=mw-name]", "Nightly backup")
    page.fill("[data-testid=mw-rule]", "FREQ=SOMETIMES")
    page.click("[data-testid=window-submit]")
    error = page.locator("[data-testid=window-form-error]")
    error.wait_for()
    assert "Invalid maintenance window" in error.inner_text()
    page.fill("[data-testid=mw-rule]", "FREQ=DAILY")
    page.fill("[data-testid=mw-dtstart]", "2026-01-01T02:00")
    page.fill("[data-testid=mw-duration]", "30")
    page.fill("[data-testid=mw-timezone]", "Europe/Berlin")
    page.click("[data-testid=window-submit]")
    # 02:00 to 02:30 in Berlin is "active now" when the suite runs then: the toast says which.
    added = ui.toast("Maintenance window \u201cNightly backup\u201d added").inner_text()
    assert error.is_hidden()
    daily = next(
        w
        for w in _api(api, account, "GET", "/maintenance-windows")["items"]
        if w["name"] == "Nightly backup"
    )
    message = added.splitlines()[0]  # the second line is the close button
    assert message.endswith(": active now." if daily["active"] else "added."), message
    assert (daily["rrule"], daily["dtstart"], daily["duration_s"], daily["timezone"]) == (
        "FREQ=DAILY",
        "2026-01-01T02:00",
        1800,
        "Europe/Berlin",
    )
    row = page.locator(f"[data-testid=window-row-{daily['id']}]")
    assert "FREQ=DAILY" in row.inner_text() and "Europe/Berlin" in row.inner_text()
    nxt = page.locator(f"[data-testid=window-next-{daily['id']}] time")
    # While one is under way, the column shows the one after it.
    upcoming = [o for o in daily["next"] if not (daily["active"] and o[0] <= time.time())]
    assert nxt.get_attribute("datetime") == (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(upcoming[0][0])) + ".000Z"
    )
    assert "for 30 min" in page.inner_text(f"[data-testid=window-next-{daily['id']}]")
    assert page.inner_text("[data-testid=tab-count-windows]") == "2"
    ui.shot("alerts-windows")

    page.click(f"[data-testid=window-delete-{once['id']}]")
    page.locator(f"[data-testid=window-row-{once['id']}]").wait_for(state="detached")
    assert [w["id"] for w in _api(api, account, "GET", "/maintenance-windows")["items"]] == [
        daily["id"]
    ]
    ui.assert_no_error_toast()

    # A viewer sees it all but cannot change it.
    viewer = invite_and_join(api, account, "viewer")
    ui.login_as(viewer, "/alerts?tab=windows")
    assert page.locator(f"[data-testid=window-row-{daily['id']}]").is_visible()
    assert page.locator("[data-testid=window-submit]").is_disabled()
    assert page.locator(f"[data-testid=window-delete-{daily['id']}]").is_disabled()
    assert page.get_attribute("[data-testid=new-alert]", "aria-disabled") == "true"
    page.click("[data-testid=tab-channels]")
    assert page.locator("[data-testid=channel-submit]").is_disabled()
    ui.assert_only_local()
