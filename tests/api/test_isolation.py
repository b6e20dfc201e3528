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


def _make_channel(client, a):
    body = {"name": "c", "type": "slack", "config": {"url": "https://hooks.example/x"}}
    return client.post("/api/v1/channels", json=body, headers=a.headers).json()["id"]


def _make_alert(client, a):
    body = {"title": "secret alert", "channel_ids": [_make_channel(client, a)]}
    return client.post("/api/v1/alerts", json=body, headers=a.headers).json()["id"]


def _make_trigger(client, a):
    from augury.alerts.evaluate import evaluate

    _make_alert(client, a)
    _make_anomaly(client, a)
    evaluate(client.app.state.db, base_url="http://augury.test")
    return client.get("/api/v1/alerts/triggered", headers=a.headers).json()["items"][0]["id"]


def _make_delivery(client, a):
    _make_trigger(client, a)
    channel = client.get("/api/v1/channels", headers=a.headers).json()["items"][0]["id"]
    log = client.get(f"/api/v1/channels/{channel}/deliveries", headers=a.headers).json()
    return log["items"][0]["id"]


def _make_event(client, a):
    body = {"title": "deploy", "category": "deploys", "source": "ci", "start": 1_700_000_000}
    return client.post("/api/v1/events", json=body, headers=a.headers).json()["id"]


def _make_window(client, a):
    body = {"name": "w", "start": 1_700_000_000, "end": 1_700_003_600}
    return client.post("/api/v1/maintenance-windows", json=body, headers=a.headers).json()["id"]


def _make_action(client, a):
    body = {"name": "runbook", "button": "Runbook", "url": "https://wiki.example/r"}
    return client.post("/api/v1/alert-actions", json=body, headers=a.headers).json()["id"]


def _make_routing(client, a):
    body = {
        "title": "t",
        "dimension": "dc",
        "routes": [{"value": "eu", "channel_ids": [_make_channel(client, a)]}],
    }
    return client.post("/api/v1/routing-tables", json=body, headers=a.headers).json()["id"]


def _make_feedback(client, a):
    body = {"type": "not_interesting", "anomaly_id": _make_anomaly(client, a)}
    return client.post("/api/v1/feedback", json=body, headers=a.headers).json()["id"]


def _make_dataset(client, a):
    files = {"file": ("secret.csv", b"region,units\nNorth,3\nSouth,5\n")}
    r = client.post(
        "/api/v1/datasets", data={"name": "secret_sales"}, files=files, headers=a.headers
    )
    return r.json()["id"]


def _make_chart(client, a):
    _make_dataset(client, a)
    body = {"query": "total units by region", "data_source": "secret_sales", "save": True}
    return client.post("/api/v1/analytics/chart", json=body, headers=a.headers).json()["chart_id"]


def _make_analysis(client, a):
    rows = "".join(f"{i},{i % 7},{2 * i + i % 3}\n" for i in range(40))
    files = {"file": ("drivers.csv", ("x,noise,y\n" + rows).encode())}
    client.post("/api/v1/datasets", data={"name": "secret_drivers"}, files=files, headers=a.headers)
    body = {"query": "what drives y?", "data_source": "secret_drivers", "target": "y"}
    r = client.post("/api/v1/ai/intelligent-analysis", json=body, headers=a.headers)
    return r.json()["id"]


def _make_provider(client, a):
    body = {
        "name": "secret llm",
        "base_url": "https://llm.example/v1",
        "model": "secret-model",
        "api_key": "sk-secret-provider-key",
    }
    return client.post("/api/v1/ai/providers", json=body, headers=a.headers).json()["id"]


def _make_webhook(client, a):
    body = {"name": "w", "url": "https://hooks.example/secret", "events": ["*"]}
    return client.post("/api/v1/webhooks", json=body, headers=a.headers).json()["id"]


