"""HTTP routes of datasets: upload, list, read, change, delete, versions, preview and
schema; queries and downloads are in the same router below."""

from __future__ import annotations

import json
import math
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import FileResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from augury.api.deps import Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import Page, PageDep, PageParams, make_page
from augury.datasets import querying, schemas, service
from augury.datasets.deps import DatasetDep, received_upload
from augury.datasets.models import Dataset, DatasetVersion
from augury.engines.tabular.columns import TYPES
from augury.engines.tabular.export import content_type
from augury.errors import NotFound, ValidationFailed
from augury.jobs import service as jobs_service
from augury.jobs.deps import JobDep
from augury.jobs.schemas import JobRead
from augury.metrics import service as metrics_service
from augury.schemas import QueryDatetime

router = APIRouter(tags=["datasets"])

VersionQuery = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="Version number; unset: the latest.")
]
VersionPath = Path(ge=1, le=2**31 - 1, description="Version number.")
TYPE_DESCRIPTIONS = {
    "integer": "Whole numbers.",
    "float": "Numbers with a fraction, measured values.",
    "decimal": "Exact numbers with fixed decimals, e.g. money.",
    "boolean": "True or false (also yes/no, y/n, 1/0 in text).",
    "string": "Free text.",
    "category": "Text with a few distinct values (labels, regions, classes).",
    "date": "Calendar dates, from any common layout (ISO, day- or month-first, epoch).",
    "datetime": "Dates with a time of day.",
    "duration": "Lengths of time (01:02:03, 3 days, PT5M).",
}
DOWNLOAD_TYPES = [content_type(f) for f in ("csv", "json", "jsonl", "parquet", "xlsx")]
Format = Literal["csv", "tsv", "xlsx", "json", "jsonl", "parquet"]


def multipart_body(name_field: str, *, with_format: bool = False) -> dict:
    """The OpenAPI request body of an upload route (it reads the multipart stream itself,
    so FastAPI cannot describe it from parameters)."""
    properties: dict = {
        "file": {"type": "string", "format": "binary"},
        name_field: {"type": "string", "maxLength": 200},
        "description": {"type": "string"},
        "tags": {"type": "string", "description": "Comma-separated, repeated, or a JSON list."},
    }
    if with_format:
        properties["format"] = {"type": "string", "enum": list(get_args(Format))}
        properties["sheet"] = {"type": "string", "description": "XLSX sheet name."}
    schema = {"type": "object", "required": ["file", name_field], "properties": properties}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


def version_body(session: Session, version: DatasetVersion) -> dict:
    body = schemas.VersionRead.model_validate(version).model_dump()
    body["changes"] = service.changes(service.previous_version(session, version), version)
    return body


