"""The Forecast application on a table: one series per value of the series-id columns,
forecast by augury's forecasting engine (:func:`augury.engines.forecast.auto_forecast`,
the one the metrics forecasts and ``augury forecast`` run).

Training reads each series onto its regular time grid (the median step between its
dates; repeated dates averaged, gaps left missing for the engine to fill), validates by
holding out each series' last ``horizon`` points, and saves the histories (the last
:data:`MAX_HISTORY` points of each) with the step. Predicting forecasts ``horizon`` steps
after each series' last date: from the rows given when they hold the date and the
target (the newest data), else from the saved histories.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...artifact import Artifact
from ...forecast import auto_forecast, mase, smape
from .errors import ModelError
from .planning import Plan, TrainOptions, parse_dates

MAX_SERIES = 1000
MAX_HISTORY = 5000
_FREQS = {
    60: "min",
    300: "5min",
    600: "10min",
    900: "15min",
    1800: "30min",
    3600: "h",
    86400: "d",
    604800: "w",
}


@dataclass
class ForecastModel:
    task = "forecast"
    target: str
    date_column: str
    series_columns: list[str]
    horizon: int
    step_s: float
    keys: list[list[str]]
    histories: list[np.ndarray]
    last: list[float]
    info: dict[str, Any]

    classes = None
    threshold = None

    @property
    def features(self) -> list[str]:
        return [self.date_column, *self.series_columns]

    def summary(self) -> dict[str, Any]:
        return dict(self.info)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        histories = self._histories(frame)
        out = []
        freq = _FREQS.get(int(round(self.step_s)))
        for key, (y, last) in histories.items():
            res = auto_forecast(y, self.horizon, levels=(80,), freq=freq)
            dates = pd.to_datetime(last + self.step_s * np.arange(1, self.horizon + 1), unit="s")
            part = pd.DataFrame(
                {c: [v] * self.horizon for c, v in zip(self.series_columns, key, strict=True)}
            )
            part[self.date_column] = dates
            part["prediction"] = res.mean
            part["lower"] = res.lower[80.0]
            part["upper"] = res.upper[80.0]
            out.append(part)
        if not out:
            raise ModelError("NO_SERIES", "No series to forecast.")
        return pd.concat(out, ignore_index=True)

    def explain(self, frame: pd.DataFrame) -> Any:
        raise ModelError(
            "NOT_SUPPORTED",
            "A forecast has no per-column explanation; its report names the method chosen "
            "for each series.",
        )

    def _histories(self, frame: pd.DataFrame) -> dict[tuple, tuple[np.ndarray, float]]:
        saved = {
            tuple(k): (h, last)
            for k, h, last in zip(self.keys, self.histories, self.last, strict=True)
        }
        if self.date_column in frame.columns and self.target in frame.columns:
            missing = [c for c in self.series_columns if c not in frame.columns]
            if missing:
                raise ModelError(
                    "MISSING_COLUMNS", f"The rows lack {', '.join(missing)}.", {"missing": missing}
                )
            fresh = {
                k: (y, last)
                for k, y, last, _ in _series(
                    frame, self.target, self.date_column, self.series_columns, self.step_s
                )
            }
            return fresh or saved
        if self.series_columns and all(c in frame.columns for c in self.series_columns):
            wanted = {
                tuple(str(v) for v in row)
                for row in frame[self.series_columns].astype(str).itertuples(index=False)
            }
            return {k: v for k, v in saved.items() if k in wanted} or saved
        return saved

    def save(self, folder: Any) -> str:
        from .model import FORMAT

        arrays = {f"h{i}": h.astype(np.float64) for i, h in enumerate(self.histories)}
        meta = {
            "target": self.target,
            "date_column": self.date_column,
            "series_columns": self.series_columns,
            "horizon": self.horizon,
            "step_s": self.step_s,
            "keys": self.keys,
            "last": self.last,
            "info": self.info,
        }
        return FORMAT.save(folder, "forecast", meta, arrays, {})

    @classmethod
    def from_artifact(cls, art: Artifact) -> ForecastModel:
        m = art.meta
        try:
            model = cls(
                target=m["target"],
                date_column=m["date_column"],
                series_columns=list(m["series_columns"]),
                horizon=int(m["horizon"]),
                step_s=float(m["step_s"]),
                keys=[list(k) for k in m["keys"]],
                histories=[art.arrays[f"h{i}"] for i in range(len(m["keys"]))],
                last=[float(v) for v in m["last"]],
                info=m["info"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError("MODEL_FORMAT", f"The forecast file is incomplete: {exc}") from exc
        model.info["content_hash"] = art.content_hash
        return model


def train_forecast(
    frame: pd.DataFrame,
    p: Plan,
    options: TrainOptions,
    tell: Callable[[float, str], None],
    stop: Callable[[], bool],
    started: float,
) -> ForecastModel:
    assert p.date_column is not None
    dates = parse_dates(frame[p.date_column])
    if dates.notna().mean() < 0.95:
        raise ModelError("BAD_DATE", f"{p.date_column!r} does not read as dates on most rows.")
    step = _step(frame.assign(**{p.date_column: dates}), p.date_column, p.series_columns)
    series = _series(frame, p.target, p.date_column, p.series_columns, step)
    if len(series) > MAX_SERIES:
        raise ModelError(
            "BAD_OPTIONS",
            f"{len(series):,} series; a forecast model holds up to "
            f"{MAX_SERIES:,}. Choose fewer series columns.",
        )
    h = options.horizon
    freq = _FREQS.get(int(round(step)))
    folds = []
    for i, (key, y, _last, _n) in enumerate(series):
        if stop():
            raise ModelError("ABORTED", "Training was aborted.")
        if np.isfinite(y).sum() > 2 * h:
            res = auto_forecast(y[:-h], h, levels=(80,), freq=freq)
            actual = y[-h:]
            ok = np.isfinite(actual)
            if ok.any():
                insample = y[:-h][np.isfinite(y[:-h])]
                m = res.periods[0] if res.periods else 1
                folds.append(
                    {
                        "series": " / ".join(key) or "(all rows)",
                        "smape": float(smape(actual[ok], res.mean[ok])),
                        "mase": float(mase(actual[ok], res.mean[ok], insample, m)),
                        "coverage_80": float(
                            np.mean(
                                (actual[ok] >= res.lower[80.0][ok])
                                & (actual[ok] <= res.upper[80.0][ok])
                            )
                        ),
                        "model": res.model,
                    }
                )
        tell(5.0 + 90.0 * (i + 1) / len(series), f"{i + 1} of {len(series)} series validated")
    keys = sorted({k for f in folds for k in f if k not in ("series", "model")})
    mean = {k: float(np.nanmean([float(f[k]) for f in folds])) for k in keys}  # type: ignore[arg-type]
    std = {k: float(np.nanstd([float(f[k]) for f in folds])) for k in keys}  # type: ignore[arg-type]
    info = {
        "application": "forecast",
        "task": "forecast",
        "target": p.target,
        "classes": None,
        "features": [p.date_column, *p.series_columns],
        "kinds": {},
        "excluded": p.excluded,
        "date_column": p.date_column,
        "series_columns": p.series_columns,
        "metrics": {
            "validation": f"each series' last {h} points held out",
            "primary": "smape",
            "folds": folds[:200],
            "mean": mean,
            "std": std,
            "selection": "smape",
        },
        "threshold": None,
        "confusion": None,
        "importance": [],
        "candidates": [],
        "params": {"horizon": h, "step_seconds": step, "frequency": freq},
        "training_seconds": round(time.monotonic() - started, 3),
        "rows": p.rows,
        "warnings": p.warnings,
        "residuals": None,
        "series": len(series),
        "options": options.to_dict(),
    }
    return ForecastModel(
        target=p.target,
        date_column=p.date_column,
        series_columns=list(p.series_columns),
        horizon=h,
        step_s=step,
        keys=[list(k) for k, *_ in series],
        histories=[y[-MAX_HISTORY:] for _, y, _, _ in series],
        last=[last for _, _, last, _ in series],
        info=info,
    )


def _step(frame: pd.DataFrame, date_column: str, series_columns: list[str]) -> float:
    diffs = []
    groups = frame.groupby(series_columns, dropna=False) if series_columns else [((), frame)]
    for _, part in groups:
        t = np.sort(part[date_column].dropna().unique().astype("datetime64[s]").astype(np.int64))
        if len(t) > 1:
            diffs.append(np.diff(t))
    if not diffs:
        raise ModelError("TOO_FEW_ROWS", "Each series needs at least two dates.")
    step = float(np.median(np.concatenate(diffs)))
    if step <= 0:
        raise ModelError("BAD_DATE", "The dates do not advance.")
    return step


def _series(
    frame: pd.DataFrame, target: str, date_column: str, series_columns: list[str], step: float
) -> list[tuple[tuple, np.ndarray, float, int]]:
    """(key, values on the grid, last time in seconds, rows) for each series."""
    data = pd.DataFrame(
        {
            "t": parse_dates(frame[date_column]),
            "y": pd.to_numeric(frame[target], errors="coerce"),
        }
    )
    for c in series_columns:
        data[c] = frame[c].astype("string").fillna("")
    data = data.dropna(subset=["t"])
    out = []
    groups = data.groupby(series_columns, sort=True) if series_columns else [((), data)]
    for key, part in groups:
        key = (
            tuple(str(k) for k in (key if isinstance(key, tuple) else (key,)))
            if series_columns
            else ()
        )
        secs = part["t"].to_numpy(dtype="datetime64[s]").astype(np.int64).astype(float)
        start = secs.min()
        slot = np.round((secs - start) / step).astype(int)
        size = int(slot.max()) + 1
        if size > 10 * MAX_HISTORY:
            slot = slot - (size - 10 * MAX_HISTORY)
            keep = slot >= 0
            slot, part = slot[keep], part[keep]
            start += (size - 10 * MAX_HISTORY) * step
            size = 10 * MAX_HISTORY
        sums = np.bincount(slot, weights=part["y"].fillna(0).to_numpy(), minlength=size)
        counts = np.bincount(slot, weights=part["y"].notna().to_numpy(float), minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        out.append((key, y, float(start + (size - 1) * step), len(part)))
    return out
