"""``client.applications``, ``client.subscriptions`` and ``client.models`` against a real
augury server over HTTP, with its job runner (no mocks): subscribing, planning, training
waited for, the registry (versions, compare, promote, the signed download/upload round
trip), rows predicted now with explanations, a dataset predicted as a job, what-ifs and
the summaries.

The data is scikit-learn's bundled breast cancer table (a sample, with an identifier
column the plan must leave out), uploaded as a CSV dataset; the CLI tests
(tests/cli/test_model_api.py) use the same builders.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from augury.client import Client, ConflictError, NotFoundError, ValidationError

PASSWORD = "correct horse battery"
BUDGET = 10.0
"""The server's smallest time budget: the sample trains well within it."""
_seq = itertools.count(1)
FEATURES = ["mean_radius", "mean_texture", "mean_concavity", "worst_area", "worst_smoothness"]


def cancer_table(rows: int = 240) -> pd.DataFrame:
    """A sample of the breast cancer table: an identifier, five measurements and the
    diagnosis (malignant or benign), rows in a fixed shuffled order."""
    data = load_breast_cancer(as_frame=True).frame
    data = data.rename(columns=lambda c: str(c).replace(" ", "_"))
    picked = data.sample(n=rows, random_state=7).reset_index(drop=True)
    frame = picked[FEATURES].copy()
    frame.insert(0, "patient_id", [f"P{n:05d}" for n in range(rows)])
    frame["diagnosis"] = np.where(picked["target"] == 1, "benign", "malignant")
    return frame


def upload_table(client: Client, tmp_path: Path, frame: pd.DataFrame, name: str) -> int:
    """The frame as a CSV dataset, profiled; its id."""
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    dataset = client.datasets.upload(path, name)
    client.datasets.wait_profiled(dataset["id"])
    return int(dataset["id"])


def signed_up(url: str) -> Client:
    c = Client(url, timeout=120)
    c.signup(f"predictive{next(_seq)}@example.com", PASSWORD, organization_name="Plant")
    return c


@pytest.fixture
def owner(live_server):
    with signed_up(live_server.url) as c:
        yield c


def test_applications_and_the_subscription_lifecycle(owner):
    apps = {a["name"]: a for a in owner.applications.list()}
    assert set(apps) == {"forecast", "failure", "classification", "regression"}
    assert all(a["title"] and a["description"] and a["tasks"] for a in apps.values())
    assert all(a["subscription"] is None for a in apps.values())
    assert owner.subscriptions.list() == []

    sub = owner.subscriptions.create("failure")
    assert (sub["application"], sub["status"]) == ("failure", "active")
    with pytest.raises(ConflictError):
        owner.subscriptions.create("failure")
    assert owner.subscriptions.pause(sub["id"])["status"] == "paused"
    assert owner.subscriptions.resume(sub["id"])["status"] == "active"
    cancelled = owner.subscriptions.cancel(sub["id"])
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"]
    again = owner.subscriptions.create("failure")
    assert (again["id"], again["status"]) == (sub["id"], "active")

    owner.subscriptions.create("regression")
    active = owner.subscriptions.list(status="active")
    assert sorted(s["application"] for s in active) == ["failure", "regression"]
    assert owner.subscriptions.list(status="paused") == []
    listed = {a["name"]: a for a in owner.applications.list()}
    assert listed["failure"]["subscription"]["status"] == "active"
    assert listed["forecast"]["subscription"] is None
    with pytest.raises(ValidationError):
        owner.subscriptions.create("astrology")
    with pytest.raises(NotFoundError):
        owner.subscriptions.pause(999_999)


def test_training_needs_an_active_subscription_and_a_usable_target(owner, tmp_path):
    dataset = upload_table(owner, tmp_path, cancer_table(60), "small")
    with pytest.raises(ConflictError) as refused:
        owner.models.create("no", dataset, "diagnosis", "classification", time_budget_s=BUDGET)
    assert refused.value.code == "NOT_SUBSCRIBED"
    owner.subscriptions.create("classification")
    with pytest.raises(ValidationError):
        owner.models.create("bad", dataset, "nope", "classification", time_budget_s=BUDGET)
    with pytest.raises(ValidationError):
        owner.models.plan(dataset, "diagnosis", "classification", features=["mean_radius", "x"])
    assert owner.models.list()["total"] == 0


