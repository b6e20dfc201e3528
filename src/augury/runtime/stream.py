"""The stream processor: moves arrived points into place, runs every consumer over
them, then the periodic tasks; a thread of ``augury serve``, its child process, or
``augury worker``.

It knows no domain: :func:`augury.runtime.wiring.stream_processor` builds it with the
consumers (rollups, detection ...) and periodic tasks (alert evaluation, retention,
forecast scheduling ...) the domains offer. The queue it works on, and the guarantees
(nothing lost, nothing counted twice, a poison row parked) are
:mod:`augury.metrics.stream`'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Protocol

from augury.metrics import stream as queue
from augury.runtime.loops import Loop
from augury.store.db import Database

log = logging.getLogger("augury.stream")


class PeriodicTask(Protocol):
    """Work that runs every ``every_s`` seconds after the consumers (alert evaluation,
    retention, forecast scheduling ...). The processor runs it when it is due; one that
    raises is logged and retried at its next due time, and never stops the others."""

    name: str
    every_s: float

    def run(self, db: Database) -> object: ...


class StreamProcessor(Loop):
    """Runs the consumers over the queue, then the periodic tasks that are due."""

    name = "stream"

    def __init__(
        self,
        db: Database,
        consumers: Sequence[queue.Consumer],
        periodic: Sequence[PeriodicTask] = (),
        *,
        interval_s: float = 0.5,
    ) -> None:
        super().__init__(interval_s)
        self.db = db
        self.consumers = list(consumers)
        self.periodic = list(periodic)
        self._last_run: dict[int, float] = {}
        """Task index -> ``time.monotonic()`` of its last start."""

    @property
    def consumer_names(self) -> list[str]:
        return [c.name for c in self.consumers]

    def drain(self) -> int:
        """Move arrived points into place, then run every consumer over everything
        queued; return the number of queue rows done."""
        names = self.consumer_names
        while queue.compact(self.db, names):
            pass
        done = 0
        for consumer in self.consumers:
            while n := queue.process_once(self.db, consumer):
                done += n
        return done

    def run_periodic(self, *, force: bool = False) -> None:
        """Run each task that is due (every task with ``force``), each on its own."""
        for i, task in enumerate(self.periodic):
            now = time.monotonic()
            last = self._last_run.get(i)
            if not force and last is not None and now - last < task.every_s:
                continue
            self._last_run[i] = now
            try:
                task.run(self.db)
            except Exception:
                log.exception("periodic task %s failed", task.name)

    def run_once(self) -> int:
        """Drain, then the periodic tasks. Each stage runs on its own: detection
        failing must not stop retention, alert evaluation or forecast scheduling, nor
        the reverse. A failed drain is raised afterwards, so the loop backs off."""
        failure: Exception | None = None
        done = 0
        try:
            done = self.drain()
        except Exception as exc:
            failure = exc
        self.run_periodic()
        if failure is not None:
            raise failure
        return done

    def run_cycle(self) -> int:
        """One round as the loop runs it (failures logged, not raised)."""
        done = self.round()
        return done if isinstance(done, int) else 0
