"""Job start: ``python -m benchmarks.jobs.run`` (``make bench-jobs``).

A fresh ``augury serve`` runs in a subprocess on 127.0.0.1 with SQLite in a temporary
data folder and its default job settings (poll every 0.5 s, 2 at a time). This process
signs up and then, one job at a time, as the README tour does:

- ``first_progress``: ``--jobs`` ``demo.work`` jobs of 10 steps of 0.1 s sleep. From the
  ``POST /jobs`` answer it polls ``GET /jobs/{id}`` every 10 ms and times when the job is
  ``running`` with a pid, and when its first progress (> 0) is visible; while the job
  runs it samples the child's resident memory (RSS) and its unique memory (USS: pages
  no other process shares, what the job really costs) with psutil;
- ``small``: ``--jobs`` ``demo.work`` jobs of one step of 0 s, timed from ``POST`` to
  ``succeeded``.

Figures: median and max of each time, the child's RSS and USS (max over samples), the
kernel's peak RSS the job records (``peak_memory_mb``, from ``wait4``), and the RSS of
the server's own processes (with the forkserver, it is one of them). Results are kept
per ``--label`` in ``benchmarks/results/jobs.json``, so a before/after pair can sit
side by side; the ``## Job start`` section of ``docs/benchmarks.md`` shows them all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from benchmarks.docs import replace_section
from benchmarks.ingest.run import machine, serve

ROOT = Path(__file__).resolve().parents[2]
JSON_OUT = ROOT / "benchmarks" / "results" / "jobs.json"
COMMAND = "make bench-jobs  (= .venv/bin/python -m benchmarks.jobs.run)"


def _token(http: httpx.Client) -> dict[str, str]:
    r = http.post(
        "/api/v1/auth/signup",
        json={
            "email": "bench@example.com",
            "password": "correct horse battery",
            "name": "bench",
            "organization_name": "Bench",
        },
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _create(http: httpx.Client, headers: dict, params: dict) -> tuple[int, float]:
    r = http.post("/api/v1/jobs", json={"type": "demo.work", "params": params}, headers=headers)
    r.raise_for_status()
    return r.json()["id"], time.monotonic()


def _sample(pid: int, peak: dict) -> None:
    try:
        info = psutil.Process(pid).memory_full_info()
    except psutil.Error:
        return
    peak["rss"] = max(peak.get("rss", 0), info.rss)
    peak["uss"] = max(peak.get("uss", 0), info.uss)


def first_progress(http: httpx.Client, headers: dict) -> dict:
    job_id, t0 = _create(http, headers, {"steps": 10, "step_seconds": 0.1})
    out: dict = {}
    peak: dict = {}
    deadline = t0 + 60
    while time.monotonic() < deadline:
        job = http.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        now = time.monotonic() - t0
        if job["pid"] and "running_s" not in out:
            out["running_s"] = now
        if job["pid"] and job["status"] == "running":
            _sample(job["pid"], peak)
        if job["progress"] > 0 and "first_progress_s" not in out:
            out["first_progress_s"] = now
        if job["status"] in ("succeeded", "failed", "aborted"):
            if job["status"] != "succeeded":
                raise RuntimeError(f"job {job_id} {job['status']}: {job['error']}")
            out["kernel_peak_rss_mb"] = job["peak_memory_mb"]
            out["child_rss_mb"] = peak.get("rss", 0) / 2**20
            out["child_uss_mb"] = peak.get("uss", 0) / 2**20
            return out
        time.sleep(0.01)
    raise RuntimeError(f"job {job_id} did not finish")


def small(http: httpx.Client, headers: dict) -> float:
    job_id, t0 = _create(http, headers, {"steps": 1, "step_seconds": 0})
    while time.monotonic() < t0 + 60:
        job = http.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] == "succeeded":
            return time.monotonic() - t0
        if job["status"] in ("failed", "aborted"):
            raise RuntimeError(f"job {job_id} {job['status']}: {job['error']}")
        time.sleep(0.01)
    raise RuntimeError(f"job {job_id} did not finish")


def server_rss_mb(pid: int) -> dict[str, float]:
    """RSS of the server and of its long-lived children, by role (jobs left out)."""
    out = {}
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children()]
    except psutil.Error:
        return out
    for p in procs:
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(p.cmdline())
            role = (
                "forkserver"
                if "--forkserver" in cmd
                else "stream"
                if "stream_process" in cmd
                else "job"
                if "job_process" in cmd
                else "server"
            )
            if role != "job":
                out[role] = round(p.memory_info().rss / 2**20, 1)
    return out


def _stats(values: list[float], digits: int = 3) -> dict[str, float]:
    return {"median": round(statistics.median(values), digits), "max": round(max(values), digits)}


def run(jobs: int) -> dict:
    load = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="augury-bench-jobs-") as tmp,
        serve(Path(tmp)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        headers = _token(http)
        small(http, headers)  # untimed: the first job also warms the server's caches
        firsts = [first_progress(http, headers) for _ in range(jobs)]
        smalls = [small(http, headers) for _ in range(jobs)]
        rss = server_rss_mb(server.proc.pid)
    return {
        "running_s": _stats([f["running_s"] for f in firsts]),
        "first_progress_s": _stats([f["first_progress_s"] for f in firsts]),
        "small_job_done_s": _stats(smalls),
        "child_rss_mb": _stats([f["child_rss_mb"] for f in firsts], 1),
        "child_uss_mb": _stats([f["child_uss_mb"] for f in firsts], 1),
        "kernel_peak_rss_mb": _stats([f["kernel_peak_rss_mb"] for f in firsts], 1),
        "server_processes_rss_mb": rss,
        "jobs": jobs,
        "load_avg_1m_before": round(load, 1),
        "load_avg_1m_after": round(os.getloadavg()[0], 1),
    }


def write_doc(out: dict) -> None:
    rows = []
    for label, r in out["runs"].items():
        rows.append(
            f"| {label} | {r['running_s']['median']:.2f} / {r['running_s']['max']:.2f} "
            f"| {r['first_progress_s']['median']:.2f} / {r['first_progress_s']['max']:.2f} "
            f"| {r['small_job_done_s']['median']:.2f} / {r['small_job_done_s']['max']:.2f} "
            f"| {r['child_rss_mb']['median']:.0f} | {r['child_uss_mb']['median']:.0f} "
            f"| {r['kernel_peak_rss_mb']['median']:.0f} "
            f"| {', '.join(f'{k} {v:.0f}' for k, v in r['server_processes_rss_mb'].items())} "
            f"| {r['load_avg_1m_before']} / {r['load_avg_1m_after']} |"
        )
    m = out["machine"]
    replace_section(
        "Job start",
        "## Job start\n\n"
        f"Command: `{COMMAND}` (figures in `benchmarks/results/jobs.json`; "
        f"{m['cpu_model']}, {m['cpus']} CPUs).\n\n"
        "A real `augury serve` (SQLite, default job settings: the runner polls every 0.5 s) "
        "and the README tour's calls, one job at a time: `demo.work` of 10 steps of 0.1 s "
        "(time from the `POST /jobs` answer until the job is running with a pid and until "
        "its first progress is visible through `GET /jobs/{id}`, polled every 10 ms; the "
        "child's memory sampled meanwhile) and `demo.work` of one step of 0 s (time until "
        "`succeeded`). Times in seconds as median / max of "
        f"{next(iter(out['runs'].values()))['jobs']} jobs; memory in MB, median. USS is "
        "the memory only the child holds; RSS also counts pages it shares with its parent. "
        "Then the RSS of the server's own processes at the end, and the machine's 1-minute "
        "load average before / after the run (other work shared the 2 cores).\n\n"
        "| runner | running | first progress | small job done | child RSS | child USS "
        "| kernel peak RSS | server processes RSS | load |\n"
        "|---|---:|---:|---:|---:|---:|---:|---|---|\n" + "\n".join(rows) + "\n\n"
        "*Subprocess per job* is how jobs started before: a fresh interpreter per job "
        "(`python -m augury.runtime.job_process ID PPID`) that first imports SQLAlchemy, "
        "pydantic, the settings and the job models, on every job. *Forkserver* is how they "
        "start now: the runner starts `job_process --forkserver` once, which does those "
        "imports, and forks a child per job that runs it at once; the forkserver is the "
        "children's parent, so it reads their `wait4` accounting (the kernel peak RSS "
        "column) and passes it to the runner. A forked child's RSS counts the "
        "forkserver's pages it shares, so its own cost is its USS. What is left of the "
        "start time is mostly the runner's poll interval (`AUGURY_JOBS__POLL_INTERVAL_S`, "
        "0.5 s: a job waits 0.25 s on average to be claimed) and a busy machine: both "
        "rows were measured back to back while other work kept the 2 cores busy (the "
        "load column), so on a quiet machine every time is shorter.\n\n",
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=10, help="Jobs of each kind.")
    ap.add_argument("--label", default="forkserver", help="Name of this run in jobs.json.")
    ap.add_argument("--no-write", action="store_true", help="Print only.")
    args = ap.parse_args(argv)
    result = run(args.jobs)
    print(json.dumps(result, indent=2), flush=True)
    if args.no_write:
        return 0
    out = json.loads(JSON_OUT.read_text()) if JSON_OUT.exists() else {"runs": {}}
    out["runs"][args.label] = result
    out["machine"] = machine()
    out["command"] = COMMAND
    JSON_OUT.parent.mkdir(parents=True, exist_ok=True)
    JSON_OUT.write_text(json.dumps(out, indent=2) + "\n")
    write_doc(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
