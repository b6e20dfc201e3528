"""The folder and S3 connectors against real files and a real S3 API (no mocks).

Folders are temporary directories made an allowed folder; S3 is moto's server run as a
subprocess, with authentication turned on (an IAM user whose keys the sources use), so
wrong keys are refused as AWS refuses them.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from augury.collectors import connectors
from augury.collectors.connectors import (
    BadResponse,
    ConfigInvalid,
    Limits,
    QueryFailed,
    SourceAuthFailed,
    SourceRefused,
    SourceUnreachable,
    TooManyRows,
    Window,
)
from augury.engines.collect.mapping import TimeDefinition, parse_schema, to_points
from tests.fixtures.app import free_port

WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def allowed(tmp_path) -> Path:
    root = tmp_path / "allowed"
    root.mkdir()
    return root


def _folder(root: Path, path: Path | None = None, **limits):
    config = connectors.check_config("folder", {"path": str(path or root)}, {})
    return connectors.connect("folder", config, {}, Limits(allowed_folders=(root,), **limits))


# --------------------------------------------------------------------------- folder


def test_folder_csv_files_are_read_in_name_order_as_text(allowed):
    _write(allowed / "sales" / "2026-01-02.csv", "ts,city,amount\n1767312000,Oslo,7\n")
    _write(
        allowed / "sales" / "2026-01-01.csv",
        "ts,city,amount\n1767225600,Madrid,2.5\n1767229200,Madrid,01\n",
    )
    _write(allowed / "sales" / "notes.txt", "not data")
    _write(allowed / "sales" / ".2026-01-03.csv", "ts,city,amount\n1,hidden,1\n")
    conn = _folder(allowed)
    try:
        frame = conn.read({"path": "sales", "fileNamePattern": "*.csv"}, WINDOW, limit=100)
    finally:
        conn.close()
    assert list(frame.columns) == ["ts", "city", "amount"]
    assert frame.to_dict("records") == [
        {"ts": "1767225600", "city": "Madrid", "amount": "2.5"},
        {"ts": "1767229200", "city": "Madrid", "amount": "01"},  # text: leading zero kept
        {"ts": "1767312000", "city": "Oslo", "amount": "7"},
    ]
    # the mapping reads numbers and times from the text, and keeps the window's rows
    schema = parse_schema(
        {
            "columns": [
                {
                    "name": "amount",
                    "type": "metric",
                    "targetType": "counter",
                    "sourceColumn": "amount",
                },
                {"name": "city", "type": "dimension", "sourceColumn": "city"},
            ]
        }
    )
    day = (int(WINDOW.start.timestamp()), int(WINDOW.start.timestamp()) + 3600)
    out = to_points(
        frame, schema, TimeDefinition("ts", "epoch_seconds"), interval="hourly", window=day
    )
    assert [(p.timestamp, p.value, p.dimensions) for p in out.points] == [
        (1767225600, 2.5, {"city": "Madrid"})
    ]


def test_folder_csv_without_header_and_a_delimiter(allowed):
    _write(allowed / "raw" / "a.txt", "1767225600;ES;3\n1767225660;FR;4\n")
    conn = _folder(allowed)
    stream = {"path": "raw", "fileFormat": "csv", "header": False, "delimiter": ";"}
    frame = conn.read(stream, WINDOW, limit=10)
    assert list(frame.columns) == [0, 1, 2]
    assert frame.values.tolist() == [["1767225600", "ES", "3"], ["1767225660", "FR", "4"]]


def test_folder_jsonl_is_flattened_and_gzip_is_read(allowed):
    rows = [
        {"ts": 1767225600, "geo": {"country": "ES", "city": {"name": "Madrid"}}, "n": 3},
        {"ts": 1767225660, "geo": {"country": "FR"}, "n": 4, "tags": ["a", "b"]},
    ]
    _write(allowed / "events" / "a.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    (allowed / "events" / "b.jsonl.gz").write_bytes(
        gzip.compress(json.dumps({"ts": 1767225720, "geo": {"country": "IT"}, "n": 5}).encode())
    )
    frame = _folder(allowed).read({"path": "events"}, WINDOW, limit=10)
    first = frame.to_dict("records")[0]
    assert pd.isna(first.pop("tags"))  # a key absent from a row is a missing cell
    assert first == {"ts": 1767225600, "geo.country": "ES", "geo.city.name": "Madrid", "n": 3}
    assert frame["tags"].tolist()[1] == '["a", "b"]'
    assert frame["geo.country"].tolist() == ["ES", "FR", "IT"]


def test_folder_parquet_keeps_types(allowed):
    times = pd.to_datetime(["2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"], utc=True)
    table = pa.table({"time": times, "country": ["ES", "FR"], "revenue": [10.5, 20.0]})
    (allowed / "pq").mkdir()
    pq.write_table(table, allowed / "pq" / "part-0.parquet", row_group_size=1)
    frame = _folder(allowed).read({"path": "pq", "fileNamePattern": "*.parquet"}, WINDOW, limit=10)
    assert frame["revenue"].tolist() == [10.5, 20.0]
    assert frame["country"].tolist() == ["ES", "FR"]
    assert list(frame["time"]) == list(times)
    # a preview reads the last rows: from the last row group backwards
    latest = _folder(allowed).read({"path": "pq"}, None, limit=1)
    assert latest["revenue"].tolist() == [20.0]


def test_folder_changed_header_or_bad_file_names_the_file(allowed):
    _write(allowed / "a.csv", "ts,city,amount\n1,Madrid,2\n")
    _write(allowed / "b.csv", "ts,town,amount\n2,Oslo,3\n")
    conn = _folder(allowed)
    with pytest.raises(BadResponse) as err:
        conn.read({"fileNamePattern": "*.csv"}, WINDOW, limit=10)
    assert "b.csv" in err.value.message and "'city'" in err.value.message
    assert err.value.code == "bad_response"

    _write(allowed / "bad" / "x.csv", 'ts,city\n1,"Madrid\n')  # an unterminated quote
    with pytest.raises(BadResponse, match=r"x\.csv cannot be read as csv"):
        conn.read({"path": "bad"}, WINDOW, limit=10)
    _write(allowed / "badjson" / "y.jsonl", '{"a": 1}\n[1, 2]\n')
    with pytest.raises(BadResponse, match=r"y\.jsonl, line 2: a JSON array, not an object"):
        conn.read({"path": "badjson"}, WINDOW, limit=10)
    _write(allowed / "unknown" / "z.dat", "a,b\n")
    with pytest.raises(BadResponse, match=r"z\.dat: the format cannot be told"):
        conn.read({"path": "unknown"}, WINDOW, limit=10)


def test_folder_row_limit_and_the_preview_reads_the_newest_files(allowed):
    for day in (1, 2, 3):
        lines = "".join(f"{day}{i:03d},{day}\n" for i in range(4))
        path = _write(allowed / "d" / f"day{day}.csv", "ts,day\n" + lines)
        stamp = time.time() - 1000 + day * 10
        os.utime(path, (stamp, stamp))
    conn = _folder(allowed)
    assert len(conn.read({"path": "d"}, WINDOW, limit=12)) == 12
    with pytest.raises(TooManyRows, match="more than 11 rows"):
        conn.read({"path": "d"}, WINDOW, limit=11)
    # the operator's limit counts too
    with pytest.raises(TooManyRows):
        _folder(allowed, max_rows=5).read({"path": "d"}, WINDOW, limit=100)
    latest = conn.read({"path": "d"}, None, limit=6)
    assert latest["ts"].tolist() == ["2002", "2003", "3000", "3001", "3002", "3003"]
    # day1 is the newest now
    os.utime(allowed / "d" / "day1.csv", (time.time(), time.time()))
    assert conn.read({"path": "d"}, None, limit=2)["ts"].tolist() == ["1002", "1003"]


def test_folder_probe_lists_files(allowed):
    _write(allowed / "a.csv", "x\n1\n")
    _write(allowed / "sub" / "b.jsonl", "{}\n")
    probe = _folder(allowed).test()
    assert probe.detail == f"folder {allowed}: 2 files"
    assert probe.objects == ["a.csv", "sub/b.jsonl"]


def test_folder_outside_the_allowed_folders_is_refused(tmp_path, allowed):
    outside = tmp_path / "outside"
    _write(outside / "secret.csv", "a\n1\n")
    with pytest.raises(SourceRefused) as err:
        _folder(allowed, outside)
    assert "AUGURY_COLLECT__ALLOWED_FOLDERS" in err.value.message
    assert err.value.code == "source_refused"
    # a symlinked folder inside the allowed one that points outside
    (allowed / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SourceRefused):
        _folder(allowed, allowed / "link")
    with pytest.raises(SourceRefused):
        _folder(allowed).read({"path": "link"}, WINDOW, limit=10)
    # no allowed folders at all
    with pytest.raises(SourceRefused):
        connectors.connect("folder", {"path": str(allowed)}, {}, Limits())
    with pytest.raises(SourceUnreachable, match="does not exist"):
        _folder(allowed, allowed / "missing")


def test_folder_relative_path_is_found_in_the_allowed_folders(tmp_path, allowed):
    """A relative path names a folder inside the allowed ones, the first that holds it
    (the service puts ``<data_dir>/collect`` first), as a SQLite file's path does."""
    second = tmp_path / "second"
    _write(allowed / "exports" / "a.csv", "ts,n\n1767225600,1\n")
    _write(second / "exports" / "b.csv", "ts,n\n1767225600,2\n")
    _write(second / "only-here" / "c.csv", "ts,n\n1767225600,3\n")
    limits = Limits(allowed_folders=(allowed, second))

    def connect(path: str):
        config = connectors.check_config("folder", {"path": path}, {})
        return connectors.connect("folder", config, {}, limits)

    conn = connect("exports")
    assert conn.root == (allowed / "exports").resolve()  # the first allowed folder wins
    assert conn.read({}, WINDOW, limit=10)["n"].tolist() == ["1"]
    assert conn.test().detail == "folder exports: 1 files"
    assert connect("./only-here/").read({}, WINDOW, limit=10)["n"].tolist() == ["3"]
    assert connect(str(second / "exports")).read({}, WINDOW, limit=10)["n"].tolist() == ["2"]
    with pytest.raises(SourceUnreachable, match="missing does not exist"):
        connect("missing")
    # a relative name cannot leave the allowed folders, by '..' or by a link
    (allowed / "out").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(SourceRefused):
        connect("out")
    with pytest.raises(SourceRefused):
        connectors.connect("folder", {"path": "../second"}, {}, limits)  # past the check
    with pytest.raises(SourceRefused):
        connectors.connect("folder", {"path": "exports"}, {}, Limits())


