"""The model registry: named models (Anaimo's trainings) and their versions (its network
weights): read, compare, promote, abort, delete, and the usage the summaries count.
A version's file (written, downloaded, uploaded, loaded for predictions) is
:mod:`augury.predictive.services.model_files`.

**Versions** are numbered 1, 2, ... per model (:func:`new_version` takes the next
number under the model's row lock). The first version that becomes READY is made the
model's current one, so a model predicts as soon as it has trained; later ones are
promoted by hand. The current version cannot be deleted until another is promoted, and
deleting a version or a model removes its files (:func:`forget_files`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import Settings
from augury.datasets.models import Dataset
from augury.datasets.storage import storage_for
from augury.errors import AuguryError, Conflict, NotFound, ValidationFailed
from augury.jobs import service as jobs_service
from augury.predictive.models import ModelUsage, ModelVersion, PredictiveModel, VersionStatus
from augury.predictive.schemas.models import ModelUpdate
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate
from augury.store.text import contains

AUDITED = ("name", "description")
WAITING = (VersionStatus.QUEUED, VersionStatus.TRAINING)


# --- models --------------------------------------------------------------------------------


def get_model(session: Session, org_id: int, model_id: int) -> PredictiveModel:
    """The organization's model ``model_id`` (404 for any other's)."""
    return get_owned(session, PredictiveModel, org_id, model_id, "Model")


def list_models(
    session: Session,
    org_id: int,
    page: PageParams,
    *,
    application: str | None = None,
    search: str | None = None,
    status: str | None = None,
) -> tuple[list[PredictiveModel], int]:
    """The organization's models, most recently changed first; ``status`` is their
    newest version's."""
    stmt = select(PredictiveModel).where(PredictiveModel.org_id == org_id)
    if application:
        stmt = stmt.where(PredictiveModel.application == application)
    if search:
        stmt = stmt.where(
            or_(
                contains(PredictiveModel.name, search),
                contains(PredictiveModel.description, search),
            )
        )
    if status:
        newest = _newest_numbers().subquery()
        stmt = (
            stmt.join(newest, newest.c.model_id == PredictiveModel.id)
            .join(
                ModelVersion,
                (ModelVersion.model_id == PredictiveModel.id)
                & (ModelVersion.number == newest.c.number),
            )
            .where(ModelVersion.status == status)
        )
    stmt = stmt.order_by(PredictiveModel.updated_at.desc(), PredictiveModel.id.desc())
    return paginate(session, stmt, page)


def _newest_numbers():
    """Each model's highest version number that still exists (``latest_version`` counts
    deleted versions too: numbers are never reused)."""
    return select(ModelVersion.model_id, func.max(ModelVersion.number).label("number")).group_by(
        ModelVersion.model_id
    )


def _latest(session: Session, models: Sequence[PredictiveModel]) -> dict[int, ModelVersion]:
    if not models:
        return {}
    newest = _newest_numbers().where(ModelVersion.model_id.in_([m.id for m in models])).subquery()
    rows = session.scalars(
        select(ModelVersion).join(
            newest,
            (ModelVersion.model_id == newest.c.model_id) & (ModelVersion.number == newest.c.number),
        )
    )
    found = {v.model_id: v for v in rows}
    settle(session, list(found.values()))
    return found


def read_models(session: Session, models: Sequence[PredictiveModel]) -> list[dict[str, Any]]:
    """The models' JSON (``ModelRead``) with their newest version's status."""
    latest = _latest(session, models)
    current_ids = [m.current_version_id for m in models if m.current_version_id is not None]
    current = (
        {
            v.id: v
            for v in session.scalars(select(ModelVersion).where(ModelVersion.id.in_(current_ids)))
        }
        if current_ids
        else {}
    )
    out = []
    for m in models:
        newest = latest.get(m.id)
        cur = current.get(m.current_version_id) if m.current_version_id else None
        shown = cur or newest
        out.append(
            {
                "id": m.id,
                "name": m.name,
                "description": m.description,
                "application": m.application,
                "latest_version": m.latest_version,
                "current_version": cur.number if cur is not None else None,
                "status": newest.status if newest is not None else None,
                "task": shown.task if shown is not None else None,
                "target": shown.target if shown is not None else None,
                "metrics": headline(cur.metrics) if cur is not None else None,
                "created_at": m.created_at,
                "updated_at": m.updated_at,
                "created_by_id": m.created_by_id,
            }
        )
    return out


