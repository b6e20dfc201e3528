"""The Data section in a real headless Chromium: upload, the dataset page, the rows'
virtual grid, the query builder and the list's search and tags.

The server is the real one with its job runner (``live_server``), so every dataset is
profiled by its ``datasets.profile`` job as in production, and the pages show what
that job wrote.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.fixtures.factories import invite_and_join, signup
from tests.web.test_ui import api, browser, ui  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

REGIONS = ("north", "south", "east", "west")

# The upload's progress bar, seen from inside the page: each value it takes is kept in
# sessionStorage, which outlives the navigation to the dataset's page that follows.
RECORD_PROGRESS = """() => {
  sessionStorage.setItem("progress", "");
  const bar = document.querySelector("#upload-bar");
  new MutationObserver(() => {
    const seen = sessionStorage.getItem("progress");
    sessionStorage.setItem("progress", seen + " " + bar.getAttribute("aria-valuenow"));
  }).observe(bar, { attributes: true, attributeFilter: ["aria-valuenow"] });
}"""


def sales_csv(rows: int) -> tuple[bytes, list[dict]]:
    """Orders: an id, a day, a region, an amount with cents, and a note often missing."""
    records = [
        {
            "order_id": i,
            "day": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "region": REGIONS[(i * 7) % 4],
            "amount": f"{(i * 37) % 1000 / 10 + 1:.2f}",
            "note": "" if i % 5 else f"note {i}",
        }
        for i in range(rows)
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode(), records


def upload(api, account, name: str, content: bytes, **fields) -> dict:  # noqa: F811
    r = api.post(
        "/api/v1/datasets",
        files={"file": (f"{name}.csv", content, "text/csv")},
        data={"name": name, **fields},
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def wait_profiled(page, column: str):
    """The column's card once the profile job has filled it (its figures, not a skeleton)."""
    card = page.get_by_test_id(f"col-card-{column}")
    expect(card.get_by_test_id(f"col-nulls-{column}")).to_be_visible()
    return card


