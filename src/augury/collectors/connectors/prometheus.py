"""Prometheus: a stream's PromQL evaluated over the poll's window (``query_range``).

The step is the stream's polling interval, so each bucket gets exactly one evaluation,
at its start: ``start``, ``start + step`` ... up to the last one before the window's
end (the end belongs to the next poll). Each series' labels become columns
(``__name__`` included, under that name), with ``value`` (a float; ``NaN`` and
``±Inf`` as Prometheus gives them) and ``timestamp`` (epoch seconds). A label named
``value`` or ``timestamp`` is shadowed by those two.

A long window (a backfill) is asked for in pieces of at most :data:`MAX_STEPS`
evaluations, under the 11,000 points per series Prometheus answers at most.
Prometheus is also told the timeout (``timeout=``), so a heavy query is cancelled on
the server and not only abandoned here.

Credentials: a ``token`` (``Authorization: Bearer``, as Grafana Cloud, Thanos and
proxies take it) or ``username``/``password`` (basic auth, Prometheus' own
``web.config.file``). The host is vetted after DNS and the call pinned to the vetted
address (:mod:`.web`).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from augury import clock
from augury.collectors.connectors.base import (
    BadResponse,
    ConfigInvalid,
    Limits,
    Probe,
    QueryFailed,
    QueryTimeout,
    SourceAuthFailed,
    SourceUnreachable,
    TooManyRows,
    Window,
)
from augury.collectors.connectors.web import Answer, Fetcher, check_url, with_secrets
from augury.engines.collect.schedule import ScheduleError, parse_interval

TYPES = ("prometheus",)
SECRET_FIELDS: dict[str, tuple[str, ...]] = {"prometheus": ("token", "username", "password")}
DEFAULT_STEP_S = 60
PREVIEW_RANGE_S = 3600
"""A preview reads the last hour, or the last 60 steps when that is longer, up to now."""
MAX_STEPS = 10_000
MAX_ANSWER_BYTES = 512 * 1024 * 1024
MAX_PROBE_BYTES = 50 * 1024 * 1024
PROBE_OBJECTS = 500
ROW_LIMIT = "AUGURY_COLLECT__MAX_ROWS_PER_POLL"


def check_config(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any]
) -> dict[str, Any]:
    """``{"url"}`` (without a trailing ``/``), or :class:`ConfigInvalid`. The secret
    is a ``token`` or a ``username`` with a ``password``, or nothing."""
    if not isinstance(config, Mapping):
        raise ConfigInvalid("config", "The config must be an object.")
    for key in config:
        if key != "url":
            raise ConfigInvalid(f"config.{key}", f"Unknown config field {key!r}; the field is url.")
    url = check_url("config.url", config.get("url"), what="Prometheus URL")
    secret = secret or {}
    if not isinstance(secret, Mapping):
        raise ConfigInvalid("secret", "The secret must be an object.")
    for key, value in secret.items():
        if key not in SECRET_FIELDS["prometheus"]:
            raise ConfigInvalid(
                f"secret.{key}",
                f"Unknown secret field {key!r}; the fields are token, or username and password.",
            )
        if value is not None and not isinstance(value, str):
            raise ConfigInvalid(f"secret.{key}", f"{key} must be a string.")
        if isinstance(value, str) and any(c in value for c in "\r\n"):
            raise ConfigInvalid(f"secret.{key}", f"{key} may not hold line breaks.")
    given = {k for k, v in secret.items() if v}
    if "token" in given and given & {"username", "password"}:
        raise ConfigInvalid("secret.token", "Give a token, or a username and password: not both.")
    if "password" in given and "username" not in given:
        raise ConfigInvalid("secret.username", "A password needs its username.")
    if "username" in given and ":" in secret["username"]:
        raise ConfigInvalid("secret.username", "A username may not hold ':'.")
    return {"url": url}


def _query(stream: Mapping[str, Any]) -> str:
    query = stream.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ConfigInvalid("query", "The PromQL query is required (e.g. rate(http_requests[5m])).")
    return query.strip()


def step_seconds(stream: Mapping[str, Any]) -> int:
    """The evaluation step: the stream's polling interval (60 s when it has none)."""
    interval = stream.get("pollingInterval")
    if interval in (None, ""):
        return DEFAULT_STEP_S
    try:
        return int(parse_interval(interval).duration.total_seconds())
    except (ScheduleError, TypeError) as exc:
        raise ConfigInvalid("pollingInterval", str(exc)) from exc


