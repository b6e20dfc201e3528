"""Ask: ``python -m benchmarks.ask.run`` (``make bench-ask``).

For each question set (``dev``: the issue's questions over penguins, barley and iris;
``tune`` and ``holdout``: :mod:`.make_questions`'s over the vega data sets) each data set
is loaded once with ``augury.engines.ask.load_table`` and its context built once with
``context_of`` (timed apart: what a server does once per dataset version), then every
question is asked with ``augury.engines.ask.ask`` and timed on its own, and its answer
scored by :mod:`.score` (the issue's rules). A question the engine refuses
(``AskError``) or fails on counts as wrong, with its reason kept.

Writes ``benchmarks/results/ask.json`` (per set: accuracy, chart fit, p50/p95 latency,
n, the failures; the context build time per data set) and the ``## Ask`` section of
``docs/benchmarks.md``, and prints a table. ``--no-write`` only prints.

``--llm`` asks the same sets through an OpenAI-compatible provider, configured by
``AUGURY_BENCH_LLM_URL`` (the base URL, ``http://localhost:11434/v1``),
``AUGURY_BENCH_LLM_KEY`` and ``AUGURY_BENCH_LLM_MODEL`` (``AUGURY_BENCH_LLM_TIMEOUT_S``,
60 by default): the model proposes each plan, augury checks and runs it, as the server
does. Written under ``"llm"`` in the results with the model's name, which is how
``GET /api/v1/ai/models`` gives a provider of that model its measured accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.ask.score import score_answer, score_chart
from benchmarks.docs import replace_section

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "benchmarks" / "ask"
DEV_DIR = ROOT.parent / "shared" / "data" / "ask"
JSON_OUT = ROOT / "benchmarks" / "results" / "ask.json"
COMMAND = "make bench-ask  (= .venv/bin/python -m benchmarks.ask.run)"
TARGETS = {"dev_accuracy": 0.90, "p50_ms": 300.0}
"""The issue's targets: at least 90 % of the dev questions right, a median answer
within 300 ms."""
LLM_ENV = ("AUGURY_BENCH_LLM_URL", "AUGURY_BENCH_LLM_KEY", "AUGURY_BENCH_LLM_MODEL")
SHOWN_ROWS = 6


@dataclass(frozen=True)
class QuestionSet:
    """A set's questions and the folder holding ``<dataset>.csv`` for each."""

    name: str
    questions: list[dict[str, Any]]
    data: Path


@dataclass(frozen=True)
class Engine:
    """What the benchmark calls: augury's Ask engine, or a stand-in in the tests.

    ``ask(question, table, context)`` returns an object with ``rows`` and ``chart``
    (and, when it has them, ``words`` and ``confidence``); ``refused`` are the exception
    types that mean "augury declined the question" rather than "augury broke".
    """

    name: str
    load_table: Callable[[Path, str], Any]
    context_of: Callable[[Any], Any]
    ask: Callable[[str, Any, Any], Any]
    refused: tuple[type[BaseException], ...] = ()


@dataclass
class Outcome:
    dataset: str
    question: str
    passed: bool
    chart_passed: bool | None
    ms: float
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


# ---- the sets -----------------------------------------------------------------------


def read_jsonl(paths: Iterable[Path]) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        out += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return out


def question_sets(dev_dir: Path = DEV_DIR, here: Path = HERE) -> list[QuestionSet]:
    """dev (when ``../shared/data/ask`` is there), tune and holdout."""
    sets = []
    dev = dev_dir / "dev-questions.jsonl"
    if dev.exists():
        sets.append(QuestionSet("dev", read_jsonl([dev]), dev_dir / "data"))
    for group in ("tune", "holdout"):
        files = sorted((here / "questions").glob(f"{group}-*.jsonl"))
        sets.append(QuestionSet(group, read_jsonl(files), here / "data"))
    return sets


# ---- engines ------------------------------------------------------------------------


def offline_engine() -> Engine:
    """augury's own parser, as the CLI and the server run it."""
    from augury.engines import ask as engine

    return Engine(
        name="offline",
        load_table=lambda path, name: engine.load_table(path, name=name),
        context_of=engine.context_of,
        ask=_ask_with_context(engine.ask),
        refused=(engine.AskError,),
    )


