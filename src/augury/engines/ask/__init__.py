"""Ask: a plain-English question about a dataset -> the table, the plan, a chart and
insights, offline.

:func:`ask` reads the question with augury's own parser (:func:`parse` over the
dataset's :func:`context_of`), runs the plan through the tables engine
(:func:`~.execute.execute`), then picks the chart (:mod:`.chart`) and the facts worth
saying (:mod:`.insights`). A plan given to :func:`ask` (one a person corrected, or one
a model proposed) runs as it is. A question it cannot read raises :class:`AskError`
(``QUESTION_NOT_UNDERSTOOD``) with the reason and the candidate columns, never a
made-up answer.

>>> import pathlib, tempfile, duckdb
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> csv = folder / "penguins.csv"
>>> _ = csv.write_text("species,island,body_mass_g\\nAdelie,Biscoe,3750\\nGentoo,Biscoe,5000\\n"
...                    "Adelie,Dream,3500\\n")
>>> table = load_table(csv)
>>> answer = ask("average body mass by species", table)
>>> answer.columns, answer.rows
(['species', 'mean_body_mass_g'], [['Adelie', 3625.0], ['Gentoo', 5000.0]])
>>> answer.words
'mean of body_mass_g by species'
>>> ask("how many penguins live on Dream?", table).rows
[[1]]
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augury.engines.tabular.query import Limits

from .chart import chart_spec, chart_type_asked
from .context import Table, TableContext, context_of
from .execute import execute
from .insights import Insight, insights_for
from .parser import AskError, Parsed, find_target, parse
from .plan import Plan, describe, plan_from_dict

__all__ = [
    "Answer",
    "AskError",
    "Parsed",
    "Plan",
    "Table",
    "TableContext",
    "ask",
    "cached_context",
    "context_of",
    "describe",
    "find_target",
    "load_table",
    "parse",
    "plan_from_dict",
]

CACHE_SIZE = 16


@dataclass
class Answer:
    """A question's answer: the table, the plan in JSON and words, the chart, the
    insights and how sure the parser was."""

    question: str
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    plan: Plan
    words: str
    chart: dict[str, Any]
    chart_type: str
    insights: list[Insight]
    confidence: float
    engine: str = "offline"
    notes: list[str] = field(default_factory=list)
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "columns": list(self.columns),
            "types": list(self.types),
            "rows": self.rows,
            "chart": self.chart,
            "chart_type": self.chart_type,
            "insights": [_insight_dict(i) for i in self.insights],
            "plan": self.plan.to_dict(),
            "words": self.words,
            "confidence": self.confidence,
            "engine": self.engine,
            "notes": list(self.notes),
            "truncated": self.truncated,
        }


def ask(
    question: str,
    table: Table,
    *,
    plan: Plan | None = None,
    chart_type: str = "auto",
    limits: Limits | None = None,
    context: TableContext | None = None,
    engine: str = "offline",
) -> Answer:
    """Answer ``question`` over ``table``; with ``plan``, run that plan as it is (the
    question is kept for the record). ``context`` is the table's :func:`context_of`
    where the caller keeps one (built and cached here otherwise)."""
    if plan is None:
        parsed = parse(question, context or cached_context(table))
    else:
        parsed = Parsed(plan, 1.0, ["the plan was given, not read from the question"])
    result = execute(parsed.plan, table, limits)
    asked = chart_type
    if asked == "auto" and plan is None:
        asked = chart_type_asked(question)  # "as a pie", "share of days by weather"
    kind, spec = chart_spec(
        parsed.plan, result.columns, result.types, result.rows, chart_type=asked
    )
    return Answer(
        question=question,
        columns=result.columns,
        types=result.types,
        rows=result.rows,
        plan=parsed.plan,
        words=describe(parsed.plan),
        chart=spec,
        chart_type=kind,
        insights=insights_for(parsed.plan, result.columns, result.types, result.rows),
        confidence=parsed.confidence,
        engine=engine,
        notes=parsed.notes,
        truncated=result.truncated,
    )


_cache: OrderedDict[tuple, TableContext] = OrderedDict()
_cache_lock = threading.Lock()


def cached_context(table: Table) -> TableContext:
    """``context_of(table)``, kept for the last :data:`CACHE_SIZE` tables (by file,
    its size and time, and the specs), so a second question costs no read."""
    path = Path(table.path)
    stat = path.stat()
    key = (
        str(path.resolve()),
        stat.st_size,
        stat.st_mtime_ns,
        table.name,
        tuple((s.name, s.physical, s.type, s.parse) for s in table.specs),
    )
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    context = context_of(table)
    with _cache_lock:
        _cache[key] = context
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return context


def load_table(
    path_or_file: Path | str, name: str | None = None, *, sheet: str | None = None
) -> Table:
    """A table file (CSV, TSV, XLSX, JSON, JSONL, Parquet) as a :class:`Table`: converted
    to Parquet in a temporary folder (removed when the process ends) and typed by the
    profile, as an upload would be."""
    from augury.engines.tabular.profile import profile, specs
    from augury.engines.tabular.read import convert

    src = Path(path_or_file)
    folder = Path(tempfile.mkdtemp(prefix="augury-ask-"))
    atexit.register(shutil.rmtree, folder, True)
    parquet = folder / "table.parquet"
    convert(src, parquet, filename=src.name, sheet=sheet)
    found = profile(parquet)
    return Table(parquet, specs(found), name or src.stem)


def _insight_dict(insight: Insight) -> dict[str, Any]:
    return dict(insight.to_dict())
