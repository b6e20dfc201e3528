"""Request and response bodies of the datasets API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from augury.engines.tabular import query as query_engine
from augury.engines.tabular.columns import TYPES
from augury.schemas import StrictModel

ColumnType = Literal[
    "integer",
    "float",
    "decimal",
    "boolean",
    "string",
    "category",
    "date",
    "datetime",
    "duration",
]
assert get_args(ColumnType) == TYPES

Name = Field(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$")
Tag = Field(min_length=1, max_length=50)
MAX_TAGS = 20


def clean_tags(tags: list[str]) -> list[str]:
    """Trimmed, without empties or repeats, in the order given."""
    seen: dict[str, None] = {}
    for tag in tags:
        tag = tag.strip()
        if tag:
            seen.setdefault(tag[:50], None)
    return list(seen)[:MAX_TAGS]


class DatasetMeta(StrictModel):
    """What describes a dataset whatever its rows: name, description, tags."""

    name: str = Name
    description: str = Field("", max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, tags: list[str]) -> list[str]:
        return clean_tags(tags)


class RecordsCreate(DatasetMeta):
    """A dataset from a JSON body: a list of records (objects with the same keys)."""

    records: list[dict[str, Any]] = Field(min_length=1)


class DatasetUpdate(StrictModel):
    description: str | None = Field(None, max_length=5000)
    tags: list[str] | None = Field(None, max_length=MAX_TAGS)
    column_types: dict[str, ColumnType | None] | None = Field(
        None,
        description="Override columns' types, `{column: type}`; `null` gives a column back "
        "its inferred type. Kept for every later version; the latest is profiled again.",
    )

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, tags: list[str] | None) -> list[str] | None:
        return None if tags is None else clean_tags(tags)


class StoredColumn(BaseModel):
    name: str
    physical: str
    type: ColumnType


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: int
    source: str
    file_name: str | None
    format: str
    source_bytes: int
    stored_bytes: int
    rows: int
    columns: list[dict]
    read_info: dict
    profile_status: Literal["pending", "running", "complete", "failed"]
    profile_error: str | None
    profile_job_id: int | None
    created_at: datetime
    changes: dict | None = Field(
        None, description="Schema difference from the previous version (added, removed, retyped)."
    )


class DatasetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str
    tags: list[str]
    column_types: dict[str, str] = Field(description="The user's type overrides.")
    latest_version: int
    created_at: datetime
    updated_at: datetime
    version: VersionRead | None = Field(None, description="The latest version.")


class ColumnSchema(BaseModel):
    name: str
    type: str
    physical: str
    nullable: bool | None = None
    unique: int | None = None
    semantic: str | None = None
    samples: list[Any] = Field(default_factory=list)
    override: str | None = None


class SchemaRead(BaseModel):
    dataset_id: int
    version: int
    rows: int
    profile_status: str
    columns: list[ColumnSchema]
    quality: dict | None = None


class PreviewRead(BaseModel):
    version: int
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    offset: int
    limit: int
    total: int


FilterOp = Literal[
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "between",
    "contains",
    "starts_with",
    "ends_with",
    "is_null",
    "not_null",
]
AggregateFn = Literal["count", "sum", "mean", "min", "max", "median", "distinct", "std", "corr"]
BucketUnit = Literal["hour", "day", "week", "month", "quarter", "year"]
assert get_args(FilterOp) == query_engine.OPS
assert get_args(AggregateFn) == query_engine.AGGREGATES
assert get_args(BucketUnit) == query_engine.UNITS
ColumnName = Field(min_length=1, max_length=300)


class FilterIn(StrictModel):
    column: str = ColumnName
    op: FilterOp
    value: Any = Field(
        None,
        description="Read as the column's type; a list for in/not_in, [low, high] for "
        "between, nothing for is_null/not_null.",
    )


class AggregateIn(StrictModel):
    fn: AggregateFn
    column: str | None = Field(None, max_length=300, description="Unset for count(*).")
    alias: str | None = Field(None, min_length=1, max_length=100)
    other: str | None = Field(None, max_length=300, description="corr's second column.")


class BucketIn(StrictModel):
    column: str = ColumnName
    unit: BucketUnit


class OrderIn(StrictModel):
    column: str = ColumnName
    direction: Literal["asc", "desc"] = "asc"


class TopIn(StrictModel):
    column: str = ColumnName
    n: int = Field(10, ge=1, le=10_000)
    descending: bool = True


class QueryIn(StrictModel):
    """A structured query: rows (select, filters, order) or groups (group_by and
    aggregates, optionally a time bucket); `count_only` answers only the count, `top`
    the n rows with the largest (or smallest) value of a column."""

    version: int | None = Field(None, ge=1, le=2**31 - 1)
    select: list[str] | None = Field(None, max_length=1000)
    filters: list[FilterIn] = Field(default_factory=list, max_length=50)
    group_by: list[str] = Field(default_factory=list, max_length=10)
    aggregates: list[AggregateIn] = Field(default_factory=list, max_length=20)
    bucket: BucketIn | None = None
    order: list[OrderIn] = Field(default_factory=list, max_length=10)
    limit: int | None = Field(None, ge=1, le=1_000_000)
    offset: int = Field(0, ge=0, le=2**62)
    count_only: bool = False
    top: TopIn | None = None


class WhatIfIn(StrictModel):
    """Anaimo's alter/estimate: an aggregate of `column` as it is and with every value
    changed by `percent`, per group."""

    version: int | None = Field(None, ge=1, le=2**31 - 1)
    column: str = ColumnName
    percent: float = Field(ge=-1000, le=1000)
    aggregate: Literal["sum", "mean", "median", "min", "max"] = "sum"
    group_by: list[str] = Field(default_factory=list, max_length=10)
    filters: list[FilterIn] = Field(default_factory=list, max_length=50)


class SqlIn(StrictModel):
    sql: str = Field(
        min_length=1,
        max_length=20_000,
        description="One SELECT; each dataset of the organization is a table of its name.",
    )
    max_rows: int | None = Field(None, ge=1, le=1_000_000)


class ResultRead(BaseModel):
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    total: int | None
    truncated: bool


class CountRead(BaseModel):
    count: int


class MetricsExportIn(DatasetMeta):
    """The points of the metrics `expression` matches in `[start, end)` (Unix seconds),
    at `resolution`, as a dataset named `name` (its next version if it exists)."""

    expression: str = Field(min_length=1, max_length=2000)
    start: float = Field(ge=0, le=2**33)
    end: float = Field(ge=0, le=2**33)
    resolution: Literal["native", "1m", "5m", "1h", "1d"] = "native"