def _ask_with_context(ask: Callable[..., Any]) -> Callable[[str, Any, Any], Any]:
    """``ask`` given the context built beforehand when it takes one; otherwise ``ask``
    reads the table's context itself (cached per table, or built again: then the
    latency measured includes it, which is what a caller of ``ask`` would see)."""
    import inspect

    if "context" in inspect.signature(ask).parameters:
        return lambda question, table, context: ask(question, table, context=context)
    return lambda question, table, context: ask(question, table)


def llm_engine() -> Engine:
    """An OpenAI-compatible provider (``AUGURY_BENCH_LLM_*``) reading the questions: its
    plan checked (``augury.engines.ask.llm``) and run by the engine, the call made as
    the server makes it (``augury.analytics.providers.complete``). The URL is the
    operator's own choice, so its host is allowed even when it is a local address."""
    missing = [name for name in LLM_ENV if not os.environ.get(name)]
    if missing:
        raise SystemExit(f"--llm needs {', '.join(missing)} in the environment")
    from urllib.parse import urlsplit

    from augury.analytics.providers import complete
    from augury.engines import ask as engine
    from augury.engines.ask import llm
    from augury.engines.ask.chart import chart_type_asked

    url, key, model = (os.environ[name] for name in LLM_ENV)
    timeout_s = float(os.environ.get("AUGURY_BENCH_LLM_TIMEOUT_S", "60"))
    host = urlsplit(url).hostname or ""

    def ask(question: str, table: Any, context: Any) -> Any:
        messages = llm.messages_for(question, context)
        text = complete(url, model, messages, api_key=key, timeout_s=timeout_s, allowed=[host])
        plan = llm.plan_from_reply(text, context)
        answer = engine.ask(
            question,
            table,
            plan=plan,
            chart_type=chart_type_asked(question),
            context=context,
            engine=f"provider:{model}",
        )
        answer.confidence, answer.notes = llm.confidence_of(plan, context)
        return answer

    return Engine(
        name="llm",
        load_table=lambda path, name: engine.load_table(path, name=name),
        context_of=engine.context_of,
        ask=ask,
        refused=(engine.AskError,),
    )


# ---- running ------------------------------------------------------------------------


def ask_one(engine: Engine, q: dict[str, Any], table: Any, context: Any) -> Outcome:
    """One question asked, timed and scored."""
    t0 = time.perf_counter()
    try:
        answer = engine.ask(q["question"], table, context)
    except engine.refused as exc:
        ms = (time.perf_counter() - t0) * 1000
        code = getattr(exc, "code", type(exc).__name__)
        reason = f"refused ({code}): {exc}"
        return Outcome(q["dataset"], q["question"], False, _chart(None, q), ms, reason)
    except Exception as exc:  # a crash is a result to report, not a reason to stop
        ms = (time.perf_counter() - t0) * 1000
        reason = f"crashed: {type(exc).__name__}: {exc}"
        return Outcome(q["dataset"], q["question"], False, _chart(None, q), ms, reason)
    ms = (time.perf_counter() - t0) * 1000
    rows = [list(row) for row in answer.rows]
    verdict = score_answer(rows, q["expected"])
    chart = _chart(answer.chart, q)
    detail = {
        "words": getattr(answer, "words", None),
        "confidence": getattr(answer, "confidence", None),
        "columns": list(getattr(answer, "columns", []) or []),
        "rows": rows[:SHOWN_ROWS],
        "n_rows": len(rows),
        "chart_type": getattr(answer, "chart_type", None),
    }
    return Outcome(q["dataset"], q["question"], verdict.passed, chart, ms, verdict.reason, detail)


def _chart(spec: dict[str, Any] | None, q: dict[str, Any]) -> bool | None:
    return score_chart(spec, q.get("chart"))


def run_set(engine: Engine, qs: QuestionSet) -> dict[str, Any]:
    """Every question of a set; each data set loaded and its context built once."""
    outcomes: list[Outcome] = []
    context_ms: dict[str, float] = {}
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for q in qs.questions:
        by_dataset.setdefault(q["dataset"], []).append(q)
    for dataset, questions in by_dataset.items():
        table = engine.load_table(qs.data / f"{dataset}.csv", dataset)
        t0 = time.perf_counter()
        context = engine.context_of(table)
        context_ms[dataset] = round((time.perf_counter() - t0) * 1000, 1)
        outcomes += [ask_one(engine, q, table, context) for q in questions]
    return summarise(outcomes, context_ms)


