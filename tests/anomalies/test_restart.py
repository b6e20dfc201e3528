"""Kill the server (SIGKILL) in the middle of a stream: after a restart, detection goes
on with no lost points and exactly the scores of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import numpy as np
from sqlalchemy import func, select

from augury.anomalies.models import DetectorState, PointScore
from augury.engines.detect import score_series
from augury.metrics import stream
from augury.metrics.models import Metric, MetricPointInbox
from tests.fixtures.app import free_port

N = 6000
STEP = 60
BATCH = 250


class Server:
    def __init__(self, tmp_path, db_url: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "AUGURY_DATA_DIR": str(tmp_path / "data"),
            "AUGURY_DATABASE_URL": db_url,
            "AUGURY_SECRET_KEY": "restart-test-secret-0123456789abcdef0123",
            "AUGURY_RATELIMIT__ENABLED": "false",
            "AUGURY_METRICS__PROCESS_INTERVAL_S": "0.2",
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "augury.cli", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.kill()  # never leave it behind, holding the test database
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def _series() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    t = 1_700_000_000 + STEP * np.arange(N, dtype=float)
    y = 20 + 3 * np.sin(2 * np.pi * t / 86400) + rng.standard_normal(N)
    y[[1500, 3200, 4700]] += [12.0, -10.0, 15.0]
    y[5000:] += 6.0
    return t, y


def test_sigkill_mid_stream_loses_nothing_and_scores_the_same(tmp_path, db):
    t, y = _series()
    server = Server(tmp_path, db.url)
    server.start()
    try:
        owner = httpx.post(
            f"{server.url}/api/v1/auth/signup",
            json={"email": "r@example.com", "password": "a long secret", "organization_name": "R"},
            timeout=30,
        ).json()
        key = httpx.post(
            f"{server.url}/api/v1/api-keys",
            json={"name": "k", "scopes": ["ingest"]},
            headers={"Authorization": f"Bearer {owner['access_token']}"},
            timeout=30,
        ).json()["key"]

        def send(lo: int, hi: int) -> bool:
            body = [
                {"properties": {"what": "load"}, "timestamp": t[i], "value": y[i]}
                for i in range(lo, hi)
            ]
            try:
                r = httpx.post(f"{server.url}/api/v1/metrics?token={key}", json=body, timeout=30)
                return r.status_code == 200
            except httpx.HTTPError:
                return False

        sent = 0
        while sent < N // 2:
            assert send(sent, sent + BATCH)
            sent += BATCH
        # The plug is pulled while points still wait for detection: on a machine where
        # detection keeps pace with a batch, more batches are sent until one is caught
        # waiting (the check runs right after a send is answered).
        while True:
            with db.session() as s:
                waiting = s.scalar(select(func.count()).select_from(MetricPointInbox))
                waiting += stream.pending(s, "detect")
            if waiting > 0:
                break
            assert sent < N, "detection kept up with every batch: nothing was in flight"
            assert send(sent, sent + BATCH)
            sent += BATCH
        server.kill()
        server.start()
        for lo in range(sent, N, BATCH):
            while not send(lo, lo + BATCH):  # a sender retries until it is answered
                time.sleep(0.1)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with db.session() as s:
                done = s.scalar(select(DetectorState.points).where(DetectorState.timescale == 0))
            if done == N:
                break
            time.sleep(0.2)
    finally:
        server.stop()

    reference = np.round(100 * score_series(y, t).scores, 3)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Metric)) == 1
        scores = [
            r[0]
            for r in s.execute(
                select(PointScore.score).where(PointScore.timescale == 0).order_by(PointScore.ts)
            )
        ]
        state = s.scalar(select(DetectorState).where(DetectorState.timescale == 0))
    assert len(scores) == N and state.points == N and state.late_points == 0
    assert scores == list(reference)
