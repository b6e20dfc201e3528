"""NAB scorer, written from the published method (Lavin & Ahmad, 2015; NAB v1.1).

The method, as implemented here:

* Each data file has labelled anomaly *windows* (``labels/combined_windows.json``).
  A window is the index range of the rows whose timestamps lie inside its limits.
* The first rows of each file are a *probationary period* that is not scored:
  ``min(floor(0.15 * n), 0.15 * 5000)`` rows, as in NAB's sweeper (the cap only
  matters for files longer than 5,000 rows).
* A detection at row ``i`` inside a window of width ``w`` whose last row is ``r``
  sits at relative position ``p = -(r - i + 1) / w`` (``-1`` at the window's first
  row). It is worth ``tpWeight * sigma(p) / sigma(-1)`` where
  ``sigma(p) = 2 / (1 + exp(5 p)) - 1`` is the scaled sigmoid; only the earliest
  detection of a window counts. A window with no detection costs ``-fnWeight``.
* A detection outside every window is a false positive worth
  ``fpWeight * sigma(|i - r_prev| / (w_prev - 1))`` (negative), where ``r_prev``
  and ``w_prev`` describe the closest preceding window (``-fpWeight`` before the
  first window, and ``sigma = -1`` from 3 window widths on).
* One threshold per profile is chosen for the whole corpus: every distinct anomaly
  score is tried as threshold (a row is a detection when ``score >= threshold``)
  and the one with the highest corpus raw score wins.
* The raw corpus score ``S`` is normalised between the null detector
  (``S_null = -fnWeight * N``, it detects nothing) and the perfect detector
  (``S_perfect = tpWeight * N``), where ``N`` is the number of labelled windows:
  ``100 * (S - S_null) / (S_perfect - S_null)``.

Everything works on numpy arrays; a whole corpus of 365,000 rows is scored, with
threshold optimisation, in well under a second.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PROBATION_PERCENT = 0.15

#: Window-id markers used by :func:`sweep_weights`.
OUTSIDE = -1
PROBATION = -2


def scaled_sigmoid(position: np.ndarray | float) -> np.ndarray:
    """NAB's scaled sigmoid: ``2 * sigmoid(-5 p) - 1``, and ``-1`` from ``p >= 3`` on."""
    p = np.asarray(position, dtype=float)
    with np.errstate(over="ignore"):
        val = 2.0 / (1.0 + np.exp(5.0 * p)) - 1.0
    return np.where(p >= 3.0, -1.0, val)


MAX_TP = float(scaled_sigmoid(-1.0))


def probation_length(n: int, percent: float = PROBATION_PERCENT) -> int:
    """Rows at the start of a file that are not scored."""
    return int(min(math.floor(percent * n), percent * 5000))


@dataclass(frozen=True)
class Profile:
    """Weights of one NAB application profile."""

    name: str
    tp: float
    fp: float
    fn: float


def load_profiles(path: str | Path) -> dict[str, Profile]:
    """Read NAB's ``config/profiles.json``."""
    raw = json.loads(Path(path).read_text())
    return {
        name: Profile(
            name,
            tp=float(p["CostMatrix"]["tpWeight"]),
            fp=float(p["CostMatrix"]["fpWeight"]),
            fn=float(p["CostMatrix"]["fnWeight"]),
        )
        for name, p in raw.items()
    }


def window_indices(
    timestamps: Sequence | np.ndarray, windows: Sequence[Sequence[str]]
) -> list[tuple[int, int]]:
    """Map window limits (timestamp strings) to inclusive row index ranges."""
    ts = pd.to_datetime(pd.Series(timestamps)).to_numpy()
    out = []
    for start, end in windows:
        lo = int(np.searchsorted(ts, np.datetime64(pd.Timestamp(start)), "left"))
        hi = int(np.searchsorted(ts, np.datetime64(pd.Timestamp(end)), "right")) - 1
        if hi >= lo:
            out.append((lo, hi))
    return out


@dataclass
class LabeledFile:
    """One data file's scoring skeleton: length and windows (row index ranges)."""

    name: str
    n: int
    windows: list[tuple[int, int]]


def sweep_weights(
    n: int,
    windows: Sequence[tuple[int, int]],
    profile: Profile,
    probation_percent: float = PROBATION_PERCENT,
) -> tuple[np.ndarray, np.ndarray]:
    """Value of a detection at each row, and the row's window id.

    Returns ``(weight, window_id)``: ``window_id`` is the window's index in
    ``windows``, :data:`OUTSIDE` for rows outside every window and
    :data:`PROBATION` for rows of the probationary period (never scored).
    """
    idx = np.arange(n)
    weight = np.full(n, -profile.fp, dtype=float)
    wid = np.full(n, OUTSIDE, dtype=np.int64)
    for k, (lo, hi) in enumerate(windows):
        width = hi - lo + 1
        rows = idx[lo : hi + 1]
        pos = -(hi - rows + 1) / width
        weight[lo : hi + 1] = scaled_sigmoid(pos) * profile.tp / MAX_TP
        wid[lo : hi + 1] = k
        nxt = windows[k + 1][0] if k + 1 < len(windows) else n
        after = idx[hi + 1 : nxt]
        if after.size:
            denom = max(width - 1, 1)
            weight[hi + 1 : nxt] = scaled_sigmoid(np.abs(hi - after) / denom) * profile.fp
    wid[: probation_length(n, probation_percent)] = PROBATION
    return weight, wid


