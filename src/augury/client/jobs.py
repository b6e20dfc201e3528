"""Background jobs: queue, follow, wait for and abort them; their logs and consumptions."""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from augury.client.base import JSON, Resource, _query

_FINAL_JOB_STATUSES = frozenset({"succeeded", "failed", "aborted"})


class Jobs(Resource):
    """Background jobs, their logs and consumptions (``client.jobs``)."""

    def types(self) -> list[JSON]:
        """Job types the server runs, with the JSON schema of their params."""
        return self._client.request("GET", "/job-types")

    def create(self, type: str, params: Mapping[str, Any] | None = None) -> JSON:
        """Queue a job of a registered type, e.g. ``create("demo.work", {"steps": 3})``."""
        body = {"type": type, "params": dict(params or {})}
        return self._client.request("POST", "/jobs", json=body)

    def list(
        self,
        *,
        status: str | Iterable[str] | None = None,
        type: str | None = None,
        user_id: int | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of jobs, newest first; ``status`` takes one status or several."""
        return self._page(
            "/jobs",
            offset,
            limit,
            **self._filters(status, type, user_id, created_after, created_before),
        )

    def iter(
        self,
        *,
        status: str | Iterable[str] | None = None,
        type: str | None = None,
        user_id: int | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[JSON]:
        """Every job matching the filters, newest first."""
        return self._iter(
            "/jobs",
            page_size,
            **self._filters(status, type, user_id, created_after, created_before),
        )

    @staticmethod
    def _filters(
        status: str | Iterable[str] | None,
        type: str | None,
        user_id: int | None,
        created_after: datetime | None,
        created_before: datetime | None,
    ) -> JSON:
        if status is not None and not isinstance(status, str):
            status = list(status)
        return _query(
            {
                "status": status,
                "type": type,
                "user_id": user_id,
                "created_after": created_after,
                "created_before": created_before,
            }
        )

    def get(self, job_id: int) -> JSON:
        """One job with its progress and resource use."""
        return self._client.request("GET", f"/jobs/{job_id}")

    def abort(self, job_id: int) -> JSON:
        """Abort a pending or running job (a running one stops within seconds)."""
        return self._client.request("POST", f"/jobs/{job_id}/abort")

    def delete(self, job_id: int) -> None:
        """Delete a finished job and its logs (admins)."""
        self._client.request("DELETE", f"/jobs/{job_id}")

    def logs(self, job_id: int, *, offset: int = 0, limit: int = 50) -> JSON:
        """One page of the job's log lines, oldest first."""
        return self._page(f"/jobs/{job_id}/logs", offset, limit)

    def iter_logs(self, job_id: int, *, page_size: int = 500) -> Iterator[JSON]:
        """Every log line of the job, oldest first."""
        return self._iter(f"/jobs/{job_id}/logs", page_size)

    def wait(self, job_id: int, timeout: float = 300.0, poll_interval: float = 0.5) -> JSON:
        """Poll until the job is succeeded, failed or aborted, and return it.

        Raises ``TimeoutError`` if it is still pending or running after ``timeout``
        seconds (the job itself goes on; abort it if you no longer want it).
        """
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job["status"] in _FINAL_JOB_STATUSES:
                return job
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"job {job_id} is still {job['status']} after {timeout} s")
            time.sleep(min(poll_interval, left))

    def consumptions(
        self,
        *,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        user_id: int | None = None,
        type: str | None = None,
    ) -> builtins.list[JSON]:
        """CPU seconds, peak memory and disk written by jobs, per user, job type and day."""
        params = _query(
            {"date_from": date_from, "date_to": date_to, "user_id": user_id, "type": type}
        )
        return self._client.request("GET", "/consumptions", params=params)
