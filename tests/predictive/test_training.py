"""Training over HTTP: checked in the request by the engine's plan (422 with its code,
nothing written), trained by the ``models.train`` job run here through the runner's own
:class:`JobContext`, aborted, failed; and the bad input the issue lists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from augury.datasets.storage import storage_for
from augury.jobs.models import Job
from augury.notifications.models import Notification
from augury.predictive.models import ModelVersion, PredictiveModel
from augury.predictive.services import model_files
from tests.predictive.helpers import API, churn, new_org, start_training, train, upload_table


@pytest.fixture
def owner(client):
    return new_org(client, applications=("classification", "regression", "failure"))


def counts(db) -> tuple[int, int, int]:
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(PredictiveModel)),
            s.scalar(select(func.count()).select_from(ModelVersion)),
            s.scalar(select(func.count()).select_from(Job).where(Job.type == "models.train")),
        )


def test_plan_then_train_fills_the_version(client, db, settings, owner):
    dataset = upload_table(client, owner.headers, churn(), "churn")
    r = client.post(
        f"{API}/models/plan",
        json={"dataset_id": dataset["id"], "application": "classification", "target": "churned"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["task"] == "binary" and set(plan["features"]) == {"usage", "plan"}
    reasons = {e["column"]: e["code"] for e in plan["excluded"]}
    assert reasons["id"] == "identifier" and reasons["note"] == "all_null"
    assert counts(db) == (0, 0, 0)

    trained = train(client, db, settings, owner.headers, dataset["id"], "churned", name="churn")
    model, version = trained["model"], trained["version"]
    assert version["status"] == "ready", version["error"]
    assert version["number"] == 1 and version["current"] and version["progress"] == 100.0
    assert model["current_version"] == 1 and model["status"] == "ready"
    assert version["task"] == "binary" and version["target"] == "churned"
    assert set(version["features"]) == {"usage", "plan"}
    assert {e["column"] for e in version["excluded"]} >= {"id", "note"}
    metrics = version["metrics"]
    assert metrics["primary"] in metrics["mean"] and len(metrics["folds"]) >= 2
    assert 0.5 < metrics["mean"]["roc_auc"] <= 1.0
    report = version["report"]
    importance = report["importance"]
    assert abs(sum(i["importance"] for i in importance) - 1.0) < 1e-6
    assert importance[0]["feature"] in ("usage", "plan")
    assert report["confusion"]["labels"] and report["candidates"]
    assert "metrics" not in report and "features" not in report
    assert version["content_hash"].startswith("sha256:") and version["size_bytes"] > 0
    assert version["training_seconds"] > 0
    assert version["dataset"] == {"id": dataset["id"], "name": "churn", "version": 1}
    assert version["job"]["status"] == "succeeded"

    # The dataset version is the job's input; the file is in the blob storage.
    r = client.get(f"{API}/jobs/{trained['job']['id']}/datasets", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert [(d["role"], d["dataset_id"]) for d in r.json()["items"]] == [("input", dataset["id"])]
    with db.session() as s:
        row = s.get(ModelVersion, version["id"])
        assert storage_for(settings).path(row.storage_key).is_file()
        engine = model_files.engine_model(settings, row)
        assert model_files.engine_model(settings, row) is engine  # cached
        [note] = s.scalars(select(Notification)).all()
    assert note.kind == "models.model" and note.title == "Model churn v1 is ready"
    predicted = engine.predict(churn(20, seed=5))
    assert list(predicted.columns) == ["prediction", "probability_no", "probability_yes"]


def test_refusals_in_the_request_write_nothing(client, db, settings, owner):
    frame = churn(60)
    dataset = upload_table(client, owner.headers, frame)["id"]

    def refused(status: int, target: str, **body) -> dict:
        r = start_training(client, owner.headers, dataset, target, **body)
        assert r.status_code == status, r.text
        return r.json()["error"]

    assert refused(422, "nope")["details"]["reason"] == "UNKNOWN_COLUMN"
    error = refused(422, "churned", features=["usage", "missing"])
    assert error["details"]["reason"] == "UNKNOWN_COLUMN"
    assert refused(409, "churned", application="forecast")["code"] == "NOT_SUBSCRIBED"
    r = client.post(
        f"{API}/models/plan",
        json={"dataset_id": dataset, "application": "classification", "target": "zzz"},
        headers=owner.headers,
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "UNKNOWN_COLUMN"

    one_class = upload_table(client, owner.headers, frame.assign(churned="yes"))["id"]
    r = start_training(client, owner.headers, one_class, "churned")
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "TARGET_ONE_CLASS"
    empty = upload_table(client, owner.headers, frame.assign(churned=None))["id"]
    r = start_training(client, owner.headers, empty, "churned")
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "TARGET_EMPTY"
    one_row = upload_table(client, owner.headers, frame.head(1))["id"]
    r = start_training(client, owner.headers, one_row, "churned")
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "TOO_FEW_ROWS"

    r = start_training(client, owner.headers, dataset, "churned", time_budget_s=5)
    assert r.status_code == 422
    r = start_training(client, owner.headers, 999_999, "churned")
    assert r.status_code == 404
    assert counts(db) == (0, 0, 0)


def plan(client, headers, dataset_id: int, target: str, **body):
    return client.post(
        f"{API}/models/plan",
        json={"dataset_id": dataset_id, "application": "classification", "target": target, **body},
        headers=headers,
    )


def test_planning_again_reads_the_table_once(client, owner, monkeypatch):
    """The UI plans on every change of the form: a version's rows are read once."""
    from augury.predictive.services import training

    reads = []
    read = training._read_table
    monkeypatch.setattr(
        training, "_read_table", lambda *a, **k: reads.append(a[1].id) or read(*a, **k)
    )
    dataset = upload_table(client, owner.headers, churn(), "churn")
    body = {"dataset_id": dataset["id"], "application": "classification", "target": "churned"}
    for target, features in (("churned", {"usage", "plan"}), ("plan", {"usage", "churned"})):
        r = client.post(
            f"{API}/models/plan", json={**body, "target": target}, headers=owner.headers
        )
        assert r.status_code == 200, r.text
        assert set(r.json()["features"]) == features
    assert len(reads) == 1
    # A new version of the dataset is a new file: read once too.
    frame = churn()
    frame["usage"] = frame["usage"] * 2
    other = upload_table(client, owner.headers, frame, "churn 2")
    r = client.post(
        f"{API}/models/plan", json={**body, "dataset_id": other["id"]}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert len(reads) == 2 and reads[0] != reads[1]


def test_bad_tables_are_planned_or_refused_clearly(client, db, owner):
    frame = churn(90)
    # NaN in the target: those rows are left out, with a warning; all NaN: refused above.
    gaps = frame.assign(churned=frame["churned"].where(frame.index >= 10))
    r = plan(client, owner.headers, upload_table(client, owner.headers, gaps)["id"], "churned")
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 80 and any("10 rows" in w for w in r.json()["warnings"])

    # A date column written three ways: planned (as a feature, a date or left out with
    # its reason), never a 5xx; named as the date column, it is used or refused with a code.
    dates = frame.assign(when=["2024-01-05", "05/02/2024", "March 3, 2024"] * 30)
    dataset = upload_table(client, owner.headers, dates)["id"]
    r = plan(client, owner.headers, dataset, "churned")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (
        "when" in body["features"]
        or body["date_column"] == "when"
        or any(e["column"] == "when" for e in body["excluded"])
    )
    r = plan(client, owner.headers, dataset, "churned", date_column="when")
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert r.json()["error"]["details"]["reason"] == "BAD_DATE"

    # 2,000 columns.
    rng = np.random.default_rng(1)
    wide = pd.DataFrame(rng.normal(size=(40, 2000)), columns=[f"c{i}" for i in range(2000)])
    wide["y"] = rng.choice(["a", "b"], 40)
    r = plan(client, owner.headers, upload_table(client, owner.headers, wide)["id"], "y")
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert len(r.json()["features"]) + len(r.json()["excluded"]) == 2000
    else:
        assert r.json()["error"]["details"]["reason"] == "TOO_MANY_COLUMNS"

    # A categorical column with 100,000 levels: left out with its reason, so nothing is
    # left to learn from here (422 NO_FEATURES naming it).
    n = 100_000
    levels = pd.DataFrame({"code": rng.choice([f"v{i}" for i in range(n)], n)})
    levels["y"] = rng.choice(["a", "b"], n)
    r = plan(client, owner.headers, upload_table(client, owner.headers, levels)["id"], "y")
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["details"]["reason"] == "NO_FEATURES" and "code" in error["message"]
    assert counts(db) == (0, 0, 0)
