"""Detection throughput: ``python -m benchmarks.detect.run`` (``make bench-detect``).

Workload (issue item 2): 10,000 metrics at 1-minute resolution for one week
(100.8 million points), streamed through the vectorised detector
(:func:`augury.engines.detect.score_matrix`, the same kernel as ``score_series``)
one hour at a time, on one core. Synthetic metrics: daily seasonality of random
amplitude and phase, random level and noise, and 20-sigma spikes injected at a rate
of 1e-4 (which gives a label-free check of the alarm budget). Data generation is not
timed. Writes ``benchmarks/results/detect.json`` and the ``## Detection
throughput`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

# one core: keep BLAS/OpenMP pools from using more
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

from augury.engines.detect import StreamingDetector, kernel, score_matrix  # noqa: E402
from benchmarks.docs import replace_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
JSON_OUT = ROOT / "benchmarks" / "results" / "detect.json"
COMMAND = "make bench-detect  (= .venv/bin/python -m benchmarks.detect.run)"


def _chunk(rng, t0: float, n: int, amp, phase, level, noise, step: float = 60.0):
    t = t0 + step * np.arange(n)
    day = 2 * np.pi * t / 86400.0
    vals = level[:, None] + amp[:, None] * np.sin(day[None, :] + phase[:, None])
    vals += noise[:, None] * rng.standard_normal((len(level), n))
    spikes = rng.random(vals.shape) < 1e-4
    vals[spikes] += 20 * noise[np.nonzero(spikes)[0]]
    return vals, t, spikes


def state_bytes() -> int:
    """Size of one metric's persisted state, as JSON."""
    det = StreamingDetector()
    for i in range(100):
        det.learn_one(float(np.sin(i)), 60.0 * i)
    return len(json.dumps(det.to_state()))


def run(metrics: int, minutes: int, chunk: int = 60, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    amp = rng.uniform(0, 10, metrics)
    phase = rng.uniform(0, 2 * np.pi, metrics)
    level = rng.uniform(-100, 1000, metrics)
    noise = rng.uniform(0.1, 5, metrics)
    state = kernel.new_state(metrics)
    t0 = 1.7e9
    busy = 0.0
    alarms = 0
    injected = 0
    caught = 0
    for start in range(0, minutes, chunk):
        n = min(chunk, minutes - start)
        vals, t, spikes = _chunk(rng, t0 + 60.0 * start, n, amp, phase, level, noise)
        tic = time.perf_counter()
        res = score_matrix(vals, t, state=state)
        busy += time.perf_counter() - tic
        alarms += int(res.is_anomaly.sum())
        injected += int(spikes.sum())
        caught += int((res.is_anomaly & spikes).sum())
    points = metrics * minutes
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "metrics": metrics,
        "points_per_metric": minutes,
        "points": points,
        "seconds": round(busy, 2),
        "engine_points_per_s": round(points / busy),
        "state_bytes_per_metric": state_bytes(),
        "state_bytes_in_memory_per_metric": kernel.STATE_SIZE * 8,
        "peak_rss_mb": round(rss_mb, 1),
        "alarms": alarms,
        "alarms_per_10k_points": round(1e4 * alarms / points, 3),
        "injected_spikes": injected,
        "injected_spikes_alarmed": caught,
        "other_alarms_per_metric_week": round((alarms - caught) / (metrics * minutes / 10080.0), 3),
    }


def write_doc(section: str) -> None:
    """Replace (or append) the ``## Detection throughput`` section of docs/benchmarks.md."""
    replace_section("Detection throughput", section)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--metrics", type=int, default=10_000)
    ap.add_argument("--minutes", type=int, default=7 * 24 * 60)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    out = run(args.metrics, args.minutes)
    out["command"] = COMMAND
    print(json.dumps(out, indent=2))
    if args.no_write:
        return 0
    JSON_OUT.parent.mkdir(parents=True, exist_ok=True)
    JSON_OUT.write_text(json.dumps(out, indent=2) + "\n")
    target = "met" if out["engine_points_per_s"] >= 500_000 else "NOT met"
    write_doc(
        "## Detection throughput\n\n"
        f"Command: `{COMMAND}` (figures in `benchmarks/results/detect.json`).\n\n"
        f"Workload: {out['metrics']:,} synthetic metrics x {out['points_per_metric']:,} "
        "points (one week at 1-minute resolution), streamed one hour at a time through "
        "`score_matrix` (the vectorised path of the same kernel as `score_series`), one "
        "process, numpy single-threaded; data generation not timed.\n\n"
        "| figure | value | target |\n|---|---:|---:|\n"
        f"| engine points/s (one core) | {out['engine_points_per_s']:,} | >= 500,000 ({target}) |\n"
        f"| state per metric (JSON, persisted) | {out['state_bytes_per_metric']:,} B | "
        "<= 4,096 B |\n"
        f"| state per metric (in memory) | {out['state_bytes_in_memory_per_metric']:,} B | |\n"
        f"| peak RSS of the benchmark process | {out['peak_rss_mb']:,} MB | |\n"
        f"| default-decision alarms per 10,000 points | {out['alarms_per_10k_points']} | |\n"
        f"| injected 20-sigma spikes alarmed | {out['injected_spikes_alarmed']:,} of "
        f"{out['injected_spikes']:,} | |\n"
        f"| other alarms per metric-week (false alarms) | "
        f"{out['other_alarms_per_metric_week']} | <= 1 (design budget) |\n\n"
        "The HTTP ingest benchmark with detection on belongs to the metrics/ingest "
        "benchmark and is not measured here.\n\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
