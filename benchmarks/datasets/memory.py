"""Resident memory of ``augury serve`` and its process tree, sampled by a thread.

Every ``interval_s`` the sampler walks the tree under the server's pid through
``/proc/<pid>/task/*/children`` (a few small reads; ``psutil.Process.children`` scans
every process on the machine) and reads each process's RSS from ``/proc/<pid>/statm``.
Each process gets a role from its command line and parent: ``server`` (the API process:
uploads are received and converted here, and queries run here), ``forkserver`` and
``stream`` (its long-lived children), ``job`` (a child of the forkserver: one job), and
``other``. Peaks are kept per phase the caller names (upload, profile, query) and role,
with ``total`` the largest sum over the tree in one sample.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import defaultdict
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                out += [int(c) for c in (task / "children").read_text().split()]
    return out


def rss_bytes(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return None


def vm_hwm_mb(pid: int) -> float | None:
    """The kernel's peak RSS of a live process so far (``VmHWM``)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


class TreeSampler:
    """Peak RSS per (phase, role) of the process tree under ``root``, every ``interval_s``."""

    def __init__(self, root: int, interval_s: float = 0.05):
        self.root = root
        self.interval_s = interval_s
        self.phase = "start"
        self.peaks: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.job_pids: set[int] = set()
        self.samples = 0
        self._roles: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _role(self, pid: int, parent_role: str) -> str:
        if pid not in self._roles:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                cmd = ""
            if parent_role == "forkserver":
                role = "job"
            elif "--forkserver" in cmd:
                role = "forkserver"
            elif "stream_process" in cmd:
                role = "stream"
            else:
                role = "other"
            self._roles[pid] = role
        return self._roles[pid]

    def sample(self) -> None:
        peaks = self.peaks[self.phase]
        total = 0
        stack = [(self.root, "server")]
        while stack:
            pid, role = stack.pop()
            rss = rss_bytes(pid)
            if rss is None:
                continue
            total += rss
            peaks[role] = max(peaks[role], rss)
            if role == "job":
                self.job_pids.add(pid)
            stack += [(child, self._role(child, role)) for child in _children(pid)]
        peaks["total"] = max(peaks["total"], total)
        self.samples += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def peaks_mb(self) -> dict[str, dict[str, float]]:
        return {
            phase: {role: round(b / 2**20, 1) for role, b in sorted(roles.items())}
            for phase, roles in self.peaks.items()
        }
