"""How datasets appear in the global search (installed by runtime.wiring): their name,
then description, tags and the column names of their latest version."""

from __future__ import annotations

from sqlalchemy import select

from augury.datasets.models import Dataset, DatasetVersion
from augury.search.service import Entry, Searchable, Touch


def _dataset(dataset: Dataset, conn) -> Entry:
    columns = conn.scalar(
        select(DatasetVersion.columns).where(
            DatasetVersion.dataset_id == dataset.id,
            DatasetVersion.number == dataset.latest_version,
        )
    )
    names = [c.get("name", "") for c in columns or [] if isinstance(c, dict)]
    words = [dataset.description or "", ", ".join(dataset.tags or []), ", ".join(names)]
    body = " · ".join(w for w in words if w)
    return Entry(title=dataset.name, body=body, link=f"/data/{dataset.id}")


SEARCHABLE = [
    Searchable(Dataset, "dataset", ("name", "description", "tags", "latest_version"), _dataset)
]

# A new version brings its column names.
TOUCHES = [Touch(DatasetVersion, lambda version: (Dataset, version.dataset_id))]
