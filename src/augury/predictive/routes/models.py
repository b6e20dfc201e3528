"""HTTP routes of the model registry: plan, train (a job), models and their versions
(read, rename, compare, promote, abort, delete), and versions as signed files
(download, upload)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from augury.api.deps import Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import Page, PageDep, make_page
from augury.datasets.deps import received_upload, safe_file_name
from augury.datasets.storage import storage_for
from augury.errors import ValidationFailed
from augury.predictive.deps import ModelDep, VersionDep
from augury.predictive.models import Application, VersionStatus
from augury.predictive.schemas.models import (
    ModelCreate,
    ModelRead,
    ModelUpdate,
    PlanRead,
    PlanRequest,
    TrainingStarted,
    VersionComparison,
    VersionCreate,
    VersionRead,
)
from augury.predictive.services import model_files, registry, training

router = APIRouter()

MODELS = "/models"
MODEL = f"{MODELS}/{{model_id}}"
VERSIONS = f"{MODEL}/versions"
VERSION = f"{VERSIONS}/{{number}}"

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def _started(session, model, version, job) -> dict:
    return {
        "model": registry.read_model(session, model),
        "version": registry.read_version(session, model, version),
        "job": {"id": job.id, "status": job.status, "progress": float(job.progress or 0.0)},
    }


@router.post(f"{MODELS}/plan", response_model=PlanRead)
def plan_predictive_model(
    body: PlanRequest, principal: Reader, session: SessionDep, settings: SettingsDep
):
    """What training would do with these choices, without training: the detected task,
    the features and the columns left out with the reason (422 with the engine's code
    in `details.reason` when it cannot train)."""
    return training.plan_for(session, settings, principal.org_id, body)


@router.post(MODELS, status_code=status.HTTP_202_ACCEPTED, response_model=TrainingStarted)
def train_predictive_model(
    body: ModelCreate, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """A new model trained on a dataset version: answers the model, its QUEUED version 1
    and the `models.train` job (follow `progress`). 409 NOT_SUBSCRIBED unless the
    application's subscription is active; 422 for what cannot train."""
    model, version, job = training.start_training(session, principal, settings, body)
    return _started(session, model, version, job)


@router.get(MODELS, response_model=Page[ModelRead])
def list_predictive_models(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    application: Application | None = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
    status: VersionStatus | None = None,
):
    """The organization's models, most recently changed first; `status` filters on
    their newest version's."""
    rows, total = registry.list_models(
        session, principal.org_id, page, application=application, search=search, status=status
    )
    return make_page(registry.read_models(session, rows), total, page)


@router.get(MODEL, response_model=ModelRead)
def get_predictive_model(model: ModelDep, session: SessionDep):
    """A model: its application, current and newest version."""
    return registry.read_model(session, model)


@router.patch(MODEL, response_model=ModelRead)
def update_predictive_model(
    model: ModelDep, body: ModelUpdate, principal: Writer, session: SessionDep
):
    """Rename or describe the model."""
    return registry.read_model(session, registry.update_model(session, principal, model, body))


@router.delete(MODEL, status_code=status.HTTP_204_NO_CONTENT)
def delete_predictive_model(
    model: ModelDep, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """Delete the model, its versions and their files (409 while a version trains)."""
    registry.delete_model(session, principal, settings, model)


@router.get(f"{MODEL}/compare", response_model=VersionComparison)
def compare_model_versions(
    model: ModelDep,
    session: SessionDep,
    versions: Annotated[str, Query(max_length=200, description="Numbers, comma-separated.")],
):
    """Versions side by side: each metric's mean and spread, each feature's importance."""
    try:
        wanted = [int(part) for part in versions.split(",") if part.strip()]
    except ValueError as exc:
        raise ValidationFailed("versions: numbers separated by commas (versions=1,2).") from exc
    if any(not 1 <= n <= 2**31 - 1 for n in wanted):
        raise ValidationFailed("versions: version numbers are positive.")
    return registry.compare(session, model, wanted)


@router.post(VERSIONS, status_code=status.HTTP_202_ACCEPTED, response_model=TrainingStarted)
def train_model_version(
    model: ModelDep,
    body: VersionCreate,
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
):
    """Train a new version: what the body does not name is the newest version's (its
    dataset at its latest version, target, options)."""
    version, job = training.start_version(session, principal, settings, model, body)
    return _started(session, model, version, job)


@router.get(VERSIONS, response_model=Page[VersionRead])
def list_model_versions(model: ModelDep, session: SessionDep, page: PageDep):
    """The model's versions, newest first."""
    rows, total = registry.list_versions(session, model, page)
    return make_page(registry.read_versions(session, model, rows), total, page)


@router.post(
    f"{VERSIONS}/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionRead,
    openapi_extra=UPLOAD_BODY,
)
async def upload_model_version(
    request: Request,
    model: ModelDep,
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
):
    """A model file this server's download gave (multipart `file`) as a READY version.
    Refused (422, `details.reason`) when it is not a model zip (BAD_MODEL_FILE), another
    server or secret signed it (UNSIGNED), it changed since (TAMPERED), or it is of
    another application (WRONG_APPLICATION)."""
    async with received_upload(request, settings) as upload:
        assert upload.path is not None
        version = await run_in_threadpool(
            model_files.upload, session, principal, settings, model, upload.path, size=upload.size
        )
        return registry.read_version(session, model, version)


@router.get(VERSION, response_model=VersionRead)
def get_model_version(model: ModelDep, version: VersionDep, session: SessionDep):
    """A version: status and training progress, options, task, features and excluded
    columns, validation metrics, the report, its dataset, file and job."""
    return registry.read_version(session, model, version)


@router.post(f"{VERSION}/promote", response_model=VersionRead)
def promote_model_version(
    model: ModelDep, version: VersionDep, principal: Writer, session: SessionDep
):
    """Make the version the model's current one (what predictions use by default)."""
    registry.promote(session, principal, model, version)
    return registry.read_version(session, model, version)


@router.post(f"{VERSION}/abort", response_model=VersionRead)
def abort_model_version(
    model: ModelDep, version: VersionDep, principal: Writer, session: SessionDep
):
    """Stop the version's training (409 when it is not training)."""
    registry.abort(session, principal, version)
    return registry.read_version(session, model, version)


@router.delete(VERSION, status_code=status.HTTP_204_NO_CONTENT)
def delete_model_version(
    model: ModelDep,
    version: VersionDep,
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
):
    """Delete the version and its file (409 for the current version: promote another
    first; and for one still training: abort it first)."""
    registry.delete_version(session, principal, settings, model, version)


@router.get(
    f"{VERSION}/file",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def download_model_version(
    model: ModelDep, version: VersionDep, principal: Reader, settings: SettingsDep
):
    """The version as a zip signed by this server: `signature.json` and the model's
    files (JSON, NumPy arrays, LightGBM text; nothing pickled). Upload it into a model
    of the same application on this server."""
    path = model_files.download(
        settings, model, version, storage_for(settings).staging_file(".zip")
    )
    name = safe_file_name(f"{model.name}-v{version.number}.zip") or f"model-{model.id}.zip"
    return FileResponse(
        path,
        media_type="application/zip",
        filename=name,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
