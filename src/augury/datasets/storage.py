"""Where a dataset version's Parquet file lives.

Files are written once and never changed: a version's file is created complete (the
reader writes a temporary file in the staging folder, then it is moved into place)
and removed with the version. The staging folder sits on the same file system as the
files so that the move is a rename.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


class LocalStorage:
    """Files under ``<data_dir>/datasets/<org>/<dataset>/<uuid>.parquet``."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def staging(self) -> Path:
        """Uploads being received and files being converted; emptied of leftovers at start."""
        path = self.root / "_staging"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def staging_file(self, suffix: str = "") -> Path:
        return self.staging / f"{uuid.uuid4().hex}{suffix}"

    @staticmethod
    def new_key(org_id: int, dataset_id: int) -> str:
        return f"{org_id}/{dataset_id}/{uuid.uuid4().hex}.parquet"

    def path(self, key: str) -> Path:
        """The local file of ``key``, which DuckDB reads."""
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key {key!r} leaves the datasets folder")
        return path

    def put(self, src: Path, key: str) -> int:
        """Move a finished file into place; returns its size in bytes."""
        dst = self.path(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
        return dst.stat().st_size

    def delete(self, key: str) -> None:
        path = self.path(key)
        path.unlink(missing_ok=True)
        for parent in (path.parent, path.parent.parent):
            try:
                parent.rmdir()  # only when empty
            except OSError:
                break

    def delete_dataset(self, org_id: int, dataset_id: int) -> None:
        shutil.rmtree(self.root / str(org_id) / str(dataset_id), ignore_errors=True)

    def clear_staging(self) -> None:
        """Remove what an interrupted upload left behind."""
        shutil.rmtree(self.root / "_staging", ignore_errors=True)


def storage_for(settings) -> LocalStorage:
    return LocalStorage(Path(settings.data_dir) / "datasets")