def _make_dashboard(client, a):
    body = {"name": "secret board", "tiles": [{"id": "n", "type": "markdown", "text": "x"}]}
    rid = client.post("/api/v1/dashboards", json=body, headers=a.headers).json()["id"]
    client.post(f"/api/v1/dashboards/{rid}/shares", json={}, headers=a.headers)
    schedule = {"cron": "0 8 * * 1", "recipients": ["a@example.com"]}
    client.post(f"/api/v1/dashboards/{rid}/schedules", json=schedule, headers=a.headers)
    return rid


# name: (create in A, list path, [(method, path template, json)] that must 404 for B)
RESOURCES = {
    "job": (
        _make_job,
        "/api/v1/jobs",
        [
            ("GET", "/api/v1/jobs/{id}", None),
            ("GET", "/api/v1/jobs/{id}/logs", None),
            ("POST", "/api/v1/jobs/{id}/abort", None),
            ("GET", "/api/v1/jobs/{id}/datasets", None),
            ("GET", "/api/v1/jobs/{id}/data", None),
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
    "alert": (
        _make_alert,
        "/api/v1/alerts",
        [
            ("GET", "/api/v1/alerts/{id}", None),
            ("PUT", "/api/v1/alerts/{id}", {"title": "pwned"}),
            ("POST", "/api/v1/alerts/{id}/pause", None),
            ("POST", "/api/v1/alerts/{id}/snooze", {"duration_s": 60}),
            ("DELETE", "/api/v1/alerts/{id}", None),
        ],
    ),
    "triggered_alert": (
        _make_trigger,
        "/api/v1/alerts/triggered",
        [
            ("GET", "/api/v1/alerts/triggered/{id}", None),
            ("POST", "/api/v1/alerts/triggered/{id}/acknowledge", None),
            ("POST", "/api/v1/alerts/triggered/{id}/resolve", None),
            ("GET", "/api/v1/alerts/triggered/{id}/deliveries", None),
        ],
    ),
    "channel": (
        _make_channel,
        "/api/v1/channels",
        [
            ("GET", "/api/v1/channels/{id}", None),
            ("PATCH", "/api/v1/channels/{id}", {"name": "pwned"}),
            ("POST", "/api/v1/channels/{id}/test", None),
            ("GET", "/api/v1/channels/{id}/deliveries", None),
            ("DELETE", "/api/v1/channels/{id}", None),
        ],
    ),
    "delivery": (
        _make_delivery,
        "/api/v1/deliveries",
        [("POST", "/api/v1/deliveries/{id}/retry", None)],
    ),
    "event": (
        _make_event,
        "/api/v1/events",
        [
            ("GET", "/api/v1/events/{id}", None),
            (
                "PUT",
                "/api/v1/events/{id}",
                {"title": "x", "category": "c", "source": "s", "start": 1},
            ),
            ("DELETE", "/api/v1/events/{id}", None),
        ],
    ),
    "maintenance_window": (
        _make_window,
        "/api/v1/maintenance-windows",
        [
            ("GET", "/api/v1/maintenance-windows/{id}", None),
            ("PUT", "/api/v1/maintenance-windows/{id}", {"name": "x", "start": 1, "end": 2}),
            ("DELETE", "/api/v1/maintenance-windows/{id}", None),
        ],
    ),
    "alert_action": (
        _make_action,
        "/api/v1/alert-actions",
        [
            ("GET", "/api/v1/alert-actions/{id}", None),
            ("DELETE", "/api/v1/alert-actions/{id}", None),
        ],
    ),
    "routing_table": (
        _make_routing,
        "/api/v1/routing-tables",
        [
            ("GET", "/api/v1/routing-tables/{id}", None),
            ("DELETE", "/api/v1/routing-tables/{id}", None),
        ],
    ),
    "feedback": (_make_feedback, "/api/v1/feedback", [("DELETE", "/api/v1/feedback/{id}", None)]),
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
            ("GET", "/api/v1/export/metric/{id}", None),
            ("GET", "/api/v1/metrics/{id}/yhat", None),
            ("DELETE", "/api/v1/metrics/{id}", None),
        ],
    ),
    "dataset": (
        _make_dataset,
        "/api/v1/datasets",
        [
            ("GET", "/api/v1/datasets/{id}", None),
            ("PATCH", "/api/v1/datasets/{id}", {"description": "pwned"}),
            ("DELETE", "/api/v1/datasets/{id}", None),
            ("GET", "/api/v1/datasets/{id}/versions", None),
            ("GET", "/api/v1/datasets/{id}/versions/1", None),
            ("DELETE", "/api/v1/datasets/{id}/versions/1", None),
            ("GET", "/api/v1/datasets/{id}/schema", None),
            ("GET", "/api/v1/datasets/{id}/profile", None),
            ("POST", "/api/v1/datasets/{id}/profile", None),
            ("GET", "/api/v1/datasets/{id}/preview", None),
            ("POST", "/api/v1/datasets/{id}/query", {"count_only": True}),
            ("POST", "/api/v1/datasets/{id}/what-if", {"column": "units", "percent": 5}),
            ("GET", "/api/v1/datasets/{id}/download", None),
            ("POST", "/api/v1/datasets/{id}/query?format=csv", {}),
        ],
    ),
    "chart": (
        _make_chart,
        "/api/v1/analytics/charts",
        [
            ("GET", "/api/v1/analytics/chart/{id}", None),
            ("PUT", "/api/v1/analytics/chart/{id}", {"title": "pwned"}),
            ("DELETE", "/api/v1/analytics/chart/{id}", None),
            ("GET", "/api/v1/analytics/chart/{id}/data", None),
            ("GET", "/api/v1/export/chart/{id}", None),
            ("GET", "/api/v1/export/chart/{id}?format=html", None),
        ],
    ),
    "analysis": (
        _make_analysis,
        "/api/v1/ai/intelligent-analysis",
        [("GET", "/api/v1/ai/intelligent-analysis/{id}", None)],
    ),
    "ai_provider": (
        _make_provider,
        "/api/v1/ai/providers",
        [
            ("GET", "/api/v1/ai/providers/{id}", None),
            ("PUT", "/api/v1/ai/providers/{id}", {"model": "pwned"}),
            ("POST", "/api/v1/ai/providers/{id}/test", None),
            ("DELETE", "/api/v1/ai/providers/{id}", None),
        ],
    ),
    "webhook": (
        _make_webhook,
        "/api/v1/webhooks",
        [
            ("GET", "/api/v1/webhooks/{id}", None),
            ("PATCH", "/api/v1/webhooks/{id}", {"url": "https://attacker.example/x"}),
            ("GET", "/api/v1/webhooks/{id}/deliveries", None),
            ("POST", "/api/v1/webhooks/{id}/test", None),
            ("DELETE", "/api/v1/webhooks/{id}", None),
        ],
    ),
    "dashboard": (
        _make_dashboard,
        "/api/v1/dashboards",
        [
            ("GET", "/api/v1/dashboards/{id}", None),
            ("GET", "/api/v1/dashboards/{id}?include_data=true", None),
            ("PATCH", "/api/v1/dashboards/{id}", {"name": "pwned"}),
            ("PUT", "/api/v1/dashboards/{id}", {"name": "pwned"}),
            ("GET", "/api/v1/dashboards/{id}/tiles/n/data", None),
            ("GET", "/api/v1/dashboards/{id}/shares", None),
            ("POST", "/api/v1/dashboards/{id}/shares", {}),
            ("DELETE", "/api/v1/dashboards/{id}/shares/1", None),
            ("GET", "/api/v1/dashboards/{id}/schedules", None),
            (
                "POST",
                "/api/v1/dashboards/{id}/schedules",
                {"cron": "* * * * *", "recipients": ["x@attacker.example"]},
            ),
            ("PATCH", "/api/v1/dashboards/{id}/schedules/1", {"enabled": False}),
            ("DELETE", "/api/v1/dashboards/{id}/schedules/1", None),
            ("GET", "/api/v1/export/dashboard/{id}", None),
            ("GET", "/api/v1/export/dashboard/{id}?format=html", None),
            ("DELETE", "/api/v1/dashboards/{id}", None),
        ],
    ),
    "organization": (
        lambda c, a: a.org_id,
        "/api/v1/organizations",
        [
            ("GET", "/api/v1/organizations/{id}", None),
            ("PATCH", "/api/v1/organizations/{id}", {"name": "pwned"}),
            ("GET", "/api/v1/organizations/{id}/settings", None),
            ("PATCH", "/api/v1/organizations/{id}/settings", {"max_users": 1}),
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


@pytest.mark.parametrize("as_key", [False, True], ids=["jwt", "api_key"])
def test_usage_metrics_are_per_organization(client, owner, other_org_owner, as_key):
    intruder = other_org_owner.headers
    if as_key:
        intruder = {"X-Auth-Token": make_key(client, other_org_owner, ["admin"])}
    r = client.get(f"/api/v1/metrics/user/{owner.user_id}", headers=intruder)
    assert r.status_code == 404 and r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    theirs = client.get("/api/v1/metrics/platform", headers=intruder).json()
    assert theirs["organization_id"] == other_org_owner.org_id
    assert owner.user_id not in {m["user_id"] for m in theirs["members"]}
    viewer = invite_and_join(client, owner, "viewer")
    assert client.get("/api/v1/metrics/platform", headers=viewer.headers).status_code == 403
    r = client.get(f"/api/v1/metrics/user/{owner.user_id}", headers=viewer.headers)
    assert r.status_code == 403


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


def test_feedback_on_another_organizations_alert_is_refused(client, owner, other_org_owner):
    trigger = _make_trigger(client, owner)
    anomaly = client.get("/api/v1/anomalies", headers=owner.headers).json()["items"][0]["id"]
    for body in ({"trigger_id": trigger}, {"anomaly_id": anomaly}):
        r = client.post(
            "/api/v1/feedback",
            json={"type": "not_interesting", **body},
            headers=other_org_owner.headers,
        )
        assert r.status_code == 404 and r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert client.get("/api/v1/feedback", headers=owner.headers).json()["total"] == 0


def test_stream_failures_are_per_organization(client, owner, other_org_owner, db):
    from augury import clock
    from augury.metrics.models import StreamQueueItem

    metric = _make_metric(client, owner)
    with db.session() as s:
        s.add(
            StreamQueueItem(
                consumer="detect",
                org_id=owner.org_id,
                spans={str(metric): [1.0, 2.0, 1]},
                attempts=8,
                error="ValueError: secret detail",
                parked_at=clock.now(),
            )
        )
    b_key = {"X-Auth-Token": make_key(client, other_org_owner, ["read", "write", "admin"])}
    for headers in (other_org_owner.headers, b_key):
        listed = client.get("/api/v1/metrics/stream-failures", headers=headers)
        assert listed.status_code in (200, 403) and "secret" not in listed.text
        retried = client.post("/api/v1/metrics/stream-failures/retry", headers=headers)
        assert retried.status_code in (200, 403) and retried.json().get("retried", 0) == 0
    (mine,) = client.get("/api/v1/metrics/stream-failures", headers=owner.headers).json()
    assert mine["parked"] and mine["attempts"] == 8


def test_search_finds_only_the_callers_organization(client, owner, other_org_owner):
    _make_alert(client, owner)
    _make_dashboard(client, owner)
    _make_metric(client, owner)  # what=secret_sales
    viewer = invite_and_join(client, owner, "viewer")
    for headers in (owner.headers, viewer.headers):
        mine = client.get("/api/v1/search", params={"q": "secret"}, headers=headers).json()
        assert {i["type"] for i in mine["items"]} == {"alert", "dashboard", "metric"}
    b_key = {"X-Auth-Token": make_key(client, other_org_owner, ["read", "write", "admin"])}
    for headers in (other_org_owner.headers, b_key):
        theirs = client.get("/api/v1/search", params={"q": "secret"}, headers=headers)
        assert theirs.status_code == 200 and theirs.json()["total"] == 0, theirs.text
