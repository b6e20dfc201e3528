"""The dispatcher: sends what the outbox holds, with retries, off every hot path.

Each round (:meth:`Dispatcher.run_once`, run every ``dispatch_interval_s`` by the loop
:func:`augury.runtime.wiring.dispatch_loop` builds in ``augury serve`` and ``augury
worker``) claims due rows of
``alert_delivery`` in a short transaction (marking them ``sending`` with a lease),
sends them from a thread pool, and records each result in its own transaction:

* sent: ``sent`` with the answer's status and time;
* a retryable failure (timeout, connection refused, 408/425/429/5xx, a transient SMTP
  error): back to ``pending``, due after an exponential backoff with jitter
  (``retry_base_s`` doubled per attempt, capped at ``retry_cap_s``, times a random
  factor in [0.5, 1) so that receivers that failed together do not get retried
  together);
* a permanent failure, or ``max_attempts`` reached: ``failed``, visible in the
  channel's delivery log.

A process that dies mid-send leaves its rows ``sending``; when their lease runs out
another claim picks them up, so nothing queued is lost across a restart (a message
may then arrive twice: receivers can de-duplicate on ``X-Augury-Delivery``). At most
``per_channel`` messages of one channel are in flight, so a slow channel cannot hold
the workers that others need.
"""

from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from augury import clock
from augury.alerts import channels
from augury.alerts.models import Channel, Delivery
from augury.alerts.notification import Notification
from augury.anomalies import service as anomalies_service
from augury.config import Settings
from augury.metrics import graph
from augury.metrics import service as metrics_service
from augury.metrics.models import Metric
from augury.store.db import Database

log = logging.getLogger("augury.alerts")

GRAPHS_PER_MAIL = 2
"""Metric graphs attached to an alert mail (the strongest metrics first)."""


def backoff(attempt: int, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Delay before attempt ``attempt + 1``: ``base * 2**(attempt-1)`` capped, jittered."""
    jitter = (rng or random).uniform(0.5, 1.0)
    return min(cap_s, base_s * 2 ** max(0, attempt - 1)) * jitter


class Claimed:
    """A delivery taken for sending, detached from the session that claimed it."""

    def __init__(self, delivery: Delivery, channel: Channel):
        self.id = delivery.id
        self.attempts = delivery.attempts
        self.payload = dict(delivery.payload)
        self.channel_id = channel.id
        self.channel_type = channel.type
        self.channel_config = {**channel.config, "_name": channel.name}
        self.event = delivery.event


class Dispatcher:
    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings
        self.cfg = settings.alerts
        self.pool = ThreadPoolExecutor(self.cfg.workers, thread_name_prefix="augury-send")
        self._inflight: dict[int, Future] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop sending: what is not sent yet stays in the outbox for the next start."""
        self.pool.shutdown(wait=False, cancel_futures=True)

    def run_once(self, *, wait: bool = False, now: float | None = None) -> int:
        """Claim what is due and start sending it; ``wait``: until it is sent (tests,
        ``augury alerts dispatch``). Returns how many deliveries were claimed."""
        with self._lock:
            self._inflight = {k: f for k, f in self._inflight.items() if not f.done()}
            capacity = self.cfg.workers - len(self._inflight)
        if capacity <= 0:
            return 0
        claimed = self.claim(capacity, now=now)
        futures = []
        for item in claimed:
            future = self.pool.submit(self.deliver, item)
            with self._lock:
                self._inflight[item.id] = future
            futures.append(future)
        if wait:
            for future in futures:
                future.result()
        return len(claimed)

    def drain(self, rounds: int = 20) -> int:
        """Send everything due now (tests): claim and wait until nothing is due."""
        total = 0
        for _ in range(rounds):
            n = self.run_once(wait=True)
            total += n
            if n == 0:
                break
        return total

    # ---------------------------------------------------------------- claim

    def claim(self, capacity: int, now: float | None = None) -> list[Claimed]:
        now = clock.now().timestamp() if now is None else now
        lease = now + 2 * self.cfg.timeout_s + 30.0
        with self.db.session() as session:
            busy = dict(
                session.execute(
                    select(Delivery.channel_id, func.count())
                    .where(Delivery.status == "sending", Delivery.locked_until >= now)
                    .group_by(Delivery.channel_id)
                ).all()
            )
            stmt = (
                select(Delivery, Channel)
                .join(Channel, Channel.id == Delivery.channel_id)
                .where(
                    or_(
                        and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
                        and_(Delivery.status == "sending", Delivery.locked_until < now),
                    )
                )
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(capacity * 8)
            )
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True, of=Delivery)
            out: list[Claimed] = []
            for delivery, channel in session.execute(stmt).all():
                if len(out) >= capacity:
                    break
                if busy.get(channel.id, 0) >= self.cfg.per_channel:
                    continue
                busy[channel.id] = busy.get(channel.id, 0) + 1
                delivery.status = "sending"
                delivery.locked_until = lease
                delivery.attempts += 1
                out.append(Claimed(delivery, channel))
            return out

    # ----------------------------------------------------------------- send

    def deliver(self, item: Claimed) -> channels.SendResult:
        if "json" in item.payload:  # another domain's ready body (text review, events)
            result = send_body(item, self.settings)
            self.record(item, result)
            return result
        notification = Notification.from_dict(item.payload)
        notification.sent_at = clock.now().timestamp()
        images = self.graphs(notification) if item.channel_type == "email" else []
        try:
            result = channels.send(
                item.channel_type,
                item.channel_config,
                notification,
                settings=self.settings,
                delivery_id=str(item.id),
                timeout_s=self.cfg.timeout_s,
                images=images,
            )
        except Exception as exc:  # a bug in a renderer: do not retry it forever
            log.exception("delivery %s crashed", item.id)
            result = channels.SendResult(
                ok=False, retryable=False, status_code=None, error=repr(exc)[:300], duration_ms=0
            )
        self.record(item, result)
        return result

    def record(self, item: Claimed, result: channels.SendResult) -> None:
        now = clock.now().timestamp()
        with self.db.session() as session:
            delivery = session.get(Delivery, item.id)
            if (
                delivery is None
                or delivery.status != "sending"
                or delivery.attempts != item.attempts
            ):
                return  # deleted, or its lease ran out and another claim took it over
            apply_result(delivery, result, now, self.cfg)
        if not result.ok:
            log.warning(
                "delivery %s to channel %s failed (attempt %s): %s",
                item.id,
                item.channel_id,
                item.attempts,
                result.error,
            )

    def graphs(self, n: Notification) -> list[tuple[str, bytes]]:
        """PNG graphs of the alert's strongest metrics, drawn from stored data."""
        out = []
        with self.db.session() as session:
            for m in n.metrics[:GRAPHS_PER_MAIL]:
                metric = session.get(Metric, m.id)
                if metric is None:
                    continue
                end = (n.end or n.updated) + 6 * 3600
                start = n.start - 24 * 3600
                try:
                    s = metrics_service.timeseries(
                        session=session, metric=metric, start=start, end=end
                    )
                    png = graph.render(
                        s, width=700, height=240, **anomalies_service.chart_overlay(session, s)
                    )
                except Exception:
                    log.exception("graph of metric %s for a mail failed", m.id)
                    continue
                out.append((f"metric-{m.id}", png))
        return out


