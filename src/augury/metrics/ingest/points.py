"""The common output of every ingestion parser: samples, per-sample errors, checks.

Error codes are the Anodot ingestion error codes (integers, seed 004) wherever the
condition is the one Anodot documents (future timestamp 2022, NaN value 2026, ...), so a
sender's error handling keeps working; conditions Anodot does not document use
UPPER_SNAKE string codes (``INVALID_LINE``, ``SCHEMA_NOT_FOUND`` ...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

TARGET_TYPES = ("gauge", "counter")
"""gauge: rolled up by average; counter: rolled up by sum."""

MAX_FUTURE_S = 3600.0
"""A sample may be at most one hour in the future (Anodot rule)."""

# Anodot error codes used by more than one parser.
JSON_PARSING_ERROR = 1001
PROPERTIES_LIMIT = 2005
PROPERTY_KEY_TOO_LONG = 2007
PROPERTY_VALUE_TOO_LONG = 2009
PROPERTY_KEY_ILLEGAL = 2010
PROPERTY_VALUE_ILLEGAL = 2011
WHAT_UNDEFINED = 2012
TIMESTAMP_UNDEFINED = 2020
TIMESTAMP_INVALID = 2021
TIMESTAMP_IN_FUTURE = 2022
TIMESTAMP_NEGATIVE = 2023
VALUE_UNDEFINED = 2024
VALUE_INVALID = 2025
VALUE_NOT_FINITE = 2026
METRIC_NAME_TOO_LONG = 2028
INVALID_TARGET_TYPE = 2030


def printable(text: str, limit: int | None = None) -> str:
    """``text`` safe to quote in an answer or a stored message: lone surrogates (which
    UTF-8 cannot encode) and NUL shown as ``\\udXXX`` and ``\\x00``, cut to ``limit``
    characters plus "..."."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _frozen_dimensions(dimensions: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(sorted(dimensions.items())))


@dataclass(frozen=True, slots=True)
class Sample:
    """One data point of one metric.

    ``dimensions`` is stored sorted by key behind a read-only mapping; ``tags`` maps a
    tag name to a tuple of values (read-only too) or is ``None``. Tags are metadata:
    they do not take part in the metric's identity, :attr:`key`.
    """

    what: str
    dimensions: Mapping[str, str]
    timestamp: float
    value: float
    target_type: str = "gauge"
    tags: Mapping[str, tuple[str, ...]] | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dimensions", _frozen_dimensions(self.dimensions))
        if self.tags is not None:
            frozen = {k: tuple(v) for k, v in sorted(self.tags.items())}
            object.__setattr__(self, "tags", MappingProxyType(frozen))

    def __hash__(self) -> int:
        return hash((self.key, self.timestamp, self.value, self.target_type))

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Identity of the metric this sample belongs to: (what, sorted dimensions)."""
        return (self.what, tuple(self.dimensions.items()))


@dataclass(frozen=True, slots=True)
class SampleError:
    """Why the sample at ``index`` (the position in the batch) was refused."""

    index: int
    code: str | int
    message: str


@dataclass(slots=True)
class ParseResult:
    """The good samples of a batch, and one or more errors per refused sample."""

    samples: list[Sample] = field(default_factory=list)
    errors: list[SampleError] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    """``indices[i]`` is the position in the batch of ``samples[i]`` (for later errors)."""
    streams: dict[int, str] = field(default_factory=dict)
    """Anodot 3.0: position in the batch -> stream schema id of that data point."""

    def add(self, index: int, sample: Sample) -> None:
        """Keep ``sample``, which came from position ``index`` of the batch."""
        self.samples.append(sample)
        self.indices.append(index)

    def error(self, index: int, code: str | int, message: str) -> None:
        """Record an error for the sample at ``index`` (its message made printable: it may
        quote the offending input)."""
        self.errors.append(SampleError(index, code, printable(message)))


class IngestError(ValueError):
    """The whole body is unusable (not JSON, not snappy, too many samples ...)."""

    def __init__(self, code: str | int, message: str) -> None:
        message = printable(message)
        super().__init__(message)
        self.code = code
        self.message = message


Problem = tuple[str | int, str]
"""(code, message) returned by the check helpers; ``None`` means the value is fine."""


def check_timestamp(ts: float, *, now: float, max_future_s: float = MAX_FUTURE_S) -> Problem | None:
    """Refuse non-finite, negative and more-than-``max_future_s``-ahead timestamps."""
    if not math.isfinite(ts):
        return TIMESTAMP_INVALID, f"Metric timestamp: '{ts}' is not a valid epoch time."
    if ts < 0:
        return TIMESTAMP_NEGATIVE, f"Metric timestamp: '{ts:g}' is negative."
    if ts > now + max_future_s:
        return TIMESTAMP_IN_FUTURE, f"Metric timestamp: '{ts:.0f}' is in the future."
    return None


def check_value(value: float) -> Problem | None:
    """Refuse NaN and infinities."""
    if not math.isfinite(value):
        return VALUE_NOT_FINITE, "Metric value is NaN or Infinite"
    return None


def to_number(raw: object) -> float | None:
    """A JSON number or a numeric string as float; ``None`` if it is neither.

    Booleans are not numbers here. Non-finite results are returned (the caller
    reports them with its own code).
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        try:
            return float(raw)
        except OverflowError:  # an integer beyond the float range
            return None
    if isinstance(raw, str):
        text = raw.strip()
        if not text or "_" in text:
            return None
        try:
            return float(text)
        except ValueError:
            return None
    return None
