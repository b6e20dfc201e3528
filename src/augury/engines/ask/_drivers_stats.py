"""The key drivers' one-column measures: correlation and mutual information.

The correlation a driver reports depends on what the feature and the target are, so it
always reads "how strongly the target follows this column", 0 for nothing:

======================  ==========================  =============================
feature \\ target        number (regression)          classes (classification)
======================  ==========================  =============================
number                  Pearson's r (signed)         two classes: point-biserial r
                                                     (Pearson's r with the last
                                                     class as 1, signed); more:
                                                     correlation ratio eta
categorical             correlation ratio eta        Cramér's V
======================  ==========================  =============================

eta is ``sqrt(between-group sum of squares / total sum of squares)`` of the number
grouped by the categories, in [0, 1]; Cramér's V is ``sqrt(chi² / (n · (min(r, c) -
1)))`` of the contingency table, in [0, 1], without a small-sample correction. Only
Pearson's r carries a sign. Rows where either side is missing are left out.

Mutual information (scikit-learn's nearest-neighbour estimator, in nats) is computed on
at most :data:`MI_ROWS` rows drawn with the seed: it costs a neighbour search per
column, and two thousand rows rank columns as well as twenty thousand.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

from ._drivers_prep import Feature, Target

MI_ROWS = 2_000


def correlation(feature: Feature, target: Target) -> float | None:
    """The feature's correlation with the target (see the table above); ``None`` where
    fewer than three rows have both or one side does not vary.

    >>> import numpy as np
    >>> x = Feature("x", "x", "numeric", np.array([1.0, 2, 3, 4]))
    >>> round(correlation(x, Target("y", "regression", np.array([2.0, 4, 6, 9]))), 3)
    0.994
    """
    if target.task == "regression":
        if feature.kind == "numeric":
            return pearson(feature.values, target.y)
        return eta(feature.values, target.y)
    if feature.kind == "categorical":
        return cramers_v(feature.values, target.y.astype(np.float64))
    if len(target.classes) == 2:
        return pearson(feature.values, target.y.astype(np.float64))
    return eta(target.y.astype(np.float64), feature.values)


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's r over the rows where both are finite."""
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3:
        return None
    a, b = x[keep] - x[keep].mean(), y[keep] - y[keep].mean()
    scale = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if scale == 0.0:
        return None
    return float(np.clip((a * b).sum() / scale, -1.0, 1.0))


def eta(codes: np.ndarray, y: np.ndarray) -> float | None:
    """The correlation ratio of ``y`` grouped by the integer ``codes``.

    >>> eta(np.array([0.0, 0, 1, 1]), np.array([1.0, 1, 3, 3]))
    1.0
    """
    keep = np.isfinite(codes) & np.isfinite(y)
    if keep.sum() < 3:
        return None
    groups, values = codes[keep].astype(np.int64), y[keep]
    total = float(((values - values.mean()) ** 2).sum())
    if total == 0.0:
        return None
    sizes = np.bincount(groups)
    sums = np.bincount(groups, weights=values)
    present = sizes > 0
    means = sums[present] / sizes[present]
    between = float((sizes[present] * (means - values.mean()) ** 2).sum())
    return float(np.sqrt(min(between / total, 1.0)))


def cramers_v(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cramér's V of two integer-coded columns.

    >>> round(cramers_v(np.array([0.0, 0, 1, 1]), np.array([0.0, 0, 1, 1])), 3)
    1.0
    """
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3:
        return None
    _, rows = np.unique(a[keep], return_inverse=True)
    _, cols = np.unique(b[keep], return_inverse=True)
    table = np.zeros((rows.max() + 1, cols.max() + 1))
    np.add.at(table, (rows, cols), 1.0)
    smaller = min(table.shape) - 1
    if smaller < 1:
        return None
    n = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return float(np.sqrt(min(chi2 / (n * smaller), 1.0)))


def mutual_information(features: list[Feature], target: Target, *, seed: int) -> np.ndarray:
    """Each feature's mutual information with the target (nats), on at most
    :data:`MI_ROWS` rows; a number's missing values read as its median."""
    if not features:
        return np.zeros(0)
    rows = target.y.shape[0]
    pick = np.sort(np.random.default_rng(seed).permutation(rows)[:MI_ROWS])
    columns = []
    for feature in features:
        values = feature.values[pick]
        missing = ~np.isfinite(values)
        if missing.any():
            values = np.where(missing, np.nanmedian(values) if (~missing).any() else 0.0, values)
        columns.append(values)
    x = np.column_stack(columns)
    discrete = np.array([f.kind == "categorical" for f in features])
    y = target.y[pick]
    if target.task == "regression":
        mi = mutual_info_regression(x, y, discrete_features=discrete, random_state=seed)
    else:
        mi = mutual_info_classif(x, y, discrete_features=discrete, random_state=seed)
    return np.maximum(np.asarray(mi, dtype=np.float64), 0.0)