def apply_result(delivery: Delivery, result, now: float, cfg) -> None:
    delivery.status_code = result.status_code
    delivery.duration_ms = result.duration_ms
    delivery.locked_until = None
    if result.ok:
        delivery.status = "sent"
        delivery.error = None
        delivery.sent_at = clock.now()
    elif result.retryable and delivery.attempts < cfg.max_attempts:
        delivery.status = "pending"
        delivery.error = result.error
        delivery.next_attempt_at = now + backoff(
            delivery.attempts, cfg.retry_base_s, cfg.retry_cap_s
        )
    else:
        delivery.status = "failed"
        delivery.error = result.error


def send_body(item: Claimed, settings: Settings) -> channels.SendResult:
    """Send a delivery whose payload is another domain's ready JSON body; the payload's
    ``"event"``, when given, heads it (``X-Augury-Event``) instead of the short
    :attr:`Delivery.event`."""
    return channels.send_json(
        item.channel_type,
        item.channel_config,
        item.payload["json"],
        event=item.payload.get("event") or item.event,
        settings=settings,
        delivery_id=str(item.id),
        timeout_s=settings.alerts.timeout_s,
    )


def send_now(session: Session, settings: Settings, delivery: Delivery, channel: Channel):
    """Send one delivery in the caller's thread (a channel's or event webhook's "send
    test"): a notification, or a ready JSON body.

    The row is committed first and the session left alone while the receiver answers:
    on SQLite an open transaction holds the database's one write lock, and ingestion
    must not wait on a slow receiver."""
    item = Claimed(delivery, channel)
    item.attempts += 1
    session.commit()
    if "json" in item.payload:
        result = send_body(item, settings)
    else:
        result = _send_notification_now(item, settings)
    delivery.attempts = item.attempts
    if result.ok or not result.retryable:
        apply_result(delivery, result, clock.now().timestamp(), settings.alerts)
    else:  # a test is not retried: say what happened at once
        delivery.status = "failed"
        delivery.status_code = result.status_code
        delivery.duration_ms = result.duration_ms
        delivery.error = result.error
    return result


def _send_notification_now(item: Claimed, settings: Settings) -> channels.SendResult:
    notification = Notification.from_dict(item.payload)
    notification.sent_at = clock.now().timestamp()
    try:
        return channels.send(
            item.channel_type,
            item.channel_config,
            notification,
            settings=settings,
            delivery_id=str(item.id),
            timeout_s=settings.alerts.timeout_s,
        )
    except Exception as exc:
        log.exception("test delivery crashed")
        return channels.SendResult(
            ok=False, retryable=False, status_code=None, error=repr(exc)[:300], duration_ms=0
        )
