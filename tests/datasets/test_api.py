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
    files = {"file": (filename, io.BytesIO(content if isinstance(content, bytes) else content.encode()))}
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
    assert [c["name"] for c in version["columns"]] == ["date", "region", "product", "units", "price"]
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
        json={"sql": "SELECT product, sum(units * price) AS revenue FROM sales GROUP BY 1 ORDER BY 1"},
        headers=account.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0] == ["A", pytest.approx(9.5 * 11)]
