"""Datasets: every read and write, for the routes, the CLI and jobs alike.

A new version is made in two steps. The file is read and converted to Parquet in the
staging folder (:func:`stage_file`, no database work: it may take a while for a big
file), then :func:`add_version` records it in one transaction: the dataset (created, or
found by name), the version, the ``datasets.profile`` job and the audit entry. The file
moves into place only once the rows are flushed, and is removed if anything fails, so
an upload is all or nothing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import desc, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import Settings
from augury.datasets.models import Dataset, DatasetVersion, JobDataset
from augury.datasets.schemas import DatasetMeta, DatasetUpdate
from augury.datasets.storage import LocalStorage, storage_for
from augury.engines.tabular import read as tabular_read
from augury.engines.tabular.columns import ColumnSpec, logical_of
from augury.engines.tabular.errors import TableError
from augury.engines.tabular.profile import specs as profile_specs
from augury.errors import AuguryError, Conflict, NotFound, ValidationFailed
from augury.events import service as events
from augury.jobs import service as jobs_service
from augury.jobs.models import Job, JobStatus
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate
from augury.store.text import contains

PROFILE_JOB = "datasets.profile"
AUDITED = ("name", "description", "tags", "type_overrides")


def table_error(exc: TableError) -> ValidationFailed:
    """A tabular engine's refusal as the API's 422, its code kept as ``details.reason``."""
    return ValidationFailed(exc.message, details={"reason": exc.code, **exc.details})


@dataclass
class Staged:
    """A converted file waiting in the staging folder for :func:`add_version`."""

    path: Path
    converted: tabular_read.Converted
    source: str
    file_name: str | None
    source_bytes: int

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def stage_file(
    settings: Settings,
    src: Path,
    *,
    file_name: str | None,
    format: str | None = None,
    sheet: str | None = None,
) -> Staged:
    """Convert a received file to Parquet in the staging folder (422 when unreadable)."""
    cfg = settings.datasets
    storage = storage_for(settings)
    dst = storage.staging_file(".parquet")
    try:
        converted = tabular_read.convert(
            src,
            dst,
            format=format,
            filename=file_name,
            sheet=sheet,
            max_columns=cfg.max_columns,
            memory_limit=f"{cfg.memory_limit_mb}MB",
            threads=cfg.threads,
        )
    except TableError as exc:
        dst.unlink(missing_ok=True)
        raise table_error(exc) from exc
    return Staged(dst, converted, "upload", file_name, src.stat().st_size)


def stage_records(settings: Settings, records: list[dict]) -> Staged:
    """A JSON body's records as a staged Parquet file."""
    if len(records) > settings.datasets.max_record_rows:
        raise ValidationFailed(
            f"At most {settings.datasets.max_record_rows} records per request; "
            "upload a file for more.",
            details={"reason": "TOO_MANY_RECORDS"},
        )
    dst = storage_for(settings).staging_file(".parquet")
    try:
        converted = tabular_read.records_to_parquet(records, dst)
    except TableError as exc:
        dst.unlink(missing_ok=True)
        raise table_error(exc) from exc
    return Staged(dst, converted, "records", None, dst.stat().st_size)


