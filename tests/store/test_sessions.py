"""Sessions that only read: GET requests read beside the writer instead of queueing
for its lock (SQLite has one writer at a time), and cannot write by mistake."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import delete, text
from sqlalchemy.exc import DBAPIError

from augury.accounts.models import Organization
from tests.fixtures.factories import make_key


def test_a_reader_session_cannot_write(db):
    with pytest.raises(DBAPIError, match="(?i)read.?only"), db.reader() as session:
        session.execute(delete(Organization))
    with db.sessionmaker() as session:  # the other sessions still write
        session.execute(delete(Organization))
        session.commit()


def _hold_write_lock(db):
    """A connection holding what a long write holds: SQLite's one write lock, or on
    PostgreSQL an EXCLUSIVE lock on the metric table (it lets only plain reads by)."""
    conn = db.engine.connect()
    conn.begin()  # BEGIN IMMEDIATE on SQLite: the write lock
    if db.engine.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE metric IN EXCLUSIVE MODE"))
    return conn


def test_gets_answer_while_a_writer_holds_the_lock_and_writes_wait(client, owner):
    key = make_key(client, owner, ["ingest"])
    db = client.app.state.db
    conn = _hold_write_lock(db)
    answers: dict[str, object] = {}

    def post():
        answers["post"] = client.post(
            "/api/v1/metrics",
            params={"protocol": "anodot20", "token": key},
            json=[{"properties": {"what": "cpu"}, "timestamp": int(time.time()), "value": 1}],
        )
        answers["post_at"] = time.monotonic()

    try:
        started = time.monotonic()
        got = client.get("/api/v1/metrics", headers=owner.headers)
        assert got.status_code == 200, got.text
        assert time.monotonic() - started < 10  # busy_timeout would have been 30 s
        writer = threading.Thread(target=post)
        writer.start()
        writer.join(1.0)
        assert writer.is_alive()  # a write waits for the lock ...
        released = time.monotonic()
    finally:
        conn.rollback()
        conn.close()
    writer.join(30)
    assert answers["post"].status_code == 200, answers["post"].text  # ... and then goes in
    assert answers["post_at"] >= released
    assert answers["post"].json()["accepted"] == 1
