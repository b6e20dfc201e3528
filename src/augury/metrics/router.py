"""HTTP routes of metrics: ingestion in four wire formats, search, series, graphs.

Ingestion routes keep each sender's wire contract: Anodot 2.0/3.0 answer
``{"errors": [{"index", "error", "description"}]}`` with HTTP 200 and keep the good
samples; InfluxDB's ``/api/v2/write`` answers 204, or 400 ``{"code": "invalid",
"message", "line"}`` for a partial write (good lines kept, as InfluxDB does);
Prometheus remote write answers 204 whenever the body decodes (a refused sample such
as a NaN summary quantile must not make Prometheus retry the batch forever), or 400
with the good series stored when a series can never be stored. A body
that cannot be read at all is a 400 in augury's error envelope (plus Anodot's
``errors`` list on Anodot routes).
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from augury.accounts.principal import Principal
from augury.anomalies import service as anomalies_service
from augury.api.deps import Admin, Ingester, Reader, SessionDep, SettingsDep, Writer
from augury.api.errors import error_body
from augury.api.pagination import Page, PageDep, make_page
from augury.config import Settings
from augury.errors import BadPayload, PayloadTooLarge
from augury.jobs import service as jobs_service
from augury.jobs.schemas import JobRead
from augury.metrics import graph, schemas, service, stream, writer
from augury.metrics.deps import MetricDep, StreamSchemaDep, TokenReader
from augury.metrics.ingest import anodot, influx, prometheus
from augury.metrics.ingest import encoding as compression
from augury.metrics.ingest.points import IngestError, ParseResult
from augury.metrics.models import StreamSchema

router = APIRouter(tags=["metrics"])
v2_router = APIRouter(prefix="/api/v2", tags=["metrics"])

MAX_INFLATED = 64 * 1024 * 1024
"""Largest body accepted after gzip/deflate decompression (a zip bomb stops here)."""


# -------------------------------------------------------------------- ingestion


async def _body(request: Request) -> bytes:
    body = await request.body()
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("gzip", "deflate"):
        try:
            body = compression.inflate(body, max_size=MAX_INFLATED)  # every gzip member
        except IngestError as exc:
            if exc.code == compression.PAYLOAD_TOO_LARGE:
                raise PayloadTooLarge(f"Body inflates to more than {MAX_INFLATED} bytes.") from exc
            raise BadPayload(f"Body is not valid {encoding} data: {exc.message}") from exc
    elif encoding not in ("", "identity", "snappy"):
        raise BadPayload(f"Unsupported Content-Encoding {encoding!r}.")
    return body


def _store(
    request: Request,
    session: Session,
    settings: Settings,
    org_id: int,
    result: ParseResult,
    *,
    source: str,
    stream_schema_id: str | None = None,
) -> writer.WriteOutcome:
    return writer.write(
        session,
        org_id=org_id,
        result=result,
        cache=request.app.state.metric_cache,
        source=source,
        max_lateness_s=settings.metrics.max_lateness_s,
        stream_schema_id=stream_schema_id,
        quotas=settings.quotas,
        retention_days=settings.metrics.retention_days,
    )


def _unlock(session: Session) -> None:
    """End the transaction the authentication opened before the body is parsed: on
    SQLite every transaction holds the database's one write lock, and parsing a batch
    takes longer than storing it."""
    session.commit()


def _anodot_refusal(exc: IngestError) -> BadPayload:
    return BadPayload(
        exc.message,
        details={"ingest_code": exc.code},
        extra={"errors": [{"index": None, "error": exc.code, "description": exc.message}]},
    )


def _ingest_anodot(
    request: Request,
    session: Session,
    settings: Settings,
    principal: Principal,
    body: bytes,
    protocol: str,
) -> schemas.IngestResult:
    now = time.time()
    if protocol == "anodot30":
        known = service.schemas_by_id(session=session, org_id=principal.org_id)
        marks = service.watermarks(session=session, org_id=principal.org_id)
    _unlock(session)
    try:
        if protocol == "anodot20":
            result = anodot.parse(body, now=now)
        else:
            result = anodot.parse_v3(body, now=now, schemas=known, watermarks=marks)
    except IngestError as exc:
        raise _anodot_refusal(exc) from exc
    outcome = _store(request, session, settings, principal.org_id, result, source=protocol)
    return schemas.IngestResult(
        errors=[schemas.AnodotError.of(e) for e in outcome.errors],
        accepted=outcome.accepted,
        rejected=len({e.index for e in outcome.errors}),
    )


@router.post("/metrics", response_model=schemas.IngestResult)
async def post_metrics(
    request: Request,
    principal: Ingester,
    session: SessionDep,
    settings: SettingsDep,
    protocol: Annotated[
        Literal["anodot20", "anodot30"],
        Query(description="anodot20 (properties) or anodot30 (stream schemas)."),
    ] = "anodot20",
    token: Annotated[str | None, Query(description="API key (Anodot data token).")] = None,
):
    """Send samples in Anodot protocol 2.0 or 3.0 (at most 10,000 per request).

    Answers 200 with the refused samples in `errors` (Anodot's codes: 2022 timestamp
    in the future, 2026 NaN/Infinite value ...); the other samples are stored. A sample
    more than `AUGURY_METRICS__MAX_LATENESS_S` older than its metric's newest point is
    refused with `TOO_LATE`. A duplicate timestamp replaces the earlier value.
    """
    body = await _body(request)
    return await run_in_threadpool(
        _ingest_anodot, request, session, settings, principal, body, protocol
    )


@router.post("/metrics/watermark", response_model=schemas.IngestResult)
async def post_watermark(
    request: Request,
    principal: Ingester,
    session: SessionDep,
    protocol: Annotated[Literal["anodot30"], Query()] = "anodot30",
    token: Annotated[str | None, Query(description="API key (Anodot data token).")] = None,
):
    """Close a 3.0 stream up to a timestamp: later samples at or before it are refused."""
    body = await _body(request)

    def work() -> schemas.IngestResult:
        known = service.schemas_by_id(session=session, org_id=principal.org_id)
        try:
            mark = anodot.parse_watermark(body, now=time.time(), schemas=known)
        except IngestError as exc:
            raise _anodot_refusal(exc) from exc
        service.set_watermark(
            session=session,
            org_id=principal.org_id,
            schema_id=mark.schema_id,
            timestamp=mark.timestamp,
        )
        return schemas.IngestResult(errors=[], accepted=0, rejected=0)

    return await run_in_threadpool(work)


@v2_router.post("/write", status_code=status.HTTP_204_NO_CONTENT)
async def influx_write(
    request: Request,
    principal: Ingester,
    session: SessionDep,
    settings: SettingsDep,
    org: Annotated[str | None, Query(description="Accepted and ignored (InfluxDB).")] = None,
    bucket: Annotated[str | None, Query(description="Accepted and ignored (InfluxDB).")] = None,
    precision: Annotated[str, Query(description="ns (default), us, ms or s.")] = "ns",
):
    """InfluxDB v2 line protocol, as Telegraf's `outputs.influxdb_v2` sends it.

    Authenticate with `Authorization: Token <API key>`. Each numeric field becomes the
    metric `<measurement>.<field>` with the tags as dimensions. Answers 204; if some
    lines are refused, 400 with InfluxDB's `{"code": "invalid", "message", "line"}`
    after storing the good lines (InfluxDB's partial write).
    """
    body = await _body(request)

    def work() -> Response:
        _unlock(session)
        try:
            result = influx.parse(body, now=time.time(), precision=precision)
        except IngestError as exc:
            raise BadPayload(
                exc.message, extra={"code": "invalid", "message": exc.message}
            ) from exc
        outcome = _store(request, session, settings, principal.org_id, result, source="influx")
        if not outcome.errors:
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        first = outcome.errors[0]
        message = f"partial write: {first.message}"
        if len(outcome.errors) > 1:
            message += f" (and {len(outcome.errors) - 1} more refused)"
        # An answer, not an exception: the good lines must be committed.
        details = {"errors": [_error_dict(e) for e in outcome.errors[:100]]}
        answer = {"code": "invalid", "message": message, "line": first.index + 1}
        answer |= error_body(BadPayload.code, message, details)
        return JSONResponse(answer, status_code=status.HTTP_400_BAD_REQUEST)

    return await run_in_threadpool(work)


def _error_dict(err) -> dict:
    return {"index": err.index, "code": err.code, "message": err.message}


@router.post("/prom/write", status_code=status.HTTP_204_NO_CONTENT)
async def prometheus_write(
    request: Request, principal: Ingester, session: SessionDep, settings: SettingsDep
):
    """Prometheus remote write 1.0 (snappy-compressed protobuf).

    In `prometheus.yml`: `remote_write: [{url: http://HOST:8000/api/v1/prom/write,
    authorization: {credentials: <API key>}}]`. Answers 204 when the body decodes, also
    if single samples were refused (NaN quantiles of empty summaries ...), so that
    Prometheus does not resend the batch; 400 if it does not decode, or if a series can
    never be stored (no `__name__`, labels over the storage limits, NUL characters): the
    other series are stored and Prometheus drops the batch instead of retrying it.
    """
    body = await _body(request)

    def work() -> Response:
        _unlock(session)
        try:
            result = prometheus.parse(body, now=time.time())
        except IngestError as exc:
            raise BadPayload(exc.message, details={"ingest_code": exc.code}) from exc
        outcome = _store(request, session, settings, principal.org_id, result, source="prometheus")
        refused = {"X-Augury-Refused": str(len(outcome.errors))}
        bad = [e for e in outcome.errors if e.code in prometheus.SERIES_CODES]
        if not bad:
            return Response(status_code=status.HTTP_204_NO_CONTENT, headers=refused)
        # A series that can never be stored: 400, which remote write does not retry (a 5xx
        # would stall the sender's queue for ever). The good series are committed.
        series = len({e.index for e in bad})
        message = f"{series} series refused: {bad[0].message}"
        details = {"errors": [_error_dict(e) for e in bad[:100]]}
        return JSONResponse(
            error_body(BadPayload.code, message, details),
            status_code=status.HTTP_400_BAD_REQUEST,
            headers=refused,
        )

    return await run_in_threadpool(work)


@router.post("/metrics/import", status_code=status.HTTP_202_ACCEPTED, response_model=JobRead)
async def import_csv(
    request: Request, principal: Ingester, session: SessionDep, settings: SettingsDep
):
    """Backfill history from a CSV body (`Content-Type: text/csv`), as a background job.

    Rows: `timestamp,what,value[,target_type][,<dimension columns>]` with a header, or
    `timestamp,what,value[,dim=value;dim2=value2]` without. The answer is the queued
    job (`metrics.backfill`); follow its progress at `/api/v1/jobs/{id}`, and its result
    lists accepted and refused rows. History is exempt from the lateness limit.
    """
    body = await _body(request)
    if not body.strip():
        raise BadPayload("The CSV body is empty.")
    try:
        head = body[:65536].decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError:
        head = None
    if head is None or "," not in head:
        raise BadPayload("The body is not UTF-8 CSV.")

    def work():
        upload_id = uuid.uuid4().hex
        # Queued first (committed with the request, so no runner sees it before the file
        # is there): a job refused by the quota leaves no upload behind.
        job = jobs_service.create(
            session=session,
            org_id=principal.org_id,
            type="metrics.backfill",
            params={"upload_id": upload_id},
            user_id=principal.user_id,
            quotas=settings.quotas,
        )
        path = settings.upload_path(principal.org_id, upload_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        return job

    return await run_in_threadpool(work)


# ------------------------------------------------------------------------ reading


@router.get("/metrics", response_model=Page[schemas.MetricRead])
def list_metrics(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[
        str | None,
        Query(max_length=2000, description="Expression: `what=cpu* AND host=web-1`, OR, NOT."),
    ] = None,
    sort: Annotated[str, Query(description="name, -name, last_seen, -last_seen, created.")] = (
        "name"
    ),
    active_since: Annotated[
        float | None, Query(ge=0, description="Only metrics with a point since (epoch s).")
    ] = None,
):
    """Metrics of the organization, searched by expression."""
    rows, total = service.search(
        session=session,
        org_id=principal.org_id,
        page=page,
        q=q,
        sort=sort,
        active_since=active_since,
    )
    return make_page(rows, total, page)


@router.get("/metrics/overview", response_model=schemas.OverviewRead)
def metrics_overview(principal: Reader, session: SessionDep):
    """Metric counts and the ingestion rate (samples/s over the last 5 minutes)."""
    return service.overview(session=session, org_id=principal.org_id)


@router.get("/metrics/stream-failures", response_model=list[schemas.StreamFailureRead])
def stream_failures(principal: Admin, session: SessionDep):
    """Work the pipeline failed on for this organization (rollups, detection): each
    failing batch is retried alone with backoff, then parked with its error, so the
    rest of the pipeline goes on. Admins only."""
    return [
        schemas.StreamFailureRead(
            id=item.id,
            consumer=item.consumer,
            metric_ids=sorted(int(k) for k in item.spans),
            attempts=item.attempts,
            error=item.error,
            parked=item.parked_at is not None,
            retry_at=None if item.parked_at is not None else item.not_before,
            created_at=item.created_at,
        )
        for item in stream.parked(session, principal.org_id)
    ]


@router.post("/metrics/stream-failures/retry", response_model=schemas.RetriedRead)
def retry_stream_failures(principal: Admin, session: SessionDep):
    """Retry every failed or parked batch of this organization now."""
    return {"retried": stream.retry_parked(session, principal.org_id)}


@router.get("/metrics/eps", response_model=list[schemas.EpsItem])
def metrics_eps(
    principal: TokenReader,
    session: SessionDep,
    rollup: Annotated[
        Literal["short", "medium", "long", "longlong", "weekly"],
        Query(description="Window: short 1h, medium 6h, long 1d, longlong 7d, weekly 28d."),
    ],
    token: Annotated[str | None, Query(description="API key (Anodot data token).")] = None,
):
    """Top metrics by events per second (Anodot's EPS call)."""
    return service.eps(session=session, org_id=principal.org_id, rollup=rollup)


@router.get("/metrics/cardinality/streams", response_model=schemas.StreamCardinalityRead)
def stream_cardinality(
    principal: TokenReader,
    session: SessionDep,
    sort: Annotated[Literal["name", "size"], Query()] = "name",
    token: Annotated[str | None, Query(description="API key (Anodot data token).")] = None,
):
    """Metrics per 3.0 stream (schema), Anodot's per-stream cardinality."""
    streams = service.stream_cardinality(session=session, org_id=principal.org_id, sort=sort)
    return {"streams": streams}


@v2_router.get("/metrics/cardinality", response_model=schemas.CardinalityRead)
def metrics_cardinality(
    principal: Reader,
    session: SessionDep,
    startTime: Annotated[float, Query(ge=0, description="Epoch seconds.")],
    endTime: Annotated[float, Query(ge=0, description="Epoch seconds.")],
    size: Annotated[int, Query(ge=1, le=1000, description="Dimensions to return.")] = 25,
    dims: Annotated[str | None, Query(max_length=2000, description="Comma-separated.")] = None,
    stream: Annotated[str | None, Query(max_length=200)] = None,
    from_: Annotated[int, Query(alias="from", ge=0, le=1_000_000)] = 0,
):
    """Dimensions by how many values they take among metrics seen in the range (Anodot)."""
    return service.cardinality(
        session=session,
        org_id=principal.org_id,
        start=startTime,
        end=endTime,
        size=size,
        offset=from_,
        dims=[d.strip() for d in dims.split(",") if d.strip()] if dims else None,
        stream=stream,
    )


@router.get("/metrics/{metric_id}", response_model=schemas.MetricRead)
def get_metric(metric: MetricDep):
    """One metric."""
    return metric


@router.delete("/metrics/{metric_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_metric(request: Request, principal: Admin, metric: MetricDep, session: SessionDep):
    """Delete a metric and all its points (admins)."""
    metric_id = metric.id
    service.delete_metric(session=session, principal=principal, metric=metric)
    # The ingestion cache must not hand the deleted id to the next sample of the metric.
    request.app.state.metric_cache.forget(principal.org_id, {metric_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


Epoch = Annotated[float | None, Query(ge=0, le=1e11, description="Epoch seconds.")]
Resolution = Annotated[
    Literal["auto", "native", "1m", "5m", "1h", "1d"],
    Query(description="auto picks the finest that draws the range in about 1,500 points."),
]


@router.get("/metrics/{metric_id}/timeseries", response_model=schemas.TimeseriesRead)
def metric_timeseries(
    metric: MetricDep,
    session: SessionDep,
    start: Annotated[Epoch, Query(alias="from")] = None,
    end: Annotated[Epoch, Query(alias="to")] = None,
    resolution: Resolution = "auto",
):
    """The metric's points in `[from, to)`, ready to chart (default: the last day of data)."""
    s = service.timeseries(
        session=session, metric=metric, start=start, end=end, resolution=resolution
    )
    detected = anomalies_service.chart_overlay(session, s)
    return schemas.TimeseriesRead(
        metric_id=s.metric.id,
        name=s.metric.name,
        target_type=s.metric.target_type,
        resolution=s.resolution,
        start=s.start,
        end=s.end,
        timestamps=s.timestamps,
        values=s.values,
        min=s.minimums,
        max=s.maximums,
        count=s.counts,
        partial=s.partial,
        **detected,
    )


@router.get(
    "/metrics/{metric_id}/graph.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "A PNG chart."}},
)
def metric_graph(
    metric: MetricDep,
    session: SessionDep,
    start: Annotated[Epoch, Query(alias="from")] = None,
    end: Annotated[Epoch, Query(alias="to")] = None,
    resolution: Resolution = "auto",
    width: Annotated[int, Query(ge=200, le=3000)] = 900,
    height: Annotated[int, Query(ge=150, le=2000)] = 300,
):
    """The series, its learned band and its anomalies drawn as a PNG image (for mails,
    chat and dashboards)."""
    s = service.timeseries(
        session=session, metric=metric, start=start, end=end, resolution=resolution
    )
    png = graph.render(s, width=width, height=height, **anomalies_service.chart_overlay(session, s))
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


# --------------------------------------------------------------- stream schemas


def _schema_body(row: StreamSchema) -> dict:
    return {
        "schema": {**row.definition, "id": row.id},
        "meta": {
            "createdTime": int(row.created_at.timestamp() * 1000),
            "modifiedTime": int(row.modified_at.timestamp() * 1000),
            "watermark": row.watermark,
        },
    }


@v2_router.post(
    "/stream-schemas", status_code=status.HTTP_201_CREATED, response_model=schemas.StreamSchemaRead
)
def create_stream_schema(body: dict, principal: Writer, session: SessionDep):
    """Create an Anodot 3.0 stream schema (dimensions, measurements, missing-dim policy)."""
    row = service.create_schema(session=session, org_id=principal.org_id, definition=body)
    return _schema_body(row)


@v2_router.get("/stream-schemas/schemas", response_model=list[schemas.StreamSchemaWrapper])
def list_stream_schemas(principal: Reader, session: SessionDep):
    """Every stream schema of the organization, in Anodot's wrapper shape."""
    rows = service.list_schemas(session=session, org_id=principal.org_id)
    return [{"streamSchemaWrapper": _schema_body(r), "schemaCubesWrapper": {}} for r in rows]


@v2_router.get("/stream-schemas/{schema_id}", response_model=schemas.StreamSchemaRead)
def get_stream_schema(row: StreamSchemaDep):
    """One stream schema."""
    return _schema_body(row)


@v2_router.delete("/stream-schemas/{schema_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_stream_schema(principal: Writer, row: StreamSchemaDep, session: SessionDep):
    """Delete a stream schema (its metrics and their points stay)."""
    service.delete_schema(session=session, row=row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
