"""Rows in and out of a model: values read as the training column types, and the
engine's predictions and explanations as JSON.

A model learned each feature as numeric, category, datetime or boolean. Rows sent as
JSON (``"3.5"``, ``true``, ``12``) are coerced to that kind before the engine sees them,
so a number sent as text is still a number, and a category sent as a number
(``12`` for ``"12"``) is still the category it was trained as. In a request a value
that cannot be read as its kind is a 422 naming the column and the row
(:func:`rows_frame`); in a dataset it becomes missing and is counted
(:func:`coerce_lenient`): one odd cell must not stop ten million rows.

The kinds come from the engine's model (its encoder's), else from the training
dataset version's stored column types (the file the engine read); a feature of neither
is taken as the values come.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.datasets import service as datasets_service
from augury.datasets.models import DatasetVersion
from augury.engines.tabular.errors import TableError
from augury.errors import ValidationFailed
from augury.predictive.models import ModelVersion

NUMERIC, CATEGORY, DATETIME, BOOLEAN, AS_GIVEN = (
    "numeric",
    "category",
    "datetime",
    "boolean",
    "as given",
)
PROBABILITY = "probability_"
_NUMERIC_NAMES: tuple[str, ...] = (
    *("int", "uint", "float", "double", "decimal", "bigint", "smallint", "tinyint"),
    *("hugeint", "ubigint", "usmallint", "utinyint", "real", "numeric", "number"),
)
_DATETIME_NAMES = ("date", "datetime", "timestamp")


def feature_kinds(session: Session, engine: Any, version: ModelVersion) -> dict[str, str]:
    """Each feature of ``version`` and the kind its values are coerced to."""
    encoder = getattr(engine, "encoder", None)
    types: dict[str, str] = dict(getattr(encoder, "kinds", None) or {})
    if not types and version.dataset_id is not None and version.dataset_version is not None:
        trained_on = session.scalars(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == version.dataset_id,
                DatasetVersion.number == version.dataset_version,
            )
        ).one_or_none()
        if trained_on is not None:
            types = {c["name"]: c["physical"] for c in trained_on.columns}
    names = list(getattr(engine, "features", None) or version.features or [])
    return {name: kind_of_type(types[name]) if name in types else AS_GIVEN for name in names}


def kind_of_type(name: str) -> str:
    """The kind of a stored (DuckDB, pandas, Arrow) or logical type name.

    >>> [kind_of_type(t) for t in ("BIGINT", "DECIMAL(18,3)", "VARCHAR", "TIMESTAMP", "bool")]
    ['numeric', 'numeric', 'category', 'datetime', 'boolean']
    >>> kind_of_type("categorical")
    'category'

    """
    low = name.strip().lower()
    if low.startswith(_NUMERIC_NAMES):
        return NUMERIC
    if low.startswith(_DATETIME_NAMES):
        return DATETIME
    if low.startswith("bool"):
        return BOOLEAN
    return CATEGORY


def rows_frame(rows: Sequence[dict], kinds: dict[str, str]) -> pd.DataFrame:
    """JSON rows as a frame of the model's features, coerced to their training kinds;
    422 when a row lacks a feature (null is fine: a missing value)."""
    missing: dict[str, int] = {}
    for index, row in enumerate(rows):
        for name in kinds:
            if name not in row and name not in missing:
                missing[name] = index
    if missing:
        names = list(missing)
        raise ValidationFailed(
            f"Row {missing[names[0]]} lacks the model's feature column"
            f"{'s' if len(names) > 1 else ''} {quoted(names)}; give every feature "
            "(null for a missing value).",
            details={"reason": "MISSING_COLUMNS", "missing": names, "row": missing[names[0]]},
        )
    return pd.DataFrame(
        {name: coerce_values(name, kind, [r[name] for r in rows]) for name, kind in kinds.items()}
    )


def coerce_values(name: str, kind: str, values: list[Any]) -> pd.Series:
    """JSON values of one column as its training kind; 422 naming the first row whose
    value cannot be read so."""
    raw = pd.Series(values, dtype=object)
    if kind == CATEGORY:
        return raw.map(lambda v: None if v is None else category(v))
    if kind == AS_GIVEN:
        return raw.infer_objects()
    if kind == NUMERIC:
        out = pd.to_numeric(raw.map(_bool_as_number), errors="coerce")
    elif kind == DATETIME:
        out = _datetimes(raw)
    else:
        out = raw.map(_as_bool)
    bad = raw.notna() & out.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationFailed(
            f"Row {row}: column {name!r} is {kind} in the model's training data, and "
            f"{values[row]!r} is not.",
            details={"reason": "BAD_VALUE", "column": name, "row": row, "kind": kind},
        )
    return out


def coerce_lenient(frame: pd.DataFrame, kinds: dict[str, str]) -> dict[str, int]:
    """A dataset's feature columns read as their training kinds, in place; values that
    cannot be become missing. The count of those per column."""
    lost_per_column: dict[str, int] = {}
    for name, kind in kinds.items():
        if name not in frame.columns:
            continue
        col = frame[name]
        if kind == NUMERIC and not is_number(col):
            out = pd.to_numeric(col.map(_bool_as_number), errors="coerce")
        elif kind == DATETIME and not pd.api.types.is_datetime64_any_dtype(col):
            out = _datetimes(col)
        elif kind == BOOLEAN and not pd.api.types.is_bool_dtype(col):
            out = col.map(_as_bool)
        elif kind == CATEGORY and (is_number(col) or pd.api.types.is_bool_dtype(col)):
            out = col.map(lambda v: None if pd.isna(v) else category(v))
        else:
            continue
        lost = int((col.notna() & out.isna()).sum())
        if lost:
            lost_per_column[name] = lost
        frame[name] = out
    return lost_per_column


def is_number(col: pd.Series) -> bool:
    """Numbers, booleans aside."""
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _datetimes(values: pd.Series) -> pd.Series:
    out = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    return out.dt.tz_localize(None)


def _bool_as_number(value: Any) -> Any:
    return float(value) if isinstance(value, bool) else value


def _as_bool(value: Any) -> Any:
    if value is None or isinstance(value, bool | np.bool_):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "t", "y"):
        return True
    if text in ("false", "no", "0", "f", "n"):
        return False
    return None


def category(value: Any) -> str:
    """A category as the text it was trained as (the engine reads categories as text):
    ``12`` is ``"12"``, and so is ``12.0``.

    >>> category(3.0), category(12), category("a"), category(True)
    ('3', '12', 'a', 'True')
    """
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def quoted(names: Sequence[str], most: int = 20) -> str:
    return ", ".join(map(repr, list(names)[:most])) + (" ..." if len(names) > most else "")


# --- out: predictions and explanations as JSON ---------------------------------------------


def jsonable(value: Any) -> Any:
    """A frame's cell as JSON: NaN and NaT as null, NumPy scalars as numbers, times as
    ISO 8601 text.

    >>> jsonable(np.float32(0.5)), jsonable(float("nan")), jsonable(pd.Timestamp("2024-01-02"))
    (0.5, None, '2024-01-02T00:00:00')
    """
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | bool | int):
        return value
    try:
        return None if pd.isna(value) else str(value)
    except (TypeError, ValueError):
        return str(value)


def number(value: Any) -> float | None:
    got = jsonable(value)
    return float(got) if isinstance(got, int | float) and not isinstance(got, bool) else None


def classes_of(out: pd.DataFrame) -> list[str] | None:
    """The classes an engine's prediction frame gives probabilities of, in its order."""
    names = [c[len(PROBABILITY) :] for c in out.columns if c.startswith(PROBABILITY)]
    return names or None


