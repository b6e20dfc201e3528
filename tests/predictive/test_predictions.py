"""Predictions: rows predicted now (``POST /models/{id}/predict``, with explanations),
datasets predicted by a ``models.predict`` job and read back through the jobs' data
route (paging, count-only, top rows by a probability, a what-if on a column), and the
refusals: a missing feature column, a value of the wrong type, a version that is not
ready, another organization's model. Models are trained over the API on a small table
whose label follows two columns, so the predictions can be checked, not only
counted; jobs run in the test's process with the runner's own context.

Training takes its whole time budget (10 s), so a model is trained over the API once
per module and process (:func:`ready_model`); each test then creates its model over the
API and uploads that signed file as its current version (the settings' secret is the
same in every test, so the signature verifies): the predictions run on a real trained
model, read through the registry's one loader, in seconds."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from augury.config import Settings
from augury.jobs import service as jobs_service
from augury.jobs.models import Job
from augury.predictive.models import ModelUsage
from augury.predictive.services import predicting
from augury.runtime.job_process import JobAborted
from tests.fixtures.app import make_app
from tests.fixtures.factories import invite_and_join
from tests.predictive.helpers import API, new_org, run_job, train, upload_table


def table(n: int, seed: int = 0, *, with_label: bool = True) -> pd.DataFrame:
    """``label`` is yes when ``x1 + (color == red)`` is large: learnable in seconds."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.uniform(0, 10, size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    frame = pd.DataFrame({"x1": x1.round(3), "x2": x2.round(2), "color": color})
    if with_label:
        score = x1 + 1.5 * (color == "red") + rng.normal(scale=0.3, size=n)
        frame["label"] = np.where(score > 0.5, "yes", "no")
    return frame


@pytest.fixture
def owner(client):
    return new_org(client, applications=("classification", "regression"))


_TRAINED: dict[tuple, bytes] = {}
"""Signed model files trained in this process, by application, target and table."""


def ready_model(
    client, db, settings, headers, data: dict, frame: pd.DataFrame, target: str, **body
) -> dict:
    """A model named ``body["name"]`` whose current version (2) is a model trained on
    ``frame`` (uploaded as ``data``), its first training left queued and then aborted
    (version 1: not ready). ``{"model", "version"}``."""
    application = body.get("application", "classification")
    key = (application, target, pd.util.hash_pandas_object(frame).sum())
    if key not in _TRAINED:
        seed = train(client, db, settings, headers, data["id"], target, **{**body, "name": "seed"})
        assert seed["version"]["status"] == "ready", seed["version"]
        url = f"{API}/models/{seed['model']['id']}/versions/1/file"
        _TRAINED[key] = client.get(url, headers=headers).content
    r = client.post(
        f"{API}/models",
        json={
            "application": application,
            "dataset_id": data["id"],
            "target": target,
            "time_budget_s": 10,
            **body,
        },
        headers=headers,
    )
    assert r.status_code == 202, r.text
    model_id = r.json()["model"]["id"]
    r = client.post(f"{API}/models/{model_id}/versions/1/abort", headers=headers)
    assert r.status_code == 200, r.text
    r = client.post(
        f"{API}/models/{model_id}/versions/upload",
        files={"file": ("model.zip", io.BytesIO(_TRAINED[key]), "application/zip")},
        headers=headers,
    )
    assert r.status_code in (200, 201), r.text
    model = client.get(f"{API}/models/{model_id}", headers=headers).json()
    version = client.get(f"{API}/models/{model_id}/versions/2", headers=headers).json()
    assert model["current_version"] == 2 or version.get("current"), (model, version)
    return {"model": model, "version": version}


@pytest.fixture
def trained(client, db, settings, owner) -> dict:
    frame = table(300)
    data = upload_table(client, owner.headers, frame, name="machines")
    got = ready_model(client, db, settings, owner.headers, data, frame, "label", name="Breakdowns")
    return {**got, "dataset": data}


def predict(client, headers, model_id, **body):
    return client.post(f"{API}/models/{model_id}/predict", json=body, headers=headers)


ROWS = [
    {"x1": 2.5, "x2": 1.0, "color": "red"},
    {"x1": -2.5, "x2": 9.0, "color": "blue"},
    {"x1": 0.1, "x2": 5.0, "color": "green"},
]


