"""Tables of text projects: the labeling loop of DeepOpinion's studio.

A :class:`TextProject` holds documents, split into :class:`TextSegment` rows with
half-open character spans, and the vocabulary people tag them with: classes (one per
segment, or the aspect categories of an ABSA project) and labels (multi-label tags, or
the fixed sentiments POS/NEG/NEU/CONFLICT of an ABSA project). People label segments in
sessions (:class:`TextSession`); what one person says of one segment in one session is
one :class:`TextAnnotation` row, whose ``version`` makes concurrent saves safe: two
annotators never overwrite each other (each has their own row), and one annotator's
stale save is refused rather than lost. Every kind of training data (a labeling
session, a correction session, an imported labeled file, the human review queue) is
annotations in a session, so a model trains from sessions alone.

Tags are stored by class and label id, so renaming a class carries its tags along.
Everything belongs to its project and goes with it (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from augury import clock
from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class ProjectType(enum.StrEnum):
    CLASS = "CLASS"
    """One class per segment (or per document, with no segmentation)."""
    LABEL = "LABEL"
    """Any number of labels per segment."""
    CLASSLABEL = "CLASSLABEL"
    """Any number of (class, label) pairs per segment."""
    ABSA = "ABSA"
    """Aspect categories (the classes), each with a sentiment (the fixed labels)."""


ABSA_LABELS = ("POS", "NEG", "NEU", "CONFLICT")
"""The sentiments of an ABSA project, created with it and never edited."""


class ProjectRole(enum.StrEnum):
    """A person's role in one project (what :mod:`augury.text.access` grants)."""

    MANAGER = "MANAGER"
    """Configures the project: classes, labels, documents, sessions, models."""
    ANNOTATOR = "ANNOTATOR"
    """Sees and labels only the sessions they are assigned to."""
    VIEWER = "VIEWER"
    """Reads the project."""

    @property
    def rank(self) -> int:
        return {"VIEWER": 0, "ANNOTATOR": 1, "MANAGER": 2}[self.value]


class SessionMode(enum.StrEnum):
    ANNOTATION = "ANNOTATION"
    CORRECTION = "CORRECTION"
    IMPORT = "IMPORT"
    """Labels that arrived already made: an uploaded labeled file."""
    REVIEW = "REVIEW"
    """The project's human review queue: what reviewers accepted or corrected."""


class SessionStatus(enum.StrEnum):
    CREATED = "CREATED"
    SAMPLING = "SAMPLING"
    PREDICTING = "PREDICTING"
    ANNOTATING = "ANNOTATING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"


class TextProject(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "text_project"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_text_project_org_name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(20))
    """A :class:`ProjectType`; fixed at creation."""
    language: Mapped[str] = mapped_column(String(20), default="en")
    segmentation: Mapped[str] = mapped_column(String(20), default="sentence")
    """How new documents are split: sentence, paragraph or none."""
    settings: Mapped[dict] = mapped_column(default=dict)
    """Options of later issues (the embedding model directory, the promoted model)."""
    document_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class TextProjectMember(IdMixin, CreatedMixin, Base):
    """A person's explicit role in a project; without one, their organization role
    decides (:func:`augury.text.access.project_role`)."""

    __tablename__ = "text_project_member"
    __table_args__ = (
        UniqueConstraint("project_id", "user_id", name="uq_text_project_member_project_user"),
    )

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))


class TextClass(IdMixin, CreatedMixin, Base):
    """A class (or an ABSA aspect category): what the annotator's guide and zero-shot
    read are its ``description`` and ``examples``."""

    __tablename__ = "text_class"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_text_class_project_name"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    examples: Mapped[list] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    """Display order, and the keyboard shortcut's digit in the annotator view."""


class TextLabel(IdMixin, CreatedMixin, Base):
    __tablename__ = "text_label"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_text_label_project_name"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    examples: Mapped[list] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    fixed: Mapped[bool] = mapped_column(Boolean, default=False)
    """True for the sentiments of an ABSA project, which cannot be edited or deleted."""


