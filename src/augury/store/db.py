"""Engine and session factory: SQLite (WAL) on one machine, PostgreSQL at scale."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import create_engine, event
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for ``url``; ``read_only`` (SQLite) one whose transactions only read."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine, read_only=read_only)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions are
        # deferred, which lets two writers deadlock on lock upgrade).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA cache_size=-65536")  # 64 MB of pages per connection
        cur.execute("PRAGMA busy_timeout=30000")
        # LIKE is case-sensitive on PostgreSQL; make SQLite agree (metric expressions).
        cur.execute("PRAGMA case_sensitive_like=ON")
        if read_only:
            cur.execute("PRAGMA query_only=ON")  # a write is an error, not a lock taken
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if read_only:
            # A deferred transaction reads a WAL snapshot: it neither waits for the
            # writer nor holds it up.
            conn.exec_driver_sql("BEGIN")
            return
        # IMMEDIATE takes the write lock up front: a transaction then waits on
        # busy_timeout instead of failing with "database is locked" half-way.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """An engine plus its session factories; one per process (and per test app).

    ``sessionmaker`` opens sessions that may write. ``reader`` opens sessions that only
    read: on SQLite through a second pool whose transactions are deferred and
    ``query_only`` (they read a snapshot beside the one writer instead of queueing for
    its lock), on PostgreSQL as ``READ ONLY`` transactions. Either way a write through
    a reader fails loudly rather than taking the lock unseen.
    """

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        sqlite_file = url.startswith("sqlite") and not url.endswith(":memory:")
        if sqlite_file:
            self.read_engine = make_engine(url, read_only=True)
        else:
            self.read_engine = self.engine
        self.reader = sessionmaker(
            self.read_engine,
            expire_on_commit=False,
            info={"read_only": True, "writer": self.sessionmaker},
        )
        if not url.startswith("sqlite"):

            @event.listens_for(self.reader, "after_begin")
            def _read_only(_session, _transaction, connection):
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session from :attr:`reader`, closed when the block ends."""
        session = self.reader()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def write_aside(session: Session, stmt: Executable) -> None:
    """Run a small write a read may bring about (a key's last use, a result kept for
    next time): in ``session`` when it may write, else in a short transaction of its
    own, committed at once (a GET's session only reads)."""
    if not session.info.get("read_only"):
        session.execute(stmt)
        return
    with session.info["writer"]() as writer:
        writer.execute(stmt)
        writer.commit()


def changed(session: Session, stmt: Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it changed."""
    result = cast("CursorResult[Any]", session.execute(stmt))
    return int(result.rowcount or 0)
