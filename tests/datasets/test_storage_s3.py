"""Dataset files in an S3 bucket, against a real S3-compatible server (moto's, on a free
port): upload, the local read cache and its eviction, deletion, S3 failures as
StorageUnavailable, and a dataset's whole life through the HTTP API."""

from __future__ import annotations

import io
import os
import shutil
import uuid
from pathlib import Path

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from augury.config import S3Settings, Settings
from augury.datasets.storage import LocalStorage, S3Storage, StorageUnavailable, storage_for
from tests.datasets.test_api import SALES, upload, wait_profiled
from tests.fixtures.app import free_port, make_app
from tests.fixtures.factories import signup


@pytest.fixture(scope="module")
def s3_url():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3cfg(s3_url) -> S3Settings:
    """A fresh bucket of its own for each test."""
    cfg = S3Settings(
        bucket=f"augury-{uuid.uuid4().hex[:12]}",
        prefix="tenant-a/",
        endpoint_url=s3_url,
        access_key_id="testing",
        secret_access_key="testing",
        max_attempts=1,
    )
    raw_client(cfg).create_bucket(Bucket=cfg.bucket)
    return cfg


def raw_client(cfg: S3Settings):
    """A client of the test's own, to look into the bucket behind the storage's back."""
    return boto3.client(
        "s3",
        endpoint_url=cfg.endpoint_url,
        region_name=cfg.region,
        aws_access_key_id=cfg.access_key_id,
        aws_secret_access_key=cfg.secret_access_key,
    )


