"""Per-organization job quotas: jobs waiting or running, and the size of a demo.work job."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.app import make_app
from tests.fixtures.factories import signup


@pytest.fixture
def small(settings):
    settings.quotas.active_jobs = 2
    settings.quotas.job_memory_mb = 64
    settings.quotas.job_seconds = 30
    with TestClient(make_app(settings, run_jobs=False)) as c:
        yield c


def _create(c, account, **params):
    return c.post(
        "/api/v1/jobs", json={"type": "demo.work", "params": params}, headers=account.headers
    )


def test_jobs_waiting_or_running_are_limited_per_organization(small):
    owner, other = signup(small), signup(small)
    first = _create(small, owner, steps=1)
    assert first.status_code == 201
    assert _create(small, owner, steps=1).status_code == 201
    r = _create(small, owner, steps=1)
    assert r.status_code == 429
    error = r.json()["error"]
    assert error["code"] == "QUOTA_EXCEEDED"
    assert error["details"] == {"quota": "active_jobs", "limit": 2, "used": 2}
    assert "AUGURY_QUOTAS__ACTIVE_JOBS" in error["message"]
    assert int(r.headers["retry-after"]) >= 1
    # Nothing was queued by the refused call; another organization has its own quota.
    assert small.get("/api/v1/jobs", headers=owner.headers).json()["total"] == 2
    assert _create(small, other, steps=1).status_code == 201
    # A finished (here: aborted) job frees its place.
    aborted = small.post(f"/api/v1/jobs/{first.json()['id']}/abort", headers=owner.headers)
    assert aborted.json()["status"] == "aborted"
    assert _create(small, owner, steps=1).status_code == 201


@pytest.mark.parametrize(
    ("params", "field", "setting"),
    [
        ({"kind": "memory", "megabytes": 65, "steps": 1}, "megabytes", "JOB_MEMORY_MB"),
        ({"kind": "disk", "megabytes": 4096, "steps": 1}, "megabytes", "JOB_MEMORY_MB"),
        ({"kind": "cpu", "steps": 31, "step_seconds": 1}, "step_seconds", "JOB_SECONDS"),
        ({"kind": "sleep", "steps": 10_000, "step_seconds": 60}, "step_seconds", "JOB_SECONDS"),
    ],
)
def test_demo_work_larger_than_the_job_quota_is_refused_at_creation(small, params, field, setting):
    owner = signup(small)
    r = _create(small, owner, **params)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["errors"][0]["loc"] == ["params", field]
    assert f"AUGURY_QUOTAS__{setting}" in error["message"]
    assert small.get("/api/v1/jobs", headers=owner.headers).json()["total"] == 0


def test_demo_work_within_the_job_quota_is_queued(small):
    owner = signup(small)
    assert _create(small, owner, kind="memory", megabytes=64, steps=2).status_code == 201
    assert _create(small, owner, kind="cpu", steps=30, step_seconds=1).status_code == 201


def test_default_quotas_keep_the_documented_demo_work_sizes(client, owner):
    # The tour, the tests and the benchmarks use these; the defaults must not refuse them.
    for params in (
        {"steps": 20, "step_seconds": 0.5, "kind": "cpu"},
        {"steps": 600, "step_seconds": 0.1},
        {"steps": 2, "step_seconds": 0.2, "kind": "memory", "megabytes": 300},
    ):
        r = client.post(
            "/api/v1/jobs", json={"type": "demo.work", "params": params}, headers=owner.headers
        )
        assert r.status_code == 201, r.text


def test_a_zero_quota_is_no_limit(settings):
    settings.quotas.active_jobs = 0
    settings.quotas.job_memory_mb = 0
    settings.quotas.job_seconds = 0
    with TestClient(make_app(settings, run_jobs=False)) as c:
        owner = signup(c)
        for _ in range(3):
            assert _create(c, owner, kind="memory", megabytes=4096, steps=1).status_code == 201


def test_a_csv_forecast_counts_against_the_jobs_quota_and_leaves_no_upload(settings):
    settings.quotas.active_jobs = 1
    with TestClient(make_app(settings, run_jobs=False)) as c:
        owner = signup(c)
        assert _create(c, owner, steps=1).status_code == 201
        r = c.post(
            "/api/v1/forecasts/csv?horizon=3",
            content=b"timestamp,value\n" + b"".join(b"%d,%d\n" % (60 * i, i) for i in range(50)),
            headers={**owner.headers, "Content-Type": "text/csv"},
        )
        assert r.status_code == 429, r.text
        assert r.json()["error"]["details"]["quota"] == "active_jobs"
        assert not (settings.data_dir / "uploads" / str(owner.org_id)).exists() or not list(
            (settings.data_dir / "uploads" / str(owner.org_id)).iterdir()
        )
