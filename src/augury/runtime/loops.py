"""One base for every background loop: the stream processor, the delivery dispatcher,
the job runner and the stream child's watcher.

A :class:`Loop` runs :meth:`Loop.run_once` every ``interval_s`` until :meth:`Loop.stop`,
in a daemon thread (:meth:`Loop.start`) or in the calling thread (:meth:`Loop.run`, the
main loop of a child process). What each hand-written loop used to do on its own is
here once:

* an on/off switch (``enabled``): a disabled loop does not start and says so;
* a clean stop: :meth:`stop` wakes the loop from its wait, lets the current round
  finish, joins the thread, then calls :meth:`Loop.close`;
* error backoff: a round that raises is logged and the next waits ``interval_s`` doubled
  per failure in a row, capped at ``backoff_cap_s``, so a database that is down is not
  hammered and its log does not flood; one good round resets it;
* a health line (:meth:`Loop.health`) for ``GET /api/v1/health``: ``ok``, ``stopped``,
  ``disabled``, or ``failing`` with the count and the last error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("augury.runtime")


class Loop:
    """Subclasses give a ``name`` and implement :meth:`run_once`."""

    name = "loop"

    def __init__(
        self, interval_s: float, *, enabled: bool = True, backoff_cap_s: float = 60.0
    ) -> None:
        self.interval_s = interval_s
        self.enabled = enabled
        self.backoff_cap_s = max(backoff_cap_s, interval_s)
        self.failures = 0
        """Rounds that raised, in a row."""
        self.rounds = 0
        self.last_error: str | None = None
        self.last_ok: float | None = None
        """``time.monotonic()`` at the end of the last round that did not raise."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- what a subclass provides --------------------------------------------------

    def setup(self) -> None:
        """Runs once in the loop's thread before the first round."""

    def run_once(self) -> object:
        """One round of work."""
        raise NotImplementedError

    def close(self) -> None:
        """Runs once after the loop has stopped (release pools, child processes ...)."""

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        """Run the loop in a daemon thread (nothing happens when it is disabled)."""
        if not self.enabled:
            log.info("%s loop is disabled", self.name)
            return
        self._thread = threading.Thread(target=self.run, name=f"augury-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Wake the loop, wait for its current round to end, then :meth:`close`."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout_s)
        self.close()

    def run(self) -> None:
        """Run rounds until :meth:`stop` (a thread's body or a process's main loop)."""
        try:
            self.setup()
        except Exception:
            log.exception("%s loop could not set up; going on without it", self.name)
        while not self._stop.is_set():
            self.round()
            self._stop.wait(self.delay())

    def round(self) -> object:
        """One round with its bookkeeping: never raises."""
        try:
            result = self.run_once()
        except Exception as exc:  # keep going: a loop must outlive any bad round
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:500]
            log.exception(
                "%s loop failed (%d in a row); next try in %.1f s",
                self.name,
                self.failures,
                self.delay(),
            )
            return None
        self.rounds += 1
        self.failures = 0
        self.last_ok = time.monotonic()
        return result

    def delay(self) -> float:
        """The wait before the next round: the interval, or the backoff after failures."""
        if not self.failures:
            return self.interval_s
        return min(self.backoff_cap_s, self.interval_s * 2**self.failures)

    def health(self) -> str:
        """One line: ``ok``, ``disabled``, ``stopped`` or ``failing (n in a row): error``."""
        if not self.enabled:
            return "disabled"
        if not self.alive:
            return "stopped"
        if self.failures:
            return f"failing ({self.failures} in a row): {self.last_error}"
        return "ok"


class Every(Loop):
    """A loop around a function: ``work()`` every ``interval_s``, ``on_close()`` at the
    end (the delivery dispatcher is one: the outbox's round, every half second)."""

    def __init__(
        self,
        name: str,
        work: Callable[[], object],
        interval_s: float,
        *,
        on_close: Callable[[], object] | None = None,
        enabled: bool = True,
    ) -> None:
        super().__init__(interval_s, enabled=enabled)
        self.name = name
        self.work = work
        self.on_close = on_close

    def run_once(self) -> object:
        return self.work()

    def close(self) -> None:
        if self.on_close is not None:
            self.on_close()