def _percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (a value that was measured)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def summarise(outcomes: list[Outcome], context_ms: dict[str, float]) -> dict[str, Any]:
    n = len(outcomes)
    charts = [o.chart_passed for o in outcomes if o.chart_passed is not None]
    times = [o.ms for o in outcomes]
    per_dataset: dict[str, dict[str, int]] = {}
    for o in outcomes:
        tally = per_dataset.setdefault(o.dataset, {"n": 0, "passed": 0})
        tally["n"] += 1
        tally["passed"] += o.passed
    return {
        "n": n,
        "passed": sum(o.passed for o in outcomes),
        "accuracy": round(sum(o.passed for o in outcomes) / n, 4) if n else None,
        "chart_n": len(charts),
        "chart_fit": round(sum(charts) / len(charts), 4) if charts else None,
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p95_ms": round(_percentile(times, 95), 1) if times else None,
        "max_ms": round(max(times), 1) if times else None,
        "context_ms": context_ms,
        "per_dataset": per_dataset,
        "failures": [
            {
                "dataset": o.dataset,
                "question": o.question,
                "answer": "pass" if o.passed else o.reason,
                "chart": o.chart_passed,
                **o.detail,
            }
            for o in outcomes
            if not o.passed or o.chart_passed is False
        ],
    }


def cold_start(engine: Engine, qs: QuestionSet) -> float:
    """The first question of a fresh process, in ms (imports, the embedding model),
    asked once untimed by the sets so that their latencies are the warm ones."""
    q = qs.questions[0]
    t0 = time.perf_counter()
    table = engine.load_table(qs.data / f"{q['dataset']}.csv", q["dataset"])
    ask_one(engine, q, table, engine.context_of(table))
    return round((time.perf_counter() - t0) * 1000, 1)


def run_all(engine: Engine, sets: list[QuestionSet]) -> dict[str, Any]:
    first = next((qs for qs in sets if qs.questions), None)
    cold = cold_start(engine, first) if first is not None else None
    return {"cold_start_ms": cold} | {qs.name: run_set(engine, qs) for qs in sets}


