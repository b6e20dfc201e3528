"""Organization isolation, resource by resource.

The pattern for later issues: build a resource in organization A, then prove that
B's owner (JWT) and B's admin-scoped API key can neither see it in lists nor read,
change or delete it by id, and that A's resource is unchanged afterwards.
Add a case to ``RESOURCES`` for every new org-owned resource.
"""

from __future__ import annotations

import pytest

from tests.fixtures.factories import invite_and_join, make_key


def _make_job(client, a):
    r = client.post("/api/v1/jobs", json={"type": "demo.work"}, headers=a.headers)
    return r.json()["id"]


def _make_key(client, a):
    r = client.post("/api/v1/api-keys", json={"name": "a", "scopes": ["read"]}, headers=a.headers)
    return r.json()["id"]


def _make_invitation(client, a):
    r = client.post(
        "/api/v1/invitations",
        json={"email": "inv@example.com", "role": "member"},
        headers=a.headers,
    )
    return r.json()["id"]


def _make_member(client, a):
    m = invite_and_join(client, a, "member")
    return next(
        x["id"]
        for x in client.get("/api/v1/members", headers=a.headers).json()["items"]
        if x["email"] == m.email
    )


def _make_metric(client, a):
    key = make_key(client, a, ["ingest"])
    body = [{"properties": {"what": "secret_sales"}, "timestamp": 1_700_000_000, "value": 1}]
    client.post(f"/api/v1/metrics?protocol=anodot20&token={key}", json=body)
    items = client.get("/api/v1/metrics", headers=a.headers).json()["items"]
    return items[0]["id"]


def _make_anomaly(client, a):
    key = make_key(client, a, ["ingest"])
    values = [10.0 + (i % 7) * 0.1 for i in range(300)]
    values[250] = 100.0
    body = [
        {"properties": {"what": "secret_sales"}, "timestamp": 1_700_000_000 + 60 * i, "value": v}
        for i, v in enumerate(values)
    ]
    client.post(f"/api/v1/metrics?protocol=anodot20&token={key}", json=body)
    client.app.state.stream.drain()
    return client.get("/api/v1/anomalies", headers=a.headers).json()["items"][0]["id"]


def _make_forecast(client, a):
    _make_metric(client, a)
    body = {"name": "f", "expression": "secret_sales", "horizon": 12}
    return client.post("/api/v1/forecasts", json=body, headers=a.headers).json()["id"]


# name: (create in A, list path, [(method, path template, json)] that must 404 for B)
RESOURCES = {
    "job": (
        _make_job,
        "/api/v1/jobs",
        [
            ("GET", "/api/v1/jobs/{id}", None),
            ("GET", "/api/v1/jobs/{id}/logs", None),
            ("POST", "/api/v1/jobs/{id}/abort", None),
            ("DELETE", "/api/v1/jobs/{id}", None),
        ],
    ),
    "api_key": (_make_key, "/api/v1/api-keys", [("DELETE", "/api/v1/api-keys/{id}", None)]),
    "invitation": (
        _make_invitation,
        "/api/v1/invitations",
        [("DELETE", "/api/v1/invitations/{id}", None)],
    ),
    "member": (
        _make_member,
        "/api/v1/members",
        [
            ("PATCH", "/api/v1/members/{id}", {"role": "viewer"}),
            ("PATCH", "/api/v1/members/{id}", {"disabled": True}),
        ],
    ),
    "anomaly": (_make_anomaly, "/api/v1/anomalies", [("GET", "/api/v1/anomalies/{id}", None)]),
    "forecast": (
        _make_forecast,
        "/api/v1/forecasts",
        [
            ("GET", "/api/v1/forecasts/{id}", None),
            ("GET", "/api/v1/forecasts/{id}/results", None),
            ("GET", "/api/v1/forecasts/{id}/accuracy", None),
            ("POST", "/api/v1/forecasts/{id}/run", None),
            ("DELETE", "/api/v1/forecasts/{id}", None),
        ],
    ),
    "metric": (
        _make_metric,
        "/api/v1/metrics",
        [
            ("GET", "/api/v1/metrics/{id}", None),
            ("GET", "/api/v1/metrics/{id}/timeseries", None),
            ("GET", "/api/v1/metrics/{id}/graph.png", None),
            ("GET", "/api/v1/metrics/{id}/yhat", None),
            ("DELETE", "/api/v1/metrics/{id}", None),
        ],
    ),
    "organization": (
        lambda c, a: a.org_id,
        "/api/v1/organizations",
        [
            ("GET", "/api/v1/organizations/{id}", None),
            ("PATCH", "/api/v1/organizations/{id}", {"name": "pwned"}),
        ],
    ),
}


