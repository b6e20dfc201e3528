"""``POST /api/v1/ai/workflow``: 202 with the job, and the error envelope for a body
that names an unknown step type or parameter, a cycle, or a column the data lacks."""

from __future__ import annotations

from tests.analytics.test_workflow_job import SEED, sales_csv, wait_job
from tests.datasets.test_api import upload, wait_profiled
from tests.fixtures.factories import signup


def test_a_workflow_posted_runs_as_a_job(runner_client):
    owner = signup(runner_client, org="Workflow API")
    ds = upload(runner_client, owner, sales_csv(), name="sales_data").json()["id"]
    wait_profiled(runner_client, owner, ds)
    body = {**SEED, "options": {"parallel_execution": False}}
    r = runner_client.post("/api/v1/ai/workflow", json=body, headers=owner.headers)
    assert r.status_code == 202, r.text
    assert r.json()["type"] == "analytics.workflow"
    job = wait_job(runner_client, owner, r.json()["id"])
    assert job["status"] == "succeeded", job
    assert [s["type"] for s in job["result"]["steps"]] == [
        "data_preparation",
        "trend_analysis",
        "forecasting",
    ]
    assert job["result"]["waves"] == [[1], [2], [3]] and job["result"]["saved"] == []


def test_bad_workflows_are_422_in_the_error_envelope(client):
    owner = signup(client, org="Workflow errors")
    upload(client, owner, sales_csv(), name="sales_data")
    h = owner.headers

    def post(steps):
        body = {"workflow_name": "w", "data_source": "sales_data", "steps": steps}
        r = client.post("/api/v1/ai/workflow", json=body, headers=h)
        assert r.status_code == 422, r.text
        return r.json()["error"]

    error = post([{"step": 1, "type": "clustering"}])
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["errors"][0]["type"] == "union_tag_invalid"
    error = post([{"step": 1, "type": "forecasting", "parameters": {"horizon": 6}}])
    assert error["details"]["errors"][0]["loc"][-1] == "horizon"
    error = post(
        [
            {"step": 1, "type": "trend_analysis", "depends_on": [2]},
            {"step": 2, "type": "trend_analysis", "depends_on": [1]},
        ]
    )
    assert "form a cycle" in error["message"]
    error = post([{"step": 1, "type": "trend_analysis", "parameters": {"column": "profit"}}])
    assert error["details"]["candidates"] == ["date", "region", "revenue"]
    r = client.post(
        "/api/v1/ai/workflow",
        json={
            "workflow_name": "w",
            "data_source": "nope",
            "steps": [{"step": 1, "type": "data_preparation"}],
        },
        headers=h,
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
