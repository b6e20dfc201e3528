"""Bodies of the groups API: named sets of a project's documents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from augury.jobs.schemas import JobRead
from augury.schemas import StrictModel
from augury.text.schemas.documents import MAX_ID, DocumentIn, SourceOptions, refuse_nul_except

Name = Field(min_length=1, max_length=200, pattern=r"\S")


class GroupCreate(SourceOptions):
    """A group of existing documents (``document_ids``), of new ones (``documents``,
    made as ``POST .../documents`` makes them), or of an uploaded file's column
    (``file_id`` + ``column``); or empty, to fill later."""

    name: str = Name
    description: str = Field("", max_length=5000)
    document_ids: list[int] | None = Field(None, max_length=100_000)
    documents: list[DocumentIn] | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        """Each document checks its own fields (an error then names it)."""
        return refuse_nul_except(data, "documents")

    @model_validator(mode="after")
    def _sources(self) -> GroupCreate:
        self.check_source(inline=self.documents is not None)
        if self.dataset_id is not None:
            raise ValueError("a group is made of documents, `document_ids` or a `file_id`")
        _check_ids(self.document_ids)
        return self


class GroupUpdate(StrictModel):
    name: str | None = Field(None, min_length=1, max_length=200, pattern=r"\S")
    description: str | None = Field(None, max_length=5000)
    document_ids: list[int] | None = Field(
        None, max_length=100_000, description="Documents to add to the group (the seed's PATCH)."
    )

    @model_validator(mode="after")
    def _ids(self) -> GroupUpdate:
        _check_ids(self.document_ids)
        return self


def _check_ids(ids: list[int] | None) -> None:
    bad = [i for i in ids or [] if not 1 <= i <= MAX_ID]
    if bad:
        raise ValueError(f"document ids are between 1 and {MAX_ID}, not {bad[0]}")


class GroupRead(BaseModel):
    """A group; ``job`` is the ``text.documents`` job still adding its documents (a
    large file or JSON upload), else null."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int
    name: str
    description: str
    document_count: int
    created_at: datetime
    created_by_id: int | None
    job: JobRead | None = None


class GroupDocumentsChanged(BaseModel):
    """What adding or removing documents did, and the group's count after it."""

    changed: int
    document_count: int
