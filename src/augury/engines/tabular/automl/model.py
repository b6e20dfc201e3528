"""A trained tabular model: predict, explain, summarise, save and load.

A :class:`TabularModel` is an encoder, one or more weighted members (trees, linear) whose
margins add up, a calibration of the summed margin (Platt scaling for two classes, a
temperature for more), the decision threshold of a binary model, and the out-of-fold
residual quantiles that make a regression's 80 % interval. Everything it holds is data,
saved through :data:`FORMAT` (JSON, NumPy arrays, LightGBM's text): loading never runs
code from the file, and the content hash is checked first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...artifact import ArtifactFormat
from .encoding import Encoder
from .errors import ModelError
from .learners import Linear, Trees

FORMAT = ArtifactFormat("augury-tabular-model", 1, ModelError, "tabular")
KIND = "tabular"


@dataclass
class Member:
    learner: Trees | Linear
    weight: float


@dataclass
class Explanation:
    """Additive contributions of each feature column to each row's raw output:
    ``bases[i] + contributions[i].sum() == raw[i]`` (log-odds of ``classes[i]`` for a
    classifier, the prediction in target units for a regression)."""

    features: list[str]
    base: float
    contributions: np.ndarray
    output: str
    bases: np.ndarray
    raw: np.ndarray
    classes: list[str | None] = field(default_factory=list)


@dataclass
class TabularModel:
    task: str
    target: str
    classes: list[str] | None
    encoder: Encoder
    members: list[Member]
    calibration: dict[str, float]
    threshold: float | None
    interval: tuple[float, float] | None
    info: dict[str, Any]
    """The summary: application, plan, metrics, importance, candidates, timings."""
    linear_means: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def features(self) -> list[str]:
        return list(self.encoder.columns)

    @property
    def n_classes(self) -> int:
        return len(self.classes or [])

    # ---- predicting -------------------------------------------------------------
    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        X = self.encoder.transform(frame)
        return self._margin(X)

    def _margin(self, X: np.ndarray) -> np.ndarray:
        Z = (
            self.encoder.linear(X)
            if any(isinstance(m.learner, Linear) for m in self.members)
            else None
        )
        total: np.ndarray | float = 0.0
        for m in self.members:
            if isinstance(m.learner, Linear):
                assert Z is not None
                part = m.learner.margin(Z)
            else:
                part = m.learner.margin(X)
            total = total + m.weight * part
        return self._calibrated(np.asarray(total, dtype=np.float64))

    def _calibrated(self, m: np.ndarray) -> np.ndarray:
        if self.task == "binary":
            return self.calibration["a"] * m + self.calibration["b"]
        if self.task == "multiclass":
            return m / self.calibration["t"]
        return m

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        return probabilities(self.task, self.margin(frame))

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One row out per row in: ``prediction`` and ``probability_<class>`` per class
        (classifiers) or ``lower``/``upper`` (regression, 80 % interval)."""
        m = self.margin(frame)
        out = pd.DataFrame(index=frame.index)
        if self.task == "regression":
            out["prediction"] = m
            assert self.interval is not None
            out["lower"] = m + self.interval[0]
            out["upper"] = m + self.interval[1]
            return out.reset_index(drop=True)
        p = probabilities(self.task, m)
        classes = self.classes or []
        if self.task == "binary":
            assert self.threshold is not None
            chosen = (p[:, 1] >= self.threshold).astype(int)
        else:
            chosen = p.argmax(axis=1)
        out["prediction"] = np.asarray(classes, dtype=object)[chosen]
        for k, name in enumerate(classes):
            out[f"probability_{name}"] = p[:, k]
        return out.reset_index(drop=True)

    # ---- explaining -------------------------------------------------------------
    def explain(self, frame: pd.DataFrame) -> Explanation:
        X = self.encoder.transform(frame)
        width = X.shape[1]
        k = self.n_classes if self.task == "multiclass" else 1
        total = np.zeros((len(X), k, width + 1)) if k > 1 else np.zeros((len(X), width + 1))
        Z = None
        for m in self.members:
            if isinstance(m.learner, Trees):
                part = m.learner.contributions(X, self.n_classes)
            else:
                Z = self.encoder.linear(X) if Z is None else Z
                part = m.learner.contributions(
                    Z, self.linear_means, self.encoder.linear_sources(), width
                )
            total = total + m.weight * part
        if self.task == "binary":
            total = total * self.calibration["a"]
            total[:, -1] += self.calibration["b"]
        elif self.task == "multiclass":
            total = total / self.calibration["t"]
        if k > 1:
            chosen = total.sum(axis=2).argmax(axis=1)
            total = total[np.arange(len(X)), chosen, :]
            names: list[str | None] = [(self.classes or [])[c] for c in chosen]
            output = "log-odds of the predicted class (softmax score)"
        else:
            positive = self.classes[-1] if self.classes else None
            names = [positive] * len(X) if self.task == "binary" else []
            output = (
                f"log-odds of {(self.classes or [''])[-1]!r}"
                if self.task == "binary"
                else f"{self.target} units"
            )
        sources = self.encoder.sources
        columns = self.encoder.columns
        per_column = np.zeros((len(X), len(columns)))
        index = {c: i for i, c in enumerate(columns)}
        for j, src in enumerate(sources):
            per_column[:, index[src]] += total[:, j]
        bases = total[:, -1]
        return Explanation(
            features=columns,
            base=float(np.mean(bases)) if len(bases) else 0.0,
            contributions=per_column,
            output=output,
            bases=bases,
            raw=bases + per_column.sum(axis=1),
            classes=names,
        )

    # ---- describing -------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        return dict(self.info)

    # ---- files ------------------------------------------------------------------
    def save(self, folder: Path | str) -> str:
        arrays: dict[str, np.ndarray] = {"linear_means": self.linear_means}
        strings: dict[str, list[str]] = {}
        members = []
        for i, m in enumerate(self.members):
            meta, arr, text = m.learner.state()
            members.append({"type": m.learner.name, "weight": m.weight, "meta": meta})
            arrays |= {f"m{i}.{k}": v for k, v in arr.items()}
            if text:
                strings[f"m{i}.text"] = text
        meta = {
            "task": self.task,
            "target": self.target,
            "classes": self.classes,
            "encoder": self.encoder.state(),
            "members": members,
            "calibration": self.calibration,
            "threshold": self.threshold,
            "interval": list(self.interval) if self.interval is not None else None,
            "info": self.info,
        }
        return FORMAT.save(folder, KIND, _jsonable(meta), arrays, strings)


