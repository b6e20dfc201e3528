"""The metrics stream processor in a child process of ``augury serve``.

Compaction, rollups and detection are CPU work in Python; run as a thread next to the
API they would share its interpreter lock with every request. ``augury serve`` starts
this child instead (``python -m augury.runtime.stream_process PPID``): the same
:class:`~augury.runtime.stream.StreamProcessor`, on the other core. The child dies
with its parent (PDEATHSIG), stops on SIGTERM after its current transaction, and is
restarted by :class:`StreamProcess` if it exits on its own. Nothing is lost either
way: its work is transactional (see :mod:`augury.metrics.stream`).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

from augury.config import Settings
from augury.runtime.jobs import child_env
from augury.runtime.loops import Loop

log = logging.getLogger("augury.stream")


class StreamProcess(Loop):
    """Starts the stream-processor child, restarts it when it exits, stops it."""

    name = "stream"

    def __init__(self, settings: Settings, db_url: str, restart_delay_s: float = 1.0):
        super().__init__(0.5)
        self.settings = settings
        self.db_url = db_url
        self.restart_delay_s = restart_delay_s
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    def _spawn(self) -> None:
        cmd = [sys.executable, "-m", "augury.runtime.stream_process", str(os.getpid())]
        env = child_env(self.settings, self.db_url)
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
        log.info("stream processor started as pid %s", self.proc.pid)

    def start(self) -> None:
        self._spawn()
        super().start()

    def run_once(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            log.warning("stream processor exited with %s; restarting", self.proc.returncode)
            self.restarts += 1
            if self._stop.wait(self.restart_delay_s):
                return
            self._spawn()

    def stop(self, timeout_s: float = 30.0) -> None:
        # The watcher first (so it does not restart the child), then the child.
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main(argv: list[str]) -> int:
    from augury.runtime import wiring
    from augury.runtime.job_process import die_with_parent
    from augury.store.db import Database

    die_with_parent(int(argv[0]))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    wiring.install()
    settings = Settings()
    db = Database(settings.db_url)
    processor = wiring.stream_processor(db, settings)
    signal.signal(signal.SIGTERM, lambda *_: processor.stop())
    # Ctrl-C in a terminal reaches the whole process group: the parent decides when
    # this child stops (it sends SIGTERM), so a restart never races the shutdown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    started = time.monotonic()
    processor.run()
    db.dispose()
    log.info("stream processor stopped after %.0f s", time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
