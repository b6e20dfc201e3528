"""The key drivers' model: permutation importance of a cross-validated LightGBM model,
its impact tiers and their confidence from bootstrap resamples.

**Model.** A small gradient-boosting model (100 trees of at most 15 leaves, learning
rate 0.1, one thread, fixed seed, no row or column subsampling: the same input gives
the same ranking) is fitted on ``folds - 1`` folds and scored on the held-out fold,
for each fold (stratified by class for classification). ``score`` is the pooled
R² (regression) or balanced accuracy (classification) of the held-out rows scored.

**Importance.** In each held-out fold (at most :data:`EVAL_ROWS` of its rows, drawn
with the seed: predicting is what costs, and 1,500 rows per fold rank the features
stably) every feature is shuffled :data:`REPEATS` times and the model predicts again;
a feature's importance is the mean drop of the fold's R² or balanced accuracy (a drop,
so in the score's own units), ``importance_std`` its standard deviation over the
``folds x REPEATS`` drops.

**Impact.** A feature's *share* is its positive importance over the sum of all
features' positive importances. ``High``: share >= :data:`HIGH`; ``Medium``: >=
:data:`MEDIUM`; ``Low`` otherwise, and every feature is ``Low`` when the model is not
useful (R² below :data:`USEFUL_R2`, or balanced accuracy less than :data:`USEFUL_LIFT`
above chance, 1 / classes): a share of nothing is not an influence.

**Confidence.** The held-out rows are drawn with replacement ``resamples`` times; on
each resample the score, every importance (from the same per-row score changes, so no
model is refitted) and the tiers are computed again. A feature's confidence is the
fraction of resamples in which it falls in the same tier as on all rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.model_selection import KFold, StratifiedKFold

from ._drivers_prep import Feature, Target

HIGH = 0.20
MEDIUM = 0.05
USEFUL_R2 = 0.05
USEFUL_LIFT = 0.05
REPEATS = 2
EVAL_ROWS = 1_500
TIERS = ("High", "Medium", "Low")


@dataclass
class Fitted:
    """What the model says about each feature, in the features' order."""

    score: float
    importance: np.ndarray
    importance_std: np.ndarray
    share: np.ndarray
    tier: np.ndarray  # index into TIERS
    confidence: np.ndarray


@dataclass
class _Pooled:
    """Per held-out row: the target, the model's base loss or hit, and each feature's
    mean change of it when shuffled (rows x features); enough to rescore a resample."""

    y: np.ndarray
    base: np.ndarray
    delta: np.ndarray


def fit(
    features: list[Feature], target: Target, *, folds: int, seed: int, resamples: int
) -> Fitted:
    """Fit, score and rank ``features`` (see the module's description)."""
    x = np.column_stack([f.values for f in features])
    categorical = [i for i, f in enumerate(features) if f.kind == "categorical"]
    rng = np.random.default_rng(seed)
    drops: list[np.ndarray] = []
    pooled: list[_Pooled] = []
    for train, test in _splits(target, folds, seed):
        model = _model(target, len(train), seed)
        model.fit(x[train], target.y[train], categorical_feature=categorical or "auto")
        if test.shape[0] > EVAL_ROWS:
            test = np.sort(rng.choice(test, EVAL_ROWS, replace=False))
        fold = _permute(model, x[test], target, target.y[test], rng)
        drops.extend(_fold_drops(fold, target))
        pooled.append(fold)
    rows = _Pooled(
        np.concatenate([p.y for p in pooled]),
        np.concatenate([p.base for p in pooled]),
        np.concatenate([p.delta.mean(axis=0) for p in pooled]),
    )
    score, share, tier = _rank(rows, target, np.ones(rows.y.shape[0]))
    agree = np.zeros(len(features))
    for _ in range(resamples):
        counts = np.bincount(
            rng.integers(0, rows.y.shape[0], rows.y.shape[0]), minlength=rows.y.shape[0]
        )
        agree += _rank(rows, target, counts.astype(np.float64))[2] == tier
    stacked = np.vstack(drops)
    return Fitted(
        score=score,
        importance=stacked.mean(axis=0),
        importance_std=stacked.std(axis=0),
        share=share,
        tier=tier,
        confidence=agree / max(resamples, 1) if resamples else np.ones(len(features)),
    )


