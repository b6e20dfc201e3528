"""HTTP routes of a project's text models: train (a job), list, read, rename, report,
compare, promote, abort, download and upload as signed files, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from augury.api.deps import Authenticated, ObjectId, SessionDep, SettingsDep
from augury.api.pagination import Page, PageDep, make_page
from augury.datasets.deps import received_upload, safe_file_name
from augury.datasets.storage import storage_for
from augury.errors import ValidationFailed
from augury.text.deps import ProjectManager, ProjectViewer
from augury.text.schemas.models import (
    ModelComparison,
    ModelCreate,
    ModelCreated,
    ModelRead,
    ModelReport,
    ModelUpdate,
)
from augury.text.services import modeling

router = APIRouter()

MODELS = "/projects/{project_id}/models"
MODEL = f"{MODELS}/{{model_id}}"
StatusFilter = Literal["QUEUED", "TRAINING", "READY", "FAILED", "ABORTED"]

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "name"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "name": {"type": "string", "maxLength": 200},
                    },
                }
            }
        },
    }
}


@router.post(MODELS, status_code=status.HTTP_202_ACCEPTED, response_model=ModelCreated)
def train_text_model(
    body: ModelCreate,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
    settings: SettingsDep,
):
    """Train a model version from labeling, correction, import or review sessions: with
    `session_ids` augury splits their documents into training and test sets, or name
    `train_session_ids` and `test_session_ids`. Answers the QUEUED version and the
    `text.train` job that trains it (follow `progress` on the version). A name that has
    versions gets the next version."""
    model, job = modeling.start_training(session, principal, project, body, settings)
    return {"model": modeling.read(session, model), "job_id": job.id}


@router.get(MODELS, response_model=Page[ModelRead])
def list_text_models(
    project: ProjectViewer,
    session: SessionDep,
    page: PageDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
    status: StatusFilter | None = None,
):
    """The project's model versions, newest first."""
    rows, total = modeling.list_page(session, project, page, name=name, status=status)
    return make_page(modeling.read_many(session, rows), total, page)


@router.get(f"{MODELS}/compare", response_model=ModelComparison)
def compare_text_models(
    project: ProjectViewer,
    session: SessionDep,
    ids: Annotated[str, Query(max_length=300, description="Model ids, comma-separated.")],
):
    """Versions side by side: their scores, and each class's test F1 per version."""
    try:
        wanted = [int(part) for part in ids.split(",") if part.strip()]
    except ValueError as exc:
        raise ValidationFailed("ids: model ids separated by commas (ids=1,2,3).") from exc
    if any(not 1 <= i <= 2**31 - 1 for i in wanted):
        raise ValidationFailed("ids: model ids are positive.")
    return modeling.compare(session, project, wanted)


@router.post(
    f"{MODELS}/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=ModelRead,
    openapi_extra=UPLOAD_BODY,
)
async def upload_text_model(
    request: Request,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
    settings: SettingsDep,
):
    """Add a model file that this server's download gave (multipart `file`, form
    `name`) as a READY version. Refused (422) when another server (or another secret)
    signed it, it was changed, it is of another project type, or it predicts classes
    or labels this project does not have."""
    async with received_upload(request, settings) as upload:
        assert upload.path is not None
        names = upload.fields.get("name") or [""]
        model = await run_in_threadpool(
            modeling.upload,
            session,
            principal,
            settings,
            project,
            upload.path,
            name=names[0],
            size=upload.size,
        )
        return modeling.read(session, model)


@router.get(MODEL, response_model=ModelRead)
def get_text_model(model_id: ObjectId, project: ProjectViewer, session: SessionDep):
    """A model version: its status and training progress, headline score and metrics,
    how it was trained, and whether it is the project's active model."""
    return modeling.read(session, modeling.get(session, project, model_id))


@router.patch(MODEL, response_model=ModelRead)
def update_text_model(
    model_id: ObjectId,
    body: ModelUpdate,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
):
    """Rename or describe the version (a new name gives it that name's next version)."""
    model = modeling.get(session, project, model_id)
    return modeling.read(session, modeling.update_model(session, principal, project, model, body))


@router.delete(MODEL, status_code=status.HTTP_204_NO_CONTENT)
def delete_text_model(
    model_id: ObjectId,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
    settings: SettingsDep,
    confirm: bool = False,
):
    """Delete the version and its file; the project's active version only with
    `?confirm=true`, one still training once aborted."""
    model = modeling.get(session, project, model_id)
    modeling.delete(session, principal, settings, model, confirm=confirm)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(f"{MODEL}/report", response_model=ModelReport)
def text_model_report(model_id: ObjectId, project: ProjectViewer, session: SessionDep):
    """The test report: per-class precision, recall and F1, the confusion matrix, the
    examples it got most wrong, and what it trained on."""
    return modeling.report(session, modeling.get(session, project, model_id))


@router.post(f"{MODEL}/promote", response_model=ModelRead)
def promote_text_model(
    model_id: ObjectId, project: ProjectManager, principal: Authenticated, session: SessionDep
):
    """Make the version the project's active model (the previous one is not any more)."""
    model = modeling.get(session, project, model_id)
    return modeling.read(session, modeling.promote(session, principal, project, model))


@router.post(f"{MODEL}/abort", response_model=ModelRead)
def abort_text_model(
    model_id: ObjectId, project: ProjectManager, principal: Authenticated, session: SessionDep
):
    """Stop the version's training (409 when it is not training)."""
    model = modeling.get(session, project, model_id)
    return modeling.read(session, modeling.abort(session, principal, model))


@router.get(
    f"{MODEL}/download",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def download_text_model(
    model_id: ObjectId, project: ProjectViewer, session: SessionDep, settings: SettingsDep
):
    """The version as a zip signed by this server: the model's files and
    `signature.json`. Upload it into a project of the same type and vocabulary."""
    model = modeling.get(session, project, model_id)
    path = modeling.download(settings, model, storage_for(settings).staging_file(".zip"))
    name = safe_file_name(f"{model.name}-v{model.version}.zip") or f"model-{model.id}.zip"
    return FileResponse(
        path,
        media_type="application/zip",
        filename=name,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
