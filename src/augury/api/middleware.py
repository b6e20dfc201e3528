"""ASGI middleware: request body size limit and request metrics for Prometheus."""

from __future__ import annotations

import json
import logging
import re
import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import ClientDisconnect

log = logging.getLogger("augury.api")

CLIENT_CLOSED_REQUEST = 499
"""The ``status`` label of a request whose client hung up before the answer began
(nginx's code): a sender that timed out mid-body is not a server error."""


def _too_large_body(limit: int) -> bytes:
    return json.dumps(
        {
            "error": {
                "code": "PAYLOAD_TOO_LARGE",
                "message": f"Request body larger than {limit} bytes.",
                "details": {"max_bytes": limit},
            }
        }
    ).encode()


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413 (by Content-Length or while streaming),
    and NUL characters in query strings with 422 (PostgreSQL text cannot hold them).

    ``streamed`` names the POST paths that read their body as a stream and enforce their
    own, larger limit (dataset and document uploads): this one lets them through. A
    ``{name}`` part matches any one path segment (``/text/projects/{id}/files``)."""

    def __init__(self, app, max_bytes: int, streamed: frozenset[str] = frozenset()):
        self.app = app
        self.max_bytes = max_bytes
        self.streamed = re.compile(
            "|".join(
                re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(path)) for path in sorted(streamed)
            )
            or "(?!)"
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b""):
            await _send_json(
                send,
                422,
                {
                    "error": {
                        "code": "VALIDATION_ERROR",
                        "message": "Query parameters must not contain NUL characters.",
                        "details": {},
                    }
                },
            )
            return
        if scope["method"] == "POST" and self.streamed.fullmatch(scope["path"].rstrip("/")):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        # bytes.isdigit is ASCII digits only, so int() takes whatever it passes
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        received = 0
        exceeded = False
        replaced = False

        async def limited_receive():
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message):
            # The framework may turn the failed read into its own 400: answer 413 instead.
            nonlocal replaced
            if exceeded:
                if not replaced:
                    replaced = True
                    await self._reject(send)
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not replaced:
                await self._reject(send)

    async def _reject(self, send):
        await _send_json(send, 413, json.loads(_too_large_body(self.max_bytes)))


async def _send_json(send, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestMetrics:
    """Prometheus counters and latency histograms per route template."""

    def __init__(self, registry: CollectorRegistry):
        self.requests = Counter(
            "augury_http_requests_total",
            "HTTP requests handled.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "augury_http_request_duration_seconds",
            "HTTP request latency.",
            ["method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )


class MetricsMiddleware:
    def __init__(self, app, metrics: RequestMetrics, templates=None):
        self.app = app
        self.metrics = metrics
        # endpoint name -> full path template, from the OpenAPI schema (built on first use).
        self._templates_source = templates
        self._templates: dict[str, str] | None = None

    def _template(self, scope) -> str:
        """The route template, not the raw path: ids must not explode label cardinality."""
        endpoint = scope.get("endpoint")
        if endpoint is not None and self._templates_source is not None:
            if self._templates is None:
                self._templates = self._templates_source()
            found = self._templates.get(getattr(endpoint, "__name__", ""))
            if found:
                return found
        route = scope.get("route")
        if route is not None:
            return getattr(route, "path", "unmatched")
        return "static" if scope["path"].startswith("/static") else "unmatched"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = aborted = False

        async def watch():
            nonlocal aborted
            message = await receive()
            if message["type"] == "http.disconnect" and not started:
                aborted = True
            return message

        async def capture(message):
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            await self.app(scope, watch, capture)
        except ClientDisconnect:
            # Starlette's answer to a body cut short by the client (it timed out, or went
            # away). Nobody is left to answer, and it is no server error: not logged as an
            # unhandled error nor counted as a 500.
            aborted = aborted or not started
            log.info("client closed the connection during %s %s", scope["method"], scope["path"])
        finally:
            if aborted:
                status = CLIENT_CLOSED_REQUEST
            name = self._template(scope)
            self.metrics.requests.labels(scope["method"], name, str(status)).inc()
            self.metrics.latency.labels(scope["method"], name).observe(time.perf_counter() - start)
