"""Requests counted in memory per minute, written to ``api_usage`` in batches.

Recording sits on every request's path, ingestion included, so it is a dict update
under a lock and nothing else: no database work. :meth:`UsageRecorder.flush` (a loop
every few seconds, and once at shutdown) writes what was gathered as upserts that add,
so several server processes sum into one row per minute and key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func

from augury import clock
from augury.store.db import Database
from augury.store.upsert import insert_for
from augury.usage.models import ApiUsage

FLUSH_EVERY_S = 5.0
"""How often the server writes its buckets (and so how stale the usage figures may be)."""

_KEYS = ("minute", "org_id", "user_id", "key_id", "method", "route")
_ADDED = ("requests", "client_errors", "server_errors", "duration_ms", "bytes_in")

BucketKey = tuple[datetime, int, int, int, str, str]


@dataclass
class Bucket:
    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0
    duration_ms: float = 0.0
    max_duration_ms: float = 0.0
    bytes_in: int = 0

    def add(self, other: Bucket) -> None:
        self.requests += other.requests
        self.client_errors += other.client_errors
        self.server_errors += other.server_errors
        self.duration_ms += other.duration_ms
        self.max_duration_ms = max(self.max_duration_ms, other.max_duration_ms)
        self.bytes_in += other.bytes_in


class UsageRecorder:
    """One per server process: :meth:`record` on the request path, :meth:`flush` off it."""

    def __init__(self) -> None:
        self.started_at = clock.now()
        """When this process began serving: the ``uptime_s`` of the platform figures."""
        self._lock = threading.Lock()
        self._buckets: dict[BucketKey, Bucket] = {}

    def record(
        self,
        *,
        org_id: int,
        user_id: int | None,
        key_id: int | None,
        method: str,
        route: str,
        status: int,
        duration_ms: float,
        bytes_in: int,
    ) -> None:
        """Count one answered request in its minute (server time, ``augury.clock``)."""
        minute = clock.now().replace(second=0, microsecond=0)
        key = (minute, org_id, user_id or 0, key_id or 0, method, route[:200])
        one = Bucket(
            requests=1,
            client_errors=int(400 <= status < 500),
            server_errors=int(status >= 500),
            duration_ms=duration_ms,
            max_duration_ms=duration_ms,
            bytes_in=bytes_in,
        )
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                self._buckets[key] = one
            else:
                bucket.add(one)

    def pending(self) -> int:
        """Buckets not yet written."""
        with self._lock:
            return len(self._buckets)

    def flush(self, db: Database) -> int:
        """Write every bucket gathered so far; returns how many. A failed write puts them
        back, to be added to what comes in meanwhile and tried again next round."""
        with self._lock:
            taken, self._buckets = self._buckets, {}
        if not taken:
            return 0
        rows = [dict(zip(_KEYS, key, strict=True)) | vars(bucket) for key, bucket in taken.items()]
        try:
            with db.session() as session:
                stmt = insert_for(session, ApiUsage.__table__)
                greatest = (
                    func.greatest if session.get_bind().dialect.name == "postgresql" else func.max
                )
                table = ApiUsage.__table__
                values = {name: table.c[name] + stmt.excluded[name] for name in _ADDED}
                values["max_duration_ms"] = greatest(
                    table.c.max_duration_ms, stmt.excluded.max_duration_ms
                )
                session.execute(
                    stmt.on_conflict_do_update(index_elements=list(_KEYS), set_=values), rows
                )
        except BaseException:
            with self._lock:
                for key, bucket in taken.items():
                    self._buckets.setdefault(key, Bucket()).add(bucket)
            raise
        return len(rows)
