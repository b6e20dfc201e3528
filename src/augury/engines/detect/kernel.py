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
  (12, 96 and 56 bins, read with linear interpolation between bins). Profiles
  learn what a slow baseline (memory of one day) leaves unexplained, winsorised
  at 4x its running spread. Every profile always learns; it is *used* by the
  forecast only once it is detected: its running absolute error (over >= 2
  periods) is below 80% of the error without it (off again above 97%), at least
  1.5 periods were seen and a period spans >= 6 samples. When the forecast's
  structure changes, the tail models below re-learn fast.
* **noise scale** ``sigma``: exponentially weighted mean absolute residual,
  robust to outliers (residuals clipped at 5 sigma), combined (geometric mean)
  with the same quantity learned per quarter hour of the day, so that times of
  day that are always noisy do not look anomalous.
* **level shifts**: after ``SHIFT_RUN`` consecutive residuals beyond 3 sigma on
  the same side, the new level is accepted as normal (the model re-anchors).

Each point yields three statistics: ``z1 = |r| / sigma`` (spikes),
``z2 = |EWMA(r)| / sigma`` with ``r`` winsorised at 5 sigma (shifts too small for
one point; a spike moves it no more than a 5-sigma point) and
``z3 = EWMA(min(z1, 10))`` (bursts of noise). Each is calibrated against its own
history with a peaks-over-threshold model (Siffer et al., 2017): a streaming
estimate ``u`` of its 98th percentile, and a generalised Pareto tail above it
whose shape and scale come from running moments of the excesses. The three tail
probabilities are combined with a Bonferroni bound ``p = 3 * min(p_k)``. A statistic
beyond the value that alone would score LEARN_LEVEL (0.6) is learned as if it were at
that value: the tails learn how often outliers come, but one huge outlier does not
widen them for days. (On the demo's latency series, before this cap, a 4x spike left
the band about ten times its width for two days, and the same spike 6 hours to 2 days
later scored 51-54; with it, the band is about twice its width and the repeat scores
74-77.)

Calibrated score: ``1 - 2 ** (log10(p) / D)`` where ``p* = 10 ** -D`` is the
per-point probability of one false alarm per metric per week at the metric's
own sampling interval (``D = log10(week / dt)``, clipped to [2, 6]; 3.3 at
5 minutes, 4 at 1 minute). So 0.5 always means "as rare as a once-a-week
event for this metric", 0.75 means ``p*`` squared, and the scale never saturates.