def keys(cfg: S3Settings) -> list[str]:
    listed = raw_client(cfg).list_objects_v2(Bucket=cfg.bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def staged(storage: LocalStorage, content: bytes) -> Path:
    src = storage.staging_file(".parquet")
    src.write_bytes(content)
    return src


@pytest.fixture
def storage(tmp_path, s3cfg) -> S3Storage:
    return S3Storage(tmp_path / "datasets", s3cfg)


def test_storage_for_picks_the_bucket_only_when_configured(tmp_path, s3cfg):
    base = {"data_dir": tmp_path, "secret_key": "test-secret-key-0123456789abcdef-0123456789"}
    assert type(storage_for(Settings(**base))) is LocalStorage
    s3 = storage_for(Settings(**base, datasets={"storage": "s3", "s3": s3cfg.model_dump()}))
    assert isinstance(s3, S3Storage) and s3.bucket == s3cfg.bucket
    assert s3.staging.parent == tmp_path / "datasets"


def test_put_uploads_under_the_prefix_and_keeps_a_cached_copy(storage, s3cfg):
    content = os.urandom(3000)
    src = staged(storage, content)
    key = storage.new_key(7, 42)

    assert storage.put(src, key) == 3000
    assert keys(s3cfg) == [f"tenant-a/{key}"]
    body = raw_client(s3cfg).get_object(Bucket=s3cfg.bucket, Key=f"tenant-a/{key}")["Body"]
    assert body.read() == content
    assert not src.exists()  # moved into the cache, not copied

    # The object gone from the bucket, the cached copy still answers: no download.
    raw_client(s3cfg).delete_object(Bucket=s3cfg.bucket, Key=f"tenant-a/{key}")
    path = storage.path(key)
    assert path == storage.cache / key and path.read_bytes() == content


def test_path_downloads_once_then_reads_the_cache(storage, s3cfg, tmp_path):
    content = os.urandom(5000)
    key = storage.new_key(1, 2)
    storage.put(staged(storage, content), key)

    elsewhere = S3Storage(tmp_path / "other-host", s3cfg)  # another machine's empty cache
    path = elsewhere.path(key)
    assert path.read_bytes() == content
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left

    raw_client(s3cfg).delete_object(Bucket=s3cfg.bucket, Key=f"tenant-a/{key}")
    assert elsewhere.path(key).read_bytes() == content  # the second read is local


def test_a_big_file_goes_up_in_parts_and_comes_back_whole(storage, s3cfg, tmp_path):
    content = os.urandom(9 * 1024**2)  # over boto3's 8 MiB multipart threshold
    key = storage.new_key(1, 3)
    storage.put(staged(storage, content), key)
    head = raw_client(s3cfg).head_object(Bucket=s3cfg.bucket, Key=f"tenant-a/{key}")
    assert head["ETag"].strip('"').endswith("-2")  # a multipart upload's ETag: 2 parts
    assert S3Storage(tmp_path / "other-host", s3cfg).path(key).read_bytes() == content


def test_delete_removes_the_object_and_the_cached_copy(storage, s3cfg):
    keep, gone = storage.new_key(1, 2), storage.new_key(1, 2)
    for key in (keep, gone):
        storage.put(staged(storage, b"x" * 100), key)

    storage.delete(gone)

    assert keys(s3cfg) == [f"tenant-a/{keep}"]
    assert not (storage.cache / gone).exists() and (storage.cache / keep).exists()
    storage.delete(gone)  # already gone: nothing to do


def test_delete_dataset_removes_its_objects_only(storage, s3cfg):
    mine = [storage.new_key(1, 1) for _ in range(3)]
    others = [storage.new_key(1, 10), storage.new_key(2, 1)]  # prefixes "1/1" shares
    for key in mine + others:
        storage.put(staged(storage, b"y" * 10), key)
    stray = "tenant-a/1/1/left-by-a-crash.parquet"
    raw_client(s3cfg).put_object(Bucket=s3cfg.bucket, Key=stray, Body=b"z")

    storage.delete_dataset(1, 1)

    assert keys(s3cfg) == sorted(f"tenant-a/{key}" for key in others)
    assert not (storage.cache / "1" / "1").exists()
    assert all((storage.cache / key).exists() for key in others)


def test_the_cache_evicts_the_least_recently_used_beyond_its_size(tmp_path, s3cfg, frozen_clock):
    storage = S3Storage(tmp_path / "d", s3cfg.model_copy(update={"cache_max_bytes": 2500}))
    a, b, c = (storage.new_key(1, 1) for _ in range(3))
    storage.put(staged(storage, b"a" * 1000), a)
    frozen_clock.advance(120)
    storage.put(staged(storage, b"b" * 1000), b)
    frozen_clock.advance(120)
    storage.path(a)  # a is now used more recently than b
    frozen_clock.advance(120)

    storage.put(staged(storage, b"c" * 1000), c)  # 3000 bytes: over 2500

    cached = {p.name for p in storage.cache.rglob("*.parquet")}
    assert cached == {Path(a).name, Path(c).name}
    assert storage.path(b).read_bytes() == b"b" * 1000  # fetched again from the bucket


def test_files_used_within_a_minute_are_never_evicted(tmp_path, s3cfg, frozen_clock):
    storage = S3Storage(tmp_path / "d", s3cfg.model_copy(update={"cache_max_bytes": 0}))
    a, b, c = (storage.new_key(1, 1) for _ in range(3))
    storage.put(staged(storage, b"a" * 100), a)
    frozen_clock.advance(30)
    storage.put(staged(storage, b"b" * 100), b)
    assert (storage.cache / a).exists() and (storage.cache / b).exists()  # over, but in use

    frozen_clock.advance(45)  # a was last used 75 s ago, b 45 s ago
    storage.put(staged(storage, b"c" * 100), c)

    assert not (storage.cache / a).exists()
    assert (storage.cache / b).exists() and (storage.cache / c).exists()


def test_a_dead_download_s_leftover_is_removed_after_an_hour(storage, frozen_clock):
    leftover = storage.cache / "1" / "1" / "abc.parquet.0123.part"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half")
    at = frozen_clock.now().timestamp()
    os.utime(leftover, (at - 30, at - 30))
    storage.trim_cache()
    assert leftover.exists()  # maybe still being written
    os.utime(leftover, (at - 3700, at - 3700))
    storage.trim_cache()
    assert not leftover.exists()


def test_a_missing_bucket_is_a_503_that_names_it(tmp_path, s3cfg):
    cfg = s3cfg.model_copy(update={"bucket": f"absent-{uuid.uuid4().hex[:8]}"})
    storage = S3Storage(tmp_path / "d", cfg)
    src = staged(storage, b"data")
    for call in (
        lambda: storage.put(src, "1/1/a.parquet"),
        lambda: storage.path("1/1/a.parquet"),
        lambda: storage.delete_dataset(1, 1),
    ):
        with pytest.raises(StorageUnavailable) as caught:
            call()
        assert caught.value.status == 503
        assert caught.value.details == {"reason": "STORAGE_NO_BUCKET"}
        assert cfg.bucket in caught.value.message
    assert src.exists()  # a failed put leaves the staged file to the caller's undo
    assert list(storage.cache.rglob("*")) == []


def test_a_missing_file_is_a_500_not_a_download_of_nothing(storage):
    with pytest.raises(StorageUnavailable) as caught:
        storage.path("1/1/never-stored.parquet")
    assert caught.value.status == 500
    assert caught.value.details == {"reason": "STORAGE_FILE_MISSING"}
    assert list(storage.cache.rglob("*.parquet*")) == []


def test_an_endpoint_that_is_down_is_a_503_saying_so(tmp_path, s3cfg):
    down = s3cfg.model_copy(update={"endpoint_url": f"http://127.0.0.1:{free_port()}"})
    storage = S3Storage(tmp_path / "d", down)
    with pytest.raises(StorageUnavailable) as caught:
        storage.path("1/1/a.parquet")
    assert caught.value.status == 503
    assert caught.value.details == {"reason": "STORAGE_UNREACHABLE"}
    assert "cannot be reached" in caught.value.message
    assert "127.0.0.1" not in caught.value.message  # the endpoint is the operator's business


def test_refused_credentials_are_a_503_saying_so(storage, s3cfg, s3_url):
    key = storage.new_key(1, 1)
    # moto checks signatures once told to (its documented /moto-api/reset-auth switch).
    httpx.post(f"{s3_url}/moto-api/reset-auth", content=b"0").raise_for_status()
    try:
        with pytest.raises(StorageUnavailable) as caught:
            storage.put(staged(storage, b"data"), key)
    finally:
        httpx.post(f"{s3_url}/moto-api/reset-auth", content=b"inf").raise_for_status()
    assert caught.value.status == 503
    assert caught.value.details == {"reason": "STORAGE_ACCESS_DENIED"}
    assert "credentials" in caught.value.message
    assert "testing" not in caught.value.message


def s3_settings(tmp_path, db, monkeypatch, cfg: S3Settings, **jobs) -> Settings:
    """Settings with the bucket given as a deployment gives it, in ``AUGURY_DATASETS__*``
    variables, which the job processes (the profile) inherit."""
    monkeypatch.setenv("AUGURY_DATASETS__STORAGE", "s3")
    for name, value in cfg.model_dump(exclude_none=True).items():
        monkeypatch.setenv(f"AUGURY_DATASETS__S3__{name.upper()}", str(value))
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db.url,
        secret_key="test-secret-key-0123456789abcdef-0123456789",
        jobs={"poll_interval_s": 0.1, "concurrency": 2, **jobs},
        ratelimit={"default_per_minute": 100_000, "auth_per_minute": 100_000},
    )
    assert settings.datasets.s3 == cfg
    return settings


