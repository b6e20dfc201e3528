"""Base of every request body: unknown fields refused, NUL characters refused.

PostgreSQL text cannot hold NUL (0x00); refusing it at the edge keeps SQLite and
PostgreSQL answering the same 422 instead of one of them failing on insert.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, model_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL (\\u0000) characters")
        return data


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:59-05:00
        raise ValueError("datetime out of range once converted to UTC") from exc


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An RFC 3339 timestamp with an offset, normalised to UTC."""


def _read_as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else _to_utc(value)


QueryDatetime = Annotated[datetime, AfterValidator(_read_as_utc)]
"""A timestamp in a query string (``created_after``): one with an offset is converted to
UTC (422 when that leaves the calendar: ``0001-01-01T00:00+00:01``), one without is
read as UTC (``2024-01-01``), since the columns it is compared with are UTC."""
