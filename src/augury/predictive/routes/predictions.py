"""HTTP routes of predictions: rows predicted now, a dataset predicted by a job (read
back with ``GET /jobs/{id}/data``), and what-ifs with explanations."""

from __future__ import annotations

from fastapi import APIRouter, status

from augury.api.deps import SessionDep, SettingsDep, Writer
from augury.jobs.schemas import JobRead
from augury.predictive.deps import ModelDep
from augury.predictive.schemas.predictions import (
    BatchCreate,
    BatchCreated,
    PredictRead,
    PredictRequest,
    WhatIfRead,
    WhatIfRequest,
)
from augury.predictive.services import predicting

router = APIRouter()

MODEL = "/models/{model_id}"


@router.post(f"{MODEL}/predict", response_model=PredictRead)
def predict_model_rows(
    body: PredictRequest, model: ModelDep, session: SessionDep, settings: SettingsDep
):
    """Predict up to 10,000 rows now with the model's current version (or `version`):
    each row needs every feature column (null for a missing value; other columns are
    ignored), values are read as the training column types, and categories the model
    never saw are fine. A classifier answers `prediction` and `probability` per class, a
    regression `prediction` with its 80 % interval (`lower`, `upper`), a forecast the
    next steps of each series in the rows. `explain` adds each row's `base` and
    per-feature `contributions` (largest first), which add up to the model's raw output
    (`output` says in what units)."""
    return predicting.predict(session, settings, model, body.rows, body.version, body.explain)


@router.post(
    f"{MODEL}/predictions", status_code=status.HTTP_202_ACCEPTED, response_model=BatchCreated
)
def predict_model_dataset(
    body: BatchCreate,
    model: ModelDep,
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
):
    """Predict a dataset version (its latest unless `version`) as a `models.predict`
    job. Its output is a new version of the dataset `output_name` (default '<model
    name> predictions'): the input columns plus `prediction` and one
    `probability_<class>` per class (classifiers) or `lower` and `upper` (regression);
    a forecast model writes its forecast. Read the input and output with
    `GET /jobs/{job_id}/data` (`output=true`, `limit`, `count_only`, `estimate` +
    `insight` for the top rows by a probability). 422 when the dataset lacks a
    feature column."""
    job, params = predicting.start_batch(session, principal, settings, model, body)
    return {
        "job": JobRead.model_validate(job),
        "model_id": params["model_id"],
        "model_version": params["model_version"],
        "dataset_id": params["dataset_id"],
        "dataset_version": params["dataset_version"],
        "output_name": params["output_name"],
    }


@router.post(f"{MODEL}/what-if", response_model=WhatIfRead)
def model_what_if(body: WhatIfRequest, model: ModelDep, session: SessionDep, settings: SettingsDep):
    """Change columns of rows (inline `rows`, or a dataset's rows by position:
    `{dataset_id, version?, row_indices}`) by a `percent` (numeric columns) or to a
    `value`, and see each row's prediction before and after, the `delta` of its score
    (the prediction of a regression, the positive class's probability of a binary
    classifier, the before-predicted class's of a multiclass one) and the explanation
    of the changed row. Nothing is stored but the usage count."""
    return predicting.what_if(session, settings, model, body)
