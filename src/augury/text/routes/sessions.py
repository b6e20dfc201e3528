"""Routes of labeling, correction and import sessions: create and manage them, the
annotator view (documents, tags, marks), progress and agreement.

Annotators reach only the sessions assigned to them (any other is 404); viewers read;
saving tags and marks needs the ANNOTATOR role; managing sessions needs MANAGER.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from augury.api.deps import Authenticated, ObjectId, SessionDep, SettingsDep
from augury.api.pagination import Page, PageDep, make_page
from augury.text.deps import ProjectAnnotator, ProjectManager, ProjectViewer
from augury.text.schemas.sessions import (
    AgreementRead,
    AnnotationRead,
    AssigneesSet,
    DocumentView,
    MarkIn,
    MarkRead,
    ProgressRead,
    SessionCreate,
    SessionDocument,
    SessionRead,
    SessionUpdate,
    TagsSave,
)
from augury.text.services import sessions

router = APIRouter()

SESSION = "/projects/{project_id}/sessions/{session_id}"
DOCUMENT = SESSION + "/documents/{document_id}"
Annotator = Annotated[
    int | None,
    Query(ge=1, le=2**31 - 1, description="Managers: read this user's tags instead of yours."),
]
Confirm = Annotated[
    bool, Query(description="Delete a session holding labels (else 409 says how many).")
]


@router.get("/projects/{project_id}/sessions", response_model=Page[SessionRead])
def list_sessions(
    project: ProjectViewer,
    principal: Authenticated,
    session: SessionDep,
    page: PageDep,
    mode: Annotated[
        str | None,
        Query(
            max_length=100,
            description="ANNOTATION, CORRECTION, IMPORT or REVIEW (or several, comma-separated).",
        ),
    ] = None,
    status_: Annotated[
        str | None,
        Query(
            alias="status",
            max_length=200,
            description="CREATED, SAMPLING, PREDICTING, ANNOTATING, FINISHED or FAILED "
            "(or several).",
        ),
    ] = None,
):
    """The project's sessions, newest first (annotators: those assigned to them)."""
    rows, total = sessions.list_page(session, principal, project, page, mode=mode, status=status_)
    return make_page(sessions.read_many(session, project, rows), total, page)


@router.post(
    "/projects/{project_id}/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionRead,
)
def create_session(
    body: SessionCreate,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
    settings: SettingsDep,
):
    """A labeling session over `document_ids`, a `group_id`, new `documents`, a random
    `sample_size` of the project's (or the group's) documents (`seed` makes it
    reproducible) or all of them; an IMPORT session from an uploaded labeled file
    (`file_id` + `column_mapping` `{"text", "class", "label", "aspect"}`; names the
    project lacks are 422 unless `create_missing`); or, with `mode: "CORRECTION"`, a
    model (zero-shot when `model_id` is null) pre-tags a `sample_size` of unlabeled
    documents chosen by `strategy` (`least_confident` or `diverse`); a large pool is
    prepared by a `text.correction` job (status SAMPLING, PREDICTING, then
    ANNOTATING). `classes` and `labels` (names) narrow what the session offers;
    `assignees` are user ids of people who may label in the project."""
    ts = sessions.create(session, principal, settings, project, body)
    return sessions.read(session, project, ts)


@router.get(SESSION, response_model=SessionRead)
def get_session(
    session_id: ObjectId, project: ProjectViewer, principal: Authenticated, session: SessionDep
):
    return sessions.read(session, project, sessions.get(session, principal, project, session_id))


@router.patch(SESSION, response_model=SessionRead)
def update_session(
    session_id: ObjectId,
    body: SessionUpdate,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
):
    """Rename it, describe it, narrow its classes and labels, or set `status` FINISHED
    (closed: no more saves) or ANNOTATING (reopened)."""
    ts = sessions.get(session, principal, project, session_id)
    return sessions.read(session, project, sessions.update(session, principal, project, ts, body))


@router.delete(SESSION, status_code=status.HTTP_204_NO_CONTENT)
def delete_session(
    session_id: ObjectId,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
    confirm: Confirm = False,
):
    """Delete the session with its tags and marks (one holding labels needs
    `?confirm=true`); its documents stay in the project."""
    ts = sessions.get(session, principal, project, session_id)
    sessions.delete(session, principal, ts, confirm=confirm)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(SESSION + "/assignees", response_model=SessionRead)
def set_assignees(
    session_id: ObjectId,
    body: AssigneesSet,
    project: ProjectManager,
    principal: Authenticated,
    session: SessionDep,
):
    """Replace who labels the session: people of the organization who may label in
    the project (ANNOTATOR or MANAGER)."""
    ts = sessions.get(session, principal, project, session_id)
    ts = sessions.set_assignees(session, principal, project, ts, body.user_ids)
    return sessions.read(session, project, ts)


@router.get(SESSION + "/documents", response_model=Page[SessionDocument])
def list_session_documents(
    session_id: ObjectId,
    project: ProjectViewer,
    principal: Authenticated,
    session: SessionDep,
    page: PageDep,
    annotator: Annotator = None,
):
    """The session's documents in its order, each with your state (todo, in_progress,
    done, skipped) and how many of its segments you saved."""
    ts = sessions.get(session, principal, project, session_id)
    items, total = sessions.documents_page(
        session, principal, project, ts, page, annotator=annotator
    )
    return make_page(items, total, page)


