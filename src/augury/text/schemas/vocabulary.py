"""Bodies of classes and labels (one shape for both: a name, a description and the
examples that guide annotators and zero-shot models).

The seed's callers send and read one ``example`` string; augury keeps a list,
``examples``. Both are accepted, and answers carry both (``example`` is the first).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from augury.schemas import StrictModel

Kind = Literal["classes", "labels"]
MAX_EXAMPLES = 100

VocabName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Example = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Examples = Annotated[list[Example], Field(max_length=MAX_EXAMPLES)]
Description = Annotated[str, Field(max_length=10_000)]
ItemId = Annotated[
    int | None,
    Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="Ignored when creating (the seed's samples send one; ids are the "
        "server's); on a change it must be the path's.",
    ),
]


def _merged(example: str | None, examples: list[str] | None) -> list[str] | None:
    """``example`` first, then ``examples`` without it; None when neither is given."""
    if example is None:
        return examples
    example = example.strip()
    rest = [e for e in examples or [] if e != example]
    return ([example] if example else []) + rest


class VocabCreate(StrictModel):
    id: ItemId = None
    name: VocabName
    description: Description = ""
    examples: Examples = Field(default_factory=list)
    example: str | None = Field(None, max_length=2000, description="One example (the seed's).")

    @model_validator(mode="after")
    def _one_list(self) -> VocabCreate:
        self.examples = _merged(self.example, self.examples) or []
        self.example = None
        return self


class VocabUpdate(StrictModel):
    """What is not given stays."""

    id: ItemId = None
    name: VocabName | None = None
    description: Description | None = None
    examples: Examples | None = None
    example: str | None = Field(None, max_length=2000)
    position: int | None = Field(None, ge=0, le=1_000_000, description="Display order.")

    @model_validator(mode="after")
    def _one_list(self) -> VocabUpdate:
        if self.example is not None:
            self.examples = _merged(self.example, self.examples)
            self.example = None
        return self


class ClassRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    examples: list[str]
    example: str | None = Field(description="The first example (the seed's field).")
    position: int
    created_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _first_example(cls, data: object) -> object:
        if isinstance(data, dict):
            return {**data, "example": (data.get("examples") or [None])[0]}
        examples = getattr(data, "examples", None) or []
        return {
            name: getattr(data, name)
            for name in ("id", "name", "description", "position", "created_at", "fixed")
            if hasattr(data, name)
        } | {"examples": examples, "example": examples[0] if examples else None}


class LabelRead(ClassRead):
    fixed: bool = Field(False, description="An ABSA sentiment: cannot be changed or deleted.")


T = TypeVar("T")


class ManyRead(BaseModel, Generic[T]):
    """Entries added together."""

    items: list[T]


class VocabDeleted(BaseModel):
    """A deleted class or label, and the tags that went with it."""

    id: int
    name: str
    tags_removed: int = Field(description="Tags that named it, removed from annotations.")
    annotations_changed: int
    sessions_changed: int = Field(description="Sessions that offered it and no longer do.")
