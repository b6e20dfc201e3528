"""Tables of datasets: a named table of an organization and its versions.

A dataset is what people name, describe and tag; each upload under its name is a new
:class:`DatasetVersion` holding one Parquet file (its ``storage_key``), the columns the
reader found, and the profile once the ``datasets.profile`` job has computed it. Older
versions stay readable until deleted. The user's column type overrides live on the
dataset, so they apply to every version, the ones to come included.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from augury import clock
from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class Dataset(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_dataset_org_name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list] = mapped_column(default=list)
    type_overrides: Mapped[dict] = mapped_column(default=dict)
    """Column name -> logical type the user chose; kept across versions."""
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    """Number of the newest version (versions are numbered 1, 2, ... per dataset)."""
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class DatasetVersion(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "dataset_version"
    __table_args__ = (
        UniqueConstraint("dataset_id", "number", name="uq_dataset_version_dataset_number"),
        Index("ix_dataset_version_org_created", "org_id", "created_at"),
    )

    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))
    """upload, records, job, metrics or query: where the rows came from."""
    file_name: Mapped[str | None] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(10))
    """The format received: csv, tsv, xlsx, json, jsonl, parquet (records: json)."""
    source_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    storage_key: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int] = mapped_column(BigInteger)
    columns: Mapped[list] = mapped_column()
    """[{"name", "physical"}] as stored in the Parquet file, in order."""
    read_info: Mapped[dict] = mapped_column(default=dict)
    """How the file was read: encoding, delimiter, sheet, renamed columns, warnings."""
    profile_status: Mapped[str] = mapped_column(String(20), default="pending")
    """pending, running, complete or failed."""
    profile: Mapped[dict | None] = mapped_column()
    profile_error: Mapped[str | None] = mapped_column(Text)
    profile_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("job.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class JobDataset(IdMixin, CreatedMixin, OrgMixin, Base):
    """A dataset version a job read (``input``) or wrote (``output``): Anaimo's job data.

    Later trainings and batch analyses record their inputs and outputs here, so a job's
    data can be read back (``GET /api/v1/jobs/{id}/data``) and a dataset shows what used it.
    """

    __tablename__ = "job_dataset"
    __table_args__ = (Index("ix_job_dataset_job_role", "job_id", "role"),)

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(10))
    """input or output."""
