"""Queries over datasets: the structured query, count-only, top-N, what-if, the
read-only SQL over the organization's datasets, previews and downloads.

The science is :mod:`augury.engines.tabular.query` and ``export``; this module finds the
version's file and how to read its columns, applies the organization's limits
(``datasets.*`` settings), and turns the engines' refusals into the API's 422.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.config import Settings
from augury.datasets import service
from augury.datasets.models import Dataset, DatasetVersion
from augury.datasets.schemas import FilterIn, QueryIn, SqlIn, WhatIfIn
from augury.datasets.storage import storage_for
from augury.engines.tabular import export as exporter
from augury.engines.tabular import query as engine
from augury.engines.tabular.columns import ColumnSpec
from augury.engines.tabular.errors import TableError


def limits(settings: Settings) -> engine.Limits:
    cfg = settings.datasets
    return engine.Limits(
        memory_limit=f"{cfg.memory_limit_mb}MB",
        threads=cfg.threads,
        timeout_s=cfg.query_timeout_s,
    )


def _filters(filters: list[FilterIn]) -> list[engine.Filter]:
    return [engine.Filter(f.column, f.op, f.value) for f in filters]


def to_query(body: QueryIn) -> engine.Query:
    return engine.Query(
        select=body.select,
        filters=_filters(body.filters),
        group_by=list(body.group_by),
        aggregates=[engine.Aggregate(a.fn, a.column, a.alias, a.other) for a in body.aggregates],
        bucket=engine.Bucket(body.bucket.column, body.bucket.unit) if body.bucket else None,
        order=[(o.column, o.direction) for o in body.order],
        limit=body.limit,
        offset=body.offset,
    )


def _source(settings: Settings, dataset: Dataset, version: DatasetVersion):
    return service.path_of(settings, version), service.specs(dataset, version)


def run(
    session: Session, settings: Settings, dataset: Dataset, body: QueryIn
) -> engine.Result | int:
    """The query's rows (or, with ``count_only``, how many rows match its filters)."""
    version = service.get_version(session=session, dataset=dataset, number=body.version)
    path, specs = _source(settings, dataset, version)
    lim = limits(settings)
    max_rows = settings.datasets.query_max_rows
    try:
        if body.count_only:
            return engine.count(path, specs, _filters(body.filters), limits=lim)
        if body.top is not None:
            return engine.top_n(
                path,
                specs,
                body.top.column,
                body.top.n,
                _filters(body.filters),
                body.top.descending,
                limits=lim,
            )
        return engine.run_query(path, specs, to_query(body), max_rows=max_rows, limits=lim)
    except TableError as exc:
        raise service.table_error(exc) from exc


def what_if(session: Session, settings: Settings, dataset: Dataset, body: WhatIfIn) -> list[dict]:
    version = service.get_version(session=session, dataset=dataset, number=body.version)
    path, specs = _source(settings, dataset, version)
    try:
        return engine.what_if(
            path,
            specs,
            body.column,
            body.percent,
            body.aggregate,
            list(body.group_by) or None,
            _filters(body.filters),
            limits=limits(settings),
        )
    except TableError as exc:
        raise service.table_error(exc) from exc


def preview(
    session: Session,
    settings: Settings,
    dataset: Dataset,
    version: DatasetVersion,
    *,
    offset: int,
    limit: int,
) -> dict:
    """Rows ``offset`` to ``offset + limit`` of a version, read with its columns' types."""
    path, specs = _source(settings, dataset, version)
    try:
        result = engine.run_query(
            path,
            specs,
            engine.Query(limit=limit, offset=offset),
            max_rows=limit,
            with_total=False,
            limits=limits(settings),
        )
    except TableError as exc:
        raise service.table_error(exc) from exc
    return {
        "version": version.number,
        "columns": result.columns,
        "types": result.types,
        "rows": result.rows,
        "offset": offset,
        "limit": limit,
        "total": version.rows,
    }


