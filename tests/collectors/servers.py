"""Real database servers for the SQL connector tests: a PostgreSQL cluster and a MariaDB
server, each started in a temporary folder on a free port of 127.0.0.1 and thrown away
after the module that uses it (module-scoped fixtures: such a module runs whole on one
xdist worker, so each server starts once).

Both require password authentication over TCP (the tests check a wrong password), and
give an ``admin`` connection through their Unix socket to set up tables and to see what
a connector did. The programs come from ``.ci/install-test-deps`` (postgresql,
mariadb-server); when run as root, PostgreSQL runs as the ``postgres`` user (initdb
refuses root) and MariaDB as ``--user=root``.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest

READER = "reader"
PASSWORD = "s3cret-Pa55word"
DATABASE = "sales"


@dataclass
class Server:
    """A running server: where a connector connects as ``READER`` with ``PASSWORD``,
    and ``admin(sql)`` to run statements as its superuser."""

    host: str
    port: int
    database: str
    user: str
    password: str
    admin: Callable[..., list[tuple[Any, ...]]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(ready: Callable[[], bool], what: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"{what} did not start in {seconds:g} s:\n{tail}")


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bin() -> Path:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name.split(".")[0])
    )
    if not found or not (found[-1] / "postgres").exists():
        raise RuntimeError("PostgreSQL is not installed: run .ci/install-test-deps")
    return found[-1]


@contextlib.contextmanager
def postgres() -> Iterator[Server]:
    """A PostgreSQL cluster: trust through its socket (the admin), a password
    (scram-sha-256) for everyone over TCP."""
    bin_ = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="augury-pg-"))
    data = root / "data"
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres")
    port = free_port()
    log = root / "server.log"

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    run(str(bin_ / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
    )
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
    )
    run(str(bin_ / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start")
    admin_dsn = {"host": str(root), "port": port, "user": "postgres", "autocommit": True}

    def admin(sql: str, params: Any = None, dbname: str = DATABASE) -> list[tuple[Any, ...]]:
        with psycopg.connect(dbname=dbname, **admin_dsn) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    try:
        admin(f"CREATE ROLE {READER} LOGIN PASSWORD '{PASSWORD}'", dbname="postgres")
        admin(f"CREATE DATABASE {DATABASE} OWNER postgres", dbname="postgres")
        yield Server("127.0.0.1", port, DATABASE, READER, PASSWORD, admin)
    finally:
        subprocess.run(
            [*prefix, str(bin_ / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------- MariaDB


def _mariadbd() -> str:
    for name in ("mariadbd", "mysqld"):
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/libexec")
        if found:
            return found
    raise RuntimeError("MariaDB is not installed: run .ci/install-test-deps")


@contextlib.contextmanager
def mariadb() -> Iterator[Server]:
    """A MariaDB server: root without a password through its socket (the admin), a
    reader with a password over TCP."""
    server = _mariadbd()
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    if install is None:
        raise RuntimeError("mariadb-install-db is missing: run .ci/install-test-deps")
    root = Path(tempfile.mkdtemp(prefix="augury-mariadb-"))
    data, sock, log = root / "data", root / "mysqld.sock", root / "error.log"
    user = getpass.getuser()
    port = free_port()
    subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={data}",
            f"--user={user}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    process = subprocess.Popen(
        [
            server,
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={sock}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--user={user}",
            f"--pid-file={root / 'mysqld.pid'}",
            f"--log-error={log}",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=16M",
            "--innodb-flush-log-at-trx-commit=0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def connect_admin(database: str | None = None) -> pymysql.Connection:
        return pymysql.connect(
            unix_socket=str(sock), user="root", database=database, autocommit=True
        )

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"mariadbd exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            connect_admin().close()
            return True
        except pymysql.Error:
            return False

    def admin(
        sql: str, params: Any = None, database: str | None = DATABASE
    ) -> list[tuple[Any, ...]]:
        conn = connect_admin(database)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            conn.close()

    try:
        _wait(ready, "MariaDB", log)
        admin(f"CREATE DATABASE {DATABASE}", database=None)
        admin(f"CREATE USER '{READER}'@'%' IDENTIFIED BY '{PASSWORD}'", database=None)
        yield Server("127.0.0.1", port, DATABASE, READER, PASSWORD, admin)
    finally:
        process.kill()  # its data is thrown away: no clean shutdown needed
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[Server]:
    with postgres() as server:
        yield server


@pytest.fixture(scope="module")
def mariadb_server() -> Iterator[Server]:
    with mariadb() as server:
        yield server