def dataset_body(session: Session, dataset: Dataset, version: DatasetVersion | None = None) -> dict:
    body = schemas.DatasetRead.model_validate(
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
    if version is not None:
        body["version"] = version_body(session, version)
    return body


@router.post(
    "/datasets",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.DatasetRead,
    openapi_extra=multipart_body("name", with_format=True),
)
async def upload_dataset(
    request: Request, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """Upload a file (CSV, TSV, XLSX, JSON, JSONL or Parquet; the format, encoding,
    delimiter and header are detected) as a new dataset, or as the next version of the
    dataset of the same name. The body is streamed to disk, converted to Parquet, and
    answered with the columns found; the full profile follows as a `datasets.profile`
    job (`version.profile_job_id`)."""
    return await _receive(request, principal, session, settings, name_field="name")


async def _receive(request, principal, session, settings, *, name_field: str) -> dict:
    async with received_upload(request, settings) as upload:
        meta = _meta(upload.first(name_field), upload.first("description"), upload.fields)
        fmt = upload.first("format") or None
        if fmt is not None and fmt not in get_args(Format):
            raise ValidationFailed(
                f"Unknown format '{fmt}'.", details={"formats": list(get_args(Format))}
            )
        assert upload.path is not None
        staged = await run_in_threadpool(
            service.stage_file,
            settings,
            upload.path,
            file_name=upload.file_name,
            format=fmt,
            sheet=upload.first("sheet") or None,
        )

        def record():
            dataset, version = service.add_version(
                session=session, principal=principal, settings=settings, meta=meta, staged=staged
            )
            return dataset_body(session, dataset, version)

        return await run_in_threadpool(record)


def _meta(name: str | None, description: str | None, fields: dict[str, list[str]]):
    tags = [t for value in fields.get("tags", []) for t in _split_tags(value)]
    try:
        return schemas.DatasetMeta(
            name=(name or "").strip(), description=description or "", tags=tags
        )
    except ValidationError as exc:  # the form is not a JSON body: say it as the API's 422
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        raise ValidationFailed("Invalid upload fields.", details={"errors": errors}) from exc


def _split_tags(value: str) -> list[str]:
    """``a, b`` or a JSON list ``["a", "b"]`` (as Aicser's clients send it)."""
    if value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return [str(t) for t in parsed]
    return value.split(",")


@router.post(
    "/datasets/records", status_code=status.HTTP_201_CREATED, response_model=schemas.DatasetRead
)
def create_from_records(
    body: schemas.RecordsCreate, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """A dataset (or its next version) from a JSON list of records."""
    staged = service.stage_records(settings, body.records)
    meta = schemas.DatasetMeta(name=body.name, description=body.description, tags=body.tags)
    dataset, version = service.add_version(
        session=session, principal=principal, settings=settings, meta=meta, staged=staged
    )
    return dataset_body(session, dataset, version)


@router.post("/datasets/from-metrics", status_code=status.HTTP_202_ACCEPTED, response_model=JobRead)
def from_metrics(
    body: schemas.MetricsExportIn, principal: Writer, session: SessionDep, settings: SettingsDep
):
    """Export the metrics an expression matches, over a time range, to a dataset (a
    `datasets.from_metrics` job; its result names the dataset and version): one row per
    metric and timestamp with the metric's dimensions as columns."""
    if body.end <= body.start:
        raise ValidationFailed("'start' must be before 'end'.")
    metrics_service.parse_expression(body.expression)
    return jobs_service.create(
        session=session,
        org_id=principal.org_id,
        type="datasets.from_metrics",
        params=body.model_dump(),
        user_id=principal.user_id,
        quotas=settings.quotas,
    )


@router.get("/datasets/types")
def column_types(principal: Reader) -> dict:
    """The column types a dataset's columns can have (Anaimo's data types for column
    mapping), each with what it holds."""
    return {"items": [{"type": t, "description": TYPE_DESCRIPTIONS[t]} for t in TYPES]}


@router.get("/jobs/{job_id}/datasets")
def job_datasets(job: JobDep, session: SessionDep) -> dict:
    """The dataset versions a job read (`input`) and wrote (`output`)."""
    return {
        "items": [
            {"role": link.role, "dataset_id": link.dataset_id, "version": link.version}
            for link in service.job_links(session, job)
        ]
    }


@router.get("/jobs/{job_id}/data", response_model=schemas.ResultRead | schemas.CountRead)
def job_data(
    job: JobDep,
    session: SessionDep,
    settings: SettingsDep,
    output: Annotated[bool, Query(description="The job's output; false: its input.")] = False,
    count_only: Annotated[bool, Query(description="Only the number of rows.")] = False,
    limit: Annotated[int, Query(ge=0, le=1_000_000, description="0: up to the cap.")] = 0,
    estimate: Annotated[
        str | None, Query(max_length=300, description="A numeric column: sorted by, or altered.")
    ] = None,
    insight: Annotated[
        int,
        Query(
            ge=0, le=2, description="With `estimate`: 1 the top 80% of rows by it, 2 the top 20."
        ),
    ] = 0,
    alter: Annotated[
        float, Query(ge=-1000, le=1000, description="Percent added to `estimate`'s values.")
    ] = 0,
):
    """Anaimo's job data: the rows of the dataset a job read or wrote, with `limit`,
    count-only, the top rows by a column (`insight`) and a what-if on a column
    (`alter`)."""
    found = service.job_data(session=session, job=job, role="output" if output else "input")
    if found is None:
        raise NotFound(f"Job {job.id} has no {'output' if output else 'input'} data.")
    dataset, version = found
    return querying.job_rows(
        session,
        settings,
        dataset,
        version,
        count_only=count_only,
        limit=limit,
        estimate=estimate,
        insight=insight,
        alter=alter,
    )


@router.get("/datasets", response_model=Page[schemas.DatasetRead])
def list_datasets(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200, description="In name or description.")] = None,
    tag: Annotated[
        list[str] | None,
        Query(description="Every tag given must be present (repeat, or comma-separated)."),
    ] = None,
    format: Annotated[Format | None, Query(description="Latest version's format.")] = None,
    created_after: Annotated[QueryDatetime | None, Query()] = None,
):
    """The organization's datasets, most recently changed first, with their latest version."""
    tags = [t.strip() for value in tag or [] for t in value.split(",") if t.strip()]
    items, total = service.list_page(
        session=session,
        org_id=principal.org_id,
        page=page,
        q=q,
        tags=tags or None,
        format=format,
        created_after=created_after,
    )
    latest = service.latest_versions(session, items)
    return make_page([dataset_body(session, d, latest.get(d.id)) for d in items], total, page)


@router.get("/datasets/{dataset_id}", response_model=schemas.DatasetRead)
def get_dataset(dataset: DatasetDep, session: SessionDep):
    version = service.get_version(session=session, dataset=dataset)
    return dataset_body(session, dataset, version)


@router.patch("/datasets/{dataset_id}", response_model=schemas.DatasetRead)
def update_dataset(
    body: schemas.DatasetUpdate,
    principal: Writer,
    dataset: DatasetDep,
    session: SessionDep,
    settings: SettingsDep,
):
    """Change the description, tags, or columns' types (`column_types`); a type change
    profiles the latest version again and applies to every later version."""
    service.update(
        session=session, principal=principal, settings=settings, dataset=dataset, body=body
    )
    return dataset_body(session, dataset, service.get_version(session=session, dataset=dataset))


@router.delete("/datasets/{dataset_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_dataset(
    principal: Writer, dataset: DatasetDep, session: SessionDep, settings: SettingsDep
):
    """Delete the dataset, every version and their files."""
    service.delete(session=session, principal=principal, settings=settings, dataset=dataset)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/datasets/{dataset_id}/versions", response_model=Page[schemas.VersionRead])
def list_versions(dataset: DatasetDep, session: SessionDep, page: PageDep):
    """Versions, newest first, each with its schema changes from the one before."""
    items, total = service.list_versions(session=session, dataset=dataset, page=page)
    return make_page([version_body(session, v) for v in items], total, page)


@router.get("/datasets/{dataset_id}/versions/{number}", response_model=schemas.VersionRead)
def get_version(dataset: DatasetDep, session: SessionDep, number: Annotated[int, VersionPath]):
    return version_body(
        session, service.get_version(session=session, dataset=dataset, number=number)
    )


@router.delete("/datasets/{dataset_id}/versions/{number}", status_code=status.HTTP_204_NO_CONTENT)
def delete_version(
    principal: Writer,
    dataset: DatasetDep,
    session: SessionDep,
    settings: SettingsDep,
    number: Annotated[int, VersionPath],
):
    """Delete one version and its file (not the only one: delete the dataset instead)."""
    version = service.get_version(session=session, dataset=dataset, number=number)
    service.delete_version(
        session=session, principal=principal, settings=settings, dataset=dataset, version=version
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/datasets/{dataset_id}/schema", response_model=schemas.SchemaRead)
def get_schema(dataset: DatasetDep, session: SessionDep, version: VersionQuery = None):
    """Each column's type, nullability, unique count, samples and semantic hint (from the
    profile once complete; the types the reader found before), and the quality."""
    v = service.get_version(session=session, dataset=dataset, number=version)
    return service.schema(dataset, v)


@router.get("/datasets/{dataset_id}/profile")
def get_profile(dataset: DatasetDep, session: SessionDep, version: VersionQuery = None) -> dict:
    """The full profile of a version: per-column statistics, histograms, top values and
    the quality issues; `profile` is null until the profile job completes."""
    v = service.get_version(session=session, dataset=dataset, number=version)
    return {
        "version": v.number,
        "profile_status": v.profile_status,
        "profile_job_id": v.profile_job_id,
        "profile_error": v.profile_error,
        "profile": v.profile,
    }


@router.post(
    "/datasets/{dataset_id}/profile",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.VersionRead,
)
def reprofile(
    principal: Writer,
    dataset: DatasetDep,
    session: SessionDep,
    settings: SettingsDep,
    version: VersionQuery = None,
):
    """Profile a version again (a new `datasets.profile` job)."""
    v = service.get_version(session=session, dataset=dataset, number=version)
    v.profile_job_id = service.queue_profile(session, principal, settings, v).id
    return version_body(session, v)


@router.get("/datasets/{dataset_id}/preview", response_model=schemas.PreviewRead)
def preview(
    dataset: DatasetDep,
    session: SessionDep,
    settings: SettingsDep,
    version: VersionQuery = None,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    """Rows of a version, `limit` from `offset`, read with the columns' types."""
    v = service.get_version(session=session, dataset=dataset, number=version)
    return querying.preview(session, settings, dataset, v, offset=offset, limit=limit)


@router.post(
    "/datasets/{dataset_id}/query",
    response_model=schemas.ResultRead | schemas.CountRead,
    responses={200: {"content": {ct: {} for ct in DOWNLOAD_TYPES}}},
)
def query_dataset(
    body: schemas.QueryIn,
    dataset: DatasetDep,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[
        Literal["json", "csv", "jsonl", "parquet", "xlsx"],
        Query(description="`json`: a page of rows; another format: the whole answer as a file."),
    ] = "json",
):
    """A structured query: rows (select, filters, order, limit/offset) or groups
    (group_by, aggregates, a time bucket); `count_only` answers `{"count"}`, `top` the n
    rows with the largest values of a column. As JSON at most `datasets.query_max_rows`
    rows (`truncated` says when more matched); as a file (`format=csv` ...) all of them."""
    if format != "json":
        return _file(*querying.export(session, settings, dataset, fmt=format, body=body), format)
    result = querying.run(session, settings, dataset, body)
    if isinstance(result, int):
        return {"count": result}
    return querying.result_body(result)


@router.post("/datasets/{dataset_id}/what-if")
def what_if(
    body: schemas.WhatIfIn, dataset: DatasetDep, session: SessionDep, settings: SettingsDep
) -> dict:
    """An aggregate of a column as it is and with every value changed by `percent`
    (Anaimo's `alter` and `estimate`), per group."""
    return {"items": querying.what_if(session, settings, dataset, body)}


@router.post("/datasets/sql", response_model=schemas.ResultRead)
def run_sql(body: schemas.SqlIn, principal: Reader, session: SessionDep, settings: SettingsDep):
    """One read-only SELECT over the organization's datasets, each a table named as the
    dataset (quote names that are not identifiers: `"sales 2024"`). No other file, no
    writes, no extensions; stopped after `datasets.query_timeout_s`."""
    return querying.result_body(querying.run_sql(session, settings, principal.org_id, body))


@router.get(
    "/datasets/{dataset_id}/download",
    response_class=FileResponse,
    responses={200: {"content": {ct: {} for ct in DOWNLOAD_TYPES}}},
)
def download(
    dataset: DatasetDep,
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[Literal["csv", "json", "jsonl", "parquet", "xlsx"], Query()] = "csv",
    version: VersionQuery = None,
):
    """The whole version as CSV, JSON, JSONL, Parquet or XLSX, read with its columns'
    types. Text cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) are
    escaped with a leading `'` in CSV and XLSX."""
    path, name = querying.export(session, settings, dataset, fmt=format, version=version)
    return _file(path, name, format)


def _file(path, name: str, fmt: str) -> FileResponse:
    return FileResponse(
        path,
        media_type=content_type(fmt),
        filename=name,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


# Aicser's Data Management API, on the same services: its paths and its envelope
# (`{"success": true, "data": ...}`), so its clients work unchanged.
aicser_router = APIRouter(prefix="/api/v1/data", tags=["datasets (Aicser)"])


def _aicser_source(dataset: Dataset, version: DatasetVersion | None) -> dict:
    return {
        "data_source_id": dataset.id,
        "name": dataset.name,
        "file_name": version.file_name if version else None,
        "file_size": version.source_bytes if version else 0,
        "rows": version.rows if version else 0,
        "columns": len(version.columns) if version else 0,
        "tags": dataset.tags or [],
        "uploaded_at": (version.created_at if version else dataset.created_at).isoformat(),
    }


@aicser_router.post(
    "/upload",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=multipart_body("data_source_name"),
)
async def aicser_upload(
    request: Request, principal: Writer, session: SessionDep, settings: SettingsDep
) -> dict:
    """Aicser's upload (`data_source_name`, `file`, `description`, `tags`): the same as
    `POST /api/v1/datasets`."""
    body = await _receive(request, principal, session, settings, name_field="data_source_name")

    def answer():
        dataset = service.get(session=session, org_id=principal.org_id, dataset_id=body["id"])
        version = service.get_version(session=session, dataset=dataset)
        data = _aicser_source(dataset, version)
        data.pop("tags")
        data["schema"] = {c["name"]: c["type"] for c in service.schema(dataset, version)["columns"]}
        return {"success": True, "data": data}

    return await run_in_threadpool(answer)


@aicser_router.get("/sources")
def aicser_sources(
    principal: Reader,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    tags: Annotated[str | None, Query(description="Comma-separated; all must match.")] = None,
    created_after: Annotated[QueryDatetime | None, Query()] = None,
    file_type: Annotated[Format | None, Query()] = None,
) -> dict:
    """Aicser's list of data sources, paged by `page` and `limit`."""
    params = PageParams(offset=(page - 1) * limit, limit=limit)
    items, total = service.list_page(
        session=session,
        org_id=principal.org_id,
        page=params,
        tags=[t.strip() for t in tags.split(",") if t.strip()] if tags else None,
        format=file_type,
        created_after=created_after,
    )
    latest = service.latest_versions(session, items)
    return {
        "success": True,
        "data": {
            "data_sources": [_aicser_source(d, latest.get(d.id)) for d in items],
            "pagination": {
                "page": page,
                "limit": limit,
                "total": total,
                "pages": math.ceil(total / limit),
            },
        },
    }


@aicser_router.get("/sources/{dataset_id}/schema")
def aicser_schema(dataset: DatasetDep, session: SessionDep) -> dict:
    """Aicser's schema: per column type, nullable, unique values and samples, and the
    statistics (rows, completeness, data-quality score) once the profile is complete."""
    version = service.get_version(session=session, dataset=dataset)
    schema = service.schema(dataset, version)
    quality = schema["quality"] or {}
    return {
        "success": True,
        "data": {
            "data_source_id": dataset.id,
            "schema": {
                c["name"]: {
                    "type": c["type"],
                    "nullable": c.get("nullable"),
                    "unique_values": c.get("unique"),
                    "sample_values": c.get("samples", []),
                }
                for c in schema["columns"]
            },
            "statistics": {
                "total_rows": version.rows,
                "completeness": quality.get("completeness"),
                "data_quality_score": quality.get("score"),
            },
        },
    }


@aicser_router.delete("/sources/{dataset_id}")
def aicser_delete(
    principal: Writer, dataset: DatasetDep, session: SessionDep, settings: SettingsDep
) -> dict:
    dataset_id = dataset.id
    service.delete(session=session, principal=principal, settings=settings, dataset=dataset)
    return {"success": True, "data": {"data_source_id": dataset_id, "deleted": True}}
