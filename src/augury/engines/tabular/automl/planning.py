"""What a training will do with a table, decided before any model is fitted.

:func:`plan` reads the target and the columns and says which task it is (binary,
multiclass, regression or forecast), which columns become features and which are left
out, and why:

* ``all_null``: no value at all; ``constant``: one value;
* ``identifier``: a different value on every row (an id, a key, a row number);
* ``too_many_levels``: a text column with so many distinct values it cannot generalise;
* ``leak``: a column that gives the target away (alone, or flags that together rebuild
  it), which would score well in validation and fail in use;
* ``user``: left out by the person training; ``date``: the forecast's time index.

It is cheap (a few vectorised passes, no model), so the server runs it in the request
to refuse a bad training before any job starts, and the UI shows it before training.

>>> import pandas as pd
>>> frame = pd.DataFrame({
...     "id": range(100), "temp": [float(i % 7) for i in range(100)],
...     "kind": ["a", "b"] * 50, "same": [1] * 100, "failed": [i % 5 == 0 for i in range(100)]})
>>> p = plan(frame, "failed", TrainOptions(application="failure"))
>>> p.task, p.features, [(e["column"], e["code"]) for e in p.excluded]
('binary', ['temp', 'kind'], [('id', 'identifier'), ('same', 'constant')])
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .applications import APPLICATIONS
from .errors import ModelError

MIN_ROWS = 10
MAX_COLUMNS = 10_000
MAX_CLASSES = 200
_ID_NAME = re.compile(
    r"(^|[_\s.-])(id|uuid|guid|key|code|udi|index|idx)$|^(id|uuid|udi)[_\s.-]", re.I
)


@dataclass
class TrainOptions:
    """What the person training asks for; everything has a sensible default."""

    application: str | None = None
    """forecast, failure, classification or regression; None: detected from the target."""
    features: list[str] | None = None
    exclude: list[str] = field(default_factory=list)
    date_column: str | None = None
    series_columns: list[str] = field(default_factory=list)
    time_budget_s: float = 120.0
    cost_missed: float | None = None
    """Failure prediction: the cost of a missed failure (a false negative)."""
    cost_false_alarm: float | None = None
    horizon: int = 12
    seed: int = 0
    folds: int = 5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainOptions:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Plan:
    application: str
    task: str
    target: str
    features: list[str]
    excluded: list[dict[str, str]]
    date_column: str | None
    series_columns: list[str]
    classes: list[str] | None
    rows: int
    kinds: dict[str, str]
    """Feature -> numeric, categorical, boolean or datetime."""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan(frame: pd.DataFrame, target: str, options: TrainOptions | None = None) -> Plan:
    """The task, features and excluded columns for training ``target`` on ``frame``."""
    options = options or TrainOptions()
    _check_options(frame, target, options)
    notes: list[str] = []
    y = frame[target]
    known = y.notna() & ~(_is_blank(y))
    if not known.any():
        raise ModelError(
            "TARGET_EMPTY", f"The target {target!r} has no values.", {"target": target}
        )
    if not known.all():
        notes.append(
            f"{int((~known).sum()):,} rows without a target value are left out of training."
        )
    rows = int(known.sum())
    if rows < MIN_ROWS:
        raise ModelError(
            "TOO_FEW_ROWS",
            f"Training needs at least {MIN_ROWS} rows with a target value; this table has {rows}.",
            {"rows": rows, "minimum": MIN_ROWS},
        )
    y = y[known]
    application, task = _task(y, target, options)
    classes = None
    if task in ("binary", "multiclass"):
        classes = class_names(y)
        if len(classes) < 2:
            raise ModelError(
                "TARGET_ONE_CLASS",
                f"The target {target!r} has one value ({classes[0]!r}): there is nothing to "
                "tell apart. Train on a table where it takes at least two values.",
                {"target": target, "classes": classes},
            )
        if application == "failure" and len(classes) == 2 and not _coded(y):
            # words ("failed"/"ok") say nothing about which is the failure: the rarer is
            labels = labels_of(y)
            if (labels == classes[1]).sum() > (labels == classes[0]).sum():
                classes = [classes[1], classes[0]]
            notes.append(f"{classes[1]!r}, the rarer value of {target!r}, is the failure.")
        if task == "binary" and len(classes) > 2:
            raise ModelError(
                "BAD_OPTIONS",
                f"Failure prediction needs a target with two values; {target!r} has "
                f"{len(classes)}. Use the classification application.",
                {"classes": classes[:20]},
            )
        if len(classes) > MAX_CLASSES:
            raise ModelError(
                "BAD_OPTIONS",
                f"The target {target!r} has {len(classes):,} distinct values; classification "
                f"handles up to {MAX_CLASSES}. Is it numeric (use regression) or an identifier?",
                {"classes": len(classes)},
            )
    sub = frame.loc[known]
    date_column = options.date_column or (detect_date(sub, target) if task != "forecast" else None)
    if task == "forecast":
        date_column = options.date_column or detect_date(sub, target)
        if date_column is None:
            raise ModelError(
                "BAD_DATE",
                "A forecast needs a date column; none was found. Name it with date_column.",
            )
    candidates = options.features if options.features is not None else list(frame.columns)
    excluded: list[dict[str, str]] = []
    features: list[str] = []
    kinds: dict[str, str] = {}
    leak_checks: list[str] = []
    for col in candidates:
        if col == target:
            continue
        if col in options.exclude:
            excluded.append(_why(col, "user", "Left out by you."))
            continue
        if task == "forecast":
            if col == date_column:
                excluded.append(_why(col, "date", "The forecast's time index."))
            elif col not in options.series_columns:
                excluded.append(
                    _why(col, "user", "A forecast reads only the date, target and series columns.")
                )
            continue
        kind, reason = _column_kind(sub[col], col)
        if reason is not None:
            excluded.append(reason)
            continue
        kinds[col] = kind
        features.append(col)
        leak_checks.append(col)
    if task != "forecast":
        positive = classes[-1] if task == "binary" and classes else None
        for col, why in _leaks(sub, y, task, positive, leak_checks, kinds).items():
            if options.features is not None:  # named by the person training: kept, flagged
                notes.append(f"{col} may leak the target: {why}")
                continue
            features.remove(col)
            kinds.pop(col)
            excluded.append(_why(col, "leak", why))
        if not features:
            raise ModelError(
                "NO_FEATURES",
                "No column is left to learn from: "
                + "; ".join(f"{e['column']} ({e['code']})" for e in excluded[:10]),
                {"excluded": excluded[:50]},
            )
    return Plan(
        application=application,
        task=task,
        target=target,
        features=features,
        excluded=excluded,
        date_column=date_column,
        series_columns=list(options.series_columns),
        classes=classes,
        rows=rows,
        kinds=kinds,
        warnings=notes,
    )


def class_names(y: pd.Series) -> list[str]:
    """The target's classes as strings, sorted (numbers numerically)."""
    values = y.dropna().unique()
    if pd.api.types.is_bool_dtype(y):
        return [str(v) for v in sorted(values)]
    if pd.api.types.is_numeric_dtype(y):
        return [_number_name(v) for v in sorted(values)]
    return sorted(str(v) for v in values)