def add_version(
    *,
    session: Session,
    principal: Principal,
    settings: Settings,
    meta: DatasetMeta,
    staged: Staged,
    profile: bool = True,
    job_id: int | None = None,
) -> tuple[Dataset, DatasetVersion]:
    """Record a staged file as the next version of the dataset named ``meta.name``
    (created if new), and queue its profile. The staged file is consumed either way.
    ``job_id``: the job that wrote it (recorded as that job's output)."""
    storage = storage_for(settings)
    key: str | None = None
    try:
        dataset = _dataset_for_update(session, principal.org_id, meta.name)
        before = audit.snapshot(dataset, AUDITED) if dataset else None
        if dataset is None:
            dataset = Dataset(
                org_id=principal.org_id,
                name=meta.name,
                description=meta.description,
                tags=meta.tags,
                type_overrides={},
                latest_version=0,
                created_by_id=principal.user_id,
            )
            session.add(dataset)
        else:
            if meta.description:
                dataset.description = meta.description
            if meta.tags:
                dataset.tags = meta.tags
        dataset.latest_version += 1
        dataset.updated_at = clock.now()
        session.flush()
        conv = staged.converted
        key = storage.new_key(principal.org_id, dataset.id)
        version = DatasetVersion(
            org_id=principal.org_id,
            dataset_id=dataset.id,
            number=dataset.latest_version,
            source=staged.source,
            file_name=staged.file_name,
            format=conv.format,
            source_bytes=staged.source_bytes,
            stored_bytes=0,
            storage_key=key,
            rows=conv.rows,
            columns=[{"name": c, "physical": conv.physical[c]} for c in conv.columns],
            read_info=_read_info(conv),
            profile_status="pending",
            created_by_id=principal.user_id,
        )
        session.add(version)
        session.flush()
        version.stored_bytes = storage.put(staged.path, key)
        if job_id is not None:
            link_job(session, job_id, version, "output")
        if profile:
            version.profile_job_id = queue_profile(session, principal, settings, version).id
        audit.record_change(
            session=session,
            principal=principal,
            action="dataset.version.create",
            target_type="dataset",
            target_id=dataset.id,
            before=before,
            after={**audit.snapshot(dataset, AUDITED), "version": version.number},
        )
        events.emit(
            session,
            org_id=principal.org_id,
            type="dataset.uploaded",
            data={
                "dataset_id": dataset.id,
                "name": dataset.name,
                "version": version.number,
                "rows": version.rows,
                "columns": len(version.columns),
                "source": version.source,
                "file_name": version.file_name,
                "job_id": job_id,
                "user_id": principal.user_id,
            },
            user_id=principal.user_id,
        )
        session.flush()
    except IntegrityError as exc:
        _undo(storage, staged, key)
        raise Conflict(
            f"Another upload to '{meta.name}' finished at the same time; try again."
        ) from exc
    except BaseException:
        _undo(storage, staged, key)
        raise
    return dataset, version


def add_job_output(
    *,
    session: Session,
    settings: Settings,
    org_id: int,
    user_id: int | None,
    job_id: int,
    parquet: Path,
    meta: DatasetMeta,
    source: str,
) -> tuple[Dataset, DatasetVersion]:
    """A Parquet file a job wrote, as a new version of the dataset ``meta`` names (made
    when missing), linked to the job as its output; ``parquet`` is removed either way."""
    try:
        staged = stage_file(settings, parquet, file_name=None, format="parquet")
    finally:
        parquet.unlink(missing_ok=True)
    staged.source = source
    return add_version(
        session=session,
        principal=Principal(org_id=org_id, user_id=user_id),
        settings=settings,
        meta=meta,
        staged=staged,
        job_id=job_id,
    )


def _undo(storage: LocalStorage, staged: Staged, key: str | None) -> None:
    """Remove what a failed version left; a storage that fails again here must not hide
    the first error (a stray object is swept when its dataset is deleted)."""
    staged.discard()
    if key is not None:
        with contextlib.suppress(AuguryError):
            storage.delete(key)


def _dataset_for_update(session: Session, org_id: int, name: str) -> Dataset | None:
    stmt = select(Dataset).where(Dataset.org_id == org_id, Dataset.name == name)
    return session.scalars(stmt.with_for_update()).one_or_none()


def _read_info(conv: tabular_read.Converted) -> dict:
    info = {
        "encoding": conv.encoding,
        "delimiter": conv.delimiter,
        "sheet": conv.sheet,
        "renamed": conv.renamed,
        "warnings": conv.warnings,
    }
    return {k: v for k, v in info.items() if v not in (None, {}, [])}


