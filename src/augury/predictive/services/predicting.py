"""Predictions: rows predicted now, datasets predicted by a job, and what-ifs.

A **synchronous** prediction (:func:`predict`) reads at most
``AUGURY_PREDICTIVE__MAX_PREDICT_ROWS`` JSON rows (10,000 unless configured), checks that
each carries every feature of the model version (a 422 names the missing columns),
coerces the values to the training column types (a value that cannot be read as its
column's type is a 422 naming the column and the row), and answers the engine's
prediction per row, with the additive explanation when asked. Categories the model
never saw are accepted (the engine reads them as missing).

A **batch** prediction (:func:`start_batch`) is a ``models.predict`` job
(:class:`PredictDataset`) over one dataset version. The versions are resolved when it
is queued (a promotion meanwhile does not change what it uses). It reads the Parquet
file :data:`CHUNK_ROWS` rows at a time, so a dataset larger than memory is predicted
in constant memory, and writes the input columns plus ``prediction`` and
``probability_<class>`` (classifiers) or ``lower``/``upper`` (regression) to a new
dataset version linked as the job's output; a forecast model writes the engine's own
output frame (``horizon`` steps after each series' last date), which needs every row
at once. Both are read back with ``GET /jobs/{id}/data``.

A **what-if** (:func:`what_if`) changes columns of chosen rows by a percentage or to a
value and answers the prediction before and after, the change of the score, and the
explanation of the changed row (Anaimo's ``alter``). Rows are given inline or read by
position from a dataset version.

Every call records a :class:`~augury.predictive.models.ModelUsage` row (rows
predicted), which the summaries count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import Settings
from augury.datasets import service as datasets_service
from augury.datasets.models import Dataset, DatasetVersion
from augury.datasets.schemas import DatasetMeta
from augury.datasets.storage import storage_for
from augury.engines.tabular.errors import TableError
from augury.errors import Conflict, ValidationFailed
from augury.jobs import service as jobs_service
from augury.jobs.models import Job
from augury.predictive.models import ModelVersion, PredictiveModel, VersionStatus
from augury.predictive.schemas.predictions import (
    BatchCreate,
    DatasetRows,
    WhatIfRequest,
)
from augury.predictive.services import model_files, registry
from augury.predictive.services.prediction_rows import (
    AS_GIVEN,
    DATETIME,
    NUMERIC,
    classes_of,
    coerce_lenient,
    coerce_values,
    explanations,
    feature_kinds,
    is_number,
    jsonable,
    number,
    outcome,
    predicted,
    quoted,
    rows_frame,
)

JOB_TYPE = "models.predict"
CHUNK_ROWS = 50_000
"""Rows a batch job reads, predicts and writes at a time."""


# --- versions ------------------------------------------------------------------------------


def resolve_version(session: Session, model: PredictiveModel, number: int | None) -> ModelVersion:
    """Version ``number`` of ``model`` (its current one when ``None``), ready to predict:
    404 when there is no such version, 409 when it is not (or no longer) READY."""
    if number is None:
        found = registry.current_version(session, model)
    else:
        found = registry.get_version(session, model, number)
    if found.status != VersionStatus.READY:
        raise Conflict(
            f"Version {found.number} of model '{model.name}' is {found.status}: only a "
            "READY version can predict.",
            details={"reason": "NOT_READY", "status": found.status, "number": found.number},
        )
    return found


# --- synchronous predictions ---------------------------------------------------------------


def predict(
    session: Session,
    settings: Settings,
    model: PredictiveModel,
    rows: Sequence[dict],
    version: int | None = None,
    explain: bool = False,
) -> dict:
    """Predict ``rows`` now with version ``version`` (the current one when ``None``)."""
    most = settings.predictive.max_predict_rows
    if len(rows) > most:
        raise ValidationFailed(
            f"A prediction reads at most {most:,} rows, not {len(rows):,}; "
            "upload them as a dataset and predict it as a job (POST .../predictions).",
            details={"reason": "TOO_MANY_ROWS", "max_rows": most},
        )
    found = resolve_version(session, model, version)
    engine = model_files.engine_model(settings, found)
    forecast = found.task == "forecast"
    if forecast:
        frame = pd.DataFrame.from_records(list(rows))
    else:
        frame = rows_frame(rows, feature_kinds(session, engine, found))
    out = predicted(engine, frame)
    body: dict[str, Any] = {
        "model_id": model.id,
        "version": found.number,
        "task": found.task,
        "classes": classes_of(out),
        "output": None,
    }
    if forecast:
        body["predictions"] = _forecast_rows(engine, out)
    else:
        body["predictions"] = [outcome(out, i) for i in range(len(out))]
        if explain:
            explained, body["output"] = explanations(engine, frame)
            for item, why in zip(body["predictions"], explained, strict=True):
                item.update(why)
    registry.record_usage(session, model=model, version=found, kind="predict", rows=len(rows))
    return body


def _forecast_rows(engine: Any, out: pd.DataFrame) -> list[dict]:
    summary = engine.summary()
    date_column = getattr(engine, "date_column", None) or summary.get("date_column")
    series = list(getattr(engine, "series_columns", None) or summary.get("series_columns") or [])
    return [
        {
            **outcome(out, i),
            "date": jsonable(out[date_column].iloc[i]) if date_column in out.columns else None,
            "series": {c: jsonable(out[c].iloc[i]) for c in series if c in out.columns} or None,
        }
        for i in range(len(out))
    ]


# --- batch predictions ---------------------------------------------------------------------


def start_batch(
    session: Session,
    principal: Principal,
    settings: Settings,
    model: PredictiveModel,
    body: BatchCreate,
) -> tuple[Job, dict]:
    """Queue a ``models.predict`` job over a dataset version. The versions are resolved
    and the dataset's columns checked now (422 naming the missing features), so the
    job fails only on what it learns reading the rows."""
    found = resolve_version(session, model, body.model_version)
    dataset = datasets_service.get(
        session=session, org_id=principal.org_id, dataset_id=body.dataset_id
    )
    data_version = datasets_service.get_version(
        session=session, dataset=dataset, number=body.version
    )
    if found.task != "forecast":
        columns = {c["name"] for c in data_version.columns}
        missing = [f for f in found.features or [] if f not in columns]
        if missing:
            raise ValidationFailed(
                f"Dataset '{dataset.name}' (version {data_version.number}) lacks the "
                f"model's feature column{'s' if len(missing) > 1 else ''} "
                f"{quoted(missing)}.",
                details={"reason": "MISSING_COLUMNS", "missing": missing},
            )
    output_name = body.output_name or f"{model.name} predictions"[:200]
    params = {
        "model_id": model.id,
        "model_version": found.number,
        "dataset_id": dataset.id,
        "dataset_version": data_version.number,
        "output_name": output_name,
    }
    job = jobs_service.create(
        session=session,
        org_id=principal.org_id,
        type=JOB_TYPE,
        params=params,
        user_id=principal.user_id,
        quotas=settings.quotas,
    )
    datasets_service.link_job(session, job.id, data_version, "input")
    audit.record_change(
        session=session,
        principal=principal,
        action="model.predict.batch",
        target_type="predictive_model",
        target_id=model.id,
        after={**params, "job_id": job.id},
    )
    session.flush()
    return job, params


class PredictDataset:
    """``models.predict``: a dataset version predicted by a model version, written as a
    new dataset version linked as the job's output."""

    name = JOB_TYPE
    title = "Models: predict a dataset"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model_id: int = Field(ge=1, le=2**31 - 1)
        model_version: int = Field(ge=1, le=2**31 - 1)
        dataset_id: int = Field(ge=1, le=2**31 - 1)
        dataset_version: int = Field(ge=1, le=2**31 - 1)
        output_name: str = Field(min_length=1, max_length=200)

    def run(self, ctx, params: Params) -> dict:
        import pyarrow.parquet as pq

        with ctx.session() as session:
            model, found, dataset, data_version = _batch_inputs(session, ctx.org_id, params)
            engine = model_files.engine_model(ctx.settings, found)
            path = datasets_service.path_of(ctx.settings, data_version)
            forecast = found.task == "forecast"
            kinds = {} if forecast else feature_kinds(session, engine, found)
            model_name, dataset_name, version_id = model.name, dataset.name, found.id
        parquet = pq.ParquetFile(path)
        present = set(parquet.schema_arrow.names)
        missing = [f for f in kinds if f not in present]
        if missing:
            raise ValueError(
                f"dataset '{dataset_name}' (version {params.dataset_version}) lacks the "
                f"feature columns of model '{model_name}': {quoted(missing)}"
            )
        total = parquet.metadata.num_rows
        ctx.progress(1.0, f"{total:,} rows to predict")
        raw = storage_for(ctx.settings).staging_file(".parquet")
        try:
            if forecast:
                written = _write_forecast(ctx, engine, parquet, raw)
            else:
                written = _write_chunks(ctx, engine, kinds, parquet, raw)
        except BaseException:
            raw.unlink(missing_ok=True)
            raise
        ctx.progress(95.0, f"{total:,} rows predicted; saving the output dataset")
        meta = DatasetMeta(
            name=params.output_name,
            description=f"Predictions of model '{model_name}' version {params.model_version} "
            f"on dataset '{dataset_name}' version {params.dataset_version} (job {ctx.job_id}).",
            tags=["predictions"],
        )
        # the conversion (DuckDB) and the version's rows: one piece an abort awaits
        with ctx.session() as session:
            out_dataset, out_version = datasets_service.add_job_output(
                session=session,
                settings=ctx.settings,
                org_id=ctx.org_id,
                user_id=ctx.user_id,
                job_id=ctx.job_id,
                parquet=raw,
                meta=meta,
                source="predictions",
            )
            used = session.get(PredictiveModel, params.model_id)
            if used is not None:  # deleted meanwhile: its usage goes with it
                registry.record_usage(
                    session,
                    model=used,
                    version=session.get(ModelVersion, version_id),
                    kind="batch",
                    rows=total,
                    job_id=ctx.job_id,
                )
            result = {
                "dataset_id": out_dataset.id,
                "version": out_version.number,
                "rows": written,
                "input_rows": total,
                "model_id": params.model_id,
                "model_version": params.model_version,
            }
        ctx.progress(100.0, f"{written:,} rows written")
        return result


