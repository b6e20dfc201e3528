"""Label-free false alarms: ``python -m benchmarks.detect.quiet`` (run by ``make bench-nab``).

Series with nothing in them to find: every alarm augury's default decision raises on
them is a false one. Issue 21's target is at most 0.5 per metric-week, with no warm-up
alarm. Each kind below is 40 metrics x 4 weeks at 5-minute resolution, for each of 3
seeds, streamed through :func:`augury.engines.detect.score_matrix` (the server's
kernel). Alarms are counted week by week: the first week (warm-up included) and the
three after it, per metric-week.

Kinds (all stationary; the cycles repeat exactly, only the noise differs):

* ``gaussian``: level 100, standard deviation 5.
* ``student_t3``: the same with Student-t noise of 3 degrees of freedom (heavy
  tails: a 10-sigma point every few days is normal for such a metric).
* ``laplace``: double-exponential noise of the same spread.
* ``poisson``: counts with mean 3 (small, discrete, never negative: a count of
  errors or orders per 5 minutes).
* ``daily``: a daily cycle of amplitude 40 with Gaussian noise of 5.
* ``daily_weekly``: the daily cycle, 30% lower on weekends, with Gaussian noise.

Writes ``benchmarks/results/quiet.json`` and the ``## Label-free false alarms``
section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from augury.engines.detect import score_matrix
from benchmarks.docs import replace_section

ROOT = Path(__file__).resolve().parents[2]
JSON_OUT = ROOT / "benchmarks" / "results" / "quiet.json"
COMMAND = "make bench-nab  (= .venv/bin/python -m benchmarks.detect.quiet)"
STEP = 300.0
WEEK = 7 * 86400
METRICS, WEEKS, SEEDS = 40, 4, (0, 1, 2)
T0 = 1_700_006_400.0  # a Monday, 00:00 UTC (the weekly cycle's weekends are Sat/Sun)


def series(kind: str, rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    t = T0 + STEP * np.arange(n)
    day = np.sin(2 * np.pi * (t - T0) / 86400.0 - np.pi / 2)
    shape = (m, n)
    if kind == "gaussian":
        return 100 + 5 * rng.standard_normal(shape)
    if kind == "student_t3":
        # scaled to the Gaussian's standard deviation (t3's is sqrt(3))
        return 100 + 5 / np.sqrt(3) * rng.standard_t(3, shape)
    if kind == "laplace":
        return 100 + rng.laplace(0, 5 / np.sqrt(2), shape)
    if kind == "poisson":
        return rng.poisson(3.0, shape).astype(float)
    if kind == "daily":
        return 200 + 40 * day + 5 * rng.standard_normal(shape)
    if kind == "daily_weekly":
        weekend = (((t - T0) // 86400) % 7) >= 5
        return (
            200
            + 40 * day * np.where(weekend, 0.7, 1.0)
            - 60 * weekend
            + (5 * rng.standard_normal(shape))
        )
    raise ValueError(kind)


KINDS = ("gaussian", "student_t3", "laplace", "poisson", "daily", "daily_weekly")


def run(kinds=KINDS, metrics=METRICS, weeks=WEEKS, seeds=SEEDS) -> dict:
    n = int(weeks * WEEK / STEP)
    per_week = int(WEEK / STEP)
    t = T0 + STEP * np.arange(n)
    out: dict = {}
    for kind in kinds:
        counts = np.zeros(weeks)
        started = time.perf_counter()
        for seed in seeds:
            rng = np.random.default_rng([seed, KINDS.index(kind)])
            res = score_matrix(series(kind, rng, metrics, n), t)
            alarms = np.asarray(res.is_anomaly, dtype=bool)
            counts += alarms.reshape(metrics, weeks, per_week).sum(axis=(0, 2))
        metric_weeks = metrics * len(seeds)
        out[kind] = {
            "first_week": round(float(counts[0]) / metric_weeks, 3),
            "later_weeks": round(float(counts[1:].sum()) / (metric_weeks * (weeks - 1)), 3),
            "alarms": int(counts.sum()),
            "metric_weeks": metric_weeks * weeks,
            "seconds": round(time.perf_counter() - started, 1),
        }
    return out


NOTES = """\
**Why the target is missed.** The default decision is calibrated to one false alarm
per metric-week (a score of 0.5 is a per-point tail probability of 1/2016 at 5
minutes, for the union of the three statistics), so a well-calibrated detector sits
*at* that budget, not at half of it; on Gaussian noise it raises fewer because two of
its three statistics are conservative there. Two kinds are worse than the budget:
*Student-t* noise, where the spike statistic's tail is too light (measured with
seed 0 after the first week: points below a tail probability of 1e-4 came 3.8 times
as often as 1e-4, against 0.6 times on Gaussian noise; the other two statistics
were within their nominal rate), and the *weekly* cycle, which no model can know
before its first weekend, and whose profile the forecast uses only after 1.5 weeks of
history, once it removes a fifth of the error (`engines/detect/kernel.py`).