def queue_profile(
    session: Session, principal: Principal, settings: Settings, version: DatasetVersion
) -> Job:
    """A ``datasets.profile`` job for ``version`` (its status back to pending)."""
    version.profile_status = "pending"
    version.profile_error = None
    job = jobs_service.create(
        session=session,
        org_id=principal.org_id,
        type=PROFILE_JOB,
        params={"version_id": version.id},
        user_id=principal.user_id,
        quotas=settings.quotas,
    )
    session.flush()
    link_job(session, job.id, version, "input")
    return job


def settle_profiles(session: Session, versions: list[DatasetVersion]) -> None:
    """Versions whose profile job ended without finishing it (its process killed, the
    server restarted, the job aborted or deleted) show ``failed``, not ``running``
    forever: the job's end is the profile's."""
    waiting = [v for v in versions if v.profile_status in ("pending", "running")]
    if not waiting:
        return
    ids = [v.profile_job_id for v in waiting if v.profile_job_id is not None]
    jobs = {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(ids)))} if ids else {}
    for version in waiting:
        job = jobs.get(version.profile_job_id) if version.profile_job_id else None
        if job is None:
            ended = "deleted"
        elif job.status in (JobStatus.failed, JobStatus.aborted):
            ended = str(job.status)
        else:
            continue  # waiting or running; a succeeded job has written its profile
        version.profile_status = "failed"
        reason = job.error if job is not None and job.error else f"the profile job was {ended}"
        version.profile_error = version.profile_error or reason[:2000]


def link_job(session: Session, job_id: int, version: DatasetVersion, role: str) -> JobDataset:
    """Record that job ``job_id`` read (``input``) or wrote (``output``) ``version``."""
    link = JobDataset(
        org_id=version.org_id,
        job_id=job_id,
        dataset_id=version.dataset_id,
        version=version.number,
        role=role,
    )
    session.add(link)
    return link


def job_data(*, session: Session, job: Job, role: str) -> tuple[Dataset, DatasetVersion] | None:
    """The dataset version a job read or wrote last (``None`` when it has none, or when
    that version was deleted since)."""
    link = session.scalars(
        select(JobDataset)
        .where(JobDataset.job_id == job.id, JobDataset.role == role)
        .order_by(desc(JobDataset.id))
        .limit(1)
    ).first()
    if link is None:
        return None
    dataset = session.get(Dataset, link.dataset_id)
    version = session.scalars(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == link.dataset_id, DatasetVersion.number == link.version
        )
    ).first()
    if dataset is None or version is None:
        return None
    return dataset, version


def job_links(session: Session, job: Job) -> list[JobDataset]:
    return list(
        session.scalars(
            select(JobDataset).where(JobDataset.job_id == job.id).order_by(JobDataset.id)
        )
    )


def get(*, session: Session, org_id: int, dataset_id: int) -> Dataset:
    return get_owned(session, Dataset, org_id, dataset_id, "Dataset")


def get_by_name(*, session: Session, org_id: int, name: str) -> Dataset:
    found = session.scalars(
        select(Dataset).where(Dataset.org_id == org_id, Dataset.name == name)
    ).one_or_none()
    if found is None:
        raise NotFound(f"Dataset '{name}' not found.")
    return found


def get_version(*, session: Session, dataset: Dataset, number: int | None = None) -> DatasetVersion:
    """Version ``number`` of the dataset, or its latest when ``None``."""
    stmt = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)
    if number is None:
        stmt = stmt.order_by(desc(DatasetVersion.number)).limit(1)
    else:
        stmt = stmt.where(DatasetVersion.number == number)
    version = session.scalars(stmt).first()
    if version is None:
        what = "has no version" if number is None else f"has no version {number}"
        raise NotFound(f"Dataset '{dataset.name}' {what}.")
    settle_profiles(session, [version])
    return version