def _batch_inputs(session: Session, org_id: int, params: PredictDataset.Params):
    """The job's model, model version, dataset and dataset version, as queued; a
    readable reason when one was deleted or the version is no longer ready."""
    model = session.get(PredictiveModel, params.model_id)
    if model is None or model.org_id != org_id:
        raise ValueError(f"model {params.model_id} was deleted")
    found = session.scalars(
        select(ModelVersion).where(
            ModelVersion.model_id == model.id, ModelVersion.number == params.model_version
        )
    ).one_or_none()
    if found is None or found.status != VersionStatus.READY:
        raise ValueError(f"version {params.model_version} of model '{model.name}' is not ready")
    dataset = session.get(Dataset, params.dataset_id)
    data_version = (
        session.scalars(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == params.dataset_id,
                DatasetVersion.number == params.dataset_version,
            )
        ).one_or_none()
        if dataset is not None and dataset.org_id == org_id
        else None
    )
    if dataset is None or data_version is None:
        raise ValueError(
            f"version {params.dataset_version} of dataset {params.dataset_id} was deleted"
        )
    return model, found, dataset, data_version


def _write_chunks(ctx, engine: Any, kinds: dict[str, str], parquet, raw) -> int:
    """Predict the file :data:`CHUNK_ROWS` rows at a time: each chunk's input columns
    and the engine's output columns (an input column of the same name is replaced, so
    a predictions dataset can be predicted again)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = max(1, parquet.metadata.num_rows)
    written = 0
    unreadable: dict[str, int] = {}
    writer = None
    try:
        for batch in parquet.iter_batches(batch_size=CHUNK_ROWS):
            frame = batch.select(list(kinds)).to_pandas()
            for name, lost in coerce_lenient(frame, kinds).items():
                unreadable[name] = unreadable.get(name, 0) + lost
            try:
                out = engine.predict(frame)
            except TableError as exc:
                raise ValueError(f"{exc.code}: {exc.message}") from exc
            table = pa.Table.from_batches([batch])
            clash = [n for n in table.column_names if n in out.columns]
            table = table.drop_columns(clash)
            for name in out.columns:
                table = table.append_column(name, pa.array(out[name].to_numpy(), from_pandas=True))
            if writer is None:
                writer = pq.ParquetWriter(raw, table.schema, compression="zstd")
            writer.write_table(table.cast(writer.schema))
            written += table.num_rows
            ctx.progress(1.0 + 93.0 * written / total, f"{written:,} of {total:,} rows")
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise ValueError("the dataset has no rows to predict")
    for name, lost in unreadable.items():
        ctx.log(
            f"column {name!r}: {lost:,} values not readable as its training type were "
            "predicted as missing",
            "warning",
        )
    return written


def _write_forecast(ctx, engine: Any, parquet, raw) -> int:
    """A forecast needs each series' whole history: the file is read at once and the
    engine's output frame (``horizon`` steps per series) written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = parquet.read().to_pandas()
    ctx.progress(10.0, f"forecasting from {len(frame):,} rows")
    try:
        out = engine.predict(frame)
    except TableError as exc:
        raise ValueError(f"{exc.code}: {exc.message}") from exc
    pq.write_table(pa.Table.from_pandas(out, preserve_index=False), raw, compression="zstd")
    return len(out)


