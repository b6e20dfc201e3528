"""Routes of a project's classes and labels: ``/text/projects/{project_id}/classes``
and ``/labels``, the same calls on both (labels are refused on ABSA projects, whose
sentiments are fixed). Reading is for anyone who may read the project; changing is for
its managers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, UploadFile, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from augury.api.deps import Authenticated, ObjectId, SessionDep, SettingsDep
from augury.api.pagination import Page, PageDep, make_page
from augury.datasets.storage import storage_for
from augury.text.deps import ProjectManager, ProjectViewer
from augury.text.schemas.vocabulary import (
    ClassRead,
    Kind,
    LabelRead,
    ManyRead,
    VocabCreate,
    VocabDeleted,
    VocabUpdate,
)
from augury.text.services import sheets, vocabulary

router = APIRouter()

DownloadFormat = Literal["csv", "json", "xlsx"]
Caller = Authenticated
"""The acting principal (the project dependency has checked its role already)."""
ManyOrOne = Annotated[
    VocabCreate | list[VocabCreate],
    Body(description="One entry, or a JSON array of them (added all or none)."),
]
FormatQuery = Annotated[DownloadFormat, Query(description="csv, json or xlsx.")]


def _read_model(kind: Kind) -> type[ClassRead]:
    return LabelRead if kind == "labels" else ClassRead


def _create(kind: Kind, body, project, session, principal):
    items = body if isinstance(body, list) else [body]
    created = vocabulary.create_many(
        session=session, principal=principal, project=project, kind=kind, items=items
    )
    bodies = [_read_model(kind).model_validate(c) for c in created]
    return {"items": bodies} if isinstance(body, list) else bodies[0]


def _upload(kind: Kind, file: UploadFile, project, session, principal):
    items = vocabulary.read_file(file.file.read(), file.filename, kind)
    created = vocabulary.create_many(
        session=session, principal=principal, project=project, kind=kind, items=items
    )
    return {"items": [_read_model(kind).model_validate(c) for c in created]}


def _download(kind: Kind, project, session, settings, fmt: str) -> FileResponse:
    dst = storage_for(settings).staging_file(f".{fmt}")
    try:
        vocabulary.write_file(vocabulary.all_of(session, project.id, kind), kind, fmt, dst)
    except BaseException:
        dst.unlink(missing_ok=True)
        raise
    return FileResponse(
        dst,
        media_type=sheets.content_type(fmt),
        filename=f"project-{project.id}-{kind}.{fmt}",
        background=BackgroundTask(dst.unlink, missing_ok=True),
    )


def _update(kind: Kind, item_id: int, body, project, session, principal):
    item = vocabulary.get(session=session, project=project, kind=kind, item_id=item_id)
    return vocabulary.update_item(
        session=session, principal=principal, project=project, kind=kind, item=item, body=body
    )


def _delete(kind: Kind, item_id: int, project, session, principal) -> VocabDeleted:
    item = vocabulary.get(session=session, project=project, kind=kind, item_id=item_id)
    return vocabulary.delete_item(
        session=session, principal=principal, project=project, kind=kind, item=item
    )


# --- classes -------------------------------------------------------------------------

CLASSES = "/projects/{project_id}/classes"


@router.get(CLASSES, response_model=Page[ClassRead])
def list_classes(project: ProjectViewer, session: SessionDep, page: PageDep):
    """The project's classes (ABSA: its aspects), in display order."""
    rows, total = vocabulary.list_page(session=session, project=project, kind="classes", page=page)
    return make_page(rows, total, page)


@router.post(
    CLASSES, status_code=status.HTTP_201_CREATED, response_model=ClassRead | ManyRead[ClassRead]
)
def create_classes(
    body: ManyOrOne, project: ProjectManager, session: SessionDep, principal: Caller
):
    """Add one class (answered as itself) or a JSON array of them (answered as
    `{items}`), all or none: a name the project has already, or one the array repeats
    (names are compared without case), is 409 naming them. At most 10,000 per call.
    `example` (one, the seed's) and `examples` (a list) are both accepted."""
    return _create("classes", body, project, session, principal)


