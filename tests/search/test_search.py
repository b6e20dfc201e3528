"""Global search over HTTP: the index follows every change at once, ranks and
highlights, and never shows another organization's objects or a gone one."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from augury.anomalies.models import AnomalyGroup, MetricAnomaly
from augury.metrics.models import Metric
from tests.analytics.test_api import SALES
from tests.datasets.test_api import upload
from tests.fixtures.factories import invite_and_join, make_key, signup


def search(client, account, q, **params):
    r = client.get("/api/v1/search", params={"q": q, **params}, headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()


def found(client, account, q, **params) -> list[tuple[str, str]]:
    return [(i["type"], i["title"]) for i in search(client, account, q, **params)["items"]]


@pytest.fixture
def owner(client):
    return signup(client, org="Search")


def dataset(client, account, name, **fields) -> int:
    r = upload(client, account, SALES, name=name, **fields)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_an_object_is_found_a_moment_after_it_is_created_and_never_by_another_org(client, owner):
    other = signup(client, org="Elsewhere")
    mine = dataset(client, owner, "Quarterly revenue", description="Revenue by region")
    dataset(client, other, "Quarterly revenue of the other org")
    hits = search(client, owner, "quarterly revenue")
    assert [(i["type"], i["id"]) for i in hits["items"]] == [("dataset", mine)]
    assert hits["items"][0]["link"] == f"/data/{mine}"
    assert hits["items"][0]["relevance_score"] == 1.0
    # the other organization finds its own only
    assert found(client, other, "quarterly") == [("dataset", "Quarterly revenue of the other org")]
    # the last word is a prefix (search as you type); column names are searchable
    assert found(client, owner, "quart") == [("dataset", "Quarterly revenue")]
    assert found(client, owner, "units") == [("dataset", "Quarterly revenue")]
    assert found(client, owner, "revenue nowhere") == []


def test_renames_and_deletions_follow_at_once(client, owner):
    ds = dataset(client, owner, "Churn 2024", tags="customers, retention")
    assert found(client, owner, "retention") == [("dataset", "Churn 2024")]
    body = {"tags": ["attrition"]}
    r = client.patch(f"/api/v1/datasets/{ds}", json=body, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert found(client, owner, "retention") == []
    assert found(client, owner, "attrition") == [("dataset", "Churn 2024")]
    # a chart saved from it, then gone with its dataset (a cascade the ORM does not see)
    body = {"query": "total units by region", "data_source": ds, "save": True}
    r = client.post("/api/v1/analytics/chart", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    assert found(client, owner, "units region", type="chart") == [
        ("chart", "total units by region")
    ]
    assert client.delete(f"/api/v1/datasets/{ds}", headers=owner.headers).status_code == 204
    assert found(client, owner, "attrition") == []
    assert found(client, owner, "units region") == []


def test_titles_rank_above_descriptions_and_matches_are_highlighted_safely(client, owner):
    dataset(client, owner, "Misc", description="forecast of <b>orders</b> for planning")
    dataset(client, owner, "Orders <2024> & more")
    hits = search(client, owner, "orders")["items"]
    assert [h["title"] for h in hits] == ["Orders <2024> & more", "Misc"]
    assert hits[0]["title_html"] == "<mark>Orders</mark> &lt;2024&gt; &amp; more"
    assert "&lt;b&gt;<mark>orders</mark>&lt;/b&gt;" in hits[1]["snippet_html"]
    assert 0 < hits[1]["relevance_score"] < 1.0


def test_every_kind_is_found_and_the_type_filter_keeps_one(client, owner):
    key = make_key(client, owner, ["ingest", "read"])
    now = int(time.time()) // 3600 * 3600
    points = [
        {"properties": {"what": "checkout_latency", "region": "emea"}, "timestamp": now, "value": 1}
    ]
    assert client.post(f"/api/v1/metrics?token={key}", json=points).status_code in (200, 202)
    client.app.state.stream.drain()
    r = client.post(
        "/api/v1/alerts",
        json={"title": "Checkout latency high", "expression": "what=checkout_latency"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/forecasts",
        json={
            "name": "Checkout latency next week",
            "expression": "what=checkout_latency",
            "horizon": 24,
            "levels": [80],
        },
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    invite_and_join(client, owner, "viewer", email="checkout.lead@example.com")
    db = client.app.state.db
    with db.session() as s:
        metric = s.scalar(select(Metric).where(Metric.org_id == owner.org_id))
        group = AnomalyGroup(
            org_id=owner.org_id,
            what="checkout_latency",
            timescale=0,
            state="open",
            start=now,
            end=now,
            peak_score=88.0,
            metric_count=1,
            direction="up",
            delta=1.0,
            delta_pct=1.0,
        )
        s.add(group)
        s.flush()
        s.add(
            MetricAnomaly(
                org_id=owner.org_id,
                group_id=group.id,
                metric_id=metric.id,
                timescale=0,
                state="open",
                start=now,
                end=now,
                points=1,
                interval=3600,
                peak_score=88.0,
                peak_ts=now,
                peak_value=1.0,
                expected=0.5,
                delta=0.5,
                delta_pct=100.0,
                direction="up",
            )
        )
    kinds = {t for t, _ in found(client, owner, "checkout")}
    assert kinds == {"metric", "alert", "forecast", "member", "anomaly"}
    assert found(client, owner, "emea", type="metrics") == [
        ("metric", "what=checkout_latency.region=emea")
    ]
    assert found(client, owner, "checkout", type="anomaly") == [
        ("anomaly", "Spike in what=checkout_latency.region=emea")
    ]
    assert sorted(t for t, _ in found(client, owner, "checkout", type="alert,forecast")) == [
        "alert",
        "forecast",
    ]
    page = search(client, owner, "checkout", limit=2)
    assert (page["total"], len(page["items"]), page["has_more"]) == (5, 2, True)
    assert page["counts"] == {"metric": 1, "alert": 1, "forecast": 1, "member": 1, "anomaly": 1}


def test_bad_queries_get_the_error_shape(client, owner):
    r = client.get("/api/v1/search", params={"q": "x", "type": "planets"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "planets" in r.json()["error"]["message"]
    assert client.get("/api/v1/search", headers=owner.headers).status_code == 422
    # punctuation only, or FTS syntax, is just words (or none), never an error
    for q in ('"', "NEAR(a b)", "*", "a OR b AND", "':*"):
        assert search(client, owner, q)["total"] == 0


def test_an_index_lost_or_older_than_the_data_is_built_again(client, owner, monkeypatch):
    from typer.testing import CliRunner

    from augury.cli import app as cli
    from augury.runtime import wiring
    from augury.search.models import SearchEntry

    dataset(client, owner, "Inventory levels")
    db = client.app.state.db

    def lose_the_index():
        with db.session() as s:
            s.query(SearchEntry).delete()

    lose_the_index()
    assert found(client, owner, "inventory") == []
    # what the server does when it starts on a database with an empty index
    assert wiring.fill_search_index(db) >= 2  # the dataset and its owner's membership
    assert found(client, owner, "inventory") == [("dataset", "Inventory levels")]
    assert wiring.fill_search_index(db) == 0  # not empty: left alone

    lose_the_index()
    monkeypatch.setenv("AUGURY_DATABASE_URL", db.url)
    result = CliRunner().invoke(cli, ["db", "reindex-search"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(" objects indexed\n")
    assert found(client, owner, "inventory") == [("dataset", "Inventory levels")]