# --- what-if -------------------------------------------------------------------------------


def what_if(
    session: Session, settings: Settings, model: PredictiveModel, body: WhatIfRequest
) -> dict:
    """Predict rows before and after the body's changes, with the changed rows'
    explanations; 422 for a change of a column that is not a feature, or by a percentage
    of one that is not numeric."""
    found = resolve_version(session, model, body.model_version)
    if found.task == "forecast":
        raise ValidationFailed(
            "What-if changes rows of a classification, failure or regression model; a "
            "forecast predicts from a series' history instead.",
            details={"reason": "NOT_SUPPORTED", "task": found.task},
        )
    engine = model_files.engine_model(settings, found)
    kinds = feature_kinds(session, engine, found)
    _check_features(body, kinds)
    indices: list[int] | None = None
    if isinstance(body.rows, DatasetRows):
        indices = list(body.rows.row_indices)
        before = dataset_rows(session, settings, model.org_id, body.rows, kinds)
    else:
        before = rows_frame(body.rows or [], kinds)
    _check_percents(body, kinds, before)
    after = before.copy()
    changed: dict[str, str] = {}
    for change in body.changes:
        kind = kinds[change.column]
        if change.sets_value:
            value = coerce_values(change.column, kind, [change.value]).iloc[0]
            after[change.column] = _missing_of(kind) if pd.isna(value) else value
        else:
            assert change.percent is not None
            after[change.column] = after[change.column].astype(float) * (1 + change.percent / 100)
        changed[change.column] = kind
    out_before = predicted(engine, before)
    out_after = predicted(engine, after)
    explained, output = explanations(engine, after)
    score, pick = _score(found.task, out_before)
    rows = []
    for i in range(len(before)):
        b, a = outcome(out_before, i), outcome(out_after, i)
        delta = None
        if pick(b, i) is not None and pick(a, i) is not None:
            delta = float(pick(a, i) - pick(b, i))
        rows.append(
            {
                "index": indices[i] if indices is not None else None,
                "changed": {
                    c: {"before": jsonable(before[c].iloc[i]), "after": jsonable(after[c].iloc[i])}
                    for c in changed
                },
                "before": b,
                "after": a,
                "delta": delta,
                "score": score,
                "explanation": {**explained[i], "output": output},
            }
        )
    registry.record_usage(session, model=model, version=found, kind="what_if", rows=len(rows))
    return {"model_id": model.id, "version": found.number, "task": found.task, "rows": rows}


