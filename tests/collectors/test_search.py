"""Data sources and streams in the global search: a stream by its name or by what it
reads, a source by its name, followed on rename, edit and delete, for every role of
the organization and never for another one."""

from __future__ import annotations

import pytest

from augury.collectors.searchable import SOURCE_KIND, STREAM_KIND
from tests.collectors.api_world import API, make_source, make_stream, orders_db
from tests.fixtures.factories import invite_and_join


def found(client, account, q: str, kind: str | None = None) -> list[tuple[str, str, str]]:
    params = {"q": q, **({"type": kind} if kind else {})}
    r = client.get(f"{API}/search", params=params, headers=account.headers)
    assert r.status_code == 200, r.text
    return [(i["type"], i["title"], i["link"]) for i in r.json()["items"]]


@pytest.fixture
def shop(client, owner, settings) -> dict:
    orders_db(settings)
    return make_source(client, owner, name="Shop warehouse")


def test_a_stream_is_found_by_name_and_by_what_it_reads(client, owner, shop):
    stream = make_stream(client, owner, shop["id"], name="Revenue by country")
    link = f"/collect/streams/{stream['id']}"
    hit = (STREAM_KIND, "Revenue by country", link)
    assert found(client, owner, "revenue", STREAM_KIND) == [hit]
    assert found(client, owner, "revenue by coun") == [hit]  # the last word as a prefix
    assert found(client, owner, "orders", "data_streams") == [hit]  # its table
    assert found(client, owner, "sqlite", STREAM_KIND) == [hit]  # its type
    # the source, by its name; its config (the file's path) is not indexed
    assert found(client, owner, "warehouse") == [(SOURCE_KIND, "Shop warehouse", "/collect")]
    assert found(client, owner, "shop.db") == []
    # every role of the organization reads them
    viewer = invite_and_join(client, owner, "viewer")
    assert found(client, viewer, "revenue") == [hit]

    # an edit re-indexes it: a custom query instead of the table, another name
    body = {**stream, "name": "Turnover", "customQuery": True}
    body["query"] = "SELECT created_at, amount, country FROM orders WHERE amount > 10"
    del body["tableName"]
    r = client.put(f"{API}/data-streams/{stream['id']}", json=body, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert found(client, owner, "revenue") == []
    assert found(client, owner, "turnover") == [(STREAM_KIND, "Turnover", link)]
    assert found(client, owner, "amount", STREAM_KIND) == [(STREAM_KIND, "Turnover", link)]
    # deleted: gone from the search
    r = client.delete(f"{API}/data-streams/{stream['id']}", headers=owner.headers)
    assert r.status_code == 204
    assert found(client, owner, "turnover") == []
    client.delete(f"{API}/data-sources/{shop['id']}", headers=owner.headers)
    assert found(client, owner, "warehouse") == []


def test_another_organization_finds_nothing(client, owner, other_org_owner, shop):
    make_stream(client, owner, shop["id"], name="Secret revenue")
    assert [t for _, t, _ in found(client, owner, "secret")] == ["Secret revenue"]
    for q in ("secret revenue", "warehouse", "orders"):
        assert found(client, other_org_owner, q) == [], q
        assert found(client, other_org_owner, q, f"{SOURCE_KIND},{STREAM_KIND}") == [], q
