"""Anodot metrics protocols 2.0 and 3.0 (seed 004, "Post Metrics" and "Schema").

Protocol 2.0 (``?protocol=anodot20``): a JSON array of
``{"properties": {"what": ..., dim: value, ["target_type": "gauge"|"counter"]},
"tags": {name: [values]}, "timestamp": epoch_s, "value": number}``.
``what`` becomes :attr:`Sample.what`; ``target_type`` sets :attr:`Sample.target_type`
and is not a dimension; every other property is a dimension.

Protocol 3.0 (``?protocol=anodot30``): a stream schema (:func:`parse_schema`) names the
dimensions and measurements; data points ``{"schemaId", "timestamp", "dimensions",
"measurements": {name: number}, "tags"}`` are parsed against it (:func:`parse_v3`), one
:class:`Sample` per measurement, ``what`` = measurement name, target type ``gauge`` for
``aggregation: average`` and ``counter`` for ``sum``. :func:`parse_watermark` reads the
watermark call.

Validation follows the seed and Anodot's 2.0 reference: at most 20 properties, keys up to
50 and values up to 150 characters, no ``.`` or whitespace in keys and values, at most 40
tags (same key/value rules), timestamps not negative and at most an hour in the future,
values finite. NUL characters and unpaired surrogates (JSON can carry ``"\\ud800"``) are
illegal characters too (2010, 2011, 2018, 2019): the database cannot store them. These
rules fit inside the storage limits every protocol shares (:mod:`.limits`). The seed's
error codes and messages are used (2004 ... 2030). Numeric
strings (``"1438761780"``, ``"25.5"``, as in the seed's 3.0 example) are accepted as
numbers. Each refused sample gets one error (the first rule it breaks); in 3.0 a bad
measurement is refused on its own and the data point's other measurements are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from augury.metrics.ingest.limits import UNSTORABLE
from augury.metrics.ingest.points import (
    INVALID_TARGET_TYPE,
    JSON_PARSING_ERROR,
    MAX_FUTURE_S,
    PROPERTIES_LIMIT,
    PROPERTY_KEY_ILLEGAL,
    PROPERTY_KEY_TOO_LONG,
    PROPERTY_VALUE_ILLEGAL,
    PROPERTY_VALUE_TOO_LONG,
    TARGET_TYPES,
    TIMESTAMP_INVALID,
    TIMESTAMP_UNDEFINED,
    VALUE_INVALID,
    VALUE_UNDEFINED,
    WHAT_UNDEFINED,
    IngestError,
    ParseResult,
    Problem,
    Sample,
    check_timestamp,
    check_value,
    printable,
    to_number,
)

MAX_SAMPLES = 10_000
"""Entries per request (the seed's 3.0 limit; applied to 2.0 too)."""
MAX_PROPERTIES = 20
MAX_KEY_LEN = 50
MAX_VALUE_LEN = 150
MAX_TAGS = 40
MAX_SCHEMA_NAME_LEN = 200
MAX_SCHEMA_DIMENSIONS = 30
MAX_DIMENSION_NAME_LEN = 30
MAX_MEASUREMENTS = 200

# Seed error codes (Anodot "Error Codes").
# (2005, 2007, 2009, 2010 and 2011 come from points: the storage limits use them too.)
PROPERTIES_UNDEFINED = 2004
PROPERTY_KEY_EMPTY = 2006
PROPERTY_VALUE_EMPTY = 2008
TAGS_LIMIT = 2013
TAG_KEY_EMPTY = 2014
TAG_KEY_TOO_LONG = 2015
TAG_VALUE_EMPTY = 2016
TAG_VALUE_TOO_LONG = 2017
TAG_KEY_ILLEGAL = 2018
TAG_VALUE_ILLEGAL = 2019
# Conditions the seed has no code for.
INVALID_SAMPLE = "INVALID_SAMPLE"
SCHEMA_NOT_FOUND = "SCHEMA_NOT_FOUND"
UNKNOWN_DIMENSION = "UNKNOWN_DIMENSION"
MISSING_DIMENSION = "MISSING_DIMENSION"
UNKNOWN_MEASUREMENT = "UNKNOWN_MEASUREMENT"
BEFORE_WATERMARK = "BEFORE_WATERMARK"

_ILLEGAL = re.compile("[.\\s\x00\ud800-\udfff]")
"""Anodot's illegal characters, plus what the database cannot store (:mod:`.limits`)."""
_AGGREGATION_TARGET = {"average": "gauge", "sum": "counter"}
_MISSING_DIM_ACTIONS = ("fill", "fail", "ignore")


class SchemaError(ValueError):
    """A stream schema definition breaks the seed's rules."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))  # it may quote an unpaired surrogate


# --------------------------------------------------------------------------- checks


def _illegal(kind: str, text: str, match: re.Match[str]) -> str:
    """The seed's message for ``.`` and whitespace; NUL and unpaired surrogates named."""
    if match.group() == "." or match.group().isspace():
        return (
            f"{kind}: '{text}' contains illegal characters. "
            "'.' character and space characters are not allowed."
        )
    return (
        f"{kind}: '{text}' contains illegal characters. "
        "NUL characters and unpaired surrogates cannot be stored."
    )


def _as_text(raw: object) -> str | None:
    """Property, dimension and tag values may be strings or integers; else ``None``."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return None


def _check_property(key: object, value: object) -> Problem | None:
    if not isinstance(key, str) or not key:
        return (
            PROPERTY_KEY_EMPTY,
            "Undefined property key. Metric property key must contain at least 1 character.",
        )
    if len(key) > MAX_KEY_LEN:
        return (
            PROPERTY_KEY_TOO_LONG,
            f"Property: '{key}' key length exceeded. "
            f"maximum key length is {MAX_KEY_LEN} characters.",
        )
    match = _ILLEGAL.search(key)
    if match:
        return PROPERTY_KEY_ILLEGAL, _illegal("Property key", key, match)
    text = _as_text(value)
    if not text:
        return (
            PROPERTY_VALUE_EMPTY,
            "Undefined property value. Metric property value must contain at least 1 character.",
        )
    if len(text) > MAX_VALUE_LEN:
        return (
            PROPERTY_VALUE_TOO_LONG,
            f"Property: '{key}' value length exceeded. "
            f"Maximum value length is {MAX_VALUE_LEN} characters.",
        )
    match = _ILLEGAL.search(text)
    if match:
        return PROPERTY_VALUE_ILLEGAL, _illegal("Property value", text, match)
    return None


def _parse_tags(raw: object) -> tuple[dict[str, tuple[str, ...]] | None, Problem | None]:
    """Tags as ``{name: (values)}``; a scalar value counts as a one-value list."""
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        return None, (INVALID_SAMPLE, "'tags' must be an object of tag name to values.")
    if len(raw) > MAX_TAGS:
        return None, (
            TAGS_LIMIT,
            f"Metric tags limit exceeded. Metric may contain up to: {MAX_TAGS} tags.",
        )
    tags: dict[str, tuple[str, ...]] = {}
    for key, values in raw.items():
        if not key:
            return None, (
                TAG_KEY_EMPTY,
                "Undefined tag key. Metric tag key must contain at least 1 character.",
            )
        if len(key) > MAX_KEY_LEN:
            return None, (
                TAG_KEY_TOO_LONG,
                f"Tag: '{key}' key length exceeded. "
                f"Maximum key length is {MAX_KEY_LEN} characters.",
            )
        match = _ILLEGAL.search(key)
        if match:
            return None, (TAG_KEY_ILLEGAL, _illegal("Tag key", key, match))
        texts = []
        for value in values if isinstance(values, list) else [values]:
            text = _as_text(value)
            if not text:
                return None, (
                    TAG_VALUE_EMPTY,
                    "Undefined tag value. Metric tag value must contain at least 1 character.",
                )
            if len(text) > MAX_VALUE_LEN:
                return None, (
                    TAG_VALUE_TOO_LONG,
                    f"Tag: '{key}' value length exceeded. "
                    f"Maximum value length is {MAX_VALUE_LEN} characters.",
                )
            match = _ILLEGAL.search(text)
            if match:
                return None, (TAG_VALUE_ILLEGAL, _illegal("Tag value", text, match))
            texts.append(text)
        tags[key] = tuple(texts)
    return tags, None


def _parse_timestamp(
    item: Mapping[str, object], *, now: float, max_future_s: float
) -> tuple[float | None, Problem | None]:
    raw = item.get("timestamp")
    if raw is None:
        return None, (
            TIMESTAMP_UNDEFINED,
            "Metric timestamp is undefined. Timestamp must be an epoch time in seconds.",
        )
    ts = to_number(raw)
    if ts is None:
        return None, (
            TIMESTAMP_INVALID,
            f"Metric timestamp: '{raw}' is not a valid epoch time. "
            "Timestamp must be an epoch time in seconds.",
        )
    problem = check_timestamp(ts, now=now, max_future_s=max_future_s)
    if problem is not None:
        return None, (problem[0], problem[1] + " Timestamp must be an epoch time in seconds.")
    return ts, None


def _parse_value(raw: object, *, missing: bool = False) -> tuple[float | None, Problem | None]:
    if missing or raw is None:
        return None, (
            VALUE_UNDEFINED,
            "Metric value is undefined. "
            "The 'value' must be a valid decimal double precision number.",
        )
    value = to_number(raw)
    if value is None:
        return None, (
            VALUE_INVALID,
            f"Metric value: '{raw}' is not a valid decimal number. "
            "The 'value' must be a valid decimal double precision number.",
        )
    problem = check_value(value)
    return (None, problem) if problem else (value, None)


def _load_array(body: bytes, *, max_samples: int) -> list[object]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise IngestError(JSON_PARSING_ERROR, f"Json parsing error: {exc}") from exc
    if not isinstance(data, list):
        raise IngestError(JSON_PARSING_ERROR, "Json parsing error: the body must be a JSON array.")
    if len(data) > max_samples:
        raise IngestError(
            "PAYLOAD_TOO_LARGE", f"{len(data)} entries in one request; at most {max_samples}."
        )
    return data


# ----------------------------------------------------------------------------- 2.0


def _parse_v2_item(item: object, *, now: float, max_future_s: float) -> Sample | Problem:
    if not isinstance(item, dict):
        return INVALID_SAMPLE, "Each sample must be a JSON object."
    properties = item.get("properties")
    if not isinstance(properties, dict) or not properties:
        return (
            PROPERTIES_UNDEFINED,
            "Metric properties are not defined. Must have at least one property.",
        )
    if len(properties) > MAX_PROPERTIES:
        return (
            PROPERTIES_LIMIT,
            f"Metric properties limit exceeded. "
            f"Metric may contain up to: {MAX_PROPERTIES} properties.",
        )
    for key, value in properties.items():
        problem = _check_property(key, value)
        if problem:
            return problem
    dims = {key: _as_text(value) or "" for key, value in properties.items()}
    what = dims.pop("what", None)
    if what is None:
        return (
            WHAT_UNDEFINED,
            "Property: 'what' is undefined. "
            "'what' is a mandatory property that specified what is being measured by this metric.",
        )
    target_type = dims.pop("target_type", "gauge")
    if target_type not in TARGET_TYPES:
        return (
            INVALID_TARGET_TYPE,
            f"Invalid target type: '{target_type}'. valid values are: {', '.join(TARGET_TYPES)}.",
        )
    tags, problem = _parse_tags(item.get("tags"))
    if problem:
        return problem
    ts, problem = _parse_timestamp(item, now=now, max_future_s=max_future_s)
    if problem:
        return problem
    value, problem = _parse_value(item.get("value"), missing="value" not in item)
    if problem:
        return problem
    assert ts is not None and value is not None  # both checked just above
    return Sample(what, dims, ts, value, target_type, tags)


def parse(
    body: bytes,
    *,
    now: float,
    max_samples: int = MAX_SAMPLES,
    max_future_s: float = MAX_FUTURE_S,
) -> ParseResult:
    """Parse an Anodot 2.0 body; raise :class:`IngestError` if it is not a JSON array."""
    result = ParseResult()
    for index, item in enumerate(_load_array(body, max_samples=max_samples)):
        parsed = _parse_v2_item(item, now=now, max_future_s=max_future_s)
        if isinstance(parsed, Sample):
            result.add(index, parsed)
        else:
            result.error(index, *parsed)
    return result


# ----------------------------------------------------------------------- 3.0 schema


@dataclass(frozen=True, slots=True)
class Measurement:
    """A measure of a stream schema; ``aggregation`` is ``average`` or ``sum``."""

    name: str
    aggregation: str
    units: str | None = None
    count_by: str = "none"

    @property
    def target_type(self) -> str:
        """``gauge`` for average aggregation, ``counter`` for sum."""
        return _AGGREGATION_TARGET[self.aggregation]


@dataclass(frozen=True, slots=True)
class StreamSchema:
    """An Anodot 3.0 stream schema (the seed's ``/api/v2/stream-schemas`` body).

    ``missing_dim_action`` is ``fill`` (use ``missing_dim_fill``), ``fail`` (refuse the
    data point) or ``ignore`` (leave the dimension out). When the definition has no
    ``missingDimPolicy`` augury uses ``ignore``, which keeps the data.
    """

    name: str
    dimensions: tuple[str, ...]
    measurements: Mapping[str, Measurement]
    id: str | None = None
    version: str | None = None
    missing_dim_action: str = "ignore"
    missing_dim_fill: str | None = None
    extra: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    """Other fields of the definition (``dvpConfig`` ...) kept verbatim."""


def parse_schema(definition: bytes | str | Mapping[str, object]) -> StreamSchema:
    """Validate a stream schema definition; raise :class:`SchemaError` on a broken rule.

    Accepts the create-schema body or the ``{"schema": {...}}`` wrapper the seed returns.
    """
    if isinstance(definition, bytes | str):
        try:
            definition = json.loads(definition)
        except (ValueError, RecursionError) as exc:
            raise SchemaError(f"Json parsing error: {exc}") from exc
    if not isinstance(definition, Mapping):
        raise SchemaError("A schema must be a JSON object.")
    if isinstance(definition.get("schema"), Mapping):
        definition = definition["schema"]  # type: ignore[assignment]
    assert isinstance(definition, Mapping)

    name = definition.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SchemaError("'name' is required.")
    if len(name) > MAX_SCHEMA_NAME_LEN:
        raise SchemaError(f"'name' is longer than {MAX_SCHEMA_NAME_LEN} characters.")
    if UNSTORABLE.search(name):
        raise SchemaError("'name' holds a NUL character or an unpaired surrogate.")
    try:  # kept verbatim, and answered back: every string must be encodable
        json.dumps(definition, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SchemaError(
            "The schema holds an unpaired surrogate, which cannot be stored."
        ) from exc

    dims = definition.get("dimensions")
    if not isinstance(dims, list):
        raise SchemaError("'dimensions' is required: a list of dimension names.")
    if len(dims) > MAX_SCHEMA_DIMENSIONS:
        raise SchemaError(f"At most {MAX_SCHEMA_DIMENSIONS} dimensions.")
    if len(set(map(str, dims))) != len(dims):
        raise SchemaError("Each dimension must be unique.")
    for dim in dims:
        if not isinstance(dim, str) or not dim:
            raise SchemaError("A dimension name must be a non-empty string.")
        if len(dim) > MAX_DIMENSION_NAME_LEN:
            raise SchemaError(
                f"Dimension '{dim}' is longer than {MAX_DIMENSION_NAME_LEN} characters."
            )
        if _ILLEGAL.search(dim) or dim in ("what", "target_type"):
            raise SchemaError(f"Dimension name '{dim}' is not allowed.")

    raw_measurements = definition.get("measurements")
    if not isinstance(raw_measurements, Mapping) or not raw_measurements:
        raise SchemaError("'measurements' is required: an object of measurement definitions.")
    if len(raw_measurements) > MAX_MEASUREMENTS:
        raise SchemaError(f"At most {MAX_MEASUREMENTS} measurements.")
    measurements: dict[str, Measurement] = {}
    for mname, spec in raw_measurements.items():
        if not isinstance(mname, str) or not mname or _ILLEGAL.search(mname):
            raise SchemaError(f"Measurement name '{mname}' is not allowed.")
        if len(mname) > MAX_VALUE_LEN:
            raise SchemaError(f"Measurement name '{mname}' is too long.")
        if not isinstance(spec, Mapping):
            raise SchemaError(f"Measurement '{mname}' must be an object.")
        aggregation = spec.get("aggregation")
        if aggregation not in _AGGREGATION_TARGET:
            raise SchemaError(
                f"Measurement '{mname}': aggregation must be one of "
                f"{', '.join(_AGGREGATION_TARGET)}."
            )
        count_by = str(spec.get("countBy", spec.get("countby", "none"))).lower()
        if count_by != "none":
            raise SchemaError(f"Measurement '{mname}': countBy supports only 'none'.")
        units = spec.get("units")
        measurements[mname] = Measurement(
            mname, str(aggregation), None if units is None else str(units), count_by
        )

    action, fill = "ignore", None
    policy = definition.get("missingDimPolicy")
    if policy is not None:
        if not isinstance(policy, Mapping) or policy.get("action") not in _MISSING_DIM_ACTIONS:
            raise SchemaError(
                f"missingDimPolicy.action must be one of {', '.join(_MISSING_DIM_ACTIONS)}."
            )
        action = str(policy["action"])
        if action == "fill":
            fill = _as_text(policy.get("fill"))
            if _check_property("fill", fill):
                raise SchemaError("missingDimPolicy.fill must be a legal dimension value.")

    known = {"id", "name", "version", "dimensions", "measurements", "missingDimPolicy"}
    schema_id, version = definition.get("id"), definition.get("version")
    return StreamSchema(
        name=name,
        dimensions=tuple(dims),
        measurements=MappingProxyType(measurements),
        id=None if schema_id is None else str(schema_id),
        version=None if version is None else str(version),
        missing_dim_action=action,
        missing_dim_fill=fill,
        extra=MappingProxyType({k: v for k, v in definition.items() if k not in known}),
    )


# ------------------------------------------------------------------------ 3.0 data


def _v3_dimensions(raw: object, schema: StreamSchema) -> dict[str, str] | Problem:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return INVALID_SAMPLE, "'dimensions' must be an object of dimension name to value."
    for key in raw:
        if key not in schema.dimensions:
            return UNKNOWN_DIMENSION, f"Dimension '{key}' is not in schema '{schema.name}'."
    dims: dict[str, str] = {}
    for key in schema.dimensions:
        text = _as_text(raw.get(key))
        if not text:
            if schema.missing_dim_action == "fail":
                return MISSING_DIMENSION, f"Dimension '{key}' is missing."
            if schema.missing_dim_action == "ignore":
                continue
            text = schema.missing_dim_fill or ""
        problem = _check_property(key, text)
        if problem:
            return problem
        dims[key] = text
    return dims


def parse_v3(
    body: bytes,
    *,
    now: float,
    schemas: Mapping[str, StreamSchema],
    watermarks: Mapping[str, float] | None = None,
    max_samples: int = MAX_SAMPLES,
    max_future_s: float = MAX_FUTURE_S,
) -> ParseResult:
    """Parse an Anodot 3.0 body against ``schemas`` (schema id -> schema).

    One sample per valid measurement of each data point; errors carry the data point's
    index. A data point at or before its schema's watermark (``watermarks``: schema id
    -> last watermark) is refused: the sender promised none would come. Raise
    :class:`IngestError` if the body is not a JSON array.
    """
    watermarks = watermarks or {}
    result = ParseResult()
    for index, item in enumerate(_load_array(body, max_samples=max_samples)):
        if not isinstance(item, dict):
            result.error(index, INVALID_SAMPLE, "Each data point must be a JSON object.")
            continue
        schema_id = item.get("schemaId")
        schema = schemas.get(schema_id) if isinstance(schema_id, str) else None
        if schema is None:
            result.error(index, SCHEMA_NOT_FOUND, f"Unknown schemaId: '{schema_id}'.")
            continue
        dims = _v3_dimensions(item.get("dimensions"), schema)
        if isinstance(dims, tuple):
            result.error(index, *dims)
            continue
        tags, problem = _parse_tags(item.get("tags"))
        if problem:
            result.error(index, *problem)
            continue
        ts, problem = _parse_timestamp(item, now=now, max_future_s=max_future_s)
        if problem:
            result.error(index, *problem)
            continue
        assert ts is not None
        mark = watermarks.get(schema_id)  # type: ignore[arg-type]
        if mark is not None and ts <= mark:
            result.error(
                index,
                BEFORE_WATERMARK,
                f"Timestamp {ts:.0f} is at or before the watermark {mark:.0f} of schema "
                f"'{schema.name}'.",
            )
            continue
        result.streams[index] = schema_id  # type: ignore[assignment]
        measurements = item.get("measurements")
        if not isinstance(measurements, dict) or not measurements:
            result.error(index, VALUE_UNDEFINED, "Data point has no measurements.")
            continue
        for mname, raw in measurements.items():
            measurement = schema.measurements.get(mname)
            if measurement is None:
                result.error(
                    index,
                    UNKNOWN_MEASUREMENT,
                    f"Measurement '{mname}' is not in schema '{schema.name}'.",
                )
                continue
            value, problem = _parse_value(raw)
            if problem:
                result.error(index, problem[0], f"Measurement '{mname}': {problem[1]}")
                continue
            assert value is not None
            result.add(index, Sample(mname, dims, ts, value, measurement.target_type, tags))
    return result


@dataclass(frozen=True, slots=True)
class Watermark:
    """No more samples at or before ``timestamp`` will come for ``schema_id``."""

    schema_id: str
    timestamp: float


def parse_watermark(
    body: bytes,
    *,
    now: float,
    schemas: Mapping[str, StreamSchema] | None = None,
    max_future_s: float = MAX_FUTURE_S,
) -> Watermark:
    """Parse the 3.0 watermark call; raise :class:`IngestError` if it is not valid.

    With ``schemas`` given, an unknown schema id is refused too.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise IngestError(JSON_PARSING_ERROR, f"Json parsing error: {exc}") from exc
    if not isinstance(data, dict):
        raise IngestError(JSON_PARSING_ERROR, "Json parsing error: the body must be an object.")
    schema_id = data.get("schemaId")
    if not isinstance(schema_id, str) or not schema_id:
        raise IngestError(SCHEMA_NOT_FOUND, "'schemaId' is required.")
    if schemas is not None and schema_id not in schemas:
        raise IngestError(SCHEMA_NOT_FOUND, f"Unknown schemaId: '{schema_id}'.")
    ts, problem = _parse_timestamp(
        {"timestamp": data.get("watermark")}, now=now, max_future_s=max_future_s
    )
    if problem:
        raise IngestError(*problem)
    assert ts is not None
    return Watermark(schema_id, ts)
