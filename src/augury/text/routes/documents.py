"""Routes of a project's documents: add (JSON, a file's column, a dataset's), list and
search, read with details, change meta, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import Discriminator, Tag

from augury.api.deps import Authenticated, ObjectId, SessionDep, SettingsDep
from augury.api.pagination import Page, PageDep, make_page
from augury.jobs.schemas import JobRead
from augury.text.deps import ProjectManager, ProjectViewer
from augury.text.schemas.documents import (
    DeletedRead,
    DocumentCreated,
    DocumentIds,
    DocumentIn,
    DocumentRead,
    DocumentsCreate,
    DocumentsCreatedRead,
    DocumentUpdate,
)
from augury.text.services import documents

router = APIRouter()

Details = Annotated[
    str | None,
    Query(
        max_length=100,
        description="Comma-separated: any of `segments`, `meta`, `tags` (each segment's "
        "tags, across sessions, with class and label names).",
    ),
]
CreateBody = Annotated[
    Annotated[DocumentsCreate, Tag("object")] | Annotated[list[DocumentIn], Tag("array")],
    Discriminator(lambda v: "array" if isinstance(v, list) else "object"),
    Body(),
]
"""The documents body, or the seed's bare array of documents (an error's ``loc`` then
starts ``["body", "object"|"array", ...]``)."""
Search = Annotated[
    str | None,
    Query(max_length=1000, description="Words the text must all contain (full-text search)."),
]
ClassValues = Annotated[
    list[str] | None,
    Query(alias="class", max_length=100, description="Class names or ids (repeatable)."),
]
"""The ``class`` filter of an analysis's results (``class`` is Python's word)."""
LabelValues = Annotated[
    list[str] | None, Query(max_length=100, description="Label names or ids (repeatable).")
]
SeedSearch = Annotated[
    str | None, Query(max_length=1000, description="The seed's name for `q`.", deprecated=True)
]


def created_body(made: documents.Created) -> Response:
    """201 with the documents made, or 202 with the job making them."""
    if made.job is not None:
        job = JobRead.model_validate(made.job).model_dump(mode="json")
        return JSONResponse({"job": job}, status_code=status.HTTP_202_ACCEPTED)
    items = [DocumentCreated.model_validate(a, from_attributes=True) for a in made.documents or []]
    body = DocumentsCreatedRead(items=items, count=len(items))
    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_201_CREATED)


@router.post(
    "/projects/{project_id}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentsCreatedRead,
    responses={202: {"description": '`{"job": ...}`: a `text.documents` job adds them.'}},
)
def create_documents(
    body: CreateBody,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
    settings: SettingsDep,
):
    """Add documents, split into segments by the project's segmentation (or
    `segmentation`), from one source: `documents` (`[{"text", "id"?, ...}]`, every other
    field kept as `meta`; a bare JSON array works too), `file_id` + `column` of an
    uploaded file, or `dataset_id` + `column` (+ `version`) of a dataset; `id_column`
    names a column of your own ids. Up to 1,000 documents answer 201 with them; more
    answer 202 with the `text.documents` job that adds them (a notification follows).
    Empty texts, NUL characters and texts over 10,000,000 characters are refused (422
    naming the row, or leave empty rows out with `skip_empty`); an id given twice or
    already in the project is 409. Nothing is stored when anything is refused."""
    if isinstance(body, list):
        body = DocumentsCreate(documents=body)
    return created_body(documents.create(session, principal, settings, project, body))


@router.get(
    "/projects/{project_id}/documents",
    response_model=Page[DocumentRead],
    response_model_exclude_unset=True,
)
def list_documents(
    project: ProjectViewer,
    session: SessionDep,
    page: PageDep,
    q: Search = None,
    search: SeedSearch = None,
    group_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    session_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
    analysis_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    class_: ClassValues = None,
    label: LabelValues = None,
    details: Details = None,
):
    """The project's documents in the order they were added; `q` searches their text,
    `group_id`, `session_id` and `external_id` filter; `analysis_id` keeps the documents
    that analysis has results for, and with `class` and `label` (names or ids,
    repeatable) those with a result tagged with one of them."""
    asked = documents.parse_details(details)
    rows, total = documents.list_page(
        session,
        project,
        page,
        q=q or search,
        group_id=group_id,
        session_id=session_id,
        external_id=external_id,
        analysis_id=analysis_id,
        classes=class_ or (),
        labels=label or (),
    )
    return make_page(documents.read_many(session, project, rows, asked), total, page)


@router.post("/projects/{project_id}/documents/delete", response_model=DeletedRead)
def delete_documents(
    body: DocumentIds, project: ProjectManager, principal: Authenticated, session: SessionDep
):
    """Delete several documents (with their segments and tags); every id must be this
    project's, else nothing is deleted (422 naming the others)."""
    return {"deleted": documents.delete_many(session, principal, project, body.ids)}


@router.get(
    "/projects/{project_id}/documents/{document_id}",
    response_model=DocumentRead,
    response_model_exclude_unset=True,
)
def get_document(
    document_id: ObjectId, project: ProjectViewer, session: SessionDep, details: Details = None
):
    """A document with its text; `details` adds its segments, meta and tags."""
    asked = documents.parse_details(details)
    doc = documents.get(session, project, document_id)
    return documents.read_many(session, project, [doc], asked)[0]


@router.patch(
    "/projects/{project_id}/documents/{document_id}",
    response_model=DocumentRead,
    response_model_exclude_unset=True,
)
def update_document(
    document_id: ObjectId,
    body: DocumentUpdate,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
):
    """Replace a document's `meta`. Its text never changes (422): segments and tags
    hang on it."""
    doc = documents.get(session, project, document_id)
    documents.update_meta(session, principal, doc, body.meta, body.text)
    return documents.read_many(session, project, [doc], {"meta"})[0]


@router.delete(
    "/projects/{project_id}/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT
)
def delete_document(
    document_id: ObjectId, project: ProjectManager, principal: Authenticated, session: SessionDep
):
    """Delete a document, its segments and its tags."""
    documents.get(session, project, document_id)
    documents.delete_many(session, principal, project, [document_id])
    return Response(status_code=status.HTTP_204_NO_CONTENT)