def check_stream(source_type: str, stream: Mapping[str, Any]) -> None:
    _query(stream)
    step_seconds(stream)


def _error_text(answer: Answer) -> tuple[str | None, str | None]:
    """Prometheus' ``errorType`` and ``error`` from an error answer (if it is one)."""
    try:
        body = json.loads(answer.body)
    except ValueError:
        return None, None
    if not isinstance(body, dict) or body.get("status") != "error":
        return None, None
    return str(body.get("errorType") or ""), " ".join(str(body.get("error") or "").split())


class PrometheusConnector:
    """Reads PromQL over time ranges from one Prometheus (or a compatible API)."""

    type = "prometheus"

    def __init__(self, config: Mapping[str, Any], secret: Mapping[str, Any], limits: Limits):
        self.url = str(config["url"]).rstrip("/")
        self._headers = {"Accept": "application/json"}
        if secret.get("token"):
            self._headers["Authorization"] = f"Bearer {secret['token']}"
        elif secret.get("username"):
            pair = f"{secret['username']}:{secret.get('password') or ''}".encode()
            self._headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
        self.limits = with_secrets(limits, [self._headers.get("Authorization")])
        self._fetcher = Fetcher(self.limits)

    def close(self) -> None:
        self._fetcher.close()

    def _get(self, path: str, params: dict[str, Any] | None, max_bytes: int) -> Any:
        """The ``data`` of a successful answer, or the :class:`SourceError` it stands for."""
        answer = self._fetcher.request(
            "GET", f"{self.url}{path}", params=params, headers=self._headers, max_bytes=max_bytes
        )
        scrub = self.limits.scrub
        error_type, error = _error_text(answer)
        if answer.status in (401, 403):
            raise SourceAuthFailed(
                f"Prometheus at {self.url} refused the credentials (HTTP {answer.status}): "
                "check the source's token, or username and password."
            )
        if error_type is not None:
            if error_type in ("timeout", "canceled"):
                raise QueryTimeout(
                    scrub(
                        f"Prometheus gave up on the query ({error}): it ran past "
                        f"{self.limits.timeout_s:g} s; make it lighter (fewer series, a "
                        "shorter range in rate())."
                    )
                )
            raise QueryFailed(scrub(f"Prometheus refused the query: {error}"))
        if 300 <= answer.status < 400:
            raise BadResponse(
                scrub(
                    f"{answer.shown} redirects to {answer.location or 'another address'}: "
                    "set the source's url to where Prometheus answers."
                )
            )
        if answer.status == 404:
            raise BadResponse(
                f"{answer.shown} is not a Prometheus API (HTTP 404): check the source's url "
                "(the address of Prometheus' web UI, without /api/v1)."
            )
        if answer.status >= 500:
            raise SourceUnreachable(
                scrub(
                    f"Prometheus at {self.url} failed (HTTP {answer.status}): "
                    f"{answer.snippet(self.limits)}"
                )
            )
        if answer.status >= 400:
            raise QueryFailed(
                scrub(f"Prometheus answered HTTP {answer.status}: {answer.snippet(self.limits)}")
            )
        try:
            body = json.loads(answer.body)
        except ValueError as exc:
            raise BadResponse(
                f"{answer.shown} answered something that is not JSON: check that the source's "
                "url is Prometheus' address."
            ) from exc
        if not isinstance(body, dict) or body.get("status") != "success" or "data" not in body:
            raise BadResponse(f"{answer.shown} did not answer as the Prometheus API does.")
        return body["data"]

    def test(self) -> Probe:
        try:
            info = self._get("/api/v1/status/buildinfo", None, MAX_PROBE_BYTES)
            version = info.get("version") if isinstance(info, dict) else None
            detail = f"Prometheus {version}" if version else "Prometheus"
        except BadResponse:
            # Prometheus before 2.14, and compatible APIs (Thanos, Mimir ...) may lack it
            detail = "Prometheus-compatible API"
        names = self._get("/api/v1/label/__name__/values", None, MAX_PROBE_BYTES)
        if not isinstance(names, list):
            raise BadResponse(f"{self.url} did not answer the metric names as a list.")
        return Probe(detail=detail, objects=sorted(str(n) for n in names)[:PROBE_OBJECTS])

    def read(self, stream: Mapping[str, Any], window: Window | None, *, limit: int) -> pd.DataFrame:
        try:
            query = _query(stream)
            step = step_seconds(stream)
        except ConfigInvalid as exc:
            raise QueryFailed(f"The stream's {exc.field}: {exc.message}") from exc
        if window is None:
            # ending now, not at the last whole step: a daily stream's preview would
            # otherwise stop at midnight and miss the freshest values
            last = float(math.floor(clock.now().timestamp()))
            first = last - max(PREVIEW_RANGE_S, 60 * step)
            cap = None
        else:
            first = window.start.timestamp()
            # evaluations start, start + step ... strictly before the window's end
            steps = math.ceil((window.end.timestamp() - first) / step)
            if steps <= 0:
                return pd.DataFrame(columns=["value", "timestamp"])
            last = first + (steps - 1) * step
            cap = min(limit, self.limits.max_rows)
        labels: list[dict[str, str]] = []
        times: list[float] = []
        values: list[float] = []
        which: list[int] = []
        keys: dict[tuple[tuple[str, str], ...], int] = {}
        piece = first
        while piece <= last:
            piece_end = min(piece + (MAX_STEPS - 1) * step, last)
            data = self._get(
                "/api/v1/query_range",
                {
                    "query": query,
                    "start": _number(piece),
                    "end": _number(piece_end),
                    "step": str(step),
                    "timeout": f"{self.limits.timeout_s:g}s",
                },
                MAX_ANSWER_BYTES,
            )
            for series in _matrix(data, self.url):
                metric = series.get("metric") or {}
                key = tuple(sorted(metric.items()))
                index = keys.setdefault(key, len(labels))
                if index == len(labels):
                    labels.append(dict(metric))
                for t, v in series.get("values") or []:
                    times.append(float(t))
                    values.append(_float(v))
                    which.append(index)
                if cap is not None and len(times) > cap:
                    raise TooManyRows(
                        f"The query returned more than {cap} samples in this window, the most "
                        f"one read may return ({ROW_LIMIT}): select fewer series (labels), or "
                        "aggregate (sum by (...))."
                    )
            piece = piece_end + step
        frame = _frame(labels, which, times, values)
        if cap is None:
            frame = frame.tail(max(limit, 0)).reset_index(drop=True)
        return frame


