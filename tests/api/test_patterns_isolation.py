"""Organization isolation and roles for every route of "seen before":
``/api/v1/anomalies/{anomaly_id}/similar`` and ``/api/v1/patterns``.

As ``test_collectors_isolation``: every operation the OpenAPI document has under those
prefixes is called with the ids of an anomaly and a pattern built in organization A.
Another organization's owner (JWT) and admin key get 404 on each, and on a pattern
saved from A's anomaly (the id in the body); A's data is unchanged afterwards. A's
viewer reads every route and gets 403 on every write.
"""

from __future__ import annotations

import pytest

from tests.api import isolation
from tests.fixtures.factories import Account, invite_and_join, make_key

PREFIXES = ("/api/v1/patterns", "/api/v1/anomalies/{anomaly_id}/similar")
BODIES = {
    ("PATCH", "/api/v1/patterns/{pattern_id}"): {"name": "pwned"},
}


@pytest.fixture
def world(client, owner: Account) -> dict:
    return build_world(client, owner)


def build_world(client, owner: Account) -> dict:
    """An anomaly and a pattern saved from it in ``owner``'s organization."""
    key = make_key(client, owner, ["ingest"])
    values = [10.0 + (i % 7) * 0.1 for i in range(300)]
    values[250] = 100.0
    body = [
        {"properties": {"what": "secret_sales"}, "timestamp": 1_700_000_000 + 60 * i, "value": v}
        for i, v in enumerate(values)
    ]
    client.post(f"/api/v1/metrics?protocol=anodot20&token={key}", json=body)
    client.app.state.stream.drain()
    anomaly = client.get("/api/v1/anomalies", headers=owner.headers).json()["items"][0]["id"]
    r = client.post(
        "/api/v1/patterns",
        json={"anomaly_id": anomaly, "name": "secret pattern"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    return {"anomaly_id": anomaly, "pattern_id": r.json()["id"]}


def _snapshot(client, owner: Account, ids: dict) -> list:
    h = owner.headers
    paths = (
        "/api/v1/patterns",
        f"/api/v1/patterns/{ids['pattern_id']}",
        f"/api/v1/patterns/{ids['pattern_id']}/matches",
        f"/api/v1/anomalies/{ids['anomaly_id']}/similar",
    )
    return [client.get(p, headers=h).json() for p in paths]


def _operations(client) -> list[tuple[str, str]]:
    return isolation.operations(client, PREFIXES)


def test_every_patterns_route_is_exercised(client, world):
    ops = _operations(client)
    assert len(ops) == 7, ops
    isolation.assert_every_id_known(ops, world)


@pytest.mark.parametrize("as_key", [False, True], ids=["jwt", "api_key"])
def test_another_organization_gets_404_everywhere(client, owner, other_org_owner, world, as_key):
    intruder = isolation.intruder(client, other_org_owner, as_key)
    before = _snapshot(client, owner, world)
    assert client.get("/api/v1/patterns", headers=intruder).json()["total"] == 0
    body = {"anomaly_id": world["anomaly_id"], "name": "mine now"}
    r = client.post("/api/v1/patterns", json=body, headers=intruder)
    isolation.assert_hidden(r, "POST", "/api/v1/patterns", as_key)
    for method, template in _operations(client):
        path = isolation.fill(template, world)
        if path is None:
            continue
        r = client.request(method, path, json=BODIES.get((method, template)), headers=intruder)
        isolation.assert_hidden(r, method, template, as_key)
    assert _snapshot(client, owner, world) == before


def test_a_viewer_reads_but_every_write_is_403(client, owner, world):
    viewer = invite_and_join(client, owner, "viewer")
    before = _snapshot(client, owner, world)
    writes = [(m, t) for m, t in _operations(client) if m != "GET"]
    assert len(writes) == 3
    for method, template in writes:
        path = isolation.fill(template, world) or template
        body = BODIES.get((method, template), {"anomaly_id": world["anomaly_id"], "name": "v"})
        r = client.request(method, path, json=body, headers=viewer.headers)
        assert r.status_code == 403, (method, template, r.status_code, r.text)
    for method, template in _operations(client):
        if method == "GET":
            path = isolation.fill(template, world) or template
            r = client.get(path, headers=viewer.headers)
            assert r.status_code == 200, (template, r.status_code, r.text)
    assert _snapshot(client, owner, world) == before