Decision (``alarm``): raised when the reported score reaches ``decision_level``
(0.5 by default: the one-false-alarm-per-week budget) and no anomaly is open. An
anomaly stays open until CLOSE_RUN points score below CLOSE_LEVEL. While it is
open, or when a point is not more surprising than the recent maximum (decaying
by RECENT_DECAY per point), the reported score is halved: the point adds no new
information, so it neither raises a second alarm nor counts as a new detection.
"""

from __future__ import annotations

import numpy as np

# --- fixed model constants (see module docstring and docs/benchmarks.md) ---
PERIODS = (3600.0, 86400.0, 604800.0)  # hour, day, week, in seconds
BINS = (12, 96, 56)
LEVEL_ALPHA = 0.1  # level memory of ~10 points
SCALE_ALPHA = 0.02  # noise memory of ~50 points
SHORT_ALPHA = 0.15  # short-term mean/variance memory of ~7 points
GATE_ALPHA = 0.01  # seasonality detection compares errors over >= ~100 points
GATE_PERIODS = 2.0  # ... and over >= 2 periods of the profile
GATE_ON, GATE_OFF = 0.8, 0.97  # use a profile once it removes >= 20% of the error
PROFILE_MEMORY = 3.0  # seasonal profiles remember ~3 periods
MIN_SAMPLES_PER_PERIOD = 6.0
SHIFT_RUN = 5
TAIL_Q = 0.02  # tail model above the 98th percentile
QUANTILE_ETA = 0.05
ETA0 = 0.2  # initial step of the quantile tracker (decays as 1/sqrt(age))
EXCESS_ALPHA = 0.05
EXCESS_CAP = 50.0  # excesses are capped at 50 mean excesses
XI_MAX = 0.45
SHAPE_PRIOR = 20.0  # the exponential prior on the tail shape weighs as 20 excesses
SHAPE_REL_CAP = 5.0  # ... and an excess counts at most as 5 mean excesses in the shape's
# moments (an exponential excess is beyond that 0.7% of the time): one outlier's square
# weighed as ~50 ordinary excesses and turned the shape from 0.05 to 0.26, so the band
# was 5 times wider for ~1,000 points after two outliers (measured; docs/benchmarks.md)
N_CHANNELS = 3
ALARM_BUDGET = 604800.0  # at most one false alarm per metric per week, on average
MIN_DECADES, MAX_DECADES = 2.0, 6.0
WARMUP = 12  # no score before 12 points ...
CALIBRATE_FROM = 4  # ... but the tails learn from the 4th: measured, when they began at
# WARMUP the next 12 points raised 10-100 times the steady rate of false alarms on clean
# daily cycles (tests/engines/detect/test_streaming.py, docs/benchmarks.md)
CLOSE_LEVEL = 0.25  # an open anomaly closes after CLOSE_RUN points below this score
CLOSE_RUN = 3
SUPPRESS = 0.5
RECENT_DECAY = 0.99
SHIFT_CLIP = 5.0  # z2 averages residuals winsorised at 5 sigma: a spike is not a shift
RECORD_TOL = 0.05  # a record: beyond everything seen by more than 5% of the range seen
RECORD_MIN = 1000  # points of range history before a record counts (see _record)
LEARN_LEVEL = 0.6  # the tails learn an excess at most as large as one that scores this
VALUE_LIMIT = 1e100  # values beyond +-1e100 are scored as if at that bound ...
TIME_LIMIT = 1e11  # ... and timestamps beyond +-1e11 s (year 5138): products and sums of
# such numbers stay far inside float64, so no finite input can overflow into inf or NaN

# --- state layout: one row per field ---
_FIELDS = [
    "n",
    "t_first",
    "t_last",
    "dt",
    "level",
    "scale",
    "short_mean",
    "short_var",
    "base",
    "pscale",
    "run",
    "open",
    "calm",
    "peak",
    "recent",
    "age",
    "u1",
    "b1",
    "w1",
    "v1",
    "x1",
    "u2",
    "b2",
    "w2",
    "v2",
    "x2",
    "u3",
    "b3",
    "w3",
    "v3",
    "x3",
]
for _c in range(len(PERIODS)):
    _FIELDS += [f"on{_c}", f"err_with{_c}", f"err_without{_c}", f"mu{_c}"]
F = {name: i for i, name in enumerate(_FIELDS)}
PROFILE_OFFSET = []
_off = len(_FIELDS)
for _b in BINS:
    PROFILE_OFFSET.append(_off)
    _off += _b
SCALE_BINS = 96  # noise level by quarter hour of day
SCALE_OFFSET = _off
_off += SCALE_BINS
V1_SIZE = _off  # the state of version 1 ends here; later fields are appended
# version 2: the range of values seen, and the records beyond it (see _record)
for _name in ("hi", "lo", "range_n", "records"):
    F[_name] = _off
    _off += 1
STATE_SIZE = _off
STATE_VERSION = 2


def upgrade(vector: np.ndarray) -> np.ndarray:
    """A stored state of an earlier version, as a state of this one (one metric).

    Version 1 had no range: it starts at the level learned, with no points counted,
    so the metric's first records are judged as those of a new metric (not as rare
    records of its whole history).
    """
    vector = np.asarray(vector, dtype=float)
    if vector.shape == (STATE_SIZE,):
        return vector
    if vector.shape != (V1_SIZE,):
        raise ValueError(f"a detector state of {vector.shape[0]} fields is of no known version")
    out = np.zeros(STATE_SIZE)
    out[:V1_SIZE] = vector
    out[F["hi"]] = out[F["lo"]] = vector[F["level"]]
    return out


def new_state(m: int) -> np.ndarray:
    """Fresh state for ``m`` metrics (nothing learned yet)."""
    s = np.zeros((STATE_SIZE, m))
    _reset_tails(s, np.ones(m, dtype=bool))
    return s


def _relearn_tails(s: np.ndarray, rows: np.ndarray) -> None:
    """Make the tail models learn as fast as when they were new."""
    for k in range(1, N_CHANNELS + 1):
        s[F[f"x{k}"]] = np.where(rows, 0.0, s[F[f"x{k}"]])
    s[F["age"]] = np.where(rows, 0.0, s[F["age"]])


def _reset_tails(s: np.ndarray, rows: np.ndarray) -> None:
    """Prior tail model (threshold 2, exponential excesses of mean 1)."""
    for k in range(1, N_CHANNELS + 1):
        s[F[f"u{k}"]] = np.where(rows, 2.0, s[F[f"u{k}"]])
        s[F[f"b{k}"]] = np.where(rows, 1.0, s[F[f"b{k}"]])
        s[F[f"w{k}"]] = np.where(rows, 1.0, s[F[f"w{k}"]])
        s[F[f"v{k}"]] = np.where(rows, 2.0, s[F[f"v{k}"]])  # variance = mean^2
        s[F[f"x{k}"]] = np.where(rows, 0.0, s[F[f"x{k}"]])
    s[F["age"]] = np.where(rows, 0.0, s[F["age"]])


def _gpd(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Threshold, shape and scale of channel ``k``'s generalised Pareto tail.

    The shape is a property of the metric's kind of noise, so it comes from slow
    running moments of the excesses (mean ``w``, mean square ``v``; memory of ~100
    excesses, prior worth 20 exponential excesses, i.e. ``xi = 0``):
    ``xi = (1 - w^2 / var) / 2`` clipped to [0, XI_MAX]. The scale follows the fast
    running mean excess ``b``: ``beta = b (1 - xi)``.
    """
    u = s[F[f"u{k}"]]
    w = s[F[f"w{k}"]]
    var = s[F[f"v{k}"]] - w * w
    ratio = np.where(var > 0, w * w / np.maximum(var, 1e-300), 1.0)
    xi = np.clip(0.5 * (1.0 - ratio), 1e-6, XI_MAX)
    return u, xi, np.maximum(s[F[f"b{k}"]] * (1.0 - xi), 1e-6)


