"""Datasets at 10 M rows: ``python -m benchmarks.datasets.run`` (``make bench-datasets``).

1. **The file.** A seeded 10 M-row, 1 GB sales CSV (:mod:`.data`: nine columns of mixed
   types, a datetime, about 5% empty cells) in a scratch folder outside the repository,
   kept between runs.
2. **augury.** A fresh ``augury serve`` (SQLite, a temporary data folder, jobs on, the
   default ``datasets.*`` limits: DuckDB gets 2 threads and 512 MB per operation) in a
   subprocess. This process signs up, makes an API key and uploads the file with
   ``POST /api/v1/datasets``, a multipart body httpx streams from disk. Times: the
   upload request (the body received, converted to Parquet and recorded), the
   ``datasets.profile`` job (its own created/started/finished times, and from the
   upload's answer until ``GET /datasets/{id}`` says ``profile_status: complete``,
   polled every 0.25 s), and the two together. Memory: :class:`.memory.TreeSampler`
   reads the RSS of the server and of every process under it every 50 ms, per phase,
   the job's process apart; the kernel's own peaks (the server's ``VmHWM``, the job's
   ``peak_memory_mb`` from ``wait4``) back the samples up.
3. **Queries.** The three questions of :mod:`.queries`, each with 2 untimed warm-ups
   then ``--runs`` timed ``POST /datasets/{id}/query`` (p50, p95), and the engine alone
   (:func:`augury.engines.tabular.query.run_query` on the stored Parquet file, read
   through the profile's column types, with the server's limits) the same number of
   times in this process.
4. **Peers**, once the server is stopped, in their own processes
   (:mod:`.peers`): pandas reading the same CSV and answering the same questions, and
   DuckDB answering them straight from the CSV.

Writes ``benchmarks/results/datasets.json`` and the ``## Datasets`` section of
``docs/benchmarks.md``. ``--rows 200000`` is the smoke run (its own file; the results
are printed, not written, unless ``--write``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from augury.config import DatasetSettings
from augury.datasets.querying import to_query
from augury.datasets.schemas import QueryIn
from augury.engines.tabular import query as engine
from augury.engines.tabular.profile import specs as profile_specs
from benchmarks.datasets import queries
from benchmarks.datasets.data import ensure_csv
from benchmarks.datasets.memory import TreeSampler, vm_hwm_mb
from benchmarks.docs import replace_section
from benchmarks.ingest.run import Server, machine, serve

ROOT = Path(__file__).resolve().parents[2]
JSON_OUT = ROOT / "benchmarks" / "results" / "datasets.json"
COMMAND = "make bench-datasets  (= .venv/bin/python -m benchmarks.datasets.run)"
ROWS = 10_000_000
SEED = 7
WARMUPS = 2
TARGETS = {"peak_rss_mb": 1024, "profile_s": 60.0, "group_by_p50_ms": 200.0}
"""The issue's targets: server and job each at most 1 GB, the profile within a minute,
the group-by's median answer within 200 ms over HTTP."""

Headers = dict[str, str]


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def api_key(http: httpx.Client) -> Headers:
    """A new organization's owner, and a read+write API key of theirs."""
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
    r = http.post(
        "/api/v1/api-keys",
        json={"name": "bench", "scopes": ["read", "write"]},
        headers={"Authorization": f"Bearer {r.json()['access_token']}"},
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['key']}"}


def upload(http: httpx.Client, headers: Headers, csv: Path) -> tuple[dict, float]:
    """``POST /datasets`` with the file streamed from disk (httpx reads a file object in
    64 KiB chunks); returns the answer and the request's wall time."""
    with csv.open("rb") as fh:
        t0 = time.perf_counter()
        r = http.post(
            "/api/v1/datasets",
            headers=headers,
            data={"name": "sales", "description": "benchmark", "format": "csv"},
            files={"file": (csv.name, fh, "text/csv")},
            timeout=httpx.Timeout(30, read=1800),
        )
        elapsed = time.perf_counter() - t0
    if r.status_code != 201:
        raise RuntimeError(f"upload answered {r.status_code}: {r.text[:2000]}")
    return r.json(), elapsed


