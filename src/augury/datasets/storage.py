"""Where a dataset version's Parquet file lives: the data folder, or an S3 bucket.

Files are written once and never changed: a version's file is created complete (the
reader writes a temporary file in the staging folder, then it is moved into place)
and removed with the version. The staging folder sits on the same file system as the
files so that the move is a rename.

With ``datasets.storage = "s3"`` the bucket holds the files and the data folder keeps a
bounded read cache of them (``<data_dir>/datasets/_cache``). DuckDB reads local files
only here (its ``httpfs`` extension cannot be installed without the network), so a
query or profile reads the cached copy, fetched on first use. Cache entries are whole
files that never change, so a copy is either absent or right, and any process (web
workers, job processes) may fill or trim the cache: the file system is the only shared
state. docs/datasets-storage.md has the operator's side.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from augury import clock
from augury.errors import AuguryError, ServiceUnavailable

if TYPE_CHECKING:
    from augury.config import S3Settings, Settings

log = logging.getLogger("augury.datasets.storage")

# A cached file used this recently may still be open in a query or a profile job; an
# older one that is still open stays readable once removed (POSIX keeps its blocks).
MIN_CACHE_AGE_S = 60.0
# A download's temporary file older than this was left by a process that died.
STALE_PART_S = 3600.0


class StorageUnavailable(ServiceUnavailable):
    """The bucket cannot serve a dataset file: endpoint down, credentials refused, no
    such bucket (503 SERVICE_UNAVAILABLE), or the file gone from it (500 INTERNAL_ERROR:
    trying again will not help); ``details.reason`` names the failure for clients and
    operators.
    """

    default_message = "Dataset storage is unavailable; try again later."

    def __init__(self, message: str, *, reason: str, status: int = 503):
        super().__init__(message, details={"reason": reason})
        self.status = status
        if status == 500:
            self.code = AuguryError.code


def _inside(base: Path, key: str) -> Path:
    path = (base / key).resolve()
    if not path.is_relative_to(base.resolve()):
        raise ValueError(f"storage key {key!r} leaves the datasets folder")
    return path


def _remove_empty_parents(path: Path, levels: int = 2) -> None:
    for parent in list(path.parents)[:levels]:
        try:
            parent.rmdir()  # only when empty
        except OSError:
            break


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
        return _inside(self.root, key)

    def put(self, src: Path, key: str) -> int:
        """Move a finished file into place; returns its size in bytes."""
        dst = self.path(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
        return dst.stat().st_size

    def delete(self, key: str) -> None:
        path = self.path(key)
        path.unlink(missing_ok=True)
        _remove_empty_parents(path)

    def delete_dataset(self, org_id: int, dataset_id: int) -> None:
        shutil.rmtree(self.root / str(org_id) / str(dataset_id), ignore_errors=True)

    def clear_staging(self, older_than_s: float = 3600.0) -> int:
        """Remove what interrupted uploads and exports left behind: staging files not
        touched for ``older_than_s`` (younger ones may be another process's upload in
        flight). Returns how many were removed."""
        folder = self.root / "_staging"
        if not folder.is_dir():
            return 0
        cutoff = time.time() - older_than_s
        removed = 0
        for path in folder.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    if path.is_dir():
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        path.unlink(missing_ok=True)
                    removed += 1
            except FileNotFoundError:  # removed by its owner meanwhile
                continue
        return removed


class S3Storage(LocalStorage):
    """Files in ``s3://<bucket>/<prefix><org>/<dataset>/<uuid>.parquet``, read through a
    cache under ``<data_dir>/datasets/_cache/<key>``.

    It keeps LocalStorage's staging folder (uploads are received and converted locally)
    and its keys, so the datasets service uses either without knowing which.
    """

    def __init__(self, root: Path, cfg: S3Settings, *, min_cache_age_s: float = MIN_CACHE_AGE_S):
        super().__init__(root)
        self.cfg = cfg
        self.bucket = cfg.bucket
        self.prefix = cfg.prefix
        self.cache = root / "_cache"
        self.min_cache_age_s = min_cache_age_s

    @property
    def client(self) -> Any:
        return _client(
            os.getpid(),
            self.cfg.endpoint_url,
            self.cfg.region,
            self.cfg.access_key_id,
            self.cfg.secret_access_key,
            self.cfg.max_attempts,
        )

    def object_key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def path(self, key: str) -> Path:
        """The cached copy of ``key``, downloaded first when absent."""
        dst = _inside(self.cache, key)
        try:
            self._touch(dst)
            return dst
        except FileNotFoundError:
            pass
        dst.parent.mkdir(parents=True, exist_ok=True)
        part = dst.with_name(f"{dst.name}.{uuid.uuid4().hex}.part")
        try:
            with self._errors("read", key):
                self.client.download_file(self.bucket, self.object_key(key), str(part))
            # A rename: a concurrent reader sees no file or the whole file, never a part.
            os.replace(part, dst)
        except BaseException:
            part.unlink(missing_ok=True)
            _remove_empty_parents(part)
            raise
        self._touch(dst)
        self.trim_cache()
        return dst

    def put(self, src: Path, key: str) -> int:
        """Upload a finished file (multipart when big) and keep it as the cached copy, so
        the profile job and the first queries do not fetch it again; returns its size."""
        dst = _inside(self.cache, key)
        size = src.stat().st_size
        with self._errors("write", key):
            self.client.upload_file(str(src), self.bucket, self.object_key(key))
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
        self._touch(dst)
        self.trim_cache()
        return size

    def delete(self, key: str) -> None:
        with self._errors("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        cached = _inside(self.cache, key)
        cached.unlink(missing_ok=True)
        _remove_empty_parents(cached)

    def delete_dataset(self, org_id: int, dataset_id: int) -> None:
        """Remove every object under the dataset's prefix, including any a crashed upload
        left behind, and its cached copies."""
        folder = f"{org_id}/{dataset_id}/"
        with self._errors("delete", folder):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.object_key(folder)
            )
            for page in pages:
                objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if objects:  # a page holds at most 1,000 keys, as delete_objects takes
                    self.client.delete_objects(
                        Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}
                    )
        shutil.rmtree(self.cache / str(org_id) / str(dataset_id), ignore_errors=True)
        _remove_empty_parents(self.cache / str(org_id) / str(dataset_id), levels=1)

    def trim_cache(self) -> None:
        """Remove the least recently used cached files until the cache fits
        ``cache_max_bytes``, sparing those used within ``min_cache_age_s``."""
        now = clock.now().timestamp()
        files: list[tuple[float, int, Path]] = []
        for path in self.cache.rglob("*"):
            try:
                st = path.stat()
            except FileNotFoundError:  # removed by another process meanwhile
                continue
            if not path.is_file():
                continue
            if path.suffix != ".parquet":
                if now - st.st_mtime > STALE_PART_S:
                    path.unlink(missing_ok=True)
                continue
            files.append((st.st_mtime, st.st_size, path))
        total = sum(size for _, size, _ in files)
        for used_at, size, path in sorted(files):
            if total <= self.cfg.cache_max_bytes:
                break
            if now - used_at < self.min_cache_age_s:
                break  # sorted: every later file was used more recently still
            try:
                if now - path.stat().st_mtime < self.min_cache_age_s:
                    continue  # used by another process since the scan
            except FileNotFoundError:
                continue
            path.unlink(missing_ok=True)
            _remove_empty_parents(path)
            total -= size

    def _bucket_exists(self) -> bool:
        """Whether the bucket is there: a missing object's HEAD answers a bare 404 that
        does not say whether the object or the whole bucket is missing."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception:
            return False
        return True

    @staticmethod
    def _touch(path: Path) -> None:
        """Mark a cached file as just used: its modification time is its last use, which
        every process sees (access times are often not kept)."""
        at = clock.now().timestamp()
        os.utime(path, (at, at))

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        """S3 and network failures as :class:`StorageUnavailable`, logged in full for the
        operator and named in one sentence for the user."""
        try:
            yield
        except Exception as exc:
            if not _from_s3(exc):
                raise
            error = self._unavailable(exc, action)
            log.warning("S3 %s of %s in bucket %r failed: %r", action, key, self.bucket, exc)
            raise error from exc

    def _unavailable(self, exc: BaseException, action: str) -> StorageUnavailable:
        from botocore.exceptions import ClientError, NoCredentialsError

        where = f"bucket '{self.bucket}'"
        client_error = _cause_of_type(exc, ClientError)
        if client_error is not None:
            code = str(client_error.response.get("Error", {}).get("Code", ""))
            if code == "NoSuchBucket":
                return StorageUnavailable(
                    f"Dataset storage: {where} does not exist.", reason="STORAGE_NO_BUCKET"
                )
            if code in ("404", "NoSuchKey") and not self._bucket_exists():
                return StorageUnavailable(
                    f"Dataset storage: {where} does not exist.", reason="STORAGE_NO_BUCKET"
                )
            if code in ("404", "NoSuchKey"):
                return StorageUnavailable(
                    f"This version's file is missing from {where}.",
                    reason="STORAGE_FILE_MISSING",
                    status=500,
                )
            if code in _REFUSED:
                return StorageUnavailable(
                    f"Dataset storage refused access to {where} ({code}); check its credentials.",
                    reason="STORAGE_ACCESS_DENIED",
                )
            return StorageUnavailable(
                f"Dataset storage failed to {action} a file in {where} ({code or 'error'}).",
                reason="STORAGE_ERROR",
            )
        if _cause_of_type(exc, NoCredentialsError) is not None:
            return StorageUnavailable(
                "Dataset storage has no credentials: set datasets.s3.access_key_id "
                "and secret_access_key, or the environment's.",
                reason="STORAGE_ACCESS_DENIED",
            )
        return StorageUnavailable(
            f"Dataset storage cannot be reached to {action} a file in {where}; try again later.",
            reason="STORAGE_UNREACHABLE",
        )


