"""``client.datasets`` against a real augury server over HTTP (no mocks)."""

from __future__ import annotations

import io
import itertools
import json
import time

import jwt
import pyarrow.parquet as pq
import pytest

from augury.accounts.security import encode_access_token
from augury.client import (
    AuthenticationError,
    Client,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ValidationError,
)

PASSWORD = "correct horse battery"
SALES = (
    "date,region,product,units,price\n"
    "2024-01-05,North,A,3,9.50\n"
    "2024-01-20,South,B,5,12.00\n"
    "2024-02-03,North,B,2,12.00\n"
    "2024-02-14,East,A,7,9.50\n"
    "2024-03-01,South,A,1,9.50\n"
    "2024-03-09,North,C,4,20.25\n"
)
_seq = itertools.count(1)


@pytest.fixture
def owner(live_server):
    with Client(live_server.url, timeout=30) as c:
        c.signup(f"data{next(_seq)}@example.com", PASSWORD, organization_name="Data")
        yield c


@pytest.fixture
def sales_csv(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(SALES)
    return path


def test_upload_a_file_then_version_it_by_name(owner, sales_csv, tmp_path):
    first = owner.datasets.upload(sales_csv, description="Q1", tags=["sales", "2024"])
    assert first["name"] == "sales" and first["description"] == "Q1"
    assert first["tags"] == ["sales", "2024"]
    version = first["version"]
    assert (version["number"], version["rows"], version["format"]) == (1, 6, "csv")
    assert version["file_name"] == "sales.csv" and version["source_bytes"] == len(SALES)
    names = [c["name"] for c in version["columns"]]
    assert names == ["date", "region", "product", "units", "price"]

    more = tmp_path / "march.tsv"
    more.write_text(SALES.replace(",", "\t") + "2024-03-30\tEast\tC\t6\t20.25\n")
    second = owner.datasets.upload(more, "sales", format="tsv")
    assert second["id"] == first["id"] and second["latest_version"] == 2
    assert second["version"]["rows"] == 7 and second["version"]["format"] == "tsv"
    assert second["version"]["changes"]["from_version"] == 1

    ds = first["id"]
    assert [v["number"] for v in owner.datasets.versions(ds)["items"]] == [2, 1]
    assert [v["number"] for v in owner.datasets.iter_versions(ds, page_size=1)] == [2, 1]
    assert owner.datasets.version(ds, 1)["rows"] == 6
    owner.datasets.delete_version(ds, 1)
    assert owner.datasets.versions(ds)["total"] == 1
    with pytest.raises(NotFoundError):
        owner.datasets.version(ds, 1)
    assert owner.datasets.get(ds)["version"]["number"] == 2


def test_records_list_search_update_and_delete(owner, sales_csv):
    sales = owner.datasets.upload(sales_csv, "Sales 2024", tags=["sales", "finance"])
    owner.datasets.create(
        "staff",
        [{"name": "Ada", "age": 36}, {"name": "Bob", "age": 41}],
        description="people on the team",
        tags=["hr"],
    )
    assert owner.datasets.get(sales["id"])["name"] == "Sales 2024"
    assert [d["name"] for d in owner.datasets.iter(page_size=1)] == ["staff", "Sales 2024"]
    assert owner.datasets.list(limit=1)["has_more"] is True
    assert [d["name"] for d in owner.datasets.list("team")["items"]] == ["staff"]
    assert [d["name"] for d in owner.datasets.iter(tags=["finance"])] == ["Sales 2024"]
    assert [d["name"] for d in owner.datasets.iter(tags=["sales", "finance"])] == ["Sales 2024"]
    assert [d["name"] for d in owner.datasets.iter(tags=["sales", "hr"])] == []
    assert owner.datasets.list(format="csv")["total"] == 1

    changed = owner.datasets.update(sales["id"], description="booked", tags=["q1"])
    assert changed["description"] == "booked" and changed["tags"] == ["q1"]
    owner.datasets.delete(sales["id"])
    with pytest.raises(NotFoundError):
        owner.datasets.get(sales["id"])
    assert [d["name"] for d in owner.datasets.iter()] == ["staff"]


def test_metrics_exported_to_a_dataset(owner):
    now = int(time.time()) // 60 * 60
    owner.metrics.send(
        {"properties": {"what": "cpu", "host": f"h{i % 2}"}, "timestamp": now - 60 * i, "value": i}
        for i in range(10)
    )
    job = owner.datasets.from_metrics("cpu", "what=cpu", now - 3600, now + 60, tags=["m"])
    assert job["type"] == "datasets.from_metrics"
    done = owner.jobs.wait(job["id"], timeout=60)
    assert done["status"] == "succeeded", done
    ds = done["result"]["dataset_id"]
    assert owner.datasets.get(ds)["tags"] == ["m"]
    assert owner.datasets.count(ds, [("host", "eq", "h1")]) == 5
    with pytest.raises(ValidationError):
        owner.datasets.from_metrics("cpu", "what=cpu", now, now - 60)


def test_profile_schema_and_a_type_change(owner, sales_csv):
    ds = owner.datasets.upload(sales_csv)["id"]
    done = owner.datasets.wait_profiled(ds, timeout=60, poll_interval=0.05)
    assert done["version"]["profile_status"] == "complete"

    schema = owner.datasets.schema(ds)
    types = {c["name"]: c["type"] for c in schema["columns"]}
    assert types["date"] == "date" and types["units"] == "integer"
    assert 0 <= schema["quality"]["score"] <= 1
    profile = owner.datasets.profile(ds, version=1)
    units = next(c for c in profile["profile"]["columns"] if c["name"] == "units")
    assert (units["min"], units["max"]) == (1, 7)

    types = {t["type"] for t in owner.datasets.types()}
    assert {"integer", "float", "date", "string"} <= types
    job_before = done["version"]["profile_job_id"]
    changed = owner.datasets.update(ds, column_types={"units": "float"})
    assert changed["column_types"] == {"units": "float"}
    assert changed["version"]["profile_job_id"] != job_before
    owner.datasets.wait_profiled(ds, timeout=60, poll_interval=0.05)
    units = next(c for c in owner.datasets.schema(ds)["columns"] if c["name"] == "units")
    assert units["type"] == "float" and units["override"] == "float"

    again = owner.datasets.reprofile(ds)
    assert again["profile_job_id"] not in (None, job_before)
    assert owner.datasets.update(ds, column_types={"units": None})["column_types"] == {}


def test_preview_query_count_what_if_and_sql(owner, sales_csv):
    ds = owner.datasets.upload(sales_csv)["id"]
    preview = owner.datasets.preview(ds, offset=4, limit=10)
    assert preview["total"] == 6 and preview["columns"][1] == "region"
    assert [row[1] for row in preview["rows"]] == ["South", "North"]

    grouped = owner.datasets.query(
        ds,
        filters=[("units", "ge", 2), {"column": "product", "op": "in", "value": ["A", "B"]}],
        group_by=["region"],
        aggregates=[{"fn": "sum", "column": "units"}, {"fn": "count"}],
        order=[{"column": "region", "direction": "desc"}],
    )
    assert grouped["columns"] == ["region", "sum_units", "count"]
    assert grouped["rows"] == [["South", 5, 1], ["North", 5, 2], ["East", 7, 1]]
    monthly = owner.datasets.query(
        ds,
        bucket={"column": "date", "unit": "month"},
        aggregates=[{"fn": "sum", "column": "units"}],
    )
    assert monthly["rows"] == [["2024-01-01", 8], ["2024-02-01", 9], ["2024-03-01", 5]]

    assert owner.datasets.count(ds) == 6
    assert owner.datasets.count(ds, [("region", "eq", "North")]) == 3
    assert owner.datasets.count(ds, [("region", "is_null")]) == 0

    (whole,) = owner.datasets.what_if(ds, "units", 10)
    assert whole["baseline"] == 22 and whole["altered"] == pytest.approx(24.2)
    by_region = owner.datasets.what_if(ds, "units", -50, "max", group_by=["region"])
    assert [(g["group"]["region"], g["altered"]) for g in by_region] == [
        ("East", 3.5),
        ("North", 2.0),
        ("South", 2.5),
    ]

    answer = owner.datasets.sql(
        "SELECT region, sum(units) AS units FROM sales GROUP BY region ORDER BY units DESC",
        max_rows=2,
    )
    assert answer["rows"] == [["North", 9], ["East", 7]] and answer["truncated"] is True


def test_errors_come_back_as_the_api_answered_them(owner, settings, tmp_path, sales_csv):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ValidationError) as refused:
        owner.datasets.upload(empty)
    assert refused.value.details["reason"] == "EMPTY_FILE"
    with pytest.raises(NotFoundError):
        owner.datasets.get(999_999)
    ds = owner.datasets.upload(sales_csv)["id"]
    with pytest.raises(ValidationError):
        owner.datasets.query(ds, filters=[("no_such_column", "eq", 1)])

    settings.datasets.max_upload_bytes = 1024
    big = tmp_path / "big.csv"
    big.write_text(SALES * 50)
    with pytest.raises(PayloadTooLargeError):
        owner.datasets.upload(big)
    with pytest.raises(FileNotFoundError):
        owner.datasets.upload(tmp_path / "missing.csv")


