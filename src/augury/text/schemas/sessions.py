"""Bodies of labeling, correction and import sessions, the tags people save in them, their
marks, progress and agreement."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from augury.schemas import StrictModel
from augury.text.schemas.documents import DocumentIn

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Name = Annotated[str, Field(min_length=1, max_length=200)]

MAX_SESSION_DOCUMENTS = 100_000
"""Documents one session may hold (a sample, a list of ids, inline documents)."""
MAX_INLINE_DOCUMENTS = 1_000
"""Documents a session's create call may carry inline; more go through an upload."""
MAX_TAGS = 100
"""Tags one annotator may put on one segment."""


class ColumnMapping(StrictModel):
    """Which column of an already labeled file holds what: the document ``text`` and its
    ``class``, ``label`` or ``aspect`` (an ABSA project's class)."""

    text: str = Field(min_length=1, max_length=500)
    class_: str | None = Field(None, alias="class", min_length=1, max_length=500)
    label: str | None = Field(None, min_length=1, max_length=500)
    aspect: str | None = Field(None, min_length=1, max_length=500)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SessionCreate(StrictModel):
    """A new session. Its documents come from one of ``document_ids``, ``group_id``
    (all of it, or a ``sample_size`` of it), inline ``documents``, or an already labeled
    file (``file_id`` + ``column_mapping``: an IMPORT session); with none of them, a
    ``sample_size`` of the project's documents (``seed`` makes the sample reproducible),
    or all of them.

    ``mode: "CORRECTION"`` lets a model (``model_id``; null: zero-shot from the classes'
    descriptions and examples) pre-tag ``sample_size`` documents chosen by ``strategy``
    from the project's unlabeled documents (or a group)."""

    name: Name
    description: str = Field("", max_length=5000)
    mode: Literal["ANNOTATION", "CORRECTION", "IMPORT"] = "ANNOTATION"
    classes: list[Name] | None = Field(None, max_length=10_000)
    labels: list[Name] | None = Field(None, max_length=10_000)
    sample_size: int | None = Field(None, ge=1, le=MAX_SESSION_DOCUMENTS)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    document_ids: list[Id] | None = Field(None, min_length=1, max_length=MAX_SESSION_DOCUMENTS)
    group_id: Id | None = None
    documents: list[DocumentIn] | None = Field(None, min_length=1, max_length=MAX_INLINE_DOCUMENTS)
    segmentation: Literal["sentence", "paragraph", "none"] | None = None
    """How inline documents are split (default: the project's segmentation)."""
    file_id: str | None = Field(None, min_length=1, max_length=36)
    column_mapping: ColumnMapping | None = None
    create_missing: bool = False
    """An imported file's class and label names the project lacks are created (else 422)."""
    assignees: list[Id] = Field(default_factory=list, max_length=1000)
    model_id: Id | None = None
    strategy: Literal["least_confident", "diverse"] = "least_confident"

    @model_validator(mode="after")
    def _one_source(self) -> SessionCreate:
        given = [
            name
            for name in ("document_ids", "group_id", "documents", "file_id")
            if getattr(self, name) is not None
        ]
        if len(given) > 1:
            raise ValueError(f"give the documents one way, not {' and '.join(given)}")
        if (self.file_id is None) != (self.column_mapping is None):
            raise ValueError("file_id and column_mapping go together (an already labeled file)")
        if self.file_id is not None:
            self.mode = "IMPORT"
        elif self.mode == "IMPORT":
            raise ValueError("an IMPORT session is made from file_id and column_mapping")
        if self.mode == "CORRECTION" and given and given != ["group_id"]:
            raise ValueError(
                "a correction session samples the project's unlabeled documents, or a group's"
            )
        if self.sample_size is not None and given and given != ["group_id"]:
            raise ValueError("sample_size samples the project's documents or a group's")
        return self

    @field_validator("assignees")
    @classmethod
    def _distinct(cls, ids: list[int]) -> list[int]:
        return list(dict.fromkeys(ids))


class SessionUpdate(StrictModel):
    """Rename, describe, narrow the classes and labels offered, or change the status:
    FINISHED closes the session, ANNOTATING reopens it."""

    name: Name | None = None
    description: str | None = Field(None, max_length=5000)
    classes: list[Name] | None = Field(None, max_length=10_000)
    labels: list[Name] | None = Field(None, max_length=10_000)
    status: Literal["FINISHED", "ANNOTATING"] | None = None


class AssigneesSet(StrictModel):
    user_ids: list[Id] = Field(max_length=1000)


