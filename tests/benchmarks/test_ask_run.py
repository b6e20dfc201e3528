"""The Ask benchmark's runner and question set, with a stand-in engine of a few rules.

The stand-in is not augury: it answers three questions it knows, refuses one and
breaks on one, so the runner's tallies, timings and failures can be checked exactly.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from benchmarks.ask import make_questions, run
from benchmarks.ask.score import score_answer


class Declined(Exception):
    code = "QUESTION_NOT_UNDERSTOOD"


@dataclass
class StandIn:
    rows: list[list]
    chart: dict
    words: str = ""


def _stand_in_ask(question: str, table: pd.DataFrame, context: dict) -> StandIn:
    assert context["columns"] == list(table.columns)
    if question == "how many rows?":
        return StandIn([[len(table)]], {"mark": "text"})
    if question == "total b by a":
        sums = table.groupby("a").b.sum()
        return StandIn([[k, v] for k, v in sums.items()], {"mark": {"type": "bar"}})
    if question == "b per a, wrongly":
        return StandIn([["x", 1.0], ["y", 99.0]], {"mark": "line"})
    if question == "what?":
        raise Declined("names nothing in the data")
    raise RuntimeError("boom")


def _engine(loads: list[str]) -> run.Engine:
    def load(path: Path, name: str) -> pd.DataFrame:
        loads.append(name)
        return pd.read_csv(path)

    return run.Engine(
        name="stand-in",
        load_table=load,
        context_of=lambda table: {"columns": list(table.columns)},
        ask=_stand_in_ask,
        refused=(Declined,),
    )


@pytest.fixture
def tiny_set(tmp_path: Path) -> run.QuestionSet:
    (tmp_path / "t.csv").write_text("a,b\nx,1\ny,2\ny,3\n")
    (tmp_path / "u.csv").write_text("a,b\nz,4\n")

    def q(dataset, question, expected, chart=None):
        return {"dataset": dataset, "question": question, "expected": expected, "chart": chart}

    questions = [
        q("t", "how many rows?", {"kind": "scalar", "value": 3.0}),
        q("t", "total b by a", {"kind": "table", "rows": [[["x"], 1.0], [["y"], 5.0]]}, "bar"),
        q("t", "b per a, wrongly", {"kind": "table", "rows": [[["x"], 1.0], [["y"], 5.0]]}, "bar"),
        q("t", "what?", {"kind": "scalar", "value": 1.0}, "line"),
        q("u", "how many rows?", {"kind": "scalar", "value": 1.0}),
        q("u", "crash", {"kind": "scalar", "value": 1.0}),
    ]
    return run.QuestionSet("tiny", questions, tmp_path)


def test_run_set_scores_times_and_keeps_failures(tiny_set):
    loads: list[str] = []
    r = run.run_set(_engine(loads), tiny_set)
    assert loads == ["t", "u"]  # each data set read once
    assert set(r["context_ms"]) == {"t", "u"}
    assert (r["n"], r["passed"], r["accuracy"]) == (6, 3, 0.5)
    assert (r["chart_n"], r["chart_fit"]) == (3, pytest.approx(1 / 3, abs=1e-4))
    assert r["per_dataset"] == {"t": {"n": 4, "passed": 2}, "u": {"n": 2, "passed": 1}}
    assert 0 <= r["p50_ms"] <= r["p95_ms"] <= r["max_ms"]
    failures = {f["question"]: f for f in r["failures"]}
    assert set(failures) == {"b per a, wrongly", "what?", "crash"}
    wrong = failures["b per a, wrongly"]
    assert wrong["answer"] == "no answer row for [['y'], 5.0]"
    assert wrong["chart"] is False
    assert wrong["rows"] == [["x", 1.0], ["y", 99.0]]
    assert failures["what?"]["answer"].startswith("refused (QUESTION_NOT_UNDERSTOOD)")
    assert failures["what?"]["chart"] is False
    assert failures["crash"]["answer"] == "crashed: RuntimeError: boom"


def test_percentile_is_a_measured_value():
    assert run._percentile([5.0, 1.0, 3.0], 50) == 3.0
    assert run._percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert run._percentile([7.0], 95) == 7.0


def test_doc_section_reports_the_targets(tiny_set):
    r = run.run_set(_engine([]), tiny_set)
    result = {
        "dev": r,
        "machine": {"cpu_model": "cpu", "cpus": 2, "python": "3.11", "load_avg_1m": 1.0},
        "date": "2026-12-06 12:00 UTC",
    }
    text = run.doc_section(result, ["dev"])
    assert text.startswith("## Ask\n")
    assert "| dev | 6 | 50.0 % (3/6) | 33.3 % (3 scored) |" in text
    assert "dev accuracy >= 90 %: **not met** (50.0 %)" in text
    assert re.search(r"^\| dev \|.*\| t \d+, u \d+ \|$", text, re.M)  # context time per data set


def test_llm_seam_needs_its_environment(monkeypatch):
    for name in run.LLM_ENV:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="AUGURY_BENCH_LLM_URL"):
        run.llm_engine()


# ---- the question set itself ---------------------------------------------------------


def test_sets_split_by_data_set_with_their_data():
    sets = {s.name: s for s in run.question_sets(here=make_questions.HERE)}
    tune = {q["dataset"] for q in sets["tune"].questions}
    holdout = {q["dataset"] for q in sets["holdout"].questions}
    assert tune == set(make_questions.TUNE)
    assert holdout == set(make_questions.HOLDOUT)
    assert len(sets["tune"].questions) + len(sets["holdout"].questions) >= 150
    for name in tune | holdout:
        assert (make_questions.DATA / f"{name}.csv").exists()
    size = sum(p.stat().st_size for p in make_questions.DATA.glob("*.csv"))
    assert size < make_questions.MAX_DATA_BYTES


def test_question_files_are_what_the_pandas_functions_compute():
    """Nobody edits an expected answer by hand: the files match their functions."""
    for group, names in (("tune", make_questions.TUNE), ("holdout", make_questions.HOLDOUT)):
        for name in names:
            path = make_questions.QUESTIONS / f"{group}-{name}.jsonl"
            written = [json.loads(line) for line in path.read_text().splitlines()]
            assert written == json.loads(json.dumps(make_questions.records(name)))


def _as_answer(expected: dict) -> list[list]:
    """The expected answer as an engine would send it: each key's first alternative."""
    if expected["kind"] == "scalar":
        v = expected["value"]
        return [[v[0] if isinstance(v, list) else v]]
    return [[key[0] for key in row[:-1]] + [row[-1]] for row in expected["rows"]]


def test_every_expected_answer_passes_its_own_scoring():
    sets = run.question_sets(here=make_questions.HERE)
    questions = [q for s in sets for q in s.questions]
    assert questions
    for q in questions:
        assert score_answer(_as_answer(q["expected"]), q["expected"]).passed, q["question"]
        assert q["chart"] in (None, "line", "bar")


def test_a_tie_is_refused_when_the_files_are_made():
    with pytest.raises(ValueError, match="tie"):
        make_questions.top(pd.Series({"a": 2, "b": 1, "c": 1}), 2)
    assert list(make_questions.top(pd.Series({"a": 2, "b": 1, "c": 1}), 1).index) == ["a"]


def test_run_all_asks_a_cold_question_before_timing_the_sets(tiny_set):
    loads: list[str] = []
    result = run.run_all(_engine(loads), [tiny_set])
    assert loads == ["t", "t", "u"]  # the cold start reads the first data set once more
    assert result["cold_start_ms"] >= 0
    assert result["tiny"]["n"] == 6
