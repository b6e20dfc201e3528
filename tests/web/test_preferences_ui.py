"""Preferences, organization rules and the usage page in a real headless Chromium: the
dark theme applies on choosing it and after a reload, times show in the chosen zone,
the usage page draws its charts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.fixtures.factories import invite_and_join, signup
from tests.web.test_data_ui import upload
from tests.web.test_ui import api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

CSV = b"region,units\nnorth,3\nsouth,5\n"
DARK_BG = "rgb(14, 19, 32)"  # --bg of the dark theme


def _theme(page) -> str:
    return page.evaluate("document.documentElement.dataset.theme")


def _background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_dark_theme_and_time_zone_apply_and_survive_a_reload(ui, api):  # noqa: F811
    owner = signup(api, org="Night Owls")
    page = ui.page
    ui.login_as(owner, "/settings/preferences")
    assert _theme(page) == "light" and _background(page) != DARK_BG
    page.select_option("#pref-theme", "dark")
    assert _theme(page) == "dark"  # shown as soon as it is picked
    page.fill("#pref-timezone", "Asia/Kathmandu")
    page.click("#prefs-save")
    ui.toast("Preferences saved.")
    assert "Asia/Kathmandu" in page.get_by_test_id("pref-now").inner_text()
    prefs = api.get("/api/v1/users/me/preferences", headers=owner.headers).json()
    assert prefs == {"theme": "dark", "language": "en", "timezone": "Asia/Kathmandu"}
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert _theme(page) == "dark" and _background(page) == DARK_BG
    expect(page.locator("#pref-theme")).to_have_value("dark")
    ui.shot("preferences-dark")

    # A time on another page: the organization's creation, in Kathmandu (UTC+5:45).
    ui.goto("/settings/organization")
    assert _theme(page) == "dark"
    created = page.locator("#orgs-body time").first
    iso = created.get_attribute("datetime")
    shown = created.inner_text()
    expected, utc = page.evaluate(
        """iso => {
          const o = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
                      second: "2-digit" };
          const d = new Date(/[zZ]|[+-]\\d\\d:?\\d\\d$/.test(iso) ? iso : iso + "Z");
          const f = (zone) => new Intl.DateTimeFormat(undefined, { ...o, timeZone: zone });
          return [f("Asia/Kathmandu").format(d), f("UTC").format(d)];
        }""",
        iso,
    )
    assert shown == expected and shown != utc
    ui.shot("organization-dark")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_a_bad_time_zone_is_said_next_to_its_field(ui, api):  # noqa: F811
    owner = signup(api, org="Lost in Time")
    page = ui.page
    ui.login_as(owner, "/settings/preferences")
    page.fill("#pref-timezone", "Mars/Olympus_Mons")
    page.click("#prefs-save")
    expect(page.get_by_test_id("field-error-timezone")).to_contain_text("Unknown time zone")
    prefs = api.get("/api/v1/users/me/preferences", headers=owner.headers).json()
    assert prefs["timezone"] is None


def test_organization_rules_are_saved_from_the_organization_tab(ui, api):  # noqa: F811
    owner = signup(api, org="Rule Makers")
    page = ui.page
    ui.login_as(owner, "/settings/organization")
    page.fill("#org-retention", "30")
    page.fill("#org-max-users", "5")
    page.fill("#org-models", "gpt-4o, llama3")
    page.click("#org-settings-save")
    ui.toast("Rules saved.")
    url = f"/api/v1/organizations/{owner.org_id}/settings"
    assert api.get(url, headers=owner.headers).json() == {
        "data_retention_days": 30,
        "max_users": 5,
        "allowed_models": ["gpt-4o", "llama3"],
    }
    page.fill("#org-models", "")
    # The first save's toast may still show: wait for the second PATCH itself.
    saved = lambda r: r.url.endswith("/settings") and r.request.method == "PATCH"  # noqa: E731
    with page.expect_response(saved) as second:
        page.click("#org-settings-save")
    assert second.value.ok
    assert api.get(url, headers=owner.headers).json()["allowed_models"] is None
    ui.assert_no_error_toast()


def test_the_usage_page_shows_figures_charts_and_members(ui, api):  # noqa: F811
    owner = signup(api, org="Busy Bees")
    member = invite_and_join(api, owner, "member")
    upload(api, owner, "sales", CSV)
    body = {"query": "total units by region", "data_source": "sales", "save": True}
    assert api.post("/api/v1/analytics/chart", json=body, headers=owner.headers).status_code == 201
    page = ui.page
    ui.login_as(owner, "/settings/usage")
    expect(page.get_by_test_id("usage-charts")).to_contain_text("1")
    expect(page.get_by_test_id("usage-datasets")).to_contain_text("1")
    for chart in ("usage-requests-chart", "usage-people-chart"):
        expect(page.get_by_test_id(chart).locator("svg")).to_have_count(1)
    expect(page.get_by_test_id(f"usage-member-{owner.user_id}")).to_be_visible()
    expect(page.get_by_test_id(f"usage-member-{member.user_id}")).to_be_visible()
    page.select_option("#usage-days", "7")
    expect(page.get_by_test_id("usage-requests-chart").locator("svg")).to_have_count(1)
    ui.shot("usage")
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    ui.shot("usage-dark")
    ui.assert_no_error_toast()

    ui.login_as(member, "/settings/usage")
    expect(page.get_by_test_id("needs-admin")).to_contain_text("admins")
    expect(page.locator("#usage-body")).to_be_hidden()


def test_a_maintenance_window_is_entered_in_the_chosen_time_zone(ui, api):  # noqa: F811
    owner = signup(api, org="Far East Ops")
    prefs = {"timezone": "Asia/Kathmandu"}
    api.patch("/api/v1/users/me/preferences", json=prefs, headers=owner.headers)
    page = ui.page
    ui.login_as(owner, "/alerts?tab=windows")
    expect(page.locator("#window-form .browser-tz").first).to_have_text("Asia/Kathmandu")
    page.fill("[data-testid=mw-name]", "Upgrade")
    page.fill("[data-testid=mw-start]", "2030-01-01T10:00")
    page.fill("[data-testid=mw-end]", "2030-01-01T12:00")
    page.click("[data-testid=window-submit]")
    ui.toast("Maintenance window \u201cUpgrade\u201d added")
    (window,) = api.get("/api/v1/maintenance-windows", headers=owner.headers).json()["items"]
    ten_in_kathmandu = int(datetime(2030, 1, 1, 4, 15, tzinfo=UTC).timestamp())  # UTC+5:45
    assert (window["start"], window["end"]) == (ten_in_kathmandu, ten_in_kathmandu + 7200)
    ui.assert_no_error_toast()
