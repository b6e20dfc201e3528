"""``GET /metrics``: Prometheus exposition about augury itself (requests, latencies, jobs).

The numbers cover every organization, so the route is not public: loopback clients may
scrape it (``AUGURY_PROMETHEUS__ALLOW_LOOPBACK``, on by default, so a Prometheus on the
same host and the README's ``curl`` work), any client may with the bearer token
``AUGURY_PROMETHEUS__TOKEN``, and ``AUGURY_PROMETHEUS__ENABLED=false`` removes it.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from augury.api.clientip import client_ip
from augury.errors import AuthenticationFailed, NotFound, PermissionDenied
from augury.jobs.models import Job
from augury.metrics.models import StreamQueueItem

router = APIRouter(include_in_schema=False)


class JobsCollector:
    """Job counts by type and status, read from the database at scrape time."""

    def __init__(self, db):
        self.db = db

    def collect(self):
        gauge = GaugeMetricFamily(
            "augury_jobs", "Jobs by type and status.", labels=["type", "status"]
        )
        cpu = GaugeMetricFamily(
            "augury_jobs_cpu_seconds",
            "CPU seconds used by finished and running jobs.",
            labels=["type"],
        )
        try:
            with self.db.session() as session:
                rows = session.execute(
                    select(
                        Job.type,
                        Job.status,
                        func.count(),
                        func.coalesce(func.sum(Job.cpu_seconds), 0.0),
                    ).group_by(Job.type, Job.status)
                ).all()
        except Exception:
            rows = []
        per_type: dict[str, float] = {}
        for jtype, status, count, cpu_s in rows:
            gauge.add_metric([jtype, status], count)
            per_type[jtype] = per_type.get(jtype, 0.0) + float(cpu_s or 0.0)
        for jtype, cpu_s in per_type.items():
            cpu.add_metric([jtype], cpu_s)
        yield gauge
        yield cpu


class StreamCollector:
    """Pipeline batches that failed: retrying with backoff, or parked, per stage."""

    def __init__(self, db):
        self.db = db

    def collect(self):
        gauge = GaugeMetricFamily(
            "augury_stream_failed_batches",
            "Queued batches a pipeline stage failed on, by stage and state "
            "(retrying with backoff, or parked until an admin retries them).",
            labels=["consumer", "state"],
        )
        try:
            with self.db.session() as session:
                parked = StreamQueueItem.parked_at.is_not(None)
                rows = session.execute(
                    select(StreamQueueItem.consumer, parked, func.count())
                    .where(StreamQueueItem.attempts > 0)
                    .group_by(StreamQueueItem.consumer, parked)
                ).all()
        except Exception:
            rows = []
        for consumer, is_parked, count in rows:
            gauge.add_metric([consumer, "parked" if is_parked else "retrying"], count)
        yield gauge


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_access(request: Request) -> None:
    config = request.app.state.settings.prometheus
    if not config.enabled:
        raise NotFound("Not found.")
    if config.allow_loopback and _is_loopback(client_ip(request.scope)):
        return
    if config.token:
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), config.token.encode()
        ):
            return
        raise AuthenticationFailed("GET /metrics needs the bearer token AUGURY_PROMETHEUS__TOKEN.")
    raise PermissionDenied(
        "GET /metrics answers loopback clients only; set AUGURY_PROMETHEUS__TOKEN to let "
        "Prometheus scrape it from elsewhere with that bearer token."
    )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    _check_access(request)
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
