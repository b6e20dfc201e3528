"""Python client of the augury REST API.

    >>> from augury.client import Client
    >>> with Client("http://127.0.0.1:8000", api_key="aug_...") as client:  # doctest: +SKIP
    ...     job = client.jobs.create("demo.work", {"steps": 3})
    ...     client.jobs.wait(job["id"], timeout=60)["status"]
    'succeeded'

Answers are the API's JSON as plain dicts and lists. Lists come two ways: ``list()``
returns one page (``{"items", "total", "offset", "limit", "has_more"}``) and ``iter()``
yields every item, fetching pages as it goes. Each resource group (``client.jobs``,
``client.keys`` ...) is a small :class:`Resource` subclass: a new group is a class
here plus one line in :meth:`Client.__init__`; routes without a group yet are
reachable through :meth:`Client.request`.

Errors the API answers with ``{"error": {"code", "message", "details"}}`` raise
:class:`AuguryAPIError`, or the subclass for its code::

    AuguryAPIError (any other code or status)
    ├── AuthenticationError (401 AUTHENTICATION_FAILED)
    ├── PermissionDeniedError (403 PERMISSION_DENIED)
    ├── NotFoundError (404 RESOURCE_NOT_FOUND)
    ├── ConflictError (409 CONFLICT)
    ├── PayloadTooLargeError (413 PAYLOAD_TOO_LARGE)
    ├── ValidationError (422 VALIDATION_ERROR)
    ├── RateLimitError (429 RATE_LIMIT_EXCEEDED; ``retry_after`` seconds)
    └── ServerError (5xx INTERNAL_ERROR)

Network failures raise httpx's own exceptions (``httpx.TransportError``).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from augury import __version__

__all__ = [
    "Alerts",
    "Anomalies",
    "ApiKeys",
    "Audit",
    "AuguryAPIError",
    "AuthenticationError",
    "Channels",
    "Client",
    "ConflictError",
    "Events",
    "Forecasts",
    "Invitations",
    "JSON",
    "Jobs",
    "Members",
    "Metrics",
    "NotFoundError",
    "Organizations",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "Resource",
    "ServerError",
    "ValidationError",
]

JSON = dict[str, Any]
"""What the API answers for one resource: a plain dict."""

_API_PREFIX = "/api/v1"
_FINAL_JOB_STATUSES = frozenset({"succeeded", "failed", "aborted"})


# --- errors ------------------------------------------------------------------------


class AuguryAPIError(Exception):
    """An error answered by the augury API.

    Parameters
    ----------
    status : int
        HTTP status of the answer.
    code : str
        Error code, e.g. ``"RESOURCE_NOT_FOUND"``.
    message : str
        Human-readable explanation.
    details : dict, optional
        Structured details (field errors, allowed values ...).
    """

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        super().__init__(f"{status} {code}: {message}")


class AuthenticationError(AuguryAPIError):
    """Missing, wrong, expired or revoked credentials (401)."""


class PermissionDeniedError(AuguryAPIError):
    """The credentials may not do this (403)."""


class NotFoundError(AuguryAPIError):
    """No such resource in the organization you act in (404)."""


class ConflictError(AuguryAPIError):
    """The resource's current state forbids this (409)."""


class PayloadTooLargeError(AuguryAPIError):
    """The request body is over the server's limit (413)."""


class ValidationError(AuguryAPIError):
    """The request is malformed or its values are invalid (422)."""