def latest_versions(session: Session, datasets: list[Dataset]) -> dict[int, DatasetVersion]:
    """The newest version of each dataset, in one query (for lists)."""
    if not datasets:
        return {}
    ids = [d.id for d in datasets]
    newest = (
        select(DatasetVersion.dataset_id, func.max(DatasetVersion.number).label("n"))
        .where(DatasetVersion.dataset_id.in_(ids))
        .group_by(DatasetVersion.dataset_id)
        .subquery()
    )
    stmt = select(DatasetVersion).join(
        newest,
        (DatasetVersion.dataset_id == newest.c.dataset_id) & (DatasetVersion.number == newest.c.n),
    )
    found = list(session.scalars(stmt))
    settle_profiles(session, found)
    return {v.dataset_id: v for v in found}


def list_versions(
    *, session: Session, dataset: Dataset, page: PageParams
) -> tuple[list[DatasetVersion], int]:
    stmt = (
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset.id)
        .order_by(desc(DatasetVersion.number))
    )
    items, total = paginate(session, stmt, page)
    settle_profiles(session, items)
    return items, total


def list_page(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    q: str | None = None,
    tags: list[str] | None = None,
    format: str | None = None,
    created_after: datetime | None = None,
) -> tuple[list[Dataset], int]:
    """The organization's datasets, most recently changed first; ``q`` matches the name
    or description, every tag in ``tags`` must be present, ``format`` is the latest
    version's."""
    stmt = select(Dataset).where(Dataset.org_id == org_id)
    if q:
        stmt = stmt.where(
            or_(
                contains(Dataset.name, q),
                contains(Dataset.description, q),
            )
        )
    if created_after is not None:
        stmt = stmt.where(Dataset.created_at >= created_after)
    if format:
        stmt = stmt.where(
            select(DatasetVersion.id)
            .where(
                DatasetVersion.dataset_id == Dataset.id,
                DatasetVersion.number == Dataset.latest_version,
                DatasetVersion.format == format,
            )
            .exists()
        )
    stmt = stmt.order_by(desc(Dataset.updated_at), desc(Dataset.id))
    if not tags:
        return paginate(session, stmt, page)
    # Tags are a JSON list: filtered here, which a list of an organization's datasets
    # (thousands at most) affords, rather than in dialect-specific JSON SQL.
    wanted = set(tags)
    matching = [d for d in session.scalars(stmt) if wanted <= set(d.tags or [])]
    return matching[page.offset : page.offset + page.limit], len(matching)


def update(
    *,
    session: Session,
    principal: Principal,
    settings: Settings,
    dataset: Dataset,
    body: DatasetUpdate,
) -> Dataset:
    """Change the description, tags or column types; a type change profiles the latest
    version again (the override applies to every version through its profile)."""
    before = audit.snapshot(dataset, AUDITED)
    if body.description is not None:
        dataset.description = body.description
    if body.tags is not None:
        dataset.tags = body.tags
    if body.column_types is not None:
        overrides = dict(dataset.type_overrides or {})
        for column, type_ in body.column_types.items():
            if type_ is None:
                overrides.pop(column, None)
            else:
                overrides[column] = type_
        if overrides != (dataset.type_overrides or {}):
            latest = get_version(session=session, dataset=dataset)
            known = {c["name"] for c in latest.columns}
            unknown = sorted(set(body.column_types) - known)
            if unknown:
                raise ValidationFailed(
                    f"No column {unknown[0]!r} in the latest version.",
                    details={"reason": "UNKNOWN_COLUMN", "columns": unknown},
                )
            dataset.type_overrides = overrides
            latest.profile_job_id = queue_profile(session, principal, settings, latest).id
    dataset.updated_at = clock.now()
    audit.record_change(
        session=session,
        principal=principal,
        action="dataset.update",
        target_type="dataset",
        target_id=dataset.id,
        before=before,
        after=audit.snapshot(dataset, AUDITED),
    )
    return dataset


def delete(*, session: Session, principal: Principal, settings: Settings, dataset: Dataset) -> None:
    """Remove the dataset, its versions' rows and their files."""
    keys = list(
        session.scalars(
            select(DatasetVersion.storage_key).where(DatasetVersion.dataset_id == dataset.id)
        )
    )
    audit.record_change(
        session=session,
        principal=principal,
        action="dataset.delete",
        target_type="dataset",
        target_id=dataset.id,
        before={**audit.snapshot(dataset, AUDITED), "versions": len(keys)},
    )
    org_id, dataset_id = dataset.org_id, dataset.id
    session.delete(dataset)
    session.flush()
    storage = storage_for(settings)
    for key in keys:
        storage.delete(key)
    storage.delete_dataset(org_id, dataset_id)


