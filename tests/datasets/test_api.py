"""Datasets over HTTP: upload in each format, versions, schema, preview, queries, the
profile job, deletion, and bad input answered with the error envelope."""

from __future__ import annotations

import io
import json
import time

import pytest

from tests.fixtures.factories import signup

SALES = (
    "date,region,product,units,price\n"
    "2024-01-05,North,A,3,9.50\n"
    "2024-01-20,South,B,5,12.00\n"
    "2024-02-03,North,B,2,12.00\n"
    "2024-02-14,East,A,7,9.50\n"
    "2024-03-01,South,A,1,9.50\n"
    "2024-03-09,North,C,4,20.25\n"
)


@pytest.fixture
def account(runner_client):
    return signup(runner_client, org="Data")


def upload(client, account, content, name="sales", filename="sales.csv", **fields):
    data = {"name": name, **fields}
    files = {
        "file": (filename, io.BytesIO(content if isinstance(content, bytes) else content.encode()))
    }
    return client.post("/api/v1/datasets", data=data, files=files, headers=account.headers)


def wait_profiled(client, account, dataset_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/datasets/{dataset_id}", headers=account.headers).json()
        if body["version"]["profile_status"] in ("complete", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError("the profile job did not finish")


def test_upload_then_preview_schema_profile_and_query(runner_client, account):
    r = upload(runner_client, account, SALES, description="Q1 sales", tags="sales, 2024")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "sales" and body["tags"] == ["sales", "2024"]
    version = body["version"]
    assert version["number"] == 1 and version["rows"] == 6 and version["format"] == "csv"
    assert [c["name"] for c in version["columns"]] == [
        "date",
        "region",
        "product",
        "units",
        "price",
    ]
    ds = body["id"]

    preview = runner_client.get(f"/api/v1/datasets/{ds}/preview?limit=2", headers=account.headers)
    assert preview.status_code == 200, preview.text
    p = preview.json()
    assert p["total"] == 6 and len(p["rows"]) == 2 and p["rows"][0][1] == "North"

    done = wait_profiled(runner_client, account, ds)
    assert done["version"]["profile_status"] == "complete", done
    schema = runner_client.get(f"/api/v1/datasets/{ds}/schema", headers=account.headers).json()
    types = {c["name"]: c["type"] for c in schema["columns"]}
    assert types["date"] == "date" and types["units"] == "integer"
    assert 0 <= schema["quality"]["score"] <= 1

    q = {
        "group_by": ["region"],
        "aggregates": [{"fn": "sum", "column": "units"}, {"fn": "count"}],
        "order": [{"column": "region"}],
    }
    r = runner_client.post(f"/api/v1/datasets/{ds}/query", json=q, headers=account.headers)
    assert r.status_code == 200, r.text
    rows = {row[0]: row[1:] for row in r.json()["rows"]}
    assert rows == {"East": [7, 1], "North": [9, 3], "South": [6, 2]}

    r = runner_client.post(
        f"/api/v1/datasets/{ds}/query",
        json={"filters": [{"column": "region", "op": "eq", "value": "North"}], "count_only": True},
        headers=account.headers,
    )
    assert r.json() == {"count": 3}

    r = runner_client.post(
        "/api/v1/datasets/sql",
        json={
            "sql": "SELECT product, sum(units * price) AS revenue FROM sales GROUP BY 1 ORDER BY 1"
        },
        headers=account.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0] == ["A", pytest.approx(9.5 * 11)]


def test_same_name_makes_versions_with_schema_changes_and_overrides_carry_over(
    runner_client, account
):
    ds = upload(runner_client, account, SALES).json()["id"]
    wait_profiled(runner_client, account, ds)
    r = runner_client.patch(
        f"/api/v1/datasets/{ds}",
        json={"column_types": {"units": "float"}, "tags": ["q1"]},
        headers=account.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["column_types"] == {"units": "float"} and r.json()["tags"] == ["q1"]

    second = (
        "date,product,units,price,discount\n2024-04-02,A,3,9.50,0.1\n2024-04-09,B,6,12.00,0.0\n"
    )
    r = upload(runner_client, account, second)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == ds and r.json()["latest_version"] == 2
    changes = r.json()["version"]["changes"]
    assert changes["from_version"] == 1
    assert changes["added"] == ["discount"] and changes["removed"] == ["region"]

    done = wait_profiled(runner_client, account, ds)
    assert done["version"]["number"] == 2
    schema = runner_client.get(f"/api/v1/datasets/{ds}/schema", headers=account.headers).json()
    units = next(c for c in schema["columns"] if c["name"] == "units")
    assert units["type"] == "float" and units["override"] == "float"

    # the first version stays readable
    old = runner_client.get(f"/api/v1/datasets/{ds}/preview?version=1", headers=account.headers)
    assert old.json()["columns"][1] == "region"
    versions = runner_client.get(f"/api/v1/datasets/{ds}/versions", headers=account.headers)
    assert [v["number"] for v in versions.json()["items"]] == [2, 1]


def test_delete_version_then_dataset_removes_rows_and_files(runner_client, account, settings):
    ds = upload(runner_client, account, SALES).json()["id"]
    upload(runner_client, account, SALES + "2024-04-01,West,D,9,1.00\n")
    files = list((settings.data_dir / "datasets").rglob("*.parquet"))
    assert len(files) == 2
    r = runner_client.delete(f"/api/v1/datasets/{ds}/versions/1", headers=account.headers)
    assert r.status_code == 204
    assert len(list((settings.data_dir / "datasets").rglob("*.parquet"))) == 1
    r = runner_client.delete(f"/api/v1/datasets/{ds}/versions/2", headers=account.headers)
    assert r.status_code == 409 and r.json()["error"]["details"]["reason"] == "LAST_VERSION"
    r = runner_client.delete(f"/api/v1/datasets/{ds}", headers=account.headers)
    assert r.status_code == 204
    assert list((settings.data_dir / "datasets").rglob("*.parquet")) == []
    assert runner_client.get(f"/api/v1/datasets/{ds}", headers=account.headers).status_code == 404


def test_records_body_and_list_filters(runner_client, account):
    r = runner_client.post(
        "/api/v1/datasets/records",
        json={
            "name": "people",
            "tags": ["hr"],
            "description": "staff list",
            "records": [{"name": "Ann", "age": 31}, {"name": "Bo", "age": 45, "city": "Oslo"}],
        },
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"]["rows"] == 2
    assert [c["name"] for c in r.json()["version"]["columns"]] == ["name", "age", "city"]
    upload(runner_client, account, SALES, tags="sales")

    def names(**params):
        r = runner_client.get("/api/v1/datasets", params=params, headers=account.headers)
        assert r.status_code == 200, r.text
        return sorted(d["name"] for d in r.json()["items"])

    assert names() == ["people", "sales"]
    assert names(q="STAFF") == ["people"]
    assert names(tag="sales") == ["sales"]
    assert names(format="csv") == ["sales"]


@pytest.mark.parametrize(
    ("content", "filename", "reason"),
    [
        (b"", "empty.csv", "EMPTY_FILE"),
        (b"a,b,c\n", "header.csv", "NO_ROWS"),
        (b'[{"a": 1}, {"a": ', "broken.json", "INVALID_JSON"),
        (b"PK\x03\x04not really a zip", "book.xlsx", None),
    ],
)
def test_unreadable_files_are_422_with_a_reason_and_store_nothing(
    runner_client, account, settings, content, filename, reason
):
    r = upload(runner_client, account, content, filename=filename)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["message"]
    if reason:
        assert error["details"]["reason"] == reason
    assert runner_client.get("/api/v1/datasets", headers=account.headers).json()["total"] == 0
    leftovers = [p for p in (settings.data_dir / "datasets").rglob("*") if p.is_file()]
    assert leftovers == []


def test_upload_requests_that_are_wrong_in_shape(runner_client, account):
    h = account.headers
    r = runner_client.post("/api/v1/datasets", json={"name": "x"}, headers=h)
    assert r.status_code == 400 and r.json()["error"]["details"]["reason"] == "NOT_MULTIPART"
    r = runner_client.post("/api/v1/datasets", data={"name": "x"}, files={}, headers=h)
    assert r.status_code in (400, 422)
    r = upload(runner_client, account, SALES, name="")
    assert r.status_code == 422
    r = upload(runner_client, account, SALES, format="docx")
    assert r.status_code == 422 and "formats" in r.json()["error"]["details"]


def test_a_path_in_the_file_name_is_only_a_name(runner_client, account, settings):
    r = upload(runner_client, account, SALES, filename="../../../../etc/passwd.csv")
    assert r.status_code == 201, r.text
    assert r.json()["version"]["file_name"] == "passwd.csv"
    stored = [p for p in settings.data_dir.rglob("*") if p.is_file() and "passwd" in p.name]
    assert stored == []


def test_an_upload_over_the_limit_is_413_and_leaves_nothing(tmp_path, db):
    from fastapi.testclient import TestClient

    from augury.config import Settings
    from tests.fixtures.app import make_app

    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db.url,
        secret_key="test-secret-key-0123456789abcdef-0123456789",
        jobs={"enabled": False},
        datasets={"max_upload_bytes": 4096},
    )
    with TestClient(make_app(settings)) as client:
        owner = signup(client, org="Big")
        r = upload(client, owner, "a,b\n" + "1,2\n" * 5000)
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert r.json()["error"]["details"]["max_bytes"] == 4096
        ok = upload(client, owner, "a,b\n1,2\n")  # a small one still goes through
        assert ok.status_code == 201, ok.text
    staged = list((settings.data_dir / "datasets" / "_staging").glob("*"))
    assert staged == []


def test_query_errors_name_the_problem(runner_client, account):
    ds = upload(runner_client, account, SALES).json()["id"]
    h = account.headers
    r = runner_client.post(
        f"/api/v1/datasets/{ds}/query",
        json={"filters": [{"column": "regoin", "op": "eq", "value": "North"}]},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "UNKNOWN_COLUMN"
    assert "region" in r.text
    r = runner_client.post(
        f"/api/v1/datasets/{ds}/query",
        json={"group_by": ["region"], "aggregates": [{"fn": "sum", "column": "product"}]},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "INVALID_AGGREGATE"
    for sql in (
        "DROP TABLE sales",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT 1; SELECT 2",
        "connect",
    ):
        r = runner_client.post("/api/v1/datasets/sql", json={"sql": sql}, headers=h)
        assert r.status_code == 422, (sql, r.text)
        assert r.json()["error"]["details"]["reason"] in ("SQL_NOT_ALLOWED", "SQL_ERROR")


def test_what_if_scales_a_column(runner_client, account):
    ds = upload(runner_client, account, SALES).json()["id"]
    r = runner_client.post(
        f"/api/v1/datasets/{ds}/what-if",
        json={"column": "units", "percent": 10, "aggregate": "sum"},
        headers=account.headers,
    )
    assert r.status_code == 200, r.text
    (entry,) = r.json()["items"]
    assert entry["baseline"] == 22 and entry["altered"] == pytest.approx(24.2)


def test_sql_sees_only_the_organizations_own_datasets(runner_client, account):
    upload(runner_client, account, SALES, name="secret")
    other = signup(runner_client, org="Other")
    r = runner_client.post(
        "/api/v1/datasets/sql", json={"sql": "SELECT count(*) FROM secret"}, headers=other.headers
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "SQL_ERROR"
    mine = runner_client.post(
        "/api/v1/datasets/sql", json={"sql": "SELECT count(*) FROM secret"}, headers=account.headers
    )
    assert mine.json()["rows"] == [[6]]


def test_viewers_read_and_query_but_cannot_change(runner_client, account):
    from tests.fixtures.factories import invite_and_join

    ds = upload(runner_client, account, SALES).json()["id"]
    viewer = invite_and_join(runner_client, account, "viewer")
    h = viewer.headers
    assert runner_client.get(f"/api/v1/datasets/{ds}", headers=h).status_code == 200
    r = runner_client.post(f"/api/v1/datasets/{ds}/query", json={"count_only": True}, headers=h)
    assert r.json() == {"count": 6}
    refused = [
        runner_client.post(
            "/api/v1/datasets", data={"name": "v"}, files={"file": ("v.csv", b"a\n1\n")}, headers=h
        ),
        runner_client.post(
            "/api/v1/datasets/records", json={"name": "v", "records": [{"a": 1}]}, headers=h
        ),
        runner_client.patch(f"/api/v1/datasets/{ds}", json={"description": "x"}, headers=h),
        runner_client.post(f"/api/v1/datasets/{ds}/profile", headers=h),
        runner_client.delete(f"/api/v1/datasets/{ds}/versions/1", headers=h),
        runner_client.delete(f"/api/v1/datasets/{ds}", headers=h),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert runner_client.get("/api/v1/datasets", headers=h).json()["total"] == 1


def test_downloads_in_every_format_escape_formulas_for_spreadsheets(runner_client, account):
    import openpyxl
    import pyarrow.parquet as pq

    content = "name,formula,amount\nAnn,=cmd|' /C calc'!A0,-2\nBo,@SUM(1),3\n"
    ds = upload(runner_client, account, content, name="risky").json()["id"]
    h = account.headers

    def get(fmt):
        r = runner_client.get(f"/api/v1/datasets/{ds}/download?format={fmt}", headers=h)
        assert r.status_code == 200, r.text
        assert f'filename="risky-v1.{fmt}"' in r.headers["content-disposition"]
        return r

    csv_text = get("csv").text.splitlines()
    assert csv_text[0] == "name,formula,amount"
    assert csv_text[1] == "Ann,'=cmd|' /C calc'!A0,-2"
    assert csv_text[2] == "Bo,'@SUM(1),3"
    records = get("json").json()
    assert records[0] == {"name": "Ann", "formula": "=cmd|' /C calc'!A0", "amount": -2}
    lines = [json.loads(line) for line in get("jsonl").text.splitlines()]
    assert [r["name"] for r in lines] == ["Ann", "Bo"]
    table = pq.read_table(io.BytesIO(get("parquet").content))
    assert table.column("amount").to_pylist() == [-2, 3]
    sheet = openpyxl.load_workbook(io.BytesIO(get("xlsx").content)).active
    assert [c.value for c in sheet[2]] == ["Ann", "'=cmd|' /C calc'!A0", -2]

    r = runner_client.post(
        f"/api/v1/datasets/{ds}/query?format=csv",
        json={"filters": [{"column": "amount", "op": "gt", "value": 0}], "select": ["name"]},
        headers=h,
    )
    assert r.status_code == 200 and r.text.splitlines() == ["name", "Bo"]
    r = runner_client.get(f"/api/v1/datasets/{ds}/download?format=docx", headers=h)
    assert r.status_code == 422


def test_aicser_data_management_paths_and_envelope(runner_client, account):
    h = account.headers
    files = {"file": ("sales_2024.csv", SALES.encode())}
    data = {
        "data_source_name": "sales_data_2024",
        "description": "Monthly sales data for 2024",
        "tags": '["sales", "monthly", "2024"]',
    }
    r = runner_client.post("/api/v1/data/upload", data=data, files=files, headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["success"] is True
    up = body["data"]
    assert up["name"] == "sales_data_2024" and up["file_name"] == "sales_2024.csv"
    assert up["rows"] == 6 and up["columns"] == 5 and up["file_size"] == len(SALES)
    assert up["schema"]["units"] == "integer" and up["schema"]["region"] == "string"
    sid = up["data_source_id"]

    listed = runner_client.get("/api/v1/data/sources?tags=sales,2024&limit=1", headers=h).json()
    assert listed["data"]["pagination"] == {"page": 1, "limit": 1, "total": 1, "pages": 1}
    assert listed["data"]["data_sources"][0]["tags"] == ["sales", "monthly", "2024"]
    none = runner_client.get("/api/v1/data/sources?tags=nope", headers=h).json()
    assert none["data"]["data_sources"] == [] and none["data"]["pagination"]["pages"] == 0

    wait_profiled(runner_client, account, sid)
    schema = runner_client.get(f"/api/v1/data/sources/{sid}/schema", headers=h).json()["data"]
    assert schema["schema"]["region"]["unique_values"] == 3
    assert schema["schema"]["date"]["type"] == "date"
    stats = schema["statistics"]
    assert stats["total_rows"] == 6 and stats["completeness"] == 1.0
    assert 0 < stats["data_quality_score"] <= 1

    other = signup(runner_client, org="Elsewhere")
    assert (
        runner_client.delete(f"/api/v1/data/sources/{sid}", headers=other.headers).status_code
        == 404
    )
    r = runner_client.delete(f"/api/v1/data/sources/{sid}", headers=h)
    assert r.json() == {"success": True, "data": {"data_source_id": sid, "deleted": True}}
    assert runner_client.get(f"/api/v1/datasets/{sid}", headers=h).status_code == 404


def _xlsx_bytes() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(["region", "units", "total"])
    sheet.append(["North", 3, "=B2*2"])
    sheet.append(["South", 5, "=B3*2"])
    notes = book.create_sheet("Notes")
    notes.append(["note"])
    notes.append(["hello"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _parquet_bytes() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.table({"region": ["North", "South"], "units": [3, 5]}), out)
    return out.getvalue()


FORMATS = {
    "csv": ("sales.csv", b"region,units\nNorth,3\nSouth,5\n"),
    "semicolons": ("sales.csv", b'"region";"units"\n"North";3\n"South";5\n'),
    "tsv": ("sales.tsv", b"region\tunits\nNorth\t3\nSouth\t5\n"),
    "latin-1": ("sales.csv", "region,units\nNörth,3\nSüd,5\n".encode("latin-1")),
    "utf-16": ("sales.csv", "region,units\nNörth,3\nSüd,5\n".encode("utf-16")),
    "xlsx": ("sales.xlsx", None),
    "json": ("sales.json", b'[{"region": "North", "units": 3}, {"region": "South", "units": 5}]'),
    "jsonl": ("sales.jsonl", b'{"region": "North", "units": 3}\n{"region": "South", "units": 5}\n'),
    "parquet": ("sales.parquet", None),
}


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_format_uploads_with_its_rows_and_types(runner_client, account, kind):
    filename, content = FORMATS[kind]
    if kind == "xlsx":
        content = _xlsx_bytes()
    elif kind == "parquet":
        content = _parquet_bytes()
    r = upload(runner_client, account, content, filename=filename)
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    assert version["rows"] == 2
    assert [c["name"] for c in version["columns"]][:2] == ["region", "units"]
    expected_format = {"semicolons": "csv", "latin-1": "csv", "utf-16": "csv"}.get(kind, kind)
    assert version["format"] == expected_format
    rows = runner_client.get(
        f"/api/v1/datasets/{r.json()['id']}/preview", headers=account.headers
    ).json()["rows"]
    assert [row[1] for row in rows] == [3, 5]
    if kind in ("latin-1", "utf-16"):
        assert [row[0] for row in rows] == ["Nörth", "Süd"]
    if kind == "xlsx":  # formulas are never evaluated: no cached value, no number
        assert version["read_info"]["sheet"] == "Orders"
        assert [row[2] for row in rows] == [None, None]


def test_a_named_sheet_and_a_missing_one(runner_client, account):
    content = _xlsx_bytes()
    r = upload(runner_client, account, content, filename="book.xlsx", sheet="Notes")
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    assert version["rows"] == 1 and version["columns"][0]["name"] == "note"
    r = upload(runner_client, account, content, filename="book.xlsx", name="x", sheet="Nope")
    assert r.status_code == 422
    assert r.json()["error"]["details"]["reason"] == "SHEET_NOT_FOUND"


def test_a_profile_whose_job_ended_without_it_shows_failed(runner_client, account, db):
    from sqlalchemy import update

    from augury.datasets.models import DatasetVersion
    from augury.jobs.models import Job

    body = upload(runner_client, account, SALES).json()
    ds, job_id = body["id"], body["version"]["profile_job_id"]
    wait_profiled(runner_client, account, ds)
    with db.session() as s:  # as if the server had died while the job ran
        s.execute(update(DatasetVersion).values(profile_status="running", profile=None))
        s.execute(
            update(Job).where(Job.id == job_id).values(status="failed", error="process killed")
        )
    got = runner_client.get(f"/api/v1/datasets/{ds}", headers=account.headers).json()
    assert got["version"]["profile_status"] == "failed"
    assert got["version"]["profile_error"] == "process killed"
    r = runner_client.post(f"/api/v1/datasets/{ds}/profile", headers=account.headers)
    assert r.status_code == 202 and r.json()["profile_status"] == "pending"
    assert wait_profiled(runner_client, account, ds)["version"]["profile_status"] == "complete"


def test_staging_leftovers_are_swept_but_not_uploads_in_flight(settings):
    import os
    import time

    from augury.datasets.storage import StagingSweep, storage_for

    storage = storage_for(settings)
    old, fresh = storage.staging_file(".upload"), storage.staging_file(".upload")
    old.write_bytes(b"a,b\n1,2\n")
    fresh.write_bytes(b"a,b\n1,2\n")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert StagingSweep(settings).run(None) == 1
    assert not old.exists() and fresh.exists()


def test_wide_ragged_and_oddly_named_files_upload_sensibly(client):
    owner = signup(client, org="Odd files")
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join(str(i) for i in range(10_000))
    r = upload(client, owner, f"{header}\n{row}\n{row}\n", name="wide")
    assert r.status_code == 201, r.text
    assert r.json()["version"]["rows"] == 2 and len(r.json()["version"]["columns"]) == 10_000

    ragged = "a,a,,b\n1,2,3,4\n5,6\n7,8,9,10,11\n"
    r = upload(client, owner, ragged, name="ragged")
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    names = [c["name"] for c in version["columns"]]
    assert names[:4] == ["a", "a_2", "column_3", "b"] and version["rows"] == 3
    assert version["read_info"]["renamed"] and version["read_info"]["warnings"]
    preview = client.get(f"/api/v1/datasets/{r.json()['id']}/preview", headers=owner.headers).json()
    assert preview["rows"][1][:4] == [5, 6, None, None]
