"""The events that jobs, detection and alerting record, in the transaction that wrote
their outcome: one per job ended, per anomaly opened, per alert triggered."""

from __future__ import annotations

from sqlalchemy import select

from augury.alerts.evaluate import evaluate
from augury.events.models import PlatformEvent
from tests.anomalies.test_detection import normal, send
from tests.datasets.test_jobs import wait_job
from tests.fixtures.factories import make_key


def events_of(db, org_id: int, type: str) -> list[PlatformEvent]:
    with db.session() as s:
        stmt = select(PlatformEvent).where(
            PlatformEvent.org_id == org_id, PlatformEvent.type == type
        )
        return list(s.scalars(stmt.order_by(PlatformEvent.id)))


def test_job_finished_from_the_job_process_and_from_an_abort(runner_client, owner, db):
    h = owner.headers
    ok = runner_client.post(
        "/api/v1/jobs",
        json={"type": "demo.work", "params": {"steps": 1, "step_seconds": 0}},
        headers=h,
    ).json()
    bad = runner_client.post(
        "/api/v1/jobs",
        json={"type": "demo.work", "params": {"steps": 2, "step_seconds": 0, "fail_at_step": 1}},
        headers=h,
    ).json()
    assert wait_job(runner_client, owner, ok["id"])["status"] == "succeeded"
    assert wait_job(runner_client, owner, bad["id"])["status"] == "failed"
    got = {e.data["job_id"]: e for e in events_of(db, owner.org_id, "job.finished")}
    assert got[ok["id"]].data == {
        "job_id": ok["id"],
        "type": "demo.work",
        "status": "succeeded",
        "error": None,
        "user_id": owner.user_id,
    }
    assert got[bad["id"]].data["status"] == "failed" and got[bad["id"]].data["error"]
    assert got[ok["id"]].user_id == owner.user_id


def test_job_aborted_before_it_started(client, owner, db):
    job = client.post("/api/v1/jobs", json={"type": "demo.work"}, headers=owner.headers).json()
    r = client.post(f"/api/v1/jobs/{job['id']}/abort", headers=owner.headers)
    assert r.status_code == 200, r.text
    (event,) = events_of(db, owner.org_id, "job.finished")
    assert event.data["job_id"] == job["id"] and event.data["status"] == "aborted"


def test_an_opened_anomaly_and_a_triggered_alert(client, owner, db):
    body = {"title": "cpu", "expression": "what=cpu", "conditions": {"min_score": 80}}
    config = client.post("/api/v1/alerts", json=body, headers=owner.headers).json()
    y = normal()
    y[1200] += 6.0
    send(client, make_key(client, owner, ["ingest"]), y[:1201])
    client.app.state.stream.drain()
    evaluate(client.app.state.db, base_url="http://augury.test")
    anomalies = client.get("/api/v1/anomalies", headers=owner.headers).json()["items"]
    opened = events_of(db, owner.org_id, "anomaly.opened")
    assert sorted(e.data["anomaly_id"] for e in opened) == sorted(a["id"] for a in anomalies)
    spike = next(e.data for e in opened if e.data["timescale"] == "native")
    assert spike["what"] == "cpu" and spike["direction"] == "up" and spike["score"] > 80
    (triggered,) = events_of(db, owner.org_id, "alert.triggered")
    (trigger,) = client.get("/api/v1/alerts/triggered", headers=owner.headers).json()["items"]
    assert triggered.data["trigger_id"] == trigger["id"]
    assert triggered.data["alert_id"] == config["id"] and triggered.data["title"] == "cpu"
    evaluate(client.app.state.db, base_url="http://augury.test")  # again: nothing new
    assert len(events_of(db, owner.org_id, "alert.triggered")) == 1


def test_a_trained_model(client, db, settings, owner):
    from tests.predictive.helpers import churn, subscribe, train, upload_table

    subscribe(client, owner.headers, "classification")
    dataset = upload_table(client, owner.headers, churn(), "churn")
    trained = train(client, db, settings, owner.headers, dataset["id"], "churned", name="churn")
    assert trained["version"]["status"] == "ready", trained["version"]["error"]
    (event,) = events_of(db, owner.org_id, "model.trained")
    data = event.data
    assert data["kind"] == "predictive" and data["model_id"] == trained["model"]["id"]
    assert data["name"] == "churn" and data["version"] == 1
    assert data["version_id"] == trained["version"]["id"]
    assert data["primary"] == trained["version"]["metrics"]["primary"]
    assert data["user_id"] == owner.user_id and event.user_id == owner.user_id