def run_sql(session: Session, settings: Settings, org_id: int, body: SqlIn) -> engine.Result:
    """One read-only SELECT over the organization's datasets (their latest versions),
    each a table of the dataset's name; only the datasets the text names are opened."""
    tables: dict[str, tuple[Path, list]] = {}
    text = body.sql.lower()
    datasets = session.scalars(select(Dataset).where(Dataset.org_id == org_id)).all()
    named = [d for d in datasets if _mentions(text, d.name.lower())]
    latest = service.latest_versions(session, named)
    for dataset in named:
        version = latest.get(dataset.id)
        if version is not None:
            tables[dataset.name] = _source(settings, dataset, version)
    cfg = settings.datasets
    max_rows = min(body.max_rows or cfg.query_max_rows, cfg.query_max_rows)
    try:
        return engine.run_sql(
            tables,
            body.sql,
            max_rows=max_rows,
            timeout_s=cfg.query_timeout_s,
            limits=limits(settings),
        )
    except TableError as exc:
        raise service.table_error(exc) from exc


def _mentions(sql: str, name: str) -> bool:
    return re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", sql) is not None


def export(
    session: Session,
    settings: Settings,
    dataset: Dataset,
    *,
    fmt: str,
    version: int | None = None,
    body: QueryIn | None = None,
) -> tuple[Path, str]:
    """The version (or a query's full answer) written as ``fmt`` into a staging file,
    and the file name to offer; the caller removes the file once sent."""
    number = body.version if body is not None else version
    v = service.get_version(session=session, dataset=dataset, number=number)
    path, specs = _source(settings, dataset, v)
    query = to_query(body) if body is not None else None
    dst = storage_for(settings).staging_file(exporter.extension(fmt))
    lim = replace(limits(settings), timeout_s=settings.datasets.export_timeout_s)
    try:
        exporter.export(exporter.Dataset(path, specs, query), dst, fmt, limits=lim)
    except TableError as exc:
        dst.unlink(missing_ok=True)
        raise service.table_error(exc) from exc
    stem = re.sub(r"[^\w.-]+", "_", dataset.name).strip("_") or "dataset"
    suffix = "-query" if body is not None else ""
    return dst, f"{stem}-v{v.number}{suffix}{exporter.extension(fmt)}"


def job_rows(
    session: Session,
    settings: Settings,
    dataset: Dataset,
    version: DatasetVersion,
    *,
    count_only: bool,
    limit: int,
    estimate: str | None,
    insight: int,
    alter: float,
) -> dict:
    """Anaimo's ``GET /data`` over a job's dataset: ``progress=1`` is ``count_only``;
    ``insight`` 1 keeps the top 80% of rows by ``estimate``, 2 the top 20; ``alter``
    adds a percentage to ``estimate``'s values."""
    path, specs = _source(settings, dataset, version)
    lim = limits(settings)
    max_rows = settings.datasets.query_max_rows
    try:
        if count_only:
            return {"count": engine.count(path, specs, limits=lim)}
        if (insight or alter) and not estimate:
            raise TableError("INVALID_QUERY", "'insight' and 'alter' need 'estimate' (a column).")
        if alter:
            specs = [_altered(s, alter) if s.name == estimate else s for s in specs]
            if not any(s.name == estimate for s in specs):
                raise TableError("UNKNOWN_COLUMN", f"No column {estimate!r}.")
        take = limit or max_rows
        order: list[tuple[str, str]] = []
        if insight and estimate:
            order = [(estimate, "desc")]
            take = 20 if insight == 2 else max(1, int(version.rows * 0.8))
            take = min(take, limit or take)
        query = engine.Query(order=order, limit=min(take, max_rows))
        result = engine.run_query(path, specs, query, max_rows=max_rows, limits=lim)
    except TableError as exc:
        raise service.table_error(exc) from exc
    return result_body(result)


def result_body(result: engine.Result) -> dict:
    """A query's answer as the API gives it (the statement it ran is left out)."""
    return {
        "columns": result.columns,
        "types": result.types,
        "rows": result.rows,
        "total": result.total,
        "truncated": result.truncated,
    }


def _altered(spec, percent: float):
    """``spec`` read with every value scaled by ``1 + percent / 100`` (a float)."""
    if spec.type not in ("integer", "float", "decimal"):
        raise TableError("INVALID_QUERY", f"'estimate' column {spec.name!r} is not numeric.")
    return ColumnSpec(spec.name, spec.physical, "float", spec.parse, scale=1 + percent / 100)