def test_upload_a_csv_then_read_its_profile_rows_and_query_it(ui, api):  # noqa: F811
    account = signup(api, org="Data Inc")
    content, records = sales_csv(240)
    page = ui.page
    ui.login_as(account, "/data")
    expect(page.get_by_test_id("data-empty")).to_be_visible()
    ui.shot("data-empty")

    page.click("[data-testid=upload-open]")
    page.set_input_files(
        "[data-testid=upload-file]",
        {"name": "orders_2024.csv", "mimeType": "text/csv", "buffer": content},
    )
    # The name comes from the file's; the size is said.
    expect(page.get_by_test_id("upload-name")).to_have_value("orders_2024")
    expect(page.get_by_test_id("upload-file-info")).to_contain_text("orders_2024.csv")
    page.fill("[data-testid=upload-description]", "Orders of the year")
    page.fill("[data-testid=upload-tags]", "sales, 2024")
    ui.shot("data-upload")
    page.evaluate(RECORD_PROGRESS)
    page.click("[data-testid=upload-submit]")

    page.wait_for_url(re.compile(r".*/data/\d+$"))
    page.wait_for_selector("body[data-ready=true]")
    seen = page.evaluate("sessionStorage.getItem('progress')").split()
    assert seen and seen[-1] == "100", seen
    expect(page.get_by_test_id("ds-name")).to_have_text("orders_2024")
    expect(page.get_by_test_id("ds-description")).to_have_text("Orders of the year")
    expect(page.get_by_test_id("ds-shape")).to_have_text("240 × 5")
    expect(page.get_by_test_id("ds-tags")).to_contain_text("sales")

    # The profile job ends; its cards and the quality appear without a reload.
    amount = wait_profiled(page, "amount")
    expect(page.get_by_test_id("ds-profile-status")).to_have_text("profiled")
    expect(page.get_by_test_id("profile-run")).to_be_hidden()
    expect(amount.get_by_test_id("col-histogram")).to_be_visible()
    region = wait_profiled(page, "region")
    expect(region.get_by_test_id("col-top")).to_contain_text("north")
    expect(page.get_by_test_id("col-nulls-note")).to_have_text("80 %")
    expect(page.get_by_test_id("col-type-day")).to_have_value("")
    assert "date" in page.locator("[data-testid=col-type-day] option:checked").inner_text()
    score = page.get_by_test_id("quality-score").inner_text()
    assert re.fullmatch(r"0\.\d\d|1\.00", score), score
    expect(page.get_by_test_id("quality-issues")).to_contain_text("values missing")
    # An issue points at its column's card.
    page.locator("[data-testid=issue-column]", has_text="note").first.click()
    expect(page.get_by_test_id("col-card-note")).to_have_class(re.compile(r"\bflash\b"))
    ui.shot("dataset")

    # Change a column's type: the dataset is profiled again with it.
    page.select_option("[data-testid=col-type-order_id]", "string")
    ui.toast("order_id is now read as string")
    expect(page.get_by_test_id("col-type-order_id")).to_have_value("string")
    expect(page.get_by_test_id("col-card-order_id")).to_contain_text("type set by you")
    dataset_id = int(page.url.rsplit("/", 1)[1])
    body = api.get(f"/api/v1/datasets/{dataset_id}", headers=account.headers).json()
    assert body["column_types"] == {"order_id": "string"}

    # The rows, read with their types.
    page.click("[data-testid=tab-preview]")
    grid = page.get_by_test_id("preview-grid")
    first = grid.locator("[data-testid=grid-row][data-row='0'][data-state=loaded]")
    expect(first).to_contain_text("2024-01-01")
    expect(first).to_contain_text(records[0]["region"])
    expect(page.get_by_test_id("grid-range")).to_contain_text("of 240")
    ui.shot("dataset-preview")

    # A group-by with a sum and a count, as the API computes it.
    page.click("[data-testid=tab-query]")
    page.check("[data-testid=q-group-region]")
    page.click("[data-testid=q-add-measure]")
    page.select_option("[data-testid=q-agg-fn] >> nth=0", "sum")
    page.select_option("[data-testid=q-agg-column] >> nth=0", "amount")
    page.click("[data-testid=q-add-measure]")
    page.click("[data-testid=query-run]")
    rows = page.get_by_test_id("query-row")
    expect(rows).to_have_count(4)
    expect(page.get_by_test_id("query-summary")).to_have_text("4 rows")
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for r in records:
        sums[r["region"]] += float(r["amount"])
        counts[r["region"]] += 1
    shown = [rows.nth(i).locator("td").all_inner_texts() for i in range(4)]
    assert [s[0] for s in shown] == sorted(REGIONS)
    for region_name, total, count in shown:
        assert float(total) == pytest.approx(sums[region_name], abs=0.01)
        assert int(count) == counts[region_name]
    ui.shot("dataset-query")
    with page.expect_download() as got:
        page.click("[data-testid=query-csv]")
    lines = Path(got.value.path()).read_text().splitlines()
    assert lines[0] == "region,sum_amount,count" and len(lines) == 5, lines
    assert lines[1].startswith("east,")

    # The whole version, through the download menu (the bearer token rides a fetch).
    page.click("[data-testid=download-button]")
    with page.expect_download() as got:
        page.click("[data-testid=download-csv]")
    assert got.value.suggested_filename == "orders_2024-v1.csv"
    saved = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text())))
    assert len(saved) == 240 and saved[7]["region"] == records[7]["region"]
    page.click("[data-testid=download-button]")
    with page.expect_download() as got:
        page.click("[data-testid=download-jsonl]")
    assert len(Path(got.value.path()).read_text().splitlines()) == 240

    # A second version that adds a column shows in the versions, with the change.
    content2 = content.replace(b"note\n", b"note,channel\n", 1)
    content2 = b"\n".join(
        line + (b",web" if i else b"") for i, line in enumerate(content2.splitlines())
    )
    upload(api, account, "orders_2024", content2)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.click("[data-testid=tab-versions]")
    expect(page.get_by_test_id("version-row-2")).to_contain_text("+ channel")
    expect(page.get_by_test_id("version-row-1")).to_contain_text("first version")
    expect(page.get_by_test_id("ds-version-number")).to_contain_text("#2")
    ui.shot("dataset-versions")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_an_upload_the_server_refuses_says_why_in_the_dialog(ui, api):  # noqa: F811
    account = signup(api, org="Empty Files Ltd")
    page = ui.page
    ui.login_as(account, "/data")
    page.click("[data-testid=upload-open]")
    page.set_input_files(
        "[data-testid=upload-file]", {"name": "empty.csv", "mimeType": "text/csv", "buffer": b""}
    )
    page.click("[data-testid=upload-submit]")
    error = page.get_by_test_id("upload-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("The file is empty.")
    assert page.url.endswith("/data")
    expect(page.get_by_test_id("upload-submit")).to_be_enabled()
    ui.shot("data-upload-error")

    content, _ = sales_csv(3)
    page.set_input_files(
        "[data-testid=upload-file]", {"name": "ok.csv", "mimeType": "text/csv", "buffer": content}
    )
    page.fill("[data-testid=upload-name]", "sales/2024")
    page.click("[data-testid=upload-submit]")
    expect(error).to_have_text("The name may not contain / or \\ or control characters.")
    expect(page.get_by_test_id("upload-name")).to_have_class(re.compile(r"\binvalid\b"))
    assert api.get("/api/v1/datasets", headers=account.headers).json()["total"] == 0


def scroll_until_shown(viewport, target: int, row) -> None:
    """Scroll the grid to row `target` until it shows that row loaded.

    A profile that ends while the page is open builds the grid again (keeping the
    scroll position); a scroll that lands on the grid being replaced is given again,
    as a person would scroll again, rather than read as a failure.
    """
    for _ in range(5):
        viewport.evaluate("(v, row) => { v.scrollTop = row * 32; }", target)
        try:
            expect(row).to_be_attached(timeout=8_000)
            return
        except AssertionError:
            continue
    viewport.evaluate("(v, row) => { v.scrollTop = row * 32; }", target)


def test_the_preview_grid_holds_only_the_rows_in_view_of_20000(ui, api):  # noqa: F811
    account = signup(api, org="Big Tables")
    content, records = sales_csv(20_000)
    dataset = upload(api, account, "big orders", content)
    page = ui.page
    ui.login_as(account, f"/data/{dataset['id']}?tab=preview")
    grid = page.get_by_test_id("preview-grid")
    expect(grid.locator("[data-row='0'][data-state=loaded]")).to_contain_text("2024-01-01")
    expect(page.get_by_test_id("grid-range")).to_contain_text("of 20,000")
    in_dom = grid.locator("[data-testid=grid-row]")
    assert 10 <= in_dom.count() <= 60
    # The profile may retype a column (amount: float -> decimal), which builds the grid
    # again; scroll once it is done, so the scrolling below reaches the grid that stays.
    expect(page.get_by_test_id("ds-profile-status")).to_have_text("profiled")

    # To the middle, then the end: the rows there arrive, and only a window exists.
    viewport = grid.locator(".vgrid-viewport")
    for target in (10_000, 19_999):
        row = grid.locator(f"[data-row='{target}'][data-state=loaded]")
        scroll_until_shown(viewport, target, row)
        expect(row).to_contain_text(records[target]["day"])
        expect(row).to_contain_text(f"{target + 1:,}")
        assert in_dom.count() <= 60
        expect(row).to_be_visible()
    ui.shot("dataset-preview-20000")
    # Pages of 200 rows: the first (again once profiled), and those around the two rows
    # jumped to; none of the 97 pages scrolled past.
    fetched = [u for u in ui.requests if "/preview" in u]
    assert 2 <= len(fetched) <= 8, fetched
    ui.assert_no_error_toast()


def test_the_list_searches_names_and_filters_by_tags(ui, api):  # noqa: F811
    account = signup(api, org="Many Tables")
    for name, tags, description in (
        ("sales 2024", ["finance"], "Orders and refunds"),
        ("web traffic", ["marketing"], "Visits per page"),
        ("payroll", ["finance", "hr"], "Salaries"),
    ):
        r = api.post(
            "/api/v1/datasets/records",
            json={
                "name": name,
                "description": description,
                "tags": tags,
                "records": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
            },
            headers=account.headers,
        )
        assert r.status_code == 201, r.text
    page = ui.page
    ui.login_as(account, "/data")
    body = page.locator("#data-body tr")
    expect(body).to_have_count(3)
    ui.shot("data-list")

    page.fill("[data-testid=data-q]", "traffic")
    expect(body).to_have_count(1)
    expect(body.first).to_contain_text("web traffic")
    assert "q=traffic" in page.url

    page.fill("[data-testid=data-q]", "")
    expect(body).to_have_count(3)
    page.click("[data-testid=tag-chip-finance]")
    expect(body).to_have_count(2)
    expect(page.locator("#data-body")).not_to_contain_text("web traffic")
    page.click("[data-testid=tag-chip-hr]")
    expect(body).to_have_count(1)
    expect(body.first).to_contain_text("payroll")
    assert "tag=finance" in page.url and "tag=hr" in page.url
    ui.shot("data-list-tags")

    page.fill("[data-testid=data-q]", "nothing like this")
    expect(page.get_by_test_id("data-none")).to_be_visible()
    page.click("[data-testid=data-clear]")
    expect(body).to_have_count(3)
    body.filter(has_text="payroll").locator("a").click()
    page.wait_for_url(re.compile(r".*/data/\d+$"))
    expect(page.get_by_test_id("ds-name")).to_have_text("payroll")
    ui.assert_no_error_toast()
    ui.assert_only_local()


def test_a_viewer_reads_datasets_but_changes_nothing(ui, api):  # noqa: F811
    owner = signup(api, org="Read Only Co")
    content, _ = sales_csv(30)
    dataset = upload(api, owner, "orders", content)
    viewer = invite_and_join(api, owner, "viewer")
    page = ui.page
    ui.login_as(viewer, "/data")
    expect(page.get_by_test_id("upload-open")).to_be_disabled()
    ui.goto(f"/data/{dataset['id']}")
    wait_profiled(page, "amount")
    expect(page.get_by_test_id("col-type-amount")).to_be_disabled()
    expect(page.get_by_test_id("ds-new-version")).to_be_disabled()
    expect(page.get_by_test_id("ds-edit")).to_be_disabled()
    page.click("[data-testid=tab-versions]")
    expect(page.get_by_test_id("version-delete-1")).to_be_disabled()
    ui.assert_no_error_toast()
