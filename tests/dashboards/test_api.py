"""Dashboards over HTTP: tiles checked and placed, compare-and-set saves, tile data that
follows the dashboard's range and filters, share links, and viewers' read-only access."""

from __future__ import annotations

import pytest

from tests.fixtures.factories import invite_and_join, make_key

SALES = b"region,units\nNorth,3\nSouth,5\nEast,7\n"


def make_chart(client, account, name: str = "sales") -> int:
    files = {"file": (f"{name}.csv", SALES)}
    r = client.post("/api/v1/datasets", data={"name": name}, files=files, headers=account.headers)
    assert r.status_code == 201, r.text
    body = {"query": "total units by region", "data_source": name, "save": True}
    r = client.post("/api/v1/analytics/chart", json=body, headers=account.headers)
    assert r.status_code == 201, r.text
    return r.json()["chart_id"]


def ingest(client, account, points: list[tuple[dict, float, float]]) -> None:
    """Points as (properties, timestamp, value), through the real ingest and stream."""
    key = make_key(client, account, ["ingest"])
    body = [{"properties": p, "timestamp": t, "value": v} for p, t, v in points]
    r = client.post(f"/api/v1/metrics?protocol=anodot20&token={key}", json=body)
    assert r.status_code == 200, r.text
    client.app.state.stream.drain()


def create(client, account, **body):
    return client.post(
        "/api/v1/dashboards", json={"name": "Sales", **body}, headers=account.headers
    )


@pytest.fixture
def chart(client, owner) -> int:
    return make_chart(client, owner)