def read_model(session: Session, model: PredictiveModel) -> dict[str, Any]:
    return read_models(session, [model])[0]


def headline(metrics: dict | None) -> dict[str, Any] | None:
    """The primary metric's name and mean, what lists show."""
    if not metrics:
        return None
    primary = metrics.get("primary")
    mean = metrics.get("mean") or {}
    return {"primary": primary, "value": mean.get(primary) if primary else None}


def create_model(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str,
    application: str,
) -> PredictiveModel:
    """A new named model (409 when the organization has one of that name)."""
    name = name.strip()
    taken = session.scalar(
        select(PredictiveModel.id).where(
            PredictiveModel.org_id == principal.org_id, PredictiveModel.name == name
        )
    )
    if taken is not None:
        raise Conflict(
            f"A model named '{name}' exists: train a new version of it, or pick another name.",
            details={"reason": "NAME_TAKEN", "model_id": taken},
        )
    model = PredictiveModel(
        org_id=principal.org_id,
        name=name,
        description=description,
        application=application,
        created_by_id=principal.user_id,
    )
    session.add(model)
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="models.model.create",
        target_type="predictive_model",
        target_id=model.id,
        after={**audit.snapshot(model, AUDITED), "application": application},
    )
    return model


def update_model(
    session: Session, principal: Principal, model: PredictiveModel, body: ModelUpdate
) -> PredictiveModel:
    """Rename or describe the model."""
    before = audit.snapshot(model, AUDITED)
    if body.name is not None and body.name.strip() != model.name:
        name = body.name.strip()
        taken = session.scalar(
            select(PredictiveModel.id).where(
                PredictiveModel.org_id == model.org_id,
                PredictiveModel.name == name,
                PredictiveModel.id != model.id,
            )
        )
        if taken is not None:
            raise Conflict(f"A model named '{name}' exists.", details={"reason": "NAME_TAKEN"})
        model.name = name
    if body.description is not None:
        model.description = body.description
    model.updated_at = clock.now()
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="models.model.update",
        target_type="predictive_model",
        target_id=model.id,
        before=before,
        after=audit.snapshot(model, AUDITED),
    )
    return model


def delete_model(
    session: Session, principal: Principal, settings: Settings, model: PredictiveModel
) -> None:
    """Delete the model, its versions and their files (409 while one still trains)."""
    versions = list(session.scalars(select(ModelVersion).where(ModelVersion.model_id == model.id)))
    settle(session, versions)
    training = [v.number for v in versions if v.status in WAITING]
    if training:
        raise Conflict(
            f"Version {training[0]} of the model is still training: abort it first.",
            details={"reason": "TRAINING", "versions": training},
        )
    keys = [v.storage_key for v in versions if v.storage_key]
    audit.record_change(
        session=session,
        principal=principal,
        action="models.model.delete",
        target_type="predictive_model",
        target_id=model.id,
        before={**audit.snapshot(model, AUDITED), "versions": len(versions)},
    )
    for version in versions:
        session.delete(version)
    session.delete(model)
    session.flush()
    forget_files(settings, keys)


# --- versions ------------------------------------------------------------------------------


def get_version(session: Session, model: PredictiveModel, number: int) -> ModelVersion:
    """Version ``number`` of the model (404 when it has none), its status made to agree
    with its job."""
    version = session.scalar(
        select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.number == number)
    )
    if version is None:
        raise NotFound(
            f"Model '{model.name}' has no version {number}.",
            details={"model_id": model.id, "version": number},
        )
    settle(session, [version])
    return version


def current_version(session: Session, model: PredictiveModel) -> ModelVersion:
    """The version predictions use when they name none (409 when the model has none)."""
    if model.current_version_id is None:
        raise Conflict(
            f"Model '{model.name}' has no current version yet: wait for its training, or "
            "promote a READY version.",
            details={"reason": "NO_CURRENT_VERSION", "model_id": model.id},
        )
    return session.get_one(ModelVersion, model.current_version_id)