@pytest.mark.parametrize("resource", sorted(RESOURCES))
@pytest.mark.parametrize("as_key", [False, True], ids=["jwt", "api_key"])
def test_other_org_cannot_see_or_touch(client, owner, other_org_owner, resource, as_key):
    create, list_path, calls = RESOURCES[resource]
    rid = create(client, owner)
    before = client.get(list_path, headers=owner.headers).json()
    intruder = other_org_owner.headers
    if as_key:
        intruder = {"X-Auth-Token": make_key(client, other_org_owner, ["admin"])}
    listed = client.get(list_path, headers=intruder)
    if listed.status_code == 200:
        ids = {item["id"] for item in listed.json()["items"]}
        assert rid not in ids or resource == "organization" and rid == other_org_owner.org_id
    else:
        assert listed.status_code == 403  # e.g. keys cannot list organizations
    for method, template, body in calls:
        r = client.request(method, template.format(id=rid), json=body, headers=intruder)
        # People get 404 (the id does not exist for them); keys may be refused earlier
        # on routes reserved to people (403), which leaks nothing either.
        allowed = (
            {404: "RESOURCE_NOT_FOUND", 403: "PERMISSION_DENIED"}
            if as_key
            else {404: "RESOURCE_NOT_FOUND"}
        )
        assert r.status_code in allowed, (method, template, r.status_code, r.text)
        assert r.json()["error"]["code"] == allowed[r.status_code]
    assert client.get(list_path, headers=owner.headers).json() == before


def test_audit_log_is_per_organization(client, owner, other_org_owner):
    mine = client.get("/api/v1/audit", headers=owner.headers).json()["items"]
    theirs = client.get("/api/v1/audit", headers=other_org_owner.headers).json()["items"]
    assert {e["actor_email"] for e in mine} == {owner.email}
    assert {e["actor_email"] for e in theirs} == {other_org_owner.email}


def test_consumptions_are_per_organization(client, owner, other_org_owner, db):
    from sqlalchemy import update

    from augury import clock
    from augury.jobs.models import Job

    _make_job(client, owner)
    with db.session() as s:
        s.execute(update(Job).values(started_at=clock.now(), cpu_seconds=1.0))
    assert len(client.get("/api/v1/consumptions", headers=owner.headers).json()) == 1
    assert client.get("/api/v1/consumptions", headers=other_org_owner.headers).json() == []


def test_metric_data_is_per_organization(client, owner, other_org_owner):
    _make_metric(client, owner)
    theirs = make_key(client, other_org_owner, ["ingest", "read"])
    # Same metric identity in B: a separate metric, B's reads see only B's point.
    body = [{"properties": {"what": "secret_sales"}, "timestamp": 1_700_000_060, "value": 2}]
    client.post(f"/api/v1/metrics?protocol=anodot20&token={theirs}", json=body)
    client.app.state.stream.drain()
    for account, value in ((owner, 1.0), (other_org_owner, 2.0)):
        (metric,) = client.get("/api/v1/metrics", headers=account.headers).json()["items"]
        points = client.get(
            f"/api/v1/metrics/{metric['id']}/timeseries?resolution=native&from=0",
            headers=account.headers,
        ).json()
        assert points["values"] == [value]
    assert client.get(f"/api/v1/metrics/eps?rollup=weekly&token={theirs}").status_code == 200
    card = client.get(
        "/api/v2/metrics/cardinality?startTime=0&endTime=2000000000",
        headers=other_org_owner.headers,
    ).json()
    assert card["totalMetrics"] == 1
    overview = client.get("/api/v1/metrics/overview", headers=other_org_owner.headers).json()
    assert overview["metrics"] == 1


def test_stream_schemas_are_per_organization(client, owner, other_org_owner):
    schema = {"name": "s", "dimensions": [], "measurements": {"m": {"aggregation": "sum"}}}
    sid = client.post("/api/v2/stream-schemas", json=schema, headers=owner.headers).json()
    sid = sid["schema"]["id"]
    intruder = other_org_owner.headers
    assert client.get("/api/v2/stream-schemas/schemas", headers=intruder).json() == []
    assert client.get(f"/api/v2/stream-schemas/{sid}", headers=intruder).status_code == 404
    assert client.delete(f"/api/v2/stream-schemas/{sid}", headers=intruder).status_code == 404
    key = make_key(client, other_org_owner, ["ingest"])
    point = {"schemaId": sid, "timestamp": 1_700_000_000, "measurements": {"m": 1}}
    r = client.post(f"/api/v1/metrics?protocol=anodot30&token={key}", json=[point])
    assert r.json()["errors"][0]["error"] == "SCHEMA_NOT_FOUND"
    assert client.get(f"/api/v2/stream-schemas/{sid}", headers=owner.headers).status_code == 200


def test_detection_controls_are_per_organization(client, owner, other_org_owner):
    mid = _make_metric(client, owner)
    intruder = other_org_owner.headers
    r = client.post("/api/v1/metrics/learning/stop", json={"metric_ids": [mid]}, headers=intruder)
    assert r.status_code == 404
    r = client.post("/api/v1/metrics/learning/stop", json={"q": "secret_sales"}, headers=intruder)
    assert r.json()["metrics"] == 0
    assert client.get("/api/v1/metrics/learning", headers=owner.headers).json() == []
    for path, body in (
        ("/api/v1/exclusions", {"expression": "what=secret_sales"}),
        ("/api/v1/sensitivity-rules", {"expression": "", "sensitivity": "low"}),
    ):
        rid = client.post(path, json=body, headers=owner.headers).json()["id"]
        assert client.get(path, headers=intruder).json() == []
        assert client.delete(f"{path}/{rid}", headers=intruder).status_code == 404
        assert [x["id"] for x in client.get(path, headers=owner.headers).json()] == [rid]
