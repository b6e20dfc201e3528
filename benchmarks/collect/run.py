"""Collectors: ``python -m benchmarks.collect.run`` (``make bench-collect``).

A real PostgreSQL server (Debian's, started in a temporary folder) and a real
``augury serve`` (SQLite, its collector loop on) on this machine; everything goes
through augury's HTTP API as a user's would.

* **Backfill**: a table of ``--rows`` rows (10 million by default: one week of events,
  about 1,000 a minute, 10 countries x 5 devices, two measures) is connected as a
  ``psql`` source and a stream over it (``clicks`` a counter, ``revenue`` a gauge,
  ``country`` and ``device`` dimensions, polled every minute, history ``w1``) is
  created; the clock starts at the create request and stops when the stream reports
  it is caught up (status ``ok``). Figures: rows/s read and turned into points,
  points and metrics produced, the number of polls, and how long the stream processor
  then took to move every point from the inbox into place. Beside it, the **source's
  own ceiling**: the same rows fetched by a plain psycopg server-side cursor (no
  augury), in the same run.
* **Steady state**: ``--streams`` streams (100) over one table, one per host
  (``WHERE host = 'hNN'``, a custom query), every minute; a feeder inserts 10 rows per
  host and minute. After they caught up, the server's CPU time (its process and
  children) is measured over ``--minutes`` wall-clock minutes (5), with the streams'
  lag and the polls' durations (from their run history).

Writes ``benchmarks/results/collect.json`` and the ``## Collectors`` section of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import psutil
import psycopg

from benchmarks.collect.postgres import postgres
from benchmarks.docs import replace_section
from benchmarks.ingest.run import Server, machine, serve

ROOT = Path(__file__).resolve().parents[2]
JSON_OUT = ROOT / "benchmarks" / "results" / "collect.json"
COMMAND = "make bench-collect  (= .venv/bin/python -m benchmarks.collect.run)"
COUNTRIES, DEVICES = 10, 5
WEEK_MIN = 7 * 1440


# ------------------------------------------------------------------------ the source


def build_events(url: str, rows: int, end: datetime) -> float:
    """``events``: ``rows`` rows spread evenly over the week before ``end`` (minute
    aligned); seconds it took."""
    per_minute = rows / WEEK_MIN
    t = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "CREATE TABLE events (ts timestamptz NOT NULL, country text NOT NULL, "
            "device text NOT NULL, clicks integer NOT NULL, revenue double precision NOT NULL)"
        )
        c.execute(
            "INSERT INTO events SELECT "
            "%(end)s - interval '1 week' + (i / %(pm)s) * interval '1 minute', "
            "'c' || (i %% %(nc)s), 'd' || ((i / %(nc)s) %% %(nd)s), "
            "(i * 7) %% 13, ((i * 13) %% 1000) / 10.0 "
            "FROM generate_series(0, %(n)s - 1) AS i",
            {"end": end, "pm": per_minute, "nc": COUNTRIES, "nd": DEVICES, "n": rows},
        )
        c.execute("CREATE INDEX ON events (ts)")
        c.execute("ANALYZE events")
    return time.perf_counter() - t


def raw_fetch(url: str) -> dict:
    """The source's ceiling: every row of ``events`` through a server-side cursor."""
    t = time.perf_counter()
    n = 0
    with psycopg.connect(url) as c, c.cursor(name="all") as cur:
        cur.itersize = 100_000
        cur.execute("SELECT ts, country, device, clicks, revenue FROM events")
        while batch := cur.fetchmany(100_000):
            n += len(batch)
    s = time.perf_counter() - t
    return {"rows": n, "seconds": round(s, 2), "rows_per_s": round(n / s)}


# ------------------------------------------------------------------------ augury


def owner_client(server: Server) -> httpx.Client:
    http = httpx.Client(base_url=server.url, timeout=120)
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
    http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return http


def make_source(http: httpx.Client, url: str) -> int:
    parsed = httpx.URL(url)
    r = http.post(
        "/api/v1/data-sources",
        json={
            "name": "bench postgres",
            "type": "psql",
            "config": {
                "host": parsed.host,
                "port": parsed.port,
                "database": parsed.path.strip("/"),
                "user": "postgres",
                "ssl": "disable",
            },
            "secret": {},
        },
    )
    r.raise_for_status()
    return r.json()["id"]


def events_stream(source_id: int) -> dict:
    return {
        "name": "events",
        "dataSourceId": source_id,
        "tableName": "events",
        "schemaName": "public",
        "timestampColumn": "ts",
        "timestampType": "TIMESTAMP",
        "schema": {
            "columns": [
                {
                    "name": "clicks",
                    "type": "metric",
                    "targetType": "counter",
                    "sourceColumn": "clicks",
                },
                {
                    "name": "revenue",
                    "type": "metric",
                    "targetType": "gauge",
                    "sourceColumn": "revenue",
                },
                {"name": "country", "type": "dimension", "sourceColumn": "country"},
                {"name": "device", "type": "dimension", "sourceColumn": "device"},
            ]
        },
        "pollingInterval": "m1",
        "historicalDateRange": {"constRange": "w1"},
        "delayMinutes": 0,
        "timeZone": "UTC",
    }


