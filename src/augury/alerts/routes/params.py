"""Query parameters several alerting routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from augury.errors import ValidationFailed

Epoch = Annotated[float | None, Query(ge=0, le=1e11, description="Epoch seconds.")]
CSV = Annotated[str | None, Query(max_length=2000, description="Comma-separated.")]


def csv_items(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def csv_ints(value: str | None) -> list[int] | None:
    items = csv_items(value)
    if items is None:
        return None
    try:
        return [int(v) for v in items]
    except ValueError as exc:
        raise ValidationFailed("config_ids must be comma-separated integers.") from exc
