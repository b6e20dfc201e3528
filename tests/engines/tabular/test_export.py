"""Exports: each format's bytes read back, CSV injection escaped where spreadsheets look."""

import csv
import datetime as dt
import io
import json

import duckdb
import openpyxl
import pyarrow.parquet as pq
import pytest

from augury.engines.tabular import export as export_module
from augury.engines.tabular.errors import TableError
from augury.engines.tabular.export import (
    FORMATS,
    Dataset,
    Sql,
    content_type,
    export,
    extension,
)
from augury.engines.tabular.query import ColumnSpec, Filter, Query, run_query

NAMES = ["=cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "plain, with comma", "\tTab", "+1", None]

SPECS = [
    ColumnSpec("id", "BIGINT", "integer"),
    ColumnSpec("name", "VARCHAR", "string"),
    ColumnSpec("amount", "DOUBLE", "float"),
    ColumnSpec("day", "VARCHAR", "date", "strptime:%d/%m/%Y"),
]


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "data.parquet"
    values = ", ".join(
        f"({i}, {'NULL' if n is None else duckdb_literal(n)}, {i - 3.5}, '0{i + 1}/02/2024')"
        for i, n in enumerate(NAMES)
    )
    duckdb.sql(
        "SELECT id::BIGINT AS id, name, amount::DOUBLE AS amount, day"
        f" FROM (VALUES {values}) t(id, name, amount, day)"
    ).write_parquet(str(out))
    return out


def duckdb_literal(text):
    return "'" + text.replace("'", "''") + "'"


def read_csv(file):
    return list(csv.reader(io.StringIO(file.read_text(encoding="utf-8"))))


def test_csv_escapes_formulas_in_text_and_keeps_numbers(path, tmp_path):
    dst = tmp_path / "out.csv"
    assert export(Dataset(path, SPECS), dst, "csv") == len(NAMES)
    rows = read_csv(dst)
    assert rows[0] == ["id", "name", "amount", "day"]
    assert [r[1] for r in rows[1:]] == [
        "'=cmd|' /C calc'!A0",
        "'@SUM(1)",
        "'-2+3",
        "plain, with comma",
        "'\tTab",
        "'+1",
        "",
    ]
    assert [r[2] for r in rows[1:4]] == ["-3.5", "-2.5", "-1.5"]
    assert rows[1][3] == "2024-02-01"


def test_json_is_an_array_with_values_as_they_are(path, tmp_path):
    dst = tmp_path / "out.json"
    export(Dataset(path, SPECS), dst, "json")
    records = json.loads(dst.read_bytes())
    assert [r["name"] for r in records] == NAMES
    assert records[0] == {"id": 0, "name": NAMES[0], "amount": -3.5, "day": "2024-02-01"}


def test_jsonl_is_one_object_per_line(path, tmp_path):
    dst = tmp_path / "out.jsonl"
    export(Dataset(path, SPECS), dst, "jsonl")
    lines = dst.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(NAMES)
    assert json.loads(lines[2]) == {"id": 2, "name": "-2+3", "amount": -1.5, "day": "2024-02-03"}


def test_parquet_keeps_the_logical_types(path, tmp_path):
    dst = tmp_path / "out.parquet"
    export(Dataset(path, SPECS), dst, "parquet")
    table = pq.read_table(dst)
    assert str(table.schema.field("day").type) == "date32[day]"
    assert table.column("name").to_pylist() == NAMES
    assert table.column("day").to_pylist()[0] == dt.date(2024, 2, 1)


def test_xlsx_escapes_text_and_keeps_numbers_and_dates(path, tmp_path):
    dst = tmp_path / "out.xlsx"
    assert export(Dataset(path, SPECS), dst, "xlsx") == len(NAMES)
    sheet = openpyxl.load_workbook(dst, read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["id", "name", "amount", "day"]
    assert rows[1] == [0, "'=cmd|' /C calc'!A0", -3.5, dt.datetime(2024, 2, 1)]
    assert [r[1] for r in rows[2:]] == [
        "'@SUM(1)",
        "'-2+3",
        "plain, with comma",
        "'\tTab",
        "'+1",
        None,
    ]


def test_a_query_exports_all_its_rows_in_its_order(path, tmp_path):
    dst = tmp_path / "q.csv"
    query = Query(select=["id"], filters=[Filter("amount", "ge", 0)], order=[("id", "desc")])
    assert export(Dataset(path, SPECS, query), dst, "csv") == 3
    assert read_csv(dst) == [["id"], ["6"], ["5"], ["4"]]


def test_a_result_exports_with_its_types(path, tmp_path):
    result = run_query(path, SPECS, Query(select=["name", "day"], limit=2))
    dst = tmp_path / "r.parquet"
    assert export(result, dst, "parquet") == 2
    table = pq.read_table(dst)
    assert table.column("day").to_pylist() == [dt.date(2024, 2, 1), dt.date(2024, 2, 2)]
    export(result, tmp_path / "r.csv", "csv")
    assert read_csv(tmp_path / "r.csv")[1] == ["'=cmd|' /C calc'!A0", "2024-02-01"]


def test_a_sandbox_select_exports(path, tmp_path):
    dst = tmp_path / "s.jsonl"
    source = Sql({"data": (path, SPECS)}, "SELECT id, day FROM data WHERE id < 2 ORDER BY id")
    assert export(source, dst, "jsonl") == 2
    assert json.loads(dst.read_text().splitlines()[1]) == {"id": 1, "day": "2024-02-02"}


@pytest.mark.parametrize(
    "sql",
    [
        "COPY data TO '{dir}/stolen.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('{dir}/x.txt')",
    ],
)
def test_a_sandbox_export_still_reads_nothing_else(path, tmp_path, sql):
    (tmp_path / "x.txt").write_text("secret")
    with pytest.raises(TableError) as err:
        export(Sql({"data": (path, SPECS)}, sql.format(dir=tmp_path)), tmp_path / "o.csv", "csv")
    assert err.value.code == "SQL_NOT_ALLOWED"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]


def test_xlsx_refuses_more_rows_than_a_sheet_holds(path, tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "XLSX_MAX_ROWS", 3)
    with pytest.raises(TableError) as err:
        export(Dataset(path, SPECS), tmp_path / "big.xlsx", "xlsx")
    assert err.value.code == "TOO_MANY_ROWS_FOR_XLSX"
    assert err.value.details == {"rows": len(NAMES), "max_rows": 3}
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_leaves_no_file(path, tmp_path):
    with pytest.raises(TableError) as err:
        export(Dataset(path, SPECS, Query(select=["nope"])), tmp_path / "x.csv", "csv")
    assert err.value.code == "UNKNOWN_COLUMN"
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_format_is_refused(path, tmp_path):
    with pytest.raises(TableError) as err:
        export(Dataset(path, SPECS), tmp_path / "x.xml", "xml")
    assert err.value.code == "UNSUPPORTED_EXPORT_FORMAT"


def test_every_format_has_a_content_type_and_extension():
    assert [extension(f) for f in FORMATS] == [".csv", ".json", ".jsonl", ".parquet", ".xlsx"]
    assert content_type("csv") == "text/csv; charset=utf-8"
    assert content_type("xlsx").startswith("application/vnd.openxmlformats")
    assert len({content_type(f) for f in FORMATS}) == len(FORMATS)
