"""Health, OpenAPI, interactive docs served offline, and Prometheus metrics."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.app import make_app


def test_health(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["jobs_runner"] == "disabled"


def test_health_reports_running_job_runner(runner_client):
    assert runner_client.get("/api/v1/health").json()["jobs_runner"] == "ok"


def test_openapi_documents_every_route_with_stable_ids(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "augury"
    paths = spec["paths"]
    for path in (
        "/api/v1/auth/login",
        "/api/v1/jobs",
        "/api/v1/api-keys",
        "/api/v1/audit",
        "/api/v1/members",
        "/api/v1/invitations",
        "/api/v1/consumptions",
    ):
        assert path in paths, path
    assert paths["/api/v1/jobs"]["get"]["operationId"] == "list_jobs"


def test_docs_page_loads_only_local_assets(client):
    for page in ("/api/v1/docs", "/api/v1/redoc"):
        html = client.get(page).text
        urls = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assert urls, page
        for url in urls:
            assert url.startswith("/"), f"{page} loads {url} from elsewhere"
            assert client.get(url).status_code == 200, url


def test_prometheus_metrics(app, client, owner):
    client.get("/api/v1/jobs", headers=owner.headers)
    client.post("/api/v1/jobs", json={"type": "demo.work"}, headers=owner.headers)
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        r = local.get("/metrics")
    assert r.status_code == 200
    text = r.text
    assert 'augury_http_requests_total{method="GET",route="/api/v1/jobs",status="200"} 1.0' in text
    assert "augury_http_request_duration_seconds_bucket" in text
    assert 'augury_jobs{status="pending",type="demo.work"} 1.0' in text


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_prometheus_metrics_open_to_loopback_clients_by_default(app, address):
    with TestClient(app, client=(address, 40000)) as local:
        r = local.get("/metrics")
    assert r.status_code == 200
    assert "augury_jobs" in r.text


def test_prometheus_metrics_refused_to_other_clients_without_a_token(client):
    # The TestClient's own address ("testclient") is not a loopback address.
    r = client.get("/metrics")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "PERMISSION_DENIED"
    assert "AUGURY_PROMETHEUS__TOKEN" in r.json()["error"]["message"]
    assert "augury_jobs" not in r.text


def test_prometheus_metrics_with_a_token(settings):
    settings.prometheus.token = "scrape-secret-0123456789"
    with TestClient(make_app(settings, run_jobs=False), client=("10.1.2.3", 4000)) as c:
        assert c.get("/metrics").status_code == 401
        wrong = c.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "AUTHENTICATION_FAILED"
        assert wrong.headers["www-authenticate"] == "Bearer"
        ok = c.get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"})
        assert ok.status_code == 200 and "augury_jobs" in ok.text


def test_prometheus_metrics_loopback_needs_the_token_when_loopback_is_not_trusted(settings):
    settings.prometheus.token = "scrape-secret-0123456789"
    settings.prometheus.allow_loopback = False
    app = make_app(settings, run_jobs=False)
    with TestClient(app, client=("127.0.0.1", 4000)) as c:
        assert c.get("/metrics").status_code == 401
        ok = c.get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"})
        assert ok.status_code == 200


def test_prometheus_metrics_can_be_turned_off(settings):
    settings.prometheus.enabled = False
    with TestClient(make_app(settings, run_jobs=False), client=("127.0.0.1", 4000)) as c:
        r = c.get("/metrics")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