def test_plan_train_predict_explain_what_if_and_batch(owner, tmp_path):
    owner.subscriptions.create("classification")
    frame = cancer_table()
    dataset = upload_table(owner, tmp_path, frame, "cancer")

    plan = owner.models.plan(dataset, "diagnosis", "classification")
    assert (plan["task"], plan["target"], plan["rows"]) == ("binary", "diagnosis", len(frame))
    assert {"column": "patient_id", "code": "identifier"}.items() <= plan["excluded"][0].items()
    assert sorted(plan["features"]) == sorted(FEATURES)
    assert sorted(plan["classes"]) == ["benign", "malignant"]

    seen: list[dict] = []
    trained = owner.models.create(
        "Diagnosis",
        dataset,
        "diagnosis",
        "classification",
        description="breast cancer sample",
        time_budget_s=BUDGET,
        wait=True,
        on_progress=seen.append,
    )
    model, version = trained["model"], trained["version"]
    assert (version["status"], version["number"], version["task"]) == ("ready", 1, "binary")
    assert seen[-1]["status"] == "ready"
    assert {s["status"] for s in seen} <= {"queued", "training", "ready"}
    metrics = version["metrics"]
    assert metrics["primary"] in metrics["mean"] and set(metrics["mean"]) == set(metrics["std"])
    assert metrics["mean"]["roc_auc"] > 0.9
    assert any(e["column"] == "patient_id" for e in version["excluded"])
    assert version["current"] and version["content_hash"].startswith("sha256:")
    assert version["dataset"]["id"] == dataset
    assert model["current_version"] == 1 and model["application"] == "classification"
    assert [m["id"] for m in owner.models.iter(application="classification")] == [model["id"]]
    assert owner.models.list(search="diag")["total"] == 1
    assert owner.models.list(application="failure")["total"] == 0

    rows = frame.drop(columns="diagnosis").head(4).to_dict(orient="records")
    answer = owner.models.predict(model["id"], rows, explain=True)
    assert (answer["version"], answer["task"]) == (1, "binary")
    assert len(answer["predictions"]) == 4
    for p in answer["predictions"]:
        assert sum(p["probability"].values()) == pytest.approx(1.0, abs=1e-6)
        assert p["prediction"] in ("benign", "malignant")
        assert {c["feature"] for c in p["contributions"]} <= set(FEATURES)
        assert p["base"] is not None
    right = sum(
        p["prediction"] == t
        for p, t in zip(answer["predictions"], frame["diagnosis"].head(4), strict=True)
    )
    assert right >= 3

    moved = owner.models.what_if(
        model["id"], [{"column": "worst_area", "percent": 50}], rows=rows[:2]
    )
    assert len(moved["rows"]) == 2
    for r in moved["rows"]:
        assert r["changed"]["worst_area"]["after"] == pytest.approx(
            1.5 * r["changed"]["worst_area"]["before"]
        )
        assert r["delta"] is not None and r["explanation"]["contributions"]
    from_dataset = owner.models.what_if(
        model["id"],
        [{"column": "mean_texture", "value": 30.0}],
        dataset_id=dataset,
        row_indices=[0, 5],
    )
    assert [r["index"] for r in from_dataset["rows"]] == [0, 5]

    batch = owner.models.predict_dataset(model["id"], dataset, output_name="scored", wait=True)
    assert batch["job"]["status"] == "succeeded" and batch["output_name"] == "scored"
    assert owner.models.job_data(batch["job"]["id"], count_only=True) == {"count": len(frame)}
    assert owner.models.job_data(batch["job"]["id"], output=False, count_only=True) == {
        "count": len(frame)
    }
    data = owner.models.job_data(batch["job"]["id"], limit=5)
    assert data["columns"] == [
        *frame.columns,
        "prediction",
        "probability_benign",
        "probability_malignant",
    ]
    assert [r[0] for r in data["rows"]] == list(frame["patient_id"].head(5))

    summary = owner.applications.summaries()
    per_app = {a["application"]: a for a in summary["per_application"]}
    assert per_app["classification"]["models"] == 1
    assert per_app["classification"]["predictions"] >= 4 + len(frame)
    assert per_app["classification"]["what_ifs"] >= 2
    assert summary["applications"]["subscribed"] == 1


def test_versions_compare_promote_download_upload_and_delete(owner, tmp_path):
    owner.subscriptions.create("failure")
    frame = cancer_table(160)
    frame["failed"] = frame.pop("diagnosis") == "malignant"
    dataset = upload_table(owner, tmp_path, frame, "presses")
    first = owner.models.create(
        "Press failures",
        dataset,
        "failed",
        "failure",
        time_budget_s=BUDGET,
        cost_missed=10,
        cost_false_alarm=1,
        wait=True,
    )
    model_id = first["model"]["id"]
    assert first["version"]["report"]["threshold"] is not None
    second = owner.models.retrain(
        model_id, exclude=["worst_area"], time_budget_s=BUDGET, wait=True
    )["version"]
    assert second["number"] == 2 and "worst_area" not in second["features"]
    assert not second["current"]  # a new version waits to be promoted

    page = owner.models.versions(model_id)
    assert [v["number"] for v in page["items"]] in ([1, 2], [2, 1])
    assert sorted(v["number"] for v in owner.models.iter_versions(model_id)) == [1, 2]
    compared = owner.models.compare(model_id, [1, 2])
    assert [v["number"] for v in compared["versions"]] == [1, 2]
    assert compared["primary"] == {"1": "roc_auc", "2": "roc_auc"}
    primary = compared["primary"]["1"]
    assert set(compared["metrics"][primary]) == {"1", "2"}
    assert all(m["mean"] is not None for m in compared["metrics"][primary].values())

    assert owner.models.promote(model_id, 2)["current"]
    assert owner.models.get(model_id)["current_version"] == 2
    with pytest.raises(ConflictError):
        owner.models.delete_version(model_id, 2)  # the current one

    data = owner.models.download(model_id, 2)
    assert isinstance(data, bytes) and zipfile.is_zipfile(io.BytesIO(data))
    path = owner.models.download(model_id, 2, tmp_path / "v2.zip")
    assert path == tmp_path / "v2.zip" and path.read_bytes() == data
    uploaded = owner.models.upload(model_id, path)
    assert (uploaded["number"], uploaded["status"], uploaded["source"]) == (3, "ready", "uploaded")
    assert uploaded["content_hash"] == second["content_hash"]

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename.endswith(".json") and item.filename != "signature.json":
                content = content.replace(b"failed", b"failes", 1)
            dst.writestr(item, content)
    with pytest.raises(ValidationError):
        owner.models.upload(model_id, tampered)

    owner.models.delete_version(model_id, 1)
    assert sorted(v["number"] for v in owner.models.iter_versions(model_id)) == [2, 3]
    renamed = owner.models.update(model_id, name="Press 4 failures", description="HT4")
    assert (renamed["name"], renamed["description"]) == ("Press 4 failures", "HT4")
    owner.models.delete(model_id)
    with pytest.raises(NotFoundError):
        owner.models.get(model_id)