def test_rows_are_predicted_with_probabilities_and_additive_explanations(
    client, db, owner, trained
):
    model_id = trained["model"]["id"]
    r = predict(client, owner.headers, model_id, rows=ROWS, explain=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["model_id"], body["version"], body["task"]) == (model_id, 2, "binary")
    assert sorted(body["classes"]) == ["no", "yes"]
    high, low, _ = body["predictions"]
    assert high["prediction"] == "yes" and low["prediction"] == "no"
    assert high["probability"]["yes"] > 0.8 > 0.2 > low["probability"]["yes"]
    for item in body["predictions"]:
        assert math.isclose(sum(item["probability"].values()), 1.0, abs_tol=1e-9)
        assert item["lower"] is None and item["upper"] is None
        # additive: the base plus the contributions is the log-odds of "yes"
        raw = item["base"] + sum(c["contribution"] for c in item["contributions"])
        assert math.isclose(1 / (1 + math.exp(-raw)), item["probability"]["yes"], abs_tol=1e-6)
        names = [c["feature"] for c in item["contributions"]]
        assert sorted(names) == sorted(trained["version"]["features"])
        sizes = [abs(c["contribution"]) for c in item["contributions"]]
        assert sizes == sorted(sizes, reverse=True)
    assert {c["feature"]: c["value"] for c in high["contributions"]}["color"] == "red"
    assert "log-odds" in body["output"]
    # without explain: no contributions; the usage is counted per call
    plain = predict(client, owner.headers, model_id, rows=ROWS[:1]).json()["predictions"][0]
    assert plain["contributions"] is None and plain["base"] is None
    with db.session() as s:
        used = s.scalars(select(ModelUsage).where(ModelUsage.model_id == model_id)).all()
        assert sorted((u.kind, u.rows) for u in used) == [("predict", 1), ("predict", 3)]


def test_values_are_read_as_the_training_types_and_new_categories_predict(client, owner, trained):
    model_id = trained["model"]["id"]
    as_numbers = predict(client, owner.headers, model_id, rows=ROWS[:1]).json()
    as_text = predict(
        client,
        owner.headers,
        model_id,
        rows=[{"x1": "2.5", "x2": "1", "color": "red", "not a feature": [1, 2]}],
    ).json()
    assert as_text["predictions"] == as_numbers["predictions"]
    # a colour the model never saw, and missing values, are predicted
    r = predict(
        client,
        owner.headers,
        model_id,
        rows=[{"x1": 2.5, "x2": None, "color": "purple"}, {"x1": None, "x2": 3, "color": None}],
    )
    assert r.status_code == 200, r.text
    assert all(p["prediction"] in ("yes", "no") for p in r.json()["predictions"])
    # a value that is not of its column's type names the column and the row
    r = predict(client, owner.headers, model_id, rows=[ROWS[0], {**ROWS[1], "x1": "high"}])
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["details"]["reason"] == "BAD_VALUE"
    assert (error["details"]["column"], error["details"]["row"]) == ("x1", 1)
    assert "'x1'" in error["message"] and "Row 1" in error["message"]


def test_missing_feature_columns_and_too_many_rows_are_422(client, settings, owner, trained):
    model_id = trained["model"]["id"]
    r = predict(client, owner.headers, model_id, rows=[{"x1": 1.0}])
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["details"]["reason"] == "MISSING_COLUMNS"
    assert sorted(error["details"]["missing"]) == ["color", "x2"]
    assert "'x2'" in error["message"] and "'color'" in error["message"]
    rows = [ROWS[0]] * (settings.predictive.max_predict_rows + 1)
    r = predict(client, owner.headers, model_id, rows=rows)
    assert r.status_code == 422
    assert r.json()["error"]["details"]["reason"] == "TOO_MANY_ROWS"
    assert predict(client, owner.headers, model_id, rows=[]).status_code == 422


def test_the_servers_setting_bounds_a_synchronous_prediction(settings, owner, trained, monkeypatch):
    """A server started with AUGURY_PREDICTIVE__MAX_PREDICT_ROWS=5 predicts five rows
    and refuses six with the 422 that names its limit."""
    monkeypatch.setenv("AUGURY_PREDICTIVE__MAX_PREDICT_ROWS", "5")
    configured = Settings(**{name: getattr(settings, name) for name in settings.model_fields_set})
    assert configured.predictive.max_predict_rows == 5
    model_id = trained["model"]["id"]
    with TestClient(make_app(configured)) as small:
        r = predict(small, owner.headers, model_id, rows=[ROWS[0]] * 5)
        assert r.status_code == 200, r.text
        assert len(r.json()["predictions"]) == 5
        r = predict(small, owner.headers, model_id, rows=[ROWS[0]] * 6)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["details"] == {"reason": "TOO_MANY_ROWS", "max_rows": 5}
    assert "at most 5 rows, not 6" in error["message"]
    monkeypatch.setenv("AUGURY_PREDICTIVE__DEFAULT_TIME_BUDGET_S", "5")
    with pytest.raises(ValidationError, match="default_time_budget_s"):
        Settings()


