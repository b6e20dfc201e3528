"""A data stream's schema applied to rows: the points of augury's metrics.

:func:`to_points` turns rows into :class:`Point` s under a parsed
:class:`~augury.engines.collect.schema.StreamSchema` (metric and dimension columns,
transforms, filters, the missing-dimension policy), one point per metric, dimensions
and time bucket: the shape of augury's Anodot 2.0 ingestion (``properties`` holding
``what`` and the dimensions, epoch-second ``timestamp``, ``value``, ``target_type``,
the unit as a tag; :meth:`Point.to_anodot`). Several rows of the same metric,
dimensions and bucket (a query's rows are often finer than the stream's interval, or
repeated) become one point: **counters are summed, gauges averaged** (the mean of the
rows, as augury rolls gauges up). Because a bucket is always aggregated whole, reading
it again gives the same points, which is what makes a re-read or a rewind idempotent.
Row order changes no point (only the order of points within a timestamp). Property
keys and values get ``_`` for ``.`` and whitespace, which Anodot 2.0 forbids (``New
York`` becomes ``New_York``), so the points pass augury's ingestion checks unchanged.
Every row is counted: read, filtered out, skipped (and why), used.

The schema's names are re-exported here, so ``mapping`` is the one import a caller needs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from augury.engines.collect.schedule import Interval, bucket_starts
from augury.engines.collect.schema import (
    MISSING_DIM_ACTIONS,
    RESERVED,
    TRANSFORMS,
    Column,
    ColumnMismatch,
    Filter,
    MissingDimPolicy,
    SchemaError,
    StreamSchema,
    TimeDefinition,
    Transform,
    cell_text,
    parse_schema,
    parse_time_definition,
    validate_columns,
)
from augury.engines.collect.timeparse import parse_times

__all__ = [
    "MISSING_DIM_ACTIONS",
    "TRANSFORMS",
    "Collected",
    "Column",
    "ColumnMismatch",
    "Filter",
    "MissingDimPolicy",
    "Point",
    "SchemaError",
    "StreamSchema",
    "TimeDefinition",
    "Transform",
    "parse_schema",
    "parse_time_definition",
    "to_points",
    "validate_columns",
]

_UNSAFE = re.compile(r"[.\s]")


# --------------------------------------------------------------------------- rows -> points


@dataclass(frozen=True, slots=True)
class Point:
    """One data point in augury's metric shape: ``properties`` holds ``what`` (the
    metric name) and the dimensions."""

    properties: Mapping[str, str]
    timestamp: int
    value: float
    target_type: str = "gauge"
    unit: str | None = None

    @property
    def what(self) -> str:
        return self.properties["what"]

    @property
    def dimensions(self) -> dict[str, str]:
        return {k: v for k, v in self.properties.items() if k != "what"}

    def to_anodot(self) -> dict[str, Any]:
        """The Anodot 2.0 sample (what ``POST /api/v1/metrics`` reads).

        >>> Point({"what": "Cost", "country": "ES"}, 60, 2.5, "counter", "USD").to_anodot()
        {'properties': {'what': 'Cost', 'country': 'ES', 'target_type': 'counter'}, \
'timestamp': 60, 'value': 2.5, 'tags': {'unit': ['USD']}}
        """
        sample: dict[str, Any] = {
            "properties": {**self.properties, "target_type": self.target_type},
            "timestamp": self.timestamp,
            "value": self.value,
        }
        if self.unit:
            sample["tags"] = {"unit": [self.unit]}
        return sample


@dataclass(slots=True)
class Collected:
    """What :func:`to_points` made of a batch of rows, and what it left out and why.

    ``rows_read`` = ``rows_filtered`` + sum of ``rows_skipped`` + ``rows_used``;
    ``values_skipped`` counts single metric cells that were not numbers (the row's
    other metrics are kept).
    """

    points: list[Point] = field(default_factory=list)
    rows_read: int = 0
    rows_filtered: int = 0
    rows_used: int = 0
    rows_skipped: Counter[str] = field(default_factory=Counter)
    values_skipped: Counter[str] = field(default_factory=Counter)
    invalid_times: dict[int, str] = field(default_factory=dict)


def _texts(series: pd.Series) -> np.ndarray:
    """Cells as text (object array, ``None`` for empty), each distinct value once."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = np.array([cell_text(u) for u in uniques] + [None], dtype=object)
    return table[codes]  # code -1 (missing) takes the trailing None