def list_versions(
    session: Session, model: PredictiveModel, page: PageParams
) -> tuple[list[ModelVersion], int]:
    """The model's versions, newest first."""
    stmt = (
        select(ModelVersion)
        .where(ModelVersion.model_id == model.id)
        .order_by(ModelVersion.number.desc())
    )
    rows, total = paginate(session, stmt, page)
    settle(session, rows)
    return rows, total


def new_version(
    session: Session, principal: Principal, model: PredictiveModel, **fields: Any
) -> ModelVersion:
    """The model's next version (numbered under the model's row lock)."""
    locked = session.scalars(
        select(PredictiveModel).where(PredictiveModel.id == model.id).with_for_update()
    ).one()
    locked.latest_version = int(locked.latest_version or 0) + 1
    locked.updated_at = clock.now()
    version = ModelVersion(
        org_id=model.org_id,
        model_id=model.id,
        number=locked.latest_version,
        created_by_id=principal.user_id,
        **fields,
    )
    session.add(version)
    session.flush()
    return version


def settle(session: Session, versions: Sequence[ModelVersion]) -> None:
    """A version still QUEUED or TRAINING whose job ended (aborted before it started,
    cut off by a restart, deleted) takes the job's ending."""
    waiting = [v for v in versions if v.status in WAITING]
    for version, aborted in jobs_service.ended(session, waiting):
        if aborted:
            version.status = VersionStatus.ABORTED
        else:
            version.status = VersionStatus.FAILED
            version.error = version.error or (
                "The training job ended without a model (the server stopped while it "
                "ran?). Train it again."
            )
        version.finished_at = version.finished_at or clock.now()


def read_versions(
    session: Session, model: PredictiveModel, versions: Sequence[ModelVersion]
) -> list[dict[str, Any]]:
    """The versions' JSON (``VersionRead``) with their dataset and training job."""
    jobs = jobs_service.by_id(session, (v.job_id for v in versions))
    dataset_ids = {v.dataset_id for v in versions if v.dataset_id is not None}
    names: dict[int, str] = {}
    if dataset_ids:
        rows = session.execute(select(Dataset.id, Dataset.name).where(Dataset.id.in_(dataset_ids)))
        names = {row[0]: row[1] for row in rows}
    out = []
    for v in versions:
        job = jobs.get(v.job_id) if v.job_id is not None else None
        progress = 100.0 if v.status == VersionStatus.READY else float(job.progress) if job else 0.0
        out.append(
            {
                "id": v.id,
                "model_id": v.model_id,
                "number": v.number,
                "status": v.status,
                "source": v.source,
                "application": model.application,
                "options": v.options or {},
                "task": v.task,
                "target": v.target,
                "features": v.features or [],
                "excluded": v.excluded or [],
                "metrics": v.metrics or {},
                "report": v.report or {},
                "dataset": (
                    {
                        "id": v.dataset_id,
                        "name": names.get(v.dataset_id),
                        "version": v.dataset_version,
                    }
                    if v.dataset_id is not None
                    else None
                ),
                "content_hash": v.content_hash,
                "size_bytes": v.size_bytes or 0,
                "training_seconds": v.training_seconds,
                "job": (
                    {"id": job.id, "status": job.status, "progress": round(progress, 1)}
                    if job is not None
                    else None
                ),
                "progress": round(progress, 1),
                "current": model.current_version_id == v.id,
                "error": v.error,
                "created_at": v.created_at,
                "finished_at": v.finished_at,
                "created_by_id": v.created_by_id,
            }
        )
    return out


def read_version(session: Session, model: PredictiveModel, version: ModelVersion) -> dict[str, Any]:
    return read_versions(session, model, [version])[0]