class RateLimitError(AuguryAPIError):
    """Too many requests (429); retry after ``retry_after`` seconds."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, code, message, details)
        self.retry_after = retry_after


class ServerError(AuguryAPIError):
    """The server failed (5xx)."""


_ERRORS_BY_CODE: dict[str, type[AuguryAPIError]] = {
    "AUTHENTICATION_FAILED": AuthenticationError,
    "PERMISSION_DENIED": PermissionDeniedError,
    "RESOURCE_NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "PAYLOAD_TOO_LARGE": PayloadTooLargeError,
    "VALIDATION_ERROR": ValidationError,
    "RATE_LIMIT_EXCEEDED": RateLimitError,
    "INTERNAL_ERROR": ServerError,
}
_ERRORS_BY_STATUS: dict[int, type[AuguryAPIError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitError,
}


def _error_from(response: httpx.Response) -> AuguryAPIError:
    """The exception for an error answer, from its envelope when it has one."""
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") or {}
    except (ValueError, KeyError, TypeError):
        # Not augury's envelope (a proxy in between, for instance).
        code = "INTERNAL_ERROR" if response.status_code >= 500 else "HTTP_ERROR"
        message = response.text[:500] or response.reason_phrase
        details = {}
    cls = _ERRORS_BY_CODE.get(code) or _ERRORS_BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else AuguryAPIError
    if cls is RateLimitError:
        retry_after = response.headers.get("Retry-After") or details.get("retry_after")
        try:
            retry_after = float(retry_after) if retry_after is not None else None
        except (TypeError, ValueError):
            retry_after = None
        return RateLimitError(response.status_code, code, message, details, retry_after)
    return cls(response.status_code, code, message, details)


def _jwt_expired(token: str, leeway_s: float = 5.0) -> bool:
    """Whether a JWT's ``exp`` claim has passed (read, not verified: the server verifies)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) <= time.time() + leeway_s
    except (IndexError, ValueError, KeyError, TypeError):
        return False


def _body(**fields: Any) -> JSON:
    """A JSON body without the fields left unset (None)."""
    return {name: value for name, value in fields.items() if value is not None}


def _query(params: Mapping[str, Any]) -> JSON:
    """Query parameters without the unset ones; datetimes and lists as the API reads them."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, list | tuple | set | frozenset):
            value = ",".join(str(v) for v in value)
        out[name] = value
    return out


# --- resource groups ---------------------------------------------------------------


class Resource:
    """Base of the resource groups: a handle on the client plus paging helpers."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _page(self, path: str, offset: int, limit: int, **params: Any) -> JSON:
        params = {**params, "offset": offset, "limit": limit}
        return self._client.request("GET", path, params=params)

    def _iter(self, path: str, page_size: int, **params: Any) -> Iterator[JSON]:
        offset = 0
        while True:
            page = self._page(path, offset, page_size, **params)
            yield from page["items"]
            if not page["has_more"] or not page["items"]:
                return
            offset += len(page["items"])


class Organizations(Resource):
    """Organizations you belong to (``client.orgs``)."""

    def list(self, *, offset: int = 0, limit: int = 50) -> JSON:
        """One page of the organizations you belong to, with your role in each."""
        return self._page("/organizations", offset, limit)

    def iter(self, *, page_size: int = 100) -> Iterator[JSON]:
        """Every organization you belong to."""
        return self._iter("/organizations", page_size)

    def create(self, name: str, description: str | None = None) -> JSON:
        """Create an organization you own (switch to it to act in it)."""
        return self._client.request(
            "POST", "/organizations", json={"name": name, "description": description}
        )

    def get(self, organization_id: int) -> JSON:
        """The organization you act in."""
        return self._client.request("GET", f"/organizations/{organization_id}")

    def update(
        self, organization_id: int, *, name: str | None = None, description: str | None = None
    ) -> JSON:
        """Rename or describe the organization you act in (admins); None leaves a field as is."""
        body = _body(name=name, description=description)
        return self._client.request("PATCH", f"/organizations/{organization_id}", json=body)


class Members(Resource):
    """Members of the organization you act in (``client.members``)."""

    def list(self, *, offset: int = 0, limit: int = 50) -> JSON:
        """One page of members with their roles."""
        return self._page("/members", offset, limit)

    def iter(self, *, page_size: int = 100) -> Iterator[JSON]:
        """Every member."""
        return self._iter("/members", page_size)

    def update(
        self, member_id: int, *, role: str | None = None, disabled: bool | None = None
    ) -> JSON:
        """Change a member's role or disable/enable them (admins); None leaves a field as is."""
        body = _body(role=role, disabled=disabled)
        return self._client.request("PATCH", f"/members/{member_id}", json=body)


