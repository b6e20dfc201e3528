"""Routes of text projects: the organization's projects, one project, its members, its
copies and moves to other organizations, and its labeled data out and in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Response, UploadFile, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from augury.api.deps import Authenticated, ObjectId, Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import Page, PageDep, make_page
from augury.datasets.storage import storage_for
from augury.text import access
from augury.text.deps import ProjectManager, ProjectViewer
from augury.text.models import ProjectRole, ProjectType
from augury.text.schemas.projects import (
    EmbeddingModelRead,
    ExportFormat,
    ImportResult,
    MemberRead,
    MemberSet,
    ProjectClone,
    ProjectCreate,
    ProjectRead,
    ProjectTransfer,
    ProjectUpdate,
)
from augury.text.services import embedders, labeled_data, portability, projects, sheets

router = APIRouter()

Caller = Authenticated
"""The acting principal (a project dependency has checked its role already)."""
PROJECT = "/projects/{project_id}"


@router.get("/projects", response_model=Page[ProjectRead])
def list_projects(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    type: Annotated[
        ProjectType | None, Query(description="CLASS, LABEL, CLASSLABEL or ABSA.")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Words of the name or description.")
    ] = None,
):
    """The organization's projects, most recently changed first, with their counts and
    your role in each."""
    rows, total = projects.list_page(
        session=session, org_id=principal.org_id, page=page, type=type, q=q
    )
    return make_page(projects.read_all(session, principal, rows), total, page)


@router.post("/projects", status_code=status.HTTP_201_CREATED, response_model=ProjectRead)
def create_project(
    body: ProjectCreate, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """A new project (an ABSA project comes with its fixed sentiments POS, NEG, NEU and
    CONFLICT as labels)."""
    project = projects.create(session=session, principal=principal, body=body, settings=settings)
    return projects.read(session, principal, project)


@router.get("/embedding-models", response_model=list[EmbeddingModelRead])
def list_embedding_models(principal: Reader, settings: SettingsDep):
    """The local sentence-embedding models a project may use (folders of the server's
    ``AUGURY_TEXT__MODEL_DIRS``), by name; empty when the server allows none, and
    projects then use the built-in model."""
    return embedders.available(settings)


@router.get(PROJECT, response_model=ProjectRead)
def get_project(project: ProjectViewer, principal: Caller, session: SessionDep):
    """A project with its counts (documents, classes, labels, sessions) and your role."""
    return projects.read(session, principal, project)


@router.patch(PROJECT, response_model=ProjectRead)
def update_project(
    body: ProjectUpdate,
    project: ProjectManager,
    principal: Caller,
    session: SessionDep,
    settings: SettingsDep,
):
    """Rename or describe the project, or change its language, the segmentation of
    documents added from now on, or its local embedding model (its type is fixed)."""
    projects.update(
        session=session, principal=principal, project=project, body=body, settings=settings
    )
    return projects.read(session, principal, project)


@router.delete(PROJECT, status_code=status.HTTP_204_NO_CONTENT)
def delete_project(
    project: ProjectManager,
    principal: Caller,
    session: SessionDep,
    settings: SettingsDep,
    confirm: Annotated[
        bool, Query(description="Needed: the project's documents, sessions and labels go with it.")
    ] = False,
):
    """Delete the project and everything in it. Without `confirm=true` the answer is 409,
    and its details count what would go (documents, sessions, classes, labels, groups)."""
    projects.delete(
        session=session, principal=principal, settings=settings, project=project, confirm=confirm
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- members -------------------------------------------------------------------------


@router.get(f"{PROJECT}/members", response_model=Page[MemberRead])
def list_project_members(project: ProjectViewer, session: SessionDep, page: PageDep):
    """Everyone of the organization with their role in the project: the role set on it,
    else what their organization role gives (members manage, viewers read; admins and
    owners always manage)."""
    members = projects.list_members(session=session, project=project)
    return make_page(members[page.offset : page.offset + page.limit], len(members), page)


@router.put(f"{PROJECT}/members/{{user_id}}", response_model=MemberRead)
def set_project_member(
    user_id: ObjectId,
    body: MemberSet,
    project: ProjectManager,
    principal: Caller,
    session: SessionDep,
):
    """Set a person's role in this project: MANAGER, ANNOTATOR (sees only the sessions
    assigned to them) or VIEWER. The person must be an active member of the organization."""
    return projects.set_member(
        session=session, principal=principal, project=project, user_id=user_id, role=body.role
    )


@router.delete(f"{PROJECT}/members/{{user_id}}", status_code=status.HTTP_204_NO_CONTENT)
def remove_project_member(
    user_id: ObjectId, project: ProjectManager, principal: Caller, session: SessionDep
):
    """Drop a person's role on this project; their organization role applies again."""
    projects.remove_member(session=session, principal=principal, project=project, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- copies and moves ----------------------------------------------------------------


@router.post(f"{PROJECT}/clone", status_code=status.HTTP_201_CREATED, response_model=ProjectRead)
def clone_project(
    body: ProjectClone, project: ProjectManager, principal: Caller, session: SessionDep
):
    """Copy the project: its classes, labels, documents with their segments and groups,
    and with `include_annotations` the sessions that hold labels. Into this organization,
    or `org_id`, one where you are an admin or owner."""
    copy, acting = portability.clone(
        session=session, principal=principal, project=project, body=body
    )
    return projects.read(session, acting, copy)


@router.post(f"{PROJECT}/transfer", response_model=ProjectRead)
def transfer_project(
    body: ProjectTransfer, project: ProjectManager, principal: Caller, session: SessionDep
):
    """Move the project, with everything in it, to another organization; you must be an
    admin or owner of both. People who are not members there lose their role on it."""
    acting = portability.transfer(
        session=session, principal=principal, project=project, org_id=body.org_id
    )
    return projects.read(session, acting, project)


# --- labeled data --------------------------------------------------------------------


@router.get(f"{PROJECT}/export", response_class=FileResponse)
def export_project(
    project: ProjectViewer,
    principal: Caller,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[ExportFormat, Query(description="csv, jsonl or xlsx.")] = "csv",
    session_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this session's labels.")
    ] = None,
):
    """The project's labeled data: one row per segment and tag of each labeled document
    (docs/text.md, "Projects", has the columns). Annotators get the sessions assigned to
    them."""
    role = access.project_role(session, principal, project)
    dst = storage_for(settings).staging_file(f".{format}")
    try:
        labeled_data.export_file(
            session=session,
            project=project,
            fmt=format,
            dst=dst,
            session_id=session_id,
            annotator_id=principal.user_id if role is ProjectRole.ANNOTATOR else None,
        )
    except BaseException:
        dst.unlink(missing_ok=True)
        raise
    return FileResponse(
        dst,
        media_type=sheets.content_type(format),
        filename=f"project-{project.id}-labels.{format}",
        background=BackgroundTask(dst.unlink, missing_ok=True),
    )


@router.post(f"{PROJECT}/import", status_code=status.HTTP_201_CREATED, response_model=ImportResult)
def import_project(
    file: UploadFile,
    project: ProjectManager,
    principal: Caller,
    session: SessionDep,
    name: Annotated[
        str | None, Form(max_length=200, description="The session's name when the file names none.")
    ] = None,
    create_missing: Annotated[
        bool, Form(description="Create the classes and labels the project lacks (else 422).")
    ] = False,
):
    """Import labeled data in the export's format (CSV, JSONL or XLSX): its documents
    (matched by `external_id` with the project's own), and an IMPORT session of its tags
    for each session the file names."""
    return labeled_data.import_file(
        session=session,
        principal=principal,
        project=project,
        data=file.file.read(),
        file_name=file.filename,
        session_name=name,
        create_missing=create_missing,
    )