def _splits(target: Target, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    index = np.zeros((target.y.shape[0], 1))
    if target.task == "classification" and np.bincount(target.y).min() >= folds:
        strat = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        return list(strat.split(index, target.y))
    return list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(index))


def _model(target: Target, rows: int, seed: int) -> LGBMRegressor | LGBMClassifier:
    params: dict[str, Any] = {
        "n_estimators": 100,
        "learning_rate": 0.1,
        "num_leaves": 15,
        "min_child_samples": max(5, min(20, rows // 50)),
        "n_jobs": 1,
        "random_state": seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }
    if target.task == "regression":
        return LGBMRegressor(**params)
    return LGBMClassifier(**params)


def _permute(
    model: LGBMRegressor | LGBMClassifier,
    x: np.ndarray,
    target: Target,
    y: np.ndarray,
    rng: np.random.Generator,
) -> _Pooled:
    """The fold's base loss (squared error) or hit (1 when the class is right) per row,
    and per repeat and feature the change a shuffle brings, signed so that a drop of
    the score is positive: ``delta[repeat, row, feature]``."""
    base = _per_row(model.predict(x), y, target)
    delta = np.empty((REPEATS, x.shape[0], x.shape[1]))
    shuffled = x.copy()
    for repeat in range(REPEATS):
        for j in range(x.shape[1]):
            shuffled[:, j] = x[rng.permutation(x.shape[0]), j]
            moved = _per_row(model.predict(shuffled), y, target)
            delta[repeat, :, j] = moved - base if target.task == "regression" else base - moved
            shuffled[:, j] = x[:, j]
    return _Pooled(y, base, delta)


def _per_row(predicted: Any, y: np.ndarray, target: Target) -> np.ndarray:
    if target.task == "regression":
        return (np.asarray(predicted, dtype=np.float64) - y) ** 2
    return (np.asarray(predicted) == y).astype(np.float64)


def _fold_drops(fold: _Pooled, target: Target) -> list[np.ndarray]:
    """Each repeat's drop of the fold's score per feature."""
    weights = _weights(fold, target, np.ones(fold.y.shape[0]))
    return [weights @ fold.delta[r] for r in range(fold.delta.shape[0])]


def _weights(rows: _Pooled, target: Target, counts: np.ndarray) -> np.ndarray:
    """Per-row weights that turn summed losses or hits into the score's units: 1 / SST
    for R², 1 / (classes present x the row's class size) for balanced accuracy."""
    if target.task == "regression":
        mean = (counts * rows.y).sum() / counts.sum()
        total = float((counts * (rows.y - mean) ** 2).sum())
        return counts / total if total > 0 else np.zeros_like(counts)
    sizes = np.bincount(rows.y, weights=counts, minlength=len(target.classes))
    present = int((sizes > 0).sum())
    return counts / (present * np.maximum(sizes[rows.y], 1e-12))


def _rank(
    rows: _Pooled, target: Target, counts: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """The score, each feature's share and tier on the rows weighted by ``counts``."""
    weights = _weights(rows, target, counts)
    importance = weights @ rows.delta
    if target.task == "regression":
        score = 1.0 - float(weights @ rows.base)
        useful = score >= USEFUL_R2
    else:
        score = float(weights @ rows.base)
        classes = int(np.count_nonzero(np.bincount(rows.y, weights=counts)))
        useful = score >= 1.0 / max(classes, 1) + USEFUL_LIFT
    positive = np.maximum(importance, 0.0)
    total = positive.sum()
    share = positive / total if total > 0 else np.zeros_like(positive)
    tier = np.full(share.shape, 2)
    if useful:
        tier[share >= MEDIUM] = 1
        tier[share >= HIGH] = 0
    return score, share, tier
