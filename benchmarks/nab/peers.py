"""Detectors from other PyPI libraries, run through the same NAB scorer.

Both are streaming-honest: a point's score only depends on the points before it.

* ``river_hst``: river's ``HalfSpaceTrees`` (Tan et al., 2011) on the value scaled by
  an online min-max scaler, scored before it is learned (river's own
  ``score_one`` / ``learn_one`` protocol), with river's default parameters.
* ``pyod_ecod``: PyOD's ``ECOD`` (Li et al., 2022; parameter-free) on a sliding
  embedding of the last 4 values; refitted every 250 points on the last 2,000
  embeddings, and each point is scored by the model fitted before it.
"""

from __future__ import annotations

import warnings

import numpy as np


def river_hst(values: np.ndarray) -> np.ndarray:
    """River HalfSpaceTrees scores (0..1), one per point, from the past only."""
    from river import anomaly, preprocessing

    scaler = preprocessing.MinMaxScaler()
    model = anomaly.HalfSpaceTrees(n_trees=10, height=8, window_size=250, seed=42)  # defaults
    out = np.zeros(len(values))
    for i, v in enumerate(values):
        x = {"v": float(v) if np.isfinite(v) else 0.0}
        scaler.learn_one(x)
        xs = scaler.transform_one(x)
        out[i] = model.score_one(xs)
        model.learn_one(xs)
    return out


def pyod_ecod(
    values: np.ndarray, lags: int = 4, refit: int = 250, history: int = 2000
) -> np.ndarray:
    """PyOD ECOD scores on a lag embedding, refitted on a sliding past window."""
    from pyod.models.ecod import ECOD

    v = np.nan_to_num(np.asarray(values, dtype=float))
    n = len(v)
    emb = np.stack([np.r_[np.full(k, v[0]), v[: n - k]] for k in range(lags)], axis=1)
    out = np.zeros(n)
    start = max(refit, lags)
    for a in range(start, n, refit):
        b = min(a + refit, n)
        past = emb[max(0, a - history) : a]
        model = ECOD()
        with warnings.catch_warnings():  # constant stretches: skewness is undefined
            warnings.simplefilter("ignore", RuntimeWarning)
            model.fit(past)
            out[a:b] = model.decision_function(emb[a:b])
    out[:start] = out[start] if n > start else 0.0
    return out


PEERS = {"river_HalfSpaceTrees": river_hst, "pyod_ECOD": pyod_ecod}
