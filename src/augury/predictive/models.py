"""Tables of predictive models: Anaimo's applications, subscriptions and trainings.

An organization subscribes to the applications it uses (:class:`Subscription`: one row
per organization and application, whose status moves between active, paused and
cancelled); only an active subscription lets it train. A :class:`PredictiveModel` is a
named training ("Failures of press HT4"), of one application, whose
:class:`ModelVersion` rows are what each training run produced from one dataset
version: its settings, the columns it used and left out (with the reason), validation
metrics, the report (importance, confusion matrix, threshold, candidates), and the
model file in the datasets' blob storage under its content hash. One version is the
model's current one, which predictions use unless they name another.
:class:`ModelUsage` counts what the models did (rows predicted, what-ifs), for the
summaries.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from augury import clock
from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class Application(enum.StrEnum):
    FORECAST = "forecast"
    FAILURE = "failure"
    CLASSIFICATION = "classification"
    REGRESSION = "regression"


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class VersionStatus(enum.StrEnum):
    QUEUED = "queued"
    TRAINING = "training"
    READY = "ready"
    FAILED = "failed"
    ABORTED = "aborted"


class Subscription(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "model_subscription"
    __table_args__ = (
        UniqueConstraint("org_id", "application", name="uq_model_subscription_org_app"),
    )

    application: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=SubscriptionStatus.ACTIVE)
    subscribed_at: Mapped[datetime] = mapped_column(default=clock.now)
    """When it last became active (created, resumed or subscribed again)."""
    paused_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class PredictiveModel(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "predictive_model"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_predictive_model_org_name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    application: Mapped[str] = mapped_column(String(40))
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    """The version predictions use by default; no foreign key (the two tables would
    reference each other): deleting a version clears it in the same transaction."""
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    """Number of the newest version (versions are numbered 1, 2, ... per model)."""
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class ModelVersion(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "model_version"
    __table_args__ = (
        UniqueConstraint("model_id", "number", name="uq_model_version_model_number"),
        Index("ix_model_version_org_created", "org_id", "created_at"),
    )

    model_id: Mapped[int] = mapped_column(ForeignKey("predictive_model.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=VersionStatus.QUEUED)
    source: Mapped[str] = mapped_column(String(20), default="trained")
    """trained or uploaded."""
    dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset.id", ondelete="SET NULL"), index=True
    )
    dataset_version: Mapped[int | None] = mapped_column(Integer)
    options: Mapped[dict] = mapped_column(default=dict)
    """What training was asked for: target, features, exclusions, costs, budget."""
    task: Mapped[str | None] = mapped_column(String(20))
    """binary, multiclass, regression or forecast, once known."""
    target: Mapped[str] = mapped_column(String(255))
    features: Mapped[list] = mapped_column(default=list)
    excluded: Mapped[list] = mapped_column(default=list)
    """[{"column", "code", "reason"}]: the columns left out and why."""
    metrics: Mapped[dict] = mapped_column(default=dict)
    """Validation: the scheme, per-fold values, mean and spread."""
    report: Mapped[dict] = mapped_column(default=dict)
    """Importance, confusion matrix, threshold, candidates, parameters, warnings."""
    content_hash: Mapped[str | None] = mapped_column(String(80))
    storage_key: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    training_seconds: Mapped[float | None] = mapped_column(Float)
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("job.id", ondelete="SET NULL"), index=True
    )
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class ModelUsage(IdMixin, CreatedMixin, OrgMixin, Base):
    """One use of a model: a synchronous prediction, a what-if or a batch job."""

    __tablename__ = "model_usage"
    __table_args__ = (Index("ix_model_usage_org_created", "org_id", "created_at"),)

    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("predictive_model.id", ondelete="SET NULL"), index=True
    )
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_version.id", ondelete="SET NULL")
    )
    application: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    """predict, batch or what_if."""
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
