"""Routes of a project's document groups: create, list, read, change, delete; add and
remove documents; list and search them; download them as a file."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from augury.api.deps import Authenticated, ObjectId, SessionDep, SettingsDep
from augury.api.pagination import Page, PageDep, make_page
from augury.datasets.deps import safe_file_name
from augury.engines.tabular.export import content_type
from augury.jobs.schemas import JobRead
from augury.text.deps import ProjectManager, ProjectViewer
from augury.text.models import TextGroup
from augury.text.routes.documents import Details, Search, SeedSearch
from augury.text.schemas.documents import DocumentIds, DocumentRead
from augury.text.schemas.groups import GroupCreate, GroupDocumentsChanged, GroupRead, GroupUpdate
from augury.text.services import documents, groups

router = APIRouter()

GROUP = "/projects/{project_id}/groups/{group_id}"


def group_body(group: TextGroup, job=None) -> GroupRead:
    body = GroupRead.model_validate(group)
    if job is not None:
        body.job = JobRead.model_validate(job)
    return body


@router.get("/projects/{project_id}/groups", response_model=Page[GroupRead])
def list_groups(project: ProjectViewer, session: SessionDep, page: PageDep):
    rows, total = groups.list_page(session, project, page)
    return make_page([group_body(g) for g in rows], total, page)


@router.post(
    "/projects/{project_id}/groups", status_code=status.HTTP_201_CREATED, response_model=GroupRead
)
def create_group(
    body: GroupCreate,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
    settings: SettingsDep,
):
    """A named group of documents: existing ones (`document_ids`, this project's only),
    new ones (`documents`, added as `POST .../documents` adds them), or an uploaded
    file's column (`file_id` + `column`). When over 1,000 new documents are added by a
    job, the group answers with that `job` and fills as it runs."""
    group, job = groups.create(session, principal, settings, project, body)
    return group_body(group, job)


@router.get(GROUP, response_model=GroupRead)
def get_group(group_id: ObjectId, project: ProjectViewer, session: SessionDep):
    return group_body(groups.get(session, project, group_id))


@router.patch(GROUP, response_model=GroupRead)
def update_group(
    group_id: ObjectId,
    body: GroupUpdate,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
):
    """Rename or describe the group; `document_ids` are added to it."""
    group = groups.get(session, project, group_id)
    return group_body(groups.update(session, principal, project, group, body))


@router.delete(GROUP, status_code=status.HTTP_204_NO_CONTENT)
def delete_group(
    group_id: ObjectId, project: ProjectManager, principal: Authenticated, session: SessionDep
):
    """Delete the group; its documents stay in the project."""
    groups.delete_group(session, principal, groups.get(session, project, group_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(f"{GROUP}/documents", response_model=GroupDocumentsChanged)
def add_group_documents(
    group_id: ObjectId,
    body: DocumentIds,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
):
    """Add documents of this project to the group (422 naming any that are not);
    `changed` counts those that were not in it yet."""
    group = groups.get(session, project, group_id)
    added = groups.add_documents(session, principal, project, group, body.ids)
    return {"changed": added, "document_count": group.document_count}


@router.delete(f"{GROUP}/documents", response_model=GroupDocumentsChanged)
def remove_group_documents(
    group_id: ObjectId,
    body: DocumentIds,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
):
    """Take documents out of the group (body `{"ids": [...]}`); they stay in the project."""
    group = groups.get(session, project, group_id)
    removed = groups.remove_documents(session, principal, project, group, body.ids)
    return {"changed": removed, "document_count": group.document_count}


@router.get(
    f"{GROUP}/documents", response_model=Page[DocumentRead], response_model_exclude_unset=True
)
def list_group_documents(
    group_id: ObjectId,
    project: ProjectViewer,
    session: SessionDep,
    page: PageDep,
    q: Search = None,
    search: SeedSearch = None,
    details: Details = None,
):
    """The group's documents in the order they were added; `q` searches their text."""
    asked = documents.parse_details(details)
    group = groups.get(session, project, group_id)
    rows, total = groups.documents_page(session, project, group, page, q or search)
    return make_page(documents.read_many(session, project, rows, asked), total, page)


@router.get(
    f"{GROUP}/documents/{{document_id}}",
    response_model=DocumentRead,
    response_model_exclude_unset=True,
)
def get_group_document(
    group_id: ObjectId,
    document_id: ObjectId,
    project: ProjectViewer,
    session: SessionDep,
    details: Details = None,
):
    """A document of the group (404 when it is not in it), with `details` as for any
    document."""
    asked = documents.parse_details(details)
    group = groups.get(session, project, group_id)
    doc = groups.member(session, project, group, document_id)
    return documents.read_many(session, project, [doc], asked)[0]


@router.get(
    f"{GROUP}/download",
    response_class=FileResponse,
    responses={200: {"content": {content_type(f): {} for f in groups.DOWNLOAD_FORMATS}}},
)
def download_group(
    group_id: ObjectId,
    project: ProjectViewer,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[Literal["csv", "jsonl", "json", "xlsx"], Query()] = "csv",
):
    """The group's documents as CSV, JSONL, JSON or XLSX: one row each with `text`,
    `id` (yours, empty when none), `document_id`, then every meta key."""
    group = groups.get(session, project, group_id)
    path = groups.download(session, settings, group, format)
    return FileResponse(
        path,
        media_type=content_type(format),
        filename=safe_file_name(f"{group.name}.{format}") or f"group-{group.id}.{format}",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