def _corpus_arrays(
    files: Sequence[LabeledFile],
    scores: Mapping[str, np.ndarray],
    profile: Profile,
    probation_percent: float,
):
    """Concatenate the scorable rows of every file, with globally unique window ids."""
    all_s, all_w, all_id = [], [], []
    n_windows_scorable = 0
    offset = 0
    for f in files:
        s = np.asarray(scores[f.name], dtype=float)
        if s.shape != (f.n,):
            raise ValueError(f"{f.name}: expected {f.n} scores, got {s.shape}")
        w, wid = sweep_weights(f.n, f.windows, profile, probation_percent)
        keep = wid != PROBATION
        wid = wid[keep]
        n_windows_scorable += len(np.unique(wid[wid >= 0]))
        gid = np.where(wid >= 0, wid + offset, OUTSIDE)
        offset += len(f.windows)
        all_s.append(np.nan_to_num(s[keep], nan=-np.inf))
        all_w.append(w[keep])
        all_id.append(gid)
    return (
        np.concatenate(all_s),
        np.concatenate(all_w),
        np.concatenate(all_id),
        n_windows_scorable,
    )


def threshold_curve(
    files: Sequence[LabeledFile],
    scores: Mapping[str, np.ndarray],
    profile: Profile,
    probation_percent: float = PROBATION_PERCENT,
) -> tuple[np.ndarray, np.ndarray]:
    """Raw corpus score for every candidate threshold (descending thresholds).

    The first entry is ``+inf`` (nothing detected). A row is detected when its
    score is ``>= threshold``.
    """
    s, w, gid, n_win = _corpus_arrays(files, scores, profile, probation_percent)
    base = -profile.fn * n_win
    # Per-row score change when the row becomes detected, processing rows by
    # descending score. Window rows: only an improvement of the window's best
    # (earliest) detection counts; the first one also removes the FN penalty.
    delta = np.where(gid == OUTSIDE, w, 0.0)
    inw = np.flatnonzero(gid != OUTSIDE)
    if inw.size:
        order = inw[np.lexsort((-s[inw], gid[inw]))]  # by window, then score desc
        g = gid[order]
        ww = w[order]
        first = np.r_[True, g[1:] != g[:-1]]
        # running max of weights within each window group
        starts = np.flatnonzero(first)
        run = np.empty_like(ww)
        for a, b in zip(starts, np.r_[starts[1:], len(ww)], strict=True):
            run[a:b] = np.maximum.accumulate(ww[a:b])
        prev = np.r_[0.0, run[:-1]]
        d = np.where(first, run + profile.fn, run - prev)
        delta[order] = d
    desc = np.argsort(-s, kind="stable")
    ss = s[desc]
    cum = base + np.cumsum(delta[desc])
    # a threshold includes every row with an equal score: keep the last of each tie
    last = np.r_[ss[1:] != ss[:-1], True]
    valid = last & np.isfinite(ss)
    thresholds = np.r_[np.inf, ss[valid]]
    raw = np.r_[base, cum[valid]]
    return thresholds, raw


@dataclass
class ProfileScore:
    """Result of scoring one detector on one profile."""

    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float
    normalized: float
    per_file: dict[str, float]


def score_file(
    f: LabeledFile,
    scores: np.ndarray,
    threshold: float,
    profile: Profile,
    probation_percent: float = PROBATION_PERCENT,
) -> float:
    """Raw NAB score of one file for detections ``scores >= threshold``."""
    s = np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    w, wid = sweep_weights(f.n, f.windows, profile, probation_percent)
    det = (s >= threshold) & (wid != PROBATION)
    total = float(w[det & (wid == OUTSIDE)].sum())
    for k in np.unique(wid[wid >= 0]):
        hit = det & (wid == k)
        total += float(w[hit].max()) if hit.any() else -profile.fn
    return total


def score_corpus(
    files: Sequence[LabeledFile],
    scores: Mapping[str, np.ndarray],
    profile: Profile,
    threshold: float | None = None,
    probation_percent: float = PROBATION_PERCENT,
) -> ProfileScore:
    """Score a detector on a corpus, optimising the threshold unless one is given.

    ``threshold=None`` does what NAB does: the best single threshold over the
    whole corpus. Pass ``threshold=0.5`` with 0/1 scores to score a fixed decision.
    """
    if threshold is None:
        thr, raw = threshold_curve(files, scores, profile, probation_percent)
        best = int(np.argmax(raw))  # first maximum = highest threshold among ties
        threshold = float(thr[best])
    per_file = {
        f.name: score_file(f, scores[f.name], threshold, profile, probation_percent) for f in files
    }
    total = float(sum(per_file.values()))
    n_windows = sum(len(f.windows) for f in files)
    null, perfect, norm = normalize(total, n_windows, profile)
    return ProfileScore(profile.name, threshold, total, null, perfect, norm, per_file)


def normalize(raw: float, n_windows: int, profile: Profile) -> tuple[float, float, float]:
    """The null and perfect raw scores of ``n_windows`` labelled windows, and ``raw``
    normalised between them (0: the null detector, 100: the perfect one)."""
    null = -profile.fn * n_windows
    perfect = profile.tp * n_windows
    norm = 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
    return null, perfect, norm


def load_labels(
    root: str | Path,
    timestamps: Mapping[str, Sequence],
) -> list[LabeledFile]:
    """Build :class:`LabeledFile` objects from NAB's combined windows."""
    windows = json.loads((Path(root) / "labels" / "combined_windows.json").read_text())
    return [
        LabeledFile(name, len(ts), window_indices(ts, windows.get(name, [])))
        for name, ts in timestamps.items()
    ]
