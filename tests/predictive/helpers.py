"""Builders every predictive test shares: an organization subscribed to applications,
tables uploaded as datasets (CSV text or a pandas frame sent as Parquet), and a model
trained over the API with its ``models.train`` job run in the test's process (the
runner's own :class:`JobContext`, so progress, abort and notifications are real)."""

from __future__ import annotations

import contextlib
import io
import itertools

import pandas as pd

from tests.fixtures.factories import Account, signup
from tests.text.helpers import run_job

API = "/api/v1"
_seq = itertools.count(1)

__all__ = [
    "API",
    "new_org",
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
