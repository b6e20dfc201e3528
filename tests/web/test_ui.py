"""The web UI in a real headless Chromium (Debian's package) driven by Playwright.

Each test runs augury on a free port with its job runner (``live_server``) and uses the
pages as a person would: forms, buttons, menus. Every test also checks that the browser
asked nothing of any host but augury itself (the UI must work offline). Screenshots land
in tests/web/artifacts/ for a human to look at.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from augury.runtime.mail import read_outbox
from tests.fixtures.factories import PASSWORD, Account, invite_and_join, signup

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
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
        # app.js marks the body once the page is filled from the API.
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
        self.page.add_style_tag(
            content="*, *::before { transition: none !important; animation: none !important; }"
        )
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
            {url for url in self.requests
             if urlsplit(url).scheme in {"http", "https", "ws", "wss"}
             and urlsplit(url).hostname not in LOCAL_HOSTS}
        )
        assert not foreign, f"the UI reached beyond augury: {foreign}"


@pytest.fixture
def ui(browser, live_server):
    context = browser.new_context(viewport={"width": 1360, "height": 880})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())  # confirm() before revoking
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield UI(page, live_server.url, requests)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def api(live_server):
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
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
    ui.toast("Current password is wrong.")
    ui.shot("change-password")
    assert page.evaluate("localStorage.getItem('augury.access_token')")
    page.fill("#pw-current", PASSWORD)
    page.click("#password-submit")
    ui.toast("Password changed.")
    assert page.locator("[data-testid=password-dialog]").is_hidden()
    r = httpx.post(f"{ui.base_url}/api/v1/auth/login",
                   json={"email": "ada@example.com", "password": "a brand new password"})
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
    ui.goto("/")
    assert page.inner_text("#stat-jobs") == "1"
    page.locator("#home-jobs .badge", has_text="aborted").wait_for()
    ui.shot("home-with-jobs")
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
    page.wait_for_function(
        "[...document.querySelectorAll('#audit-body tr')]"
        ".every(r => r.innerText.includes('failure'))"
    )
    assert rows.count() == 1
    assert "auth.login" in rows.first.inner_text()
    page.select_option("#audit-action", "")
    page.select_option("#audit-outcome", "")
    page.locator("#audit-body tr[data-action='user.signup']").wait_for()
    ui.shot("audit")
    ui.assert_only_local()


def test_organizations_switch_and_sections_not_yet_available(ui, api):
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
    page.wait_for_function(
        "document.querySelector('#org-switcher option:checked')"
        "?.textContent.startsWith('Second Org')"
    )
    page.wait_for_selector("body[data-ready=true]")

    # The header switcher goes back to the first organization.
    with page.expect_navigation():
        page.select_option("#org-switcher", label="First Org Renamed")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#org-switcher option:checked").inner_text().startswith("First Org Renamed")

    # Sections that later releases fill say so, with no made-up data.
    sections = {"metrics": "/metrics/explore", "anomalies": "/anomalies", "alerts": "/alerts",
                "data": "/data", "text": "/text", "chat": "/chat"}
    for name, path in sections.items():
        assert page.get_attribute(f"[data-testid=nav-{name}]", "href") == path
        html = api.get(path).text
        assert 'data-testid="not-available"' in html and "not available yet" in html
    for name in ("metrics", "chat"):
        page.click(f"[data-testid=nav-{name}]")
        page.wait_for_url(ui.base_url + sections[name])
        page.wait_for_selector("body[data-ready=true]")
        assert "not available yet" in page.inner_text("[data-testid=not-available]")
        assert page.locator(f"[data-testid=nav-{name}].active").count() == 1
    ui.shot("section-not-available")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def _forged_jwt(exp_in_s: int) -> str:
    """JWT-shaped, unexpired by its claims, but not signed by augury: the API answers 401."""
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return ".".join([part({"alg": "HS256", "typ": "JWT"}),
                     part({"sub": "1", "exp": int(time.time()) + exp_in_s}), "c2lnbmF0dXJl"])


def test_a_rejected_access_token_is_refreshed_once_and_the_calls_retried(ui, api):
    account = signup(api, org="Refresh Org")
    page = ui.page
    # The overview fires four API calls at once: all get 401, one refresh serves them all
    # (the refresh token rotates, so a second refresh with it would fail and log out).
    stale = Account(**{**account.__dict__, "access_token": _forged_jwt(600)})
    ui.login_as(stale, "/")
    assert page.inner_text("#stat-members") == "1"
    refreshes = [u for u in ui.requests if u.endswith("/api/v1/auth/refresh")]
    assert len(refreshes) == 1, refreshes
    tokens = page.evaluate("[localStorage.getItem('augury.access_token'),"
                           " localStorage.getItem('augury.refresh_token')]")
    assert tokens[0] != stale.access_token and tokens[1] != account.refresh_token
    ui.assert_no_error_toast()

    # When the login cannot be renewed any more, the page goes to the login form.
    page.evaluate("localStorage.setItem('augury.access_token', 'x.y.z');"
                  " localStorage.setItem('augury.refresh_token', 'no-longer-valid')")
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