class Invitations(Resource):
    """Invitations into the organization you act in (``client.invitations``)."""

    def list(self, *, pending: bool = True, offset: int = 0, limit: int = 50) -> JSON:
        """One page of invitations (admins); only pending ones unless ``pending=False``."""
        return self._page("/invitations", offset, limit, pending=pending)

    def iter(self, *, pending: bool = True, page_size: int = 100) -> Iterator[JSON]:
        """Every invitation (admins)."""
        return self._iter("/invitations", page_size, pending=pending)

    def create(self, email: str, role: str = "member") -> JSON:
        """Invite someone by email; the answer holds the ``invitation_link`` (shown once)."""
        return self._client.request("POST", "/invitations", json={"email": email, "role": role})

    def revoke(self, invitation_id: int) -> None:
        """Withdraw a pending invitation."""
        self._client.request("DELETE", f"/invitations/{invitation_id}")

    def accept(self, token: str, password: str, name: str | None = None) -> JSON:
        """Accept an invitation and log in as the person invited (the client keeps the tokens)."""
        body = _body(token=token, password=password, name=name)
        return self._client._keep_tokens(
            self._client.request("POST", "/invitations/accept", json=body, authenticate=False)
        )


class ApiKeys(Resource):
    """API keys (``client.keys``)."""

    def list(self, *, include_revoked: bool = False, offset: int = 0, limit: int = 50) -> JSON:
        """One page of keys with their last use (admins see every key, others their own)."""
        return self._page("/api-keys", offset, limit, include_revoked=include_revoked)

    def iter(self, *, include_revoked: bool = False, page_size: int = 100) -> Iterator[JSON]:
        """Every key."""
        return self._iter("/api-keys", page_size, include_revoked=include_revoked)

    def create(
        self, name: str, scopes: Iterable[str] = ("read",), expires_at: datetime | None = None
    ) -> JSON:
        """Create a key with scopes (ingest, read, write, admin); ``["key"]`` is its secret."""
        body: dict[str, Any] = {"name": name, "scopes": list(scopes)}
        if expires_at is not None:
            body["expires_at"] = expires_at.isoformat()
        return self._client.request("POST", "/api-keys", json=body)

    def revoke(self, key_id: int) -> None:
        """Revoke a key: it stops working at once."""
        self._client.request("DELETE", f"/api-keys/{key_id}")


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
    def _filters(status, type, user_id, created_after, created_before) -> JSON:
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
    ) -> list[JSON]:
        """CPU seconds, peak memory and disk written by jobs, per user, job type and day."""
        params = _query(
            {"date_from": date_from, "date_to": date_to, "user_id": user_id, "type": type}
        )
        return self._client.request("GET", "/consumptions", params=params)