def _missing_of(kind: str) -> Any:
    return {NUMERIC: np.nan, DATETIME: pd.NaT}.get(kind)


def _check_features(body: WhatIfRequest, kinds: dict[str, str]) -> None:
    for change in body.changes:
        if change.column not in kinds:
            raise ValidationFailed(
                f"{change.column!r} is not a feature of the model; a change to it would "
                "not move the prediction.",
                details={"reason": "NOT_A_FEATURE", "column": change.column},
            )


def _check_percents(body: WhatIfRequest, kinds: dict[str, str], rows: pd.DataFrame) -> None:
    """A change by a percentage needs a numeric column (one whose training type is
    unknown counts as numeric when its values are)."""
    for change in body.changes:
        if change.percent is None:
            continue
        kind = kinds[change.column]
        if kind == AS_GIVEN and is_number(rows[change.column]):
            continue
        if kind != NUMERIC:
            raise ValidationFailed(
                f"Column {change.column!r} is {kind}, not numeric: change it to a value "
                "instead of by a percentage.",
                details={"reason": "NOT_NUMERIC", "column": change.column, "kind": kind},
            )


def _score(task: str | None, out: pd.DataFrame):
    """What a what-if's ``delta`` compares, and how to read it from an outcome."""
    classes = classes_of(out)
    if not classes:
        return "prediction", lambda o, _i: number(o["prediction"])
    if task == "binary" or len(classes) == 2:
        positive = classes[-1]
        return f"probability of {positive}", lambda o, _i: o["probability"].get(positive)
    before = [str(jsonable(v)) for v in out["prediction"]]

    def pick(o: dict, i: int) -> float | None:
        return o["probability"].get(before[i])

    return "probability of the class predicted before", pick


