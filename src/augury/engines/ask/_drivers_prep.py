"""The key drivers' inputs: the target as a task, and every other column as features.

A column becomes one or more :class:`Feature` arrays (``float64``; a categorical
feature holds level codes) or is skipped with a reason a person can read:

* ``identifier``: unique per row (text, or integers named like a key or numbered like
  keys: at least 20 of them within ten times their count, the profile's rule); an
  identifier predicts nothing beyond the rows it was measured on;
* ``constant``: one value (or none) in the rows used;
* ``free text``: text with more than :data:`MAX_LEVELS` values, most of them different
  (more than half the rows), which no grouping can read;
* a date or datetime becomes ``<column> (year)`` (numeric) and ``(month)``,
  ``(weekday)``, and for datetimes ``(hour)`` (categorical), each kept where it varies.

Text, categories and booleans keep their :data:`MAX_LEVELS` most frequent values; the
rest share the level ``(other)``, and missing values the level ``(missing)``, so a
categorical feature has no missing codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from augury.engines.tabular.errors import TableError

NUMERIC_TYPES = ("integer", "float", "decimal", "duration")
CATEGORICAL_TYPES = ("string", "category", "boolean")
DATE_TYPES = ("date", "datetime")

MAX_LEVELS = 30
"""The most levels a categorical feature keeps before ``(other)``."""

MAX_CLASSES = 20
"""The most classes a categorical target may have."""

MIN_ROWS = 30
"""The fewest rows with a target value that key drivers work on."""

_ID_WORDS = {"id", "uuid", "guid", "key", "pk", "identifier"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class Feature:
    """One model input: ``name`` is the factor shown, ``column`` the column it came from."""

    name: str
    column: str
    kind: str  # "numeric" | "categorical"
    values: np.ndarray
    levels: list[str] = field(default_factory=list)


@dataclass
class Target:
    """The target as the model reads it: a float per row (regression) or a class code."""

    name: str
    task: str  # "regression" | "classification"
    y: np.ndarray
    classes: list[str] = field(default_factory=list)


@dataclass
class Prepared:
    target: Target
    features: list[Feature]
    skipped: dict[str, str]


def prepare(
    frame: pd.DataFrame, target: str, types: dict[str, str], *, seed: int, max_rows: int, folds: int
) -> Prepared:
    """The target and the features of at most ``max_rows`` rows of ``frame`` (a uniform
    sample drawn with ``seed``), the rows without a target value left out."""
    if target not in frame.columns:
        raise TableError(
            "INVALID_TARGET",
            f"There is no column {target!r} to explain.",
            {"target": target, "reason": "no_column", "columns": [str(c) for c in frame.columns]},
        )
    kinds = {str(c): types.get(str(c)) or _type_of(frame[c]) for c in frame.columns}
    frame = _rows(frame, target, kinds[target], seed=seed, max_rows=max_rows)
    goal = _target(frame[target], target, kinds[target], folds)
    features: list[Feature] = []
    skipped: dict[str, str] = {}
    for column in frame.columns:
        name = str(column)
        if name == target:
            continue
        made, reason = _features(frame[column], name, kinds[name])
        features.extend(made)
        if reason:
            skipped[name] = reason
    return Prepared(goal, features, skipped)


def _rows(frame: pd.DataFrame, target: str, kind: str, *, seed: int, max_rows: int) -> pd.DataFrame:
    """The rows with a target value, sampled down to ``max_rows``; one copy at most (a
    frame of 500 columns is worth not copying twice)."""
    keep = frame[target].notna().to_numpy()
    if kind in NUMERIC_TYPES:
        keep &= np.isfinite(_numeric(frame[target], kind))
    rows = np.flatnonzero(keep)
    if rows.size > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))
    if rows.size < MIN_ROWS:
        raise TableError(
            "NOT_ENOUGH_ROWS",
            f"{target} has a value in {rows.size} rows; key drivers need at least {MIN_ROWS}.",
            {"target": target, "rows": int(rows.size), "minimum": MIN_ROWS},
        )
    if rows.size == len(frame):
        return frame.reset_index(drop=True)
    return frame.iloc[rows].reset_index(drop=True)


def _target(series: pd.Series, name: str, kind: str, folds: int) -> Target:
    if kind in DATE_TYPES:
        raise _invalid(name, "date", f"{name} is a date; key drivers explain a measure or a class.")
    if kind in NUMERIC_TYPES:
        values = _numeric(series, kind)
        distinct = np.unique(values)
        if distinct.size < 2:
            raise _invalid(name, "constant", f"{name} has one value; there is nothing to explain.")
        if distinct.size > 2 or kind != "integer":
            return Target(name, "regression", values)
        series = pd.Series(values.astype(np.int64))
    labels = series.astype(str).to_numpy()
    classes, codes = np.unique(labels, return_inverse=True)
    if classes.size < 2:
        raise _invalid(name, "constant", f"{name} has one value; there is nothing to explain.")
    if classes.size > MAX_CLASSES:
        raise _invalid(
            name,
            "too_many_classes",
            f"{name} has {classes.size} values; key drivers explain a number or at most "
            f"{MAX_CLASSES} classes.",
        )
    counts = np.bincount(codes)
    if np.count_nonzero(counts >= folds) < 2:
        raise _invalid(name, "constant", f"{name} has one class with more than {folds - 1} rows.")
    return Target(name, "classification", codes.astype(np.int64), [str(c) for c in classes])


def _invalid(name: str, reason: str, message: str) -> TableError:
    return TableError("INVALID_TARGET", message, {"target": name, "reason": reason})


def _features(series: pd.Series, name: str, kind: str) -> tuple[list[Feature], str | None]:
    if series.notna().sum() == 0:
        return [], "empty"
    if kind in DATE_TYPES:
        return _date_features(series, name, kind)
    if kind in NUMERIC_TYPES:
        values = _numeric(series, kind)
        present = values[np.isfinite(values)]
        if present.size == 0 or present.min() == present.max():
            return [], "constant"
        if kind == "integer" and _integer_identifier(present, name, len(values)):
            return [], "identifier"
        return [Feature(name, name, "numeric", values)], None
    labels = series.astype(str).where(series.notna())
    counts = labels.value_counts()
    missing = int(labels.isna().sum())
    if counts.size + (missing > 0) < 2:
        return [], "constant"
    if counts.size == len(labels) and len(labels) >= 10:
        return [], "identifier"
    if counts.size > MAX_LEVELS and counts.size > len(labels) / 2:
        return [], "free text"
    return [_categorical(labels, name, name, counts)], None


def _categorical(labels: pd.Series, name: str, column: str, counts: pd.Series) -> Feature:
    kept = [str(v) for v in counts.index[:MAX_LEVELS]]
    index = {v: i for i, v in enumerate(kept)}
    levels = list(kept)
    codes = labels.map(index)
    if counts.size > MAX_LEVELS:
        levels.append("(other)")
        codes = codes.where(labels.isna() | codes.notna(), len(levels) - 1)
    if labels.isna().any():
        levels.append("(missing)")
        codes = codes.where(labels.notna(), len(levels) - 1)
    return Feature(name, column, "categorical", codes.to_numpy(dtype=np.float64), levels)


def _date_features(series: pd.Series, name: str, kind: str) -> tuple[list[Feature], str | None]:
    stamps = pd.to_datetime(series, errors="coerce")
    parts: list[tuple[str, pd.Series, tuple[str, ...] | None]] = [
        ("year", stamps.dt.year, None),
        ("month", stamps.dt.month - 1, _MONTHS),
        ("weekday", stamps.dt.weekday, _WEEKDAYS),
    ]
    if kind == "datetime":
        parts.append(("hour", stamps.dt.hour, tuple(str(h) for h in range(24))))
    made = []
    for part, values, names in parts:
        number = values.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.unique(number[np.isfinite(number)]).size < 2:
            continue
        factor = f"{name} ({part})"
        if names is None:
            made.append(Feature(factor, name, "numeric", number))
            continue
        labels = pd.Series(number).map(lambda v, n=names: n[int(v)] if np.isfinite(v) else None)
        made.append(_categorical(labels, factor, name, labels.value_counts()))
    return made, None if made else "constant"


def _integer_identifier(present: np.ndarray, name: str, rows: int) -> bool:
    if np.unique(present).size != rows:
        return False
    words = set(re.split(r"[^a-z0-9]+", name.lower()))
    keys_like = rows >= 20 and present.max() - present.min() + 1 <= 10 * rows
    return bool(words & _ID_WORDS) or keys_like


def _numeric(series: pd.Series, kind: str) -> np.ndarray:
    """A numeric column as floats (durations in seconds); what does not read is NaN."""
    if kind == "duration" or pd.api.types.is_timedelta64_dtype(series.dtype):
        return pd.to_timedelta(series, errors="coerce").dt.total_seconds().to_numpy(np.float64)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _type_of(series: pd.Series) -> str:
    """The logical type of a column the caller gave no type for, from its dtype."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_numeric_dtype(dtype):
        return "float"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "string"
