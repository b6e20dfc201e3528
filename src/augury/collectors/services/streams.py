"""Data streams: create (checked against the collect engine and the source), read,
edit, pause and resume, rewind, delete with or without their metrics; the metrics a
stream made, the alerts that watch them, its runs; a preview; its rows as a dataset.

A stream's ``definition`` is the Anodot stream object as it was given (less the keys
the server sets); its schedule and the collector's state are columns of their own
(``polling_interval``, ``history``, ``delay_minutes``, ``time_zone``, ``paused``,
``status``, ``watermark``, ``backfill_from``, ``next_poll_at`` ...).

**Where collecting starts.** A new stream's ``backfill_from`` is its historical range
back from now on its bucket grid (:func:`~augury.engines.collect.schedule.backfill_start`;
the current bucket without one), and it is due at once (``next_poll_at`` = now,
``status`` pending). The collector reads from the watermark, or from
``backfill_from`` until the first poll sets one.

**Rewind** (``POST /data-streams/{id}/rewind``, and ``PUT ...?shouldRewind=true`` for
the whole historical range) moves the watermark back to the bucket holding ``from``
(:func:`~augury.engines.collect.schedule.rewind`: never forward), or ``backfill_from``
back for a stream not polled yet; the collector then reads forward from there to now
in its usual chunks. ``to`` is recorded but does not stop it there: buckets past
``to`` are read again too, which changes nothing (a bucket read again gives the same
points, which overwrite their duplicates). A rewind goes back at most the longest
historical range its polling interval allows (the seed's table): a year of minutes is
half a million buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.orm import Session, aliased

from augury import clock
from augury.accounts.principal import Principal
from augury.alerts.models import AlertConfig
from augury.audit import service as audit
from augury.collectors import connectors
from augury.collectors.connectors import ConfigInvalid, QueryFailed, QueryUnsafe, SourceError
from augury.collectors.models import (
    DataSource,
    DataStream,
    DataStreamMetric,
    DataStreamRun,
    StreamStatus,
)
from augury.collectors.schemas import StreamBody, StreamDataset
from augury.collectors.services import reading
from augury.collectors.services.sources import (
    FIND_LIMIT,
    config_invalid,
    epoch,
    unavailable,
)
from augury.config import Settings
from augury.datasets import service as datasets_service
from augury.datasets.models import Dataset, DatasetVersion
from augury.datasets.schemas import DatasetRead, VersionRead
from augury.datasets.storage import storage_for
from augury.engines.collect import mapping, schedule, sqlguard
from augury.engines.collect.timeparse import TimeParseError, parse_times
from augury.errors import Conflict, NotFound, ProviderError, ValidationFailed
from augury.metrics import expressions
from augury.metrics import service as metrics_service
from augury.metrics.models import Metric
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate
from augury.store.text import contains

SQL_DIALECTS = {"psql": "postgresql", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}
"""SQL source types and the dialect their queries are checked in."""
SAMPLE_ROWS = 20
"""Rows read from the source when a stream is saved, to check the columns it names."""
AUDITED = (
    "name",
    "source_id",
    "type",
    "polling_interval",
    "history",
    "delay_minutes",
    "time_zone",
    "paused",
    "definition",
)
TIME_RANGES = {"day": timedelta(days=1), "week": timedelta(days=7)}


# --------------------------------------------------------------------------- checks


def _invalid(field: str, message: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field, **details})


@dataclass(slots=True)
class Checked:
    """A stream body that passed every check, with what the checks parsed."""

    source: DataSource
    definition: dict[str, Any]
    schema: mapping.StreamSchema
    time: mapping.TimeDefinition
    time_field: str


@dataclass(slots=True)
class Draft:
    """A stream being built, checked for a preview: what it reads is checked as for a
    save, its ``schema`` and time definition only when it gives them (``None``: not
    chosen yet; the builder picks them among the preview's columns)."""

    source: DataSource
    definition: dict[str, Any]
    schema: mapping.StreamSchema | None
    time: mapping.TimeDefinition | None


def _source_of(session: Session, org_id: int, source_id: int) -> DataSource:
    """The stream's source; another organization's (or none) is a 404 naming it."""
    source = session.scalar(
        select(DataSource).where(DataSource.id == source_id, DataSource.org_id == org_id)
    )
    if source is None:
        raise NotFound(
            f"No data source {source_id} (dataSourceId).",
            details={"field": "dataSourceId", "dataSourceId": source_id},
        )
    return source


def _time_definition(definition: dict[str, Any], source_type: str) -> mapping.TimeDefinition:
    """The stream's time column; a Prometheus series' time is always its ``timestamp``
    column in seconds when the stream names none (as the collector reads it)."""
    try:
        return mapping.parse_time_definition(definition)
    except mapping.SchemaError:
        if source_type != "prometheus":
            raise
        return mapping.TimeDefinition("timestamp", "epoch_seconds")


def _names_time(definition: dict[str, Any], source_type: str) -> bool:
    """Whether the stream says where its time is (a Prometheus series always does)."""
    if source_type == "prometheus":
        return True
    return any(
        definition.get(key) not in (None, "") for key in ("timeDefinition", "timestampColumn")
    )


def _what_it_reads(
    session: Session, org_id: int, body: StreamBody, stream_type: str | None
) -> tuple[DataSource, dict[str, Any]]:
    """The source and the definition, once what the stream reads is checked: its source
    is the organization's and of its type (and of ``stream_type``, an edited stream's),
    a SQL query is one read-only statement, the connector of that type finds what it
    reads."""
    source = _source_of(session, org_id, body.dataSourceId)
    for given, field in ((body.type, "type"), (stream_type, "dataSourceId")):
        if given is not None and given != source.type:
            raise _invalid(
                field,
                f"The stream is {given}; data source {source.id} is {source.type}.",
                reason="type_mismatch",
            )
    definition = body.definition()
    definition["type"] = source.type
    if source.type in SQL_DIALECTS and body.customQuery:
        if not body.query or not body.query.strip():
            raise _invalid("query", "A stream with 'customQuery' needs its 'query'.")
        try:
            sqlguard.check_read_only(body.query, SQL_DIALECTS[source.type])
        except sqlguard.UnsafeQuery as exc:
            raise _invalid("query", str(exc), reason="query_unsafe") from None
    try:
        connectors.check_stream(source.type, definition)
    except ConfigInvalid as exc:
        raise config_invalid(exc) from None
    except SourceError as exc:  # a connector's own read-only check
        raise _invalid("query", exc.message, reason=exc.code) from None
    except ImportError:
        raise unavailable(source.type) from None
    return source, definition


def _schema(body: StreamBody, schema: dict[str, Any]) -> mapping.StreamSchema:
    """The schema with the body's filters and missing-dimension policy, as the engine
    applies them (a 422 naming ``schema`` otherwise)."""
    try:
        parsed = mapping.parse_schema(
            schema, filters=body.filters, missing_dim_policy=body.missingDimPolicy
        )
        # names that become one once '.' and spaces are replaced: checked by to_points
        mapping.to_points(pd.DataFrame(), parsed, mapping.TimeDefinition("t", "iso8601"))
    except mapping.SchemaError as exc:
        raise _invalid("schema", str(exc)) from None
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise _invalid("schema", f"The schema cannot be read: {exc}") from None
    return parsed


def _time(body: StreamBody, definition: dict[str, Any], source_type: str) -> mapping.TimeDefinition:
    """The time definition, in a pattern augury reads (a 422 naming its field otherwise).
    A SQL stream names its ``timestampColumn``: the database filters each poll by it."""
    time_field = _time_field(body)
    if source_type in SQL_DIALECTS and definition.get("timestampColumn") in (None, ""):
        raise _invalid(
            "timestampColumn",
            "A SQL stream names its time column (timestampColumn): each poll reads the rows "
            "of its window by it.",
        )
    try:
        time = _time_definition(definition, source_type)
        parse_times([], time.pattern, body.timeZone)  # the pattern is one augury reads
    except (mapping.SchemaError, TimeParseError) as exc:
        raise _invalid(time_field, str(exc)) from None
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise _invalid(time_field, f"The time definition cannot be read: {exc}") from None
    return time


def _time_field(body: StreamBody) -> str:
    return "timeDefinition" if body.timeDefinition is not None else "timestampColumn"


def _history(body: StreamBody) -> None:
    if body.history is not None:
        try:
            schedule.check_history(body.pollingInterval, body.history)
        except schedule.ScheduleError as exc:
            raise _invalid("historicalDateRange", str(exc)) from None


def check(
    session: Session, org_id: int, body: StreamBody, *, stream_type: str | None = None
) -> Checked:
    """``body`` checked as a stream to save: what it reads (:func:`_what_it_reads`), the
    schema, time definition and history range are what the collect engine can apply.
    Each refusal is a 422 naming the field (``details.field``)."""
    source, definition = _what_it_reads(session, org_id, body, stream_type)
    schema = _schema(body, body.schema_ or {})
    time = _time(body, definition, source.type)
    _history(body)
    return Checked(source, definition, schema, time, _time_field(body))


def check_draft(session: Session, org_id: int, body: StreamBody) -> Draft:
    """``body`` checked for a preview: as :func:`check`, except that a stream being
    built may leave out its ``schema`` and its time definition (the builder reads the
    rows first, to choose them among their columns). What it gives is checked."""
    source, definition = _what_it_reads(session, org_id, body, None)
    schema = None if body.schema_ is None else _schema(body, body.schema_)
    timed = _names_time(definition, source.type)
    time = _time(body, definition, source.type) if timed else None
    _history(body)
    return Draft(source, definition, schema, time)


def check_against_source(settings: Settings, checked: Checked) -> None:
    """Read a few of the source's latest rows and refuse (422) a stream that names a
    column the source lacks, a query the source refuses or finds unsafe. A source that
    cannot be reached now does not stop the save: the stream shows its error later."""
    read = reading.read_latest(settings, checked.source, checked.definition, SAMPLE_ROWS)
    if read.error is not None:
        code = read.error["code"]
        if code in (QueryUnsafe.code, QueryFailed.code):
            field = "query" if checked.definition.get("customQuery") else "tableName"
            if checked.source.type not in SQL_DIALECTS:
                field = "query" if checked.definition.get("query") else "path"
            raise _invalid(field, read.error["message"], reason=code)
        return
    frame = read.frame
    if frame is None or not len(frame.columns):
        return
    try:
        mapping.validate_columns(checked.schema, list(frame.columns), checked.time)
    except mapping.ColumnMismatch as exc:
        field = checked.time_field if str(checked.time.column) in exc.missing else "schema"
        raise _invalid(
            field, str(exc), reason="columns_missing", missing=exc.missing, extra=exc.extra
        ) from None


def _name_free(session: Session, org_id: int, name: str, stream_id: int | None = None) -> None:
    stmt = select(DataStream.id).where(DataStream.org_id == org_id, DataStream.name == name)
    if stream_id is not None:
        stmt = stmt.where(DataStream.id != stream_id)
    taken = session.scalar(stmt.limit(1))
    if taken is not None:
        raise Conflict(
            f"A data stream named '{name}' exists.",
            details={"reason": "name_taken", "field": "name", "id": taken},
        )


def _record(
    session: Session,
    principal: Principal,
    action: str,
    stream: DataStream,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    audit.record_change(
        session=session,
        principal=principal,
        action=f"collectors.stream.{action}",
        target_type="collect_stream",
        target_id=stream.id,
        before=before,
        after=after,
    )


# --------------------------------------------------------------------------- answers


def fields(stream: DataStream, now: datetime | None = None) -> dict[str, Any]:
    """The stream object: Anodot's fields (the definition as given), with the
    schedule and augury's state (epoch seconds for times)."""
    now = now or clock.now()
    lag = (
        None if stream.watermark is None else max(0, int((now - stream.watermark).total_seconds()))
    )
    head: dict[str, Any] = {
        "id": stream.id,
        "name": stream.name,
        "dataSourceId": stream.source_id,
        "type": stream.type,
    }
    tail: dict[str, Any] = {
        "pollingInterval": stream.polling_interval,
        "historicalDateRange": {"constRange": stream.history} if stream.history else None,
        "delayMinutes": stream.delay_minutes,
        "timeZone": stream.time_zone,
        "paused": stream.paused,
        "status": stream.status,
        "watermark": epoch(stream.watermark),
        "backfillFrom": epoch(stream.backfill_from),
        "nextPollTime": epoch(stream.next_poll_at),
        "lastPollTime": epoch(stream.last_poll_at),
        "lastSuccessTime": epoch(stream.last_success_at),
        "lagSeconds": lag,
        "error": stream.last_error,
        "errorCode": stream.error_code,
        "rowsRead": stream.rows_read,
        "pointsWritten": stream.points_written,
        "createTime": epoch(stream.created_at),
        "modifyTime": epoch(stream.updated_at),
    }
    body = {k: v for k, v in (stream.definition or {}).items() if k not in head and k not in tail}
    return {**head, **body, **tail}


def run_fields(run: DataStreamRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "streamId": run.stream_id,
        "startTime": epoch(run.started_at),
        "endTime": epoch(run.finished_at),
        "windowStart": epoch(run.window_start),
        "windowEnd": epoch(run.window_end),
        "status": run.status,
        "rowsRead": run.rows_read,
        "rowsUsed": run.rows_used,
        "skipped": run.skipped or {},
        "points": run.points,
        "metricsNew": run.metrics_new,
        "errorCode": run.error_code,
        "error": run.error,
        "durationMs": run.duration_ms,
    }


# --------------------------------------------------------------------------- reads


def get(*, session: Session, org_id: int, stream_id: int) -> DataStream:
    """The organization's stream ``stream_id``; another organization's is a 404."""
    return get_owned(session, DataStream, org_id, stream_id, "Data stream")


def by_ref(
    *, session: Session, org_id: int, stream_id: int | None, stream_name: str | None
) -> DataStream:
    """A stream by id, or by its full name (Anodot's ``streamId`` or ``streamName``)."""
    if stream_id is not None:
        return get(session=session, org_id=org_id, stream_id=stream_id)
    if not stream_name:
        raise ValidationFailed(
            "Name the stream: 'streamId' or 'streamName'.", details={"field": "streamId"}
        )
    found = session.scalar(
        select(DataStream)
        .where(DataStream.org_id == org_id, DataStream.name == stream_name)
        .order_by(DataStream.id)
        .limit(1)
    )
    if found is None:
        raise NotFound("Data stream not found.", details={"streamName": stream_name})
    return found


def list_page(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    q: str | None = None,
    source_id: int | None = None,
    status: str | None = None,
) -> tuple[list[DataStream], int]:
    """The organization's streams by name; text ``q`` in the name, a source, a status."""
    stmt = select(DataStream).where(DataStream.org_id == org_id)
    if q:
        stmt = stmt.where(contains(DataStream.name, q))
    if source_id is not None:
        stmt = stmt.where(DataStream.source_id == source_id)
    if status:
        stmt = stmt.where(DataStream.status == status)
    return paginate(session, stmt.order_by(DataStream.name, DataStream.id), page)


def find(*, session: Session, org_id: int, search_query: str) -> list[DataStream]:
    """Anodot's find: streams whose name holds ``search_query`` (any case)."""
    stmt = select(DataStream).where(DataStream.org_id == org_id)
    if search_query:
        stmt = stmt.where(contains(DataStream.name, search_query))
    return list(session.scalars(stmt.order_by(DataStream.name, DataStream.id).limit(FIND_LIMIT)))


def runs_page(
    *, session: Session, stream: DataStream, page: PageParams
) -> tuple[list[DataStreamRun], int]:
    """The stream's polls, newest first."""
    stmt = (
        select(DataStreamRun)
        .where(DataStreamRun.stream_id == stream.id, DataStreamRun.org_id == stream.org_id)
        .order_by(DataStreamRun.started_at.desc(), DataStreamRun.id.desc())
    )
    return paginate(session, stmt, page)


def metrics_total(*, session: Session, stream: DataStream, time_range: str) -> int:
    """Metrics the stream created within the last day or week."""
    since = clock.now() - TIME_RANGES[time_range]
    return int(
        session.scalar(
            select(func.count())
            .select_from(DataStreamMetric)
            .where(DataStreamMetric.stream_id == stream.id, DataStreamMetric.created_at >= since)
        )
        or 0
    )


def totals(*, session: Session, stream: DataStream) -> dict[str, Any]:
    """What watches the stream's metrics: the alerts whose expression matches at least
    one of them. An alert with no expression (every metric) names no stream and is not
    listed. Dashboards and composites are not linked to streams here (the dashboards
    domain sits above collectors): their lists are empty."""
    alerts: list[dict[str, Any]] = []
    has_metrics = session.scalar(
        select(DataStreamMetric.metric_id).where(DataStreamMetric.stream_id == stream.id).limit(1)
    )
    if has_metrics is not None:
        configs = session.scalars(
            select(AlertConfig)
            .where(AlertConfig.org_id == stream.org_id, AlertConfig.expression != "")
            .order_by(AlertConfig.id)
        )
        for config in configs:
            try:
                tree = expressions.parse(config.expression or "")
            except expressions.ExpressionError:
                continue
            if tree is None:
                continue
            watched = session.scalar(
                select(
                    exists().where(
                        DataStreamMetric.stream_id == stream.id,
                        DataStreamMetric.metric_id == Metric.id,
                        Metric.org_id == stream.org_id,
                        metrics_service.expression_clause(tree),
                    )
                )
            )
            if watched:
                alerts.append({"id": config.id, "title": config.title})
    return {
        "alerts": {"alerts": alerts, "total": len(alerts)},
        "dashboards": {"dashboards": [], "total": 0},
        "composites": {"composites": [], "total": 0},
    }


# --------------------------------------------------------------------------- writes


def _start(now: datetime, interval: str, history: str | None, tz: str) -> datetime:
    """Where a stream's collecting starts: its history back from now, else the bucket
    now is in."""
    if history:
        return schedule.backfill_start(now, interval, history, tz)
    return schedule.bucket_start(now, interval, tz)


def create(
    *, session: Session, principal: Principal, settings: Settings, body: StreamBody
) -> DataStream:
    """A new stream, due at once, collecting its historical range first."""
    checked = check(session, principal.org_id, body)
    _name_free(session, principal.org_id, body.name)
    check_against_source(settings, checked)
    now = clock.now()
    stream = DataStream(
        org_id=principal.org_id,
        source_id=checked.source.id,
        name=body.name,
        type=checked.source.type,
        definition=checked.definition,
        polling_interval=body.pollingInterval,
        history=body.history,
        delay_minutes=body.delayMinutes,
        time_zone=body.timeZone,
        paused=body.paused,
        status=StreamStatus.PENDING.value,
        watermark=None,
        backfill_from=_start(now, body.pollingInterval, body.history, body.timeZone),
        next_poll_at=now,
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(stream)
    session.flush()
    _record(session, principal, "create", stream, after=audit.snapshot(stream, AUDITED))
    return stream


def _collect_again(stream: DataStream, start: datetime) -> None:
    """Move where the collector reads from back to ``start`` (never forward)."""
    if stream.watermark is not None:
        stream.watermark = schedule.rewind(
            stream.watermark, start, stream.polling_interval, stream.time_zone
        )
        stream.backfill_from = schedule.bucket_start(
            start, stream.polling_interval, stream.time_zone
        )
        stream.status = StreamStatus.BACKFILLING.value
    else:
        begin = schedule.bucket_start(start, stream.polling_interval, stream.time_zone)
        stream.backfill_from = (
            begin if stream.backfill_from is None else min(stream.backfill_from, begin)
        )


def replace(
    *,
    session: Session,
    principal: Principal,
    settings: Settings,
    stream: DataStream,
    body: StreamBody,
    rewind: bool = False,
) -> DataStream:
    """Anodot's edit: the definition replaced by ``body`` (its source may change to
    another of the same type); ``rewind`` collects the historical range again."""
    checked = check(session, stream.org_id, body, stream_type=stream.type)
    if body.name != stream.name:
        _name_free(session, stream.org_id, body.name, stream.id)
    check_against_source(settings, checked)
    before = audit.snapshot(stream, AUDITED)
    now = clock.now()
    stream.source_id = checked.source.id
    stream.name = body.name
    stream.definition = checked.definition
    stream.polling_interval = body.pollingInterval
    stream.history = body.history
    stream.delay_minutes = body.delayMinutes
    stream.time_zone = body.timeZone
    stream.paused = body.paused
    stream.next_poll_at = now
    stream.updated_at = now
    if rewind:
        _collect_again(stream, _start(now, body.pollingInterval, body.history, body.timeZone))
    session.flush()
    after = {**audit.snapshot(stream, AUDITED), **({"rewind": True} if rewind else {})}
    _record(session, principal, "update", stream, before, after)
    return stream


def set_paused(
    *, session: Session, principal: Principal, stream: DataStream, paused: bool
) -> DataStream:
    """Pause the stream, or resume it (due at once: it catches up from its watermark)."""
    if stream.paused == paused:
        return stream
    now = clock.now()
    stream.paused = paused
    stream.definition = {**(stream.definition or {}), "paused": paused}
    if not paused:
        stream.next_poll_at = now
    stream.updated_at = now
    session.flush()
    _record(
        session,
        principal,
        "pause" if paused else "resume",
        stream,
        {"paused": not paused},
        {"paused": paused},
    )
    return stream


def rewind(
    *,
    session: Session,
    principal: Principal,
    stream: DataStream,
    start: datetime,
    end: datetime | None = None,
) -> DataStream:
    """Collect from ``start`` again (see the module's docstring for ``end``)."""
    now = clock.now()
    if start >= now:
        raise _invalid("from", "'from' must be in the past.")
    longest = schedule.ALLOWED_HISTORY[stream.polling_interval][-1]
    earliest = schedule.backfill_start(now, stream.polling_interval, longest, stream.time_zone)
    if start < earliest:
        raise _invalid(
            "from",
            f"A {stream.polling_interval} stream goes back at most {longest} "
            f"(to {earliest.isoformat()}).",
            earliest=int(earliest.timestamp()),
        )
    before = {
        "watermark": audit.jsonable(stream.watermark),
        "backfill_from": audit.jsonable(stream.backfill_from),
    }
    _collect_again(stream, start)
    stream.next_poll_at = now
    stream.updated_at = now
    session.flush()
    _record(
        session,
        principal,
        "rewind",
        stream,
        before,
        {
            "watermark": audit.jsonable(stream.watermark),
            "backfill_from": audit.jsonable(stream.backfill_from),
            "from": start.isoformat(),
            "to": None if end is None else end.isoformat(),
        },
    )
    return stream


def delete_stream(
    *, session: Session, principal: Principal, stream: DataStream, delete_metrics: bool = True
) -> list[int]:
    """Delete the stream, its runs and, with ``delete_metrics``, the metrics it created
    (each audited as a metric deletion; a metric another stream writes too is kept).
    Returns the ids of the metrics deleted."""
    deleted: list[int] = []
    if delete_metrics:
        other = aliased(DataStreamMetric)
        metrics = list(
            session.scalars(
                select(Metric)
                .join(DataStreamMetric, DataStreamMetric.metric_id == Metric.id)
                .where(
                    DataStreamMetric.stream_id == stream.id,
                    Metric.org_id == stream.org_id,
                    ~exists().where(
                        and_(other.metric_id == Metric.id, other.stream_id != stream.id)
                    ),
                )
                .order_by(Metric.id)
            )
        )
    else:
        metrics = []
    before = {**audit.snapshot(stream, AUDITED), "delete_metrics": delete_metrics}
    session.execute(delete(DataStreamMetric).where(DataStreamMetric.stream_id == stream.id))
    session.execute(delete(DataStreamRun).where(DataStreamRun.stream_id == stream.id))
    for metric in metrics:
        deleted.append(metric.id)
        metrics_service.delete_metric(session=session, principal=principal, metric=metric)
    if deleted:
        before["metrics_deleted"] = len(deleted)
    _record(session, principal, "delete", stream, before=before)
    session.delete(stream)
    session.flush()
    return deleted


# --------------------------------------------------------------------------- reading now


def preview(
    *, session: Session, settings: Settings, org_id: int, body: StreamBody, rows: int
) -> dict[str, Any]:
    """The latest ``rows`` rows of the body's source and the metrics they make. The
    body is checked as for a create (422s), except that a draft without its ``schema``
    or its time definition gets the rows only (no metric: there is nothing to make them
    with); the source's failure is ``{"error": {code, message}}``."""
    draft = check_draft(session, org_id, body)
    read = reading.read_latest(settings, draft.source, draft.definition, rows)
    if read.error is not None or read.frame is None:
        return {"error": read.error}
    if draft.schema is None or draft.time is None:
        return reading.rows_only(read.frame, rows)
    return reading.preview(
        read.frame,
        draft.schema,
        draft.time,
        interval=body.pollingInterval,
        tz=body.timeZone,
        rows=rows,
    )


def save_dataset(
    *,
    session: Session,
    principal: Principal,
    settings: Settings,
    stream: DataStream,
    meta: StreamDataset,
    rows: int,
) -> tuple[Dataset, DatasetVersion]:
    """The stream's latest ``rows`` rows, as they come from the source, as a new
    dataset or the next version of the dataset named ``meta.name``. A source that
    fails is a 502 naming its error's code."""
    source = _source_of(session, stream.org_id, stream.source_id)
    read = reading.read_latest(settings, source, stream.definition or {}, rows)
    if read.error is not None or read.frame is None:
        error = read.error or {"code": "source_error", "message": "The source gave nothing."}
        raise ProviderError(
            f"The data source could not be read: {error['message']}",
            details={"provider": f"data source {source.id}", "reason": error["code"]},
        )
    if read.frame.empty:
        raise ValidationFailed(
            "The stream's source has no rows to save.", details={"reason": "no_rows"}
        )
    path = storage_for(settings).staging_file(".parquet")
    try:
        reading.write_parquet(read.frame, path)
        staged = datasets_service.stage_file(
            settings, path, file_name=f"{stream.name}.parquet", format="parquet"
        )
    finally:
        path.unlink(missing_ok=True)
    staged.source = "collector"
    return datasets_service.add_version(
        session=session, principal=principal, settings=settings, meta=meta, staged=staged
    )


def dataset_fields(session: Session, dataset: Dataset, version: DatasetVersion) -> dict[str, Any]:
    """The dataset as ``GET /datasets/{id}`` answers it."""
    body = DatasetRead.model_validate(
        {
            "id": dataset.id,
            "name": dataset.name,
            "description": dataset.description,
            "tags": dataset.tags or [],
            "column_types": dataset.type_overrides or {},
            "latest_version": dataset.latest_version,
            "created_at": dataset.created_at,
            "updated_at": dataset.updated_at,
        }
    ).model_dump()
    version_body = VersionRead.model_validate(version).model_dump()
    previous = datasets_service.previous_version(session, version)
    version_body["changes"] = datasets_service.changes(previous, version)
    body["version"] = version_body
    return body