def test_an_expired_token_is_refreshed_before_a_file_is_sent(owner, settings, sales_csv):
    claims = jwt.decode(owner.access_token, options={"verify_signature": False})
    expired, _ = encode_access_token(
        key=settings.signing_key,
        user_id=int(claims["sub"]),
        org_id=claims["org"],
        session_id=claims["sid"],
        minutes=-1,
    )
    owner.access_token = expired
    assert owner.datasets.upload(sales_csv)["version"]["rows"] == 6
    assert owner.access_token != expired

    owner.access_token, owner.refresh_token = expired, None
    with pytest.raises(AuthenticationError):
        owner.datasets.upload(sales_csv)


def test_an_api_key_uploads_and_reads(live_server, owner, sales_csv):
    key = owner.keys.create("loader", scopes=["read", "write"])["key"]
    with Client(live_server.url, api_key=key) as machine:
        ds = machine.datasets.upload(sales_csv)["id"]
        assert machine.datasets.count(ds) == 6
    reader = owner.keys.create("reader", scopes=["read"])["key"]
    with Client(live_server.url, api_key=reader) as readonly:
        assert readonly.datasets.get(ds)["name"] == "sales"
        with pytest.raises(PermissionDeniedError):
            readonly.datasets.upload(sales_csv)


def test_downloads_and_exports_are_written_as_they_arrive(owner, sales_csv, tmp_path):
    ds = owner.datasets.upload(sales_csv)["id"]
    out = tmp_path / "out"
    out.mkdir()
    owner.datasets.create("sales", [{"date": "2024-04-01", "units": 3}])

    latest = owner.datasets.download(ds, out)
    assert latest == out / "sales-v2.csv"
    assert latest.read_text().splitlines() == ["date,units", "2024-04-01,3"]
    first = owner.datasets.download(ds, out / "q1.parquet", "parquet", version=1)
    assert pq.read_table(first).column("units").to_pylist() == [3, 5, 2, 7, 1, 4]
    buffer = io.BytesIO()
    assert owner.datasets.download(ds, buffer, "jsonl", version=1) is None
    rows = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [r["region"] for r in rows] == ["North", "South", "North", "East", "South", "North"]

    refused = out / "refused.docx"
    with pytest.raises(ValidationError):
        owner.datasets.download(ds, refused, "docx")
    with pytest.raises(NotFoundError):
        owner.datasets.download(999_999, refused)
    assert sorted(p.name for p in out.iterdir()) == ["q1.parquet", "sales-v2.csv"]

    north = owner.datasets.export(
        ds,
        out / "north.csv",
        filters=[("region", "eq", "North")],
        select=["date", "units"],
        order=[{"column": "units", "direction": "desc"}],
        version=1,
    )
    assert north.read_text().splitlines() == [
        "date,units",
        "2024-03-09,4",
        "2024-01-05,3",
        "2024-02-03,2",
    ]