def compare(session: Session, model: PredictiveModel, numbers: Sequence[int]) -> dict[str, Any]:
    """Versions side by side: each metric's mean and spread, and each feature's
    importance, per version (null where a version lacks it)."""
    wanted = list(dict.fromkeys(numbers))
    if not 1 <= len(wanted) <= 20:
        raise ValidationFailed("versions: name 1 to 20 version numbers to compare.")
    versions = [get_version(session, model, n) for n in wanted]
    keys = [str(v.number) for v in versions]
    metrics: dict[str, dict[str, Any]] = {}
    importance: dict[str, dict[str, float | None]] = {}
    for v, key in zip(versions, keys, strict=True):
        found = v.metrics or {}
        spread = found.get("std") or {}
        for name, value in (found.get("mean") or {}).items():
            metrics.setdefault(name, dict.fromkeys(keys))[key] = {
                "mean": value,
                "std": spread.get(name),
            }
        for row in (v.report or {}).get("importance") or []:
            importance.setdefault(row["feature"], dict.fromkeys(keys))[key] = row["importance"]
    return {
        "model_id": model.id,
        "versions": read_versions(session, model, versions),
        "primary": {
            key: (v.metrics or {}).get("primary") for v, key in zip(versions, keys, strict=True)
        },
        "metrics": metrics,
        "importance": importance,
    }


def promote(
    session: Session, principal: Principal, model: PredictiveModel, version: ModelVersion
) -> ModelVersion:
    """Make the version the model's current one (what predictions use by default)."""
    if version.status != VersionStatus.READY:
        raise Conflict(
            f"Only a READY version can be promoted; version {version.number} is {version.status}.",
            details={"status": version.status},
        )
    previous = model.current_version_id
    model.current_version_id = version.id
    model.updated_at = clock.now()
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="models.version.promote",
        target_type="model_version",
        target_id=version.id,
        before={"current_version_id": previous},
        after={"current_version_id": version.id, "model_id": model.id, "number": version.number},
    )
    return version


def abort(session: Session, principal: Principal, version: ModelVersion) -> ModelVersion:
    """Stop the version's training: a queued one ends ABORTED now, a running one when
    its job next reports progress."""
    if version.status not in WAITING or version.job_id is None:
        raise Conflict(
            f"Version {version.number} is {version.status}: there is no training to abort.",
            details={"status": version.status},
        )
    jobs_service.abort_unless_ended(session=session, principal=principal, job_id=version.job_id)
    settle(session, [version])
    audit.record_by(
        session=session,
        principal=principal,
        action="models.version.abort",
        target_type="model_version",
        target_id=version.id,
    )
    return version


def delete_version(
    session: Session,
    principal: Principal,
    settings: Settings,
    model: PredictiveModel,
    version: ModelVersion,
) -> None:
    """Delete the version and its file: not the current one (promote another first), not
    one still training (abort it first)."""
    if model.current_version_id == version.id:
        raise Conflict(
            f"Version {version.number} is the model's current version: promote another "
            "first (or delete the model).",
            details={"reason": "CURRENT_VERSION", "number": version.number},
        )
    if version.status in WAITING:
        raise Conflict(
            f"Version {version.number} is still training: abort it first.",
            details={"reason": "TRAINING", "status": version.status, "job_id": version.job_id},
        )
    audit.record_change(
        session=session,
        principal=principal,
        action="models.version.delete",
        target_type="model_version",
        target_id=version.id,
        before={
            "model_id": model.id,
            "number": version.number,
            "status": version.status,
            "content_hash": version.content_hash,
        },
    )
    key = version.storage_key
    session.delete(version)
    model.updated_at = clock.now()
    session.flush()
    forget_files(settings, [key] if key else [])


def forget_files(settings: Settings, keys: Sequence[str]) -> None:
    """Remove model files from the blob storage (after their versions were deleted); a
    file already gone, or a storage that fails now, is no error (the rows are gone)."""
    storage = storage_for(settings)
    for key in keys:
        with contextlib.suppress(FileNotFoundError, AuguryError, OSError):
            storage.delete(key)


# --- usage ---------------------------------------------------------------------------------


def record_usage(
    session: Session,
    *,
    model: PredictiveModel,
    version: ModelVersion | None,
    kind: str,
    rows: int,
    job_id: int | None = None,
) -> ModelUsage:
    """Count one use of a model (``predict``, ``batch`` or ``what_if``) for the summaries."""
    usage = ModelUsage(
        org_id=model.org_id,
        model_id=model.id,
        version_id=version.id if version is not None else None,
        application=model.application,
        kind=kind,
        rows=int(rows),
        job_id=job_id,
    )
    session.add(usage)
    return usage
