"""The job runner: claims pending jobs and runs each in a child process.

A child process per job (not a thread) gives each job a real pid, CPU seconds and
peak memory measured by the kernel (``wait4`` rusage), bytes written to disk
(``/proc/<pid>/io``), and an abort that really stops the work (SIGTERM, then SIGKILL).
Children die with their runner, so a job is never left running unseen; the next start
marks it failed with reason "interrupted".

Children are forked from a preloaded forkserver (``job_process.forkserver``), a process
the runner starts once that has already imported what a job needs: a job starts in
milliseconds instead of paying a fresh interpreter's imports (about a second). The
forkserver is the children's parent, so it reads their ``wait4`` accounting and passes
it on; it kills them and exits when the runner goes away.

The same runner serves one machine (inside ``augury serve``) and many (``augury
worker`` processes on other hosts claim rows with an atomic UPDATE).
"""

from __future__ import annotations

import contextlib
import json
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
from typing import NamedTuple

import psutil
from pydantic import BaseModel
from sqlalchemy import select, update

from augury import clock
from augury.config import Settings
from augury.jobs import service as jobs_service
from augury.jobs import types as job_types
from augury.jobs.models import Job, JobStatus
from augury.notifications import service as notifications_service
from augury.runtime.loops import Loop
from augury.store.db import Database, changed

log = logging.getLogger("augury.jobs")

ABORT_GRACE_S = 2.0
FORK_TIMEOUT_S = 120.0
"""How long a fork may wait for the forkserver (which may still be importing)."""


def pid_alive(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class Exit(NamedTuple):
    """How a child ended, as its parent (the forkserver) read it from ``wait4``."""

    code: int
    cpu_seconds: float
    maxrss_kb: int


class ForkServer:
    """The runner's side of ``job_process.forkserver``: ask for forks, collect exits."""

    def __init__(self, env: dict[str, str]):
        cmd_r, self._cmd = os.pipe()
        events_r, events_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "augury.runtime.job_process",
                    "--forkserver",
                    str(cmd_r),
                    str(events_w),
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                pass_fds=(cmd_r, events_w),
            )
        except BaseException:
            for fd in (self._cmd, events_r):
                os.close(fd)
            raise
        finally:
            os.close(cmd_r)
            os.close(events_w)
        self._events = os.fdopen(events_r, "r")
        self._cond = threading.Condition()
        self._started: dict[int, int] = {}
        self._exits: dict[int, Exit] = {}
        self.ready = False
        self.closed = False
        self._reader = threading.Thread(target=self._read, name="augury-forkserver", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        for line in self._events:
            kind, *args = line.split()
            with self._cond:
                if kind == "ready":
                    self.ready = True
                elif kind == "started":
                    self._started[int(args[0])] = int(args[1])
                elif kind == "exited":
                    pid, code = int(args[0]), int(args[1])
                    self._exits[pid] = Exit(code, float(args[2]) + float(args[3]), int(args[4]))
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()
        self._events.close()

    def fork(self, job_id: int, timeout: float = FORK_TIMEOUT_S) -> int:
        """Start job ``job_id`` in a forked child; its pid."""
        os.write(self._cmd, f"{job_id}\n".encode())
        with self._cond:
            if not self._cond.wait_for(
                lambda: job_id in self._started or self.closed, timeout=timeout
            ):
                raise TimeoutError(f"the job forkserver did not start job {job_id}")
            if job_id not in self._started:
                raise RuntimeError(f"the job forkserver exited ({self.proc.poll()})")
            return self._started.pop(job_id)

    def exit_of(self, pid: int, timeout: float = 0.0) -> Exit | None:
        """The child's exit once the forkserver has reaped it, else None."""
        with self._cond:
            self._cond.wait_for(lambda: pid in self._exits or self.closed, timeout=timeout)
            return self._exits.pop(pid, None)

    def close(self, timeout: float = 10.0) -> None:
        """Let it go: it kills any child left, reports their exits, and exits itself."""
        with contextlib.suppress(OSError):
            os.close(self._cmd)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=timeout)


