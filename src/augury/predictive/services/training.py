"""Training a model version: checked in the request, trained in the ``models.train`` job.

:func:`start_training` (a new model) and :func:`start_version` (a new version of one)
check in the request everything that would make the training fail at once: the
application's subscription (409 ``NOT_SUBSCRIBED``), the dataset version, and the
engine's :func:`~augury.engines.tabular.automl.plan` over its table (422 with the
engine's code in ``details.reason``: an unknown target or column, a target with one
class or no values, too few rows, no usable feature ...). Then the model, its QUEUED
version and the job are written in one transaction, the dataset version linked as the
job's input.

The job (:class:`TrainModel`) reads the version's Parquet file, trains with the job's
progress and abort, saves the model folder, zips it with a signed header into the blob
storage and fills the version from the engine's summary. A failure leaves the version
FAILED with the engine's readable reason; an abort leaves it ABORTED; neither leaves a
file anywhere.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import Settings
from augury.datasets import service as datasets
from augury.datasets import signed_files
from augury.datasets.models import DatasetVersion
from augury.datasets.storage import storage_for
from augury.errors import ValidationFailed
from augury.events import service as events
from augury.jobs import service as jobs_service
from augury.jobs.models import Job
from augury.jobs.types import ended_by_abort
from augury.notifications.service import notify
from augury.predictive.models import ModelVersion, PredictiveModel, VersionStatus
from augury.predictive.schemas.models import (
    ModelCreate,
    PlanRequest,
    TrainingOptions,
    VersionCreate,
)
from augury.predictive.services import model_files, registry
from augury.predictive.services.applications import require_active

JOB_TYPE = "models.train"
OPTION_KEYS = (
    "features",
    "exclude",
    "date_column",
    "series_columns",
    "time_budget_s",
    "cost_missed",
    "cost_false_alarm",
    "horizon",
)


PLAN_ROWS = 500_000
"""The most rows a request reads to plan a training (the job reads them all)."""
PLAN_CACHE_BYTES = 256 * 2**20
"""The most memory the planning tables kept between requests may take."""

_plan_tables: OrderedDict[tuple[str, int, int], tuple[Any, int]] = OrderedDict()
_plan_tables_lock = threading.Lock()


def _read_table(settings: Settings, version: DatasetVersion, limit: int | None = None):
    """The version's rows as a DataFrame; with ``limit``, about that many read from row
    groups spread over the file (not its head, which may be sorted by the target)."""
    import numpy as np
    import pyarrow.parquet as pq

    path = datasets.path_of(settings, version)
    if limit is None or version.rows <= limit:
        return pq.read_table(path).to_pandas()
    with pq.ParquetFile(path) as parquet:
        groups = parquet.metadata.num_row_groups
        size = max(1, version.rows // max(1, groups))
        wanted = max(1, min(groups, limit // size))
        picked = sorted({int(i) for i in np.linspace(0, groups - 1, wanted)})
        return parquet.read_row_groups(picked).to_pandas()


def _planning_table(settings: Settings, version: DatasetVersion):
    """The rows :func:`_plan` reads, kept between requests: the UI plans again on every
    change of the form, and a dataset version's file never changes, so only the first
    plan of a version reads it (keyed by path, size and modification time, so a
    replaced file is read again). The least recently planned tables go first once they
    hold more than :data:`PLAN_CACHE_BYTES`; the engine never writes to its input."""
    path = Path(datasets.path_of(settings, version))
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _plan_tables_lock:
        if key in _plan_tables:
            _plan_tables.move_to_end(key)
            return _plan_tables[key][0]
    frame = _read_table(settings, version, PLAN_ROWS)
    size = int(frame.memory_usage(deep=True).sum())
    with _plan_tables_lock:
        _plan_tables[key] = (frame, size)
        while sum(n for _, n in _plan_tables.values()) > PLAN_CACHE_BYTES:
            _plan_tables.popitem(last=False)
    return frame


def _engine_options(settings: Settings, application: str, options: dict[str, Any]):
    """The engine's ``TrainOptions`` of a version's stored options (a time budget left
    unset is the server's default when the training runs)."""
    from augury.engines.tabular.automl import TrainOptions

    given = {k: options[k] for k in OPTION_KEYS if options.get(k) is not None}
    given["exclude"] = list(given.get("exclude") or [])
    given["series_columns"] = list(given.get("series_columns") or [])
    given.setdefault("time_budget_s", settings.predictive.default_time_budget_s)
    return TrainOptions(application=application, **given)


def _model_error(exc: Exception) -> ValidationFailed:
    """The engine's refusal as the API's 422, its code as ``details.reason``."""
    code = getattr(exc, "code", "BAD_OPTIONS")
    details = getattr(exc, "details", None) or {}
    return ValidationFailed(getattr(exc, "message", str(exc)), details={"reason": code, **details})


def _plan(settings: Settings, dataset_version: DatasetVersion, application: str, options: dict):
    """The engine's plan over the dataset version (422 when it refuses)."""
    from augury.engines.tabular.automl import ModelError, plan

    frame = _planning_table(settings, dataset_version)
    try:
        return plan(frame, options["target"], _engine_options(settings, application, options))
    except ModelError as exc:
        raise _model_error(exc) from exc


def _options_of(body: TrainingOptions, target: str) -> dict[str, Any]:
    return {"target": target, **{k: getattr(body, k) for k in OPTION_KEYS}}


def _dataset_version(
    session: Session, org_id: int, dataset_id: int, number: int | None
) -> DatasetVersion:
    dataset = datasets.get(session=session, org_id=org_id, dataset_id=dataset_id)
    return datasets.get_version(session=session, dataset=dataset, number=number)


def plan_for(
    session: Session, settings: Settings, org_id: int, body: PlanRequest
) -> dict[str, Any]:
    """What training would do with these choices (the detected task, the features and
    the columns left out with the reason), without training; 422 when it cannot."""
    version = _dataset_version(session, org_id, body.dataset_id, body.version)
    return _plan(settings, version, body.application, _options_of(body, body.target)).to_dict()


def start_training(
    session: Session, principal: Principal, settings: Settings, body: ModelCreate
) -> tuple[PredictiveModel, ModelVersion, Job]:
    """A new model, its first version QUEUED, and the ``models.train`` job that trains it;
    what cannot train is refused here, before anything is written."""
    require_active(session, principal.org_id, body.application)
    dataset_version = _dataset_version(session, principal.org_id, body.dataset_id, body.version)
    options = _options_of(body, body.target)
    plan = _plan(settings, dataset_version, body.application, options)
    model = registry.create_model(
        session,
        principal,
        name=body.name,
        description=body.description,
        application=body.application,
    )
    version, job = _queue(session, principal, settings, model, dataset_version, options, plan)
    return model, version, job


def start_version(
    session: Session,
    principal: Principal,
    settings: Settings,
    model: PredictiveModel,
    body: VersionCreate,
) -> tuple[ModelVersion, Job]:
    """A new version of ``model``, trained as ``body`` says; what it does not say is the
    newest trained version's (its dataset, read at its latest version, target and
    options)."""
    require_active(session, principal.org_id, model.application)
    previous = session.scalar(
        select(ModelVersion)
        .where(ModelVersion.model_id == model.id, ModelVersion.source == "trained")
        .order_by(ModelVersion.number.desc())
        .limit(1)
    )
    before = dict(previous.options or {}) if previous is not None else {}
    given = body.model_dump(exclude_unset=True)
    options = {k: given.get(k, before.get(k)) for k in OPTION_KEYS}
    options["target"] = body.target or (previous.target if previous is not None else None)
    dataset_id = body.dataset_id or (previous.dataset_id if previous is not None else None)
    if not options["target"] or dataset_id is None:
        raise ValidationFailed(
            "Name the dataset_id and target to train on (the model has no version to "
            "take them from).",
            details={"reason": "NO_DATASET" if dataset_id is None else "NO_TARGET"},
        )
    dataset_version = _dataset_version(session, principal.org_id, dataset_id, body.version)
    plan = _plan(settings, dataset_version, model.application, options)
    return _queue(session, principal, settings, model, dataset_version, options, plan)


def _queue(
    session: Session,
    principal: Principal,
    settings: Settings,
    model: PredictiveModel,
    dataset_version: DatasetVersion,
    options: dict[str, Any],
    plan: Any,
) -> tuple[ModelVersion, Job]:
    planned = plan.to_dict()
    version = registry.new_version(
        session,
        principal,
        model,
        status=VersionStatus.QUEUED,
        source="trained",
        dataset_id=dataset_version.dataset_id,
        dataset_version=dataset_version.number,
        options=options,
        task=planned.get("task"),
        target=options["target"],
        features=list(planned.get("features") or []),
        excluded=list(planned.get("excluded") or []),
    )
    job = jobs_service.create(
        session=session,
        org_id=model.org_id,
        type=JOB_TYPE,
        params={"version_id": version.id},
        user_id=principal.user_id,
        quotas=settings.quotas,
    )
    version.job_id = job.id
    datasets.link_job(session, job.id, dataset_version, "input")
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="models.version.train",
        target_type="model_version",
        target_id=version.id,
        after={
            "model_id": model.id,
            "number": version.number,
            "dataset_id": dataset_version.dataset_id,
            "dataset_version": dataset_version.number,
            "target": options["target"],
            "job_id": job.id,
        },
    )
    return version, job