@router.post(
    f"{CLASSES}/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=ManyRead[ClassRead],
)
def upload_classes(
    file: UploadFile, project: ProjectManager, session: SessionDep, principal: Caller
):
    """Add the classes of a CSV, XLSX or JSON file: columns `name`, `description` and
    `examples` (one per line of the cell) or `example`; all or none."""
    return _upload("classes", file, project, session, principal)


@router.get(f"{CLASSES}/download", response_class=FileResponse)
def download_classes(
    project: ProjectViewer, session: SessionDep, settings: SettingsDep, format: FormatQuery = "csv"
):
    """The project's classes as CSV, JSON or XLSX (what upload reads back)."""
    return _download("classes", project, session, settings, format)


@router.get(CLASSES + "/{class_id}", response_model=ClassRead)
def get_class(class_id: ObjectId, project: ProjectViewer, session: SessionDep):
    return vocabulary.get(session=session, project=project, kind="classes", item_id=class_id)


@router.patch(CLASSES + "/{class_id}", response_model=ClassRead)
def update_class(
    class_id: ObjectId,
    body: VocabUpdate,
    project: ProjectManager,
    session: SessionDep,
    principal: Caller,
):
    """Change the class's name, description, examples or position; tags keep pointing
    at it."""
    return _update("classes", class_id, body, project, session, principal)


@router.delete(CLASSES + "/{class_id}", response_model=VocabDeleted)
def delete_class(
    class_id: ObjectId, project: ProjectManager, session: SessionDep, principal: Caller
):
    """Delete the class, and with it every tag that names it (the answer counts them)
    and its place in the sessions that offered it."""
    return _delete("classes", class_id, project, session, principal)


# --- labels --------------------------------------------------------------------------

LABELS = "/projects/{project_id}/labels"


@router.get(LABELS, response_model=Page[LabelRead])
def list_labels(project: ProjectViewer, session: SessionDep, page: PageDep):
    """The project's labels (ABSA: its fixed sentiments), in display order."""
    rows, total = vocabulary.list_page(session=session, project=project, kind="labels", page=page)
    return make_page(rows, total, page)


@router.post(
    LABELS, status_code=status.HTTP_201_CREATED, response_model=LabelRead | ManyRead[LabelRead]
)
def create_labels(body: ManyOrOne, project: ProjectManager, session: SessionDep, principal: Caller):
    """Add one label or a JSON array of them, as for classes; refused (422) on ABSA
    projects, whose labels are the fixed sentiments."""
    return _create("labels", body, project, session, principal)


@router.post(
    f"{LABELS}/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=ManyRead[LabelRead],
)
def upload_labels(
    file: UploadFile, project: ProjectManager, session: SessionDep, principal: Caller
):
    """Add the labels of a CSV, XLSX or JSON file, as for classes."""
    return _upload("labels", file, project, session, principal)


@router.get(f"{LABELS}/download", response_class=FileResponse)
def download_labels(
    project: ProjectViewer, session: SessionDep, settings: SettingsDep, format: FormatQuery = "csv"
):
    """The project's labels as CSV, JSON or XLSX."""
    return _download("labels", project, session, settings, format)


@router.get(LABELS + "/{label_id}", response_model=LabelRead)
def get_label(label_id: ObjectId, project: ProjectViewer, session: SessionDep):
    return vocabulary.get(session=session, project=project, kind="labels", item_id=label_id)


@router.patch(LABELS + "/{label_id}", response_model=LabelRead)
def update_label(
    label_id: ObjectId,
    body: VocabUpdate,
    project: ProjectManager,
    session: SessionDep,
    principal: Caller,
):
    """Change the label's name, description, examples or position (not an ABSA
    sentiment)."""
    return _update("labels", label_id, body, project, session, principal)


@router.delete(LABELS + "/{label_id}", response_model=VocabDeleted)
def delete_label(
    label_id: ObjectId, project: ProjectManager, session: SessionDep, principal: Caller
):
    """Delete the label and every tag that names it (not an ABSA sentiment)."""
    return _delete("labels", label_id, project, session, principal)
