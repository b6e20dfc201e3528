"""`augury profile FILE`: a table file's profile, readable or as one JSON object."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from augury.cli import app

runner = CliRunner()

CSV = "id,day,colour,amount\n" + "".join(
    f"{i},{i % 28 + 1:02d}/03/2024,{'red' if i % 3 else 'blue'},{i * 1.25:.2f}\n"
    for i in range(1, 101)
)


def run(*args, code: int = 0):
    result = runner.invoke(app, ["profile", *map(str, args)])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def test_json_is_one_object_with_the_measured_shape(tmp_path):
    src = tmp_path / "sales.csv"
    src.write_text(CSV)
    out = json.loads(run(src, "--json").stdout)
    assert out["rows"] == 100
    assert set(out) == {"rows", "columns", "quality"}
    names = [(c["name"], c["type"]) for c in out["columns"]]
    assert names == [("id", "integer"), ("day", "date"), ("colour", "category"),
                     ("amount", "decimal")]  # fmt: skip
    for column in out["columns"]:
        assert {"name", "type", "nullable", "unique", "semantic", "top", "histogram"} <= set(column)
    assert out["columns"][1]["parse"] == "strptime:%d/%m/%Y"
    assert 0 <= out["quality"]["score"] <= 1 and isinstance(out["quality"]["issues"], list)


def test_type_overrides_apply(tmp_path):
    src = tmp_path / "sales.csv"
    src.write_text(CSV)
    out = json.loads(run(src, "--json", "--type", "id=string", "--type", "amount=float").stdout)
    types = {c["name"]: (c["type"], c["override"]) for c in out["columns"]}
    assert types["id"] == ("string", "string")
    assert types["amount"] == ("float", "float")
    assert types["day"] == ("date", None)


def test_readable_table_lists_columns_score_and_issues(tmp_path):
    src = tmp_path / "t.parquet"
    pq.write_table(pa.table({"n": [1, 2, 2, None], "s": ["a", "b", "b", "c"]}), src)
    text = run(src).stdout
    lines = text.splitlines()
    assert lines[0].split() == ["column", "type", "nulls", "unique", "semantic", "summary"]
    assert lines[1].split()[:4] == ["n", "integer", "25.0%", "2"]
    assert "quality score" in text and "(table): 1 rows (25.0%) repeat" in text


def test_sheet_of_a_workbook(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "notes"
    sheet = book.create_sheet("data")
    sheet.append(["when", "value"])
    for i in range(10):
        sheet.append([f"2024-01-{i + 1:02d}", i])
    book.save(tmp_path / "book.xlsx")
    out = json.loads(run(tmp_path / "book.xlsx", "--sheet", "data", "--json").stdout)
    assert [c["name"] for c in out["columns"]] == ["when", "value"]
    assert out["rows"] == 10


def test_bad_input_is_a_one_line_error_with_status_2(tmp_path):
    missing = run(tmp_path / "nope.csv", code=2)
    assert "no such file" in missing.output and len(missing.output.splitlines()) == 1
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert run(empty, code=2).output.startswith("error: ")
    good = tmp_path / "ok.csv"
    good.write_text(CSV)
    bad_type = run(good, "--type", "id=money", code=2)
    assert "Unknown type 'money'" in bad_type.output
    assert "COL=TYPE" in run(good, "--type", "id", code=2).output
