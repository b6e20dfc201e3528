"""Builders every predictive test shares: an organization subscribed to applications,
tables uploaded as datasets (CSV text or a pandas frame sent as Parquet), and a model
trained over the API with its ``models.train`` job run in the test's process (the
runner's own :class:`JobContext`, so progress, abort and notifications are real)."""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from augury.predictive.models import ModelVersion, PredictiveModel
from augury.predictive.services import model_files
from tests.fixtures.factories import Account, signup
from tests.text.helpers import run_job

API = "/api/v1"
_seq = itertools.count(1)

__all__ = [
    "API",
    "churn",
    "model_file",
    "new_org",
    "ready_model",
    "run_job",
    "start_training",
    "subscribe",
    "train",
    "upload_table",
]


def new_org(client, *, applications: tuple[str, ...] = ("classification",)) -> Account:
    """The owner of a fresh organization, subscribed to ``applications``."""
    owner = signup(client, org=f"Predictive org {next(_seq)}")
    for application in applications:
        subscribe(client, owner.headers, application)
    return owner


def subscribe(client, headers: dict, application: str) -> dict:
    """Subscribe the organization to ``application`` (an admin's headers); the row."""
    r = client.post(f"{API}/subscriptions", json={"application": application}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def upload_table(client, headers: dict, table, name: str | None = None) -> dict:
    """``table`` (CSV text, bytes, or a DataFrame sent as Parquet) uploaded as a dataset;
    the dataset as the API answers it (``id``, ``version.number``)."""
    if isinstance(table, pd.DataFrame):
        buffer = io.BytesIO()
        table.to_parquet(buffer, index=False)
        blob, file_name = buffer.getvalue(), "table.parquet"
    else:
        blob = table.encode() if isinstance(table, str) else table
        file_name = "table.csv"
    r = client.post(
        f"{API}/datasets",
        data={"name": name or f"table {next(_seq)}"},
        files={"file": (file_name, io.BytesIO(blob))},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def start_training(client, headers: dict, dataset_id: int, target: str, **body):
    """``POST /models`` (a fresh name unless given); the raw response."""
    payload = {
        "name": f"model {next(_seq)}",
        "application": "classification",
        "dataset_id": dataset_id,
        "target": target,
        "time_budget_s": 10,
        **body,
    }
    return client.post(f"{API}/models", json=payload, headers=headers)


def train(client, db, settings, headers: dict, dataset_id: int, target: str, **body) -> dict:
    """A model trained on the dataset, its job run to its end here; ``{"model",
    "version"}`` as the API answers them after the job (the version READY, or FAILED
    with its reason: the job's exception is swallowed for the test to read)."""
    r = start_training(client, headers, dataset_id, target, **body)
    assert r.status_code == 202, r.text
    started = r.json()
    with contextlib.suppress(Exception):  # the version's status and error say what happened
        run_job(db, settings, started["job"]["id"])
    model_id, number = started["model"]["id"], started["version"]["number"]
    model = client.get(f"{API}/models/{model_id}", headers=headers).json()
    version = client.get(f"{API}/models/{model_id}/versions/{number}", headers=headers).json()
    return {"model": model, "version": version, "job": started["job"]}


def churn(rows: int = 240, seed: int = 0) -> pd.DataFrame:
    """A small binary table: ``churned`` follows ``usage`` and ``plan``; ``id`` is an
    identifier and ``note`` is all null, so training leaves both out."""
    rng = np.random.default_rng(seed)
    usage = rng.normal(50, 15, rows)
    plan = rng.choice(["basic", "pro", "team"], rows)
    score = (usage - 50) / 10 + np.where(plan == "basic", 1.0, -0.5) + rng.normal(0, 0.5, rows)
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "usage": usage.round(2),
            "plan": plan,
            "note": pd.Series([None] * rows, dtype="object"),
            "churned": np.where(score > 0, "yes", "no"),
        }
    )


@functools.cache
def trained_folder() -> Path:
    """The engine's model of :func:`churn`, trained once per test process and saved (a
    training takes seconds; tests of what happens after it share this one)."""
    from augury.engines.tabular.automl import TrainOptions, train

    options = TrainOptions(application="classification", time_budget_s=1.0)
    engine = train(churn(), "churned", options)
    folder = Path(tempfile.mkdtemp(prefix="augury-churn-model-")) / "model"
    engine.save(folder)
    return folder


def model_file(settings, name: str = "churn", number: int = 1) -> bytes:
    """:func:`trained_folder` as a model file this server signed (what its download
    gives), for a classification model."""
    from augury.engines.tabular.automl import load

    summary = load(trained_folder()).summary()
    named = PredictiveModel(name=name, application="classification")
    version = ModelVersion(number=number, **model_files.fields_of(summary))
    version.content_hash = summary["content_hash"]
    dst = Path(tempfile.mkdtemp(prefix="augury-churn-zip-")) / "model.zip"
    model_files.write_file(settings, named, version, trained_folder(), dst)
    return dst.read_bytes()


def upload_version(client, headers: dict, model_id: int, blob: bytes):
    """``POST /models/{id}/versions/upload`` of ``blob``; the raw response."""
    return client.post(
        f"{API}/models/{model_id}/versions/upload",
        files={"file": ("model.zip", io.BytesIO(blob))},
        headers=headers,
    )


def ready_model(client, settings, headers: dict, name: str | None = None) -> dict:
    """A classification model over an uploaded :func:`churn` table whose current
    version is READY, without waiting for a training: version 1 is queued and aborted,
    version 2 is :func:`model_file` uploaded. ``{"model", "version", "dataset"}``."""
    dataset = upload_table(client, headers, churn(), name)
    named = {"name": name} if name else {}
    r = start_training(client, headers, dataset["id"], "churned", **named)
    assert r.status_code == 202, r.text
    model_id = r.json()["model"]["id"]
    r = client.post(f"{API}/models/{model_id}/versions/1/abort", headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "aborted", r.text
    r = upload_version(client, headers, model_id, model_file(settings))
    assert r.status_code == 201, r.text
    model = client.get(f"{API}/models/{model_id}", headers=headers).json()
    return {"model": model, "version": r.json(), "dataset": dataset}