def test_folder_symlinked_file_pointing_outside_is_refused(tmp_path, allowed):
    _write(tmp_path / "passwords.csv", "user,password\nroot,x\n")
    _write(allowed / "data" / "a.csv", "user,password\nbob,y\n")
    (allowed / "data" / "b.csv").symlink_to(tmp_path / "passwords.csv")
    conn = _folder(allowed)
    with pytest.raises(SourceRefused) as err:
        conn.read({"path": "data"}, WINDOW, limit=10)
    assert "b.csv" in err.value.message and "AUGURY_COLLECT__ALLOWED_FOLDERS" in err.value.message
    # a link to a file inside the allowed folders is read
    (allowed / "data" / "b.csv").unlink()
    (allowed / "data" / "b.csv").symlink_to(allowed / "data" / "a.csv")
    assert conn.read({"path": "data"}, WINDOW, limit=10)["user"].tolist() == ["bob", "bob"]


def test_folder_config_and_stream_checks():
    assert connectors.check_config("folder", {"path": "relative/dir/"}, {}) == {
        "path": "relative/dir"
    }
    for path in ("../etc", "a/../../etc", "/data/../etc", "", "a\x00b"):
        with pytest.raises(ConfigInvalid) as err:
            connectors.check_config("folder", {"path": path}, {})
        assert err.value.field == "config.path", path
    with pytest.raises(ConfigInvalid) as err:
        connectors.check_config("folder", {"path": "/data", "host": "x"}, {})
    assert err.value.field == "config.host"
    assert connectors.check_config("folder", {"path": "/data/x/"}, {}) == {"path": "/data/x"}
    assert connectors.secret_fields("folder") == ()
    for stream, field in [
        ({"path": "../etc"}, "path"),
        ({"path": "/etc"}, "path"),
        ({"fileNamePattern": "../*.csv"}, "fileNamePattern"),
        ({"fileFormat": "xlsx"}, "fileFormat"),
        ({"header": "yes"}, "header"),
        ({"delimiter": ",,"}, "delimiter"),
    ]:
        with pytest.raises(ConfigInvalid) as err:
            connectors.check_stream("folder", stream)
        assert err.value.field == field, stream
    connectors.check_stream("s3", {"path": "a/b", "fileNamePattern": "*.csv", "fileFormat": "CSV"})