# ---- reporting ----------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def engine_commit() -> str:
    """The commit the engine ran at, ``+dirty`` when ``src/augury/engines/ask`` had
    changes not yet committed."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "src/augury/engines/ask") else "")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def table_lines(results: dict[str, Any], sets: Iterable[str]) -> list[str]:
    lines = [
        "| set | questions | accuracy | chart fit | p50 ms | p95 ms | context build ms (per data set) |",  # noqa: E501
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name in sets:
        r = results[name]
        contexts = ", ".join(f"{k} {v:,.0f}" for k, v in r["context_ms"].items())
        lines.append(
            f"| {name} | {r['n']} | {_pct(r['accuracy'])} ({r['passed']}/{r['n']}) "
            f"| {_pct(r['chart_fit'])} ({r['chart_n']} scored) | {_ms(r['p50_ms'])} "
            f"| {_ms(r['p95_ms'])} | {contexts} |"
        )
    return lines


def doc_section(result: dict[str, Any], sets: list[str]) -> str:
    m = result["machine"]
    dev = result.get("dev")
    n_all = sum(result[s]["n"] for s in sets)
    n_written = sum(result[s]["n"] for s in sets if s != "dev")
    met = ""
    if dev is not None:
        acc_ok = (dev["accuracy"] or 0) >= TARGETS["dev_accuracy"]
        p50_ok = dev["p50_ms"] is not None and dev["p50_ms"] <= TARGETS["p50_ms"]
        met = (
            f"\n\nTargets (issue 15): dev accuracy >= 90 %: **{'met' if acc_ok else 'not met'}** "
            f"({_pct(dev['accuracy'])}); p50 <= 300 ms: **{'met' if p50_ok else 'not met'}** "
            f"({_ms(dev['p50_ms'])} ms)."
        )
    return (
        "## Ask\n\n"
        "How often augury's Ask engine answers a plain-English question about a data set "
        "with the right table and the right kind of chart, offline (augury's own parser, "
        "no network), and how fast.\n\n"
        f"Command: `{COMMAND}` (figures in `benchmarks/results/ask.json`; "
        f"{result['date']}, engine at `{result.get('engine_commit', '?')}`; "
        f"{m['cpu_model'] or 'CPU'}, {m['cpus']} CPUs, Python "
        f"{m['python']}; 1-minute load average {m['load_avg_1m']} at the end: other "
        "people's work shared the cores).\n\n" + "\n".join(table_lines(result, sets)) + met + "\n\n"
        "**Sets.** `dev`: the issue's questions over penguins, barley and iris "
        f"(`../shared/data/ask/`). `tune` and `holdout`: {n_written} questions written for this "
        "benchmark over fifteen data sets of the `vega_datasets` package "
        "(`benchmarks/ask/questions/`, data in `benchmarks/ask/data/`), phrased as people "
        "ask (group averages, counts with one or two filters, superlatives, top N, "
        "monthly and yearly series, a month or a year as a filter, medians, minima, "
        "distinct counts, correlations, standard deviations). Their expected answers are "
        "computed by a small pandas function per question "
        "(`benchmarks/ask/make_questions.py`), never by augury. The split is by data "
        "set: tune (cars, seattle_weather, stocks, iowa_electricity, la_riots, wheat) "
        "may be read by the parser's authors; holdout (airports, us_employment, "
        "sf_temps, seattle_temps, driving, crimea, burtin, anscombe, ohlc) may not.\n\n"
        "**Scoring** (`benchmarks/ask/score.py`, the issue's rules): a number matches "
        "within 1 % or 0.01; strings case-insensitively; a date key (`YYYY`, `YYYY-MM`, "
        "`YYYY-MM-DD`) by prefix; a scalar question passes if a cell of an answer of at "
        "most 5 rows matches; a table question passes if the answer has exactly the "
        "expected number of rows and each expected row (keys and value) is found in an "
        "answer row of its own; the chart passes if a `line` question gets a line or "
        "area mark and a `bar` question a bar mark (chart fit counts only the questions "
        "that name one). A question augury refuses or fails on counts as wrong.\n\n"
        "**Timing.** Each data set is read once (`load_table`) and its context built "
        "once (`context_of`: column words, values, ranges; what a server does once per "
        "dataset version; its time is the last column), outside the per-question "
        "timing; each question is then one timed call of `ask` (parse, query, chart, "
        "insights), one run each, on the shared cores. The process's first question "
        "(imports, loading the embedding model) is asked once before the sets and "
        f"timed apart: {_ms(result.get('cold_start_ms'))} ms, read, context and answer "
        "together.\n\n"
        "**Held-out caveat.** Dev and tune questions may have shaped the parser, so "
        "their accuracy is an upper bound; the holdout accuracy, on data sets and "
        "wording its authors have not seen, is the figure that predicts how augury "
        "does on a new data set (and on the held-out set augury is judged on). All "
        f"{n_all} questions were written by one author, so their phrasing is narrower "
        "than real users'.\n"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--llm", action="store_true", help="also ask through AUGURY_BENCH_LLM_*")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--sets", default="dev,tune,holdout", help="comma-separated sets to run")
    args = ap.parse_args(argv)
    wanted = set(args.sets.split(","))
    sets = [s for s in question_sets() if s.name in wanted]
    llm = llm_engine() if args.llm else None
    t0 = time.perf_counter()
    names = [s.name for s in sets]
    result: dict[str, Any] = run_all(offline_engine(), sets)
    if llm is not None:
        result["llm"] = {"model": os.environ["AUGURY_BENCH_LLM_MODEL"], **run_all(llm, sets)}
    result.update(
        {
            "command": COMMAND,
            "engine_commit": engine_commit(),
            "machine": machine(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "wall_s": round(time.perf_counter() - t0, 1),
        }
    )
    print("\n".join(table_lines(result, names)))
    if llm is not None:
        print("LLM:\n" + "\n".join(table_lines(result["llm"], names)))
    if args.no_write:
        return 0
    JSON_OUT.parent.mkdir(parents=True, exist_ok=True)
    JSON_OUT.write_text(json.dumps(result, indent=2, default=str) + "\n")
    replace_section("Ask", doc_section(result, names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
