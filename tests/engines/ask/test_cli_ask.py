"""`augury ask DATA "QUESTION"`: the issue's JSON shape, a readable answer, and exit
status 1 for a question it cannot answer, 2 for a file it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from augury.cli import app

runner = CliRunner()
PENGUINS = Path(__file__).parent / "data" / "penguins.csv"
KEYS = ["question", "columns", "rows", "chart", "insights", "plan", "confidence"]


def run(*args: str, code: int = 0):
    result = runner.invoke(app, ["ask", *args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def test_json_answer_has_the_issue_keys_first():
    out = json.loads(run(str(PENGUINS), "Average body mass by species", "--json").stdout)
    assert list(out)[: len(KEYS)] == KEYS
    assert out["question"] == "Average body mass by species"
    assert out["columns"] == ["species", "mean_body_mass_g"]
    assert [row[0] for row in out["rows"]] == ["Adelie", "Chinstrap", "Gentoo"]
    assert out["chart"]["mark"]["type"] == "bar" and out["chart_type"] == "bar"
    assert out["plan"]["measures"] == [{"fn": "mean", "column": "body_mass_g"}]
    assert out["words"] == "mean of body_mass_g by species"
    assert out["confidence"] == 1.0 and out["engine"] == "offline"
    assert all({"kind", "text", "numbers"} <= set(i) for i in out["insights"])


def test_readable_answer():
    out = run(str(PENGUINS), "How many Adelie penguins live on Biscoe island?").stdout
    assert "number of rows where species is Adelie and island is Biscoe" in out
    assert "44" in out.splitlines()[3]


def test_a_question_it_cannot_answer_exits_1_with_the_error():
    result = run(str(PENGUINS), "average salary by department", "--json", code=1)
    error = json.loads(result.stdout)["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "QUESTION_NOT_UNDERSTOOD"
    assert error["details"]["reason"] == "no_column"
    assert "body_mass_g" in error["details"]["candidates"]
    plain = run(str(PENGUINS), "", code=1)
    assert "empty" in plain.stderr


def test_an_unreadable_file_exits_2(tmp_path):
    assert "no such file" in run(str(tmp_path / "missing.csv"), "how many?", code=2).stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty" in run(str(empty), "how many?", code=2).stderr
