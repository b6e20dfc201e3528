"""Workflows end to end: ``analytics.workflows.start`` queues the job, the real job runner
runs it, intermediate results become datasets linked to the job; and the refusals
``start`` makes before anything is queued."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from augury.accounts.models import Role
from augury.accounts.principal import Principal
from augury.analytics import workflows
from augury.analytics.workflow_schemas import WorkflowCreate
from augury.errors import NotFound, ValidationFailed
from augury.jobs.models import Job
from tests.datasets.test_api import upload, wait_profiled
from tests.fixtures.factories import signup

DAYS = 120


def sales_csv() -> str:
    """Daily sales rising 2 a day with a weekly cycle; two planted outliers, a blank
    value and a missing day."""
    rng = np.random.default_rng(11)
    t = np.arange(DAYS)
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=DAYS, freq="D").strftime("%Y-%m-%d"),
            "region": np.where(t % 2 == 0, "eu", "us"),
            "revenue": np.round(
                500 + 2 * t + 20 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 3, DAYS), 2
            ),
        }
    )
    frame.loc[30, "revenue"] = 9000.0
    frame.loc[70, "revenue"] = 5.0
    frame.loc[50, "revenue"] = np.nan
    return frame.drop(index=[80]).to_csv(index=False)


@pytest.fixture
def account(runner_client):
    owner = signup(runner_client, org="Workflows")
    r = upload(runner_client, owner, sales_csv(), name="sales_data", filename="sales.csv")
    assert r.status_code == 201, r.text
    owner.dataset_id = r.json()["id"]
    wait_profiled(runner_client, owner, owner.dataset_id)
    return owner


def principal(account) -> Principal:
    return Principal(org_id=account.org_id, user_id=account.user_id, role=Role.owner)


def start(db, settings, account, body: dict) -> int:
    with db.session() as session:
        job = workflows.start(session, principal(account), settings, WorkflowCreate(**body))
        return job.id


def wait_job(client, account, job_id, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=account.headers).json()
        if job["status"] not in ("pending", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError("the workflow job did not finish")


SEED = {
    "workflow_name": "sales_forecasting",
    "steps": [
        {
            "step": 1,
            "type": "data_preparation",
            "parameters": {
                "data_source": "sales_data",
                "time_range": "last_90_days",
                "cleaning_rules": ["remove_outliers", "fill_missing"],
            },
        },
        {
            "step": 2,
            "type": "trend_analysis",
            "parameters": {"method": "moving_average", "window_size": 3},
        },
        {
            "step": 3,
            "type": "forecasting",
            "parameters": {"model": "naive", "forecast_periods": 6, "confidence_interval": 0.95},
        },
    ],
    "options": {"parallel_execution": True, "save_intermediate_results": True},
}


def test_aicser_workflow_runs_as_a_job_and_saves_each_step(runner_client, account, db, settings):
    job_id = start(db, settings, account, SEED)
    job = wait_job(runner_client, account, job_id)
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["waves"] == [[1], [2, 3]] and result["parallel_execution"] is True

    prep, trend, forecast = result["steps"]
    assert prep["input"] == {"dataset_id": account.dataset_id, "version": 1}
    assert prep["summary"]["outliers_removed"] == {"revenue": 2}
    assert prep["summary"]["start"] == "2024-01-30T00:00:00"  # 90 days before 2024-04-29
    assert prep["rows"] == 90  # 91 days in range, one without a row
    assert prep["preview"]["columns"] == ["date", "region", "revenue"]

    assert trend["input"] == {"step": 1}
    assert trend["summary"]["direction"] == "up" and trend["summary"]["filled_periods"] == 1
    assert trend["summary"]["slope_per_period"] == pytest.approx(2, abs=0.3)
    head = trend["preview"]
    assert head["columns"] == ["date", "revenue", "moving_average"]
    rows = head["rows"]
    assert rows[0][2] is None and rows[2][2] == pytest.approx(sum(r[1] for r in rows[:3]) / 3)

    points = forecast["summary"]["points"]
    assert [p["time"][:10] for p in points][:2] == ["2024-04-30", "2024-05-01"]
    assert len(points) == 6 and all(p["lower"] <= p["forecast"] <= p["upper"] for p in points)

    h = account.headers
    links = runner_client.get(f"/api/v1/jobs/{job_id}/datasets", headers=h).json()["items"]
    saved = {s["step"]: s["dataset"] for s in result["steps"]}
    assert {"role": "input", "dataset_id": account.dataset_id, "version": 1} in links
    for n in (1, 2, 3):
        assert {"role": "output", **saved[n]} in links
    names = {
        d["name"] for d in runner_client.get("/api/v1/datasets?limit=50", headers=h).json()["items"]
    }
    assert {
        "sales_forecasting step 1 data_preparation",
        "sales_forecasting step 2 trend_analysis",
        "sales_forecasting step 3 forecasting",
    } <= names
    q = {"aggregates": [{"fn": "count"}]}
    ds = saved[3]["dataset_id"]
    r = runner_client.post(f"/api/v1/datasets/{ds}/query", json=q, headers=h)
    assert r.json()["rows"] == [[6]]

    logs = runner_client.get(f"/api/v1/jobs/{job_id}/logs", headers=h).json()["items"]
    text = " | ".join(entry["message"] for entry in logs)
    assert "run together: 1; then 2, 3" in text and "step 3 (forecasting) done" in text


def test_a_failing_step_fails_the_job_with_its_reason(runner_client, account, db, settings):
    body = {
        "workflow_name": "bad column",
        "data_source": account.dataset_id,
        "steps": [
            {"step": 1, "type": "data_preparation", "parameters": {"value_columns": ["revenue"]}},
            {"step": 2, "type": "trend_analysis", "parameters": {"column": "region"}},
        ],
    }
    job = wait_job(runner_client, account, start(db, settings, account, body))
    assert job["status"] == "failed"
    assert "step 2 (trend_analysis): column: no column 'region'" in job["error"]


def test_an_aborted_workflow_stops_between_steps(runner_client, account, db, settings):
    body = {
        "workflow_name": "stopped",
        "data_source": "sales_data",
        "steps": [
            {"step": n, "type": "data_preparation", "depends_on": [n - 1] if n > 1 else None}
            for n in range(1, 21)
        ],
        "options": {"save_intermediate_results": True},
    }
    job_id = start(db, settings, account, body)
    h = account.headers
    deadline = time.monotonic() + 60
    while runner_client.get(f"/api/v1/jobs/{job_id}", headers=h).json()["progress"] <= 0:
        assert time.monotonic() < deadline, "the workflow did not start"
        time.sleep(0.02)
    r = runner_client.post(f"/api/v1/jobs/{job_id}/abort", headers=h)
    assert r.status_code == 200, r.text
    job = wait_job(runner_client, account, job_id)
    assert job["status"] == "aborted", job["error"]
    links = runner_client.get(f"/api/v1/jobs/{job_id}/datasets", headers=h).json()["items"]
    outputs = [link for link in links if link["role"] == "output"]
    assert 1 <= len(outputs) < 20


def refused(db, settings, account, body: dict) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as err:
        start(db, settings, account, body)
    return err.value


def test_start_refuses_graphs_and_columns_before_queueing(client, db, settings):
    owner = signup(client, org="Refusals")
    r = upload(client, owner, sales_csv(), name="sales_data", filename="sales.csv")
    assert r.status_code == 201, r.text
    with db.session() as session:  # no runner here: the profile would not finish
        from augury.datasets.models import DatasetVersion

        session.query(DatasetVersion).update({"profile_status": "complete"})
    base = {"workflow_name": "w", "data_source": "sales_data"}

    err = refused(
        db,
        settings,
        owner,
        {
            **base,
            "steps": [
                {"step": 1, "type": "trend_analysis", "depends_on": [2]},
                {"step": 2, "type": "forecasting", "depends_on": [1]},
            ],
        },
    )
    assert "form a cycle" in err.message
    assert err.details["errors"][0]["loc"] == ["body", "steps", 0, "depends_on"]

    err = refused(
        db,
        settings,
        owner,
        {
            **base,
            "steps": [
                {"step": 1, "type": "data_preparation", "depends_on": [2]},
                {"step": 2, "type": "data_preparation"},
            ],
        },
    )
    assert err.message == "step 1: depends on step 2, which comes later"

    err = refused(
        db,
        settings,
        owner,
        {**base, "steps": [{"step": 1, "type": "forecasting", "parameters": {"column": "sales"}}]},
    )
    assert err.details["errors"][0]["loc"] == ["body", "steps", 0, "parameters", "column"]
    assert err.details["candidates"] == ["date", "region", "revenue"]

    err = refused(
        db,
        settings,
        owner,
        {"workflow_name": "w", "steps": [{"step": 1, "type": "data_preparation"}]},
    )
    assert "has no data" in err.message

    with pytest.raises(NotFound):
        start(
            db,
            settings,
            owner,
            {**base, "data_source": "nope", "steps": [{"step": 1, "type": "data_preparation"}]},
        )
    other = signup(client, org="Elsewhere")
    with pytest.raises(NotFound):
        start(db, settings, other, {**base, "steps": [{"step": 1, "type": "data_preparation"}]})

    with db.session() as session:
        assert session.query(Job).filter(Job.type == "analytics.workflow").count() == 0


@pytest.mark.parametrize(
    ("step", "where"),
    [
        ({"step": 1, "type": "clustering"}, "union_tag_invalid"),
        ({"step": 1, "type": "forecasting", "parameters": {"horizon": 3}}, "extra_forbidden"),
        (
            {"step": 1, "type": "forecasting", "parameters": {"confidence_interval": 0.999}},
            "less_than_equal",
        ),
        ({"step": 1, "type": "trend_analysis", "parameters": {"method": "loess"}}, "literal_error"),
        (
            {"step": 1, "type": "data_preparation", "parameters": {"time_range": "yesterday"}},
            "string_pattern_mismatch",
        ),
        (
            {"step": 1, "type": "data_preparation", "parameters": {"cleaning_rules": ["dedupe"]}},
            "literal_error",
        ),
    ],
)
def test_the_body_refuses_unknown_types_and_parameters(step, where):
    with pytest.raises(ValidationError) as err:
        WorkflowCreate(workflow_name="w", data_source="x", steps=[step])
    assert where in {e["type"] for e in err.value.errors()}