def load(folder: Path | str) -> Any:
    """The model saved in ``folder`` (a tabular model or a forecast), checked whole."""
    art = FORMAT.load(folder, (KIND, "forecast"))
    if art.kind == "forecast":
        from .forecasting import ForecastModel

        return ForecastModel.from_artifact(art)
    meta = art.meta
    try:
        members = []
        for i, spec in enumerate(meta["members"]):
            arrays = {
                k.split(".", 1)[1]: v for k, v in art.arrays.items() if k.startswith(f"m{i}.")
            }
            text = art.strings.get(f"m{i}.text", [])
            cls = Trees if spec["type"] == "lightgbm" else Linear
            members.append(
                Member(cls.from_state(spec["meta"], arrays, text), float(spec["weight"]))
            )
        interval = meta["interval"]
        model = TabularModel(
            task=meta["task"],
            target=meta["target"],
            classes=meta["classes"],
            encoder=Encoder.from_state(meta["encoder"]),
            members=members,
            calibration=meta["calibration"],
            threshold=meta["threshold"],
            interval=(float(interval[0]), float(interval[1])) if interval else None,
            info=meta["info"],
            linear_means=art.arrays["linear_means"],
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelError("MODEL_FORMAT", f"The model file is incomplete: {exc}") from exc
    model.info["content_hash"] = art.content_hash
    return model


def probabilities(task: str, m: np.ndarray) -> np.ndarray:
    if task == "binary":
        p1 = 1.0 / (1.0 + np.exp(-np.clip(m, -40, 40)))
        return np.column_stack([1 - p1, p1])
    z = m - m.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        f = float(value)
        return f if np.isfinite(f) else None
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    return value
