"""The metrics stream processor in a child process of ``augury serve``.

Compaction, rollups and detection are CPU work in Python; run as a thread next to the
API they would share its interpreter lock with every request. ``augury serve`` starts
this child instead (``python -m augury.runtime.stream_process PPID``): the same
:class:`~augury.metrics.stream.StreamProcessor`, on the other core. The child dies
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
import threading
import time

from augury.config import Settings
from augury.runtime.jobs import child_env

log = logging.getLogger("augury.stream")


class StreamProcess:
    """Starts, watches and stops the stream-processor child."""

    def __init__(self, settings: Settings, db_url: str, restart_delay_s: float = 1.0):
        self.settings = settings
        self.db_url = db_url
        self.restart_delay_s = restart_delay_s
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def _spawn(self) -> None:
        cmd = [sys.executable, "-m", "augury.runtime.stream_process", str(os.getpid())]
        env = child_env(self.settings, self.db_url)
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
        log.info("stream processor started as pid %s", self.proc.pid)

    def start(self) -> None:
        self._spawn()
        self._watcher = threading.Thread(
            target=self._watch, name="augury-stream-watch", daemon=True
        )
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            if self.proc is not None and self.proc.poll() is not None:
                log.warning("stream processor exited with %s; restarting", self.proc.returncode)
                self.restarts += 1
                if self._stop.wait(self.restart_delay_s):
                    return
                self._spawn()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main(argv: list[str]) -> int:
    from augury.metrics.stream import StreamProcessor
    from augury.runtime.job_process import die_with_parent
    from augury.store.db import Database

    die_with_parent(int(argv[0]))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    db = Database(settings.db_url)
    processor = StreamProcessor.from_settings(db, settings)
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
