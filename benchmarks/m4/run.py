"""M4 Hourly benchmark: accuracy, interval coverage, wall time and peak memory.

Usage::

    python -m benchmarks.m4.run                     # test set -> benchmarks/results/m4.json
    python -m benchmarks.m4.run --split validation  # tuning split -> benchmarks/m4/validation.json
    python -m benchmarks.m4.run --methods augury_auto --limit 50

Every method runs in its own child process (``--worker``, BLAS/OpenMP pools pinned to
one thread), which loads the data, forecasts every series one after the other, and
reports the wall time of
the forecasting loop and its own peak resident memory (``getrusage`` ``ru_maxrss``,
i.e. the honest peak of a process that imported numpy, pandas and the method's
library and held the data set). The parent then scores the forecasts with
:mod:`augury.engines.forecast.metrics` (sMAPE, MASE and OWA exactly as in M4).

Splits:

* ``test``: fit on the M4 training series, score on the M4 test set (48 points).
* ``validation``: drop the last 48 points of every training series, fit on the rest
  and score on those 48 points. All model choices and hyper-parameters of augury were
  made on this split; the test set was used only to produce the final figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from augury.engines.forecast.metrics import coverage, naive2, owa

from .data import load
from .report import render_table, update_docs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONFIG = HERE / "config.json"
RESULTS = ROOT / "benchmarks" / "results" / "m4.json"
VALIDATION = HERE / "validation.json"
DOCS = ROOT / "docs" / "benchmarks.md"
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def split_data(split: str, limit: int | None = None):
    ids, train, test = load("Hourly")
    h = len(test[0])
    if split == "validation":
        test = [x[-h:] for x in train]
        train = [x[:-h] for x in train]
    elif split != "test":
        raise ValueError(f"unknown split {split!r}")
    if limit:
        ids, train, test = ids[:limit], train[:limit], test[:limit]
    return ids, train, test


# -- worker: one method, one process ---------------------------------------------------
def make_method(spec: dict, h: int, levels: list[int]):
    """A function ``y -> (mean, {level: (lo, hi)})`` for a method spec from config.json."""
    kind = spec["kind"]
    if kind == "naive2":
        m = int(spec.get("season_length", 24))
        return lambda y: (naive2(y, h, m), {})
    if kind == "seasonal_naive":
        from augury.engines.forecast import SeasonalNaive

        def run(y):
            out = SeasonalNaive(season_length=spec["season_length"]).forecast(y, h, level=levels)
            return out["mean"], {v: (out[f"lo-{v}"], out[f"hi-{v}"]) for v in levels}

        return run
    if kind == "statsforecast":
        import statsforecast.models as sm

        cls = getattr(sm, spec["model"])

        def run(y):
            out = cls(season_length=spec["season_length"]).forecast(y=y, h=h, level=levels)
            return out["mean"], {v: (out[f"lo-{v}"], out[f"hi-{v}"]) for v in levels}

        return run
    if kind == "augury":
        from augury.engines.forecast import auto_forecast

        opts = {k: (tuple(v) if isinstance(v, list) else v) for k, v in spec.items() if k != "kind"}

        def run(y):
            res = auto_forecast(y, h, levels=levels, **opts)
            return res.mean, {v: (res.lower[v], res.upper[v]) for v in levels}, res.model

        return run
    raise ValueError(f"unknown method kind {kind!r}")


def worker(method: str, split: str, limit: int | None, out_path: str) -> None:
    cfg = json.loads(CONFIG.read_text())
    levels = [int(v) for v in cfg["levels"]]
    ids, train, test = split_data(split, limit)
    h = len(test[0])
    fn = make_method(cfg["methods"][method], h, levels)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    means = np.empty((len(train), h))
    bands = {v: np.full((2, len(train), h), np.nan) for v in levels}
    chosen = []
    t0 = time.perf_counter()
    for i, y in enumerate(train):
        res = fn(y)
        means[i] = res[0]
        for v, (lo, hi) in res[1].items():
            bands[v][0, i], bands[v][1, i] = lo, hi
        if len(res) > 2:
            chosen.append(res[2])
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    np.savez(out_path, means=means, **{f"band{v}": b for v, b in bands.items()})
    Path(out_path + ".json").write_text(
        json.dumps(
            {
                "wall_s": wall,
                "peak_rss_mb": peak / 1024,
                "rss_before_mb": rss_before / 1024,
                "models": chosen,
            }
        )
    )


# -- parent: run every method, score, write ------------------------------------------
def run_method(method: str, split: str, limit: int | None, tmp: Path) -> dict:
    out = tmp / f"{method}.npz"
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.m4.run",
        "--worker",
        method,
        "--split",
        split,
        "--out",
        str(out),
    ]
    if limit:
        cmd += ["--limit", str(limit)]
    # One core per method: BLAS/OpenMP thread pools are pinned to a single thread so
    # that no method gets a hidden second core (statsforecast's kernels are serial too).
    env = {**os.environ, **{k: "1" for k in THREAD_VARS}}
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)
    total = time.perf_counter() - t0
    meta = json.loads(Path(str(out) + ".json").read_text())
    arrays = np.load(out)
    meta["process_wall_s"] = total
    meta["means"] = arrays["means"]
    meta["bands"] = {k[4:]: arrays[k] for k in arrays.files if k.startswith("band")}
    return meta


def score(meta: dict, train, test, m: int, bench) -> dict:
    means = list(meta["means"])
    acc = owa(test, means, train, m, benchmark=bench)
    row = {
        "smape": round(acc["smape"], 3),
        "mase": round(acc["mase"], 3),
        "owa": round(acc["owa"], 3),
        "wall_s": round(meta["wall_s"], 1),
        "process_wall_s": round(meta["process_wall_s"], 1),
        "peak_rss_mb": round(meta["peak_rss_mb"], 1),
        "rss_after_imports_mb": round(meta["rss_before_mb"], 1),
    }
    for v, b in meta["bands"].items():
        if np.isfinite(b).all():
            cov = np.mean([coverage(y, lo, hi) for y, lo, hi in zip(test, b[0], b[1], strict=True)])
            row[f"coverage_{v}"] = round(float(cov) * 100, 1)
            width = np.mean(np.abs(b[1] - b[0]) / np.abs(meta["means"]).clip(1e-9))
            row[f"relative_width_{v}"] = round(float(width), 3)
    if meta.get("models"):
        counts: dict[str, int] = {}
        for name in meta["models"]:
            key = name.split("(")[0]
            counts[key] = counts.get(key, 0) + 1
        row["chosen"] = counts
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="test", choices=["test", "validation"])
    ap.add_argument("--methods", nargs="*", help="subset of config.json methods")
    ap.add_argument("--limit", type=int, help="first N series only (smoke runs)")
    ap.add_argument("--no-write", action="store_true", help="print, do not write files")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.split, args.limit, args.out)
        return 0

    cfg = json.loads(CONFIG.read_text())
    methods = args.methods or list(cfg["methods"])
    ids, train, test = split_data(args.split, args.limit)
    m = int(cfg["season_length"])
    bench = [naive2(x, len(y), m) for x, y in zip(train, test, strict=True)]
    rows = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for method in methods:
            print(f"[m4] {method} ...", flush=True)
            rows[method] = score(
                run_method(method, args.split, args.limit, Path(tmp)), train, test, m, bench
            )
            print(f"[m4] {method}: {json.dumps(rows[method])}", flush=True)
    result = {
        "benchmark": "M4 Hourly",
        "split": args.split,
        "series": len(train),
        "horizon": len(test[0]),
        "season_length": m,
        "command": "python -m benchmarks.m4.run"
        + (f" --split {args.split}" if args.split != "test" else ""),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "total_wall_s": round(time.perf_counter() - started, 1),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "methods": rows,
        "published_owa": cfg["published_owa"],
    }
    if args.no_write or args.limit or (args.methods and args.split == "test"):
        print(json.dumps(result, indent=2))
        return 0
    path = RESULTS if args.split == "test" else VALIDATION
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"[m4] wrote {path.relative_to(ROOT)}")
    table = render_table(result)
    if args.split == "test" and update_docs(DOCS, table):
        print(f"[m4] refreshed the M4 table in {DOCS.relative_to(ROOT)}")
    else:
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
