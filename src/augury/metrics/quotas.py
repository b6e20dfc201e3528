"""Per-organization ingestion quotas (``AUGURY_QUOTAS__*``), checked by :func:`writer.write`.

* ``points_per_minute``: once the organization's accepted points of the current minute
  (``metric_ingest_stat``, shared by every process) reach the quota, a request is refused
  whole with 429 ``QUOTA_EXCEEDED`` and ``Retry-After`` (the seconds to the next minute),
  which is how Prometheus, Telegraf and Anodot senders expect to be slowed down.
* ``stored_points``: points accepted within the retention period, an upper bound of
  the points stored (a duplicate timestamp replaces a point; a deleted metric's points
  still count until they age out). At the quota, requests are refused with 403. The sum
  is read at most every :data:`USAGE_TTL_S` seconds per process and counts the samples
  of each request in between.
* ``metrics``: a sample that would create a metric beyond the quota is refused on its
  own with the per-sample error ``QUOTA_EXCEEDED``; metrics that exist keep accepting.

Concurrent writers may overshoot a quota by what they send at the same moment.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Mapping
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.config import QuotaSettings
from augury.errors import QuotaExceeded
from augury.metrics.models import IngestStat, Metric

QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
USAGE_TTL_S = 10.0

# Per metric cache (one per app or backfill job): org id -> (read at, points counted).
_stored: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()

K = TypeVar("K")


def check_request(
    session: Session,
    *,
    org_id: int,
    incoming: int,
    quotas: QuotaSettings,
    retention_days: int,
    owner: object,
) -> None:
    """Refuse the whole request when the minute's or the stored points quota is used up."""
    if not incoming:
        return
    now = clock.now().timestamp()
    if quotas.points_per_minute:
        minute = int(now // 60 * 60)
        used = (
            session.scalar(
                select(IngestStat.accepted).where(
                    IngestStat.org_id == org_id, IngestStat.minute == minute
                )
            )
            or 0
        )
        if used >= quotas.points_per_minute:
            raise QuotaExceeded(
                f"The organization sent {used} points this minute, its quota "
                f"(AUGURY_QUOTAS__POINTS_PER_MINUTE is {quotas.points_per_minute}); "
                "send again next minute.",
                quota="points_per_minute",
                limit=quotas.points_per_minute,
                used=used,
                retry_after=max(1, math.ceil(minute + 60 - now)),
            )
    if quotas.stored_points:
        used = _stored_points(session, org_id, retention_days, owner, now)
        if used >= quotas.stored_points:
            raise QuotaExceeded(
                f"The organization stores about {used} points, its quota "
                f"(AUGURY_QUOTAS__STORED_POINTS is {quotas.stored_points}); points "
                f"older than {retention_days} days age out, or the operator can raise it.",
                quota="stored_points",
                limit=quotas.stored_points,
                used=used,
            )
        with _lock:
            read_at, counted = _stored[owner][org_id]
            _stored[owner][org_id] = (read_at, counted + incoming)


def _stored_points(session: Session, org_id: int, retention_days: int, owner, now) -> int:
    with _lock:
        cached = _stored.setdefault(owner, {}).get(org_id)
    if cached is not None and now - cached[0] < USAGE_TTL_S:
        return cached[1]
    since = int(now // 60 * 60) - retention_days * 86400
    total = int(
        session.scalar(
            select(func.coalesce(func.sum(IngestStat.accepted), 0)).where(
                IngestStat.org_id == org_id, IngestStat.minute >= since
            )
        )
        or 0
    )
    with _lock:
        _stored[owner][org_id] = (now, total)
    return total


def refuse_new_metrics(
    session: Session, org_id: int, digests: Mapping[str, K], limit: int
) -> set[K]:
    """Of the metric keys (by identity hash) not in the process cache, those that would
    be created beyond the organization's ``limit`` of metrics (first seen kept first)."""
    if not limit or not digests:
        return set()
    wanted = list(digests)
    existing: set[str] = set()
    for start in range(0, len(wanted), 500):
        existing.update(
            session.scalars(
                select(Metric.key_hash).where(
                    Metric.org_id == org_id, Metric.key_hash.in_(wanted[start : start + 500])
                )
            )
        )
    new = [digests[d] for d in wanted if d not in existing]
    if not new:
        return set()
    count = session.scalar(select(func.count()).select_from(Metric).where(Metric.org_id == org_id))
    room = max(0, limit - (count or 0))
    return set(new[room:])