def test_a_version_not_ready_is_409_and_an_unknown_one_404(client, owner, trained):
    model_id = trained["model"]["id"]
    retrain = {"dataset_id": trained["dataset"]["id"], "target": "label"}
    r = client.post(f"{API}/models/{model_id}/versions", json=retrain, headers=owner.headers)
    assert r.status_code == 202, r.text
    queued = r.json()["version"]["number"]
    for number, status in ((queued, "queued"), (1, "aborted")):
        r = predict(client, owner.headers, model_id, rows=ROWS, version=number)
        assert r.status_code == 409
        assert r.json()["error"]["details"] == {
            "reason": "NOT_READY",
            "status": status,
            "number": number,
        }
    body = {"dataset_id": trained["dataset"]["id"], "model_version": queued}
    r = client.post(f"{API}/models/{model_id}/predictions", json=body, headers=owner.headers)
    assert r.status_code == 409
    assert predict(client, owner.headers, model_id, rows=ROWS, version=99).status_code == 404
    # the current version still predicts
    assert predict(client, owner.headers, model_id, rows=ROWS).json()["version"] == 2


def test_another_organizations_model_is_404_and_a_viewer_predicts_but_starts_no_job(
    client, owner, trained
):
    model_id, dataset_id = trained["model"]["id"], trained["dataset"]["id"]
    stranger = new_org(client)
    assert predict(client, stranger.headers, model_id, rows=ROWS).status_code == 404
    r = client.post(
        f"{API}/models/{model_id}/predictions",
        json={"dataset_id": dataset_id},
        headers=stranger.headers,
    )
    assert r.status_code == 404
    # the stranger's own dataset cannot be predicted with our model, nor ours with theirs
    theirs = upload_table(client, stranger.headers, table(20, seed=3))
    r = client.post(
        f"{API}/models/{model_id}/predictions",
        json={"dataset_id": theirs["id"]},
        headers=owner.headers,
    )
    assert r.status_code == 404
    viewer = invite_and_join(client, owner, "viewer")
    assert predict(client, viewer.headers, model_id, rows=ROWS).status_code == 200
    r = client.post(
        f"{API}/models/{model_id}/predictions",
        json={"dataset_id": dataset_id},
        headers=viewer.headers,
    )
    assert r.status_code == 403


def start_batch(client, headers, model_id, **body) -> dict:
    r = client.post(f"{API}/models/{model_id}/predictions", json=body, headers=headers)
    assert r.status_code == 202, r.text
    return r.json()


def test_a_dataset_is_predicted_in_chunks_and_read_back_through_the_job(
    client, db, settings, owner, trained, monkeypatch
):
    monkeypatch.setattr(predicting, "CHUNK_ROWS", 40)  # 130 rows: four chunks
    model_id = trained["model"]["id"]
    new = table(130, seed=7, with_label=False)
    new.loc[5, "color"] = "purple"  # a category the model never saw
    new["machine"] = [f"m{i}" for i in range(len(new))]
    data = upload_table(client, owner.headers, new, name="this week")
    started = start_batch(client, owner.headers, model_id, dataset_id=data["id"])
    assert started["output_name"] == "Breakdowns predictions"
    assert (started["model_version"], started["dataset_version"]) == (2, 1)
    job_id = started["job"]["id"]
    assert started["job"]["type"] == "models.predict"
    result = run_job(db, settings, job_id)
    assert (result["rows"], result["input_rows"]) == (130, 130)
    h = owner.headers
    links = client.get(f"{API}/jobs/{job_id}/datasets", headers=h).json()["items"]
    assert {(x["role"], x["dataset_id"]) for x in links} == {
        ("input", data["id"]),
        ("output", result["dataset_id"]),
    }
    out = client.get(f"{API}/datasets/{result['dataset_id']}", headers=h).json()
    assert out["name"] == "Breakdowns predictions"
    count = client.get(f"{API}/jobs/{job_id}/data?output=true&count_only=true", headers=h)
    assert count.json() == {"count": 130}
    page = client.get(f"{API}/jobs/{job_id}/data?output=true&limit=1000", headers=h).json()
    assert page["columns"] == [
        "x1",
        "x2",
        "color",
        "machine",
        "prediction",
        "probability_no",
        "probability_yes",
    ]
    rows = [dict(zip(page["columns"], row, strict=True)) for row in page["rows"]]
    assert [r["machine"] for r in rows] == list(new["machine"])  # input order, every chunk
    # the same rows predicted now agree with the job's
    now = predict(client, h, model_id, rows=new.drop(columns="machine").to_dict("records"))
    for row, item in zip(rows, now.json()["predictions"], strict=True):
        assert row["prediction"] == item["prediction"]
        assert math.isclose(row["probability_yes"], item["probability"]["yes"], abs_tol=1e-9)
    assert rows[5]["prediction"] in ("yes", "no")
    # a page, and the top 20 by the probability of a breakdown
    first = client.get(f"{API}/jobs/{job_id}/data?output=true&limit=5", headers=h).json()
    assert [r[3] for r in first["rows"]] == [f"m{i}" for i in range(5)]
    top = client.get(
        f"{API}/jobs/{job_id}/data?output=true&estimate=probability_yes&insight=2", headers=h
    ).json()
    top_p = [r[6] for r in top["rows"]]
    assert len(top_p) == 20 and top_p == sorted(top_p, reverse=True)
    assert top_p[0] == max(r["probability_yes"] for r in rows)
    # the input, read back with a what-if on a column
    altered = client.get(f"{API}/jobs/{job_id}/data?estimate=x2&alter=10&limit=3", headers=h).json()
    assert altered["rows"][0][1] == pytest.approx(new["x2"][0] * 1.1)
    with db.session() as s:
        usage = s.scalars(select(ModelUsage).where(ModelUsage.kind == "batch")).one()
        assert (usage.rows, usage.job_id, usage.model_id) == (130, job_id, model_id)
    # predicting the output again replaces its prediction columns, and names a new version
    again = start_batch(
        client,
        h,
        model_id,
        dataset_id=result["dataset_id"],
        output_name="Breakdowns predictions",
    )
    second = run_job(db, settings, again["job"]["id"])
    assert (second["dataset_id"], second["version"]) == (result["dataset_id"], 2)
    page = client.get(f"{API}/jobs/{again['job']['id']}/data?output=true&limit=1", headers=h)
    assert page.json()["columns"] == [
        "x1",
        "x2",
        "color",
        "machine",
        "prediction",
        "probability_no",
        "probability_yes",
    ]