def _frame(rows: Any) -> pd.DataFrame:
    if isinstance(rows, pd.DataFrame):
        return rows.reset_index(drop=True)
    if isinstance(rows, Mapping):
        return pd.DataFrame(dict(rows))
    return pd.DataFrame.from_records(list(rows))


def _get(df: pd.DataFrame, key: str | int) -> pd.Series:
    if isinstance(key, int):
        if key >= df.shape[1]:
            raise ColumnMismatch([str(key)], [])
        return df.iloc[:, key]
    if key not in df.columns:
        raise ColumnMismatch([key], [str(c) for c in df.columns])
    return df[key]


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text)


def _dimension(
    df: pd.DataFrame, schema: StreamSchema, column: Column, sanitize: bool
) -> np.ndarray:
    if column.constant is not None:
        value = _safe(column.constant) if sanitize else column.constant
        return np.full(len(df), value, dtype=object)
    parts = [_texts(_get(df, schema.key(i))) for i in column.inputs]
    if len(parts) == 1:
        out = parts[0]
    else:
        sep = (
            column.transform.parameters[0]
            if column.transform and column.transform.parameters
            else "_"
        )
        out = np.array(
            [
                None if any(p is None for p in row) else sep.join(row)
                for row in zip(*parts, strict=True)
            ],
            dtype=object,
        )
    if sanitize:
        codes, uniques = pd.factorize(out, use_na_sentinel=True)
        table = np.array([_safe(u) for u in uniques] + [None], dtype=object)
        out = table[codes]
    return out


def to_points(
    rows: Any,
    schema: StreamSchema,
    time_definition: TimeDefinition,
    tz: str = "UTC",
    *,
    interval: str | Interval | None = None,
    window: tuple[float, float] | None = None,
    sanitize: bool = True,
) -> Collected:
    """The points of ``rows`` (a DataFrame, a mapping of column -> values, or a list of
    row mappings) under ``schema``, stamped with the start of their ``interval`` bucket
    in ``tz`` (whole seconds when no interval is given).

    ``window`` = ``(start, end)`` epoch seconds keeps rows with ``start <= time < end``
    (a poll's buckets: a file or query may hold more). A time column mixing formats
    raises :class:`~augury.engines.collect.timeparse.MixedFormats`; rows with an
    unreadable time are skipped and listed in ``invalid_times``.

    >>> s = parse_schema({"columns": [
    ...     {"name": "clicks", "type": "metric", "targetType": "counter", "sourceColumn": "c"},
    ...     {"name": "city", "type": "dimension", "sourceColumn": "city"}]})
    >>> rows = [{"t": 60, "c": 2, "city": "New York"}, {"t": 90, "c": 3, "city": "New York"}]
    >>> out = to_points(rows, s, TimeDefinition("t", "epoch_seconds"), interval="m1")
    >>> out.points
    [Point(properties=mappingproxy({'what': 'clicks', 'city': 'New_York'}), timestamp=60, \
value=5.0, target_type='counter', unit=None)]
    """
    if sanitize:
        _check_safe_names(schema)
    df = _frame(rows)
    out = Collected(rows_read=len(df))
    if df.empty:
        return out
    times = _get(df, time_definition.column)
    parsed = parse_times(times, time_definition.pattern, tz)
    seconds = parsed.seconds
    out.invalid_times = parsed.invalid
    keep = ~np.isnan(seconds)
    if (~keep).any():
        out.rows_skipped["time unreadable"] += int((~keep).sum())
    keep = _apply_filters(df, schema, keep, out)
    if window is not None:
        inside = (seconds >= window[0]) & (seconds < window[1])
        outside = keep & ~inside
        if outside.any():
            out.rows_skipped["time outside the polled range"] += int(outside.sum())
        keep &= inside
    dims: dict[str, np.ndarray] = {}
    for column in schema.dimensions:
        values = _dimension(df, schema, column, sanitize)
        empty = keep & pd.isna(values)
        if empty.any():
            if schema.missing.action == "skip":
                out.rows_skipped[f"dimension {column.name!r} empty"] += int(empty.sum())
                keep &= ~empty
            elif schema.missing.action == "fill":
                fill = _safe(schema.missing.fill) if sanitize else schema.missing.fill
                values = np.where(pd.isna(values), fill, values)
        dims[_safe(column.name) if sanitize else column.name] = values
    out.rows_used = int(keep.sum())
    if not out.rows_used:
        return out
    if interval is not None:
        stamps = bucket_starts(seconds[keep], interval, tz)
    else:
        stamps = np.floor(seconds[keep]).astype(np.int64)
    kept_dims = {k: v[keep] for k, v in dims.items()}
    for column in schema.metrics:
        out.points += _metric_points(df, schema, column, keep, stamps, kept_dims, out, sanitize)
    # Time order (stable: within a timestamp, metrics in schema order, series as they
    # first appear in the rows).
    out.points.sort(key=_timestamp)
    return out