def dataset_rows(
    session: Session, settings: Settings, org_id: int, where: DatasetRows, kinds: dict[str, str]
) -> pd.DataFrame:
    """The feature columns of a dataset version's rows at ``where.row_indices`` (in that
    order), reading only the row groups that hold them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dataset = datasets_service.get(session=session, org_id=org_id, dataset_id=where.dataset_id)
    version = datasets_service.get_version(session=session, dataset=dataset, number=where.version)
    names = {c["name"] for c in version.columns}
    missing = [f for f in kinds if f not in names]
    if missing:
        raise ValidationFailed(
            f"Dataset '{dataset.name}' (version {version.number}) lacks the model's "
            f"feature columns {quoted(missing)}.",
            details={"reason": "MISSING_COLUMNS", "missing": missing},
        )
    out_of_range = [i for i in where.row_indices if i >= version.rows]
    if out_of_range:
        raise ValidationFailed(
            f"Dataset '{dataset.name}' (version {version.number}) has {version.rows:,} "
            f"rows; no row {out_of_range[0]}.",
            details={"reason": "NO_SUCH_ROW", "rows": version.rows, "row_indices": out_of_range},
        )
    parquet = pq.ParquetFile(datasets_service.path_of(settings, version))
    sizes = [parquet.metadata.row_group(g).num_rows for g in range(parquet.num_row_groups)]
    starts = np.cumsum([0, *sizes])

    def group_of(i: int) -> int:
        return int(np.searchsorted(starts, i, side="right")) - 1

    groups = sorted({group_of(i) for i in where.row_indices})
    table = pa.concat_tables([parquet.read_row_group(g, columns=list(kinds)) for g in groups])
    first = dict(zip(groups, np.cumsum([0, *(sizes[g] for g in groups)]), strict=False))
    positions = [int(first[group_of(i)] + i - starts[group_of(i)]) for i in where.row_indices]
    frame = table.take(pa.array(positions, type=pa.int64())).to_pandas()
    coerce_lenient(frame, kinds)
    return frame