class TagIn(StrictModel):
    """One tag: a class (by ``class`` name or ``class_id``) and/or a label (``label`` or
    ``label_id``), on the whole segment or on the span ``start``..``end`` of it
    (segment-relative character offsets, half-open)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    class_: str | None = Field(None, alias="class", min_length=1, max_length=200)
    class_id: Id | None = None
    label: str | None = Field(None, min_length=1, max_length=200)
    label_id: Id | None = None
    start: int | None = Field(None, ge=0, le=2**31 - 1)
    end: int | None = Field(None, ge=0, le=2**31 - 1)


class TagsSave(StrictModel):
    """The caller's tags on one segment, replacing theirs. ``version`` is the version
    read (null: none was read, so none may exist); a stale one is refused (409)."""

    tags: list[TagIn] = Field(max_length=MAX_TAGS)
    version: int | None = Field(None, ge=1, le=2**31 - 2)
    """At most 2**31 - 2: the save writes version + 1 to a 32-bit column."""


class MarkIn(StrictModel):
    name: Literal["ANNOTATED", "SKIPPED"] = "ANNOTATED"


# --- answers ------------------------------------------------------------------------------


class Assignee(BaseModel):
    user_id: int
    email: str | None = None
    name: str | None = None


class SessionRead(BaseModel):
    """A session as the seed's studio shows it, with its assignees."""

    id: int
    name: str
    description: str
    project_id: int
    organization_id: int
    user_id: int | None
    mode: str
    status: str
    type: str
    created: datetime
    updated_at: datetime
    finished: datetime | None
    document_count: int
    document_group_id: int | None
    progress: float
    model_id: int | None
    classes: list[str]
    labels: list[str]
    predicted_score: float | None
    """CORRECTION: the projected score (0-1) of the next model; see ``prediction``."""
    prediction: dict[str, Any] | None
    """CORRECTION: how ``predicted_score`` was estimated (accuracy on the corrections,
    its Wilson interval, counts, method)."""
    sampling: dict[str, Any]
    job_id: int | None
    assignees: list[Assignee]


class TagOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    class_: str | None = Field(None, alias="class")
    class_id: int | None = None
    label: str | None = None
    label_id: int | None = None
    start: int | None = None
    end: int | None = None
    confidence: float | None = None


class AnnotationRead(BaseModel):
    """One annotator's tags on one segment of a session, and the version to send back."""

    session_id: int
    document_id: int
    segment_id: int
    annotator: str
    source: str
    tags: list[TagOut]
    version: int
    updated_at: datetime
    status: str
    """The session's status after the save (the first save starts ANNOTATING)."""
    progress: float
    predicted_score: float | None = None
    prediction: dict[str, Any] | None = None


class MarkRead(BaseModel):
    """The seed's mark: ``annotation_id`` is the session's id; with the session's
    progress (and, for corrections, its predicted score) after it."""

    name: str
    created: datetime
    document_id: int
    segment_id: int | None = None
    page: int | None = None
    annotation_id: int
    status: str
    progress: float
    predicted_score: float | None = None


class SegmentView(BaseModel):
    id: int
    position: int
    start: int
    end: int
    span: list[int]
    page: int | None
    text: str
    tags: list[TagOut]
    version: int | None
    """Of the annotator's saved tags; null: none saved (send ``version: null``)."""
    mark: str | None
    suggestions: list[TagOut] | None = None
    """CORRECTION: the model's tags, with their confidences."""
    suggestion_score: float | None = None


class DocumentView(BaseModel):
    """One document of a session for the annotator view: its segments with the
    annotator's tags and marks, and its neighbours in the session's order."""

    session_id: int
    id: int
    external_id: str | None
    position: int
    text: str
    meta: dict[str, Any]
    pages: list[list[int]] | None
    annotator: str
    state: str
    mark: str | None
    page_marks: dict[str, str]
    previous: int | None
    next: int | None
    segments: list[SegmentView]


class SessionDocument(BaseModel):
    id: int
    external_id: str | None
    position: int
    snippet: str
    length: int
    segment_count: int
    score: float | None
    state: str
    """The caller's: todo, in_progress, done or skipped."""
    segments_saved: int


class AnnotatorProgress(BaseModel):
    annotator: str
    user_id: int | None
    email: str | None = None
    assigned: bool
    documents_done: int
    documents_skipped: int
    documents_in_progress: int
    segments_tagged: int
    segments_saved: int
    segments_skipped: int
    progress: float


class ProgressRead(BaseModel):
    session_id: int
    status: str
    document_count: int
    segment_count: int
    progress: float
    """Mean over the annotators counted (the assignees, else whoever worked) of the share
    of documents they finished or skipped, 0-100."""
    documents_done: int
    """Documents every counted annotator finished or skipped."""
    segments_tagged: int
    """Segments someone gave at least one tag."""
    annotators: list[AnnotatorProgress]
    predicted_score: float | None = None
    prediction: dict[str, Any] | None = None


class AgreementPart(BaseModel):
    name: str
    """``class`` for the class of a CLASS project, else a label, a ``class/label`` pair
    or an aspect."""
    kappa: float | None
    method: str | None
    percent_agreement: float | None
    items: int
    items_left_out: int = 0


class AgreementRead(BaseModel):
    session_id: int
    type: str
    annotators: list[str]
    items: int
    """Segments tagged by at least two annotators."""
    kappa: float | None
    """The class's kappa (CLASS), else the mean of the per-label kappas."""
    method: str | None
    percent_agreement: float | None
    parts: list[AgreementPart]
