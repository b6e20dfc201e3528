"""Forecast tasks over HTTP: runs as jobs, results, accuracy, yhat, bad input."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sqlalchemy import update

from augury import clock
from augury.forecasts.jobs import ForecastScheduler
from augury.forecasts.models import ForecastTask
from augury.metrics import stream as queue
from tests.fixtures.factories import make_key, signup

HOUR = 3600
NOW = int(time.time()) // HOUR * HOUR
DAYS = 21
N = 24 * DAYS


def hourly(seed: int, n: int = N) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 20 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 2, n)


@pytest.fixture
def account(runner_client):
    owner = signup(runner_client, org="Forecasts")
    owner.key = make_key(runner_client, owner, ["ingest", "read"])
    return owner


def send(client, key, what, values, start, step=HOUR, **dims):
    body = [
        {"properties": {"what": what, **dims}, "timestamp": start + step * i, "value": float(v)}
        for i, v in enumerate(values)
    ]
    for k in range(0, len(body), 5000):
        r = client.post(f"/api/v1/metrics?token={key}", json=body[k : k + 5000])
        assert r.json()["rejected"] == 0, r.text
    settle(client)


def settle(client, timeout=60):
    """Until every consumer (rollups, detection ...) is done with the points sent: the
    processor's own thread may hold some of them (on PostgreSQL the test's drain skips
    the rows it has locked), and detection would store anomalies after the test looked."""
    stream = client.app.state.stream
    deadline = time.monotonic() + timeout
    while True:
        stream.drain()
        with stream.db.session() as session:
            if queue.pending(session) == 0:
                return
        assert time.monotonic() < deadline, "the stream processor did not finish"
        time.sleep(0.05)


def wait_run(client, owner, task_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = client.get(f"/api/v1/forecasts/{task_id}", headers=owner.headers).json()
        if task["runs"] and task["runs"][0]["status"] not in ("pending", "running"):
            return task["runs"][0]
        time.sleep(0.2)
    raise AssertionError("the forecast run did not finish")


def create(client, owner, **body):
    body = {"name": "t", "horizon": 48, "levels": [80, 95], **body}
    r = client.post("/api/v1/forecasts", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_task_runs_as_a_job_and_results_have_shapes_models_and_ordered_intervals(
    runner_client, account
):
    start = NOW - N * HOUR
    for host in ("a", "b"):
        send(runner_client, account.key, "req", hourly(ord(host)), start, host=host)
    send(runner_client, account.key, "tiny", [1.0, 2.0, 3.0], NOW - 3 * HOUR)
    task = create(runner_client, account, expression="req OR tiny")
    assert task["runs"][0]["status"] == "pending" and task["runs"][0]["job_id"]
    run = wait_run(runner_client, account, task["id"])
    assert run["status"] == "complete" and run["metrics"] == 3 and run["failed_metrics"] == 1
    job = runner_client.get(f"/api/v1/jobs/{run['job_id']}", headers=account.headers).json()
    assert job["type"] == "forecast.run" and job["progress"] == 100.0

    out = runner_client.get(f"/api/v1/forecasts/{task['id']}/results", headers=account.headers)
    results = {r["name"]: r for r in out.json()["results"]}
    tiny = results["what=tiny"]
    assert tiny["status"] == "too_short" and "needs at least" in tiny["message"]
    for host in ("a", "b"):
        r = results[f"what=req.host={host}"]
        assert r["status"] == "ok" and r["step"] == HOUR and r["history_points"] == N
        assert r["timestamps"] == [NOW - HOUR + HOUR * (i + 1) for i in range(48)]
        assert len(r["mean"]) == 48 and 24 in r["periods"]
        lo80, hi80, lo95, hi95 = (
            r["lower"]["80"],
            r["upper"]["80"],
            r["lower"]["95"],
            r["upper"]["95"],
        )
        assert all(
            a <= b <= m <= c <= d
            for a, b, m, c, d in zip(lo95, lo80, r["mean"], hi80, hi95, strict=True)
        )
        assert r["model"] and r["reason"]
        assert r["model"] in r["candidates"] and "seasonal_naive" in r["candidates"]
        # the daily cycle is forecast: peaks and troughs a day apart, within the noise
        truth = 100 + 20 * np.sin(2 * np.pi * (N + np.arange(48)) / 24)
        assert np.mean(np.abs(np.array(r["mean"]) - truth)) < 4.0


def test_accuracy_compares_past_forecasts_with_what_happened(runner_client, account):
    y = hourly(3, N + 48)
    start = NOW - (N + 48) * HOUR  # the last 48 hours are sent after the forecast
    send(runner_client, account.key, "req", y[:N], start)
    task = create(runner_client, account, expression="req")
    wait_run(runner_client, account, task["id"])
    (before,) = runner_client.get(
        f"/api/v1/forecasts/{task['id']}/accuracy", headers=account.headers
    ).json()
    assert before["points"] == 0 and before["smape"] is None
    send(runner_client, account.key, "req", y[N:], start + N * HOUR)  # the future arrives
    (after,) = runner_client.get(
        f"/api/v1/forecasts/{task['id']}/accuracy", headers=account.headers
    ).json()
    result = runner_client.get(
        f"/api/v1/forecasts/{task['id']}/results", headers=account.headers
    ).json()["results"][0]
    f, a = np.array(result["mean"]), y[N:]
    assert after["runs_evaluated"] == 1 and after["points"] == 48
    assert after["smape"] == pytest.approx(
        np.mean(200 * np.abs(a - f) / (np.abs(a) + np.abs(f))), rel=1e-3
    )
    inside = np.mean(
        (np.array(result["lower"]["95"]) <= a) & (a <= np.array(result["upper"]["95"]))
    )
    assert after["coverage"]["95"] == pytest.approx(100 * inside)
    assert 0 < after["mase"] < 2


def test_yhat_uses_a_fresh_task_result_else_forecasts_on_the_spot(runner_client, account):
    send(runner_client, account.key, "req", hourly(4), NOW - N * HOUR)
    mid = runner_client.get("/api/v1/metrics?q=req", headers=account.headers).json()["items"][0][
        "id"
    ]
    spot = runner_client.get(f"/api/v1/metrics/{mid}/yhat?steps=6", headers=account.headers).json()
    assert spot["source"] == "on_demand" and len(spot["yhat"]) == 6
    assert all(
        lo <= y <= hi
        for lo, y, hi in zip(spot["lower_95"], spot["yhat"], spot["upper_95"], strict=True)
    )
    task = create(runner_client, account, expression="req")
    wait_run(runner_client, account, task["id"])
    stored = runner_client.get(
        f"/api/v1/metrics/{mid}/yhat?steps=6", headers=account.headers
    ).json()
    assert stored["source"] == "forecast_task" and stored["timestamps"] == spot["timestamps"]
    r = runner_client.get(
        f"/api/v1/metrics/{mid}/yhat?steps=200&resolution=1d", headers=account.headers
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "too_short"


def test_bad_requests_are_refused_clearly(runner_client, account):
    send(runner_client, account.key, "req", hourly(5, 100), NOW - 100 * HOUR)

    def post(**body):
        body = {"name": "t", "expression": "req", "horizon": 24, **body}
        return runner_client.post("/api/v1/forecasts", json=body, headers=account.headers)

    assert post(horizon=5000).status_code == 422
    assert post(horizon=0).status_code == 422
    assert post(levels=[120]).status_code == 422
    r = post(expression="what=nothing*")
    assert (
        r.status_code == 422 and r.json()["error"]["message"] == "No metric matches the expression."
    )
    assert post(expression="what=(").status_code == 422
    assert post(resolution="2h").status_code == 422
    assert post(every_minutes=1).status_code == 422


def test_resolution_mismatch_and_no_data_are_reported_per_metric(runner_client, account):
    send(runner_client, account.key, "req", hourly(6, 300), NOW - 300 * HOUR)
    runner_client.app.state.stream.drain()
    task = create(runner_client, account, expression="req", resolution="1m", horizon=60)
    assert wait_run(runner_client, account, task["id"])["status"] == "complete"
    (r,) = runner_client.get(
        f"/api/v1/forecasts/{task['id']}/results", headers=account.headers
    ).json()["results"]
    assert r["status"] == "resolution_mismatch" and r["mean"] is None


def test_an_aborted_run_shows_no_results_and_a_new_run_can_start(runner_client, account, db):
    send(runner_client, account.key, "req", hourly(7), NOW - N * HOUR)
    runner_client.app.state.runner.stop()  # keep the run queued so it can be aborted
    task = create(runner_client, account, expression="req")
    job_id = task["runs"][0]["job_id"]
    r = runner_client.post(f"/api/v1/jobs/{job_id}/abort", headers=account.headers)
    assert r.json()["status"] == "aborted"
    again = runner_client.get(f"/api/v1/forecasts/{task['id']}", headers=account.headers).json()
    assert again["runs"][0]["status"] == "aborted"
    results = runner_client.get(f"/api/v1/forecasts/{task['id']}/results", headers=account.headers)
    assert results.json() == {"task_id": task["id"], "run": None, "results": []}
    r = runner_client.post(f"/api/v1/forecasts/{task['id']}/run", headers=account.headers)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    r = runner_client.post(f"/api/v1/forecasts/{task['id']}/run", headers=account.headers)
    assert r.status_code == 409


def test_refreshing_tasks_are_queued_when_due(runner_client, account, db):
    send(runner_client, account.key, "req", hourly(8), NOW - N * HOUR)
    task = create(runner_client, account, expression="req", every_minutes=30)
    wait_run(runner_client, account, task["id"])
    assert task["next_run_at"] is not None
    scheduler = ForecastScheduler()
    scheduler.run(db)  # not due yet: nothing queued
    runs = runner_client.get(f"/api/v1/forecasts/{task['id']}", headers=account.headers).json()
    assert len(runs["runs"]) == 1
    with db.session() as s:
        s.execute(update(ForecastTask).values(next_run_at=clock.now()))
    scheduler.run(db)
    runs = runner_client.get(f"/api/v1/forecasts/{task['id']}", headers=account.headers).json()
    assert len(runs["runs"]) == 2
    assert wait_run(runner_client, account, task["id"])["status"] == "complete"


def test_csv_forecast_job(runner_client, account):
    y = hourly(9, 24 * 14)
    rows = ["series,timestamp,value"]
    rows += [f"s1,{NOW - (len(y) - i) * HOUR},{v:.3f}" for i, v in enumerate(y)]
    r = runner_client.post(
        "/api/v1/forecasts/csv?horizon=24&level=90",
        content="\n".join(rows).encode(),
        headers={**account.headers, "Content-Type": "text/csv"},
    )
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = runner_client.get(f"/api/v1/jobs/{r.json()['id']}", headers=account.headers).json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    (series,) = job["result"]["series"]
    assert series["series"] == "s1" and len(series["forecast"]) == 24
    assert all(
        lo <= f <= hi
        for lo, f, hi in zip(
            series["lower_90"], series["forecast"], series["upper_90"], strict=True
        )
    )
