"""Jobs are forked from the runner's preloaded forkserver, and still die with it."""

from __future__ import annotations

import os
import signal
import time

import psutil

from tests.fixtures.factories import signup


def _job(client, account, **params) -> dict:
    r = client.post(
        "/api/v1/jobs", json={"type": "demo.work", "params": params}, headers=account.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def _get(client, account, job_id) -> dict:
    return client.get(f"/api/v1/jobs/{job_id}", headers=account.headers).json()


def _until(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _running_with_progress(client, account, job_id) -> dict:
    def seen():
        job = _get(client, account, job_id)
        assert job["status"] in ("pending", "running"), job
        return job if job["pid"] and job["progress"] > 0 else None

    return _until(seen, what=f"job {job_id} to show progress")


def test_job_is_forked_from_the_preloaded_forkserver(runner_client):
    owner = signup(runner_client)
    job = _job(runner_client, owner, steps=200, step_seconds=0.1)
    # Its first progress is visible through the API while it still runs.
    running = _running_with_progress(runner_client, owner, job["id"])
    assert running["status"] == "running" and 0 < running["progress"] < 100
    server = runner_client.app.state.runner.forkserver
    child = psutil.Process(running["pid"])
    fork_parent = psutil.Process(server.pid)
    # The child is the forkserver's, which is ours; it never exec'd a fresh interpreter
    # (same command line), so it started with the forkserver's imports already done.
    assert child.ppid() == server.pid
    assert fork_parent.ppid() == os.getpid()
    assert "--forkserver" in fork_parent.cmdline()
    assert child.cmdline() == fork_parent.cmdline()
    runner_client.post(f"/api/v1/jobs/{job['id']}/abort", headers=owner.headers)
    done = _until(
        lambda: (j := _get(runner_client, owner, job["id"]))["status"] == "aborted" and j,
        what="the abort",
    )
    assert done["cpu_seconds"] > 0 and done["peak_memory_mb"] > 0


def test_jobs_die_with_their_forkserver_and_a_new_one_takes_over(runner_client):
    owner = signup(runner_client)
    runner = runner_client.app.state.runner
    job = _job(runner_client, owner, steps=300, step_seconds=0.1)
    pid = _running_with_progress(runner_client, owner, job["id"])["pid"]
    first = runner.forkserver.pid
    os.kill(first, signal.SIGKILL)
    _until(lambda: _gone(pid), what="the job's process to die with its forkserver")
    lost = _until(
        lambda: (j := _get(runner_client, owner, job["id"]))["status"] == "failed" and j,
        what="the job to be marked failed",
    )
    assert lost["error"] == "process lost: its forkserver exited"
    again = _job(runner_client, owner, steps=2, step_seconds=0)
    _until(
        lambda: _get(runner_client, owner, again["id"])["status"] == "succeeded",
        what="a job on a new forkserver",
    )
    assert runner.forkserver.pid != first


def test_stopping_the_runner_ends_its_jobs_and_forkserver(runner_client):
    owner = signup(runner_client)
    runner = runner_client.app.state.runner
    job = _job(runner_client, owner, steps=300, step_seconds=0.1, kind="cpu")
    pid = _running_with_progress(runner_client, owner, job["id"])["pid"]
    server_pid = runner.forkserver.pid
    runner.stop()
    assert _gone(pid) and _gone(server_pid)
    after = _get(runner_client, owner, job["id"])
    assert after["status"] == "failed" and after["error"] == "interrupted"
    # The kernel's accounting of the killed child still arrived, through the forkserver.
    assert after["cpu_seconds"] > 0 and after["peak_memory_mb"] > 0
    assert runner.forkserver is None