class Audit(Resource):
    """The organization's audit log, for admins (``client.audit``)."""

    def list(
        self,
        *,
        action: str | None = None,
        outcome: str | None = None,
        actor_user_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of events, newest first; ``action`` takes ``"auth.login"`` or ``"auth.*"``."""
        return self._page(
            "/audit",
            offset,
            limit,
            **_query(
                {
                    "action": action,
                    "outcome": outcome,
                    "actor_user_id": actor_user_id,
                    "since": since,
                    "until": until,
                }
            ),
        )

    def iter(
        self,
        *,
        action: str | None = None,
        outcome: str | None = None,
        actor_user_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[JSON]:
        """Every event matching the filters, newest first."""
        return self._iter(
            "/audit",
            page_size,
            **_query(
                {
                    "action": action,
                    "outcome": outcome,
                    "actor_user_id": actor_user_id,
                    "since": since,
                    "until": until,
                }
            ),
        )


class Metrics(Resource):
    """Metrics: send samples, search by expression, read series and graphs."""

    def send(self, samples: Iterable[Mapping[str, Any]]) -> JSON:
        """Send samples in Anodot 2.0 form: ``{"properties": {"what": ..., dim: value},
        "timestamp": epoch_s, "value": number}``; answers ``{"errors", "accepted",
        "rejected"}`` (refused samples do not raise)."""
        return self._client.request(
            "POST", "/metrics", params={"protocol": "anodot20"}, json=list(samples)
        )

    def import_csv(self, data: bytes | str) -> JSON:
        """Backfill history from CSV text; returns the ``metrics.backfill`` job."""
        body = data.encode() if isinstance(data, str) else data
        return self._client.request(
            "POST", "/metrics/import", content=body, headers={"Content-Type": "text/csv"}
        )

    def list(
        self, q: str | None = None, *, sort: str = "name", offset: int = 0, limit: int = 50
    ) -> JSON:
        """One page of metrics matching the expression ``q`` (``what=cpu* AND host=a``)."""
        return self._page("/metrics", offset, limit, q=q, sort=sort)

    def iter(self, q: str | None = None, *, sort: str = "name", page_size: int = 500):
        """Every metric matching ``q``."""
        return self._iter("/metrics", page_size, q=q, sort=sort)

    def get(self, metric_id: int) -> JSON:
        return self._client.request("GET", f"/metrics/{metric_id}")

    def delete(self, metric_id: int) -> None:
        self._client.request("DELETE", f"/metrics/{metric_id}")

    def overview(self) -> JSON:
        """Metric counts and the ingestion rate."""
        return self._client.request("GET", "/metrics/overview")

    def timeseries(
        self,
        metric_id: int,
        *,
        start: float | None = None,
        end: float | None = None,
        resolution: str = "auto",
    ) -> JSON:
        """Points in ``[start, end)`` (epoch seconds) at ``resolution``."""
        params = {"from": start, "to": end, "resolution": resolution}
        return self._client.request("GET", f"/metrics/{metric_id}/timeseries", params=params)

    def graph(
        self,
        metric_id: int,
        *,
        start: float | None = None,
        end: float | None = None,
        resolution: str = "auto",
        width: int = 900,
        height: int = 300,
    ) -> bytes:
        """The series as PNG bytes."""
        params = {
            "from": start,
            "to": end,
            "resolution": resolution,
            "width": width,
            "height": height,
        }
        return self._client.request(
            "GET", f"/metrics/{metric_id}/graph.png", params=params, raw=True
        )


class Anomalies(Resource):
    """Anomalies found by streaming detection, and the detection controls."""

    def list(self, *, sort: str = "-start", offset: int = 0, limit: int = 50, **filters) -> JSON:
        """One page; ``filters``: ``start``/``end`` (epoch s), ``min_score``,
        ``min_duration``, ``min_delta``, ``min_delta_pct``, ``direction``, ``state``,
        ``timescale``, ``q`` (metric expression)."""
        return self._page("/anomalies", offset, limit, sort=sort, **_anomaly_filters(filters))

    def iter(self, *, sort: str = "-start", page_size: int = 100, **filters) -> Iterator[JSON]:
        return self._iter("/anomalies", page_size, sort=sort, **_anomaly_filters(filters))

    def count(self, **filters) -> JSON:
        return self._client.request("GET", "/anomalies/count", params=_anomaly_filters(filters))

    def get(self, anomaly_id: int, *, context_points: int = 60) -> JSON:
        """One anomaly with its metrics and their points around it (with the band)."""
        params = {"context_points": context_points}
        return self._client.request("GET", f"/anomalies/{anomaly_id}", params=params)

    def stop_learning(
        self, q: str | None = None, *, metric_ids=None, duration_s: float | None = None
    ) -> JSON:
        body = _body(q=q, metric_ids=metric_ids, duration_s=duration_s)
        return self._client.request("POST", "/metrics/learning/stop", json=body)

    def resume_learning(self, q: str | None = None, *, metric_ids=None) -> JSON:
        body = _body(q=q, metric_ids=metric_ids)
        return self._client.request("POST", "/metrics/learning/resume", json=body)


def _anomaly_filters(filters: Mapping[str, Any]) -> JSON:
    out = dict(filters)
    for name, wire in (("start", "from"), ("end", "to")):
        if name in out:
            out[wire] = out.pop(name)
    return out


class Forecasts(Resource):
    """Forecast tasks on metrics and their results."""

    def create(
        self,
        expression: str,
        horizon: int,
        *,
        name: str | None = None,
        resolution: str = "native",
        levels: Iterable[float] = (80, 95),
        every_minutes: int | None = None,
    ) -> JSON:
        """Create a task; its first run is queued at once."""
        body = _body(
            name=name or expression[:200],
            expression=expression,
            horizon=horizon,
            resolution=resolution,
            levels=list(levels),
            every_minutes=every_minutes,
        )
        return self._client.request("POST", "/forecasts", json=body)

    def list(self, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page("/forecasts", offset, limit)

    def get(self, task_id: int) -> JSON:
        return self._client.request("GET", f"/forecasts/{task_id}")

    def run(self, task_id: int) -> JSON:
        return self._client.request("POST", f"/forecasts/{task_id}/run")

    def delete(self, task_id: int) -> None:
        self._client.request("DELETE", f"/forecasts/{task_id}")

    def wait(self, task_id: int, timeout: float = 300.0, poll_interval: float = 0.5) -> JSON:
        """Wait until the newest run has finished; return it."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get(task_id)["runs"][0]
            if run["status"] not in ("pending", "running"):
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"forecast task {task_id} still {run['status']}")
            time.sleep(poll_interval)

    def results(self, task_id: int, metric_id: int | None = None) -> JSON:
        params = {"metric_id": metric_id}
        return self._client.request("GET", f"/forecasts/{task_id}/results", params=params)

    def accuracy(self, task_id: int) -> list[JSON]:
        return self._client.request("GET", f"/forecasts/{task_id}/accuracy")

    def yhat(self, metric_id: int, *, steps: int = 10, resolution: str = "native") -> JSON:
        params = {"steps": steps, "resolution": resolution}
        return self._client.request("GET", f"/metrics/{metric_id}/yhat", params=params)


