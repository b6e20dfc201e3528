"""The process that runs one job, and the forkserver that starts them.

``python -m augury.runtime.job_process --forkserver CMD_FD EVENT_FD`` is what the runner
starts once: it imports what a job needs (SQLAlchemy, the settings, the job models and
types) and then, for each job id written to ``CMD_FD``, forks a child that runs the job
at once, with nothing left to import. It answers on ``EVENT_FD``, one line each:

- ``ready`` once the imports are done;
- ``started JOB_ID PID`` after each fork;
- ``exited PID EXIT_CODE USER_S SYSTEM_S MAXRSS_KB`` when a child ends: the kernel's
  accounting of it (``wait4``), which only the parent of a process can read.

When the runner goes away (``CMD_FD`` reaches end of file, whichever of its threads
started the forkserver) the forkserver kills its children and exits; a child dies
with the forkserver (PR_SET_PDEATHSIG), so no job outlives its runner.

``python -m augury.runtime.job_process ID PPID`` still runs one job in a fresh
interpreter (what a forked child does, minus the start-up imports).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import selectors
import signal
import sys
import traceback

from sqlalchemy import update

from augury import clock
from augury.config import Settings
from augury.jobs import service as jobs_service
from augury.jobs import types as job_types
from augury.jobs.models import Job, JobLog, JobStatus
from augury.notifications import service as notifications_service
from augury.runtime import wiring
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
        self.in_database = False

    @contextlib.contextmanager
    def session(self):
        """A session that an abort does not cut mid-statement; job types use this one.

        SIGTERM raising inside the driver's wait left the connection with a command in
        flight, and the job's last write (its outcome) then failed on it. An abort that
        arrives meanwhile is raised by the next :meth:`progress`.
        """
        with self.uninterrupted(), self.db.session() as session:
            yield session

    @contextlib.contextmanager
    def uninterrupted(self):
        """Work an abort must not cut in the middle: a database statement, or a DuckDB
        query (DuckDB turns an exception raised in its wait into "Query interrupted", a
        failed job rather than an aborted one). An abort that arrives meanwhile is
        raised by the next :meth:`progress`."""
        outer = self.in_database
        self.in_database = True
        try:
            yield
        finally:
            self.in_database = outer

    def progress(self, percent: float, message: str | None = None) -> None:
        """Record progress (0-100) and raise JobAborted if an abort was requested."""
        with self.session() as session:
            session.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(
                    progress=max(0.0, min(100.0, float(percent))),
                    message=message,
                )
            )
            job = session.get(Job, self.job_id)
            abort = job is None or job.abort_requested  # a deleted job stops too
        if abort or self.aborted:
            self.aborted = True
            raise JobAborted

    def log(self, message: str, level: str = "info") -> None:
        with self.session() as session:
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
    wiring.install()
    settings = Settings()
    db = Database(settings.db_url)
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:  # deleted before it could start
            return 0
        session.expunge(job)
    ctx = JobContext(db, settings, job)

    def on_term(_signum, _frame):
        ctx.aborted = True
        if not ctx.in_database:
            raise JobAborted

    signal.signal(signal.SIGTERM, on_term)
    outcome: dict
    jt = None
    try:
        # Importing a job type's module (scikit-learn, the text engines ...) takes
        # seconds, and an abort raised in the middle of it can be caught by a library's
        # own import guard and leave it half imported: the job would then fail instead.
        with ctx.uninterrupted():
            loaded = job_types.registry.load(job.type)
            params = loaded.Params.model_validate(job.params)
        jt = loaded
        if ctx.aborted:
            raise JobAborted
        result = jt.run(ctx, params)
        outcome = {
            "status": JobStatus.succeeded,
            "progress": 100.0,
            "result": result or {},
            "message": "done",
        }
    except Exception as exc:
        if isinstance(exc, JobAborted) or ctx.aborted:
            # (or an abort that a library caught and turned into its own error)
            outcome = {"status": JobStatus.aborted, "message": "aborted"}
        else:
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
        jobs_service.finished_event(session, job, outcome["status"], outcome.get("error"))
        if jt is not None:  # its starter is told, with the outcome (types opt in)
            notifications_service.job_finished(
                session,
                job_type=jt,
                job_id=job.id,
                org_id=job.org_id,
                user_id=job.user_id,
                status=outcome["status"],
                error=outcome.get("error"),
                result=outcome.get("result"),
            )
    db.dispose()
    return 0


def _write(fd: int, line: str) -> None:
    with contextlib.suppress(OSError):  # the runner is gone: nothing to tell
        os.write(fd, line.encode() + b"\n")


def _run_forked(
    job_id: str, parent: int, cmd_fd: int, event_fd: int, wake_fds: tuple[int, int]
) -> None:
    """In a freshly forked child: drop the forkserver's plumbing, run the job, exit."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in (cmd_fd, event_fd, *wake_fds):
            os.close(fd)
        code = main([job_id, str(parent)])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def forkserver(cmd_fd: int, event_fd: int) -> int:
    """Fork one child per job id read from ``cmd_fd`` until it closes (see module doc)."""
    from sqlalchemy.orm import configure_mappers

    import augury.jobs.builtin  # noqa: F401  (the demo job type: light, used by the tour)

    wiring.install()
    configure_mappers()
    # Ctrl-C in a terminal reaches the whole process group: the runner decides when jobs
    # stop (it kills them, then closes our pipe), as for the stream processor.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(cmd_fd, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    children: set[int] = set()

    def reap(block: bool = False) -> None:
        while children:
            try:
                pid, status, usage = os.wait4(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                children.clear()
                return
            if pid == 0:
                return
            children.discard(pid)
            code = os.waitstatus_to_exitcode(status)
            _write(
                event_fd,
                f"exited {pid} {code} {usage.ru_utime:.6f} {usage.ru_stime:.6f} {usage.ru_maxrss}",
            )

    _write(event_fd, "ready")
    pending = b""
    while True:
        for key, _ in sel.select():
            if key.fd == wake_r:
                with contextlib.suppress(BlockingIOError):
                    while os.read(wake_r, 4096):
                        pass
                continue
            data = os.read(cmd_fd, 4096)
            if not data:  # the runner closed the pipe, or died
                for pid in children:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                reap(block=True)
                return 0
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                job_id = line.decode().strip()
                if not job_id:
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                parent = os.getpid()
                pid = os.fork()
                if pid == 0:
                    _run_forked(job_id, parent, cmd_fd, event_fd, (wake_r, wake_w))
                children.add(pid)
                _write(event_fd, f"started {job_id} {pid}")
        reap()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--forkserver"]:
        sys.exit(forkserver(int(sys.argv[2]), int(sys.argv[3])))
    sys.exit(main(sys.argv[1:]))
