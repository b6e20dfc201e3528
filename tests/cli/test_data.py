"""`augury data ...` against a real augury server over HTTP, with an API key."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import shlex

import pytest
import typer
from typer.testing import CliRunner

from augury.cli import app
from augury.cli.data import parse_filter
from augury.client import Client
from tests.fixtures.app import free_port

SALES = (
    "date,region,product,units,price\n"
    "2024-01-05,North,A,3,9.50\n"
    "2024-01-20,South,B,5,12.00\n"
    "2024-02-03,North,B,2,12.00\n"
    "2024-02-14,East,A,7,9.50\n"
    "2024-03-01,South,A,1,9.50\n"
    "2024-03-09,North,C,4,20.25\n"
)
LIST_HEADER = "ID NAME VERSION ROWS COLUMNS FORMAT PROFILE UPDATED TAGS"
_seq = itertools.count(1)


@pytest.fixture
def api_key(live_server):
    with Client(live_server.url) as owner:
        owner.signup(f"cli-data{next(_seq)}@example.com", "correct horse battery")
        return owner.keys.create("cli", scopes=["read", "write"])["key"]


@pytest.fixture
def data(live_server, api_key):
    """Run `augury data ARGS...` against the live server; the exit code is checked."""
    runner = CliRunner()
    env = {"AUGURY_URL": live_server.url, "AUGURY_API_KEY": api_key}

    def run(*args: str, code: int = 0, input: str | None = None, **more_env: str | None):
        result = runner.invoke(app, ["data", *args], env={**env, **more_env}, input=input)
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return run


@pytest.fixture
def sales_csv(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(SALES)
    return path


def upload_id(output: str) -> int:
    return int(re.search(r"^dataset (\d+) ", output, re.M).group(1))


def test_upload_list_show_and_delete(data, sales_csv, tmp_path):
    out = data(
        "upload", str(sales_csv), "--tag", "sales", "--tag", "2024", "--description", "Q1", "--wait"
    ).output
    first = rf"^dataset \d+ 'sales' version 1: 6 rows x 5 columns \(csv, {len(SALES)} B\)$"
    assert re.search(first, out, re.M)
    assert re.search(r"^quality: \d+% \(completeness 100%, 0 duplicate rows\)$", out, re.M)
    ds = upload_id(out)

    more = tmp_path / "more.csv"
    more.write_text("date,units,discount\n2024-04-01,3,0.1\n")
    out = data("upload", str(more), "--name", "sales").output
    assert f"dataset {ds} 'sales' version 2: 1 rows x 3 columns" in out
    assert (
        "\nchanges from version 1: added discount; removed region, product, price; rows -5\n" in out
    )
    assert re.search(r"^profiling: job \d+ ", out, re.M)

    listed = data("list").output.splitlines()
    assert listed[0].split() == LIST_HEADER.split()
    assert listed[1].split()[:6] == [str(ds), "sales", "2", "1", "3", "csv"]
    assert listed[1].endswith("sales,2024")
    assert data("list", "--search", "nothing-like-it").output == "no datasets\n"
    page = json.loads(data("list", "--tag", "2024", "--json").output)
    assert page["total"] == 1 and page["items"][0]["id"] == ds

    shown = data("show", str(ds), "--version", "1").output
    assert f"dataset {ds}: sales\ndescription: Q1\ntags: sales, 2024\n" in shown
    assert f"version 1 of 2: 6 rows, csv sales.csv ({len(SALES)} B," in shown
    columns = {line.split()[0]: line.split()[1] for line in shown.split("\n\n")[1].splitlines()}
    assert columns["COLUMN"] == "TYPE"
    assert (columns["date"], columns["units"]) == ("date", "integer")
    assert "quality: " in shown.split("\n\n")[2]
    both = json.loads(data("show", str(ds), "--json").output)
    assert both["dataset"]["version"]["number"] == 2 and both["schema"]["version"] == 2

    aborted = data("delete", str(ds), input="n\n", code=1).output
    assert f"Delete dataset {ds} 'sales' and its 2 versions?" in aborted
    assert data("delete", str(ds), "--yes").output == f"dataset {ds} 'sales' deleted\n"
    gone = data("show", str(ds), code=2)
    assert gone.stdout == "" and len(gone.stderr.splitlines()) == 1
    assert gone.stderr.startswith("error: ")


def test_query_as_a_table_as_csv_and_in_sql(data, sales_csv):
    ds = str(upload_id(data("upload", str(sales_csv)).output))
    grouped = "--group-by region --agg sum:units --agg count --order region:desc"
    filters = "--filter units>=2 --filter 'product in A,B'"
    table = data("query", ds, *shlex.split(f"{filters} {grouped}")).output.splitlines()
    assert [line.split() for line in table] == [
        ["REGION", "SUM_UNITS", "COUNT"],
        ["South", "5", "1"],
        ["North", "5", "2"],
        ["East", "7", "1"],
        ["(3", "rows)"],
    ]
    assert table[:2] == ["REGION  SUM_UNITS  COUNT", "South" + " " * 11 + "5" + " " * 6 + "1"]

    monthly = "--bucket date:month --agg mean:price --filter 'price between 10,' --csv"
    out = data("query", ds, *shlex.split(monthly)).stdout
    assert list(csv.reader(io.StringIO(out))) == [
        ["date_month", "mean_price"],
        ["2024-01-01", "12.0"],
        ["2024-02-01", "12.0"],
        ["2024-03-01", "20.25"],
    ]
    rows = data("query", ds, "--select", "date", "--order", "units:desc", "--limit", "2").output
    assert rows.splitlines()[1:] == ["2024-02-14", "2024-01-20", "(2 of 6 rows)"]

    sql = 'SELECT region, sum(units) AS units FROM "sales" GROUP BY 1 ORDER BY 2 DESC'
    assert data("query", "--sql", sql, "--limit", "1", "--csv").stdout == "region,units\nNorth,9\n"
    assert "truncated" in data("query", "--sql", sql, "--limit", "1", "--csv").stderr

    unknown = data("query", ds, "--filter", "colour eq red", code=2)
    assert unknown.stderr.startswith("error: ") and len(unknown.stderr.splitlines()) == 1
    assert "colour" in unknown.stderr
    assert "unknown operator" in data("query", ds, "--filter", "units ~ 3", code=2).output
    bad_fn = data("query", ds, "--agg", "total:units", code=2).stderr
    assert bad_fn.startswith("error: aggregates.0.fn: Input should be")
    assert bad_fn.count("Input should") == 1
    assert "give a dataset ID" in data("query", code=2).stderr
    assert "leave out the ID" in data("query", ds, "--sql", sql, code=2).stderr
    refused = data("query", "--sql", "DELETE FROM sales", code=2).stderr
    assert refused.startswith("error: ") and refused.endswith(" (SQL_NOT_ALLOWED)\n")


def test_download_here_to_a_file_and_to_standard_output(data, sales_csv, tmp_path, monkeypatch):
    ds = str(upload_id(data("upload", str(sales_csv)).output))
    monkeypatch.chdir(tmp_path)
    here = data("download", ds).output
    assert re.fullmatch(r"wrote sales-v1\.csv \(\d+ B\)\n", here)
    downloaded = list(csv.reader((tmp_path / "sales-v1.csv").open()))
    assert downloaded[0] == ["date", "region", "product", "units", "price"]
    assert [row[1] for row in downloaded[1:]] == [
        "North",
        "South",
        "North",
        "East",
        "South",
        "North",
    ]

    out = data("download", ds, "--format", "parquet", "-o", "q1.parquet", "--version", "1").output
    assert out.startswith("wrote q1.parquet (") and (tmp_path / "q1.parquet").stat().st_size > 0
    piped = data("download", ds, "--format", "jsonl", "-o", "-").stdout_bytes
    assert [json.loads(line)["units"] for line in piped.splitlines()] == [3, 5, 2, 7, 1, 4]

    refused = data("download", ds, "--format", "docx", code=2)
    assert refused.stderr.startswith("error: ") and len(refused.stderr.splitlines()) == 1
    missing = data("download", ds, "-o", str(tmp_path / "no" / "such" / "dir.csv"), code=2)
    assert missing.stderr.startswith("error: cannot write ")
    assert sorted(p.name for p in tmp_path.glob("*.*")) == [
        "q1.parquet",
        "sales-v1.csv",
        "sales.csv",
    ]


def test_credentials_and_an_unreachable_server(data):
    missing = data("list", code=2, AUGURY_API_KEY=None)
    assert missing.stderr.startswith("error: no API key: pass --api-key or set AUGURY_API_KEY")
    wrong = data("list", "--api-key", "aug_not-a-key", code=2)
    assert wrong.stderr.startswith("error: ") and len(wrong.stderr.splitlines()) == 1
    down = data("list", "--url", f"http://127.0.0.1:{free_port()}", code=1)
    assert down.stderr.startswith("error: cannot reach http://127.0.0.1:")
    assert "'nowhere.csv' does not exist" in data("upload", "nowhere.csv", code=2).output


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("region eq North", {"column": "region", "op": "eq", "value": "North"}),
        ("units >= 3", {"column": "units", "op": "ge", "value": "3"}),
        ("units!=3", {"column": "units", "op": "ne", "value": "3"}),
        ('"unit price" lt 9.5', {"column": "unit price", "op": "lt", "value": "9.5"}),
        ("name contains 'de la'", {"column": "name", "op": "contains", "value": "de la"}),
        ("region NOT_IN a, b", {"column": "region", "op": "not_in", "value": ["a", "b"]}),
        ("price between ,20", {"column": "price", "op": "between", "value": [None, "20"]}),
        ("note is_null", {"column": "note", "op": "is_null"}),
    ],
)
def test_filters_are_read_as_column_op_value(text, wanted):
    assert parse_filter(text) == wanted


@pytest.mark.parametrize(
    "text", ["region", "units ~ 3", "note is_null x", "price between 1", "name eq 'open"]
)
def test_filters_that_are_not_column_op_value(text):
    with pytest.raises(typer.BadParameter):
        parse_filter(text)


def test_the_filter_operators_are_the_engines():
    from augury.cli import data
    from augury.engines.tabular.query import OPS

    assert data._OPS == OPS


def test_ask_a_question_of_a_dataset_on_the_server(data, sales_csv):
    ds = upload_id(data("upload", str(sales_csv), "--name", "sales", "--wait").output)
    out = data("ask", "sales", "total units by region").output
    assert out.splitlines()[0].startswith("total of units by region")
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[3:6]}
    assert rows == {"East": "7", "North": "9", "South": "6"}

    answer = json.loads(data("ask", str(ds), "how many rows", "--json", "--save", "rows").stdout)
    assert answer["rows"] == [[6]] and answer["chart_id"] >= 1

    refused = data("ask", "sales", "average salary", "--json", code=1).stdout
    error = json.loads(refused)["error"]
    assert error["code"] == "QUESTION_NOT_UNDERSTOOD" and "units" in error["details"]["candidates"]