@dataclass
class _Running:
    job_id: int
    pid: int
    started: float
    disk_bytes: int = 0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    term_sent_at: float | None = None
    aborting: bool = False
    returncode: int | None = None
    samples: list = field(default_factory=list)

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)


def child_env(settings: Settings, db_url: str) -> dict[str, str]:
    """The environment of a child process: this process's, plus the settings a child
    must share with its parent even when they were given in code (tests, embedding)."""
    env = dict(os.environ)
    env["AUGURY_DATABASE_URL"] = db_url
    env["AUGURY_DATA_DIR"] = str(settings.data_dir)
    env["AUGURY_BASE_URL"] = settings.base_url  # links in alert mails and webhooks
    env |= settings_env("AUGURY_METRICS", settings.metrics)
    env |= settings_env("AUGURY_QUOTAS", settings.quotas)  # a backfill's metrics quota
    env |= settings_env("AUGURY_DATASETS", settings.datasets)  # storage, DuckDB's limits
    return env


def settings_env(prefix: str, section: BaseModel) -> dict[str, str]:
    """A settings section as the environment variables that give it (nested sections as
    ``PREFIX__SECTION__FIELD``; unset optional values left out)."""
    env: dict[str, str] = {}
    for name, value in section:
        key = f"{prefix}__{name.upper()}"
        if isinstance(value, BaseModel):
            env |= settings_env(key, value)
        elif isinstance(value, list | dict):
            env[key] = json.dumps(value)
        elif value is not None:
            env[key] = str(value)
    return env


