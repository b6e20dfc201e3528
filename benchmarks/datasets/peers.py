"""The peers, each in its own process so that its peak memory is its own:
``python -m benchmarks.datasets.peers pandas|duckdb CSV --runs N`` prints one JSON line.

- ``pandas``: ``pandas.read_csv`` of the whole file with its defaults (what a notebook
  does first; the C parser, strings as Python objects), then ``ts`` parsed with
  ``pandas.to_datetime`` (the month question needs it; timed apart), then each question
  of :mod:`.queries` ``--runs`` times on the DataFrame;
- ``duckdb``: each question ``--runs`` times as SQL straight over the CSV (every run
  parses the file again: nothing is loaded first), with the server's limits (2
  threads, 512 MB).

Peak memory is the kernel's high-water mark of the process's memory (``VmHWM``), read
after the file is loaded and at the end; not ``ru_maxrss``, which a process started by
fork and exec inherits from its parent (the benchmark's own, here).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from benchmarks.datasets.memory import vm_hwm_mb
from benchmarks.datasets.queries import NAMES, duckdb_sql, pandas_queries


def peak_rss_mb() -> float:
    return vm_hwm_mb(os.getpid()) or 0.0


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def p50_ms(fn: Callable[[], Any], runs: int) -> float:
    return round(statistics.median(timed(fn)[0] for _ in range(runs)) * 1000, 1)


def run_pandas(csv: str, runs: int) -> dict:
    import pandas as pd

    read_s, df = timed(lambda: pd.read_csv(csv))
    after_read = peak_rss_mb()
    parse_s, ts = timed(lambda: pd.to_datetime(df["ts"], format="%Y-%m-%d %H:%M:%S"))
    df["ts"] = ts
    questions = pandas_queries()
    return {
        "pandas": pd.__version__,
        "rows": len(df),
        "read_csv_s": round(read_s, 2),
        "peak_rss_mb_after_read": after_read,
        "dataframe_mb": round(df.memory_usage(deep=True).sum() / 2**20, 1),
        "parse_ts_s": round(parse_s, 2),
        "p50_ms": {name: p50_ms(partial(questions[name], df), runs) for name in NAMES},
        "peak_rss_mb": peak_rss_mb(),
        "runs": runs,
    }


def _fetch(con: Any, sql: str) -> list:
    return con.sql(sql).fetchall()


def run_duckdb(csv: str, runs: int) -> dict:
    import duckdb

    con = duckdb.connect(config={"threads": 2, "memory_limit": "512MB"})
    con.execute("SET enable_progress_bar = false")
    sql = duckdb_sql(f"read_csv('{csv}')")
    return {
        "duckdb": duckdb.__version__,
        "p50_ms": {name: p50_ms(partial(_fetch, con, sql[name]), runs) for name in NAMES},
        "peak_rss_mb": peak_rss_mb(),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("peer", choices=("pandas", "duckdb"))
    ap.add_argument("csv")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    run = run_pandas if args.peer == "pandas" else run_duckdb
    print(json.dumps(run(args.csv, args.runs)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
