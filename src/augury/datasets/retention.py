"""An organization's ``data_retention_days`` applied to its datasets: versions uploaded
before it are deleted (rows and files), and a dataset whose every version is past it
goes whole. A periodic task of the stream processor (hourly)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts import org_settings
from augury.accounts.principal import Principal
from augury.config import Settings
from augury.datasets import service
from augury.datasets.models import Dataset, DatasetVersion
from augury.store.db import Database

log = logging.getLogger("augury.datasets")


def apply_retention(session: Session, settings: Settings) -> int:
    """Delete what every organization's retention has passed; how many versions went."""
    removed = 0
    for org_id, days in org_settings.retention_days(session).items():
        cutoff = clock.now() - timedelta(days=days)
        old = session.execute(
            select(DatasetVersion, Dataset)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(DatasetVersion.org_id == org_id, DatasetVersion.created_at < cutoff)
            .order_by(Dataset.id, DatasetVersion.number)
        ).all()
        # The audit log names no one: the organization's rule did it.
        principal = Principal(org_id=org_id)
        by_dataset: dict[int, list[tuple[DatasetVersion, Dataset]]] = {}
        for version, dataset in old:
            by_dataset.setdefault(dataset.id, []).append((version, dataset))
        for rows in by_dataset.values():
            dataset = rows[0][1]
            kept = session.scalar(
                select(DatasetVersion.id)
                .where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.created_at >= cutoff)
                .limit(1)
            )
            if kept is None:
                service.delete(
                    session=session, principal=principal, settings=settings, dataset=dataset
                )
            else:
                for version, _ in rows:
                    service.delete_version(
                        session=session,
                        principal=principal,
                        settings=settings,
                        dataset=dataset,
                        version=version,
                    )
            removed += len(rows)
    return removed


class DatasetRetention:
    """A periodic task: each organization's ``data_retention_days`` on its datasets."""

    name = "datasets.retention"
    every_s = 3600.0

    def __init__(self, settings: Settings):
        self.settings = settings

    def run(self, db: Database) -> int:
        with db.session() as session:
            removed = apply_retention(session, self.settings)
        if removed:
            log.info("retention deleted %d dataset versions", removed)
        return removed
