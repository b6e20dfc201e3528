"""The loop base every background loop uses: rounds, backoff, a health line, a clean stop."""

from __future__ import annotations

import threading
import time

from augury.runtime.loops import Every, Loop


class Flaky(Loop):
    """Fails its first ``fail`` rounds, then counts good ones."""

    name = "flaky"

    def __init__(self, fail: int, interval_s: float = 0.01):
        super().__init__(interval_s, backoff_cap_s=0.05)
        self.fail = fail
        self.good = 0
        self.closed = False

    def run_once(self) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("database is down")
        self.good += 1

    def close(self) -> None:
        self.closed = True


def _until(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def test_failures_back_off_then_one_good_round_resets():
    loop = Flaky(fail=3)
    for expected in (0.02, 0.04, 0.05):  # doubled per failure, capped at 0.05
        loop.round()
        assert loop.delay() == expected
    assert loop.failures == 3 and loop.last_error == "ConnectionError: database is down"
    loop.round()
    assert (loop.failures, loop.delay(), loop.good) == (0, 0.01, 1)


def test_a_running_loop_reports_its_health_and_stops_cleanly():
    loop = Flaky(fail=2)
    assert loop.health() == "stopped"
    loop.start()
    try:
        assert loop.alive
        _until(lambda: loop.good >= 3)
        assert loop.health() == "ok"
    finally:
        loop.stop()
    assert not loop.alive and loop.closed and loop.health() == "stopped"


def test_a_failing_loop_says_so_and_keeps_going():
    loop = Flaky(fail=10**9)
    loop.start()
    try:
        _until(lambda: loop.failures >= 2)
        assert loop.health().startswith("failing (")
        assert loop.health().endswith("in a row): ConnectionError: database is down")
    finally:
        loop.stop()


def test_stop_wakes_a_loop_from_its_wait():
    ran = threading.Event()
    loop = Every("slow", ran.set, interval_s=3600)
    loop.start()
    _until(ran.is_set)
    started = time.monotonic()
    loop.stop()
    assert time.monotonic() - started < 5  # not the hour it would otherwise sleep
    assert not loop.alive


def test_a_disabled_loop_does_not_start():
    loop = Every("off", lambda: None, interval_s=0.01, enabled=False)
    loop.start()
    assert not loop.alive and loop.health() == "disabled"
    loop.stop()


def test_health_lists_the_loops_of_the_server(runner_client):
    body = runner_client.get("/api/v1/health").json()
    assert body["jobs_runner"] == "ok"
    assert body["loops"] == {
        "jobs": "ok",
        "stream": "ok",
        "dispatch": "ok",
        "collector": "ok",
        "usage": "ok",
    }