def wait_caught_up(http: httpx.Client, stream_ids: list[int], timeout: float) -> dict[int, dict]:
    deadline = time.monotonic() + timeout
    while True:
        states = {i: http.get(f"/api/v1/data-streams/{i}").json() for i in stream_ids}
        failing = {i: s for i, s in states.items() if s["status"] == "error"}
        if failing:
            raise RuntimeError(f"streams failed: {json.dumps(failing)[:2000]}")
        if all(s["status"] == "ok" for s in states.values()):
            return states
        if time.monotonic() > deadline:
            raise RuntimeError(f"streams not caught up after {timeout} s")
        time.sleep(0.5)


def inbox_rows(server: Server) -> int:
    import sqlite3

    with sqlite3.connect(server.db_path, timeout=60) as c:
        return c.execute("SELECT count(*) FROM metric_point_inbox").fetchone()[0]


def backfill(server: Server, http: httpx.Client, url: str, source_id: int) -> dict:
    t = time.perf_counter()
    r = http.post("/api/v1/data-streams", json=events_stream(source_id))
    r.raise_for_status()
    stream_id = r.json()["id"]
    state = wait_caught_up(http, [stream_id], timeout=3600)[stream_id]
    seconds = time.perf_counter() - t
    runs = http.get(f"/api/v1/data-streams/{stream_id}/runs", params={"limit": 200}).json()
    t = time.perf_counter()
    while inbox_rows(server):
        time.sleep(0.5)
    compacted = time.perf_counter() - t
    metrics = http.get(
        "/api/v1/data-streams/metrics/total", params={"streamId": stream_id, "timeRange": "day"}
    ).json()["total"]
    return {
        "rows_read": state["rowsRead"],
        "points": state["pointsWritten"],
        "metrics": metrics,
        "polls": runs["total"],
        "seconds": round(seconds, 1),
        "rows_per_s": round(state["rowsRead"] / seconds),
        "points_per_s": round(state["pointsWritten"] / seconds),
        "inbox_drained_s_after": round(compacted, 1),
    }


# ------------------------------------------------------------------------ steady state


def feed(url: str, hosts: int, stop: threading.Event) -> None:
    """10 rows per host for every minute, written a second into the minute."""
    with psycopg.connect(url, autocommit=True) as c:
        while not stop.is_set():
            now = datetime.now(UTC)
            minute = now.replace(second=0, microsecond=0)
            c.execute(
                "INSERT INTO live SELECT %(m)s + (j * 5) * interval '1 second', "
                "'h' || lpad(h::text, 3, '0'), j, 1.0 + h "
                "FROM generate_series(0, %(n)s - 1) h, generate_series(0, 9) j",
                {"m": minute, "n": hosts},
            )
            wait = 61 - (datetime.now(UTC) - minute).total_seconds()
            stop.wait(max(1.0, wait))


def steady(
    server: Server, http: httpx.Client, url: str, source_id: int, streams: int, minutes: int
) -> dict:
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE TABLE live (ts timestamptz, host text, n integer, load double precision)")
        c.execute("CREATE INDEX ON live (host, ts)")
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=(url, streams, stop), daemon=True)
    feeder.start()
    ids = []
    for h in range(streams):
        body = {
            "name": f"host {h:03d}",
            "dataSourceId": source_id,
            "customQuery": True,
            "query": f"SELECT ts, host, n, load FROM live WHERE host = 'h{h:03d}'",
            "timestampColumn": "ts",
            "timestampType": "TIMESTAMP",
            "schema": {
                "columns": [
                    {
                        "name": "requests",
                        "type": "metric",
                        "targetType": "counter",
                        "sourceColumn": "n",
                    },
                    {
                        "name": "load",
                        "type": "metric",
                        "targetType": "gauge",
                        "sourceColumn": "load",
                    },
                    {"name": "host", "type": "dimension", "sourceColumn": "host"},
                ]
            },
            "pollingInterval": "m1",
            "historicalDateRange": {"constRange": "h1"},
            "delayMinutes": 0,
            "timeZone": "UTC",
        }
        r = http.post("/api/v1/data-streams", json=body)
        r.raise_for_status()
        ids.append(r.json()["id"])
    wait_caught_up(http, ids, timeout=600)
    proc = psutil.Process(server.proc.pid)

    def cpu() -> float:
        total = sum(proc.cpu_times()[:2])
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                total += sum(child.cpu_times()[:2])
        return total

    started_cpu, started = cpu(), time.monotonic()
    since = datetime.now(UTC)
    lags: list[float] = []
    for _ in range(minutes):
        time.sleep(60)
        for i in ids:
            state = http.get(f"/api/v1/data-streams/{i}").json()
            lags.append(state["lagSeconds"])
    used_cpu, wall = cpu() - started_cpu, time.monotonic() - started
    stop.set()
    durations = []
    for i in ids:
        for run in http.get(f"/api/v1/data-streams/{i}/runs", params={"limit": 100}).json()[
            "items"
        ]:
            if datetime.fromtimestamp(run["startTime"], UTC) >= since and run["status"] == "ok":
                durations.append(run["durationMs"])
    return {
        "streams": streams,
        "minutes": round(wall / 60, 2),
        "cpu_s_per_minute": round(used_cpu / (wall / 60), 2),
        "cpu_share_of_one_core": round(used_cpu / wall, 3),
        "polls": len(durations),
        "poll_ms_p50": round(float(np.percentile(durations, 50)), 1) if durations else None,
        "poll_ms_p95": round(float(np.percentile(durations, 95)), 1) if durations else None,
        "lag_s_p50": round(float(np.percentile(lags, 50)), 1),
        "lag_s_max": round(float(max(lags)), 1),
    }


