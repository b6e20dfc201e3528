"""Bodies of the files and documents API: an uploaded file's preview, documents in
(as JSON, or a file's or a dataset's column), and documents out with the details asked
for (segments, meta, tags)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from augury.schemas import StrictModel, _has_nul

Segmentation = Literal["sentence", "paragraph", "none"]
MAX_ID = 2**31 - 1
ExternalId = str | int
"""A caller's own id of a document: text, or a number as the seed's clients send it."""
Column = str | int
"""A column by name, or by its 0-based position as the seed's ``column``."""


def refuse_nul_except(data: Any, key: str) -> Any:
    """StrictModel's refusal of NUL characters, for every field but ``key``, which is
    checked where the error can say more (which document)."""
    if isinstance(data, dict) and _has_nul({k: v for k, v in data.items() if k != key}):
        raise ValueError("text must not contain NUL (\\u0000) characters")
    return data


class DocumentIn(StrictModel):
    """One document as JSON: ``text``, an optional caller ``id``, and any other field,
    kept as the document's ``meta``."""

    model_config = ConfigDict(extra="allow")

    text: str | None = Field(description="The document's text (refused when empty).")
    id: ExternalId | None = Field(
        None, description="Your own id of the document, unique in the project."
    )
    meta: dict[str, Any] | None = Field(
        None, description="Fields kept with the document; any other field is added to them."
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        """NUL anywhere but in ``text`` is refused here; a NUL in ``text`` is refused by
        the documents service, which names the document."""
        return refuse_nul_except(data, "text")

    def fields(self) -> dict[str, Any]:
        """``meta`` and every extra field, merged (an extra field wins over ``meta``'s)."""
        return {**(self.meta or {}), **(self.model_extra or {})}


class SourceOptions(StrictModel):
    """How documents are read from a file or a dataset, and split."""

    file_id: str | None = Field(None, max_length=36, description="An uploaded file's id.")
    dataset_id: int | None = Field(None, ge=1, le=MAX_ID, description="A dataset's id.")
    version: int | None = Field(
        None, ge=1, le=MAX_ID, description="The dataset's version; unset: the latest."
    )
    column: Column | None = Field(
        None, description="The column holding the text: its name, or its 0-based index."
    )
    id_column: Column | None = Field(
        None, description="A column holding your own ids of the documents (unique)."
    )
    segmentation: Segmentation | None = Field(
        None, description="How to split the documents; unset: the project's setting."
    )
    skip_empty: bool = Field(
        False, description="Leave out rows with no text instead of refusing the call."
    )

    def check_source(self, *, inline: bool) -> None:
        given = [
            name
            for name, present in (
                ("documents", inline),
                ("file_id", self.file_id is not None),
                ("dataset_id", self.dataset_id is not None),
            )
            if present
        ]
        if len(given) > 1:
            raise ValueError(f"give one source of documents, not {' and '.join(given)}")
        if (self.file_id or self.dataset_id) and self.column is None:
            raise ValueError("name the `column` that holds the text")
        if not (self.file_id or self.dataset_id) and (self.column is not None or self.id_column):
            raise ValueError("`column` and `id_column` go with a `file_id` or a `dataset_id`")
        if self.version is not None and self.dataset_id is None:
            raise ValueError("`version` goes with a `dataset_id`")


class DocumentsCreate(SourceOptions):
    """Documents from one source: ``documents`` (JSON), ``file_id`` + ``column`` (an
    uploaded file), or ``dataset_id`` + ``column`` (a dataset of the organization)."""

    documents: list[DocumentIn] | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        """Each document checks its own fields (an error then names it)."""
        return refuse_nul_except(data, "documents")

    @model_validator(mode="after")
    def _one_source(self) -> DocumentsCreate:
        self.check_source(inline=self.documents is not None)
        if self.documents is None and not (self.file_id or self.dataset_id):
            raise ValueError("give `documents`, a `file_id` or a `dataset_id`")
        return self


class DocumentUpdate(StrictModel):
    meta: dict[str, Any] = Field(description="The document's new meta, replacing the old.")
    text: str | None = Field(
        None, description="Refused: a document's text never changes (segments and tags hang on it)."
    )


class DocumentIds(StrictModel):
    ids: list[int] = Field(min_length=1, max_length=100_000)

    @model_validator(mode="after")
    def _in_range(self) -> DocumentIds:
        bad = [i for i in self.ids if not 1 <= i <= MAX_ID]
        if bad:
            raise ValueError(f"document ids are between 1 and {MAX_ID}, not {bad[0]}")
        return self


class TagRead(BaseModel):
    """A tag on a segment: who gave it in which session, its class and label by name,
    and its span within the segment (null for the whole segment)."""

    model_config = ConfigDict(populate_by_name=True)

    session_id: int
    segment_id: int
    annotator: str
    """``user:<id>``, ``model:<id>`` or ``import``."""
    annotator_id: int | None
    source: str
    class_: str | None = Field(None, alias="class")
    label: str | None = None
    start: int | None = None
    end: int | None = None


class SegmentRead(BaseModel):
    id: int
    position: int
    start: int
    end: int
    span: list[int]
    """``[start, end]``, the seed's shape."""
    page: int | None
    text: str
    tags: list[TagRead] | None = None


class DocumentRead(BaseModel):
    """A document; ``meta``, ``segments`` and ``tags`` only when ``details`` asks."""

    id: int
    external_id: str | None
    text: str
    length: int
    segment_count: int
    segmentation: str
    source: str
    pages: list[list[int]] | None
    created_at: datetime
    meta: dict[str, Any] | None = None
    segments: list[SegmentRead] | None = None
    tags: list[TagRead] | None = None


class DocumentCreated(BaseModel):
    id: int
    external_id: str | None
    length: int
    segment_count: int


class DocumentsCreatedRead(BaseModel):
    """What a small upload answers (201): the documents made, in the order given."""

    items: list[DocumentCreated]
    count: int


class DeletedRead(BaseModel):
    deleted: int


class FileRead(BaseModel):
    """An uploaded file: its columns and first rows (the header first), kept until
    ``expires_at`` for a ``file_id`` to name."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    file_name: str
    format: str
    size_bytes: int
    columns: list[str]
    row_count: int
    preview: list[list[Any]]
    expires_at: datetime
    created_at: datetime
