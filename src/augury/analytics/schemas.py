"""Request and response bodies of the analytics API (questions, saved charts, key drivers).

Paths and field names are Aicser's (``query``, ``data_source``, ``chart_type``,
``options``); errors and lists are augury's (the error envelope, ``Page``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from augury.schemas import StrictModel

MAX_ID = 2**31 - 1
ChartType = Literal["auto", "bar", "line", "area", "arc", "scatter", "number", "table"]
Theme = Literal["light", "dark"]
ExportFormat = Literal["png", "svg", "pdf", "csv", "json"]
DEFAULT_EXPORTS: tuple[ExportFormat, ...] = ("png", "csv")

DataSource = Annotated[
    Annotated[int, Field(ge=1, le=MAX_ID)] | Annotated[str, Field(min_length=1, max_length=200)],
    Field(
        description="The dataset: its id, or its name.",
        json_schema_extra={"examples": ["sales", 12]},
    ),
]
Question = Annotated[str, Field(min_length=1, max_length=1000)]
Engine = Annotated[
    Literal["offline", "auto"] | Annotated[int, Field(ge=1, le=MAX_ID)],
    Field(
        description="Who reads the question: `offline` (augury's parser), `auto` (the "
        "organization's default LLM provider, else the parser; a provider that fails falls "
        "back to the parser, with a note), or a provider's id (its failure is 502 "
        "`PROVIDER_ERROR`). An edited `plan` runs as given, whatever the engine.",
        json_schema_extra={"examples": ["offline", "auto", 3]},
    ),
]
Version = Annotated[
    int | None, Field(None, ge=1, le=MAX_ID, description="Dataset version; unset: the latest.")
]


class ChartOptions(StrictModel):
    theme: Theme = "light"
    title: str | None = Field(None, max_length=200, description="Unset: the question.")
    interactive: bool = Field(True, description="Tooltips in the rendered chart.")
    export_formats: list[ExportFormat] = Field(
        default_factory=lambda: list(DEFAULT_EXPORTS),
        max_length=5,
        description="What the UI offers to export (rendered by the UI; the server gives "
        "the rows as CSV or JSON at /chart/{id}/data).",
    )


class ChartCreate(StrictModel):
    """A question about a dataset; ``plan`` runs an edited plan instead of reading the
    question again; ``save`` keeps the answer as a chart (write permission)."""

    query: Question
    data_source: DataSource
    version: Version = None
    chart_type: ChartType = "auto"
    plan: dict[str, Any] | None = Field(
        None,
        description="A plan to run as is (the `plan` of an earlier answer, corrected): "
        "measures, group_by, bucket, filters, order, limit, select.",
    )
    options: ChartOptions = Field(default_factory=ChartOptions)
    save: bool = False
    engine: Engine = "offline"


class ChartOptionsUpdate(StrictModel):
    theme: Theme | None = None
    interactive: bool | None = None
    export_formats: list[ExportFormat] | None = Field(None, max_length=5)


class ChartUpdate(StrictModel):
    title: str | None = Field(None, max_length=200)
    options: ChartOptionsUpdate | None = None
    chart_type: ChartType | None = None


class ChartSummary(BaseModel):
    """A saved chart in a list: what it is, without its rows."""

    id: int
    chart_id: int = Field(description="The same as `id` (Aicser's name).")
    query: str
    title: str | None
    chart_type: str = Field(description="The mark it was drawn with.")
    requested_type: str = Field(description="What was asked for (`auto` or a mark).")
    dataset_id: int
    version: int = Field(description="The dataset version it was saved from.")
    options: dict
    created_at: datetime
    updated_at: datetime


SortBy = Literal["created_at", "updated_at", "query"]


class AnalysisOptions(StrictModel):
    include_insights: bool = True
    include_recommendations: bool = True
    confidence_threshold: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Drivers less confident than this go to `other_drivers`.",
    )


class AnalysisCreate(StrictModel):
    """What drives a column: ``target``, or read from the question ("what drives sales?")."""

    query: Question
    data_source: DataSource
    version: Version = None
    target: str | None = Field(None, min_length=1, max_length=1000)
    analysis_type: Literal["auto", "key_drivers"] = "auto"
    options: AnalysisOptions = Field(default_factory=AnalysisOptions)


class DriverRead(BaseModel):
    factor: str
    kind: str
    correlation: float | None
    mutual_information: float
    importance: float
    importance_std: float
    direction: str | None
    impact: str
    confidence: float


class AnalysisResults(BaseModel):
    primary_drivers: list[DriverRead]
    other_drivers: list[DriverRead]
    insights: list[str]
    recommendations: list[str]
    task: str
    model_score: float
    rows_used: int


class AnalysisRead(BaseModel):
    id: int
    analysis_id: int = Field(description="The same as `id` (Aicser's name).")
    query: str
    analysis_type: str
    target: str
    dataset_id: int
    version: int
    results: AnalysisResults
    generated_at: datetime


class AnalysisSummary(BaseModel):
    id: int
    analysis_id: int
    query: str
    analysis_type: str
    target: str
    dataset_id: int
    version: int
    generated_at: datetime


class PerformanceMetrics(BaseModel):
    accuracy: float | None = Field(description="Share of benchmark questions answered right.")
    response_time: float | None = Field(description="Median seconds per question.")
    measured_on: str | None = Field(
        None, description="The benchmark question set the figures come from."
    )
    calls: int | None = Field(
        None, description="A provider's recorded calls the response time is the median of."
    )


class ModelRead(BaseModel):
    model_id: str
    name: str
    provider: str
    capabilities: list[str]
    status: str
    offline: bool
    performance_metrics: PerformanceMetrics
    provider_id: int | None = Field(None, description="A configured provider's id.")
    is_default: bool | None = Field(None, description="The provider `engine: auto` uses.")


class ModelsRead(BaseModel):
    available_models: list[ModelRead]


# --- LLM providers --------------------------------------------------------------------------

ProviderName = Annotated[str, Field(min_length=1, max_length=100)]
BaseUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        description="An OpenAI-compatible API's base URL, where `/chat/completions` is: "
        "`https://api.openai.com/v1`, `http://localhost:11434/v1` (a local address only "
        "where the operator allows it: `AUGURY_ANALYTICS__ALLOWED_PRIVATE_NETWORKS`).",
    ),
]
ModelName = Annotated[str, Field(min_length=1, max_length=200)]
ApiKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1000,
        pattern=r"^[!-~]+$",
        description="Sent as `Authorization: Bearer` (printable ASCII, no spaces); stored "
        "encrypted, never returned.",
    ),
]
TimeoutS = Annotated[float, Field(ge=0.1, le=300, description="Longest wait for one answer.")]


class ProviderCreate(StrictModel):
    """An OpenAI-compatible endpoint that may read the organization's questions."""

    name: ProviderName
    base_url: BaseUrl
    model: ModelName
    api_key: ApiKey | None = None
    is_default: bool = Field(False, description="The provider `engine: auto` uses.")
    timeout_s: TimeoutS = 30.0


class ProviderUpdate(StrictModel):
    """What changes; what is not given stays. ``api_key: null`` removes the key."""

    name: ProviderName | None = None
    base_url: BaseUrl | None = None
    model: ModelName | None = None
    api_key: ApiKey | None = None
    is_default: bool | None = None
    timeout_s: TimeoutS | None = None


class ProviderRead(BaseModel):
    id: int
    name: str
    provider: str = Field(description="The API it speaks: `openai-compatible`.")
    base_url: str
    model: str
    has_key: bool
    key_hint: str | None = Field(description="The key's last 4 characters (keys of 12 or more).")
    is_default: bool
    timeout_s: float
    created_at: datetime
    updated_at: datetime


class ProviderTestRead(BaseModel):
    """A fixed question asked of a tiny built-in table through the provider."""

    ok: bool = Field(description="A plan came back and fits the table.")
    latency_ms: float
    error: str | None
    question: str
    plan: dict[str, Any] | None
    words: str | None