def outcome(out: pd.DataFrame, i: int) -> dict:
    """Row ``i`` of the engine's prediction frame as the API's outcome."""
    row = out.iloc[i]
    probs = {
        c[len(PROBABILITY) :]: number(row[c]) for c in out.columns if c.startswith(PROBABILITY)
    }
    return {
        "prediction": jsonable(row["prediction"]),
        "probability": probs or None,
        "lower": number(row["lower"]) if "lower" in out.columns else None,
        "upper": number(row["upper"]) if "upper" in out.columns else None,
    }


def predicted(engine: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """The engine's prediction frame; its refusal (a missing column) as a 422."""
    try:
        return engine.predict(frame)
    except TableError as exc:
        raise datasets_service.table_error(exc) from exc


def explanations(engine: Any, frame: pd.DataFrame) -> tuple[list[dict], str | None]:
    """Each row's additive explanation: the ``base`` and each feature's contribution
    with the row's value, largest first; and what they add up to (``output``)."""
    try:
        found = engine.explain(frame)
    except TableError as exc:
        raise datasets_service.table_error(exc) from exc
    contributions = np.asarray(found.contributions, dtype=float)
    bases = getattr(found, "bases", None)
    out = []
    for i in range(len(frame)):
        parts = [
            {
                "feature": feature,
                "value": jsonable(frame[feature].iloc[i]) if feature in frame.columns else None,
                "contribution": float(contributions[i, j]),
            }
            for j, feature in enumerate(found.features)
        ]
        parts.sort(key=lambda p: -abs(p["contribution"]))
        base = float(bases[i]) if bases is not None else float(found.base)
        out.append({"base": base, "contributions": parts})
    return out, getattr(found, "output", None)
