"""Bodies of human review (HITL): the project's review settings, the predictions a batch
analysis hands over, the review items and a reviewer's correction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from augury.schemas import StrictModel
from augury.text.schemas.sessions import MAX_TAGS, TagIn

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Confidence = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]

REVIEW_STATUSES = ("PENDING", "ACCEPTED", "CORRECTED")


class ReviewConfigPut(StrictModel):
    """The project's review settings. A field left out keeps its current value (its
    default on the first call); ``classes: null`` reviews every class, ``webhook_url:
    null`` removes the webhook."""

    enabled: bool = True
    threshold: Confidence = 0.5
    """Predictions less confident than this go to people."""
    classes: list[Name] | None = Field(None, max_length=10_000)
    """Only predictions of these classes (names) are reviewed; null: all."""
    assignee_ids: list[Id] = Field(default_factory=list, max_length=1000)
    """Reviewers (the project's annotators or managers), given items in turn."""
    webhook_url: str | None = Field(None, min_length=1, max_length=2000)
    """Called, signed, once for each batch of new items."""


class ReviewConfigRead(BaseModel):
    project_id: int
    configured: bool
    """False until the settings were first saved (the values are then the defaults)."""
    enabled: bool
    threshold: float
    classes: list[str] | None
    class_ids: list[int] | None
    assignee_ids: list[int]
    webhook_url: str | None
    webhook_secret_hint: str | None
    """The secret's first characters, to tell which one a receiver holds."""
    webhook_secret: str | None = None
    """The whole secret: only in the answer that made it (first webhook, rotation)."""
    updated_at: datetime | None


class PredictedTag(BaseModel):
    """One tag of a prediction, by id as stored, with the model's confidence in it."""

    class_id: int | None = None
    label_id: int | None = None
    start: int | None = None
    end: int | None = None
    confidence: Confidence | None = None


class ReviewPrediction(BaseModel):
    """What a model said of one segment: what a batch analysis hands to
    :func:`augury.text.services.review.submit`.

    ``confidence`` is the prediction's own (a CLASS model's top probability); without it,
    the least confident of its tags stands for the whole prediction."""

    document_id: int
    segment_id: int
    tags: list[PredictedTag] = Field(default_factory=list, max_length=MAX_TAGS)
    confidence: Confidence | None = None
    source: dict = Field(default_factory=dict)
    """Where it came from: ``{"analysis_id", "model_id"}``."""

    @model_validator(mode="after")
    def _has_a_confidence(self) -> ReviewPrediction:
        if self.confidence is None and not any(t.confidence is not None for t in self.tags):
            raise ValueError("a prediction needs a confidence, its own or its tags'")
        return self

    @property
    def overall(self) -> float:
        if self.confidence is not None:
            return self.confidence
        return min(t.confidence for t in self.tags if t.confidence is not None)


class ReviewCorrect(StrictModel):
    """The reviewer's tags for the segment, in the shapes of session tags."""

    tags: list[TagIn] = Field(max_length=MAX_TAGS)


class ReviewItemRead(BaseModel):
    id: int
    project_id: int
    document_id: int
    external_id: str | None
    """The caller's own id of the document, when it has one."""
    segment_id: int
    text: str
    """The segment's text."""
    start: int
    end: int
    """The segment's span in its document (half-open)."""
    predicted: list[dict]
    """The model's tags, with names and confidences."""
    confidence: float
    final: list[dict] | None
    """The tags the reviewer settled on (null while pending)."""
    status: str
    source: dict
    assignee_id: int | None
    reviewed_by_id: int | None
    reviewed_at: datetime | None
    created_at: datetime
    review_session_id: int | None = None
    """The project's REVIEW session, where a reviewed item's tags are training data."""
