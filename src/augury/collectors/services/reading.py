"""Reading a stream's rows now, off the collector: the preview of a stream being built,
the check of a new stream against its source's columns, and a stream's latest rows
saved as a dataset.

Each call reads synchronously through the source's connector with the operator's
limits (:func:`augury.collectors.services.access.limits`: the query timeout, the most
rows, the allowed networks and folders); the HTTP routes that call it are plain
``def`` routes, which FastAPI runs in its thread pool, so a slow source holds one
worker thread, never the event loop. A source's failure is an answer here
(``{"code", "message"}``, the message scrubbed of the source's credentials), not an
exception that could carry them into a log.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from augury.collectors import connectors
from augury.collectors.connectors import Limits, SourceError
from augury.collectors.models import DataSource
from augury.collectors.services import access
from augury.config import Settings
from augury.engines.collect import mapping
from augury.engines.collect.timeparse import TimeParseError

log = logging.getLogger("augury.collectors")

PREVIEW_METRICS = 1000
"""Metrics a preview lists at most (``metricsTotal`` counts them all)."""
SAMPLE_POINTS = 20
INVALID_TIMES = 10


@dataclass(slots=True)
class Read:
    """The rows a source gave, or why it gave none (``error``: ``{code, message}``)."""

    frame: pd.DataFrame | None = None
    error: dict[str, str] | None = None


def _failure(exc: SourceError, limits: Limits) -> dict[str, str]:
    return {"code": exc.code, "message": limits.scrub(exc.message)}


def read_latest(
    settings: Settings, source: DataSource, definition: Mapping[str, Any], limit: int
) -> Read:
    """The latest ``limit`` rows of ``definition`` from ``source`` (a preview's read)."""
    try:
        secret = access.decrypt_secret(settings, source.secret)
    except SourceError as exc:
        return Read(error={"code": exc.code, "message": exc.message})
    limits = access.limits(settings, secret)
    try:
        connector = connectors.connect(source.type, source.config or {}, secret, limits)
    except SourceError as exc:
        return Read(error=_failure(exc, limits))
    except ImportError:
        return Read(
            error={
                "code": "source_error",
                "message": f"{source.type} sources cannot be read by this server.",
            }
        )
    try:
        return Read(frame=connector.read(definition, None, limit=limit))
    except SourceError as exc:
        return Read(error=_failure(exc, limits))
    except Exception as exc:  # noqa: BLE001 - a driver's own error: an answer, never a 500
        log.warning("reading a %s source failed: %s", source.type, type(exc).__name__)
        message = f"The source could not be read ({type(exc).__name__}: {exc})."
        return Read(error={"code": "source_error", "message": limits.scrub(message)})
    finally:
        try:
            connector.close()
        except Exception:  # noqa: BLE001 - closing must not hide the answer
            log.warning("closing a %s connector failed", source.type)


# --------------------------------------------------------------------------- rows as JSON


def cell(value: Any) -> Any:
    """A source's cell as JSON holds it: times as ISO 8601, empty as ``null``."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | time):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return [cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): cell(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [cell(v) for v in value.tolist()]
    return str(value)


def rows_of(frame: pd.DataFrame, limit: int) -> list[list[Any]]:
    return [[cell(v) for v in row] for row in frame.head(limit).itertuples(index=False, name=None)]


# --------------------------------------------------------------------------- the preview


def summary(collected: mapping.Collected) -> dict[str, Any]:
    """What :func:`~augury.engines.collect.mapping.to_points` made of the rows: each
    metric with its points and first and last timestamps, and the rows left out."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[int]] = defaultdict(list)
    for point in collected.points:
        groups[(point.what, tuple(sorted(point.dimensions.items())))].append(point.timestamp)
    metrics = [
        {
            "what": what,
            "dimensions": dict(dims),
            "points": len(stamps),
            "first": min(stamps),
            "last": max(stamps),
        }
        for (what, dims), stamps in sorted(groups.items())
    ]
    skipped: dict[str, int] = dict(collected.rows_skipped)
    skipped.update(collected.values_skipped)
    if collected.rows_filtered:
        skipped["filtered out"] = collected.rows_filtered
    invalid = list(collected.invalid_times.items())[:INVALID_TIMES]
    return {
        "metrics": metrics[:PREVIEW_METRICS],
        "metricsTotal": len(metrics),
        "points": len(collected.points),
        "samplePoints": [p.to_anodot() for p in collected.points[:SAMPLE_POINTS]],
        "rowsRead": collected.rows_read,
        "rowsUsed": collected.rows_used,
        "skipped": skipped,
        "invalidTimes": [{"row": int(row), "value": cell(value)} for row, value in invalid],
    }


def rows_only(frame: pd.DataFrame, rows: int) -> dict[str, Any]:
    """The preview of a stream whose metrics are not chosen yet (no ``schema`` or no
    time definition): the rows, and the summary's fields empty, so an answer always
    has the same keys."""
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": rows_of(frame, rows),
        "metrics": [],
        "metricsTotal": 0,
        "points": 0,
        "samplePoints": [],
        "rowsRead": len(frame),
        "rowsUsed": 0,
        "skipped": {},
        "invalidTimes": [],
    }


def preview(
    frame: pd.DataFrame,
    schema: mapping.StreamSchema,
    time_definition: mapping.TimeDefinition,
    *,
    interval: str,
    tz: str,
    rows: int,
) -> dict[str, Any]:
    """The rows read and the metrics they make; a stream that does not fit the rows
    (a column it names is missing, a time column it cannot read) is an ``error`` beside
    the rows, so the builder shows both."""
    answer: dict[str, Any] = {
        "columns": [str(c) for c in frame.columns],
        "rows": rows_of(frame, rows),
    }
    try:
        if len(frame.columns):
            mapping.validate_columns(schema, list(frame.columns), time_definition)
        collected = mapping.to_points(frame, schema, time_definition, tz, interval=interval)
    except mapping.ColumnMismatch as exc:
        answer["error"] = {
            "code": "columns_missing",
            "message": str(exc),
            "missing": exc.missing,
            "extra": exc.extra,
        }
        return answer
    except TimeParseError as exc:
        answer["error"] = {"code": "time_unreadable", "message": str(exc)}
        return answer
    except mapping.SchemaError as exc:
        answer["error"] = {"code": "schema_invalid", "message": str(exc)}
        return answer
    answer.update(summary(collected))
    return answer


# --------------------------------------------------------------------------- datasets


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """A source's rows as a Parquet file: column names as text, and a column whose
    values Arrow cannot type as one kind (a mixed object column) as text."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    try:
        out.to_parquet(path, index=False)
        return
    except Exception:  # noqa: BLE001 - pyarrow's ArrowInvalid, ArrowTypeError and kin
        path.unlink(missing_ok=True)
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = [None if (v := cell(x)) is None else str(v) for x in out[name]]
    out.to_parquet(path, index=False)
