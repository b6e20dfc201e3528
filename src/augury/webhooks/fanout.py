"""Fan platform events out to the event webhooks subscribed to them.

Each round claims the oldest events not yet fanned out (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so two processes never take the same ones; SQLite has one writer anyway)
and, in the same transaction, queues one ``alert_delivery`` per webhook of the event's
organization that is active now, subscribed to its type and older than the event, and
marks the event ``fanned_out``. A
crash before the commit leaves the events to the next round; after it, the deliveries
are in the outbox, which the alert dispatcher sends, signed, with retries. So an event
reaches each subscriber at least once, whatever restarts in between.

Fanned-out events older than :data:`RETENTION_DAYS` are deleted, at most once an hour.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from augury import clock
from augury.alerts.models import Delivery
from augury.events.catalog import ALL
from augury.events.models import PlatformEvent
from augury.store.db import Database, changed
from augury.webhooks import service
from augury.webhooks.models import EventWebhook

BATCH = 500
"""Events claimed per transaction (a round runs batches until none is left)."""
MAX_BATCHES = 20
"""Batches per round, so that a backlog cannot hold the stream processor's thread."""
RETENTION_DAYS = 30
PURGE_EVERY_S = 3600.0


class FanOut:
    """A periodic task: each new platform event becomes one outbox delivery per active
    webhook of its organization subscribed to its type."""

    name = "webhooks.fanout"
    every_s = 1.0

    def __init__(self) -> None:
        self._purged_at: float | None = None

    def run(self, db: Database) -> int:
        """Fan out what is waiting; returns the number of deliveries queued."""
        queued = 0
        for _ in range(MAX_BATCHES):
            with db.session() as session:
                events, n = fan_out(session, BATCH)
            queued += n
            if events < BATCH:
                break
        now = time.monotonic()
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY_S:
            self._purged_at = now
            with db.session() as session:
                purge(session)
        return queued


def fan_out(session: Session, limit: int = BATCH) -> tuple[int, int]:
    """Claim up to ``limit`` pending events, queue their deliveries and mark them fanned
    out, in the caller's transaction. Returns (events claimed, deliveries queued)."""
    stmt = (
        select(PlatformEvent)
        .where(PlatformEvent.fanned_out.is_(False))
        .order_by(PlatformEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    events = list(session.scalars(stmt))
    if not events:
        return 0, 0
    hooks: dict[int, list[EventWebhook]] = defaultdict(list)
    org_ids = {e.org_id for e in events}
    for hook in session.scalars(
        select(EventWebhook)
        .where(EventWebhook.org_id.in_(org_ids), EventWebhook.active.is_(True))
        .order_by(EventWebhook.id)
    ):
        hooks[hook.org_id].append(hook)
    now = clock.now().timestamp()
    queued = 0
    for event in events:
        for hook in hooks.get(event.org_id, ()):
            if _wants(hook, event):
                session.add(_delivery(event, hook, now))
                queued += 1
        event.fanned_out = True
    return len(events), queued


def _wants(hook: EventWebhook, event: PlatformEvent) -> bool:
    """Whether ``hook`` gets ``event``: one of its types, and not older than the hook
    (an event still waiting when the webhook was made happened before it existed)."""
    if event.type not in hook.events and ALL not in hook.events:
        return False
    return event.created_at >= hook.created_at


def _delivery(event: PlatformEvent, hook: EventWebhook, now: float) -> Delivery:
    body = service.body(
        event_id=str(event.id),
        type=event.type,
        timestamp=event.created_at.astimezone(UTC).isoformat(),
        org_id=event.org_id,
        data=event.data,
    )
    return Delivery(
        org_id=event.org_id,
        channel_id=hook.channel_id,
        trigger_id=None,
        event=service.DELIVERY_EVENT,
        payload={"json": body, "event": event.type},
        status="pending",
        attempts=0,
        next_attempt_at=now,
    )


def purge(session: Session, days: int = RETENTION_DAYS) -> int:
    """Delete the events fanned out more than ``days`` ago (their deliveries stay in the
    outbox's log, which carries the whole body)."""
    cutoff = clock.now() - timedelta(days=days)
    return changed(
        session,
        delete(PlatformEvent).where(
            PlatformEvent.fanned_out.is_(True), PlatformEvent.created_at < cutoff
        ),
    )