**Tried: a tail shape from log-excesses (2026-12-07, not kept).** The tail shape comes
from running moments of the excesses, capped at 5 mean excesses so that one outlier
cannot widen the band for days. For a tail as heavy as Student-t's (shape 1/3) the
mean square of capped excesses says about 0.1: in a simulation of shape-1/3 excesses
with the same memory and cap the estimate's median was 0.117. The mean of
`log(1 + excess / mean excess)` is a function of the shape alone (0.596 at 0, 0.545 at
1/3) and one outlier moves it little; inverted by a table, its median was 0.31 on the
same simulation. In the kernel, on all three statistics: Gaussian 0.64 -> 0.25,
Student-t 1.29 -> 0.63, Laplace 0.88 -> 0.46 alarms per metric-week after the first week
(seed 0), but NAB fell from 61.4 / 49.8 / 69.3 to 57.5 / 47.3 / 66.4 (tuned) and from
62.1 / 52.0 / 67.2 to 54.3 / 48.2 / 57.7 (fixed decision): the estimate's noise,
clipped at 0, makes light tails look heavier and the detector less sensitive. With a
slower memory (~330 excesses, prior worth 100) NAB fell less (59.8 tuned, 55.5 fixed)
and Student-t kept 0.73; on the spike statistic alone, 59.4 tuned / 59.4 fixed, with
Student-t at 0.98. NAB is the issue's first target, so the moments stay.
"""


def write_doc(out: dict) -> None:
    rows = "".join(
        f"| {kind} | {r['first_week']:.2f} | {r['later_weeks']:.2f} | "
        f"{'met' if max(r['first_week'], r['later_weeks']) <= 0.5 else 'NOT met'} |\n"
        for kind, r in out["kinds"].items()
    )
    replace_section(
        "Label-free false alarms",
        "## Label-free false alarms\n\n"
        f"Command: `{COMMAND}` (figures in `benchmarks/results/quiet.json`).\n\n"
        f"Series with nothing to find, so every alarm of the default decision is false: "
        f"{METRICS} metrics x {WEEKS} weeks at 5-minute resolution per kind, for each of "
        f"{len(SEEDS)} seeds, through `score_matrix` (kinds in "
        "`benchmarks/detect/quiet.py`). Alarms per metric-week, the first week (warm-up "
        "included) apart from the three after it. Target (issue 21): at most 0.5.\n\n"
        "| kind | first week | weeks 2-4 | target |\n|---|---:|---:|---|\n" + rows + "\n" + NOTES,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", nargs="*", default=list(KINDS), choices=KINDS)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    out = {"command": COMMAND, "kinds": run(tuple(args.kinds))}
    print(json.dumps(out, indent=2))
    if args.no_write or tuple(args.kinds) != KINDS:
        return 0
    JSON_OUT.parent.mkdir(parents=True, exist_ok=True)
    JSON_OUT.write_text(json.dumps(out, indent=2) + "\n")
    write_doc(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
