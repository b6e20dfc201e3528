"""Bodies of text projects, their members, clones, transfers and imports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from augury.schemas import StrictModel
from augury.text.models import ProjectRole, ProjectType

Segmentation = Literal["sentence", "paragraph", "none"]
ProjectName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(description="Unique in the organization; spaces around it are dropped."),
]
Language = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"),
    Field(max_length=20, description="The documents' language, a code such as en or pt-BR."),
]
Description = Annotated[str, Field(max_length=10_000)]
EmbeddingModel = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(
        description="A local sentence-embedding model for the models trained from now on: "
        "the name of a folder the server offers (GET /api/v1/text/embedding-models); "
        "null: the built-in model."
    ),
]
OrgId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class ProjectCreate(StrictModel):
    name: ProjectName
    type: ProjectType = Field(
        description="CLASS (one class per segment), LABEL (any number of labels), "
        "CLASSLABEL (class and label pairs) or ABSA (aspects with the fixed sentiments "
        "POS, NEG, NEU and CONFLICT, created with the project). Fixed once created."
    )
    description: Description = ""
    language: Language = "en"
    segmentation: Segmentation = Field(
        "sentence", description="How documents added later are split into segments."
    )
    embedding_model: EmbeddingModel | None = None


class ProjectUpdate(StrictModel):
    """What is not given stays. ``type`` is accepted only unchanged (the seed's
    clients send it back): tags were made under it."""

    name: ProjectName | None = None
    description: Description | None = None
    language: Language | None = None
    segmentation: Segmentation | None = Field(
        None, description="Applies to documents added from now on; existing ones keep theirs."
    )
    type: ProjectType | None = None
    embedding_model: EmbeddingModel | None = Field(
        None,
        description="Applies to models trained from now on; trained models keep theirs. "
        "null: back to the built-in model.",
    )


class ProjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    name: str
    description: str
    type: ProjectType
    language: str
    segmentation: str
    settings: dict
    embedding_model: str | None = Field(
        description="The local embedding model new models train with; null: the built-in one."
    )
    document_count: int
    class_count: int
    label_count: int
    session_count: int
    role: ProjectRole = Field(description="Your role in this project.")
    created_at: datetime
    updated_at: datetime
    created_by_id: int | None


class MemberRead(BaseModel):
    """A person's effective role in a project and where it comes from."""

    user_id: int
    email: str
    name: str | None
    org_role: str
    role: ProjectRole = Field(description="What the person may do in this project.")
    explicit_role: ProjectRole | None = Field(
        description="The role set on this project; null: the organization role decides."
    )


class MemberSet(StrictModel):
    role: ProjectRole


class ProjectClone(StrictModel):
    name: ProjectName | None = Field(
        None, description="The copy's name; unset: 'Copy of <name>'. Unique in its organization."
    )
    org_id: OrgId | None = Field(
        None,
        validation_alias=AliasChoices("org_id", "organization_id"),
        description="The organization to copy into (one you are an admin or owner of); "
        "unset: this one. `organization_id` (the seed's name) is read too.",
    )
    include_annotations: bool = Field(
        False,
        description="Copy the sessions that hold labels too, with their documents, tags and marks.",
    )


class ProjectTransfer(StrictModel):
    org_id: OrgId = Field(
        validation_alias=AliasChoices("org_id", "organization_id"),
        description="An organization you are an admin or owner of (`organization_id`, "
        "the seed's name, is read too).",
    )


class ProjectDeleted(BaseModel):
    """What a deletion removed (or, refused without ``confirm``, would remove)."""

    documents: int
    sessions: int
    classes: int
    labels: int
    groups: int


class ImportedSession(BaseModel):
    id: int
    name: str
    document_count: int
    annotation_count: int


class ImportResult(BaseModel):
    sessions: list[ImportedSession] = Field(
        description="The IMPORT sessions made, one per session the file names."
    )
    documents_created: int
    documents_reused: int = Field(
        description="Documents the project had already (matched by external_id)."
    )
    segments_created: int
    annotations: int
    classes_created: list[str]
    labels_created: list[str]
    ignored_columns: list[str]


ExportFormat = Literal["csv", "jsonl", "xlsx"]


class EmbeddingModelRead(BaseModel):
    """A local sentence-embedding model a project may name as its ``embedding_model``."""

    name: str = Field(description="The folder's name: what a project's embedding_model names.")
    layout: str = Field(description="How its folder is laid out (onnx or sentence-transformers).")
    dim: int | None = Field(description="Its vectors' size; null when no file states it.")
