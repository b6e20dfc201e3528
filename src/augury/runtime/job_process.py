"""The child process that runs one job: ``python -m augury.runtime.job_process ID PPID``."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import traceback

from sqlalchemy import update

from augury import clock
from augury.config import Settings
from augury.jobs import types as job_types
from augury.jobs.models import Job, JobLog, JobStatus
from augury.runtime.jobs import job_workdir
from augury.store.db import Database

PR_SET_PDEATHSIG = 1


class JobAborted(Exception):
    """Raised inside a job when someone asked to abort it."""


class JobContext:
    """What a running job may do: report progress, log, and notice an abort."""

    def __init__(self, db: Database, settings: Settings, job: Job):
        self.db = db
        self.settings = settings
        self.job_id = job.id
        self.org_id = job.org_id
        self.user_id = job.user_id
        self.workdir = job_workdir(settings, job.id)
        self.aborted = False

    def progress(self, percent: float, message: str | None = None) -> None:
        """Record progress (0-100) and raise JobAborted if an abort was requested."""
        with self.db.session() as session:
            session.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(
                    progress=max(0.0, min(100.0, float(percent))),
                    message=message,
                )
            )
            abort = session.get(Job, self.job_id).abort_requested
        if abort or self.aborted:
            raise JobAborted

    def log(self, message: str, level: str = "info") -> None:
        with self.db.session() as session:
            session.add(JobLog(job_id=self.job_id, level=level, message=message[:10_000]))


def die_with_parent(parent_pid: int) -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        sys.exit(1)


def _disk_written() -> float:
    try:
        with open("/proc/self/io") as fh:
            for line in fh:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def main(argv: list[str]) -> int:
    job_id, parent_pid = int(argv[0]), int(argv[1])
    die_with_parent(parent_pid)
    settings = Settings()
    db = Database(settings.db_url)
    with db.session() as session:
        job = session.get(Job, job_id)
        session.expunge(job)
    ctx = JobContext(db, settings, job)

    def on_term(_signum, _frame):
        ctx.aborted = True
        raise JobAborted

    signal.signal(signal.SIGTERM, on_term)
    outcome: dict
    try:
        jt = job_types.load(job.type)
        result = jt.run(ctx, jt.Params.model_validate(job.params))
        outcome = {
            "status": JobStatus.succeeded,
            "progress": 100.0,
            "result": result or {},
            "message": "done",
        }
    except JobAborted:
        outcome = {"status": JobStatus.aborted, "message": "aborted"}
    except Exception as exc:
        ctx.log("".join(traceback.format_exception(exc))[-5000:], level="error")
        outcome = {
            "status": JobStatus.failed,
            "error": f"{type(exc).__name__}: {exc}"[:2000],
            "message": "failed",
        }
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with db.session() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(finished_at=clock.now(), disk_written_mb=round(_disk_written(), 3), **outcome)
        )
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
