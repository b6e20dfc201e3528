"""Real metric senders against a real augury server over loopback HTTP (no mocks).

- a real Prometheus server (the Debian ``prometheus`` package) scraping augury's own
  ``/metrics`` and itself, with ``remote_write`` to ``/api/v1/prom/write``;
- influxdb-client's write API (what Telegraf's ``outputs.influxdb_v2`` speaks, gzip
  included) and a raw gzip body as Telegraf sends it, to ``/api/v2/write``;
- OpenTelemetry's Prometheus remote-write exporter, to ``/api/v1/prom/write``;
- Anodot 2.0 JSON with ``?token=``, as Anodot's documented curl call does.

Every test reads the points back through the API and compares names, dimensions,
values and timestamps exactly.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.app import free_port
from tests.fixtures.factories import make_key, signup

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 60.0, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy (or fail after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Augury:
    """The live server seen by one organization through an ingest+read API key."""

    url: str
    key: str
    http: httpx.Client

    def metrics(self, what: str, **dims: str) -> list[dict]:
        """Every metric named ``what`` that has (at least) the dimensions ``dims``."""
        q = " AND ".join(f"{k}={_quote(v)}" for k, v in {"what": what, **dims}.items())
        r = self.http.get("/api/v1/metrics", params={"q": q, "limit": 1000})
        assert r.status_code == 200, r.text
        return r.json()["items"]

    def metric(self, what: str, dims: dict[str, str]) -> dict | None:
        """The metric with exactly these dimensions, or None."""
        found = [m for m in self.metrics(what, **dims) if m["dimensions"] == dims]
        assert len(found) <= 1, found
        return found[0] if found else None

    def series(self, metric_id: int, start: float, end: float, resolution: str = "native") -> dict:
        r = self.http.get(
            f"/api/v1/metrics/{metric_id}/timeseries",
            params={"resolution": resolution, "from": start, "to": end},
        )
        assert r.status_code == 200, r.text
        return r.json()

    def points(self, what: str, dims: dict[str, str], start: float, end: float) -> list:
        """[(timestamp, value)] of the metric at native resolution ([] if it is unknown)."""
        metric = self.metric(what, dims)
        if metric is None:
            return []
        body = self.series(metric["id"], start, end)
        return list(zip(body["timestamps"], body["values"], strict=True))

    def stored(self, expected: dict[tuple[str, tuple], list], start: float, end: float) -> dict:
        """The stored points of every (what, sorted dimension items) key of ``expected``."""
        return {key: self.points(key[0], dict(key[1]), start, end) for key in expected}


@pytest.fixture
def augury(live_server):
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        account = signup(http, org="Senders")
        key = make_key(http, account, ["ingest", "read"], name="senders")
        http.headers["Authorization"] = f"Bearer {key}"
        yield Augury(live_server.url, key, http)


def _key(what: str, **dims: str) -> tuple[str, tuple]:
    return what, tuple(sorted(dims.items()))


# ------------------------------------------------------------------------ Anodot 2.0


def test_anodot20_json_with_token_in_url(augury):
    """POST /api/v1/metrics?protocol=anodot20&token=... as Anodot's curl example does."""
    base = (int(time.time()) // 60 - 10) * 60  # ten minutes ago, on a minute boundary
    body = [
        {
            "properties": {"what": "cpu", "host": "web-1", "region": "eu"},
            "timestamp": base + i * 20,
            "value": 10 + i * 1.25,
        }
        for i in range(6)  # two whole minutes at 20 s
    ]
    body += [
        {
            "properties": {"what": "requests", "host": "web-1", "target_type": "counter"},
            "tags": {"team": ["web"]},
            "timestamp": base + 30,
            "value": 1234567,
        },
        {"properties": {"what": "cpu", "host": "web-2"}, "timestamp": base, "value": -0.5},
        # in the future by more than an hour: refused with Anodot's code, others kept
        {
            "properties": {"what": "cpu", "host": "web-3"},
            "timestamp": base + 7200 + 1200,
            "value": 1,
        },
    ]
    with httpx.Client(timeout=30) as curl:  # no Authorization header, only ?token=
        r = curl.post(
            f"{augury.url}/api/v1/metrics",
            params={"protocol": "anodot20", "token": augury.key},
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["accepted"] == 8 and answer["rejected"] == 1
    assert [(e["index"], e["error"]) for e in answer["errors"]] == [(8, 2022)]

    expected = {
        _key("cpu", host="web-1", region="eu"): [(base + i * 20, 10 + i * 1.25) for i in range(6)],
        _key("requests", host="web-1"): [(base + 30, 1234567.0)],
        _key("cpu", host="web-2"): [(base, -0.5)],
    }
    assert augury.stored(expected, base - 60, base + 3600) == expected
    assert augury.metric("cpu", {"host": "web-3"}) is None

    requests = augury.metric("requests", {"host": "web-1"})
    assert requests["target_type"] == "counter" and requests["tags"] == {"team": ["web"]}
    assert requests["source"] == "anodot20" and requests["name"] == "what=requests.host=web-1"

    # First/last timestamps move once the stream processor has put the points in place.
    def placed():
        m = augury.metric("cpu", {"host": "web-1", "region": "eu"})
        return m if m["last_ts"] is not None else None

    cpu = wait_for(placed, timeout=30, what="first/last timestamps")
    assert (cpu["first_ts"], cpu["last_ts"]) == (base, base + 100)

    # The stream processor rolls the points up: two 1-minute buckets of three points.
    def rolled_up():
        s = augury.series(cpu["id"], base, base + 120, resolution="1m")
        return s if s["count"] == [3, 3] else None

    minute = wait_for(rolled_up, timeout=30, what="1m rollups")
    assert minute["timestamps"] == [base, base + 60]
    assert minute["values"] == [pytest.approx(11.25), pytest.approx(15.0)]
    assert (minute["min"], minute["max"]) == ([10.0, 13.75], [12.5, 16.25])


# ----------------------------------------------------------- InfluxDB v2 / Telegraf


@pytest.mark.parametrize("gzip_body", [True, False], ids=["gzip", "plain"])
def test_influxdb_client_write_api(augury, gzip_body):
    """influxdb-client, synchronous writes, each precision; gzip as Telegraf can send it."""
    from influxdb_client import InfluxDBClient, Point, WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS

    sec = int(time.time()) - 600
    stamps = {  # precision -> (timestamp in its unit, expected epoch seconds)
        WritePrecision.NS: (sec * 10**9 + 123_456_789, sec + 123_456_789 / 10**9),
        WritePrecision.US: ((sec + 1) * 10**6 + 250_001, sec + 1 + 250_001 / 10**6),
        WritePrecision.MS: ((sec + 2) * 10**3 + 500, sec + 2.5),
        WritePrecision.S: (sec + 3, float(sec + 3)),
    }
    expected: dict[tuple[str, tuple], list] = {}
    with InfluxDBClient(
        url=augury.url, token=augury.key, org="acme", enable_gzip=gzip_body, timeout=30_000
    ) as client:
        write = client.write_api(write_options=SYNCHRONOUS)
        for n, (precision, (raw, seconds)) in enumerate(stamps.items()):
            points = [
                Point("cpu")
                .tag("host", "web-1")
                .tag("cpu", "cpu-total")
                .field("usage_idle", 97.25 - n)
                .field("usage_user", 1.5 + n)
                .time(raw, precision),
                Point("disk")
                .tag("host", "web-1")
                .tag("path", "/var/lib/my data")  # a space in a tag value
                .field("used", 2**40 + n)  # an integer field (written as 1099511627776i)
                .field("read_only", n % 2 == 1)  # a boolean field
                .field("fstype", "ext4")  # a string field: skipped
                .time(raw, precision),
            ]
            write.write(bucket="telegraf", record=points, write_precision=precision)
            for what, dims, value in [
                ("cpu.usage_idle", {"host": "web-1", "cpu": "cpu-total"}, 97.25 - n),
                ("cpu.usage_user", {"host": "web-1", "cpu": "cpu-total"}, 1.5 + n),
                ("disk.used", {"host": "web-1", "path": "/var/lib/my data"}, float(2**40 + n)),
                ("disk.read_only", {"host": "web-1", "path": "/var/lib/my data"}, float(n % 2)),
            ]:
                expected.setdefault(_key(what, **dims), []).append((seconds, value))
        # A line-protocol string, as Telegraf batches it, through the same client.
        write.write(
            bucket="telegraf",
            record=f"mem,host=web-1 used_percent=42.5,available=1024i {sec + 4}",
            write_precision=WritePrecision.S,
        )
    expected[_key("mem.used_percent", host="web-1")] = [(float(sec + 4), 42.5)]
    expected[_key("mem.available", host="web-1")] = [(float(sec + 4), 1024.0)]

    assert augury.stored(expected, sec - 60, sec + 60) == expected
    assert augury.metrics("disk.fstype") == []
    cpu = augury.metric("cpu.usage_idle", {"host": "web-1", "cpu": "cpu-total"})
    assert cpu["source"] == "influx" and cpu["target_type"] == "gauge"


def test_telegraf_gzip_body_over_raw_http(augury):
    """The request Telegraf's outputs.influxdb_v2 makes: gzip body, `Token` auth."""
    ns = (int(time.time()) - 300) * 10**9
    lines = [
        f"cpu,cpu=cpu-total,host=web-1 usage_idle=97.5,usage_user=1.25,usage_system=0.75 {ns}",
        f'system,host=web-1 load1=0.5,n_cpus=2i,uptime=86400i,uptime_format="1 day,  0:00" {ns}',
        f"net,host=web-1,interface=eth0 bytes_recv=123456789u,err_in=0i {ns}",
    ]
    body = gzip.compress(("\n".join(lines) + "\n").encode())
    headers = {
        "Authorization": f"Token {augury.key}",
        "Content-Encoding": "gzip",
        "Content-Type": "text/plain; charset=utf-8",
        "User-Agent": "Telegraf/1.30.0 Go/1.22.1",
    }
    with httpx.Client(base_url=augury.url, timeout=30) as telegraf:
        r = telegraf.post(
            "/api/v2/write",
            params={"bucket": "telegraf", "org": "acme", "precision": "ns"},
            content=body,
            headers=headers,
        )
        assert r.status_code == 204, r.text
        assert r.content == b""

        # A batch with a bad line: InfluxDB's partial write (400, good lines stored).
        bad = f"cpu,host=web-2 usage_idle=1 {ns}\ncpu,host=web-2 usage_idle=oops {ns}\n"
        r = telegraf.post(
            "/api/v2/write",
            params={"bucket": "telegraf", "org": "acme"},
            content=gzip.compress(bad.encode()),
            headers=headers,
        )
        assert r.status_code == 400
        assert r.json()["code"] == "invalid" and r.json()["line"] == 2

    ts = ns / 10**9
    cpu, system = {"cpu": "cpu-total", "host": "web-1"}, {"host": "web-1"}
    net = {"host": "web-1", "interface": "eth0"}
    expected = {
        _key("cpu.usage_idle", **cpu): [(ts, 97.5)],
        _key("cpu.usage_user", **cpu): [(ts, 1.25)],
        _key("cpu.usage_system", **cpu): [(ts, 0.75)],
        _key("system.load1", **system): [(ts, 0.5)],
        _key("system.n_cpus", **system): [(ts, 2.0)],
        _key("system.uptime", **system): [(ts, 86400.0)],
        _key("net.bytes_recv", **net): [(ts, 123456789.0)],
        _key("net.err_in", **net): [(ts, 0.0)],
        _key("cpu.usage_idle", host="web-2"): [(ts, 1.0)],
    }
    assert augury.stored(expected, ts - 60, ts + 60) == expected
    assert augury.metrics("system.uptime_format") == []


# ------------------------------------------------ OpenTelemetry remote-write exporter


@pytest.mark.parametrize("auth", ["bearer", "basic"])
def test_opentelemetry_remote_write_exporter(augury, auth):
    from opentelemetry.exporter.prometheus_remote_write import (
        PrometheusRemoteWriteMetricsExporter as Exporter,
    )
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult

    if auth == "bearer":
        credentials = {"headers": {"Authorization": f"Bearer {augury.key}"}}
    else:  # Prometheus-style basic auth, the API key as the password
        credentials = {"basic_auth": {"username": "augury", "password": augury.key}}
    exporter = Exporter(
        endpoint=f"{augury.url}/api/v1/prom/write", resources_as_labels=False, **credentials
    )
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("augury-e2e")
    requests = meter.create_counter("requests", unit="1")
    depth = meter.create_up_down_counter("queue_depth")
    latency = meter.create_histogram("latency", unit="ms")

    def export() -> int:
        """Export one collection; return its timestamp (ms) as the exporter sends it."""
        data = reader.get_metrics_data()
        stamps = {
            p.time_unix_nano // 1_000_000
            for rm in data.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
            for p in m.data.data_points
        }
        assert len(stamps) == 1
        assert exporter.export(data) is MetricExportResult.SUCCESS  # HTTP 2xx
        return stamps.pop()

    requests.add(3, {"route": "/api/v1/x", "method": "GET"})
    requests.add(4, {"route": "/api/v1/x", "method": "GET"})
    requests.add(1, {"route": "/health", "method": "HEAD"})
    depth.add(-2.5, {"queue": "jobs"})
    for ms in (3, 30, 300):
        latency.record(ms, {"route": "/health"})
    first = export()
    time.sleep(0.01)  # a later collection must carry a later millisecond
    requests.add(5, {"route": "/api/v1/x", "method": "GET"})
    second = export()
    assert second > first

    t1, t2 = first / 1000, second / 1000
    get = {"route": "/api/v1/x", "method": "GET"}
    expected = {
        _key("requests_1", **get): [(t1, 7.0), (t2, 12.0)],
        _key("requests_1", route="/health", method="HEAD"): [(t1, 1.0), (t2, 1.0)],
        _key("queue_depth", queue="jobs"): [(t1, -2.5), (t2, -2.5)],
        _key("latency_ms_sum", route="/health"): [(t1, 333.0), (t2, 333.0)],
        _key("latency_ms_count", route="/health"): [(t1, 3.0), (t2, 3.0)],
        _key("latency_ms", route="/health", le="5.0"): [(t1, 1.0), (t2, 1.0)],
        _key("latency_ms", route="/health", le="50.0"): [(t1, 1.0), (t2, 1.0)],
        _key("latency_ms", route="/health", le="500.0"): [(t1, 1.0), (t2, 1.0)],
        _key("latency_ms", route="/health", le="+Inf"): [(t1, 0.0), (t2, 0.0)],
    }
    assert augury.stored(expected, t1 - 60, t2 + 60) == expected
    assert augury.metric("requests_1", get)["source"] == "prometheus"


# ----------------------------------------------------------- a real Prometheus server

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


@dataclass
class Prometheus:
    url: str
    proc: subprocess.Popen
    log: Path

    def query(self, promql: str) -> list[dict]:
        r = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["data"]["result"]

    def own_metrics(self) -> dict[tuple[str, tuple], float]:
        """Its /metrics as (sample name, sorted labels) -> value."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }


@pytest.fixture
def prometheus(live_server, augury, tmp_path):
    """Prometheus 2.x scraping augury and itself every second, remote-writing to augury."""
    if not Path(PROMETHEUS).exists():
        pytest.fail("prometheus is not installed: apt-get install prometheus (.ci/run does)")
    port = free_port()
    target = live_server.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        json.dumps(  # JSON is YAML
            {
                "global": {
                    "scrape_interval": "1s",
                    "scrape_timeout": "1s",
                    "evaluation_interval": "1s",
                    "external_labels": {"cluster": "e2e"},
                },
                "scrape_configs": [
                    {
                        "job_name": "augury",
                        "metrics_path": "/metrics",
                        "static_configs": [{"targets": [target], "labels": {"env": "aug test.1"}}],
                    },
                    {
                        "job_name": "prometheus",
                        "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
                    },
                ],
                "remote_write": [
                    {
                        "url": f"{live_server.url}/api/v1/prom/write",
                        "authorization": {"credentials": augury.key},
                        "queue_config": {
                            "batch_send_deadline": "1s",
                            "min_backoff": "100ms",
                            "max_backoff": "1s",
                        },
                    }
                ],
            },
            indent=2,
        )
    )
    log = tmp_path / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.remote.flush-deadline=5s",
                "--log.level=info",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Prometheus(f"http://127.0.0.1:{port}", proc, log)

    def ready() -> bool:
        assert proc.poll() is None, f"prometheus exited: {log.read_text()[-3000:]}"
        try:
            return httpx.get(f"{server.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, timeout=30, what="prometheus to be ready")
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            raise AssertionError(f"prometheus did not stop: {log.read_text()[-3000:]}") from None
        assert proc.returncode == 0, log.read_text()[-3000:]


def _samples(prom: Prometheus, selector: str) -> list[tuple[float, float]]:
    """Raw samples of one series over the last 5 minutes, from Prometheus' own TSDB."""
    [series] = prom.query(f"{selector}[5m]")
    return [(float(t), float(v)) for t, v in series["values"]]


def test_prometheus_server_remote_write(augury, prometheus, live_server):
    host = live_server.url.removeprefix("http://")
    up_dims = {"job": "augury", "instance": host, "env": "aug test.1", "cluster": "e2e"}
    self_dims = {"job": "prometheus", "instance": prometheus.url.removeprefix("http://")}
    self_dims["cluster"] = "e2e"
    start = time.time() - 60
    end = time.time() + 600

    # Scrapes every second arrive through remote write, one point per scrape. A scrape
    # slower than the 1 s timeout on a loaded machine is stored as 0, as Prometheus
    # records it (remote write carries it all): wait for three points of which augury
    # answered at least one, rather than judging the first three.
    def three_scrapes():
        pts = augury.points("up", up_dims, start, end)
        return pts if len(pts) >= 3 and 1.0 in {v for _, v in pts} else None

    points = wait_for(three_scrapes, timeout=90, what="three `up` points, one of them 1")
    assert {value for _, value in points} <= {0.0, 1.0}
    gaps = [b[0] - a[0] for a, b in zip(points, points[1:], strict=False)]
    assert all(0.5 < g < 2.5 for g in gaps), gaps
    up = augury.metric("up", up_dims)
    assert up["dimensions"] == up_dims and up["name"] == (
        f"what=up.cluster=e2e.env=aug test.1.instance={host}.job=augury"
    )
    assert up["source"] == "prometheus"
    assert wait_for(lambda: augury.points("up", {**self_dims}, start, end), what="self `up`")

    # ... and keep arriving.
    newest = points[-1][0]
    wait_for(
        lambda: augury.points("up", up_dims, start, end)[-1][0] >= newest + 2,
        timeout=30,
        what="newer `up` points",
    )

    # Exactly the samples Prometheus stored (timestamps to the millisecond, float values
    # bit for bit), for series of augury's /metrics and of Prometheus' own.
    for what, dims in [
        ("up", up_dims),
        ("scrape_duration_seconds", up_dims),
        ("scrape_samples_scraped", up_dims),
        ("scrape_duration_seconds", self_dims),
        ("prometheus_tsdb_head_series", self_dims),
    ]:
        stored = wait_for(
            lambda what=what, dims=dims: augury.points(what, dims, start, end),
            what=f"{what} {dims}",
        )
        labels = ",".join(f"{k}={_quote(v)}" for k, v in dims.items() if k != "cluster")
        truth = _samples(prometheus, f"{what}{{{labels}}}")
        sent = [p for p in truth if p[0] <= stored[-1][0]]
        assert stored == sent, (what, dims)
        assert all(math.isfinite(v) for _, v in stored)
    stored = augury.points("scrape_duration_seconds", up_dims, start, end)
    assert len({v for _, v in stored}) > 1  # real, varying float values

    # Every remote-write request was answered with a 2xx: nothing failed or retried.
    def sent_samples() -> float:
        own = prometheus.own_metrics()
        totals = {n: v for (n, _), v in own.items() if n.startswith("prometheus_remote_storage")}
        assert totals["prometheus_remote_storage_samples_failed_total"] == 0, totals
        assert totals["prometheus_remote_storage_samples_retried_total"] == 0, totals
        assert totals.get("prometheus_remote_storage_samples_dropped_total", 0) == 0, totals
        return totals["prometheus_remote_storage_samples_total"]

    assert wait_for(sent_samples, what="samples sent") > 0
    text = httpx.get(f"{live_server.url}/metrics", timeout=10).text
    writes = {
        s.labels["status"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "augury_http_requests_total" and s.labels["route"] == "/api/v1/prom/write"
    }
    assert set(writes) == {"204"} and writes["204"] >= 3, writes
    overview = augury.http.get("/api/v1/metrics/overview").json()
    assert overview["accepted_last_hour"] > 0 and overview["metrics"] > 100