class TrainModel:
    """The ``models.train`` job: train one version, store its file, fill its report."""

    name = JOB_TYPE
    title = "Models: train a version"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        version_id: int = Field(ge=1, le=2**31 - 1)

    def run(self, ctx, params: Params) -> dict:
        """Train the version; on an abort it ends ABORTED, on a failure FAILED with the
        reason, with no file left behind either way."""
        work = Path(storage_for(ctx.settings).staging_file(".tabular-model"))
        stored: list[str] = []
        try:
            return self._train(ctx, params.version_id, work, stored)
        except BaseException as exc:
            aborted = ended_by_abort(ctx, exc)
            registry.forget_files(ctx.settings, stored)
            self._end(
                ctx,
                params.version_id,
                aborted=aborted,
                reason=jobs_service.failure_reason(exc, "Training"),
            )
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _train(self, ctx, version_id: int, work: Path, stored: list[str]) -> dict:
        from augury.engines.tabular.automl import ModelError, train

        with ctx.session() as session:
            version, model = _job_version(session, ctx.org_id, version_id)
            if version.status != VersionStatus.QUEUED:
                return {"version_id": version_id, "status": version.status}
            version.status = VersionStatus.TRAINING
            options = dict(version.options or {})
            # Detached copies: what the file's signed header says of the model.
            named = PredictiveModel(id=model.id, name=model.name, application=model.application)
            number = version.number
            source = _source(session, version)
        ctx.progress(1.0, "reading the dataset")
        frame = _read_table(ctx.settings, source)
        ctx.progress(4.0, f"{len(frame):,} rows, {frame.shape[1]} columns")

        stop = _Stop(ctx)
        started = time.perf_counter()
        try:
            engine = train(
                frame,
                options["target"],
                _engine_options(ctx.settings, named.application, options),
                progress=stop.progress,
                should_stop=stop,
            )
        except ModelError as exc:
            if exc.code == "ABORTED" or stop():
                stop.raise_abort()
            raise
        stop.raise_if_aborted()
        seconds = round(time.perf_counter() - started, 2)
        del frame

        ctx.progress(92.0, "saving the model")
        folder = work / signed_files.MODEL_DIR
        digest = engine.save(folder)
        fields = model_files.fields_of(engine.summary())
        fields["training_seconds"] = fields["training_seconds"] or seconds
        finished = clock.now()
        signed = ModelVersion(number=number, content_hash=digest, finished_at=finished, **fields)
        zip_path = work / "model.zip"
        model_files.write_file(ctx.settings, named, signed, folder, zip_path)
        key = model_files.blob_key(ctx.org_id, named.id, version_id, digest)
        size = storage_for(ctx.settings).put(zip_path, key)
        stored.append(key)
        ctx.progress(98.0, "saving the model")
        with ctx.session() as session:
            version, model = _job_version(session, ctx.org_id, version_id)
            for name, value in fields.items():
                setattr(version, name, value)
            version.status = VersionStatus.READY
            version.content_hash = digest
            version.storage_key = key
            version.size_bytes = size
            version.error = None
            version.finished_at = finished
            if model.current_version_id is None:
                model.current_version_id = version.id
            model.updated_at = version.finished_at
            _tell(session, ctx, model, version)
            metrics = version.metrics or {}
            events.emit(
                session,
                org_id=ctx.org_id,
                type="model.trained",
                data={
                    "kind": "predictive",
                    "model_id": model.id,
                    "name": model.name,
                    "version": version.number,
                    "version_id": version.id,
                    "primary": metrics.get("primary"),
                    "score": (metrics.get("mean") or {}).get(metrics.get("primary")),
                    "job_id": ctx.job_id,
                    "user_id": ctx.user_id,
                },
                user_id=ctx.user_id,
            )
        stored.clear()
        with contextlib.suppress(OSError):
            signed_files.keep_extracted(model_files.cache_root(ctx.settings), folder, digest)
        model_files.loaded.remember(digest, engine)
        metrics = fields["metrics"]
        return {
            "version_id": version_id,
            "status": VersionStatus.READY,
            "primary": metrics.get("primary"),
            "score": (metrics.get("mean") or {}).get(metrics.get("primary")),
        }

    @staticmethod
    def _end(ctx, version_id: int, *, aborted: bool, reason: str) -> None:
        with ctx.session() as session:
            version = session.get(ModelVersion, version_id)
            if version is None or version.org_id != ctx.org_id:
                return
            if version.status == VersionStatus.READY:
                return
            version.status = VersionStatus.ABORTED if aborted else VersionStatus.FAILED
            version.error = None if aborted else reason
            version.finished_at = clock.now()
            if not aborted:
                model = session.get(PredictiveModel, version.model_id)
                if model is not None:
                    _tell(session, ctx, model, version)


