"""Datasets as jobs' input and output (Anaimo's job data), and metrics exported to a
dataset by the ``datasets.from_metrics`` job."""

from __future__ import annotations

import time

import pytest

from tests.datasets.test_api import SALES, upload, wait_profiled
from tests.fixtures.factories import make_key, signup

START = 1_700_000_000


@pytest.fixture
def account(runner_client):
    owner = signup(runner_client, org="Jobs data")
    owner.key = make_key(runner_client, owner, ["ingest", "read"])
    return owner


def wait_job(client, account, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=account.headers).json()
        if job["status"] not in ("pending", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


def test_the_profile_job_reads_its_version_as_input_data(runner_client, account):
    body = upload(runner_client, account, SALES).json()
    job_id = body["version"]["profile_job_id"]
    h = account.headers
    links = runner_client.get(f"/api/v1/jobs/{job_id}/datasets", headers=h).json()["items"]
    assert links == [{"role": "input", "dataset_id": body["id"], "version": 1}]

    r = runner_client.get(f"/api/v1/jobs/{job_id}/data?count_only=true", headers=h)
    assert r.json() == {"count": 6}
    rows = runner_client.get(f"/api/v1/jobs/{job_id}/data?limit=2", headers=h).json()["rows"]
    assert len(rows) == 2
    top = runner_client.get(
        f"/api/v1/jobs/{job_id}/data?estimate=units&insight=2", headers=h
    ).json()
    units = top["columns"].index("units")
    assert [row[units] for row in top["rows"]] == [7, 5, 4, 3, 2, 1]
    altered = runner_client.get(
        f"/api/v1/jobs/{job_id}/data?estimate=units&alter=-50&insight=2", headers=h
    ).json()
    assert [row[units] for row in altered["rows"]][:2] == [3.5, 2.5]
    r = runner_client.get(f"/api/v1/jobs/{job_id}/data?output=true", headers=h)
    assert r.status_code == 404
    r = runner_client.get(f"/api/v1/jobs/{job_id}/data?estimate=region&alter=5", headers=h)
    assert r.status_code == 422


def test_metrics_exported_to_a_dataset_with_dimensions_as_columns(runner_client, account):
    body = [
        {
            "properties": {"what": "orders", "region": region},
            "timestamp": START + 60 * i,
            "value": float(i + (100 if region == "eu" else 0)),
        }
        for region in ("eu", "us")
        for i in range(120)
    ]
    r = runner_client.post(f"/api/v1/metrics?protocol=anodot20&token={account.key}", json=body)
    assert r.json()["rejected"] == 0, r.text
    runner_client.app.state.stream.drain()
    h = account.headers
    req = {
        "name": "orders",
        "expression": "orders",
        "start": START,
        "end": START + 3600,
        "resolution": "native",
    }
    r = runner_client.post("/api/v1/datasets/from-metrics", json=req, headers=h)
    assert r.status_code == 202, r.text
    job = wait_job(runner_client, account, r.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["result"]["rows"] == 120 and job["result"]["metrics"] == 2
    ds = job["result"]["dataset_id"]
    links = runner_client.get(f"/api/v1/jobs/{job['id']}/datasets", headers=h).json()["items"]
    assert links == [{"role": "output", "dataset_id": ds, "version": 1}]
    out = runner_client.get(f"/api/v1/jobs/{job['id']}/data?output=true&count_only=true", headers=h)
    assert out.json() == {"count": 120}

    q = {"group_by": ["region"], "aggregates": [{"fn": "sum", "column": "value"}]}
    r = runner_client.post(f"/api/v1/datasets/{ds}/query", json=q, headers=h)
    sums = dict(r.json()["rows"])
    assert sums == {"eu": sum(range(60)) + 6000, "us": sum(range(60))}
    dataset = wait_profiled(runner_client, account, ds)
    assert dataset["version"]["source"] == "metrics"
    schema = runner_client.get(f"/api/v1/datasets/{ds}/schema", headers=h).json()
    types = {c["name"]: c["type"] for c in schema["columns"]}
    assert types["timestamp"] == "datetime" and types["value"] in ("integer", "float")

    hourly = {**req, "resolution": "1m", "name": "orders_1m"}
    r = runner_client.post("/api/v1/datasets/from-metrics", json=hourly, headers=h)
    job = wait_job(runner_client, account, r.json()["id"])
    assert job["status"] == "succeeded", job
    cols = runner_client.get(f"/api/v1/datasets/{job['result']['dataset_id']}", headers=h)
    names = [c["name"] for c in cols.json()["version"]["columns"]]
    assert names == ["timestamp", "metric", "what", "region", "value", "min", "max", "count"]


def test_metrics_export_bad_requests(runner_client, account):
    h = account.headers
    base = {"name": "x", "expression": "orders", "start": 10, "end": 5}
    r = runner_client.post("/api/v1/datasets/from-metrics", json=base, headers=h)
    assert r.status_code == 422
    r = runner_client.post(
        "/api/v1/datasets/from-metrics", json={**base, "end": 20, "expression": "a=("}, headers=h
    )
    assert r.status_code == 422
    r = runner_client.post("/api/v1/datasets/from-metrics", json={**base, "end": 20}, headers=h)
    job = wait_job(runner_client, account, r.json()["id"])
    assert job["status"] == "failed" and "no points" in job["error"]


def test_column_types_are_listed(runner_client, account):
    r = runner_client.get("/api/v1/datasets/types", headers=account.headers)
    assert [t["type"] for t in r.json()["items"]] == [
        "integer",
        "float",
        "decimal",
        "boolean",
        "string",
        "category",
        "date",
        "datetime",
        "duration",
    ]