def delete_version(
    *,
    session: Session,
    principal: Principal,
    settings: Settings,
    dataset: Dataset,
    version: DatasetVersion,
) -> None:
    """Remove one version; the last one cannot go (delete the dataset instead)."""
    count = session.scalar(select(func.count()).where(DatasetVersion.dataset_id == dataset.id))
    if count == 1:
        raise Conflict(
            "This is the dataset's only version; delete the dataset instead.",
            details={"reason": "LAST_VERSION"},
        )
    key = version.storage_key
    audit.record_change(
        session=session,
        principal=principal,
        action="dataset.version.delete",
        target_type="dataset",
        target_id=dataset.id,
        before={"version": version.number, "rows": version.rows},
    )
    session.delete(version)
    session.flush()
    dataset.latest_version = (
        session.scalar(
            select(func.max(DatasetVersion.number)).where(DatasetVersion.dataset_id == dataset.id)
        )
        or 0
    )
    dataset.updated_at = clock.now()
    storage_for(settings).delete(key)


def path_of(settings: Settings, version: DatasetVersion) -> Path:
    return storage_for(settings).path(version.storage_key)


def specs(dataset: Dataset, version: DatasetVersion) -> list[ColumnSpec]:
    """How to read the version's columns: from its profile once complete, else the types
    the reader found."""
    if version.profile_status == "complete" and version.profile:
        return profile_specs(version.profile)
    return [
        ColumnSpec(c["name"], c["physical"], logical_of(c["physical"])) for c in version.columns
    ]


def changes(previous: DatasetVersion | None, version: DatasetVersion) -> dict | None:
    """What changed in the columns since the previous version: added, removed, retyped."""
    if previous is None:
        return None
    before = {c["name"]: c["physical"] for c in previous.columns}
    after = {c["name"]: c["physical"] for c in version.columns}
    return {
        "from_version": previous.number,
        "added": [n for n in after if n not in before],
        "removed": [n for n in before if n not in after],
        "retyped": [
            {"column": n, "from": before[n], "to": after[n]}
            for n in after
            if n in before and before[n] != after[n]
        ],
        "rows": version.rows - previous.rows,
    }


def previous_version(session: Session, version: DatasetVersion) -> DatasetVersion | None:
    return session.scalars(
        select(DatasetVersion)
        .where(
            DatasetVersion.dataset_id == version.dataset_id,
            DatasetVersion.number < version.number,
        )
        .order_by(desc(DatasetVersion.number))
        .limit(1)
    ).first()


def schema(dataset: Dataset, version: DatasetVersion) -> dict:
    """Aicser's schema: per column type, nullability, unique values, samples; the
    profile's figures once it is complete, the stored types before."""
    overrides = dataset.type_overrides or {}
    profile = version.profile if version.profile_status == "complete" else None
    if profile:
        columns = [
            {
                "name": c["name"],
                "type": c["type"],
                "physical": c.get("physical", ""),
                "nullable": c.get("nullable"),
                "unique": c.get("unique"),
                "semantic": c.get("semantic"),
                "samples": c.get("samples", []),
                "override": c.get("override"),
            }
            for c in profile["columns"]
        ]
    else:
        columns = [
            {
                "name": c["name"],
                "type": overrides.get(c["name"], logical_of(c["physical"])),
                "physical": c["physical"],
                "override": overrides.get(c["name"]),
            }
            for c in version.columns
        ]
    return {
        "dataset_id": dataset.id,
        "version": version.number,
        "rows": version.rows,
        "profile_status": version.profile_status,
        "columns": columns,
        "quality": profile.get("quality") if profile else None,
    }