def test_a_dataset_s_life_over_http_with_its_files_in_the_bucket(tmp_path, db, monkeypatch, s3cfg):
    settings = s3_settings(tmp_path, db, monkeypatch, s3cfg)
    cache = settings.data_dir / "datasets" / "_cache"
    with TestClient(make_app(settings, run_jobs=True)) as client:
        owner = signup(client, org="Cloud")
        r = upload(client, owner, SALES)
        assert r.status_code == 201, r.text
        ds = r.json()["id"]
        [stored] = keys(s3cfg)
        assert stored.startswith(f"tenant-a/{owner.org_id}/{ds}/")

        done = wait_profiled(client, owner, ds)
        assert done["version"]["profile_status"] == "complete", done["version"].get("profile_error")

        shutil.rmtree(cache)  # as on a second server: the query fetches the file
        q = {"group_by": ["region"], "aggregates": [{"fn": "sum", "column": "units"}]}
        r = client.post(f"/api/v1/datasets/{ds}/query", json=q, headers=owner.headers)
        assert r.status_code == 200, r.text
        assert {row[0]: row[1] for row in r.json()["rows"]} == {"East": 7, "North": 9, "South": 6}
        assert len(list(cache.rglob("*.parquet"))) == 1

        r = client.get(f"/api/v1/datasets/{ds}/download?format=csv", headers=owner.headers)
        assert r.status_code == 200, r.text
        assert r.text.splitlines()[0] == "date,region,product,units,price"
        assert len(r.text.splitlines()) == 7

        r = client.delete(f"/api/v1/datasets/{ds}", headers=owner.headers)
        assert r.status_code == 204, r.text
    assert keys(s3cfg) == []
    assert list(cache.rglob("*.parquet")) == []


def test_an_upload_to_a_missing_bucket_is_a_503_envelope_and_leaves_nothing(
    tmp_path, db, monkeypatch, s3cfg
):
    cfg = s3cfg.model_copy(update={"bucket": f"absent-{uuid.uuid4().hex[:8]}"})
    settings = s3_settings(tmp_path, db, monkeypatch, cfg, enabled=False)
    with TestClient(make_app(settings)) as client:
        owner = signup(client, org="Cloud")
        files = {"file": ("sales.csv", io.BytesIO(SALES.encode()))}
        r = client.post(
            "/api/v1/datasets", data={"name": "sales"}, files=files, headers=owner.headers
        )
        assert r.status_code == 503, r.text
        error = r.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert error["details"] == {"reason": "STORAGE_NO_BUCKET"}
        assert cfg.bucket in error["message"] and "Traceback" not in r.text
        assert client.get("/api/v1/datasets", headers=owner.headers).json()["total"] == 0
    leftovers = [p for p in (settings.data_dir / "datasets").rglob("*") if p.is_file()]
    assert leftovers == []