_REFUSED = frozenset(
    {
        "403",
        "AccessDenied",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
    }
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """An exception and those it was raised from or during (boto3's upload wraps the
    ClientError in a message-only S3UploadFailedError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _cause_of_type(exc: BaseException, kind: type) -> Any:
    return next((e for e in _chain(exc) if isinstance(e, kind)), None)


def _from_s3(exc: BaseException) -> bool:
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return _cause_of_type(exc, BotoCoreError | ClientError | Boto3Error) is not None


@functools.cache
def _client(
    pid: int,
    endpoint_url: str | None,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
    max_attempts: int,
) -> Any:
    """One S3 client per process and configuration: building one takes tens of
    milliseconds and clients are thread-safe, but not safe to share across a fork (hence
    ``pid`` in the key). boto3 is imported here, so local storage never loads it."""
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region,
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        # MinIO, Ceph and most S3-compatible servers address buckets by path only.
        s3={"addressing_style": "path" if endpoint_url else "auto"},
    )
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region,
    )
    return session.client("s3", endpoint_url=endpoint_url, config=config)


def storage_for(settings: Settings) -> LocalStorage:
    root = Path(settings.data_dir) / "datasets"
    if settings.datasets.storage == "s3":
        return S3Storage(root, settings.datasets.s3)
    return LocalStorage(root)


class StagingSweep:
    """A periodic task (run by the stream processor): clear staging leftovers hourly."""

    name = "datasets.staging_sweep"
    every_s = 3600.0

    def __init__(self, settings: Settings):
        self.settings = settings

    def run(self, db: object) -> int:
        return storage_for(self.settings).clear_staging()
