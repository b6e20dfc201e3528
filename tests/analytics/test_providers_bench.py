"""``make bench-ask --llm`` asks through an OpenAI-compatible provider: here the local
server the test starts stands in for the model."""

from __future__ import annotations

import json

import pytest
from benchmarks.ask import run

from augury.analytics import service
from tests.fixtures.llm_server import FakeLLM

QUESTIONS = [
    {
        "dataset": "shop",
        "question": "total units by region",
        "expected": {"kind": "table", "rows": [[["North"], 9.0], [["South"], 6.0]]},
        "chart": "bar",
    },
    {
        "dataset": "shop",
        "question": "how many sales in the south?",
        "expected": {"kind": "scalar", "value": 2.0},
        "chart": None,
    },
    {
        "dataset": "shop",
        "question": "what is the weather?",
        "expected": {"kind": "scalar", "value": 1.0},
        "chart": None,
    },
]


@pytest.fixture
def llm(monkeypatch):
    with FakeLLM() as fake:
        monkeypatch.setenv("AUGURY_BENCH_LLM_URL", fake.url)
        monkeypatch.setenv("AUGURY_BENCH_LLM_KEY", "sk-bench-key")
        monkeypatch.setenv("AUGURY_BENCH_LLM_MODEL", "bench-model")
        yield fake


def test_the_benchmark_asks_through_the_provider(tmp_path, llm):
    (tmp_path / "shop.csv").write_text("region,units\nNorth,3\nSouth,5\nNorth,6\nSouth,1\n")
    llm.answer(
        "total units by region",
        {"measures": [{"fn": "sum", "column": "units"}], "group_by": ["region"]},
    )
    llm.answer(
        "how many sales in the south?",
        {
            "measures": [{"fn": "count"}],
            "filters": [{"column": "region", "op": "eq", "value": "South"}],
        },
    )
    llm.answer("what is the weather?", {"error": "no weather column"})

    engine = run.llm_engine()
    result = run.run_set(engine, run.QuestionSet("mini", QUESTIONS, tmp_path))

    assert (result["n"], result["passed"], result["chart_fit"]) == (3, 2, 1.0)
    (failure,) = result["failures"]
    assert failure["question"] == "what is the weather?"
    assert "the model declined: no weather column" in failure["answer"]
    assert {r.body["model"] for r in llm.requests} == {"bench-model"}
    assert {r.headers["authorization"] for r in llm.requests} == {"Bearer sk-bench-key"}


def test_without_its_settings_the_llm_run_stops(monkeypatch):
    monkeypatch.delenv("AUGURY_BENCH_LLM_URL", raising=False)
    with pytest.raises(SystemExit, match="AUGURY_BENCH_LLM_URL"):
        run.llm_engine()


def test_a_providers_accuracy_is_the_benchmarks_for_its_model(tmp_path):
    path = tmp_path / "ask.json"
    llm_results = {"model": "bench-model", "dev": {"accuracy": 0.8}, "holdout": {"accuracy": 0.7}}
    path.write_text(json.dumps({"dev": {"accuracy": 0.9}, "llm": llm_results}))
    assert service.llm_benchmark_figures(path) == {
        "model": "bench-model",
        "accuracy": 0.7,
        "measured_on": "holdout",
    }
    path.write_text(json.dumps({"dev": {"accuracy": 0.9}}))
    assert service.llm_benchmark_figures.__wrapped__(path) is None
