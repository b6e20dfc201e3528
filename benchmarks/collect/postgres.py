"""A throw-away PostgreSQL server for the collector benchmark (Debian's packages)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.ingest.run import free_port


def _bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    return found[-1]


def _as_postgres(args: list[str]) -> list[str]:
    """Run as the postgres user when this is root (initdb refuses root)."""
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


@contextmanager
def postgres(workdir: Path) -> Iterator[str]:
    """Start a cluster in ``workdir/pg`` on a free port; yield its libpq URL (user
    ``postgres``, database ``bench``, trust authentication on 127.0.0.1); stop it."""
    pgbin = _bin()
    data = workdir / "pg"
    data.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres([str(pgbin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c shared_buffers=512MB -c max_wal_size=4GB"
    )
    subprocess.run(
        _as_postgres(
            [str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w", "-o", options]
            + ["start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            _as_postgres(
                [str(pgbin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
                + ["bench"]
            ),
            check=True,
            capture_output=True,
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/bench"
    finally:
        subprocess.run(
            _as_postgres([str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
