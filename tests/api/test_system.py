"""Health, OpenAPI, interactive docs served offline, and Prometheus metrics."""

from __future__ import annotations

import re


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


def test_prometheus_metrics(client, owner):
    client.get("/api/v1/jobs", headers=owner.headers)
    client.post("/api/v1/jobs", json={"type": "demo.work"}, headers=owner.headers)
    text = client.get("/metrics").text
    assert 'augury_http_requests_total{method="GET",route="/api/v1/jobs",status="200"} 1.0' in text
    assert "augury_http_request_duration_seconds_bucket" in text
    assert 'augury_jobs{status="pending",type="demo.work"} 1.0' in text