class Alerts(Resource):
    """Alert configurations and the alerts they trigger."""

    def create(self, title: str, **config: Any) -> JSON:
        """Create a configuration: ``type`` (anomaly, static, no_data), ``expression``,
        ``group_by``, ``conditions``, ``severity``, ``channel_ids``, ... (see the API)."""
        return self._client.request("POST", "/alerts", json={"title": title, **config})

    def preview(self, title: str = "preview", *, days: float = 7, **config: Any) -> JSON:
        """How often such a configuration would have fired over the last ``days``."""
        body = {"title": title, "days": days, **config}
        return self._client.request("POST", "/alerts/preview", json=body)

    def list(self, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page("/alerts", offset, limit)

    def get(self, config_id: int) -> JSON:
        return self._client.request("GET", f"/alerts/{config_id}")

    def update(self, config_id: int, title: str, **config: Any) -> JSON:
        """Replace the configuration."""
        body = {"title": title, **config}
        return self._client.request("PUT", f"/alerts/{config_id}", json=body)

    def delete(self, config_id: int) -> None:
        self._client.request("DELETE", f"/alerts/{config_id}")

    def pause(self, config_id: int) -> JSON:
        return self._client.request("POST", f"/alerts/{config_id}/pause")

    def resume(self, config_id: int) -> JSON:
        return self._client.request("POST", f"/alerts/{config_id}/resume")

    def snooze(self, config_id: int, duration_s: float) -> JSON:
        body = {"duration_s": duration_s}
        return self._client.request("POST", f"/alerts/{config_id}/snooze", json=body)

    def triggered(self, *, offset: int = 0, limit: int = 50, **filters: Any) -> JSON:
        """Triggered alerts; ``filters``: ``status``, ``severity``, ``config_id``,
        ``type``, ``start``/``end`` (epoch s), ``q`` (metric expression), ``sort``."""
        return self._page("/alerts/triggered", offset, limit, **_anomaly_filters(filters))

    def triggered_count(self, **filters: Any) -> JSON:
        params = _anomaly_filters(filters)
        return self._client.request("GET", "/alerts/triggered/count", params=params)

    def trigger(self, trigger_id: int) -> JSON:
        return self._client.request("GET", f"/alerts/triggered/{trigger_id}")

    def acknowledge(self, trigger_id: int) -> JSON:
        return self._client.request("POST", f"/alerts/triggered/{trigger_id}/acknowledge")

    def resolve(self, trigger_id: int) -> JSON:
        return self._client.request("POST", f"/alerts/triggered/{trigger_id}/resolve")

    def feedback(
        self,
        type: str,
        *,
        trigger_id: int | None = None,
        anomaly_id: int | None = None,
        comment: str = "",
    ) -> JSON:
        """``good_catch`` or ``not_interesting`` on a triggered alert or an anomaly."""
        body = _body(type=type, trigger_id=trigger_id, anomaly_id=anomaly_id, comment=comment)
        return self._client.request("POST", "/feedback", json=body)


class Channels(Resource):
    """Where alerts go: webhook, slack, email, pagerduty, teams."""

    def create(self, name: str, type: str, config: Mapping[str, Any]) -> JSON:
        body = {"name": name, "type": type, "config": dict(config)}
        return self._client.request("POST", "/channels", json=body)

    def list(self, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page("/channels", offset, limit)

    def get(self, channel_id: int) -> JSON:
        return self._client.request("GET", f"/channels/{channel_id}")

    def delete(self, channel_id: int) -> None:
        self._client.request("DELETE", f"/channels/{channel_id}")

    def test(self, channel_id: int) -> JSON:
        """Send a sample alert now; the delivery says whether it arrived."""
        return self._client.request("POST", f"/channels/{channel_id}/test")

    def deliveries(self, channel_id: int, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page(f"/channels/{channel_id}/deliveries", offset, limit)


class Events(Resource):
    """User events (deploys, campaigns, suppress events) and maintenance windows."""

    def create(self, title: str, category: str, source: str, start: float, **fields: Any) -> JSON:
        body = {"title": title, "category": category, "source": source, "start": start, **fields}
        return self._client.request("POST", "/events", json=body)

    def list(self, *, offset: int = 0, limit: int = 50, **filters: Any) -> JSON:
        return self._page("/events", offset, limit, **_anomaly_filters(filters))

    def delete(self, event_id: int) -> None:
        self._client.request("DELETE", f"/events/{event_id}")

    def create_window(self, name: str, **window: Any) -> JSON:
        """A maintenance window: ``start``/``end``, or ``rrule`` (or ``cron``) with
        ``dtstart``, ``duration_s`` and ``timezone``; ``expression`` limits it."""
        return self._client.request("POST", "/maintenance-windows", json={"name": name, **window})

    def windows(self, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page("/maintenance-windows", offset, limit)

    def delete_window(self, window_id: int) -> None:
        self._client.request("DELETE", f"/maintenance-windows/{window_id}")


# --- the client --------------------------------------------------------------------


class Client:
    """A connection to one augury server.

    Parameters
    ----------
    base_url : str
        The server, e.g. ``"http://127.0.0.1:8000"`` (``/api/v1`` is added).
    api_key : str, optional
        An API key (``aug_...``), sent as ``Authorization: Bearer``.
    token : str, optional
        An access token (JWT) from an earlier login.
    refresh_token : str, optional
        The refresh token that goes with ``token``, to renew it when it expires.
    timeout : float
        Seconds to wait for the server, per request.
    verify : bool
        Check the server's TLS certificate.

    After :meth:`login`, :meth:`signup` or ``invitations.accept`` the client keeps the
    access and refresh tokens (they take precedence over ``api_key``), and when the
    access token has expired it refreshes it once and repeats the request.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        token: str | None = None,
        refresh_token: str | None = None,
        timeout: float = 30.0,
        verify: bool = True,
    ) -> None:
        base = base_url.rstrip("/")
        if not base.endswith(_API_PREFIX):
            base += _API_PREFIX
        self.api_key = api_key
        self.access_token = token
        self.refresh_token = refresh_token
        self._http = httpx.Client(
            base_url=base,
            timeout=timeout,
            verify=verify,
            headers={"User-Agent": f"augury-client/{__version__}", "Accept": "application/json"},
        )
        self.orgs = Organizations(self)
        self.members = Members(self)
        self.invitations = Invitations(self)
        self.keys = ApiKeys(self)
        self.jobs = Jobs(self)
        self.audit = Audit(self)
        self.metrics = Metrics(self)
        self.anomalies = Anomalies(self)
        self.forecasts = Forecasts(self)
        self.alerts = Alerts(self)
        self.channels = Channels(self)
        self.events = Events(self)

    def __repr__(self) -> str:
        return f"<Client {self._http.base_url}>"

    # --- plumbing ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        authenticate: bool = True,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        """Send one request to ``/api/v1{path}``; the decoded JSON answer, or None for 204.

        ``content`` sends raw bytes instead of ``json``; ``raw=True`` returns the answer's
        bytes. Raises :class:`AuguryAPIError` (or a subclass) when the server answers an
        error.
        """
        extra = (content, headers)
        response = self._send(method, path, params, json, authenticate, extra)
        if (
            response.status_code == 401
            and authenticate
            and self.access_token
            and self.refresh_token
            and self._access_token_expired(response)
        ):
            self.refresh()
            response = self._send(method, path, params, json, authenticate, extra)
        if response.is_error:
            raise _error_from(response)
        if raw:
            return response.content
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _send(self, method, path, params, json, authenticate, extra=(None, None)):
        content, more_headers = extra
        headers = dict(more_headers or {})
        credential = self.access_token or self.api_key
        if authenticate and credential:
            headers["Authorization"] = f"Bearer {credential}"
        return self._http.request(
            method,
            path,
            params=_query(params or {}),
            json=json,
            content=content,
            headers=headers,
        )

    def _access_token_expired(self, response: httpx.Response) -> bool:
        if _jwt_expired(self.access_token or ""):
            return True
        try:  # the server's clock may be ahead of ours
            return "expired" in response.json()["error"]["message"].lower()
        except (ValueError, KeyError, TypeError):
            return False

    def _keep_tokens(self, answer: JSON) -> JSON:
        self.access_token = answer["access_token"]
        self.refresh_token = answer["refresh_token"]
        return answer

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- server and your own session ----------------------------------------------------

    def health(self) -> JSON:
        """Liveness and readiness of the server (no credentials needed)."""
        return self.request("GET", "/health", authenticate=False)

    def signup(
        self,
        email: str,
        password: str,
        name: str | None = None,
        organization_name: str | None = None,
    ) -> JSON:
        """Create an account and its organization, and log in (the client keeps the tokens)."""
        body = _body(email=email, password=password, name=name, organization_name=organization_name)
        answer = self.request("POST", "/auth/signup", json=body, authenticate=False)
        return self._keep_tokens(answer)

    def login(self, email: str, password: str, organization_id: int | None = None) -> JSON:
        """Log in with email and password (the client keeps the tokens)."""
        body = _body(email=email, password=password, organization_id=organization_id)
        answer = self.request("POST", "/auth/login", json=body, authenticate=False)
        return self._keep_tokens(answer)

    def refresh(self) -> JSON:
        """Exchange the refresh token for new tokens (the client keeps them)."""
        if not self.refresh_token:
            raise AuthenticationError(401, "AUTHENTICATION_FAILED", "No refresh token to use.")
        answer = self.request(
            "POST", "/auth/refresh", json={"refresh_token": self.refresh_token}, authenticate=False
        )
        return self._keep_tokens(answer)

    def logout(self) -> None:
        """End this login on the server and forget its tokens."""
        self.request("POST", "/auth/logout")
        self.access_token = self.refresh_token = None

    def switch_organization(self, organization_id: int) -> JSON:
        """Act in another organization you belong to (the client keeps the new tokens)."""
        answer = self.request("POST", "/auth/switch", json={"organization_id": organization_id})
        return self._keep_tokens(answer)

    def change_password(self, current_password: str, new_password: str) -> None:
        """Change your password; your other logins end."""
        self.request(
            "POST",
            "/auth/password/change",
            json={"current_password": current_password, "new_password": new_password},
        )

    def forgot_password(self, email: str) -> JSON:
        """Ask for a password-reset mail (answered the same whether the account exists or not)."""
        return self.request(
            "POST", "/auth/password/forgot", json={"email": email}, authenticate=False
        )

    def reset_password(self, token: str, new_password: str) -> None:
        """Choose a new password with the token from the reset mail; all logins end."""
        self.request(
            "POST",
            "/auth/password/reset",
            json={"token": token, "new_password": new_password},
            authenticate=False,
        )

    def me(self) -> JSON:
        """Your profile, the organization you act in, and all your organizations."""
        return self.request("GET", "/users/me")

    def update_me(self, *, name: str | None = None) -> JSON:
        """Change your display name."""
        return self.request("PATCH", "/users/me", json={"name": name})
