"""Metrics: search by expression, read series at a resolution, cardinality, EPS, schemas.

Ingestion (writing points) is :mod:`augury.metrics.writer`; this module is what the
API, the UI and the CLI read through, and where a metric is deleted (audited here,
with the acting principal). Functions never commit (the caller's unit of work does).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.errors import NotFound, ValidationFailed
from augury.metrics import expressions, rollups
from augury.metrics.ingest import anodot
from augury.metrics.models import (
    ROLLUP_RESOLUTIONS,
    IngestStat,
    Metric,
    MetricDimension,
    MetricPoint,
    MetricPointInbox,
    MetricRollup,
    StreamQueueItem,
    StreamSchema,
)
from augury.metrics.rollups import RESOLUTION_NAMES
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate

RESOLUTIONS = {"native": 0, **{name: res for res, name in RESOLUTION_NAMES.items()}}
PARTIAL_LOOKBACK = 24
"""Buckets before the newest whose usual point count tells if the newest is filling."""
MAX_POINTS = 10_000
"""Most points one timeseries answer holds; ``auto`` picks a resolution that fits 1,500."""
AUTO_TARGET = 1_500
SORTS: dict[str, ColumnElement[Any]] = {
    "name": Metric.name.asc(),
    "-name": Metric.name.desc(),
    "last_seen": Metric.last_ts.asc(),
    "-last_seen": Metric.last_ts.desc(),
    "created": Metric.id.asc(),
    "-created": Metric.id.desc(),
}


# ---------------------------------------------------------------------- expressions


def parse_expression(text: str | None) -> expressions.Expr | None:
    """The tree of ``text`` or a VALIDATION_ERROR naming where it went wrong."""
    try:
        return expressions.parse(text or "", max_terms=expressions.MAX_TERMS)
    except expressions.ExpressionError as exc:
        raise ValidationFailed(
            f"Invalid metric expression: {exc}",
            details={"expression": text, "position": exc.position},
        ) from exc


def _match(column, pattern: str) -> ColumnElement[bool]:
    if "*" in pattern or "?" in pattern:
        return column.like(expressions.like_pattern(pattern), escape="\\")
    return column == pattern


def expression_clause(tree: expressions.Expr | None) -> ColumnElement[bool]:
    """SQL condition on :class:`Metric` equivalent to :func:`expressions.matches`."""
    if tree is None:
        return and_(True)
    if isinstance(tree, expressions.Term):
        if tree.key == "what":
            return _match(Metric.what, tree.pattern)
        return exists().where(
            MetricDimension.metric_id == Metric.id,
            MetricDimension.key == tree.key,
            _match(MetricDimension.value, tree.pattern),
        )
    if isinstance(tree, expressions.Not):
        return not_(expression_clause(tree.operand))
    if isinstance(tree, expressions.And):
        return and_(*(expression_clause(t) for t in tree.operands))
    return or_(*(expression_clause(t) for t in tree.operands))


# -------------------------------------------------------------------------- metrics


def search(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    q: str | None = None,
    sort: str = "name",
    active_since: float | None = None,
) -> tuple[list[Metric], int]:
    """Metrics of the organization matching the expression ``q``."""
    if sort not in SORTS:
        raise ValidationFailed(f"Unknown sort {sort!r}.", details={"allowed": sorted(SORTS)})
    stmt = select(Metric).where(Metric.org_id == org_id, expression_clause(parse_expression(q)))
    if active_since is not None:
        stmt = stmt.where(Metric.last_ts >= active_since)
    return paginate(session, stmt.order_by(SORTS[sort], Metric.id), page)


def ids_matching(*, session: Session, org_id: int, q: str | None) -> list[int]:
    """Ids of every metric of the organization that matches ``q``."""
    stmt = select(Metric.id).where(Metric.org_id == org_id, expression_clause(parse_expression(q)))
    return list(session.scalars(stmt))


def get_or_raise(*, session: Session, org_id: int, metric_id: int) -> Metric:
    return get_owned(session, Metric, org_id, metric_id, "Metric")


def delete_metric(*, session: Session, principal: Principal, metric: Metric) -> None:
    """Delete a metric with its points and rollups (audited with what identified it)."""
    audit.record_change(
        session=session,
        principal=principal,
        action="metric.delete",
        target_type="metric",
        target_id=metric.id,
        before=audit.snapshot(metric, ("name", "what", "dimensions")),
    )
    for table in (MetricPointInbox, MetricPoint, MetricRollup, MetricDimension):
        session.execute(delete(table).where(table.metric_id == metric.id))
    session.delete(metric)


# ------------------------------------------------------------------------ timeseries


@dataclass(slots=True)
class Series:
    metric: Metric
    resolution: str
    start: float
    end: float
    timestamps: list[float]
    values: list[float]
    minimums: list[float] | None = None
    maximums: list[float] | None = None
    counts: list[int] | None = None
    partial: bool = False
    """The last bucket is the metric's newest and still filling: it holds part of its
    period (a counter's hour reads low), so charts draw it apart."""


def _native_count(session: Session, metric_id: int, start: float, end: float) -> int:
    stored = (
        select(func.count())
        .where(MetricPoint.metric_id == metric_id, MetricPoint.ts >= start, MetricPoint.ts < end)
        .scalar_subquery()
    )
    arrived = (
        select(func.count())
        .where(
            MetricPointInbox.metric_id == metric_id,
            MetricPointInbox.ts >= start,
            MetricPointInbox.ts < end,
        )
        .scalar_subquery()
    )
    # One statement, so one snapshot: a compaction committing between two counts would
    # otherwise be counted twice or not at all.
    return int(session.scalar(select(stored + arrived)) or 0)


def native_points(
    session: Session, metric_id: int, start: float, end: float
) -> list[tuple[float, float]]:
    """Points in ``[start, end)`` in time order, including those that arrived but are
    not compacted yet (a newer arrival at the same timestamp wins, as it will there).

    Both tables are read in one statement: on PostgreSQL each statement sees its own
    snapshot, and a compaction that commits between two reads (inbox rows moved into
    metric_point) would leave those points in neither."""
    stored = select(MetricPoint.ts, MetricPoint.value, literal(0).label("arrival")).where(
        MetricPoint.metric_id == metric_id, MetricPoint.ts >= start, MetricPoint.ts < end
    )
    arrived = select(
        MetricPointInbox.ts, MetricPointInbox.value, MetricPointInbox.id.label("arrival")
    ).where(
        MetricPointInbox.metric_id == metric_id,
        MetricPointInbox.ts >= start,
        MetricPointInbox.ts < end,
    )
    rows = session.execute(union_all(stored, arrived)).all()
    if all(arrival == 0 for _, _, arrival in rows):
        return sorted((ts, value) for ts, value, _ in rows)
    merged: dict[float, float] = {}
    for ts, value, _ in sorted(rows, key=lambda r: r[2]):  # stored, then arrivals in order
        merged[ts] = value
    return sorted(merged.items())


def export_points(
    session: Session, metric: Metric, resolution: str, start: float, end: float
) -> list[tuple[float, float, float | None, float | None, int | None]]:
    """Every point of ``metric`` in ``[start, end)`` at ``resolution``, without the
    chart limit: ``(ts, value, min, max, count)``, min/max/count ``None`` for native
    points. A rollup's value is the average (gauge) or the sum (counter)."""
    res = RESOLUTIONS[resolution]
    if res == 0:
        return [
            (ts, v, None, None, None) for ts, v in native_points(session, metric.id, start, end)
        ]
    rows = session.execute(
        select(
            MetricRollup.bucket,
            MetricRollup.count,
            MetricRollup.sum,
            MetricRollup.min,
            MetricRollup.max,
        )
        .where(
            MetricRollup.metric_id == metric.id,
            MetricRollup.resolution == res,
            MetricRollup.bucket >= math.floor(start / res) * res,
            MetricRollup.bucket < end,
        )
        .order_by(MetricRollup.bucket)
    ).all()
    counter = metric.target_type == "counter"
    return [(r[0], r[2] if counter else r[2] / r[1], r[3], r[4], int(r[1])) for r in rows if r[1]]


def choose_resolution(session: Session, metric: Metric, start: float, end: float) -> str:
    """The finest resolution that draws ``[start, end)`` in about AUTO_TARGET points."""
    if _native_count(session, metric.id, start, end) <= AUTO_TARGET:
        return "native"
    if metric.first_ts is not None and metric.last_ts is not None:
        start, end = max(start, metric.first_ts), min(end, metric.last_ts + 1)
    for res in ROLLUP_RESOLUTIONS:
        if (end - start) / res <= AUTO_TARGET:
            return RESOLUTION_NAMES[res]
    return RESOLUTION_NAMES[ROLLUP_RESOLUTIONS[-1]]


def timeseries(
    *,
    session: Session,
    metric: Metric,
    start: float | None = None,
    end: float | None = None,
    resolution: str = "auto",
) -> Series:
    """Points of ``metric`` in ``[start, end)`` at ``resolution`` (``auto``: fits a chart).

    ``end`` defaults to just after the newest point, ``start`` to a day before ``end``.
    A rollup answer carries min, max and count per bucket; its value is the average
    (gauge) or the sum (counter).
    """
    if resolution != "auto" and resolution not in RESOLUTIONS:
        raise ValidationFailed(
            f"Unknown resolution {resolution!r}.",
            details={"allowed": ["auto", *RESOLUTIONS]},
        )
    newest = metric.last_ts if metric.last_ts is not None else clock.now().timestamp()
    if end is None:
        end = math.floor(newest) + 1.0
    if start is None:
        start = end - 86400.0
    if end <= start:
        raise ValidationFailed("'from' must be before 'to'.", details={"from": start, "to": end})
    if resolution == "auto":
        resolution = choose_resolution(session, metric, start, end)
    res = RESOLUTIONS[resolution]
    if res == 0:
        if _native_count(session, metric.id, start, end) > MAX_POINTS:
            raise ValidationFailed(
                f"More than {MAX_POINTS} points in range; ask for a rollup resolution "
                "or a shorter range.",
                details={"max_points": MAX_POINTS},
            )
        points = native_points(session, metric.id, start, end)
        return Series(metric, "native", start, end, [p[0] for p in points], [p[1] for p in points])
    # Only the part of the range that holds data counts against the limit.
    data_lo = max(start, metric.first_ts if metric.first_ts is not None else start)
    data_hi = min(end, metric.last_ts + res if metric.last_ts is not None else end)
    if (data_hi - data_lo) / res > MAX_POINTS:
        raise ValidationFailed(
            f"More than {MAX_POINTS} {resolution} buckets in range; ask for a coarser "
            "resolution or a shorter range.",
            details={"max_points": MAX_POINTS},
        )
    lo = math.floor(start / res) * res
    rows = session.execute(
        select(
            MetricRollup.bucket,
            MetricRollup.count,
            MetricRollup.sum,
            MetricRollup.min,
            MetricRollup.max,
        )
        .where(
            MetricRollup.metric_id == metric.id,
            MetricRollup.resolution == res,
            MetricRollup.bucket >= lo,
            MetricRollup.bucket < end,
        )
        .order_by(MetricRollup.bucket)
    ).all()
    counter = metric.target_type == "counter"
    # By position: a row's ``count`` attribute is also tuple.count.
    buckets = [r[0] for r in rows]
    counts = [int(r[1]) for r in rows]
    newest_bucket = math.floor(metric.last_ts / res) * res if metric.last_ts is not None else None
    partial = bool(rows) and buckets[-1] == newest_bucket
    if partial:
        before = session.execute(
            select(MetricRollup.count)
            .where(
                MetricRollup.metric_id == metric.id,
                MetricRollup.resolution == res,
                MetricRollup.bucket < buckets[-1],
            )
            .order_by(MetricRollup.bucket.desc())
            .limit(PARTIAL_LOOKBACK)
        ).scalars()
        usual = [*reversed([int(c) for c in before]), counts[-1]]
        partial = rollups.bucket_is_partial(
            buckets[-1], res, usual, metric.last_ts, clock.now().timestamp()
        )
    return Series(
        metric,
        resolution,
        start,
        end,
        buckets,
        [r.sum if counter else r.sum / c for r, c in zip(rows, counts, strict=True)],
        [r.min for r in rows],
        [r.max for r in rows],
        counts,
        partial,
    )


# ------------------------------------------------------------ cardinality and EPS


EPS_WINDOWS = {
    "short": 3600,
    "medium": 6 * 3600,
    "long": 86400,
    "longlong": 7 * 86400,
    "weekly": 28 * 86400,
}
"""Anodot's EPS ``rollup`` names -> the window (seconds) the rate is measured over."""


def cardinality(
    *,
    session: Session,
    org_id: int,
    start: float,
    end: float,
    size: int = 25,
    offset: int = 0,
    dims: list[str] | None = None,
    stream: str | None = None,
    examples: int = 10,
) -> dict:
    """Anodot's ``GET /api/v2/metrics/cardinality`` answer for metrics seen in range.

    Dimensions are sorted by how many distinct values they take (highest first); each
    lists up to ``examples`` metric names and the ``what`` values it appears with.
    """
    active = [Metric.org_id == org_id, Metric.last_ts >= start, Metric.first_ts <= end]
    if stream:
        schema_ids = select(StreamSchema.id).where(
            StreamSchema.org_id == org_id, StreamSchema.name == stream
        )
        active.append(Metric.stream_schema_id.in_(schema_ids))
    total = session.scalar(select(func.count()).select_from(Metric).where(*active)) or 0
    stmt = (
        select(MetricDimension.key, func.count(func.distinct(MetricDimension.value)).label("n"))
        .join(Metric, Metric.id == MetricDimension.metric_id)
        .where(*active)
        .group_by(MetricDimension.key)
        .order_by(func.count(func.distinct(MetricDimension.value)).desc(), MetricDimension.key)
    )
    if dims:
        stmt = stmt.where(MetricDimension.key.in_(dims))
    ranked = session.execute(stmt).all()
    chosen = ranked[offset : offset + size]
    result: dict[str, dict] = {}
    for key, n in chosen:
        joined = (
            select(Metric.name, Metric.what)
            .join(MetricDimension, Metric.id == MetricDimension.metric_id)
            .where(*active, MetricDimension.key == key)
        )
        names = list(session.scalars(joined.with_only_columns(Metric.name).limit(examples)))
        whats = sorted(set(session.scalars(joined.with_only_columns(Metric.what).distinct())))
        result[key] = {"cardinality": int(n), "examples": names, "what": whats}
    next_index = offset + len(chosen)
    return {
        "totalMetrics": int(total),
        "startIndex": offset,
        "nextIndex": next_index if next_index < len(ranked) else None,
        "metricsCardinality": result,
    }


def eps(*, session: Session, org_id: int, rollup: str, limit: int = 100) -> list[dict]:
    """Anodot's ``GET /api/v1/metrics/eps``: top metrics by events per second.

    The rate is the number of points each metric stored in the ``rollup``'s window
    (:data:`EPS_WINDOWS`) that ends at the newest point of the organization, divided by
    the window.
    """
    if rollup not in EPS_WINDOWS:
        raise ValidationFailed(
            f"Unknown rollup {rollup!r}.", details={"allowed": list(EPS_WINDOWS)}
        )
    window = EPS_WINDOWS[rollup]
    newest = session.scalar(select(func.max(Metric.last_ts)).where(Metric.org_id == org_id))
    if newest is None:
        return []
    since = newest - window
    count = func.sum(MetricRollup.count).label("n")
    rows = session.execute(
        select(Metric.name, count)
        .join(MetricRollup, MetricRollup.metric_id == Metric.id)
        .where(
            Metric.org_id == org_id,
            MetricRollup.resolution == ROLLUP_RESOLUTIONS[0],
            MetricRollup.bucket > since,
        )
        .group_by(Metric.id, Metric.name)
        .order_by(count.desc(), Metric.name)
        .limit(limit)
    ).all()
    return [{"metric": name, "eps": round(n / window, 7)} for name, n in rows]


def overview(*, session: Session, org_id: int) -> dict:
    """Totals for the Metrics page: metrics, active metrics, ingest rate and refusals."""
    now = clock.now().timestamp()
    total = session.scalar(select(func.count()).where(Metric.org_id == org_id)) or 0
    day_ago = now - 86400
    active = session.scalar(
        select(func.count()).where(Metric.org_id == org_id, Metric.last_ts >= day_ago)
    )
    whats = session.scalar(
        select(func.count(func.distinct(Metric.what))).where(Metric.org_id == org_id)
    )
    recent = session.execute(
        select(
            func.coalesce(func.sum(IngestStat.accepted), 0),
            func.coalesce(func.sum(IngestStat.refused), 0),
            func.coalesce(func.sum(IngestStat.requests), 0),
        ).where(IngestStat.org_id == org_id, IngestStat.minute >= int(now // 60 * 60) - 300)
    ).one()
    hour = session.execute(
        select(
            func.coalesce(func.sum(IngestStat.accepted), 0),
            func.coalesce(func.sum(IngestStat.refused), 0),
        ).where(IngestStat.org_id == org_id, IngestStat.minute >= now - 3600)
    ).one()
    per_minute = session.execute(
        select(IngestStat.minute, IngestStat.accepted, IngestStat.refused)
        .where(IngestStat.org_id == org_id, IngestStat.minute >= int(now // 60 * 60) - 3540)
        .order_by(IngestStat.minute)
    ).all()
    # How long the oldest points of this organization not yet through detection have
    # waited: the stream processor's lag behind ingestion (0 once it has caught up).
    waiting_since = session.scalar(
        select(func.min(StreamQueueItem.created_at)).where(
            StreamQueueItem.org_id == org_id, StreamQueueItem.consumer == "detect"
        )
    )
    lag = 0.0 if waiting_since is None else max(0.0, now - waiting_since.timestamp())
    return {
        "metrics": int(total),
        "active_metrics": int(active or 0),
        "measures": int(whats or 0),
        "eps": round(int(recent[0]) / 300, 3),
        "requests_per_s": round(int(recent[2]) / 300, 3),
        "accepted_last_hour": int(hour[0]),
        "refused_last_hour": int(hour[1]),
        "detection_lag_s": round(lag, 1),
        "ingest_per_minute": [{"minute": m, "accepted": a, "refused": r} for m, a, r in per_minute],
    }


# ------------------------------------------------------------------ stream schemas


def create_schema(*, session: Session, org_id: int, definition: dict) -> StreamSchema:
    """Validate and store an Anodot 3.0 stream schema; the id is generated."""
    try:
        parsed = anodot.parse_schema({k: v for k, v in definition.items() if k != "id"})
    except anodot.SchemaError as exc:
        raise ValidationFailed(str(exc)) from exc
    row = StreamSchema(
        id=str(uuid.uuid4()),
        org_id=org_id,
        name=parsed.name,
        definition={k: v for k, v in definition.items() if k != "id"},
    )
    session.add(row)
    session.flush()
    return row


def list_schemas(*, session: Session, org_id: int) -> list[StreamSchema]:
    stmt = select(StreamSchema).where(StreamSchema.org_id == org_id).order_by(StreamSchema.name)
    return list(session.scalars(stmt))


def get_schema(*, session: Session, org_id: int, schema_id: str) -> StreamSchema:
    row = session.scalar(
        select(StreamSchema).where(StreamSchema.id == schema_id, StreamSchema.org_id == org_id)
    )
    if row is None:
        raise NotFound("Stream schema not found.")
    return row


def stream_cardinality(
    *, session: Session, org_id: int, sort: Literal["name", "size"] = "name"
) -> list[dict]:
    """Metrics per 3.0 stream (schema), Anodot's per-stream cardinality: by name, or
    largest first."""
    counts = func.count(Metric.id)
    rows = session.execute(
        select(StreamSchema.name, counts)
        .join(Metric, Metric.stream_schema_id == StreamSchema.id, isouter=True)
        .where(StreamSchema.org_id == org_id)
        .group_by(StreamSchema.id, StreamSchema.name)
    ).all()
    counted = [(name, int(n)) for name, n in rows]
    counted.sort(key=(lambda c: c[0]) if sort == "name" else (lambda c: -c[1]))
    return [{"name": name, "numMetrics": n} for name, n in counted]


def schemas_by_id(*, session: Session, org_id: int) -> dict[str, anodot.StreamSchema]:
    """Parsed schemas of the organization, for :func:`anodot.parse_v3`."""
    return {
        row.id: anodot.parse_schema({**row.definition, "id": row.id})
        for row in list_schemas(session=session, org_id=org_id)
    }


def delete_schema(*, session: Session, row: StreamSchema) -> None:
    """Delete a stream schema (its metrics and their points stay)."""
    session.delete(row)


def set_watermark(*, session: Session, org_id: int, schema_id: str, timestamp: float) -> None:
    row = get_schema(session=session, org_id=org_id, schema_id=schema_id)
    row.watermark = max(row.watermark or timestamp, timestamp)
    row.modified_at = clock.now()


def watermarks(*, session: Session, org_id: int) -> dict[str, float]:
    """Schema id -> last watermark, for the schemas that have one."""
    rows = session.execute(
        select(StreamSchema.id, StreamSchema.watermark).where(
            StreamSchema.org_id == org_id, StreamSchema.watermark.is_not(None)
        )
    ).all()
    return {schema_id: mark for schema_id, mark in rows if mark is not None}