def test_a_dataset_missing_a_feature_is_refused_and_its_job_fails_readably(
    client, db, settings, owner, trained
):
    model_id = trained["model"]["id"]
    partial = upload_table(client, owner.headers, table(30, seed=2).drop(columns=["x2"]))
    r = client.post(
        f"{API}/models/{model_id}/predictions",
        json={"dataset_id": partial["id"]},
        headers=owner.headers,
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"] == {"reason": "MISSING_COLUMNS", "missing": ["x2"]}
    # a job queued over such a dataset (the API refuses to) fails saying which column
    with db.session() as s:
        job = jobs_service.create(
            session=s,
            org_id=owner.org_id,
            type=predicting.JOB_TYPE,
            params={
                "model_id": model_id,
                "model_version": 2,
                "dataset_id": partial["id"],
                "dataset_version": 1,
                "output_name": "never",
            },
        )
        job_id = job.id
    with pytest.raises(ValueError, match="lacks the feature columns of model 'Breakdowns': 'x2'"):
        run_job(db, settings, job_id)
    with db.session() as s:
        assert s.get(Job, job_id).status == "failed"
    names = [
        d["name"] for d in client.get(f"{API}/datasets", headers=owner.headers).json()["items"]
    ]
    assert "never" not in names


def test_an_aborted_batch_writes_no_dataset(client, db, settings, owner, trained):
    model_id = trained["model"]["id"]
    started = start_batch(
        client, owner.headers, model_id, dataset_id=trained["dataset"]["id"], output_name="gone"
    )
    with db.session() as s:
        s.get(Job, started["job"]["id"]).abort_requested = True
    with pytest.raises(JobAborted):
        run_job(db, settings, started["job"]["id"])
    names = [
        d["name"] for d in client.get(f"{API}/datasets", headers=owner.headers).json()["items"]
    ]
    assert "gone" not in names
    staging = list((settings.data_dir).rglob("*.parquet"))
    assert all("staging" not in str(p) for p in staging)


def test_a_regression_predicts_an_interval(client, db, settings, owner):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"size": rng.uniform(20, 200, 200), "rooms": rng.integers(1, 6, 200)})
    frame["price"] = 3 * frame["size"] + 10 * frame["rooms"] + rng.normal(scale=5, size=200)
    data = upload_table(client, owner.headers, frame)
    got = train(client, db, settings, owner.headers, data["id"], "price", application="regression")
    assert got["version"]["status"] == "ready", got["version"]
    r = predict(
        client,
        owner.headers,
        got["model"]["id"],
        rows=[{"size": 100, "rooms": 3}],
        explain=True,
    )
    item = r.json()["predictions"][0]
    assert r.json()["task"] == "regression" and r.json()["classes"] is None
    assert item["probability"] is None
    assert item["lower"] < item["prediction"] < item["upper"]
    assert item["prediction"] == pytest.approx(330, rel=0.15)
    raw = item["base"] + sum(c["contribution"] for c in item["contributions"])
    assert raw == pytest.approx(item["prediction"], rel=1e-6)
    assert r.json()["output"] == "price units"
