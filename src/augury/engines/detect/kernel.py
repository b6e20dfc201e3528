"""Vectorised streaming kernel of augury's default detector.

The state of ``m`` metrics is one float64 matrix of shape ``(STATE_SIZE, m)``: each
row is a field (level, scale, a seasonal-profile bin, ...) and each column a metric,
so every update below is an element-wise numpy operation over all metrics at once.
The single-metric :class:`~augury.engines.detect.StreamingDetector` runs the very
same functions with ``m == 1``; there is no second copy of the science.

Model of one metric (all learned online, nothing configured):

* **level** ``l``: exponentially weighted, updated with residuals clipped at
  3 sigma so that isolated spikes barely move it.
* **seasonal profiles** for periods of one hour, one day and one week
  (12, 48 and 56 bins, read with linear interpolation between bins). Every
  profile always learns; it is *used* only when it is detected, i.e. when the
  running absolute error with the profile is clearly below the error without it
  (and at least 1.5 periods were seen and a period spans >= 6 samples).
* **noise scale** ``sigma``: exponentially weighted mean absolute residual,
  robust to outliers (residuals clipped at 5 sigma).
* **level shifts**: after ``SHIFT_RUN`` consecutive residuals beyond 3 sigma on
  the same side, the new level is accepted as normal (the model re-anchors).

Each point yields three statistics: ``z1 = |r| / sigma`` (spikes),
``z2 = |EWMA(r)| / sigma`` (shifts and drifts too small for one point) and
``z3 = EWMA(min(z1, 10))`` (bursts of noise). Each one is calibrated against its
own history with a peaks-over-threshold tail model (Siffer et al., 2017): a
streaming estimate ``u`` of its 98th percentile and the mean excess ``beta`` above
it give ``p = 0.02 * exp(-(z - u) / beta)``. The three are combined with a
Bonferroni bound ``p = 3 * min(p1, p2, p3)``, and the calibrated score is
``min(1, -log10(p) / 8)``: 0.5 means a one-in-10,000 point, 1.0 one in 1e8.
"""

from __future__ import annotations

import numpy as np

# --- fixed model constants (chosen from first principles, see module docstring) ---
PERIODS = (3600.0, 86400.0, 604800.0)  # hour, day, week, in seconds
BINS = (12, 48, 56)
LEVEL_ALPHA = 0.1  # level memory of ~10 points
SCALE_ALPHA = 0.02  # noise memory of ~50 points
SHORT_ALPHA = 0.15  # short-term mean/variance memory of ~7 points
GATE_ALPHA = 0.01  # seasonality detection compares errors over ~100 points
GATE_ON, GATE_OFF = 0.8, 0.9  # use a profile once it removes >= 20% of the error
PROFILE_MEMORY = 3.0  # seasonal profiles remember ~3 periods
MIN_SAMPLES_PER_PERIOD = 6.0
SHIFT_RUN = 5
TAIL_Q = 0.02  # tail model above the 98th percentile
QUANTILE_ETA = 0.05
EXCESS_ALPHA = 0.05
N_CHANNELS = 3
SCORE_DECADES = 8.0  # score 1.0 <=> p = 1e-8
WARMUP = 12
CLOSE_LEVEL = 0.25  # an open anomaly closes after CLOSE_RUN points below this score
CLOSE_RUN = 3

# --- state layout: one row per field ---
_FIELDS = [
    "n", "t_first", "t_last", "dt", "level", "scale", "short_mean", "short_var",
    "base", "pscale",
    "run", "open", "calm",
    "u1", "b1", "u2", "b2", "u3", "b3",
]
for _c in range(len(PERIODS)):
    _FIELDS += [f"on{_c}", f"err_with{_c}", f"err_without{_c}", f"mu{_c}"]
F = {name: i for i, name in enumerate(_FIELDS)}
PROFILE_OFFSET = []
_off = len(_FIELDS)
for _b in BINS:
    PROFILE_OFFSET.append(_off)
    _off += _b
STATE_SIZE = _off
STATE_VERSION = 1


def new_state(m: int) -> np.ndarray:
    """Fresh state for ``m`` metrics (nothing learned yet)."""
    s = np.zeros((STATE_SIZE, m))
    for k in (1, 2, 3):
        s[F[f"u{k}"]] = 2.0
        s[F[f"b{k}"]] = 1.0
    return s