def _number(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.3f}"


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _matrix(data: Any, url: str) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or data.get("resultType") not in ("matrix", None):
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise BadResponse(f"{url} answered a {kind} to a range query, not a matrix.")
    result = data.get("result") or []
    if not isinstance(result, list):
        raise BadResponse(f"{url} answered a range query without a list of series.")
    return [s for s in result if isinstance(s, dict)]


def _frame(
    labels: list[dict[str, str]], which: list[int], times: list[float], values: list[float]
) -> pd.DataFrame:
    """One row per sample, ordered by time (each time's series in the order Prometheus
    gave them)."""
    names = sorted({name for series in labels for name in series} - {"value", "timestamp"})
    index = np.asarray(which, dtype=np.int64)
    columns: dict[str, Any] = {}
    for name in names:
        per_series = np.array([series.get(name) for series in labels] + [None], dtype=object)
        columns[name] = per_series[index] if len(index) else np.array([], dtype=object)
    stamps = np.asarray(times, dtype=np.float64)
    columns["value"] = np.asarray(values, dtype=np.float64)
    if len(stamps) and np.all(np.mod(stamps, 1) == 0):
        columns["timestamp"] = stamps.astype(np.int64)
    else:
        columns["timestamp"] = stamps
    frame = pd.DataFrame(columns)
    order = np.argsort(stamps, kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def connect(
    source_type: str, config: Mapping[str, Any], secret: Mapping[str, Any], limits: Limits
) -> PrometheusConnector:
    if source_type != "prometheus":
        raise ConfigInvalid("type", f"The Prometheus connector does not read {source_type!r}.")
    secret = secret or {}
    limits = with_secrets(limits, [secret.get(k) for k in SECRET_FIELDS["prometheus"]])
    return PrometheusConnector(config, secret, limits)
