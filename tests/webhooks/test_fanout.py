"""The fan-out's own rules: each event once, in order, and old events swept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from augury.events import service as events
from augury.events.models import PlatformEvent
from augury.webhooks import fanout
from augury.webhooks.fanout import FanOut


def _types(db) -> list[tuple[str, bool]]:
    with db.session() as s:
        rows = s.scalars(select(PlatformEvent).order_by(PlatformEvent.id))
        return [(e.type, e.fanned_out) for e in rows]


def test_emit_refuses_an_unknown_type(db, owner):
    with db.session() as s, pytest.raises(ValueError, match="chart.exploded"):
        events.emit(s, org_id=owner.org_id, type="chart.exploded", data={})


def test_events_are_fanned_out_once_in_batches_and_swept_after_retention(
    db, owner, frozen_clock, monkeypatch
):
    monkeypatch.setattr(fanout, "BATCH", 2)  # three events: two batches in one round
    with db.session() as s:
        for n in range(3):
            events.emit(s, org_id=owner.org_id, type="job.finished", data={"job_id": n})
    FanOut().run(db)
    assert [f for t, f in _types(db) if t == "job.finished"] == [True, True, True]

    frozen_clock.advance(31 * 86400)
    with db.session() as s:
        events.emit(s, org_id=owner.org_id, type="member.invited", data={})
        old_and_waiting = events.emit(s, org_id=owner.org_id, type="chart.created", data={})
        s.flush()
        old_and_waiting.created_at = frozen_clock.now().replace(year=2000)
    with db.session() as s:
        assert fanout.purge(s) == 4  # the owner's sign-up and the jobs: fanned out, old
    assert [t for t, _ in _types(db)] == ["member.invited", "chart.created"]
    FanOut().run(db)  # fans out what waits, then sweeps
    assert _types(db) == [("member.invited", True)]