def _timestamp(point: Point) -> int:
    return point.timestamp


def _check_safe_names(schema: StreamSchema) -> None:
    """Two columns whose names differ only in ``.`` or spaces would become one."""
    for group in (schema.metrics, schema.dimensions):
        seen: dict[str, str] = {}
        for column in group:
            safe = _safe(column.name)
            if safe in seen:
                raise SchemaError(
                    f"Columns {seen[safe]!r} and {column.name!r} both become {safe!r} "
                    "('.' and spaces are not allowed in metric names): rename one."
                )
            if group is schema.dimensions and safe in RESERVED:
                raise SchemaError(f"A dimension may not be named {safe!r}.")
            seen[safe] = column.name


def _apply_filters(
    df: pd.DataFrame, schema: StreamSchema, keep: np.ndarray, out: Collected
) -> np.ndarray:
    for f in schema.filters:
        texts = _texts(_get(df, f.key))
        match = pd.Series(texts, dtype=object).isin(f.values).to_numpy(dtype=bool)
        passed = ~match if f.negate else match
        out.rows_filtered += int((keep & ~passed).sum())
        keep = keep & passed
    return keep


def _metric_points(
    df: pd.DataFrame,
    schema: StreamSchema,
    column: Column,
    keep: np.ndarray,
    stamps: np.ndarray,
    dims: Mapping[str, np.ndarray],
    out: Collected,
    sanitize: bool,
) -> list[Point]:
    raw = _get(df, schema.key(column.inputs[0]))[keep]
    values = pd.to_numeric(raw.map(_numeric_cell) if raw.dtype == object else raw, errors="coerce")
    values = values.to_numpy(dtype=np.float64) * column.scale
    ok = np.isfinite(values)
    if (~ok).any():
        out.values_skipped[f"metric {column.name!r} not a number"] += int((~ok).sum())
    if not ok.any():
        return []
    names = list(dims)
    frame = pd.DataFrame(
        {
            "__t": stamps[ok],
            "__v": values[ok],
            **{f"d{i}": dims[n][ok] for i, n in enumerate(names)},
        }
    )
    how = "sum" if column.target_type == "counter" else "mean"
    grouped = frame.groupby(
        ["__t", *[f"d{i}" for i in range(len(names))]], dropna=False, sort=False
    )["__v"].agg(how)
    what = _safe(column.name) if sanitize else column.name
    # One properties mapping per series, shared by its points (a backfill has thousands
    # of points per series); plain lists iterate far faster than the grouped Series.
    shared: dict[tuple, MappingProxyType] = {}
    points = []
    for key, value in zip(grouped.index.tolist(), grouped.to_numpy().tolist(), strict=True):
        parts = key if isinstance(key, tuple) else (key,)
        props = shared.get(parts[1:])
        if props is None:
            named = {"what": what}
            for name, dim in zip(names, parts[1:], strict=True):
                if isinstance(dim, str):  # an ignored empty dimension is left out
                    named[name] = dim
            props = shared[parts[1:]] = MappingProxyType(named)
        points.append(Point(props, int(parts[0]), float(value), column.target_type, column.unit))
    return points


def _numeric_cell(value: object) -> object:
    if isinstance(value, bool | np.bool_):
        return float(value)  # a flag counted (the seed's PostgreSQL stream sums is_paused)
    if isinstance(value, str):
        text = value.strip()
        return text if text and "_" not in text else None
    return value
