"""``GET /metrics``: Prometheus exposition about augury itself (requests, latencies, jobs)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

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


@router.get("/metrics")
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