class TextFile(CreatedMixin, OrgMixin, Base):
    """An uploaded file waiting for its column to be picked (upload, preview, pick).

    The id is a UUID, as the seed's ``file_id``. The file itself is in the datasets'
    blob storage under ``storage_key``; the sweep deletes both once ``expires_at`` passes.
    """

    __tablename__ = "text_file"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("text_project.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(10))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(255))
    columns: Mapped[list] = mapped_column(default=list)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    preview: Mapped[list] = mapped_column(default=list)
    """First rows, the header first: the seed's ``preview`` shape."""
    expires_at: Mapped[datetime] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class TextDocument(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "text_document"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id", name="uq_text_document_project_external"),
        Index("ix_text_document_project_id_id", "project_id", "id"),
    )

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    """The caller's own id for the document, unique in the project when given."""
    text: Mapped[str] = deferred(mapped_column(Text))
    meta: Mapped[dict] = mapped_column(default=dict)
    """Every other field or column the document arrived with."""
    pages: Mapped[list | None] = mapped_column()
    """[[start, end], ...] character spans of a PDF's pages, for page marks."""
    segmentation: Mapped[str] = mapped_column(String(20), default="sentence")
    source: Mapped[str] = mapped_column(String(20), default="api")
    """api, file, dataset, session, import or analysis: where the document came from."""
    length: Mapped[int] = mapped_column(Integer, default=0)
    segment_count: Mapped[int] = mapped_column(Integer, default=0)


class TextSegment(IdMixin, Base):
    """A sentence (or the whole document) of a document: ``text[start:end]``."""

    __tablename__ = "text_segment"
    __table_args__ = (Index("ix_text_segment_document_position", "document_id", "position"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("text_document.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        ForeignKey("text_project.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class TextGroup(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "text_group"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_text_group_project_name"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    document_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class TextGroupDocument(Base):
    __tablename__ = "text_group_document"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("text_group.id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("text_document.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class TextSession(IdMixin, CreatedMixin, OrgMixin, Base):
    """A labeling session (ANNOTATION), a correction session (CORRECTION), an imported
    labeled file (IMPORT) or the project's review queue (REVIEW)."""

    __tablename__ = "text_session"
    __table_args__ = (Index("ix_text_session_project_mode", "project_id", "mode"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=SessionStatus.CREATED)
    class_ids: Mapped[list | None] = mapped_column()
    """The classes offered in this session; None: all of the project's."""
    label_ids: Mapped[list | None] = mapped_column()
    sampling: Mapped[dict] = mapped_column(default=dict)
    """How the documents were chosen: {"how": "random"|"ids"|"group"|"file"|
    "least_confident"|"diverse", "sample_size", "seed", ...}."""
    model_id: Mapped[int | None] = mapped_column(Integer)
    """The model that pre-tagged a correction session."""
    predicted_score: Mapped[dict | None] = mapped_column()
    """Correction sessions: the projected score of the next model, with its interval."""
    document_count: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class TextSessionDocument(Base):
    """A document in a session, in the order annotators see it."""

    __tablename__ = "text_session_document"
    __table_args__ = (Index("ix_text_session_document_session_position", "session_id", "position"),)

    session_id: Mapped[int] = mapped_column(
        ForeignKey("text_session.id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("text_document.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    """Why active learning picked it (the model's confidence), for correction sessions."""


class TextSessionAssignee(Base):
    __tablename__ = "text_session_assignee"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("text_session.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class TextAnnotation(IdMixin, OrgMixin, Base):
    """What one annotator (or a model, or an import) says of one segment in one session.

    ``tags`` is ``[{"class_id", "label_id", "start", "end"}]``: either id may be null as
    the project type allows, and ``start``/``end`` (segment-relative, half-open) mark a
    span within the segment, null for the whole segment. Saves compare ``version``.
    """

    __tablename__ = "text_annotation"
    __table_args__ = (
        UniqueConstraint(
            "session_id", "segment_id", "annotator_key", name="uq_text_annotation_session_segment"
        ),
        Index("ix_text_annotation_project_source", "project_id", "source"),
        Index("ix_text_annotation_session_document", "session_id", "document_id"),
    )

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("text_session.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(
        ForeignKey("text_document.id", ondelete="CASCADE"), index=True
    )
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("text_segment.id", ondelete="CASCADE"), index=True
    )
    annotator_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    annotator_key: Mapped[str] = mapped_column(String(40))
    """``user:<id>``, ``model:<id>`` or ``import``: who said it, never null, so the
    unique constraint holds on every database."""
    source: Mapped[str] = mapped_column(String(20))
    """human, model, import or review."""
    tags: Mapped[list] = mapped_column(default=list)
    score: Mapped[float | None] = mapped_column(Float)
    """A model's confidence in its tags."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class TextMark(IdMixin, CreatedMixin, OrgMixin, Base):
    """An annotator's "done" (ANNOTATED) or "skipped" (SKIPPED) on a segment, a page or
    a whole document of a session."""

    __tablename__ = "text_mark"
    __table_args__ = (
        UniqueConstraint(
            "session_id",
            "user_key",
            "document_id",
            "scope",
            "ref",
            name="uq_text_mark_session_user_target",
        ),
    )

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(
        ForeignKey("text_session.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("text_document.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    user_key: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(10))
    """segment, page or document."""
    ref: Mapped[int] = mapped_column(Integer, default=0)
    """The segment id or the page number (0 for a document)."""
    name: Mapped[str] = mapped_column(String(20))
    """ANNOTATED or SKIPPED."""


class TextReviewConfig(IdMixin, CreatedMixin, OrgMixin, Base):
    """Human review (HITL) of one project: which predictions go to people."""

    __tablename__ = "text_review_config"
    __table_args__ = (UniqueConstraint("project_id", name="uq_text_review_config_project"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    threshold: Mapped[float] = mapped_column(Float, default=0.5)
    class_ids: Mapped[list | None] = mapped_column()
    """Only predictions of these classes are reviewed; None: all."""
    assignee_ids: Mapped[list] = mapped_column(default=list)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class TextReviewItem(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "text_review_item"
    __table_args__ = (Index("ix_text_review_item_project_status", "project_id", "status"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(
        ForeignKey("text_document.id", ondelete="CASCADE"), index=True
    )
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("text_segment.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[dict] = mapped_column(default=dict)
    """Where the prediction came from: {"analysis_id", "model_id"}."""
    predicted: Mapped[list] = mapped_column(default=list)
    """The tags the model gave, with their confidences."""
    confidence: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    """PENDING, ACCEPTED or CORRECTED."""
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[datetime | None] = mapped_column()
    final: Mapped[list | None] = mapped_column()
    """The tags the reviewer settled on."""


# --- models and analyses (the text models issue) --------------------------------------------


class ModelTask(enum.StrEnum):
    """What a model predicts, decided by its project's type."""

    CLASS = "CLASS"
    """One class per segment (a CLASS project)."""
    LABEL = "LABEL"
    """Any number of labels per segment (a LABEL project)."""
    CLASSLABEL = "CLASSLABEL"
    """Any number of (class, label) pairs per segment (a CLASSLABEL project)."""
    ABSA = "ABSA"
    """Aspect categories, each with a sentiment (an ABSA project)."""


class ModelStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    TRAINING = "TRAINING"
    READY = "READY"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


class AnalysisStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


class TextModelVersion(IdMixin, CreatedMixin, OrgMixin, Base):
    """One trained (or uploaded) version of a project's model.

    Versions of one ``name`` are numbered from 1 in the project; at most one version of
    the project is ``active`` (promoted): the one analyses and correction sessions use
    when they name none. The model's files live under the data directory
    (``artifact``, relative to it), identified by their ``content_hash``.
    """

    __tablename__ = "text_model"
    __table_args__ = (
        UniqueConstraint(
            "project_id", "name", "version", name="uq_text_model_project_name_version"
        ),
        Index("ix_text_model_project_status", "project_id", "status"),
    )

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(Text, default="")
    task: Mapped[str] = mapped_column(String(20))
    """A :class:`ModelTask`."""
    status: Mapped[str] = mapped_column(String(20), default=ModelStatus.QUEUED)
    origin: Mapped[str] = mapped_column(String(20), default="trained")
    """trained or uploaded."""
    training: Mapped[dict] = mapped_column(default=dict)
    """How it was (or is being) trained: sessions, test sessions or fraction, seed, base
    model, language, and the example counts once known."""
    vocabulary: Mapped[dict] = mapped_column(default=dict)
    """The project's classes and labels when it trained, ``{"classes": {name: id},
    "labels": {name: id}}``, so a prediction maps back to ids and a rename since is seen."""
    metrics: Mapped[dict | None] = mapped_column()
    """The test score in short: n, accuracy, micro_f1, macro_f1 (ABSA: its own)."""
    report: Mapped[dict | None] = deferred(mapped_column(JSON))
    """The full test report: per-class precision/recall/F1, confusion, worst examples."""
    artifact: Mapped[str | None] = mapped_column(String(500))
    content_hash: Mapped[str | None] = mapped_column(String(80))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    trained_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class TextAnalysis(IdMixin, CreatedMixin, OrgMixin, Base):
    """A batch analysis: a source's texts (a group of the project's documents, or a
    file's or a dataset's column, added to the project as documents) read by a model."""

    __tablename__ = "text_analysis"
    __table_args__ = (Index("ix_text_analysis_project_id_id", "project_id", "id"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("text_project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    model_id: Mapped[int | None] = mapped_column(ForeignKey("text_model.id", ondelete="SET NULL"))
    model_label: Mapped[str] = mapped_column(String(300), default="")
    """Which model it was, kept after the model is deleted ("reviews v3", "zero-shot")."""
    source: Mapped[dict] = mapped_column(default=dict)
    """{"group_id"} or {"file_id"|"dataset_id", "column", "id_column", "time_column"}."""
    status: Mapped[str] = mapped_column(String(20), default=AnalysisStatus.QUEUED)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    document_count: Mapped[int] = mapped_column(Integer, default=0)
    segment_count: Mapped[int] = mapped_column(Integer, default=0)
    review_count: Mapped[int] = mapped_column(Integer, default=0)
    """Results sent to the project's human review queue."""
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class TextAnalysisResult(IdMixin, Base):
    """What the model said of one segment in one analysis."""

    __tablename__ = "text_analysis_result"
    __table_args__ = (
        Index("ix_text_analysis_result_analysis_id", "analysis_id", "id"),
        Index("ix_text_analysis_result_analysis_confidence", "analysis_id", "confidence"),
    )

    analysis_id: Mapped[int] = mapped_column(ForeignKey("text_analysis.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(
        ForeignKey("text_document.id", ondelete="CASCADE"), index=True
    )
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("text_segment.id", ondelete="CASCADE"), index=True
    )
    tags: Mapped[list] = mapped_column(default=list)
    """``[{"class_id", "class", "label_id", "label", "confidence"}]``."""
    confidence: Mapped[float] = mapped_column(Float)
    """The least confidence of its tags (what review thresholds compare)."""
    occurred_at: Mapped[datetime | None] = mapped_column()
    """When the text was written (the source's time column), for aggregates over time."""


class TextAnalysisTag(IdMixin, Base):
    """One tag of a result, a row each so results filter and aggregate by class and label
    in SQL."""

    __tablename__ = "text_analysis_tag"
    __table_args__ = (
        Index("ix_text_analysis_tag_analysis_class", "analysis_id", "class_name"),
        Index("ix_text_analysis_tag_analysis_label", "analysis_id", "label_name"),
    )

    analysis_id: Mapped[int] = mapped_column(ForeignKey("text_analysis.id", ondelete="CASCADE"))
    result_id: Mapped[int] = mapped_column(
        ForeignKey("text_analysis_result.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int] = mapped_column(Integer)
    class_id: Mapped[int | None] = mapped_column(Integer)
    class_name: Mapped[str | None] = mapped_column(String(200))
    label_id: Mapped[int | None] = mapped_column(Integer)
    label_name: Mapped[str | None] = mapped_column(String(200))
    confidence: Mapped[float] = mapped_column(Float)
    occurred_at: Mapped[datetime | None] = mapped_column()