def test_create_get_list_update_delete(client, owner, chart):
    tiles = [
        {"type": "chart", "chart_id": chart, "x": 0, "y": 0, "w": 6, "h": 4, "title": "Units"},
        {"type": "markdown", "text": "# Notes\nWeekly numbers.", "w": 6, "h": 2},
        {"type": "metric", "expression": "what=cpu*", "w": 12, "h": 4},
    ]
    r = create(client, owner, description="Weekly", tiles=tiles)
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["version"] == 1 and d["description"] == "Weekly"
    # The unplaced tiles take the first free spots, in order; every tile gets an id.
    assert [(t["x"], t["y"], t["w"], t["h"]) for t in d["tiles"]] == [
        (0, 0, 6, 4),
        (6, 0, 6, 2),
        (0, 4, 12, 4),
    ]
    assert len({t["id"] for t in d["tiles"]}) == 3
    assert d["layout"] == [
        {
            "tile_id": d["tiles"][0]["id"],
            "chart_id": chart,
            "position": {"x": 0, "y": 0, "w": 6, "h": 4},
        }
    ]
    got = client.get(f"/api/v1/dashboards/{d['id']}", headers=owner.headers).json()
    assert got["tiles"] == d["tiles"] and got["settings"]["range"] == "24h"
    listed = client.get("/api/v1/dashboards", headers=owner.headers).json()
    assert listed["total"] == 1 and listed["items"][0]["tile_count"] == 3
    assert set(listed) == {"items", "total", "offset", "limit", "has_more"}
    assert client.get("/api/v1/dashboards?q=nothing", headers=owner.headers).json()["total"] == 0

    moved = [{**t, "y": t["y"] + 1} for t in d["tiles"]]
    r = client.patch(
        f"/api/v1/dashboards/{d['id']}",
        json={"tiles": moved, "version": 1, "name": "Sales, weekly"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["tiles"][0]["y"] == 1
    assert r.json()["name"] == "Sales, weekly"

    r = client.put(
        f"/api/v1/dashboards/{d['id']}",
        json={"name": "Bare", "version": 2},
        headers=owner.headers,
    )
    assert r.status_code == 200 and r.json()["tiles"] == [] and r.json()["version"] == 3

    assert client.delete(f"/api/v1/dashboards/{d['id']}", headers=owner.headers).status_code == 204
    assert client.get(f"/api/v1/dashboards/{d['id']}", headers=owner.headers).status_code == 404
    audit = client.get("/api/v1/audit", headers=owner.headers).json()["items"]
    assert {"dashboard.create", "dashboard.update", "dashboard.delete"} <= {
        e["action"] for e in audit
    }


def test_aicser_layout_and_chart_data(client, owner, chart):
    body = {
        "layout": [{"chart_id": chart, "position": {"x": 0, "y": 0, "w": 6, "h": 4}}],
        "settings": {"auto_refresh": True, "refresh_interval": 300, "theme": "light"},
    }
    d = create(client, owner, **body).json()
    assert d["tiles"][0]["type"] == "chart" and d["tiles"][0]["chart_id"] == chart
    assert d["settings"]["auto_refresh"] is True and d["settings"]["refresh_interval"] == 300
    got = client.get(
        f"/api/v1/dashboards/{d['id']}?include_data=true", headers=owner.headers
    ).json()
    data = got["layout"][0]["chart_data"]
    assert data["columns"] == ["region", "sum_units"] and len(data["rows"]) == 3
    assert data["chart"]["mark"]


def test_a_stale_version_is_a_409(client, owner):
    d = create(client, owner).json()
    url = f"/api/v1/dashboards/{d['id']}"
    assert (
        client.patch(url, json={"name": "A", "version": 1}, headers=owner.headers).status_code
        == 200
    )
    r = client.patch(url, json={"name": "B", "version": 1}, headers=owner.headers)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "CONFLICT"
    assert r.json()["error"]["details"]["version"] == 2
    assert client.get(url, headers=owner.headers).json()["name"] == "A"


@pytest.mark.parametrize(
    ("tiles", "says"),
    [
        ([{"type": "markdown", "text": "a", "x": 8, "y": 0, "w": 6, "h": 2}], "x + w is 14"),
        (
            [
                {"type": "markdown", "text": "a", "x": 0, "y": 0, "w": 6, "h": 4},
                {"type": "markdown", "text": "b", "x": 3, "y": 2, "w": 6, "h": 4},
            ],
            "overlaps",
        ),
        ([{"type": "chart"}], "needs 'chart_id'"),
        ([{"type": "metric", "expression": "what=(cpu"}], "does not read"),
        ([{"type": "markdown", "text": "x" * 20_001}], "over 20000 characters"),
        ([{"type": "forecast", "forecast_id": 999}], "no forecast 999"),
        (
            [
                {"id": "a", "type": "markdown", "text": "1"},
                {"id": "a", "type": "markdown", "text": "2"},
            ],
            "used twice",
        ),
    ],
)
def test_tiles_are_checked(client, owner, tiles, says):
    r = create(client, owner, tiles=tiles)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert says in r.json()["error"]["message"]


def test_unknown_tile_types_and_filters_are_refused(client, owner):
    assert create(client, owner, tiles=[{"type": "video"}]).status_code == 422
    r = create(client, owner, settings={"filters": {"bad key": "x"}})
    assert r.status_code == 422 and "not a dimension name" in r.json()["error"]["message"]
    assert create(client, owner, tiles=[], layout=[]).status_code == 422


def test_another_organizations_chart_is_refused(client, owner, other_org_owner):
    theirs = make_chart(client, other_org_owner, "theirs")
    r = create(client, owner, tiles=[{"type": "chart", "chart_id": theirs}])
    assert r.status_code == 422
    assert r.json()["error"]["details"] == {"tile": 0, "chart_id": theirs}
    assert f"no saved chart {theirs}" in r.json()["error"]["message"]


def test_metric_tiles_follow_the_range_and_the_filters(client, owner, frozen_clock):
    now = frozen_clock.now().timestamp()
    ingest(
        client,
        owner,
        [
            ({"what": "cpu", "host": host}, now - 300 - 600 * i, base + i)
            for host, base in (("web-1", 10), ("web-2", 50))
            for i in range(7)
        ],
    )
    tiles = [
        {"id": "m", "type": "metric", "expression": "what=cpu", "resolution": "native"},
        {"id": "n", "type": "number", "expression": "what=cpu", "stat": "max"},
        {"id": "a", "type": "anomalies", "expression": "what=cpu"},
    ]
    d = create(
        client, owner, tiles=tiles, settings={"range": "1h", "filters": {"host": "web-2"}}
    ).json()
    url = f"/api/v1/dashboards/{d['id']}/tiles"
    m = client.get(f"{url}/m/data", headers=owner.headers).json()
    assert m["matched"] == 1 and "web-2" in m["series"]["name"]
    # In the last hour: the points 5..55 minutes old (the 65-minute one is out).
    assert m["series"]["values"] == [55.0, 54.0, 53.0, 52.0, 51.0, 50.0]
    assert m["series"]["lower"] is not None and len(m["series"]["upper"]) == 6
    assert m["start"] == pytest.approx(now - 3600) and m["end"] == pytest.approx(now)
    n = client.get(f"{url}/n/data", headers=owner.headers).json()
    assert n["value"] == 55.0 and n["name"] == m["series"]["name"]
    a = client.get(f"{url}/a/data", headers=owner.headers).json()
    assert a["anomalies"] == [] and a["total"] == 0
    # An explicit window wins over the range: two hours back holds all seven points.
    wide = client.get(
        f"{url}/m/data", params={"from": now - 7200, "to": now + 1}, headers=owner.headers
    ).json()
    assert len(wide["series"]["values"]) == 7
    assert client.get(f"{url}/nope/data", headers=owner.headers).status_code == 404


def test_markdown_and_chart_tile_data(client, owner, chart):
    tiles = [
        {"id": "c", "type": "chart", "chart_id": chart},
        {"id": "t", "type": "markdown", "text": "**hello**"},
    ]
    d = create(client, owner, tiles=tiles).json()
    url = f"/api/v1/dashboards/{d['id']}/tiles"
    c = client.get(f"{url}/c/data", headers=owner.headers).json()
    assert sorted(c["chart_data"]["rows"]) == [["East", 7], ["North", 3], ["South", 5]]
    assert c["title"]
    assert client.get(f"{url}/t/data", headers=owner.headers).json()["text"] == "**hello**"


# --- share links -----------------------------------------------------------------------------


def test_a_share_link_opens_that_dashboard_and_nothing_else(client, owner, chart):
    d = create(client, owner, tiles=[{"id": "c", "type": "chart", "chart_id": chart}]).json()
    other = create(client, owner).json()
    r = client.post(
        f"/api/v1/dashboards/{d['id']}/shares", json={"label": "wall"}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    share = r.json()
    token = share["token"]
    assert token.startswith("augsh_") and share["url"] == f"/share/dashboards/{token}"
    listed = client.get(f"/api/v1/dashboards/{d['id']}/shares", headers=owner.headers).json()
    assert [s["label"] for s in listed["items"]] == ["wall"]
    assert listed["items"][0]["token"] is None  # shown once, never again
    assert listed["items"][0]["last_used_at"] is None

    seen = client.get(f"/api/v1/shared/dashboards/{token}")
    assert seen.status_code == 200
    assert seen.json()["id"] == d["id"] and "created_by_id" not in seen.json()
    listed = client.get(f"/api/v1/dashboards/{d['id']}/shares", headers=owner.headers).json()
    assert listed["items"][0]["last_used_at"] is not None  # the link's use is recorded
    tile = client.get(f"/api/v1/shared/dashboards/{token}/tiles/c/data")
    assert tile.status_code == 200 and len(tile.json()["chart_data"]["rows"]) == 3
    # The token is no credential for anything else.
    for path in (
        f"/api/v1/dashboards/{other['id']}",
        "/api/v1/dashboards",
        f"/api/v1/analytics/chart/{chart}",
        "/api/v1/datasets",
    ):
        for headers in ({"Authorization": f"Bearer {token}"}, {"X-Auth-Token": token}):
            assert client.get(path, headers=headers).status_code == 401, path
    assert client.get(f"/api/v1/shared/dashboards/{token}x").status_code == 404

    r = client.delete(f"/api/v1/dashboards/{d['id']}/shares/{share['id']}", headers=owner.headers)
    assert r.status_code == 204
    for path in (
        f"/api/v1/shared/dashboards/{token}",
        f"/api/v1/shared/dashboards/{token}/tiles/c/data",
    ):
        gone = client.get(path)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    listed = client.get(f"/api/v1/dashboards/{d['id']}/shares", headers=owner.headers).json()
    assert listed["items"][0]["revoked_at"] is not None


def test_an_expired_share_link_is_a_404(client, owner, frozen_clock):
    d = create(client, owner).json()
    expires = frozen_clock.advance(0).replace(microsecond=0)
    body = {"expires_at": (expires.isoformat().replace("+00:00", "Z"))}
    frozen_clock.advance(-60)
    token = client.post(
        f"/api/v1/dashboards/{d['id']}/shares", json=body, headers=owner.headers
    ).json()["token"]
    assert client.get(f"/api/v1/shared/dashboards/{token}").status_code == 200
    frozen_clock.advance(61)
    assert client.get(f"/api/v1/shared/dashboards/{token}").status_code == 404


def test_the_share_page_may_be_framed_and_the_app_may_not(client):
    page = client.get("/share/dashboards/augsh_anything")
    assert page.status_code == 200
    csp = page.headers.get("content-security-policy", "")
    assert "frame-ancestors *" in csp and "x-frame-options" not in page.headers
    app_page = client.get("/dashboards")
    assert "frame-ancestors 'none'" in app_page.headers["content-security-policy"]


# --- roles -----------------------------------------------------------------------------------


def test_a_viewer_reads_but_every_write_is_403(client, owner, chart):
    d = create(client, owner, tiles=[{"id": "c", "type": "chart", "chart_id": chart}]).json()
    share = client.post(
        f"/api/v1/dashboards/{d['id']}/shares", json={}, headers=owner.headers
    ).json()
    schedule = client.post(
        f"/api/v1/dashboards/{d['id']}/schedules",
        json={"cron": "0 8 * * 1", "recipients": ["a@example.com"]},
        headers=owner.headers,
    ).json()
    viewer = invite_and_join(client, owner, "viewer")
    base = f"/api/v1/dashboards/{d['id']}"
    for path in (
        base,
        "/api/v1/dashboards",
        f"{base}/tiles/c/data",
        f"{base}/shares",
        f"{base}/schedules",
    ):
        assert client.get(path, headers=viewer.headers).status_code == 200, path
    writes = [
        ("POST", "/api/v1/dashboards", {"name": "x"}),
        ("PATCH", base, {"name": "x"}),
        ("PUT", base, {"name": "x"}),
        ("DELETE", base, None),
        ("POST", f"{base}/shares", {}),
        ("DELETE", f"{base}/shares/{share['id']}", None),
        ("POST", f"{base}/schedules", {"cron": "0 8 * * 1", "recipients": ["a@example.com"]}),
        ("PATCH", f"{base}/schedules/{schedule['id']}", {"enabled": False}),
        ("DELETE", f"{base}/schedules/{schedule['id']}", None),
    ]
    for method, path, body in writes:
        r = client.request(method, path, json=body, headers=viewer.headers)
        assert r.status_code == 403, (method, path, r.text)
    assert client.get(base, headers=owner.headers).json()["version"] == 1