class JobRunner(Loop):
    """Polls for pending jobs and supervises the child processes running them."""

    name = "jobs"

    def __init__(self, settings: Settings, db: Database, host: str | None = None):
        super().__init__(settings.jobs.poll_interval_s)
        self.settings = settings
        self.db = db
        self.host = host or socket.gethostname()
        self.running: dict[int, _Running] = {}
        # When set, claim only these jobs (a one-shot run leaves the others to the server).
        self.only_ids: set[int] | None = None
        self.forkserver: ForkServer | None = None

    # --- lifecycle -------------------------------------------------------------------

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
        super().start()

    def setup(self) -> None:
        self._forkserver()  # now, so that the first job starts as fast as the others

    def run_once(self) -> None:
        self.tick()

    def close(self) -> None:
        # The runner is going away: its children die with it, so say so now.
        for run in list(self.running.values()):
            run.signal(signal.SIGKILL)
            self._reap(run, block=True, interrupted=True)
        self._close_forkserver()

    def _forkserver(self) -> ForkServer:
        if self.forkserver is None or self.forkserver.closed:
            self._close_forkserver()
            self.forkserver = ForkServer(child_env(self.settings, self.db.url))
        return self.forkserver

    def _close_forkserver(self) -> None:
        if self.forkserver is not None:
            self.forkserver.close()
            self.forkserver = None

    # --- one round -------------------------------------------------------------------

    def tick(self) -> None:
        for run in list(self.running.values()):
            self._supervise(run)
        free = self.settings.jobs.concurrency - len(self.running)
        if free > 0:
            self._claim(free)

    def _claim(self, n: int) -> None:
        stmt = select(Job.id).where(Job.status == JobStatus.pending)
        if self.only_ids is not None:
            stmt = stmt.where(Job.id.in_(self.only_ids))
        with self.db.session() as session:
            candidates = list(session.scalars(stmt.order_by(Job.created_at, Job.id).limit(n)))
            claimed = []
            for job_id in candidates:
                now = clock.now()
                won = changed(
                    session,
                    update(Job)
                    .where(Job.id == job_id, Job.status == JobStatus.pending)
                    .values(
                        status=JobStatus.running,
                        started_at=now,
                        heartbeat_at=now,
                        host=self.host,
                        message="starting",
                    ),
                )
                if won:
                    claimed.append(job_id)
        for job_id in claimed:
            self._spawn(job_id)

    def _spawn(self, job_id: int) -> None:
        try:
            pid = self._forkserver().fork(job_id)
        except (OSError, RuntimeError, TimeoutError) as exc:
            # A forkserver that died is replaced once; a second failure fails the job.
            log.warning("job forkserver failed (%s); starting a new one", exc)
            self._close_forkserver()
            try:
                pid = self._forkserver().fork(job_id)
            except (OSError, RuntimeError, TimeoutError) as again:
                log.error("job %s could not start: %s", job_id, again)
                with self.db.session() as session:
                    session.execute(
                        update(Job)
                        .where(Job.id == job_id)
                        .values(
                            status=JobStatus.failed,
                            error=f"could not start: {again}"[:2000],
                            message="failed",
                            finished_at=clock.now(),
                        )
                    )
                    job = session.get(Job, job_id)
                    if job is not None:
                        jobs_service.finished_event(
                            session, job, JobStatus.failed, f"could not start: {again}"[:2000]
                        )
                return
        self.running[job_id] = _Running(job_id=job_id, pid=pid, started=time.monotonic())
        with self.db.session() as session:
            session.execute(update(Job).where(Job.id == job_id).values(pid=pid))
        log.info("job %s started as pid %s", job_id, pid)

    def _sample(self, run: _Running) -> None:
        try:
            p = psutil.Process(run.pid)
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
            log.info("aborting job %s (pid %s)", run.job_id, run.pid)
            run.aborting = True
            run.term_sent_at = time.monotonic()
            run.signal(signal.SIGTERM)
        elif run.term_sent_at and time.monotonic() - run.term_sent_at > ABORT_GRACE_S:
            run.signal(signal.SIGKILL)

    def _reap(self, run: _Running, block: bool = False, interrupted: bool = False) -> bool:
        """If the child has exited, record its final figures; True when it has."""
        server = self.forkserver
        ended = server.exit_of(run.pid, timeout=10.0 if block else 0.0) if server else None
        if ended is None and (not block and server is not None and not server.closed):
            return False
        if ended is None and not block and pid_alive(run.pid):
            return False  # its forkserver is gone, and it dies with it: soon
        run.returncode = ended.code if ended is not None else None
        self.running.pop(run.job_id, None)
        values: dict[str, object] = {"heartbeat_at": clock.now()}
        if ended is not None:
            # The kernel's own accounting of the whole child: exact even when it was killed.
            values["cpu_seconds"] = round(ended.cpu_seconds, 3)
            values["peak_memory_mb"] = round(ended.maxrss_kb / 1024, 2)  # KiB on Linux
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
                elif run.returncode is None:
                    values.update(
                        status=JobStatus.failed,
                        error="process lost: its forkserver exited",
                        message="failed",
                    )
                else:
                    values.update(
                        status=JobStatus.failed,
                        error=f"process exited with code {run.returncode}",
                        message="failed",
                    )
            session.execute(update(Job).where(Job.id == run.job_id).values(**values))
            if "status" in values:  # the runner wrote the outcome: it tells
                jobs_service.finished_event(
                    session, job, str(values["status"]), str(values.get("error") or "") or None
                )
            if values.get("status") == JobStatus.failed:
                _notify_failed(session, job, str(values.get("error") or ""))
        log.info("job %s exited with %s", run.job_id, run.returncode)
        return True

    def run_until_done(self, job_ids: list[int], timeout: float = 30.0) -> None:
        """Run just these jobs here until each is final (the CLI's one-shot mode)."""
        self.only_ids = set(job_ids)
        deadline = time.monotonic() + timeout
        try:
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
        finally:
            self.stop()


def _notify_failed(session, job: Job, error: str) -> None:
    """Tell the starter of a job whose process died that it failed (types opt in). Its
    type is imported here only then: a crash is rare, and the runner stays light."""
    try:
        job_type = job_types.registry.load(job.type)
    except (KeyError, ImportError, AttributeError):
        return
    notifications_service.job_finished(
        session,
        job_type=job_type,
        job_id=job.id,
        org_id=job.org_id,
        user_id=job.user_id,
        status=JobStatus.failed,
        error=error,
    )


def job_workdir(settings: Settings, job_id: int) -> Path:
    path = settings.data_dir / "jobs" / str(job_id)
    path.mkdir(parents=True, exist_ok=True)
    return path
