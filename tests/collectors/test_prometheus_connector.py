"""The Prometheus connector against a real Prometheus (the Debian ``prometheus`` package,
as tests/metrics/test_senders.py runs it) with basic auth on, scraping every second a
tiny exposition server that serves fixed gauge values (no mocks)."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from augury.collectors import connectors
from augury.collectors.connectors import (
    ConfigInvalid,
    Limits,
    QueryFailed,
    SourceAuthFailed,
    SourceRefused,
    SourceUnreachable,
    TooManyRows,
    Window,
)
from tests.fixtures.app import free_port
from tests.metrics.test_senders import PROMETHEUS, wait_for

USER = "reader"
PASSWORD = "prom-pass-1234"
# bcrypt (cost 4, fast) of PASSWORD, for Prometheus' web.config.file
PASSWORD_HASH = "$2b$04$of5U9Rh8T85M7JEy.KeIjOyRYZvfpQefzAJj2zGCUZMv61CZl5AL2"
EXPOSITION = b"""# HELP augury_test_temperature A fixed gauge.
# TYPE augury_test_temperature gauge
augury_test_temperature{city="Madrid"} 21.5
augury_test_temperature{city="Oslo"} -3.25
"""
LIMITS = Limits(allowed_private_networks=("127.0.0.1",), timeout_s=10)


class _Exposition(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(EXPOSITION)))
        self.end_headers()
        self.wfile.write(EXPOSITION)

    def log_message(self, *args) -> None:
        pass


@dataclass
class Prometheus:
    url: str
    target: str

    def config(self) -> dict:
        return connectors.check_config(
            "prometheus", {"url": self.url}, {"username": USER, "password": PASSWORD}
        )

    def connect(self, limits: Limits = LIMITS, **secret):
        secret = secret or {"username": USER, "password": PASSWORD}
        return connectors.connect("prometheus", self.config(), secret, limits)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory) -> Iterator[Prometheus]:
    if not Path(PROMETHEUS).exists():
        pytest.fail("prometheus is not installed: apt-get install prometheus (.ci/run does)")
    exposition = ThreadingHTTPServer(("127.0.0.1", 0), _Exposition)
    threading.Thread(target=exposition.serve_forever, daemon=True).start()
    target = f"127.0.0.1:{exposition.server_address[1]}"
    folder = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    (folder / "prometheus.yml").write_text(
        json.dumps(  # JSON is YAML
            {
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                "scrape_configs": [
                    {"job_name": "fixed", "static_configs": [{"targets": [target]}]}
                ],
            }
        )
    )
    (folder / "web.yml").write_text(json.dumps({"basic_auth_users": {USER: PASSWORD_HASH}}))
    log = folder / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--web.config.file={folder / 'web.yml'}",
                f"--storage.tsdb.path={folder / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    auth = (USER, PASSWORD)

    def scraped() -> bool:
        assert proc.poll() is None, f"prometheus exited: {log.read_text()[-3000:]}"
        try:
            r = httpx.get(
                f"{url}/api/v1/query",
                # a second ago, on a whole second: then every evaluation from now on,
                # whole-second ones included, finds the values
                params={"query": "augury_test_temperature", "time": math.floor(time.time()) - 1},
                auth=auth,
                timeout=2,
            )
        except httpx.HTTPError:
            return False
        return r.status_code == 200 and len(r.json()["data"]["result"]) == 2

    try:
        wait_for(scraped, timeout=60, what="prometheus to scrape the fixed gauges")
        yield Prometheus(url, target)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        exposition.shutdown()
        exposition.server_close()


def _window(start: int, seconds: int) -> Window:
    return Window(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + seconds, UTC))


def test_read_gives_labels_value_and_timestamp_per_step(prometheus):
    start = math.ceil(time.time())  # after the first scrape: every evaluation has a value
    conn = prometheus.connect()
    try:
        stream = {"query": "augury_test_temperature", "pollingInterval": "m1"}
        frame = conn.read(stream, _window(start, 120), limit=100)
    finally:
        conn.close()
    assert sorted(frame.columns) == ["__name__", "city", "instance", "job", "timestamp", "value"]
    # two steps of 60 s (the window's end belongs to the next poll), two series each
    assert frame[["timestamp", "city", "value"]].values.tolist() == [
        [start, "Madrid", 21.5],
        [start, "Oslo", -3.25],
        [start + 60, "Madrid", 21.5],
        [start + 60, "Oslo", -3.25],
    ]
    assert set(frame["__name__"]) == {"augury_test_temperature"}
    assert set(frame["job"]) == {"fixed"} and set(frame["instance"]) == {prometheus.target}
    assert str(frame["value"].dtype) == "float64"


def test_aggregations_and_the_preview(prometheus):
    conn = prometheus.connect()
    start = math.ceil(time.time())
    summed = conn.read(
        {"query": "sum by (job) (augury_test_temperature)", "pollingInterval": "hourly"},
        _window(start, 3600),
        limit=10,
    )
    assert summed.to_dict("records") == [{"job": "fixed", "value": 18.25, "timestamp": start}]
    # no window: the last hour at the step up to now, its last `limit` rows (the series
    # is seconds old, so only the evaluation at "now" has a value: one row per series)
    before = math.floor(time.time())
    latest = conn.read({"query": "augury_test_temperature"}, None, limit=3)
    assert latest[["city", "value"]].values.tolist() == [["Madrid", 21.5], ["Oslo", -3.25]]
    assert before <= latest["timestamp"].iloc[-1] <= time.time()
    last = conn.read({"query": "augury_test_temperature"}, None, limit=1)
    assert last[["city", "value"]].values.tolist() == [["Oslo", -3.25]]
    with pytest.raises(TooManyRows, match="more than 3 samples"):
        conn.read({"query": "augury_test_temperature"}, _window(start, 120), limit=3)
    assert list(conn.read({"query": "nothing_here"}, _window(start, 60), limit=5).columns) == [
        "value",
        "timestamp",
    ]


def test_probe_names_the_version_and_metrics(prometheus):
    probe = prometheus.connect().test()
    assert probe.detail.startswith("Prometheus 2.")
    assert "augury_test_temperature" in probe.objects and "up" in probe.objects


def test_bad_promql_is_query_failed_with_prometheus_words(prometheus):
    conn = prometheus.connect()
    with pytest.raises(QueryFailed) as err:
        conn.read({"query": "sum(augury_test_temperature"}, _window(int(time.time()), 60), limit=5)
    assert err.value.code == "query_failed"
    assert err.value.message.startswith("Prometheus refused the query: ")
    assert "parse error" in err.value.message


def test_wrong_password_is_source_auth_without_the_password(prometheus):
    wrong = "not-the-password-42"
    conn = prometheus.connect(username=USER, password=wrong)
    for call in (conn.test, lambda: conn.read({"query": "up"}, None, limit=5)):
        with pytest.raises(SourceAuthFailed) as err:
            call()
        assert "HTTP 401" in err.value.message
        assert wrong not in err.value.message
    with pytest.raises(SourceAuthFailed):
        prometheus.connect(token="some-bearer-token").test()


def test_private_host_needs_the_allow_list_and_a_closed_port_is_unreachable(prometheus):
    with pytest.raises(SourceRefused) as err:
        prometheus.connect(Limits()).test()
    assert "AUGURY_COLLECT__ALLOWED_PRIVATE_NETWORKS" in err.value.message
    config = connectors.check_config("prometheus", {"url": "http://localhost:1/"}, {})
    with pytest.raises(SourceRefused):
        connectors.connect("prometheus", config, {}, Limits()).test()
    closed = connectors.check_config("prometheus", {"url": f"http://127.0.0.1:{free_port()}"}, {})
    with pytest.raises(SourceUnreachable, match="cannot be reached"):
        connectors.connect("prometheus", closed, {}, LIMITS).read({"query": "up"}, None, limit=1)


def test_config_and_stream_checks():
    assert connectors.check_config("prometheus", {"url": "https://prom.example.com/"}, {}) == {
        "url": "https://prom.example.com"
    }
    assert connectors.secret_fields("prometheus") == ("token", "username", "password")
    for config, secret, field in [
        ({}, {}, "config.url"),
        ({"url": "prom:9090"}, {}, "config.url"),
        ({"url": "https://u:p@prom.example.com"}, {}, "config.url"),
        ({"url": "https://prom.example.com?x=1"}, {}, "config.url"),
        ({"url": "https://prom.example.com", "job": "x"}, {}, "config.job"),
        ({"url": "https://prom.example.com"}, {"token": "t", "username": "u"}, "secret.token"),
        ({"url": "https://prom.example.com"}, {"password": "p"}, "secret.username"),
        ({"url": "https://prom.example.com"}, {"apikey": "p"}, "secret.apikey"),
    ]:
        with pytest.raises(ConfigInvalid) as err:
            connectors.check_config("prometheus", config, secret)
        assert err.value.field == field, (config, secret)
    connectors.check_stream("prometheus", {"query": "up", "pollingInterval": "daily"})
    for stream, field in [
        ({}, "query"),
        ({"query": "  "}, "query"),
        ({"query": "up", "pollingInterval": "m2"}, "pollingInterval"),
    ]:
        with pytest.raises(ConfigInvalid) as err:
            connectors.check_stream("prometheus", stream)
        assert err.value.field == field
