"""`augury serve` runs the stream processor as a child process, restarted if it dies."""

from __future__ import annotations

import os
import signal
import time

from fastapi.testclient import TestClient

from tests.fixtures.app import make_app
from tests.fixtures.factories import make_key, signup


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_the_child_processes_points_and_is_restarted_when_it_dies(settings):
    settings.metrics.processor = "process"
    settings.metrics.process_interval_s = 0.1
    app = make_app(settings, run_jobs=True)
    with TestClient(app) as client:
        owner = signup(client)
        key = make_key(client, owner, ["ingest"])
        now = int(time.time()) // 60 * 60

        def send(start):
            body = [
                {"properties": {"what": "q"}, "timestamp": now - 60 * (start + i), "value": 1.0}
                for i in range(5)
            ]
            assert client.post(f"/api/v1/metrics?token={key}", json=body).json()["accepted"] == 5

        def stored():
            items = client.get("/api/v1/metrics", headers=owner.headers).json()["items"]
            return items and items[0]["last_ts"] is not None and items[0]

        send(10)
        metric = _wait(stored)  # compacted by the child, not by this process
        children = [p for p in _children() if "augury.runtime.stream_process" in p[1]]
        assert len(children) == 1
        os.kill(children[0][0], signal.SIGKILL)
        _wait(
            lambda: [p for p in _children() if "stream_process" in p[1] and p[0] != children[0][0]]
        )
        send(0)

        def newest():
            m = client.get(f"/api/v1/metrics/{metric['id']}", headers=owner.headers).json()
            return m["last_ts"] == now

        _wait(newest)
        pid = [p for p in _children() if "stream_process" in p[1]][0][0]
    assert _wait(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), timeout=30)


def _children() -> list[tuple[int, str]]:
    import psutil

    out = []
    for child in psutil.Process().children(recursive=False):
        try:
            out.append((child.pid, " ".join(child.cmdline())))
        except psutil.Error:
            continue
    return out


def _zombie(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True
