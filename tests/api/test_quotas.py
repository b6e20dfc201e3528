"""Per-organization metric quotas: metrics, points per minute, stored points."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from augury.metrics.models import IngestStat, MetricPointInbox
from augury.store.upsert import upsert
from tests.fixtures.app import make_app
from tests.fixtures.factories import signup

NOW = int(time.time()) - 120


def _samples(*hosts, ts=NOW):
    return [
        {"timestamp": ts, "value": 1.0, "properties": {"what": "cpu", "host": h}} for h in hosts
    ]


def _send(c, account, *hosts, ts=NOW):
    return c.post("/api/v1/metrics", json=_samples(*hosts, ts=ts), headers=account.headers)


def _count(app, model, org_id=None):
    with app.state.db.session() as s:
        stmt = select(func.count()).select_from(model)
        if org_id is not None:
            stmt = stmt.where(model.org_id == org_id)
        return s.scalar(stmt)


@pytest.fixture
def quota_app(settings):
    settings.quotas.metrics = 2
    return make_app(settings, run_jobs=False)


def test_samples_of_new_metrics_beyond_the_quota_are_refused_existing_ones_keep_accepting(
    quota_app,
):
    with TestClient(quota_app) as c:
        owner, other = signup(c), signup(c)
        r = _send(c, owner, "a", "b", "c")
        assert r.status_code == 200
        body = r.json()
        assert body["accepted"] == 2
        assert [(e["index"], e["error"]) for e in body["errors"]] == [(2, "QUOTA_EXCEEDED")]
        assert "AUGURY_QUOTAS__METRICS" in body["errors"][0]["description"]
        # The known metrics keep taking points; a new one is still refused.
        r = _send(c, owner, "a", "d", "b", ts=NOW + 60)
        assert r.json()["accepted"] == 2
        assert [(e["index"], e["error"]) for e in r.json()["errors"]] == [(1, "QUOTA_EXCEEDED")]
        names = {m["name"] for m in c.get("/api/v1/metrics", headers=owner.headers).json()["items"]}
        assert names == {"what=cpu.host=a", "what=cpu.host=b"}
        # Another organization has its own quota.
        assert _send(c, other, "a", "b").json() == {"errors": [], "accepted": 2, "rejected": 0}


def test_the_metric_quota_holds_across_processes(settings, quota_app):
    # A second app (another API process, its own metric cache) sees the stored metrics.
    with TestClient(quota_app) as c:
        owner = signup(c)
        assert _send(c, owner, "a", "b").json()["accepted"] == 2
    with TestClient(make_app(settings, run_jobs=False)) as c2:
        r = _send(c2, owner, "c", "a")
        assert r.json()["accepted"] == 1
        assert [e["error"] for e in r.json()["errors"]] == ["QUOTA_EXCEEDED"]


def _use_minutes(app, org_id, points, minutes):
    now = int(time.time() // 60 * 60)
    with app.state.db.session() as s:
        upsert(
            s,
            IngestStat.__table__,
            [
                {
                    "org_id": org_id,
                    "minute": now + 60 * i,
                    "accepted": points,
                    "refused": 0,
                    "requests": 1,
                }
                for i in minutes
            ],
            keys=["org_id", "minute"],
            add=["accepted", "refused", "requests"],
        )
        s.commit()


def test_points_per_minute_over_the_quota_get_429_and_nothing_is_stored(settings):
    settings.quotas.points_per_minute = 1000
    app = make_app(settings, run_jobs=False)
    with TestClient(app) as c:
        owner = signup(c)
        assert _send(c, owner, "a").json()["accepted"] == 1
        org_id = owner.org_id
        before = _count(app, MetricPointInbox)
        # This minute's budget (and the next one's, should the minute turn) is spent.
        _use_minutes(app, org_id, 1000, [0, 1])
        for r in (
            _send(c, owner, "a", ts=NOW + 60),
            c.post(
                "/api/v2/write?precision=s",
                content=f"cpu,host=a value=2 {NOW + 60}".encode(),
                headers=owner.headers,
            ),
        ):
            assert r.status_code == 429, r.text
            error = r.json()["error"]
            assert error["code"] == "QUOTA_EXCEEDED"
            assert error["details"]["quota"] == "points_per_minute"
            assert error["details"]["limit"] == 1000
            assert "AUGURY_QUOTAS__POINTS_PER_MINUTE" in error["message"]
            assert 1 <= int(r.headers["retry-after"]) <= 60
        assert _count(app, MetricPointInbox) == before
        # Another organization is not held back.
        assert _send(c, signup(c), "a").json()["accepted"] == 1


def test_stored_points_over_the_quota_get_403(settings):
    settings.quotas.stored_points = 50_000
    app = make_app(settings, run_jobs=False)
    with TestClient(app) as c:
        owner, other = signup(c), signup(c)
        # Points accepted earlier in the retention period (90 days) count; older do not.
        _use_minutes(app, owner.org_id, 25_000, [-60 * 24 * 91, -60 * 24 * 30])
        assert _send(c, owner, "a").json()["accepted"] == 1
        _use_minutes(app, owner.org_id, 24_999, [-1])
        # The sum is read again after USAGE_TTL_S; a second process reads it now.
        with TestClient(make_app(settings, run_jobs=False)) as c2:
            r = _send(c2, owner, "a", ts=NOW + 60)
            assert r.status_code == 403, r.text
            error = r.json()["error"]
            assert error["code"] == "QUOTA_EXCEEDED"
            assert error["details"] == {"quota": "stored_points", "limit": 50_000, "used": 50_000}
            assert "AUGURY_QUOTAS__STORED_POINTS" in error["message"]
            assert _send(c2, other, "a").json()["accepted"] == 1


def test_stored_points_counted_between_reads_of_the_sum(settings):
    settings.quotas.stored_points = 3
    with TestClient(make_app(settings, run_jobs=False)) as c:
        owner = signup(c)
        assert _send(c, owner, "a", "b").json()["accepted"] == 2
        assert _send(c, owner, "a", ts=NOW + 60).json()["accepted"] == 1
        r = _send(c, owner, "a", ts=NOW + 120)
        assert r.status_code == 403
        assert r.json()["error"]["details"]["used"] == 3


def test_default_quotas_take_a_large_batch(client, owner):
    hosts = [f"h{i}" for i in range(2000)]
    r = client.post("/api/v1/metrics", json=_samples(*hosts), headers=owner.headers)
    assert r.json() == {"errors": [], "accepted": 2000, "rejected": 0}


def _import(c, account, rows):
    return c.post(
        "/api/v1/metrics/import",
        content="\n".join(["timestamp,what,value,host", *rows]).encode(),
        headers={**account.headers, "Content-Type": "text/csv"},
    )


def test_csv_import_refused_by_the_jobs_quota_leaves_no_upload(settings):
    settings.quotas.active_jobs = 1
    with TestClient(make_app(settings, run_jobs=False)) as c:
        owner = signup(c)
        assert _import(c, owner, [f"{NOW},load,1,h1"]).status_code == 202
        r = _import(c, owner, [f"{NOW},load,1,h2"])
        assert r.status_code == 429
        assert r.json()["error"]["details"]["quota"] == "active_jobs"
        uploads = list((settings.data_dir / "uploads" / str(owner.org_id)).iterdir())
        assert len(uploads) == 1


def test_csv_backfill_refuses_rows_of_metrics_beyond_the_quota(settings):
    settings.quotas.metrics = 2
    settings.quotas.points_per_minute = 1  # history is not held to the rate
    app = make_app(settings, run_jobs=True)
    with TestClient(app) as c:
        owner = signup(c)
        rows = [f"{NOW - 3600 * i},load,{i},h{i % 3}" for i in range(30)]
        job_id = _import(c, owner, rows).json()["id"]
        app.state.runner.run_until_done([job_id])
        job = c.get(f"/api/v1/jobs/{job_id}", headers=owner.headers).json()
        assert job["status"] == "succeeded", job
        assert job["result"]["accepted"] == 20 and job["result"]["refused"] == 10
        assert {e["code"] for e in job["result"]["errors"]} == {"QUOTA_EXCEEDED"}
        assert c.get("/api/v1/metrics", headers=owner.headers).json()["total"] == 2
