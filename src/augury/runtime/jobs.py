"""The job runner: claims pending jobs and runs each in a child process.

A child process per job (not a thread) gives each job a real pid, CPU seconds and
peak memory measured by the kernel (``wait4`` rusage), bytes written to disk
(``/proc/<pid>/io``), and an abort that really stops the work (SIGTERM, then SIGKILL).
Children die with their runner (PR_SET_PDEATHSIG), so a job is never left running
unseen; the next start marks it failed with reason "interrupted".

The same runner serves one machine (inside ``augury serve``) and many (``augury
worker`` processes on other hosts claim rows with an atomic UPDATE).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from sqlalchemy import select, update

from augury import clock
from augury.config import Settings
from augury.jobs import service as jobs_service
from augury.jobs.models import Job, JobStatus
from augury.store.db import Database

log = logging.getLogger("augury.jobs")

ABORT_GRACE_S = 2.0


def pid_alive(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@dataclass
class _Running:
    job_id: int
    proc: subprocess.Popen
    started: float
    disk_bytes: int = 0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    term_sent_at: float | None = None
    aborting: bool = False
    samples: list = field(default_factory=list)


def child_env(settings: Settings, db_url: str) -> dict[str, str]:
    """The environment of a child process: this process's, plus the settings a child
    must share with its parent even when they were given in code (tests, embedding)."""
    env = dict(os.environ)
    env["AUGURY_DATABASE_URL"] = db_url
    env["AUGURY_DATA_DIR"] = str(settings.data_dir)
    for name, value in settings.metrics.model_dump().items():
        env[f"AUGURY_METRICS__{name.upper()}"] = str(value)
    return env


class JobRunner:
    """Polls for pending jobs and supervises the child processes running them."""

    def __init__(self, settings: Settings, db: Database, host: str | None = None):
        self.settings = settings
        self.db = db
        self.host = host or socket.gethostname()
        self.running: dict[int, _Running] = {}
        # When set, claim only these jobs (a one-shot run leaves the others to the server).
        self.only_ids: set[int] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def recover(self) -> list[int]:
        with self.db.session() as session:
            ids = jobs_service.recover_interrupted(
                session=session,
                host=self.host,
                alive=pid_alive,
                heartbeat_timeout_s=self.settings.jobs.heartbeat_timeout_s,
            )
        if ids:
            log.warning("marked %d interrupted job(s) as failed: %s", len(ids), ids)
        return ids

    def start(self) -> None:
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="augury-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        # The runner is going away: its children die with it, so say so now.
        for run in list(self.running.values()):
            with contextlib.suppress(ProcessLookupError):
                run.proc.kill()
            self._reap(run, block=True, interrupted=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the runner must outlive any one bad tick
                log.exception("job runner tick failed")
            self._stop.wait(self.settings.jobs.poll_interval_s)

    # --- one round -------------------------------------------------------------------

    def tick(self) -> None:
        for run in list(self.running.values()):
            self._supervise(run)
        free = self.settings.jobs.concurrency - len(self.running)
        if free > 0:
            self._claim(free)

    def _claim(self, n: int) -> None:
        with self.db.session() as session:
            candidates = list(
                session.scalars(
                    select(Job.id)
                    .where(
                        Job.status == JobStatus.pending,
                        Job.id.in_(self.only_ids) if self.only_ids is not None else True,
                    )
                    .order_by(Job.created_at, Job.id)
                    .limit(n)
                )
            )
            claimed = []
            for job_id in candidates:
                now = clock.now()
                won = session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == JobStatus.pending)
                    .values(
                        status=JobStatus.running,
                        started_at=now,
                        heartbeat_at=now,
                        host=self.host,
                        message="starting",
                    )
                ).rowcount
                if won:
                    claimed.append(job_id)
        for job_id in claimed:
            self._spawn(job_id)

    def _spawn(self, job_id: int) -> None:
        env = child_env(self.settings, self.db.url)
        cmd = [sys.executable, "-m", "augury.runtime.job_process", str(job_id), str(os.getpid())]
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
        self.running[job_id] = _Running(job_id=job_id, proc=proc, started=time.monotonic())
        with self.db.session() as session:
            session.execute(update(Job).where(Job.id == job_id).values(pid=proc.pid))
        log.info("job %s started as pid %s", job_id, proc.pid)

    def _sample(self, run: _Running) -> None:
        try:
            p = psutil.Process(run.proc.pid)
            with p.oneshot():
                cpu = p.cpu_times()
                run.cpu_seconds = cpu.user + cpu.system
                run.peak_rss_mb = max(run.peak_rss_mb, p.memory_info().rss / 2**20)
                with contextlib.suppress(psutil.Error, AttributeError):
                    run.disk_bytes = max(run.disk_bytes, p.io_counters().write_bytes)
        except psutil.Error:
            pass

    def _supervise(self, run: _Running) -> None:
        if self._reap(run):
            return
        self._sample(run)
        with self.db.session() as session:
            job = session.get(Job, run.job_id)
            abort = job is None or job.abort_requested
            session.execute(
                update(Job)
                .where(Job.id == run.job_id)
                .values(
                    heartbeat_at=clock.now(),
                    cpu_seconds=round(run.cpu_seconds, 3),
                    peak_memory_mb=round(run.peak_rss_mb, 2),
                    disk_written_mb=round(run.disk_bytes / 2**20, 3),
                )
            )
        if abort and run.term_sent_at is None:
            log.info("aborting job %s (pid %s)", run.job_id, run.proc.pid)
            run.aborting = True
            run.term_sent_at = time.monotonic()
            with contextlib.suppress(ProcessLookupError):
                run.proc.send_signal(signal.SIGTERM)
        elif run.term_sent_at and time.monotonic() - run.term_sent_at > ABORT_GRACE_S:
            with contextlib.suppress(ProcessLookupError):
                run.proc.kill()

    def _reap(self, run: _Running, block: bool = False, interrupted: bool = False) -> bool:
        """If the child has exited, record its final figures; True when it has."""
        try:
            pid, status, usage = os.wait4(run.proc.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            pid, status, usage = run.proc.pid, 0, None
        if pid == 0:
            return False
        run.proc.returncode = os.waitstatus_to_exitcode(status)
        self.running.pop(run.job_id, None)
        values = {"heartbeat_at": clock.now()}
        if usage is not None:
            # The kernel's own accounting of the whole child: exact even when it was killed.
            values["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 3)
            values["peak_memory_mb"] = round(usage.ru_maxrss / 1024, 2)  # KiB on Linux
        with self.db.session() as session:
            job = session.get(Job, run.job_id)
            if job is None:
                return True
            reported = (job.disk_written_mb or 0.0) * 2**20
            values["disk_written_mb"] = round(max(reported, run.disk_bytes) / 2**20, 3)
            if not JobStatus(job.status).is_final:
                # The child did not record an outcome: it was killed or crashed.
                values["finished_at"] = clock.now()
                if interrupted:
                    values.update(
                        status=JobStatus.failed,
                        error="interrupted",
                        message="interrupted: the runner stopped",
                    )
                elif run.aborting or job.abort_requested:
                    values.update(status=JobStatus.aborted, message="aborted")
                else:
                    values.update(
                        status=JobStatus.failed,
                        error=f"process exited with code {run.proc.returncode}",
                        message="failed",
                    )
            session.execute(update(Job).where(Job.id == run.job_id).values(**values))
        log.info("job %s exited with %s", run.job_id, run.proc.returncode)
        return True

    def run_until_done(self, job_ids: list[int], timeout: float = 30.0) -> None:
        """Run just these jobs here until each is final (the CLI's one-shot mode)."""
        self.only_ids = set(job_ids)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.tick()
            with self.db.session() as session:
                busy = session.scalar(
                    select(Job.id).where(
                        Job.id.in_(job_ids),
                        Job.status.in_([JobStatus.pending, JobStatus.running]),
                    )
                )
            if busy is None and not self.running:
                return
            time.sleep(self.settings.jobs.poll_interval_s)
        raise TimeoutError("jobs still running")


def job_workdir(settings: Settings, job_id: int) -> Path:
    path = settings.data_dir / "jobs" / str(job_id)
    path.mkdir(parents=True, exist_ok=True)
    return path
