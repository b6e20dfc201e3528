"""What a metric's identity may hold: one set of limits for every protocol and database.

A sample whose metric name (``what``) or dimensions the database cannot store must be
refused on its own, the protocol's way, before the batch reaches the database: on
PostgreSQL a value over a column's size, a NUL character or an unpaired surrogate (JSON
may carry ``"\\ud800"``; UTF-8 cannot encode it) fails the whole transaction, and
SQLite, which does not enforce column sizes, would store 100 KB names. The sizes are
read from the columns in :mod:`augury.metrics.models`, so the two cannot drift apart.

Anodot 2.0/3.0 keep their own stricter rules (20 properties, keys up to 50 and values up
to 150 characters, no ``.`` or whitespace), which fit inside these; Influx line protocol,
Prometheus remote write and CSV are held to these limits, with Anodot's error codes:

- ``what`` up to :data:`MAX_WHAT_LEN` characters (2028),
- at most :data:`MAX_DIMENSIONS` dimensions (tags, labels; 2005),
- dimension keys up to :data:`MAX_DIMENSION_KEY_LEN` (2007) and values up to
  :data:`MAX_DIMENSION_VALUE_LEN` characters (2009),
- no NUL character nor unpaired surrogate in any of them (2010 keys, 2011 values and
  ``what``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import ColumnElement, String

from augury.metrics.ingest.points import (
    METRIC_NAME_TOO_LONG,
    PROPERTIES_LIMIT,
    PROPERTY_KEY_ILLEGAL,
    PROPERTY_KEY_TOO_LONG,
    PROPERTY_VALUE_ILLEGAL,
    PROPERTY_VALUE_TOO_LONG,
    Problem,
    printable,
)
from augury.metrics.models import Metric, MetricDimension


def _size(column: ColumnElement[str]) -> int:
    """A string column's size: a column that lost it fails at import, not on a long name."""
    kind = column.type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"{column} has no size")
    return kind.length


MAX_WHAT_LEN = _size(Metric.__table__.c.what)
MAX_DIMENSION_KEY_LEN = _size(MetricDimension.__table__.c.key)
MAX_DIMENSION_VALUE_LEN = _size(MetricDimension.__table__.c.value)
MAX_DIMENSIONS = 30
"""Dimensions per metric: Anodot's most for a 3.0 stream schema (seed 004), and the
default ``max_label_names_per_series`` of Prometheus-compatible stores (Mimir, Cortex)."""

CODES = frozenset(
    {
        METRIC_NAME_TOO_LONG,
        PROPERTIES_LIMIT,
        PROPERTY_KEY_TOO_LONG,
        PROPERTY_VALUE_TOO_LONG,
        PROPERTY_KEY_ILLEGAL,
        PROPERTY_VALUE_ILLEGAL,
    }
)
"""Every code :func:`check_series` returns."""

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""A NUL (PostgreSQL text cannot hold it) or an unpaired surrogate (UTF-8 cannot)."""

_SHOWN = 60  # characters of an offending value quoted in a message


def _unstorable(kind: str, text: str) -> str:
    return (
        f"{kind} '{printable(text, _SHOWN)}' contains a NUL character or an unpaired "
        "surrogate, which cannot be stored."
    )


def check_what(what: str) -> Problem | None:
    """Refuse a metric name that is too long or holds an unstorable character."""
    if len(what) > MAX_WHAT_LEN:
        return (
            METRIC_NAME_TOO_LONG,
            f"Metric name length exceeded the maximum allowed: {MAX_WHAT_LEN}. "
            f"'{printable(what, _SHOWN)}' has {len(what)} characters.",
        )
    if UNSTORABLE.search(what):
        return PROPERTY_VALUE_ILLEGAL, _unstorable("Metric name", what)
    return None


def check_dimensions(dimensions: Mapping[str, str]) -> Problem | None:
    """Refuse too many dimensions, and keys or values too long or unstorable."""
    if len(dimensions) > MAX_DIMENSIONS:
        return (
            PROPERTIES_LIMIT,
            f"Metric dimensions limit exceeded: {len(dimensions)}. "
            f"Metric may contain up to: {MAX_DIMENSIONS} dimensions.",
        )
    for key, value in dimensions.items():
        if len(key) > MAX_DIMENSION_KEY_LEN:
            return (
                PROPERTY_KEY_TOO_LONG,
                f"Dimension: '{printable(key, _SHOWN)}' key length exceeded. "
                f"Maximum key length is {MAX_DIMENSION_KEY_LEN} characters.",
            )
        if len(value) > MAX_DIMENSION_VALUE_LEN:
            return (
                PROPERTY_VALUE_TOO_LONG,
                f"Dimension: '{printable(key, _SHOWN)}' value length exceeded. "
                f"Maximum value length is {MAX_DIMENSION_VALUE_LEN} characters.",
            )
        if UNSTORABLE.search(key):
            return PROPERTY_KEY_ILLEGAL, _unstorable("Dimension key", key)
        if UNSTORABLE.search(value):
            return PROPERTY_VALUE_ILLEGAL, _unstorable(
                f"Dimension '{printable(key, _SHOWN)}' value", value
            )
    return None


def check_series(what: str, dimensions: Mapping[str, str]) -> Problem | None:
    """The first limit that ``what`` and ``dimensions`` break, or ``None``."""
    return check_what(what) or check_dimensions(dimensions)
