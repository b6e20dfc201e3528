"""Bodies of analyses: an ad-hoc analysis (documents in, tagged segments out, nothing
stored) and batch analyses (a group's, a file's or a dataset's texts read by a model as
a job, with their results, aggregates and exports)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from augury.schemas import StrictModel, _has_nul
from augury.text.schemas.documents import (
    MAX_ID,
    Column,
    ExternalId,
    Segmentation,
    refuse_nul_except,
)

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
ClassName = Annotated[str, Field(min_length=1, max_length=200)]

MAX_ADHOC_DOCUMENTS = 100
"""Documents one ad-hoc call may carry; more belong in a batch analysis."""


class AdhocDocument(StrictModel):
    """One document to analyze: its ``text``, your ``id`` (echoed back) and, for an ABSA
    project, the ``aspects`` (class names) whose sentiment alone you want."""

    text: str | None = Field(description="The text to analyze.")
    id: ExternalId | None = Field(None, description="Your id of the document, echoed back.")
    aspects: list[ClassName] | None = Field(
        None,
        max_length=1000,
        description="ABSA only: these aspect categories' sentiment, not which categories.",
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        """A NUL in ``text`` is refused by the service, which names the document."""
        return refuse_nul_except(data, "text")


def _one_model(model_id: int | None, zero_shot: bool) -> None:
    if zero_shot and model_id is not None:
        raise ValueError("give model_id or zero_shot, not both")


class AdhocRequest(StrictModel):
    """Texts to analyze now: ``documents`` (or the shorthand ``texts``), at most
    :data:`MAX_ADHOC_DOCUMENTS` in all (the count is checked by the service, so its 422
    can say to use a batch analysis)."""

    documents: list[AdhocDocument] | None = None
    texts: list[str | None] | None = Field(None, description="Shorthand: documents of text only.")
    model_id: Id | None = Field(
        None, description="The model; unset: the project's active model, else zero-shot."
    )
    zero_shot: bool = Field(
        False,
        description="Tag zero-shot from the classes' descriptions and examples even when "
        "the project has an active model (not with model_id).",
    )
    segmentation: Segmentation | None = Field(
        None, description="How to split the texts; unset: the project's setting."
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        """Texts are checked one by one by the service (an error then names the index)."""
        if isinstance(data, dict) and _has_nul(
            {k: v for k, v in data.items() if k not in ("documents", "texts")}
        ):
            raise ValueError("text must not contain NUL (\\u0000) characters")
        return data

    @model_validator(mode="after")
    def _some_documents(self) -> AdhocRequest:
        if self.documents is None and self.texts is None:
            raise ValueError("give `documents` (or `texts`) to analyze")
        _one_model(self.model_id, self.zero_shot)
        return self

    def all_documents(self) -> list[AdhocDocument]:
        given = list(self.documents or [])
        return given + [AdhocDocument(text=t) for t in self.texts or []]


class AdhocTag(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    class_: str | None = Field(alias="class")
    class_id: int | None
    label: str | None
    label_id: int | None
    confidence: float | None


class AdhocSegment(BaseModel):
    text: str
    span: tuple[int, int]
    tags: list[AdhocTag]
    confidence: float


class AdhocDocumentRead(BaseModel):
    id: ExternalId | None
    text: str
    segments: list[AdhocSegment]


class ModelRef(BaseModel):
    """Which model answered: a trained version (its id and "name vN"), or zero-shot."""

    id: int | None
    name: str
    kind: Literal["trained", "zero-shot"]


class AdhocRead(BaseModel):
    model: ModelRef
    type: str
    """The project's type (CLASS, LABEL, CLASSLABEL or ABSA)."""
    documents: list[AdhocDocumentRead]


class AnalysisCreate(StrictModel):
    """A batch analysis of one source: a group of the project's documents
    (``group_id``), an uploaded file's column (``file_id`` + ``column``) or a dataset's
    (``dataset_id`` + ``column``, + ``version``). A file's or dataset's rows become
    documents of the project (source ``analysis``, the other columns kept as meta)."""

    name: Name
    model_id: Id | None = Field(
        None, description="The model; unset: the project's active model, else zero-shot."
    )
    zero_shot: bool = Field(
        False,
        description="Tag zero-shot from the classes' descriptions and examples even when "
        "the project has an active model (not with model_id).",
    )
    group_id: Id | None = None
    file_id: str | None = Field(None, min_length=1, max_length=36)
    dataset_id: Id | None = None
    version: Id | None = Field(None, description="The dataset's version; unset: the latest.")
    column: Column | None = Field(None, description="The text column: a name or 0-based index.")
    id_column: Column | None = Field(None, description="A column of your own document ids.")
    time_column: Column | None = Field(
        None,
        description="A column (a group: a meta key) holding when each text was written; "
        "unset: when the document was added.",
    )
    segmentation: Segmentation | None = Field(
        None, description="How a file's or dataset's texts are split; unset: the project's."
    )
    review: bool = Field(
        True,
        description="Send low-confidence results to the project's review queue (when the "
        "project has review configured).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> AnalysisCreate:
        given = [n for n in ("group_id", "file_id", "dataset_id") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "give one source: `group_id`, `file_id` + `column` or `dataset_id` + `column`"
                + (f", not {' and '.join(given)}" if given else "")
            )
        if self.group_id is not None:
            if self.column is not None or self.id_column is not None:
                raise ValueError("`column` and `id_column` go with a `file_id` or `dataset_id`")
            if self.segmentation is not None:
                raise ValueError(
                    "a group's documents keep their segments: leave out `segmentation`"
                )
        elif self.column is None:
            raise ValueError("name the `column` that holds the text")
        if self.version is not None and self.dataset_id is None:
            raise ValueError("`version` goes with a `dataset_id`")
        _one_model(self.model_id, self.zero_shot)
        return self


class AnalysisUpdate(StrictModel):
    name: Name


class AnalysisRead(BaseModel):
    """A batch analysis. ``progress`` (0-100) and ``status`` follow its job."""

    id: int
    project_id: int
    name: str
    model_id: int | None
    model_label: str
    status: str
    progress: float
    source: dict
    document_count: int
    segment_count: int
    review_count: int
    error: str | None
    job_id: int | None
    created_at: datetime
    finished_at: datetime | None


class AnalysisCreated(BaseModel):
    analysis: AnalysisRead
    job_id: int


class ResultTag(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    class_: str | None = Field(alias="class")
    class_id: int | None
    label: str | None
    label_id: int | None
    confidence: float | None


class ResultRead(BaseModel):
    id: int
    document_id: int
    segment_id: int
    text: str
    span: tuple[int, int]
    tags: list[ResultTag]
    confidence: float
    occurred_at: datetime | None


class AggregateCount(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    class_: str | None = Field(alias="class")
    label: str | None
    count: int


class AggregatePoint(AggregateCount):
    period: str
    """The period's first day, ISO (a week starts on Monday)."""


class AggregatesRead(BaseModel):
    classes: list[str]
    labels: list[str]
    totals: list[AggregateCount]
    series: list[AggregatePoint]