def labels_of(y: pd.Series) -> pd.Series:
    """The target as class-name strings (the same names :func:`class_names` gives)."""
    if pd.api.types.is_bool_dtype(y):
        return y.map(str)
    if pd.api.types.is_numeric_dtype(y):
        return y.map(_number_name)
    return y.map(str)


def _number_name(v: Any) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() else repr(f)


def detect_date(frame: pd.DataFrame, target: str) -> str | None:
    """The first column that holds dates (a datetime type, or text that parses as dates
    on 95 % of its values)."""
    for col in frame.columns:
        if col == target:
            continue
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            return str(col)
        if s.dtype == object and _looks_like_dates(s):
            return str(col)
    return None


def parse_dates(s: pd.Series) -> pd.Series:
    """A column of dates in any mix of common formats, as naive UTC timestamps (NaT where
    unreadable)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = pd.to_datetime(s.astype("string"), errors="coerce", format="mixed", utc=True)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _looks_like_dates(s: pd.Series) -> bool:
    sample = s.dropna().astype(str).head(500)
    if sample.empty or not sample.str.contains(r"\d", regex=True).all():
        return False
    if sample.str.fullmatch(r"-?\d+(\.\d+)?").mean() > 0.5:  # plain numbers are not dates
        return False
    parsed = parse_dates(sample)
    return bool(parsed.notna().mean() >= 0.95)


def _check_options(frame: pd.DataFrame, target: str, options: TrainOptions) -> None:
    if options.application is not None and options.application not in APPLICATIONS:
        raise ModelError(
            "BAD_OPTIONS",
            f"No application {options.application!r}; choose one of {', '.join(APPLICATIONS)}.",
        )
    if frame.shape[1] > MAX_COLUMNS:
        raise ModelError(
            "TOO_MANY_COLUMNS",
            f"The table has {frame.shape[1]:,} columns; training reads up to {MAX_COLUMNS:,}.",
        )
    named = [target, *(options.features or []), *options.exclude, *options.series_columns]
    if options.date_column:
        named.append(options.date_column)
    missing = [c for c in dict.fromkeys(named) if c not in frame.columns]
    if missing:
        raise ModelError(
            "UNKNOWN_COLUMN",
            f"No column {', '.join(map(repr, missing))} in the table.",
            {"missing": missing, "columns": [str(c) for c in frame.columns[:200]]},
        )
    if not 1 <= options.horizon <= 10_000:
        raise ModelError("BAD_OPTIONS", "The horizon must be between 1 and 10,000 steps.")
    for name in ("cost_missed", "cost_false_alarm"):
        value = getattr(options, name)
        if value is not None and not (np.isfinite(value) and value > 0):
            raise ModelError("BAD_OPTIONS", f"{name} must be a positive number.")


def _task(y: pd.Series, target: str, options: TrainOptions) -> tuple[str, str]:
    app = options.application
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if app in ("forecast", "regression") and not numeric:
        raise ModelError(
            "TARGET_NOT_NUMERIC",
            f"{APPLICATIONS[app]['title']} needs a numeric target; {target!r} holds text.",
            {"target": target},
        )
    if app == "forecast":
        return app, "forecast"
    if app == "regression":
        return app, "regression"
    if app == "failure":
        return app, "binary"
    distinct = y.nunique()
    if app is None and numeric:
        integral = bool(np.all(np.mod(y.to_numpy(dtype=float), 1) == 0))
        if distinct > 20 or not integral:
            return "regression", "regression"
    task = "binary" if distinct <= 2 else "multiclass"
    return app or "classification", task


def _why(col: Any, code: str, reason: str) -> dict[str, str]:
    return {"column": str(col), "code": code, "reason": reason}


def _is_blank(s: pd.Series) -> pd.Series:
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        return s.astype("string").str.strip().fillna("") == ""
    return pd.Series(False, index=s.index)


def _column_kind(s: pd.Series, col: Any) -> tuple[str, dict[str, str] | None]:
    n = len(s)
    present = s.notna() & ~_is_blank(s)
    if not present.any():
        return "", _why(col, "all_null", "The column is empty.")
    values = s[present]
    distinct = values.nunique()
    if distinct <= 1:
        return "", _why(col, "constant", f"Every row holds the same value ({values.iloc[0]!r}).")
    if pd.api.types.is_bool_dtype(s):
        return "boolean", None
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime", None
    if pd.api.types.is_numeric_dtype(s):
        integral = pd.api.types.is_integer_dtype(s) or bool(
            np.all(np.mod(values.to_numpy(dtype=float), 1) == 0)
        )
        if integral and distinct == len(values) and len(values) >= 20:
            ordered = values.is_monotonic_increasing or values.is_monotonic_decreasing
            if ordered or _ID_NAME.search(str(col)):
                return "", _why(
                    col, "identifier", "A different whole number on every row: a row id or key."
                )
        return "numeric", None
    text = values.astype(str)
    if _looks_like_dates(text):
        return "datetime", None
    if distinct >= 0.95 * len(values) and len(values) >= 20:
        return "", _why(col, "identifier", "A different value on nearly every row: an id or key.")
    if distinct > max(1000, n // 2):
        return "", _why(
            col,
            "too_many_levels",
            f"{distinct:,} distinct values in {n:,} rows: too many to learn from.",
        )
    return "categorical", None


def _coded(y: pd.Series) -> bool:
    """A yes/no target written as booleans or 0/1, whose true or 1 is the positive."""
    return pd.api.types.is_bool_dtype(y) or pd.api.types.is_numeric_dtype(y)


def _leaks(
    frame: pd.DataFrame,
    y: pd.Series,
    task: str,
    positive_class: str | None,
    columns: list[str],
    kinds: dict[str, str],
) -> dict[str, str]:
    """Columns that give the target away: alone (a near-perfect single-column score)
    or, for a binary target, flags whose union rebuilds it."""
    found: dict[str, str] = {}
    if task == "regression":
        target = y.to_numpy(dtype=float)
        for col in columns:
            if kinds[col] != "numeric":
                continue
            x = frame[col].to_numpy(dtype=float)
            ok = np.isfinite(x) & np.isfinite(target)
            if ok.sum() < 10 or np.std(x[ok]) == 0:
                continue
            r = abs(np.corrcoef(x[ok], target[ok])[0, 1])
            if r >= 0.995 and ok.mean() > 0.9:
                found[col] = f"It alone explains the target (correlation {r:.3f})."
        return found
    labels = labels_of(y)
    positive = labels == positive_class if positive_class is not None else None
    flags: dict[str, pd.Series] = {}
    for col in columns:
        s = frame[col]
        if kinds[col] in ("numeric", "boolean") and positive is not None:
            x = s.to_numpy(dtype=float)
            ok = np.isfinite(x)
            if ok.sum() >= 10 and len(np.unique(x[ok])) > 1:
                auc = _auc(x[ok], positive.to_numpy()[ok])
                if max(auc, 1 - auc) >= 0.995 and ok.mean() > 0.9:
                    found[col] = f"It alone predicts the target (ROC AUC {max(auc, 1 - auc):.3f})."
                    continue
            values = np.unique(x[ok])
            if len(values) == 2:
                flags[col] = pd.Series(x == values[1], index=s.index)
        if kinds[col] in ("categorical", "boolean") and s.nunique() <= max(20, len(s) // 50):
            joint = pd.crosstab(s.astype(str), labels)
            pure = (joint.max(axis=1) / joint.sum(axis=1)).to_numpy()
            weights = joint.sum(axis=1).to_numpy()
            purity = float(np.sum(pure * weights) / max(1, weights.sum()))
            if purity >= 0.995 and joint.shape[0] < len(s) / 5 and s.notna().mean() > 0.9:
                found[col] = f"Its value decides the target on {purity:.1%} of rows."
    if positive is not None and flags:
        found.update(_flag_leaks(flags, positive))
    return found


def _flag_leaks(flags: dict[str, pd.Series], positive: pd.Series) -> dict[str, str]:
    """0/1 columns that each mark only positives and together mark nearly all of them:
    sub-types of the target (failure modes of a failure flag), known only afterwards."""
    pos = positive.to_numpy()
    n_pos = int(pos.sum())
    if n_pos == 0 or n_pos == len(pos):
        return {}
    pure = {}
    for col, f in flags.items():
        on = f.to_numpy()
        if on.sum() >= 3 and pos[on].mean() >= 0.95 and on.mean() < 0.5:
            pure[col] = on
    if not pure:
        return {}
    union = np.zeros(len(pos), dtype=bool)
    for on in pure.values():
        union |= on
    covered = pos[union].sum() / n_pos
    if covered < 0.9:
        return {}
    names = ", ".join(pure)
    why = (
        f"With {names} it marks {covered:.0%} of the positive rows and almost nothing else: "
        "these flags restate the target."
        if len(pure) > 1
        else f"It marks {covered:.0%} of the positive rows and almost nothing else."
    )
    return dict.fromkeys(pure, why)


def _auc(x: np.ndarray, positive: np.ndarray) -> float:
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return 0.5
    ranks = pd.Series(x).rank().to_numpy()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