class _Stop:
    """The engine's ``progress`` and ``should_stop``: progress goes to the job (5-90 %),
    and an abort asked meanwhile makes ``should_stop()`` true rather than raising inside
    the engine, which then ends cleanly with ModelError("ABORTED")."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.aborted = False
        self._last = 0.0

    def progress(self, pct: float, message: str = "") -> None:
        share = pct / 100.0
        now = time.monotonic()
        if now - self._last < 0.5 and share < 1.0:
            return
        self._last = now
        try:
            self.ctx.progress(5.0 + 85.0 * max(0.0, min(1.0, share)), f"training: {message}")
        except Exception as exc:
            if type(exc).__name__ != "JobAborted":
                raise
            self.aborted = True

    def __call__(self) -> bool:
        return self.aborted or bool(getattr(self.ctx, "aborted", False))

    def raise_abort(self) -> None:
        """End the job as aborted: the job's own progress call raises the runner's
        JobAborted (this domain sits below the runtime and does not import it)."""
        self.ctx.progress(90.0, "aborted")
        raise RuntimeError("The training stopped without being asked to.")

    def raise_if_aborted(self) -> None:
        if self():
            self.raise_abort()


def _job_version(session: Session, org_id: int, version_id: int):
    version = session.get(ModelVersion, version_id)
    if version is None or version.org_id != org_id:
        raise ValueError(f"model version {version_id} not found (deleted meanwhile?)")
    return version, session.get_one(PredictiveModel, version.model_id)


def _source(session: Session, version: ModelVersion) -> DatasetVersion:
    if version.dataset_id is None or version.dataset_version is None:
        raise ValidationFailed("The dataset this version trains on was deleted.")
    found = session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == version.dataset_id,
            DatasetVersion.number == version.dataset_version,
        )
    )
    if found is None:
        raise ValidationFailed(
            f"Version {version.dataset_version} of the dataset this model trains on was deleted."
        )
    session.expunge(found)
    return found


def _tell(session: Session, ctx, model: PredictiveModel, version: ModelVersion) -> None:
    if ctx.user_id is None:
        return
    label = f"{model.name} v{version.number}"
    if version.status == VersionStatus.READY:
        metrics = version.metrics or {}
        primary = metrics.get("primary")
        value = (metrics.get("mean") or {}).get(primary)
        title = f"Model {label} is ready"
        body = f"Validation {primary} {value:.4g}." if isinstance(value, float | int) else ""
    else:
        title = f"Training {label} failed"
        body = version.error or ""
    notify(
        session,
        org_id=ctx.org_id,
        user_id=ctx.user_id,
        kind="models.model",
        title=title,
        body=body,
        link=f"/models/{model.id}",
        data={
            "job_id": ctx.job_id,
            "model_id": model.id,
            "version": version.number,
            "status": "succeeded" if version.status == VersionStatus.READY else "failed",
        },
    )
