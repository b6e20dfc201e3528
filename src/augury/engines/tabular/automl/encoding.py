"""Turning a table's feature columns into the matrices the learners read.

One :class:`Encoder` is fitted on the training rows and saved with the model (as
JSON-able state), so prediction encodes new rows exactly as training did:

* numbers stay numbers (missing stays NaN: LightGBM learns where missing values go);
* yes/no columns become 0/1;
* dates become their parts (year, month, day of week, day of year, hour when times
  vary) and a running day count, each a numeric column named ``<column>.<part>``;
* text categories become integer codes over their most frequent levels (up to
  :data:`MAX_LEVELS`; rarer and unseen levels read as missing), which LightGBM splits on
  natively.

Every encoded column remembers the table column it came from (``sources``), so an
explanation adds the parts of a date back into one contribution per column.

The linear learner reads :meth:`Encoder.linear`: the same columns imputed, signed-log
compressed when heavily skewed, standardised, with a missing-value indicator where
training saw missing values, and categories one-hot over their levels.

>>> import pandas as pd
>>> frame = pd.DataFrame({"n": [1.0, None, 3.0], "c": ["x", "y", "x"], "b": [True, False, True]})
>>> enc = Encoder.fit(frame, {"n": "numeric", "c": "categorical", "b": "boolean"})
>>> enc.names, enc.transform(frame).tolist()
(['n', 'c', 'b'], [[1.0, 0.0, 1.0], [nan, 1.0, 0.0], [3.0, 0.0, 1.0]])
>>> enc.categorical
[1]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import ModelError
from .planning import parse_dates

MAX_LEVELS = 250
_DATE_PARTS = ("year", "month", "dayofweek", "dayofyear", "hour", "days")


@dataclass
class Encoder:
    columns: list[str]
    kinds: dict[str, str]
    names: list[str]
    sources: list[str]
    levels: dict[str, list[str]] = field(default_factory=dict)
    date_parts: dict[str, list[str]] = field(default_factory=dict)
    linear_state: dict[str, Any] = field(default_factory=dict)

    @property
    def categorical(self) -> list[int]:
        return [
            i
            for i, (name, src) in enumerate(zip(self.names, self.sources, strict=True))
            if name == src and self.kinds[src] == "categorical"
        ]

    @classmethod
    def fit(cls, frame: pd.DataFrame, kinds: dict[str, str]) -> Encoder:
        columns = list(kinds)
        names: list[str] = []
        sources: list[str] = []
        levels: dict[str, list[str]] = {}
        date_parts: dict[str, list[str]] = {}
        for col in columns:
            kind = kinds[col]
            if kind == "categorical":
                counts = _text(frame[col]).value_counts()
                levels[col] = [str(v) for v in counts.index[:MAX_LEVELS]]
            if kind == "datetime":
                dates = parse_dates(frame[col])
                parts = ["year", "month", "dayofweek", "dayofyear", "days"]
                if dates.notna().any() and (dates.dt.hour.fillna(0) != 0).any():
                    parts.insert(4, "hour")
                date_parts[col] = parts
                names += [f"{col}.{p}" for p in parts]
                sources += [col] * len(parts)
                continue
            names.append(col)
            sources.append(col)
        enc = cls(columns, dict(kinds), names, sources, levels, date_parts)
        enc.linear_state = enc._fit_linear(enc.transform(frame))
        return enc

    def check(self, frame: pd.DataFrame) -> None:
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise ModelError(
                "MISSING_COLUMNS",
                f"The rows lack the model's feature column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing[:20]))}.",
                {"missing": missing},
            )

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The tree learners' matrix: float64, NaN for missing, categories as codes."""
        self.check(frame)
        out = np.empty((len(frame), len(self.names)), dtype=np.float64)
        j = 0
        for col in self.columns:
            kind = self.kinds[col]
            s = frame[col]
            if kind == "datetime":
                dates = parse_dates(s)
                for part in self.date_parts[col]:
                    out[:, j] = _date_part(dates, part)
                    j += 1
                continue
            if kind == "categorical":
                index = {v: i for i, v in enumerate(self.levels[col])}
                out[:, j] = _text(s).map(index).to_numpy(dtype=np.float64, na_value=np.nan)
            elif kind == "boolean":
                out[:, j] = _boolean(s)
            else:
                out[:, j] = pd.to_numeric(s, errors="coerce").to_numpy(
                    dtype=np.float64, na_value=np.nan
                )
            j += 1
        out[~np.isfinite(out)] = np.nan
        return out

    def _fit_linear(self, X: np.ndarray) -> dict[str, Any]:
        cat = set(self.categorical)
        center, scale, log, indicator = [], [], [], []
        onehot: dict[str, int] = {}
        for j in range(X.shape[1]):
            x = X[:, j]
            ok = np.isfinite(x)
            if j in cat:
                codes = x[ok].astype(int)
                counts = np.bincount(codes, minlength=len(self.levels[self.sources[j]]))
                onehot[str(j)] = min(len(counts), max(1, int(np.sum(counts >= 3))), 60)
                center.append(0.0)
                scale.append(1.0)
                log.append(False)
                indicator.append(False)
                continue
            v = x[ok]
            skewed = bool(v.size > 10 and v.std() > 0 and abs(_skew(v)) > 2.0)
            if skewed:
                v = np.sign(v) * np.log1p(np.abs(v))
            med = float(np.median(v)) if v.size else 0.0
            sd = float(v.std()) if v.size else 1.0
            center.append(med)
            scale.append(sd if sd > 1e-12 else 1.0)
            log.append(skewed)
            indicator.append(bool((~ok).any()))
        return {
            "center": center,
            "scale": scale,
            "log": log,
            "indicator": indicator,
            "onehot": onehot,
        }

    def linear(self, X: np.ndarray) -> np.ndarray:
        """The linear learner's matrix from :meth:`transform`'s."""
        st = self.linear_state
        blocks = []
        for j in range(X.shape[1]):
            x = X[:, j]
            ok = np.isfinite(x)
            if str(j) in st["onehot"]:
                k = st["onehot"][str(j)]
                codes = np.where(ok, x, -1).astype(int)
                block = (codes[:, None] == np.arange(k)[None, :]).astype(np.float64)
                blocks.append(block)
                continue
            v = np.where(ok, x, np.nan)
            if st["log"][j]:
                v = np.sign(v) * np.log1p(np.abs(v))
            z = (v - st["center"][j]) / st["scale"][j]
            z = np.clip(np.nan_to_num(z, nan=0.0), -6, 6)
            blocks.append(z[:, None])
            if st["indicator"][j]:
                blocks.append((~ok).astype(np.float64)[:, None])
        return np.hstack(blocks) if blocks else np.zeros((X.shape[0], 0))

    def linear_sources(self) -> list[int]:
        """For each column of :meth:`linear`, the index of its :meth:`transform` column."""
        st = self.linear_state
        owners: list[int] = []
        for j in range(len(self.names)):
            if str(j) in st["onehot"]:
                owners += [j] * st["onehot"][str(j)]
                continue
            owners.append(j)
            if st["indicator"][j]:
                owners.append(j)
        return owners

    def state(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "kinds": self.kinds,
            "names": self.names,
            "sources": self.sources,
            "levels": self.levels,
            "date_parts": self.date_parts,
            "linear_state": self.linear_state,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Encoder:
        return cls(**state)


def _text(s: pd.Series) -> pd.Series:
    out = s.astype("string").str.strip()
    return out.mask(out == "")


def _boolean(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    text = _text(s).str.lower()
    mapped = text.map(
        {
            "true": 1.0,
            "yes": 1.0,
            "1": 1.0,
            "y": 1.0,
            "t": 1.0,
            "false": 0.0,
            "no": 0.0,
            "0": 0.0,
            "n": 0.0,
            "f": 0.0,
        }
    )
    return mapped.to_numpy(dtype=np.float64, na_value=np.nan)


def _date_part(dates: pd.Series, part: str) -> np.ndarray:
    if part == "days":
        values = (dates - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86400.0
    else:
        values = getattr(dates.dt, part)
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _skew(v: np.ndarray) -> float:
    sd = v.std()
    return float(np.mean(((v - v.mean()) / sd) ** 3)) if sd > 0 else 0.0
