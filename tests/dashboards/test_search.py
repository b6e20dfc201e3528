"""Dashboards in the global search: by name, description and what their tiles say,
followed at once on rename and delete, never another organization's."""

from __future__ import annotations

import pytest

from augury.dashboards.searchable import SEARCHABLE
from augury.search import service as search
from tests.dashboards.test_api import create


@pytest.fixture(autouse=True)
def _indexed():
    """What runtime.wiring installs for every process (idempotent)."""
    search.install(SEARCHABLE)


def found(client, account, q: str) -> list[tuple[str, str]]:
    r = client.get("/api/v1/search", params={"q": q, "type": "dashboard"}, headers=account.headers)
    assert r.status_code == 200, r.text
    return [(i["title"], i["link"]) for i in r.json()["items"]]


def test_dashboards_are_found_by_name_description_and_tiles(client, owner, other_org_owner):
    tiles = [{"type": "markdown", "text": "Watch the warehouse backlog"}]
    d = create(client, owner, name="Logistics", description="Trucks and depots", tiles=tiles)
    d = d.json()
    link = f"/dashboards/{d['id']}"
    for q in ("logistics", "depots", "backlog"):
        assert found(client, owner, q) == [("Logistics", link)], q
    assert found(client, other_org_owner, "logistics") == []
    r = client.patch(f"/api/v1/dashboards/{d['id']}", json={"name": "Fleet"}, headers=owner.headers)
    assert r.status_code == 200
    assert found(client, owner, "fleet") == [("Fleet", link)]
    assert found(client, owner, "logistics") == []
    client.delete(f"/api/v1/dashboards/{d['id']}", headers=owner.headers)
    assert found(client, owner, "fleet") == []