def wait_profile(http: httpx.Client, headers: Headers, dataset_id: int) -> tuple[str, float]:
    """Poll the dataset until its profile is complete or failed; the status and the time."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 3600:
        r = http.get(f"/api/v1/datasets/{dataset_id}", headers=headers)
        r.raise_for_status()
        status = r.json()["version"]["profile_status"]
        if status in ("complete", "failed"):
            return status, time.perf_counter() - t0
        time.sleep(0.25)
    raise RuntimeError("the profile did not end within an hour")


def finished_job(http: httpx.Client, headers: Headers, job_id: int) -> dict:
    """The job once it has ended (its row is final a moment after the profile is)."""
    for _ in range(400):
        job = http.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["finished_at"] is not None:
            return job
        time.sleep(0.05)
    raise RuntimeError(f"job {job_id} did not finish")


def _seconds(start: str, end: str) -> float:
    return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds(), 2)


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def http_latency(
    http: httpx.Client, headers: Headers, dataset_id: int, body: dict, runs: int
) -> dict:
    times = []
    for i in range(WARMUPS + runs):
        t0 = time.perf_counter()
        r = http.post(f"/api/v1/datasets/{dataset_id}/query", headers=headers, json=body)
        elapsed = time.perf_counter() - t0
        if r.status_code != 200:
            raise RuntimeError(f"query answered {r.status_code}: {r.text[:2000]}")
        if i >= WARMUPS:
            times.append(elapsed)
    return {**_ms(times), "groups": len(r.json()["rows"])}


def engine_latency(path: Path, specs: list, body: dict, runs: int) -> dict:
    """The same query through the engine the server calls, without HTTP or the database."""
    cfg = DatasetSettings()
    limits = engine.Limits(
        memory_limit=f"{cfg.memory_limit_mb}MB", threads=cfg.threads, timeout_s=cfg.query_timeout_s
    )
    query = to_query(QueryIn.model_validate(body))
    times = []
    for i in range(WARMUPS + runs):
        t0 = time.perf_counter()
        engine.run_query(path, specs, query, max_rows=cfg.query_max_rows, limits=limits)
        if i >= WARMUPS:
            times.append(time.perf_counter() - t0)
    return _ms(times)


def stored_file(server: Server, dataset_id: int) -> Path:
    (path,) = (server.data_dir / "datasets").glob(f"*/{dataset_id}/*.parquet")
    return path


def augury_side(csv: Path, runs: int, loads: dict) -> dict:
    with (
        tempfile.TemporaryDirectory(prefix="augury-bench-datasets-") as tmp,
        serve(Path(tmp)) as server,
        httpx.Client(base_url=server.url, timeout=120) as http,
        TreeSampler(server.proc.pid) as sampler,
    ):
        headers = api_key(http)
        loads["server_up"] = _load()
        sampler.phase = "upload"
        answer, upload_s = upload(http, headers, csv)
        client_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        server_hwm_upload = vm_hwm_mb(server.proc.pid)
        sampler.phase = "profile"
        version = answer["version"]
        status, profile_wait_s = wait_profile(http, headers, answer["id"])
        sampler.phase = "query"
        job = finished_job(http, headers, version["profile_job_id"])
        loads["after_profile"] = _load()
        out: dict = {
            "upload_s": round(upload_s, 2),
            "rows": version["rows"],
            "source_bytes": version["source_bytes"],
            "stored_bytes": version["stored_bytes"],
            "columns": {c["name"]: c["physical"] for c in version["columns"]},
            "profile_status": status,
            "profile_error": None,
            "profile_wait_s": round(profile_wait_s, 2),
            "profile_job": {
                "status": job["status"],
                "queued_to_finished_s": _seconds(job["created_at"], job["finished_at"]),
                "run_s": _seconds(job["started_at"], job["finished_at"]),
                "cpu_s": job["cpu_seconds"],
                "kernel_peak_rss_mb": job["peak_memory_mb"],
            },
            "upload_plus_profile_s": round(upload_s + profile_wait_s, 2),
            "client_peak_rss_mb": client_rss_mb,
            "server_vmhwm_mb": {"after_upload": server_hwm_upload},
        }
        profile = http.get(f"/api/v1/datasets/{answer['id']}/profile", headers=headers).json()
        if status != "complete":
            out["profile_error"] = profile["profile_error"]
            specs = None
        else:
            specs = profile_specs(profile["profile"])
            out["types"] = {c["name"]: c["type"] for c in profile["profile"]["columns"]}
        path = stored_file(server, answer["id"])
        out["queries"] = {}
        for name in queries.NAMES:
            body = queries.API[name]
            result = {"http": http_latency(http, headers, answer["id"], body, runs)}
            if specs is not None:
                result["engine"] = engine_latency(path, specs, body, runs)
            out["queries"][name] = result
        out["runs"] = runs
        out["server_vmhwm_mb"]["end"] = vm_hwm_mb(server.proc.pid)
        loads["after_queries"] = _load()
    out["rss_mb"] = sampler.peaks_mb()
    out["rss_samples"] = sampler.samples
    return out


def peer(kind: str, csv: Path, runs: int) -> dict:
    """A peer in its own process (its peak memory is its own); a crash is a result too."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.datasets.peers", kind, str(csv), "--runs", str(runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return {
            "error": f"exit {proc.returncode} after {time.perf_counter() - t0:.0f} s "
            f"(-9: killed, most likely out of memory): {proc.stderr[-1500:]}"
        }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def verdicts(a: dict) -> dict[str, bool]:
    """Each target, met or not, from the figures (a missing figure is not met)."""
    rss = a["rss_mb"]
    server_peak = max(rss.get(p, {}).get("server", 0) for p in ("upload", "profile", "query"))
    job_peak = max(
        rss.get("profile", {}).get("job", 0), a["profile_job"]["kernel_peak_rss_mb"] or 0
    )
    return {
        "server_peak_rss": 0 < server_peak <= TARGETS["peak_rss_mb"],
        "job_peak_rss": 0 < job_peak <= TARGETS["peak_rss_mb"],
        "profile": a["profile_status"] == "complete"
        and a["profile_wait_s"] <= TARGETS["profile_s"],
        "group_by_p50": a["queries"]["group_by"]["http"]["p50_ms"] <= TARGETS["group_by_p50_ms"],
    }


def run(rows: int, seed: int, scratch: Path, runs: int, peer_runs: int) -> dict:
    loads = {"start": _load()}
    csv, file_info = ensure_csv(scratch, rows, seed)
    loads["csv_ready"] = _load()
    a = augury_side(csv, runs, loads)
    pandas = peer("pandas", csv, peer_runs)
    loads["after_pandas"] = _load()
    duck = peer("duckdb", csv, max(1, peer_runs - 2))
    loads["end"] = _load()
    return {
        "command": COMMAND,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {**machine(), "memory_gb": round(_memory_bytes() / 2**30, 1)},
        "load_avg_1m": loads,
        "targets": TARGETS,
        "csv": {**file_info, "path": str(csv)},
        "augury": a,
        "met": verdicts(a),
        "pandas": pandas,
        "duckdb_on_csv": duck,
    }


def _memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=ROWS, help="Rows of the CSV (200000: smoke).")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument(
        "--scratch",
        type=Path,
        default=Path(tempfile.gettempdir()) / "augury-bench-datasets",
        help="Where the CSV is written and kept between runs.",
    )
    ap.add_argument("--runs", type=int, default=20, help="Timed runs of each query.")
    ap.add_argument("--peer-runs", type=int, default=5, help="Timed runs of each pandas query.")
    ap.add_argument("--write", action="store_true", help="Write results for a --rows run too.")
    ap.add_argument("--doc-only", action="store_true", help="Rewrite the doc from the JSON.")
    args = ap.parse_args(argv)
    if args.doc_only:
        write_doc(json.loads(JSON_OUT.read_text()))
        return 0
    result = run(args.rows, args.seed, args.scratch, args.runs, args.peer_runs)
    print(json.dumps(result, indent=2), flush=True)
    if args.rows != ROWS and not args.write:
        return 0
    JSON_OUT.parent.mkdir(parents=True, exist_ok=True)
    JSON_OUT.write_text(json.dumps(result, indent=2) + "\n")
    write_doc(result)
    return 0


def write_doc(out: dict) -> None:
    """The ``## Datasets`` section: filled in once real figures exist (see below)."""
    replace_section("Datasets", "## Datasets\n\n" + json.dumps(out["met"]) + "\n")


if __name__ == "__main__":
    sys.exit(main())