# ------------------------------------------------------------------------ report


def write_doc(out: dict) -> None:
    b, s, raw, m = out["backfill"], out["steady"], out["raw_fetch"], out["machine"]
    replace_section(
        "Collectors",
        "## Collectors\n\n"
        f"Command: `{COMMAND}` (figures in `benchmarks/results/collect.json`).\n\n"
        f"Machine: {m['cpus']} CPUs ({m['cpu_model'] or 'unknown model'}), Python "
        f"{m['python']}; PostgreSQL {out['postgres']}, augury (SQLite) and the benchmark "
        "share the CPUs.\n\n"
        f"**Backfill** of a {out['rows']:,}-row PostgreSQL table (one week of events, "
        f"{COUNTRIES} countries x {DEVICES} devices, a counter and a gauge; stream polled "
        "every minute with history `w1`), from the create request to the stream "
        "reporting it is caught up:\n\n"
        "| | rows | seconds | rows/s | points | metrics | polls |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n"
        f"| augury collector (read, map, write to the inbox) | {b['rows_read']:,} | "
        f"{b['seconds']} | {b['rows_per_s']:,} | {b['points']:,} | {b['metrics']} | "
        f"{b['polls']} |\n"
        f"| psycopg server-side cursor, rows only (the source's ceiling) | {raw['rows']:,} | "
        f"{raw['seconds']} | {raw['rows_per_s']:,} | | | |\n\n"
        + (
            "The stream processor kept up: the metrics inbox was empty when the stream "
            "reported it was caught up. "
            if b["inbox_drained_s_after"] < 1
            else f"The stream processor then moved the inbox into place in "
            f"{b['inbox_drained_s_after']} s more. "
        )
        + f"The collector read {b['rows_read']:,} rows: those inside the stream's history "
        "(a week back from the first bucket it collected; the table starts a little "
        "earlier). Its rate is set by turning rows into points and writing them "
        f"(SQLite), not by reading: the same rows come out of PostgreSQL "
        f"{raw['rows_per_s'] / b['rows_per_s']:.1f} times as fast.\n\n"
        f"**Steady state**: {s['streams']} streams (one custom query per host) polled every "
        f"minute for {s['minutes']} minutes while 10 rows per host arrive each minute: the "
        f"server used {s['cpu_s_per_minute']} CPU-seconds per minute "
        f"({s['cpu_share_of_one_core'] * 100:.1f}% of one core, collector, stream processor "
        f"and API together); {s['polls']} polls, p50 {s['poll_ms_p50']} ms, p95 "
        f"{s['poll_ms_p95']} ms each; lag p50 {s['lag_s_p50']} s, max {s['lag_s_max']} s "
        "(a bucket is collected once it is complete, so up to one interval plus the tick "
        "is expected).\n\n",
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--minutes", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="Print only.")
    args = ap.parse_args(argv)
    out: dict = {"rows": args.rows, "command": COMMAND}
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp).chmod(0o755)  # the server runs as the postgres user when this is root
        (Path(tmp) / "augury").mkdir()
        run(Path(tmp), args, out)
    out["machine"] = machine()
    print(json.dumps(out, indent=2))
    if args.no_write:
        return 0
    JSON_OUT.parent.mkdir(parents=True, exist_ok=True)
    JSON_OUT.write_text(json.dumps(out, indent=2) + "\n")
    write_doc(out)
    return 0


def run(tmp: Path, args: argparse.Namespace, out: dict) -> None:
    with postgres(tmp / "source") as url:
        end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
        out["build_s"] = round(build_events(url, args.rows, end), 1)
        with psycopg.connect(url) as c:
            out["postgres"] = c.execute("SHOW server_version").fetchone()[0].split()[0]
        out["raw_fetch"] = raw_fetch(url)
        print("raw", out["raw_fetch"], flush=True)
        env = {"AUGURY_COLLECT__ALLOWED_PRIVATE_NETWORKS": "127.0.0.1"}
        with serve(tmp / "augury", env) as server:
            http = owner_client(server)
            source_id = make_source(http, url)
            out["backfill"] = backfill(server, http, url, source_id)
            print("backfill", out["backfill"], flush=True)
            if args.streams:
                out["steady"] = steady(server, http, url, source_id, args.streams, args.minutes)
                print("steady", out["steady"], flush=True)


if __name__ == "__main__":
    sys.exit(main())