@router.get(DOCUMENT, response_model=DocumentView)
def get_session_document(
    session_id: ObjectId,
    document_id: ObjectId,
    project: ProjectViewer,
    principal: Authenticated,
    session: SessionDep,
    annotator: Annotator = None,
):
    """One document for the annotator view: its segments with your tags, their
    versions (send them back when saving) and your marks; in a correction session
    the model's suggestions; and the `previous` and `next` documents."""
    ts = sessions.get(session, principal, project, session_id)
    return sessions.document_view(session, principal, project, ts, document_id, annotator=annotator)


@router.put(DOCUMENT + "/segments/{segment_id}/tags", response_model=AnnotationRead)
def save_tags(
    session_id: ObjectId,
    document_id: ObjectId,
    segment_id: ObjectId,
    body: TagsSave,
    project: ProjectAnnotator,
    principal: Authenticated,
    session: SessionDep,
):
    """Replace your tags on a segment: `[{"class" or "class_id", "label" or "label_id",
    "start"?, "end"?}]` (spans within the segment, not overlapping for the same tag), as
    the project's type allows (CLASS: one class; LABEL: labels; CLASSLABEL and ABSA:
    class and label pairs, an ABSA aspect once). `version` is the one you read, null
    when you read none; a stale one is 409 with the current tags and version."""
    ts = sessions.get(session, principal, project, session_id)
    return sessions.save_tags(session, principal, project, ts, document_id, segment_id, body)


def _mark(
    project, principal, session, session_id, document_id, body, segment_id=None, page=None
) -> dict:
    ts = sessions.get(session, principal, project, session_id)
    return sessions.mark(
        session, principal, project, ts, document_id, body.name, segment_id=segment_id, page=page
    )


def _unmark(project, principal, session, session_id, document_id, segment_id=None, page=None):
    ts = sessions.get(session, principal, project, session_id)
    sessions.unmark(session, principal, ts, document_id, segment_id=segment_id, page=page)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(DOCUMENT + "/segments/{segment_id}/mark", response_model=MarkRead)
def mark_segment(
    session_id: ObjectId,
    document_id: ObjectId,
    segment_id: ObjectId,
    body: MarkIn,
    project: ProjectAnnotator,
    principal: Authenticated,
    session: SessionDep,
):
    """Mark a segment ANNOTATED (done; in a correction session, the model's tags
    accepted unless you saved your own) or SKIPPED."""
    return _mark(project, principal, session, session_id, document_id, body, segment_id=segment_id)


@router.delete(DOCUMENT + "/segments/{segment_id}/mark", status_code=status.HTTP_204_NO_CONTENT)
def unmark_segment(
    session_id: ObjectId,
    document_id: ObjectId,
    segment_id: ObjectId,
    project: ProjectAnnotator,
    principal: Authenticated,
    session: SessionDep,
):
    return _unmark(project, principal, session, session_id, document_id, segment_id=segment_id)


@router.post(DOCUMENT + "/pages/{page}/mark", response_model=MarkRead)
def mark_page(
    session_id: ObjectId,
    document_id: ObjectId,
    page: ObjectId,
    body: MarkIn,
    project: ProjectAnnotator,
    principal: Authenticated,
    session: SessionDep,
):
    """Mark a page (numbered from 1, as segments' `page`) ANNOTATED or SKIPPED."""
    return _mark(project, principal, session, session_id, document_id, body, page=page)


@router.delete(DOCUMENT + "/pages/{page}/mark", status_code=status.HTTP_204_NO_CONTENT)
def unmark_page(
    session_id: ObjectId,
    document_id: ObjectId,
    page: ObjectId,
    project: ProjectAnnotator,
    principal: Authenticated,
    session: SessionDep,
):
    return _unmark(project, principal, session, session_id, document_id, page=page)


@router.post(DOCUMENT + "/mark", response_model=MarkRead)
def mark_document(
    session_id: ObjectId,
    document_id: ObjectId,
    body: MarkIn,
    project: ProjectAnnotator,
    principal: Authenticated,
    session: SessionDep,
):
    """Mark the whole document ANNOTATED or SKIPPED (the session finishes once every
    assignee has finished every document)."""
    return _mark(project, principal, session, session_id, document_id, body)


@router.delete(DOCUMENT + "/mark", status_code=status.HTTP_204_NO_CONTENT)
def unmark_document(
    session_id: ObjectId,
    document_id: ObjectId,
    project: ProjectAnnotator,
    principal: Authenticated,
    session: SessionDep,
):
    return _unmark(project, principal, session, session_id, document_id)


@router.get(SESSION + "/progress", response_model=ProgressRead)
def session_progress(
    session_id: ObjectId, project: ProjectViewer, principal: Authenticated, session: SessionDep
):
    """Documents done, skipped and in progress and segments tagged, per annotator and
    overall, and (corrections) the predicted score."""
    ts = sessions.get(session, principal, project, session_id)
    return sessions.progress(session, project, ts)


@router.get(SESSION + "/agreement", response_model=AgreementRead)
def session_agreement(
    session_id: ObjectId, project: ProjectViewer, principal: Authenticated, session: SessionDep
):
    """How far the annotators who tagged the same segments agree: Cohen's kappa for
    two, Fleiss' for more; on the class of a CLASS project, else per label (a
    CLASSLABEL project's class/label pair, an ABSA project's aspect), with percent
    agreement and item counts."""
    ts = sessions.get(session, principal, project, session_id)
    return sessions.agreement(session, project, ts)