def _tail_p(z: np.ndarray, u: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.minimum(1.0, TAIL_Q * np.exp(-(z - u) / b))


def _update_tail(s: np.ndarray, k: int, z: np.ndarray, learn: np.ndarray) -> None:
    u = s[F[f"u{k}"]]
    b = s[F[f"b{k}"]]
    exceed = z > u
    step = np.where(exceed, 1.0 - TAIL_Q, -TAIL_Q) * QUANTILE_ETA
    new_u = u * np.exp(np.where(learn, step, 0.0))
    excess = np.minimum(z - u, 10.0 * b)
    new_b = b + np.where(learn & exceed, EXCESS_ALPHA, 0.0) * (excess - b)
    s[F[f"u{k}"]] = np.maximum(new_u, 1e-3)
    s[F[f"b{k}"]] = np.maximum(new_b, 1e-3)


def step(
    s: np.ndarray, x: np.ndarray, t: np.ndarray, learn: bool = True,
    decision_level: float | np.ndarray = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score one point per metric, then (if ``learn``) learn it.

    Parameters
    ----------
    s : ndarray, shape (STATE_SIZE, m)
        State, updated in place when ``learn`` is true.
    x, t : ndarray, shape (m,)
        Values and timestamps (seconds). A NaN value is a gap: score 0, no update.
    learn : bool
        Update the state with the points after scoring them.
    decision_level : float or ndarray
        Score from which the default decision raises an anomaly.

    Returns
    -------
    score, alarm, expected, sigma : ndarray, shape (m,)
        Calibrated score in [0, 1]; whether the default decision raises an anomaly
        at this point; the expected value and noise scale the score was based on.
    """
    m = x.shape[0]
    x = np.asarray(x, dtype=float)
    t = np.asarray(t, dtype=float)
    valid = np.isfinite(x) & np.isfinite(t)
    xv = np.where(valid, x, 0.0)
    tv = np.where(valid, t, 0.0)
    n = s[F["n"]]
    first = valid & (n == 0)
    if learn and first.any():
        s[F["level"], first] = xv[first]
        s[F["t_first"], first] = tv[first]
        s[F["t_last"], first] = tv[first]

    dt = s[F["dt"]]
    level = np.where(first, xv, s[F["level"]])
    scale = s[F["scale"]]
    span = np.where(first, 0.0, tv - s[F["t_first"]])
    cols = np.arange(m)

    seas = np.zeros(m)  # seasonal part used by the forecast (detected profiles only)
    seas_all = np.zeros(m)  # every profile, used to learn the profiles
    comp = []
    for c, (period, bins) in enumerate(zip(PERIODS, BINS, strict=True)):
        pos = np.mod(tv, period) * (bins / period) - 0.5
        k0f = np.floor(pos)
        frac = pos - k0f
        k0 = np.mod(k0f.astype(np.int64), bins)
        k1 = np.where(k0 + 1 == bins, 0, k0 + 1)
        off = PROFILE_OFFSET[c]
        p0 = s[off + k0, cols]
        p1 = s[off + k1, cols]
        val = (1.0 - frac) * p0 + frac * p1 - s[F[f"mu{c}"]]
        eligible = (dt > 0) & (period >= MIN_SAMPLES_PER_PERIOD * dt) & (span >= 1.5 * period)
        on = eligible & (s[F[f"on{c}"]] > 0.5)
        seas = seas + np.where(on, val, 0.0)
        seas_all = seas_all + val
        comp.append((off, k0, k1, frac, val, on, eligible, period, bins))

    expected = level + seas
    r = xv - expected
    floor = 1e-9 + 1e-6 * np.abs(level)
    sigma = np.maximum(scale * 1.2533, floor)
    z1 = np.abs(r) / sigma
    short_mean = s[F["short_mean"]] + SHORT_ALPHA * (r - s[F["short_mean"]])
    z2 = np.abs(short_mean) / sigma
    short_var = s[F["short_var"]] + SHORT_ALPHA * (np.minimum(z1, 10.0) - s[F["short_var"]])
    z3 = short_var

    p = np.minimum(
        np.minimum(_tail_p(z1, s[F["u1"]], s[F["b1"]]), _tail_p(z2, s[F["u2"]], s[F["b2"]])),
        _tail_p(z3, s[F["u3"]], s[F["b3"]]),
    )
    p = np.clip(N_CHANNELS * p, 1e-300, 1.0)
    score = np.clip(-np.log10(p) / SCORE_DECADES, 0.0, 1.0)
    warm = valid & (n >= WARMUP)
    score = np.where(warm, score, 0.0)

    # decision: raise once per anomaly; it stays open until CLOSE_RUN calm points
    is_open = s[F["open"]] > 0.5
    alarm = warm & ~is_open & (score >= decision_level)

    if not learn:
        return score, alarm, np.where(valid, expected, np.nan), sigma

    lv = valid  # rows that learn
    s[F["open"]] = np.where(lv, np.where(alarm | (is_open & (s[F["calm"]] < CLOSE_RUN)),
                                         1.0, 0.0), s[F["open"]])
    calm_now = score < CLOSE_LEVEL
    s[F["calm"]] = np.where(lv, np.where(alarm, 0.0, np.where(calm_now, s[F["calm"]] + 1, 0.0)),
                            s[F["calm"]])
    still_open = s[F["open"]] > 0.5
    s[F["calm"]] = np.where(still_open, s[F["calm"]], 0.0)

    _update_tail(s, 1, z1, warm)
    _update_tail(s, 2, z2, warm)
    _update_tail(s, 3, z3, warm)

    gap = tv - s[F["t_last"]]
    forward = lv & (gap > 0)
    new_dt = np.where(dt > 0, dt + 0.05 * (np.minimum(gap, 4.0 * dt) - dt), gap)
    s[F["dt"]] = np.where(forward, new_dt, dt)
    s[F["t_last"]] = np.where(forward, tv, s[F["t_last"]])

    rc = np.clip(r, -3.0 * sigma, 3.0 * sigma)
    has_scale = n >= 2
    # Profiles learn what a slow baseline (memory of one day) leaves unexplained,
    # winsorised at 4x its own running spread: large repeating patterns are learned
    # quickly while lone spikes barely move a bin.
    base = np.where(first | (n == 0), xv, s[F["base"]])
    pr = xv - base - seas_all
    pscale = np.where(n >= 2, s[F["pscale"]], np.abs(pr))
    prc = np.clip(pr, -4.0 * pscale - floor, 4.0 * pscale + floor)
    for c, (off, k0, k1, frac, val, on, eligible, period, bins) in enumerate(comp):
        err = prc  # = target - val with target = x - base - (other profiles)
        g = np.clip(s[F["dt"]] * bins / (period * PROFILE_MEMORY), 1e-4, 0.5)
        g = np.where(lv & has_scale, g, 0.0)
        s[off + k0, cols] += g * (1.0 - frac) * err
        s[off + k1, cols] += g * frac * err
        s[F[f"mu{c}"]] += g * err / bins
        ga = np.where(lv & eligible, GATE_ALPHA, 0.0)
        ew = s[F[f"err_with{c}"]] + ga * (np.abs(prc) - s[F[f"err_with{c}"]])
        ewo = s[F[f"err_without{c}"]] + ga * (np.abs(prc + val) - s[F[f"err_without{c}"]])
        s[F[f"err_with{c}"]] = ew
        s[F[f"err_without{c}"]] = ewo
        old = s[F[f"on{c}"]]
        s[F[f"on{c}"]] = np.where(ew < GATE_ON * ewo, 1.0, np.where(ew > GATE_OFF * ewo, 0.0, old))
    ab = np.clip(s[F["dt"]] / PERIODS[1], 1e-3, 0.2)
    base = base + np.where(lv & has_scale, ab, 0.0) * prc
    s[F["pscale"]] = np.where(lv, pscale + 0.02 * (np.minimum(np.abs(pr), 5.0 * pscale + floor)
                                                   - pscale), s[F["pscale"]])

    # level shift: SHIFT_RUN consecutive points beyond 3 sigma on one side
    side = np.where(z1 > 3.0, np.sign(r), 0.0)
    run = s[F["run"]]
    run = np.where(side == 0, 0.0, np.where(np.sign(run) == side, run + side, side))
    shift = lv & (np.abs(run) >= SHIFT_RUN)
    new_level = np.where(shift, xv - seas, level + LEVEL_ALPHA * rc)
    s[F["base"]] = np.where(lv, base, s[F["base"]])
    s[F["level"]] = np.where(lv & (n > 0), new_level, s[F["level"]])
    s[F["run"]] = np.where(lv, np.where(shift, 0.0, run), s[F["run"]])
    s[F["short_mean"]] = np.where(lv, np.where(shift, 0.0, short_mean), s[F["short_mean"]])
    s[F["short_var"]] = np.where(lv, short_var, s[F["short_var"]])

    # noise scale: mean absolute residual, robust to outliers
    absr = np.minimum(np.abs(r), 5.0 * sigma)
    new_scale = np.where(n == 1, np.abs(r), scale + SCALE_ALPHA * (absr - scale))
    s[F["scale"]] = np.where(lv & (n > 0), new_scale, scale)
    s[F["n"]] = n + lv
    return score, alarm, np.where(valid, expected, np.nan), sigma


def band_halfwidth(s: np.ndarray, sigma: np.ndarray, level: float = 0.5) -> np.ndarray:
    """Half-width of the band inside which a lone point scores below ``level``."""
    p_star = 10.0 ** (-level * SCORE_DECADES) / N_CHANNELS
    z_star = s[F["u1"]] + s[F["b1"]] * np.log(TAIL_Q / p_star)
    return z_star * sigma
