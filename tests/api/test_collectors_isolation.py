"""Organization isolation and roles for every route of collectors, ``/api/v1/data-sources``
and ``/api/v1/data-streams``.

As ``test_chat_isolation``: every operation the OpenAPI document has under those
prefixes is called with the ids of one of everything built in organization A (a source
on a real SQLite file, a stream on it, a metric it made, a run). Another
organization's owner (JWT) and admin key get 404 on each, and on the routes that name
A's objects in a query or a body (``dataSourceId``, ``streamId``, the divert sources);
A's data is unchanged afterwards. A's viewer reads every route (the list of what a
source holds, ``GET /data-sources/{id}/objects``, too) and gets 403 on every write; a
member gets 403 on every write of a source (they hold credentials) but lists what one
holds, to build a stream.
"""

from __future__ import annotations

import pytest

from augury.collectors.models import DataStreamMetric, DataStreamRun
from tests.api import isolation
from tests.collectors.api_world import make_source, make_stream, orders_db, stream_body
from tests.fixtures.factories import Account, invite_and_join, make_key

PREFIXES = ("/api/v1/data-sources", "/api/v1/data-streams")
SOURCES = "/api/v1/data-sources"
STREAMS = "/api/v1/data-streams"
QUERIES = {
    f"{STREAMS}/metrics/total": "?streamId={stream_id}",
    f"{STREAMS}/totals": "?streamId={stream_id}",
}
"""Query parameters a read needs."""


@pytest.fixture
def world(client, owner: Account) -> dict:
    return build_world(client, owner)


def build_world(client, owner: Account) -> dict:
    """One of everything of collectors in ``owner``'s organization, by the path
    parameter that names it (the fuzz run can use it too)."""
    orders_db(client.app.state.settings, f"org{owner.org_id}.db")
    source = make_source(client, owner, name="secret source", path=f"org{owner.org_id}.db")
    stream = make_stream(client, owner, source["id"], name="secret stream")
    key = make_key(client, owner, ["ingest"])
    body = [{"properties": {"what": "secret_rev"}, "timestamp": 1_700_000_000, "value": 1}]
    client.post(f"/api/v1/metrics?protocol=anodot20&token={key}", json=body)
    client.app.state.stream.drain()
    metric = client.get("/api/v1/metrics", headers=owner.headers).json()["items"][0]["id"]
    with client.app.state.db.session() as session:
        session.add(DataStreamMetric(stream_id=stream["id"], metric_id=metric, org_id=owner.org_id))
        session.add(DataStreamRun(org_id=owner.org_id, stream_id=stream["id"]))
    return {
        "source_id": source["id"],
        "stream_id": stream["id"],
        "metric_id": metric,
        "action": "pause",
    }


def _snapshot(client, owner: Account, ids: dict) -> list:
    src, st, h = ids["source_id"], ids["stream_id"], owner.headers
    paths = (
        f"{SOURCES}",
        f"{SOURCES}/{src}",
        f"{STREAMS}",
        f"{STREAMS}/{st}",
        f"{STREAMS}/{st}/runs",
        f"{STREAMS}/metrics/total?streamId={st}&timeRange=week",
        f"/api/v1/metrics/{ids['metric_id']}",
    )
    return [client.get(p, headers=h).json() for p in paths]


def _operations(client) -> list[tuple[str, str]]:
    return isolation.operations(client, PREFIXES)


def test_every_collectors_route_is_exercised(client, world):
    ops = _operations(client)
    assert len(ops) >= 22
    isolation.assert_every_id_known(ops, world)


@pytest.mark.parametrize("as_key", [False, True], ids=["jwt", "api_key"])
def test_another_organization_gets_404_everywhere(
    client, owner, other_org_owner, world, settings, as_key
):
    intruder = isolation.intruder(client, other_org_owner, as_key)
    before = _snapshot(client, owner, world)
    src, st = world["source_id"], world["stream_id"]
    assert client.get(SOURCES, headers=intruder).json()["total"] == 0
    assert client.get(STREAMS, headers=intruder).json()["total"] == 0
    assert client.get(f"{SOURCES}/find?searchQuery=secret", headers=intruder).json() == []
    assert client.get(f"{STREAMS}/find?searchQuery=secret", headers=intruder).json() == []
    named = [
        ("GET", f"{STREAMS}/metrics/total?streamId={st}", None),
        ("GET", f"{STREAMS}/metrics/total?streamName=secret stream", None),
        ("GET", f"{STREAMS}/totals?streamId={st}", None),
        ("POST", STREAMS, stream_body(src, name="mine now")),
        ("POST", f"{STREAMS}/preview", stream_body(src)),
    ]
    # the divert route, with A's source on either side or A's stream in the body
    orders_db(settings, "intruder.db")
    theirs = make_source(client, other_org_owner, name="theirs", path="intruder.db")
    divert = f"{SOURCES}/divertStreams"
    named += [
        ("POST", f"{divert}?fromDataSrc={src}&toDataSrc={theirs['id']}", [st]),
        ("POST", f"{divert}?fromDataSrc={theirs['id']}&toDataSrc={src}", []),
        ("POST", f"{divert}?fromDataSrc={theirs['id']}&toDataSrc={theirs['id']}", [st]),
    ]
    for method, path, body in named:
        r = client.request(method, path, json=body, headers=intruder)
        isolation.assert_hidden(r, method, path, as_key)
    for method, template in _operations(client):
        path = isolation.fill(template, world)
        if path is None:
            continue
        r = client.request(method, path, headers=intruder)
        isolation.assert_hidden(r, method, template, as_key)
    assert _snapshot(client, owner, world) == before


def test_a_viewer_reads_but_every_write_is_403(client, owner, world):
    viewer = invite_and_join(client, owner, "viewer")
    before = _snapshot(client, owner, world)
    writes = [(m, t) for m, t in _operations(client) if m != "GET"]
    assert len(writes) >= 13
    for method, template in writes:
        path = isolation.fill(template, world) or template
        r = client.request(method, path, headers=viewer.headers)
        assert r.status_code == 403, (method, template, r.status_code, r.text)
    for method, template in _operations(client):
        if method == "GET":
            path = isolation.fill(template, world) or template
            path += QUERIES.get(template, "").format(**world)
            r = client.get(path, headers=viewer.headers)
            assert r.status_code == 200, (template, r.status_code, r.text)
    assert _snapshot(client, owner, world) == before


def test_a_member_writes_streams_but_no_source(client, owner, world):
    member = invite_and_join(client, owner, "member")
    before = _snapshot(client, owner, world)
    source_writes = [(m, t) for m, t in _operations(client) if m != "GET" and t.startswith(SOURCES)]
    assert len(source_writes) >= 6
    for method, template in source_writes:
        path = isolation.fill(template, world) or template
        r = client.request(method, path, headers=member.headers)
        assert r.status_code == 403, (method, template, r.status_code, r.text)
    assert _snapshot(client, owner, world) == before
    r = client.put(f"{STREAMS}/{world['stream_id']}/state/pause", headers=member.headers)
    assert r.status_code == 200
    # what a source holds is listed for the member building a stream (no credentials)
    r = client.get(f"{SOURCES}/{world['source_id']}/objects", headers=member.headers)
    assert r.status_code == 200 and r.json()["objects"] == ["orders"], r.text