# --------------------------------------------------------------------------- S3 (moto)

BUCKET = "augury-collect"


class Moto:
    def __init__(self, url: str, key_id: str, key: str):
        self.url = url
        self.key_id = key_id
        self.key = key

    def config(self, **extra) -> dict:
        return connectors.check_config(
            "s3",
            {"bucket": BUCKET, "region": "us-east-1", "endpoint_url": self.url, **extra},
            self.secret(),
        )

    def secret(self, **changed) -> dict:
        return {"access_key_id": self.key_id, "secret_access_key": self.key, **changed}


LOCAL = Limits(allowed_private_networks=("127.0.0.1/32",), timeout_s=10)


@pytest.fixture(scope="module")
def moto():
    """moto's S3 (and IAM) server; authentication on, with one user's keys."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "moto.server exited"
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "moto.server did not start"
                time.sleep(0.1)
        setup = {"endpoint_url": url, "region_name": "us-east-1"}
        iam = boto3.client("iam", aws_access_key_id="x", aws_secret_access_key="y", **setup)
        iam.create_user(UserName="reader")
        iam.put_user_policy(
            UserName="reader",
            PolicyName="s3",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        # from now on every request must be signed with a known key
        assert httpx.post(f"{url}/moto-api/reset-auth", content=b"0").status_code == 200
        s3 = boto3.client(
            "s3",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            **setup,
        )
        s3.create_bucket(Bucket=BUCKET)
        put = {
            "exports/sales/2026-01-01.csv": b"ts,city,amount\n1767225600,Madrid,2\n",
            "exports/sales/2026-01-02.csv": b"ts,city,amount\n1767312000,Oslo,3\n",
            "exports/sales/nested/2026-01-03.csv.gz": gzip.compress(
                b"ts,city,amount\n1767398400,Rome,4\n"
            ),
            "exports/sales/readme.txt": b"hello",
            "exports/sales/.partial.csv": b"ts,city,amount\n1,x,1\n",
            "exports/events/a.jsonl": b'{"ts": 1767225600, "geo": {"country": "ES"}}\n',
            "elsewhere/b.csv": b"ts\n1\n",
        }
        buffer = io.BytesIO()
        pq.write_table(pa.table({"ts": [1767225600, 1767225660], "v": [1.5, 2.5]}), buffer)
        put["exports/metrics/m.parquet"] = buffer.getvalue()
        for name, body in put.items():
            s3.put_object(Bucket=BUCKET, Key=name, Body=body)
        yield Moto(url, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _s3(moto: Moto, limits: Limits = LOCAL, secret: dict | None = None, **config):
    return connectors.connect("s3", moto.config(**config), secret or moto.secret(), limits)


def test_s3_reads_objects_by_prefix_and_pattern(moto):
    conn = _s3(moto, prefix="/exports/")
    try:
        frame = conn.read({"path": "sales", "fileNamePattern": "*.csv"}, WINDOW, limit=10)
        assert frame.to_dict("records") == [
            {"ts": "1767225600", "city": "Madrid", "amount": "2"},
            {"ts": "1767312000", "city": "Oslo", "amount": "3"},
        ]
        # '*' crosses folders; a .gz CSV is read; hidden and other names are not
        wide = conn.read({"path": "sales", "fileNamePattern": "*.csv*"}, WINDOW, limit=10)
        assert wide["city"].tolist() == ["Madrid", "Oslo", "Rome"]
        events = conn.read({"path": "events"}, WINDOW, limit=10)
        assert events.to_dict("records") == [{"ts": 1767225600, "geo.country": "ES"}]
        metrics = conn.read({"path": "metrics", "fileFormat": "parquet"}, WINDOW, limit=10)
        assert metrics["v"].tolist() == [1.5, 2.5]
        with pytest.raises(TooManyRows):
            conn.read({"path": "sales", "fileNamePattern": "*.csv"}, WINDOW, limit=1)
        assert len(conn.read({"path": "sales", "fileNamePattern": "*.csv"}, None, limit=1)) == 1
        probe = conn.test()
    finally:
        conn.close()
    assert probe.detail == f"s3://{BUCKET}/exports/: 6 objects"
    assert probe.objects == [
        "events/a.jsonl",
        "metrics/m.parquet",
        "sales/2026-01-01.csv",
        "sales/2026-01-02.csv",
        "sales/nested/2026-01-03.csv.gz",
        "sales/readme.txt",
    ]


def test_s3_wrong_keys_are_refused_without_showing_them(moto):
    wrong = "wrong-secret-key-1234567890"
    conn = _s3(moto, secret=moto.secret(secret_access_key=wrong))
    for call in (conn.test, lambda: conn.read({"path": "exports/sales"}, WINDOW, limit=10)):
        with pytest.raises(SourceAuthFailed) as err:
            call()
        assert err.value.code == "source_auth"
        assert "secret_access_key" in err.value.message
        assert wrong not in err.value.message and moto.key not in err.value.message
    with pytest.raises(SourceAuthFailed):
        _s3(moto, secret=moto.secret(access_key_id="AKIANOSUCHKEY000")).test()


def test_s3_missing_bucket_and_unreachable_endpoint(moto):
    config = moto.config()
    config["bucket"] = "no-such-bucket"
    conn = connectors.connect("s3", config, moto.secret(), LOCAL)
    with pytest.raises(QueryFailed, match="The bucket no-such-bucket does not exist"):
        conn.test()
    with pytest.raises(QueryFailed, match="does not exist"):
        conn.read({}, WINDOW, limit=10)
    closed = moto.config()
    closed["endpoint_url"] = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SourceUnreachable, match="cannot be reached"):
        connectors.connect("s3", closed, moto.secret(), LOCAL).test()


def test_s3_private_endpoint_needs_the_allow_list(moto):
    with pytest.raises(SourceRefused) as err:
        _s3(moto, limits=Limits(timeout_s=10))
    assert "AUGURY_COLLECT__ALLOWED_PRIVATE_NETWORKS" in err.value.message
    with pytest.raises(SourceRefused):
        _s3(moto, limits=Limits(allowed_private_networks=("10.0.0.0/8",)))
    assert _s3(moto, limits=Limits(allowed_private_networks=("127.0.0.1",))).test().objects


def test_s3_config_checks():
    base = {"bucket": "b-1.x", "endpoint_url": "https://minio.example.com:9000/"}
    assert connectors.check_config("s3", {**base, "prefix": "a/b/"}, {}) == {
        "bucket": "b-1.x",
        "region": "us-east-1",
        "endpoint_url": "https://minio.example.com:9000",
        "prefix": "a/b/",
    }
    assert connectors.secret_fields("s3") == ("access_key_id", "secret_access_key")
    for config, secret, field in [
        ({}, {}, "config.bucket"),
        ({"bucket": "a b"}, {}, "config.bucket"),
        ({**base, "endpoint_url": "ftp://x"}, {}, "config.endpoint_url"),
        ({**base, "endpoint_url": "https://k:s@x"}, {}, "config.endpoint_url"),
        ({**base, "acl": "x"}, {}, "config.acl"),
        (base, {"access_key_id": "AKIA"}, "secret.secret_access_key"),
        (base, {"token": "x"}, "secret.token"),
    ]:
        with pytest.raises(ConfigInvalid) as err:
            connectors.check_config("s3", config, secret)
        assert err.value.field == field, (config, secret)