def _tail_p(z: np.ndarray, tail: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Tail probability of ``z``: GPD above ``u``, log-linear from 1 at 0 to TAIL_Q at u."""
    u, xi, beta = tail
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        y = np.maximum(z - u, 0.0)
        tail = TAIL_Q * np.exp(-np.log1p(xi * y / beta) / xi)
        body = np.power(TAIL_Q, np.clip(z / u, 0.0, 1.0))
    return np.where(z > u, tail, body)


def _update_tail(
    s: np.ndarray,
    k: int,
    z: np.ndarray,
    learn: np.ndarray,
    age: np.ndarray,
    n: np.ndarray,
    z_cap: np.ndarray,
) -> None:
    """Learn channel ``k``'s tail from ``z``, an excess counting at most up to ``z_cap``."""
    u = s[F[f"u{k}"]]
    m = s[F[f"b{k}"]]
    seen = s[F[f"x{k}"]]
    exceed = z > u
    # Robbins-Monro quantile tracking in log space, with a larger, decreasing step
    # (ETA0 / sqrt(age)) while the model is new or has just changed structure.
    eta = np.maximum(QUANTILE_ETA, ETA0 / np.sqrt(age + 1.0))
    step = np.where(exceed, 1.0 - TAIL_Q, -TAIL_Q) * eta
    new_u = u * np.exp(np.where(learn, step, 0.0))
    excess = np.minimum(np.minimum(z, z_cap) - u, EXCESS_CAP * m)
    # running moments of the excesses; the prior weighs as one excess
    a = np.where(learn & exceed, np.maximum(EXCESS_ALPHA, 1.0 / (seen + 2.0)), 0.0)
    s[F[f"u{k}"]] = np.maximum(new_u, 1e-3)
    s[F[f"b{k}"]] = np.maximum(m + a * (excess - m), 1e-3)
    # slow moments for the shape: relative to the mean excess, so they survive
    # changes of scale; memory ~100 excesses, prior = 20 exponential excesses
    rel = np.minimum(excess / np.maximum(m, 1e-12), SHAPE_REL_CAP)
    a_slow = np.where(learn & exceed, np.maximum(0.01, 1.0 / (TAIL_Q * n + SHAPE_PRIOR)), 0.0)
    s[F[f"w{k}"]] = s[F[f"w{k}"]] + a_slow * (rel - s[F[f"w{k}"]])
    s[F[f"v{k}"]] = s[F[f"v{k}"]] + a_slow * (rel * rel - s[F[f"v{k}"]])
    s[F[f"x{k}"]] = seen + (learn & exceed)
    if k == N_CHANNELS:
        s[F["age"]] = age + learn


def _decades(dt: np.ndarray) -> np.ndarray:
    """``-log10`` of the per-point false-alarm probability that scores 0.5.

    One false alarm per ALARM_BUDGET seconds: ``p* = dt / ALARM_BUDGET`` (1/2016 at
    5-minute resolution, 1/10080 at 1 minute), clipped to [1e-6, 1e-2].
    """
    safe = np.where(dt > 0, dt, 60.0)
    return np.clip(np.log10(ALARM_BUDGET / safe), MIN_DECADES, MAX_DECADES)


def step(
    s: np.ndarray,
    x: np.ndarray,
    t: np.ndarray,
    learn: bool = True,
    decision_level: float | np.ndarray = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    score, alarm, expected, lower, upper : ndarray, shape (m,)
        Calibrated score in [0, 1]; whether the default decision raises an anomaly
        at this point; the expected value, and the band outside which a lone point
        reaches the decision level (``expected -+`` its half-width). The band and the
        expected value stay within what the metric can take: a metric that has never
        been negative (a counter, a count, a latency) gets neither a negative expected
        value nor a negative lower bound.
    """
    m = x.shape[0]
    x = np.asarray(x, dtype=float)
    t = np.asarray(t, dtype=float)
    valid = np.isfinite(x) & np.isfinite(t)
    xv = np.clip(np.where(valid, x, 0.0), -VALUE_LIMIT, VALUE_LIMIT)
    tv = np.clip(np.where(valid, t, 0.0), -TIME_LIMIT, TIME_LIMIT)
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
    # Noise level: global, and by quarter hour of the day once a day has been seen (geometric
    # mean of the two), so that times that are always noisy do not look anomalous.
    kh = np.minimum(
        (np.mod(tv, PERIODS[1]) * (SCALE_BINS / PERIODS[1])).astype(np.int64), SCALE_BINS - 1
    )
    hour_scale = s[SCALE_OFFSET + kh, cols]
    use_hour = (hour_scale > 0) & (span >= PERIODS[1])
    scale_eff = np.where(use_hour, np.sqrt(scale) * np.sqrt(np.maximum(hour_scale, 0.0)), scale)
    sigma = np.maximum(scale_eff * 1.2533, floor)
    z1 = np.abs(r) / sigma
    r_shift = np.clip(r, -SHIFT_CLIP * sigma, SHIFT_CLIP * sigma)
    short_mean = s[F["short_mean"]] + SHORT_ALPHA * (r_shift - s[F["short_mean"]])
    z2 = np.abs(short_mean) / sigma
    short_var = s[F["short_var"]] + SHORT_ALPHA * (np.minimum(z1, 10.0) - s[F["short_var"]])
    z3 = short_var

    zs = (z1, z2, z3)
    tails = [_gpd(s, k) for k in range(1, N_CHANNELS + 1)]
    p1 = _tail_p(z1, tails[0])
    p = p1
    for k in range(2, N_CHANNELS + 1):
        p = np.minimum(p, _tail_p(zs[k - 1], tails[k - 1]))
    p = np.clip(N_CHANNELS * p, 1e-300, 1.0)
    record_any, p_record = _record(s, xv, p1)
    record = record_any & valid & (s[F["range_n"]] >= RECORD_MIN)
    p = np.where(record, np.maximum(p * p_record, 1e-300), p)
    raw = 1.0 - np.exp2(np.log10(p) / _decades(dt))
    warm = valid & (n >= WARMUP)
    raw = np.where(warm, raw, 0.0)

    # Decision: an anomaly is raised once, and stays open until CLOSE_RUN calm
    # points. While it is open, a point that does not beat the anomaly's peak brings
    # no new information, so its reported score is halved.
    is_open = s[F["open"]] > 0.5
    peak = s[F["peak"]]
    recent = s[F["recent"]] * RECENT_DECAY
    score = np.where((is_open & (raw <= peak)) | (raw <= recent), SUPPRESS * raw, raw)
    alarm = warm & ~is_open & (score >= decision_level)

    half = _z_at(tails[0], _log_ratio(dt, decision_level)) * sigma
    score, expected, half = _finite_outputs(score, expected, half)
    lower, upper = expected - half, expected + half
    never_negative = (s[F["range_n"]] > 0) & (s[F["lo"]] >= 0)
    expected, lower, upper = (
        np.where(valid, np.where(never_negative, np.maximum(a, 0.0), a), np.nan)
        for a in (expected, lower, upper)
    )
    if not learn:
        return score, alarm, expected, lower, upper

    lv = valid  # rows that learn
    calm = np.where(alarm | (raw >= CLOSE_LEVEL), 0.0, s[F["calm"]] + 1.0)
    open_next = alarm | (is_open & (calm < CLOSE_RUN))
    s[F["open"]] = np.where(lv, open_next, s[F["open"]])
    s[F["calm"]] = np.where(lv, np.where(open_next, calm, 0.0), s[F["calm"]])
    s[F["peak"]] = np.where(lv, np.where(open_next, np.maximum(peak, raw), 0.0), peak)
    s[F["recent"]] = np.where(lv, np.maximum(recent, raw), s[F["recent"]])

    # An outlier teaches the tail that such events happen, but no more about their
    # size than one at the LEARN_LEVEL boundary: one incident must not make the
    # band ten times wider, and the metric deaf to its repeat, for days.
    learn_ratio = _log_ratio(dt, LEARN_LEVEL)
    calibrating = valid & (n >= CALIBRATE_FROM)
    for k in range(1, N_CHANNELS + 1):
        z_cap = _z_at(tails[k - 1], learn_ratio)
        _update_tail(s, k, zs[k - 1], calibrating, s[F["age"]], n, z_cap)

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
    changed = np.zeros(m, dtype=bool)
    for c, (off, k0, k1, frac, val, on, eligible, period, bins) in enumerate(comp):
        err = prc  # = target - val with target = x - base - (other profiles)
        g = np.clip(s[F["dt"]] * bins / (period * PROFILE_MEMORY), 1e-4, 0.5)
        g = np.where(lv & has_scale, g, 0.0)
        s[off + k0, cols] += g * (1.0 - frac) * err
        s[off + k1, cols] += g * frac * err
        s[F[f"mu{c}"]] += g * err / bins
        # errors with and without the profile are compared over GATE_PERIODS periods
        gate_alpha = np.clip(s[F["dt"]] / (GATE_PERIODS * period), 1e-5, GATE_ALPHA)
        ga = np.where(lv & eligible, gate_alpha, 0.0)
        ew = s[F[f"err_with{c}"]] + ga * (np.abs(prc) - s[F[f"err_with{c}"]])
        ewo = s[F[f"err_without{c}"]] + ga * (np.abs(prc + val) - s[F[f"err_without{c}"]])
        s[F[f"err_with{c}"]] = ew
        s[F[f"err_without{c}"]] = ewo
        old = s[F[f"on{c}"]]
        flag = np.where(ew < GATE_ON * ewo, 1.0, np.where(ew > GATE_OFF * ewo, 0.0, old))
        s[F[f"on{c}"]] = flag
        changed |= lv & (on != (eligible & (flag > 0.5)))
    # The forecast changed structure: its residuals follow a new distribution, so
    # the tail models re-learn fast (as when new, see _update_tail) from where they are.
    _relearn_tails(s, changed)
    ab = np.clip(s[F["dt"]] / PERIODS[1], 1e-3, 0.2)
    base = base + np.where(lv & has_scale, ab, 0.0) * prc
    s[F["pscale"]] = np.where(
        lv, pscale + 0.02 * (np.minimum(np.abs(pr), 5.0 * pscale + floor) - pscale), s[F["pscale"]]
    )

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
    gh = np.clip(s[F["dt"]] * SCALE_BINS / (PERIODS[1] * PROFILE_MEMORY), 1e-3, 0.5)
    new_hour = np.where(hour_scale > 0, hour_scale + gh * (absr - hour_scale), new_scale)
    s[SCALE_OFFSET + kh, cols] = np.where(lv & (n > 1), new_hour, hour_scale)
    fresh = s[F["range_n"]] == 0
    s[F["hi"]] = np.where(lv, np.where(fresh, xv, np.maximum(s[F["hi"]], xv)), s[F["hi"]])
    s[F["lo"]] = np.where(lv, np.where(fresh, xv, np.minimum(s[F["lo"]], xv)), s[F["lo"]])
    s[F["records"]] += lv & record_any
    s[F["range_n"]] += lv
    s[F["n"]] = n + lv
    _forget_if_not_finite(s)
    return score, alarm, expected, lower, upper


def _record(s: np.ndarray, x: np.ndarray, p1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether ``x`` is a record, and the evidence that adds to the residual's.

    A record lies beyond everything the metric has shown, by more than RECORD_TOL of
    the range shown (the spatial tolerance of Numenta's HTM detector), once the range
    has RECORD_MIN points behind it.

    The residual's tail probability ``p1`` is learned over a short memory (the noise
    scale forgets in ~50 points), so after a noisy spell a point can look ordinary to
    it while lying beyond anything in the metric's history. If ``p1`` were right for
    every point, the chance that a point that rare also beats all ``n`` points seen is
    ``(1 - p1) ** n ~ exp(-n p1)``: about 1 when ``n p1`` is small (the record is what
    ``p1`` already says, and adds nothing), and tiny when ``n p1`` is large (``p1``
    calls the point ordinary, the history says otherwise). A metric whose records are
    ordinary (one that keeps growing, or a slow cycle longer than its history) says
    so through its own rate of records, ``(records + 1) / (n + 1)`` (Laplace's rule),
    which bounds the factor from below. The factor multiplies the combined probability.

    Measured (``docs/benchmarks.md``): +5 NAB points on all three profiles, for about
    0.2 more false alarms per metric-week on Gaussian noise (0.28 -> 0.48);
    RECORD_MIN = 288 gave 0.6 more NAB points and 0.1 more false alarms.
    """
    hi, lo = s[F["hi"]], s[F["lo"]]
    width = hi - lo
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        excess = np.where(width > 0, np.maximum(x - hi, lo - x) / width, 0.0)
    n = s[F["range_n"]]
    record = (n >= WARMUP) & (excess > RECORD_TOL)
    rate = (s[F["records"]] + 1.0) / (n + 1.0)
    p_record = np.maximum(np.exp(-np.minimum(n * p1, 700.0)), rate)
    return record, np.where(record, p_record, 1.0)


def _finite_outputs(
    score: np.ndarray, expected: np.ndarray, half: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A last guard: the outputs are stored in NOT NULL columns and drawn as bands."""
    score = np.clip(np.nan_to_num(score, nan=0.0), 0.0, 1.0)
    expected = np.clip(np.nan_to_num(expected, nan=0.0), -VALUE_LIMIT, VALUE_LIMIT)
    half = np.clip(np.nan_to_num(half, nan=0.0, posinf=VALUE_LIMIT), 0.0, VALUE_LIMIT)
    return score, expected, half


def _forget_if_not_finite(s: np.ndarray) -> None:
    """Start a metric afresh if its state ever held a non-finite number.

    With inputs bounded by VALUE_LIMIT and TIME_LIMIT this is not expected to happen;
    it keeps one bad state from scoring NaN for ever if it somehow does.
    """
    bad = ~np.isfinite(s).all(axis=0)
    if bad.any():
        s[:, bad] = new_state(int(bad.sum()))


def _log_ratio(dt: np.ndarray, level: float | np.ndarray) -> np.ndarray:
    """``log(TAIL_Q / p)`` for the per-statistic probability ``p`` that scores ``level``."""
    decades = -_decades(dt) * np.log2(1.0 - np.minimum(level, 0.999999))
    return np.log(TAIL_Q * N_CHANNELS) + decades * np.log(10.0)  # p = 10**-decades / N


def _z_at(tail: tuple[np.ndarray, np.ndarray, np.ndarray], log_ratio: np.ndarray) -> np.ndarray:
    """The value of a statistic with this ``tail`` that alone scores at ``log_ratio``."""
    u, xi, beta = tail
    return u + beta / xi * np.expm1(xi * log_ratio)
