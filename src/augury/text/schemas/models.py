"""Bodies of the text models API: train, read, change, report, compare."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from augury.schemas import StrictModel
from augury.text.schemas.sessions import ColumnMapping

MAX_ID = 2**31 - 1
SessionIds = Field(None, min_length=1, max_length=100)
Name = Field(min_length=1, max_length=200, pattern=r"\S")


def _check_ids(ids: list[int] | None, what: str) -> None:
    bad = [i for i in ids or [] if not 1 <= i <= MAX_ID]
    if bad:
        raise ValueError(f"{what}: session ids are between 1 and {MAX_ID}, not {bad[0]}")


class ModelCreate(StrictModel):
    """Train a model version: on ``session_ids`` (augury splits their documents into
    training and test sets, ``test_fraction`` tested, seeded by ``seed``), or on
    ``train_session_ids`` tested on ``test_session_ids``, or on an uploaded labeled
    file (``file_id`` + ``column_mapping``, as an IMPORT session takes them: the file
    becomes one, then trains as ``session_ids`` would). A ``name`` that has versions
    gets the next one."""

    name: str = Name
    description: str = Field("", max_length=5000)
    session_ids: list[int] | None = SessionIds
    train_session_ids: list[int] | None = SessionIds
    test_session_ids: list[int] | None = SessionIds
    test_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    seed: int = Field(0, ge=0, le=MAX_ID)
    language: str = Field("en", min_length=2, max_length=20, pattern=r"^[A-Za-z-]+$")
    file_id: str | None = Field(
        None, min_length=1, max_length=36, description="An uploaded labeled file's id."
    )
    column_mapping: ColumnMapping | None = Field(
        None, description="Which of the file's columns hold the text and its tags."
    )
    create_missing: bool = Field(
        False, description="Add the file's class and label names the project lacks."
    )

    @model_validator(mode="after")
    def _one_way(self) -> ModelCreate:
        named = self.train_session_ids is not None or self.test_session_ids is not None
        if (self.file_id is None) != (self.column_mapping is None):
            raise ValueError("file_id and column_mapping go together (an already labeled file)")
        if self.file_id is not None and (self.session_ids is not None or named):
            raise ValueError("give a labeled file or sessions, not both")
        if self.session_ids is not None and named:
            raise ValueError(
                "give either session_ids (augury splits them) or train_session_ids with "
                "test_session_ids, not both"
            )
        if named and (self.train_session_ids is None or self.test_session_ids is None):
            raise ValueError("train_session_ids and test_session_ids go together")
        for what in ("session_ids", "train_session_ids", "test_session_ids"):
            _check_ids(getattr(self, what), what)
        return self


class ModelUpdate(StrictModel):
    """What is not given stays. A new name numbers the version anew under it."""

    name: str | None = Field(None, min_length=1, max_length=200, pattern=r"\S")
    description: str | None = Field(None, max_length=5000)


class ModelRead(BaseModel):
    """A model version. ``progress`` (0-100) is its training job's; ``score`` the
    headline test score (0-1: accuracy for CLASS, micro F1 for LABEL and CLASSLABEL,
    the mean of category F1 and polarity accuracy for ABSA), null until trained;
    ``classes`` what it predicts (CLASSLABEL pairs as ``class/label``); ``base`` the
    embedding model it was trained on."""

    id: int
    project_id: int
    name: str
    version: int
    description: str
    task: str
    status: str
    progress: float
    origin: str
    active: bool
    base: str | None
    language: str | None
    score: float | None
    metrics: dict[str, Any] | None
    training: dict[str, Any]
    classes: list[str]
    content_hash: str | None
    size_bytes: int | None
    job_id: int | None
    error: str | None
    created_at: datetime
    trained_at: datetime | None
    created_by_id: int | None


class ModelCreated(BaseModel):
    model: ModelRead
    job_id: int


class ModelReport(BaseModel):
    """A model's test report: ``per_class`` precision, recall, F1 and support;
    ``confusion`` rows of true and columns of predicted classes (CLASS; for LABEL and
    CLASSLABEL ``{name: {tp, fp, fn}}``, for ABSA the sentiments' ``{truth: {predicted:
    n}}``); ``worst`` the test examples it got most wrong."""

    model_id: int
    metrics: dict[str, Any] | None
    per_class: dict[str, dict[str, Any]]
    classes: list[str]
    confusion: Any
    worst: list[dict[str, Any]]
    training: dict[str, Any]


class ModelComparison(BaseModel):
    """Models side by side: each class's test F1 per model (``{class: {model id: f1}}``,
    null where a model does not know the class)."""

    models: list[ModelRead]
    classes: list[str]
    per_class: dict[str, dict[str, float | None]]
