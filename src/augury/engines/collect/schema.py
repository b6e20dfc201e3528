"""A data stream's schema as Anodot defines it (seed 004), checked and parsed.

``schema.columns`` says which source columns become *metrics* (gauge or counter, a
unit in ``metricTags``) and which *dimensions*, each under its own ``name`` (a rename
when it differs from the source column), optionally through a ``transform``: ``scale``
multiplies a metric, ``dummy`` (or ``constant``) makes a dimension of a fixed value,
``concat`` joins several source columns into one dimension. ``hidden`` columns are
ignored. ``schema.sourceColumns`` says where each source column is in a row: by
``name``, by JSON ``path`` or by position (``index``, for a file without a header).
``filters`` keep rows whose source values equal (or are in, or are not) given values;
``missingDimPolicy`` says what an empty dimension does. The time column comes from
``timeDefinition`` or, for SQL streams, ``timestampColumn``.

Every problem is a :class:`SchemaError` that names the column and what is wrong, so
the stream builder can show it next to the field; :func:`validate_columns` compares a
schema with the columns a source really has (a changed header). :mod:`.mapping`
applies a parsed schema to rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MISSING_DIM_ACTIONS",
    "TRANSFORMS",
    "Column",
    "ColumnMismatch",
    "Filter",
    "MissingDimPolicy",
    "SchemaError",
    "StreamSchema",
    "TimeDefinition",
    "Transform",
    "parse_schema",
    "parse_time_definition",
    "validate_columns",
]

TRANSFORMS = ("scale", "dummy", "constant", "rename", "concat")
"""Transform names understood (``constant`` = ``dummy``; ``rename`` changes nothing:
a column's ``name`` is its new name)."""

MISSING_DIM_ACTIONS = ("fill", "ignore", "skip")
"""What an empty dimension value does (Anodot's ``fail`` is read as ``skip``)."""

_TARGET_TYPES = {"gauge": "gauge", "counter": "counter", "average": "gauge", "sum": "counter"}
RESERVED = ("what", "target_type")
"""Property names that are not dimensions in augury's metric shape."""


class SchemaError(ValueError):
    """A stream schema, filter or time definition that cannot be applied."""


class ColumnMismatch(SchemaError):
    """The source's columns no longer fit the stream (a file's header changed, a table
    lost a column): ``missing`` the stream needs, ``extra`` the source has unmapped."""

    def __init__(self, missing: Sequence[str], extra: Sequence[str]) -> None:
        self.missing = list(missing)
        self.extra = list(extra)
        text = f"The source has no column {', '.join(map(repr, self.missing))}"
        if self.extra:
            text += f"; columns the stream does not know: {', '.join(map(repr, self.extra))}"
        super().__init__(text + ".")


# --------------------------------------------------------------------------- the schema


@dataclass(frozen=True, slots=True)
class Transform:
    """A column's transform: its name, ``parameters`` (strings, as Anodot sends them)
    and ``inputs`` (source column ids)."""

    name: str
    parameters: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Column:
    """One visible schema column: a metric or a dimension named ``name``, read from the
    source columns ``inputs`` (none for a constant dimension)."""

    name: str
    kind: str
    inputs: tuple[str, ...]
    target_type: str = "gauge"
    unit: str | None = None
    transform: Transform | None = None

    @property
    def scale(self) -> float:
        """The factor of a ``scale`` transform (1 otherwise)."""
        if self.transform is not None and self.transform.name == "scale":
            return float(self.transform.parameters[0])
        return 1.0

    @property
    def constant(self) -> str | None:
        """The value of a ``dummy``/``constant`` dimension, else ``None``."""
        if self.transform is not None and self.transform.name in ("dummy", "constant"):
            return self.transform.parameters[0]
        return None


@dataclass(frozen=True, slots=True)
class Filter:
    """Keep rows whose source column ``key`` is one of ``values`` (``negate``: is not)."""

    key: str | int
    values: frozenset[str]
    negate: bool = False


@dataclass(frozen=True, slots=True)
class MissingDimPolicy:
    """``fill`` an empty dimension with ``fill``, ``ignore`` it, or ``skip`` the row."""

    action: str = "fill"
    fill: str = "unknown"


@dataclass(frozen=True, slots=True)
class TimeDefinition:
    """Where a row's time is (a source key or a position) and its ``timePattern``."""

    column: str | int
    pattern: str


@dataclass(frozen=True, slots=True)
class StreamSchema:
    """A parsed stream schema: visible columns, where each source column is in a row
    (``sources``: id -> name, path or position), filters and the missing-dimension
    policy."""

    columns: tuple[Column, ...]
    sources: Mapping[str, str | int]
    filters: tuple[Filter, ...] = ()
    missing: MissingDimPolicy = field(default_factory=MissingDimPolicy)

    @property
    def metrics(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind == "metric")

    @property
    def dimensions(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind == "dimension")

    def key(self, source_id: str) -> str | int:
        """Where source column ``source_id`` is in a row (its own id if not listed)."""
        return self.sources.get(source_id, source_id)


def _source_key(entry: Mapping[str, Any]) -> tuple[str, str | int]:
    sid = entry.get("id")
    if not isinstance(sid, str | int) or isinstance(sid, bool):
        raise SchemaError(f"A source column needs an 'id': {dict(entry)!r}.")
    for name in ("name", "path"):
        if isinstance(entry.get(name), str) and entry[name]:
            return str(sid), entry[name]
    index = entry.get("index")
    if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
        return str(sid), index
    return str(sid), str(sid)


def _transform(raw: object, column: str) -> Transform | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise SchemaError(f"Column {column!r}: a transform is an object with a 'name'.")
    name = raw["name"].lower()
    if name == "concatenate":
        name = "concat"
    if name not in TRANSFORMS:
        known = ", ".join(TRANSFORMS)
        raise SchemaError(f"Column {column!r}: unknown transform {raw['name']!r}; one of: {known}.")
    params = tuple(str(p) for p in raw.get("parameters") or ())
    inputs = tuple(
        str(i["sourceColumn"]) if isinstance(i, Mapping) else str(i) for i in raw.get("input") or ()
    )
    if name == "scale":
        try:
            factor = float(params[0]) if params else math.nan
        except ValueError:
            factor = math.nan
        if not math.isfinite(factor):
            raise SchemaError(f"Column {column!r}: scale needs one numeric parameter.")
    if name in ("dummy", "constant") and (not params or not params[0]):
        raise SchemaError(f"Column {column!r}: {name} needs its value as the parameter.")
    return Transform(name, params, inputs)


def _column(raw: Mapping[str, Any]) -> Column | None:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SchemaError(f"A schema column needs a 'name': {dict(raw)!r}.")
    kind = raw.get("type")
    if kind not in ("metric", "dimension"):
        raise SchemaError(f"Column {name!r}: 'type' is 'metric' or 'dimension'.")
    if raw.get("hidden"):
        return None
    transform = _transform(raw.get("transform"), name)
    inputs = transform.inputs if transform and transform.inputs else ()
    if not inputs and raw.get("sourceColumn") is not None:
        inputs = (str(raw["sourceColumn"]),)
    if transform and transform.name in ("dummy", "constant"):
        if kind != "dimension":
            raise SchemaError(f"Column {name!r}: a constant is a dimension.")
        inputs = ()
    elif not inputs:
        raise SchemaError(f"Column {name!r} has no 'sourceColumn'.")
    if transform and transform.name == "concat" and (kind != "dimension" or len(inputs) < 2):
        raise SchemaError(f"Column {name!r}: concat joins two or more columns into a dimension.")
    if kind == "dimension":
        if transform and transform.name == "scale":
            raise SchemaError(f"Column {name!r}: scale applies to a metric.")
        if name in RESERVED:
            raise SchemaError(f"A dimension may not be named {name!r}.")
        return Column(name, kind, inputs, transform=transform)
    if len(inputs) != 1:
        raise SchemaError(f"Metric {name!r} reads exactly one source column.")
    target = _TARGET_TYPES.get(str(raw.get("targetType") or "gauge").lower())
    if target is None:
        raise SchemaError(f"Metric {name!r}: 'targetType' is 'gauge' or 'counter'.")
    tags = raw.get("metricTags") or {}
    unit = tags.get("unit") if isinstance(tags, Mapping) else None
    return Column(name, kind, inputs, target, str(unit) if unit else None, transform)


def _filter(raw: object, sources: Mapping[str, str | int]) -> Filter:
    if not isinstance(raw, Mapping):
        raise SchemaError(f"A filter is an object: {raw!r}.")
    sid = next((raw[k] for k in ("sourceColumn", "path", "column") if raw.get(k) is not None), None)
    if sid is None:
        raise SchemaError(f"A filter names its column ('sourceColumn' or 'path'): {dict(raw)!r}.")
    op = str(raw.get("operation") or raw.get("op") or "equals").lower().replace("_", "")
    if op not in ("equals", "in", "not", "notequals", "notin"):
        raise SchemaError(f"Filter on {sid!r}: operation is equals, in, notEquals or notIn.")
    values = raw.get("values", raw.get("value"))
    if values is None:
        raise SchemaError(f"Filter on {sid!r} has no 'value'.")
    if isinstance(values, str) or not isinstance(values, Iterable):
        values = [values]
    texts = frozenset(t for t in (cell_text(v) for v in values) if t is not None)
    negate = op.startswith("not") or bool(raw.get("not"))
    return Filter(sources.get(str(sid), str(sid)), texts, negate)


def parse_schema(
    schema: Mapping[str, Any],
    *,
    filters: Sequence[Mapping[str, Any]] | None = None,
    missing_dim_policy: Mapping[str, Any] | None = None,
) -> StreamSchema:
    """A stream's ``schema`` (with its ``filters`` and ``missingDimPolicy``) checked and
    parsed, or :class:`SchemaError` saying what is wrong.

    >>> s = parse_schema({"columns": [
    ...     {"name": "Cost", "type": "metric", "targetType": "counter", "sourceColumn": "c",
    ...      "metricTags": {"unit": "USD"},
    ...      "transform": {"name": "scale", "parameters": ["0.01"]}},
    ...     {"name": "country", "type": "dimension", "sourceColumn": "cc"}]})
    >>> [(c.name, c.kind, c.scale, c.unit) for c in s.columns]
    [('Cost', 'metric', 0.01, 'USD'), ('country', 'dimension', 1.0, None)]
    """
    raw_columns = schema.get("columns")
    if not isinstance(raw_columns, Sequence) or isinstance(raw_columns, str):
        raise SchemaError("'schema.columns' is required: a list of columns.")
    sources: dict[str, str | int] = {}
    for entry in schema.get("sourceColumns") or ():
        if not isinstance(entry, Mapping):
            raise SchemaError("Each of 'schema.sourceColumns' is an object.")
        sid, key = _source_key(entry)
        sources[sid] = key
    columns = [c for c in (_column(raw) for raw in raw_columns if isinstance(raw, Mapping)) if c]
    if len(columns) != sum(
        1 for raw in raw_columns if isinstance(raw, Mapping) and not raw.get("hidden")
    ):
        raise SchemaError("Each of 'schema.columns' is an object.")
    names = [c.name for c in columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SchemaError(f"Column names must be unique: {', '.join(map(repr, duplicates))}.")
    if not any(c.kind == "metric" for c in columns):
        raise SchemaError("The schema has no visible metric column.")
    policy = _policy(missing_dim_policy)
    parsed = tuple(_filter(f, sources) for f in filters or ())
    return StreamSchema(tuple(columns), MappingProxyType(sources), parsed, policy)


def _policy(raw: Mapping[str, Any] | None) -> MissingDimPolicy:
    if not raw:
        return MissingDimPolicy()
    action = str(raw.get("action") or "fill").lower()
    action = "skip" if action == "fail" else action
    if action not in MISSING_DIM_ACTIONS:
        raise SchemaError(
            f"missingDimPolicy.action is one of {', '.join(MISSING_DIM_ACTIONS)}, not {action!r}."
        )
    fill = str(raw.get("fill") or "unknown")
    return MissingDimPolicy(action, fill)


def parse_time_definition(stream: Mapping[str, Any]) -> TimeDefinition:
    """The time column of a stream object: ``timeDefinition`` (``timeColumnIdx`` or
    ``path``, and ``timePattern``) or, for SQL streams, ``timestampColumn`` with
    ``timestampType`` (``TIMESTAMP`` columns arrive as datetimes; ``UNIX_SECONDS`` and
    ``UNIX_MILLIS`` as numbers).

    >>> td = {"timeColumnIdx": 5, "timePattern": "epoch_millis"}
    >>> parse_time_definition({"timeDefinition": td})
    TimeDefinition(column=5, pattern='epoch_millis')
    >>> parse_time_definition({"timestampColumn": "create_time", "timestampType": "TIMESTAMP"})
    TimeDefinition(column='create_time', pattern='iso8601')
    """
    td = stream.get("timeDefinition")
    if isinstance(td, Mapping):
        pattern = td.get("timePattern")
        column = td.get("timeColumnIdx", td.get("path", td.get("sourceColumn")))
    else:
        column = stream.get("timestampColumn")
        kind = str(stream.get("timestampType") or "TIMESTAMP").upper()
        pattern = {
            "UNIX_SECONDS": "epoch_seconds",
            "EPOCH_SECONDS": "epoch_seconds",
            "UNIX_MILLIS": "epoch_millis",
            "EPOCH_MILLIS": "epoch_millis",
            "UNIX_MICROS": "epoch_micros",
        }.get(kind, "iso8601")
        pattern = stream.get("timePattern") or pattern
    if isinstance(column, bool) or not isinstance(column, str | int) or column == "":
        raise SchemaError("The stream names no time column (timeDefinition or timestampColumn).")
    if not isinstance(pattern, str) or not pattern:
        raise SchemaError("The stream's time definition has no 'timePattern'.")
    return TimeDefinition(column, pattern)


# --------------------------------------------------------------------------- validation


def _needed(schema: StreamSchema, time: TimeDefinition | None) -> list[str | int]:
    keys: list[str | int] = []
    for column in schema.columns:
        keys += [schema.key(i) for i in column.inputs]
    keys += [f.key for f in schema.filters]
    if time is not None:
        keys.append(time.column)
    return list(dict.fromkeys(keys))


def validate_columns(
    schema: StreamSchema, available: Sequence[str], time: TimeDefinition | None = None
) -> None:
    """Refuse a source whose columns lack one the stream reads, naming the missing ones
    and the source's unknown ones (a renamed header shows up as one of each).

    >>> s = parse_schema({"columns": [{"name": "n", "type": "metric", "sourceColumn": "n"}]})
    >>> validate_columns(s, ["ts", "count"], TimeDefinition("ts", "epoch_seconds"))
    Traceback (most recent call last):
    ...
    augury.engines.collect.schema.ColumnMismatch: The source has no column 'n'; \
columns the stream does not know: 'count'.
    """
    have = set(available)
    missing = [
        str(k)
        for k in _needed(schema, time)
        if (k >= len(available) if isinstance(k, int) else k not in have)
    ]
    if missing:
        known = {
            k for k in (*schema.sources.values(), *_needed(schema, time)) if isinstance(k, str)
        }
        extra = [c for c in available if c not in known]
        raise ColumnMismatch(missing, extra)


def cell_text(value: object) -> str | None:
    """A cell as dimension or filter text: ``None`` for empty; ``3.0`` as ``3``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None
