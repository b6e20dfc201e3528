"""Analytics: questions asked of datasets, saved charts, key drivers, the engines on offer.

A question runs through :func:`augury.engines.ask.ask` over one dataset version (its
Parquet file and the column types its profile found), bounded by the
``analytics.*`` limits. Understanding a question needs the dataset's context (column
words, categorical values, ranges), which costs a scan: it is built once per version
and kept in a bounded in-process cache (:class:`ContextCache`).

A saved chart stores the question and its plan; reading it reruns the plan on the
dataset's newest version (:func:`live`), so the numbers follow the data. A plan that no
longer runs (a column removed or renamed) gives the answer as saved with an ``error``,
never a failure.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import asc, desc, func, or_, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.analytics import providers
from augury.analytics.models import Analysis, SavedChart
from augury.analytics.schemas import AnalysisCreate, ChartCreate, ChartUpdate
from augury.audit import service as audit
from augury.config import Settings
from augury.datasets import querying as datasets_querying
from augury.datasets import service as datasets
from augury.datasets.models import Dataset, DatasetVersion
from augury.engines import ask as engine
from augury.engines.ask import drivers as drivers_engine
from augury.engines.ask.chart import chart_spec, chart_type_asked
from augury.engines.ask.plan import plan_from_dict
from augury.engines.tabular.errors import TableError
from augury.engines.tabular.export import escape_cell
from augury.engines.tabular.query import Limits
from augury.errors import ProviderError, ValidationFailed
from augury.events import service as events
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate
from augury.store.text import contains

AUDITED = ("query", "title", "chart_type", "options", "dataset_id")
BENCHMARK_FILE = Path(__file__).resolve().parents[3] / "benchmarks" / "results" / "ask.json"


class QuestionNotUnderstood(ValidationFailed):
    """422 ``QUESTION_NOT_UNDERSTOOD``: the question is empty, not English, names nothing
    in the dataset, or fits several columns alike (``details.candidates``)."""

    code = "QUESTION_NOT_UNDERSTOOD"


class ContextCache:
    """The engine's question context per dataset version, least recently used dropped
    first; one lock, held only to look up and store (a context is built outside it, so
    two first questions about one version may both build it, and one is kept)."""

    def __init__(self) -> None:
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any], size: int) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CONTEXTS = ContextCache()


# --- the dataset a question is about ------------------------------------------------------


def resolve(session: Session, org_id: int, data_source: int | str) -> Dataset:
    """The organization's dataset ``data_source`` names: an id, or a name (a name made
    of digits is tried as a name first, then as an id)."""
    if isinstance(data_source, int):
        return datasets.get(session=session, org_id=org_id, dataset_id=data_source)
    found = session.scalars(
        select(Dataset).where(Dataset.org_id == org_id, Dataset.name == data_source)
    ).one_or_none()
    if found is None and data_source.isdecimal() and int(data_source) < 2**31:
        return datasets.get(session=session, org_id=org_id, dataset_id=int(data_source))
    if found is None:
        return datasets.get_by_name(session=session, org_id=org_id, name=data_source)
    return found


def _table(settings: Settings, dataset: Dataset, version: DatasetVersion) -> engine.Table:
    return engine.Table(
        datasets.path_of(settings, version), datasets.specs(dataset, version), dataset.name
    )


def context(settings: Settings, version: DatasetVersion, table: engine.Table) -> Any:
    """The question context of ``version`` read as ``table`` (cached: the key holds the
    column types, so a profile that retypes a column gets a fresh context)."""
    key = (version.id, version.storage_key, tuple((s.name, s.type, s.parse) for s in table.specs))
    bounded = limits(settings)
    return CONTEXTS.get(
        key, lambda: engine.context_of(table, limits=bounded), settings.analytics.context_cache_size
    )


def limits(settings: Settings) -> Limits:
    """The datasets' DuckDB limits (memory, threads), with the analytics time limit."""
    return replace(datasets_querying.limits(settings), timeout_s=settings.analytics.query_timeout_s)


def _refusal(exc: TableError) -> ValidationFailed:
    if exc.code == QuestionNotUnderstood.code:
        return QuestionNotUnderstood(exc.message, details=dict(exc.details))
    return datasets.table_error(exc)


# --- asking -------------------------------------------------------------------------------


def answer(
    settings: Settings,
    dataset: Dataset,
    version: DatasetVersion,
    question: str,
    *,
    plan: dict | None = None,
    chart_type: str = "auto",
    options: dict | None = None,
    proposer: providers.Proposer | None = None,
) -> dict:
    """The engine's answer to ``question`` (or to ``plan``, run as given) over one version,
    styled by ``options`` (title, theme), as the API returns it. With ``proposer`` (and
    no ``plan``), an LLM provider proposes the plan (:func:`_proposed`)."""
    started = time.perf_counter()
    try:
        edited = plan_from_dict(plan) if plan is not None else None
        table = _table(settings, dataset, version)
        ctx = None if edited is not None else context(settings, version, table)
        proposed: engine.Answer | None = None
        fell_back: list[str] = []
        if edited is None and proposer is not None:
            proposed, fell_back = _proposed(question, table, ctx, proposer, chart_type, settings)
        result = proposed
        if result is None:
            result = engine.ask(
                question,
                table,
                plan=edited,
                chart_type=chart_type,
                limits=limits(settings),
                context=ctx,
            )
            result.notes = fell_back + result.notes
    except TableError as exc:
        raise _refusal(exc) from exc
    body = result.to_dict()
    _cap(body, settings.analytics.max_answer_rows)
    _style(body, result.plan, chart_type, options or {})
    body.update(
        dataset_id=dataset.id,
        version=version.number,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        generated_at=clock.now(),
    )
    return body


def _proposed(
    question: str,
    table: engine.Table,
    ctx: Any,
    proposer: providers.Proposer,
    chart_type: str,
    settings: Settings,
) -> tuple[engine.Answer | None, list[str]]:
    """The answer to the plan a provider proposes for ``question``, its confidence how
    far the data backs the plan (``engines.ask.llm.confidence_of``).

    A provider that fails (unreachable, an HTTP error, a timeout, a reply that is not a
    plan, a plan that names unknown columns or does not run): with ``engine: auto``
    (``proposer.fallback``) the offline parser answers, and ``(None, [why])`` says so in
    the notes; with a provider named, 502 ``PROVIDER_ERROR``, or 422
    ``QUESTION_NOT_UNDERSTOOD`` (with candidates) for unknown columns. A query past the
    time limit is not run again.
    """
    try:
        proposal = proposer.propose(question, ctx)
        result = engine.ask(
            question,
            table,
            plan=proposal.plan,
            chart_type=chart_type_asked(question) if chart_type == "auto" else chart_type,
            limits=limits(settings),
            context=ctx,
            engine=proposal.engine,
        )
    except providers.ProviderFailed as exc:
        if not proposer.fallback:
            raise ProviderError(
                f"The provider {proposer.name} failed: {exc.message}",
                details={"provider": proposer.name, "reason": exc.reason},
            ) from exc
        return None, [f"{proposer.name} failed ({exc.message}): answered by augury's parser"]
    except TableError as exc:
        if not proposer.fallback or exc.code == "QUERY_TIMEOUT":
            raise
        return None, [
            f"{proposer.name}'s plan was not usable ({exc.message}): answered by augury's parser"
        ]
    result.confidence = proposal.confidence
    result.notes = proposal.notes
    return result, []


def _cap(body: dict, max_rows: int) -> None:
    """At most ``max_rows`` rows in the table (and in the chart's inline data)."""
    if len(body["rows"]) > max_rows:
        body["truncated"] = True
        body["rows"] = body["rows"][:max_rows]
        values = (body.get("chart") or {}).get("data", {}).get("values")
        if isinstance(values, list):
            body["chart"]["data"]["values"] = values[:max_rows]


def _style(body: dict, plan: Any, chart_type: str, options: dict) -> None:
    """The chart drawn again with a title or the dark theme when the options ask for them
    (the engine draws the light theme, titled after its plan)."""
    title = options.get("title")
    theme = options.get("theme") or "light"
    if not title and theme == "light":
        return
    chosen, spec = chart_spec(
        plan,
        body["columns"],
        body["types"],
        body["rows"],
        chart_type=chart_type,
        title=title,
        theme=theme,
    )
    body["chart_type"], body["chart"] = chosen, spec


def ask(
    *, session: Session, principal: Principal, settings: Settings, body: ChartCreate
) -> tuple[dict, SavedChart | None]:
    """Answer a question; with ``body.save`` (write permission) keep it as a chart."""
    if body.save:
        principal.require("write")
    dataset = resolve(session, principal.org_id, body.data_source)
    version = datasets.get_version(session=session, dataset=dataset, number=body.version)
    options = body.options.model_dump()
    provider = (
        None if body.plan is not None else providers.pick(session, principal.org_id, body.engine)
    )
    result = answer(
        settings,
        dataset,
        version,
        body.query,
        plan=body.plan,
        chart_type=body.chart_type,
        options=options,
        proposer=None
        if provider is None
        else providers.Proposer(session, settings, provider, fallback=body.engine == "auto"),
    )
    if not body.save:
        return result, None
    chart = SavedChart(
        org_id=principal.org_id,
        dataset_id=dataset.id,
        version=version.number,
        query=body.query,
        title=options.pop("title"),
        chart_type=body.chart_type,
        shown_type=result["chart_type"],
        plan=result["plan"],
        options=options,
        answer=_stored(result),
        created_by_id=principal.user_id,
    )
    session.add(chart)
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="analytics.chart.create",
        target_type="chart",
        target_id=chart.id,
        after=audit.snapshot(chart, AUDITED),
    )
    _emit(session, principal, "chart.created", chart)
    result["chart_id"] = chart.id
    return result, chart


def _emit(session: Session, principal: Principal, type: str, chart: SavedChart) -> None:
    """A platform event about a saved chart (for the organization's event webhooks)."""
    events.emit(
        session,
        org_id=chart.org_id,
        type=type,
        data={
            "chart_id": chart.id,
            "title": chart.title,
            "query": chart.query,
            "chart_type": chart.shown_type,
            "dataset_id": chart.dataset_id,
            "user_id": principal.user_id,
        },
        user_id=principal.user_id,
    )


def _stored(result: dict) -> dict:
    """The answer as JSON (its time as text), without the per-request fields."""
    kept = {k: v for k, v in result.items() if k not in ("elapsed_ms", "generated_at")}
    return json.loads(json.dumps(kept, default=str))


# --- saved charts -------------------------------------------------------------------------


def get_chart(*, session: Session, org_id: int, chart_id: int) -> SavedChart:
    return get_owned(session, SavedChart, org_id, chart_id, "Chart")


def live(*, session: Session, settings: Settings, chart: SavedChart) -> dict:
    """The chart rerun on its dataset's newest version (``version`` says which); the
    saved answer with ``error`` when its plan no longer runs there."""
    dataset = session.get(Dataset, chart.dataset_id)
    assert dataset is not None  # the chart goes with its dataset (ON DELETE CASCADE)
    version = datasets.get_version(session=session, dataset=dataset)
    options = {**(chart.options or {}), "title": chart.title}
    try:
        body = answer(
            settings,
            dataset,
            version,
            chart.query,
            plan=chart.plan,
            chart_type=chart.chart_type,
            options=options,
        )
        body["error"] = None
    except ValidationFailed as exc:
        body = {**chart.answer, "generated_at": chart.updated_at}
        body["error"] = {
            "code": exc.code,
            "message": exc.message,
            "details": exc.details,
            "version": version.number,
        }
    return {**chart_fields(chart), **body, "chart_id": chart.id}


def chart_fields(chart: SavedChart) -> dict:
    """What a saved chart is, without its answer (the list's items)."""
    return {
        "id": chart.id,
        "chart_id": chart.id,
        "query": chart.query,
        "title": chart.title,
        "chart_type": chart.shown_type,
        "requested_type": chart.chart_type,
        "dataset_id": chart.dataset_id,
        "version": chart.version,
        "options": chart.options or {},
        "created_at": chart.created_at,
        "updated_at": chart.updated_at,
    }


_SORTS = {
    "created_at": SavedChart.created_at,
    "updated_at": SavedChart.updated_at,
    "query": SavedChart.query,
}


def list_charts(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    query: str | None = None,
    chart_type: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    dataset_id: int | None = None,
    sort_by: str = "created_at",
    sort_order: str = "desc",
) -> tuple[list[SavedChart], int]:
    """The organization's saved charts; ``query`` is searched in the question and the
    title (case-insensitive), ``chart_type`` is the mark drawn or the one asked for."""
    stmt = select(SavedChart).where(SavedChart.org_id == org_id)
    if query:
        stmt = stmt.where(
            or_(
                contains(SavedChart.query, query),
                contains(func.coalesce(SavedChart.title, ""), query),
            )
        )
    if chart_type:
        stmt = stmt.where(
            or_(SavedChart.shown_type == chart_type, SavedChart.chart_type == chart_type)
        )
    if created_after is not None:
        stmt = stmt.where(SavedChart.created_at >= created_after)
    if created_before is not None:
        stmt = stmt.where(SavedChart.created_at < created_before)
    if dataset_id is not None:
        stmt = stmt.where(SavedChart.dataset_id == dataset_id)
    direction = desc if sort_order == "desc" else asc
    stmt = stmt.order_by(direction(_SORTS[sort_by]), direction(SavedChart.id))
    return paginate(session, stmt, page)


def update_chart(
    *, session: Session, principal: Principal, chart: SavedChart, body: ChartUpdate
) -> SavedChart:
    """Change the title, options (theme, interactive, export formats) or chart type."""
    before = audit.snapshot(chart, AUDITED)
    if "title" in body.model_fields_set:
        chart.title = body.title
    if body.options is not None:
        changed = body.options.model_dump(exclude_none=True)
        chart.options = {**(chart.options or {}), **changed}
    if body.chart_type is not None:
        chart.chart_type = body.chart_type
        if body.chart_type != "auto":
            chart.shown_type = body.chart_type
    chart.updated_at = clock.now()
    audit.record_change(
        session=session,
        principal=principal,
        action="analytics.chart.update",
        target_type="chart",
        target_id=chart.id,
        before=before,
        after=audit.snapshot(chart, AUDITED),
    )
    _emit(session, principal, "chart.updated", chart)
    return chart


def delete_chart(*, session: Session, principal: Principal, chart: SavedChart) -> None:
    audit.record_change(
        session=session,
        principal=principal,
        action="analytics.chart.delete",
        target_type="chart",
        target_id=chart.id,
        before=audit.snapshot(chart, AUDITED),
    )
    _emit(session, principal, "chart.deleted", chart)
    session.delete(chart)
    session.flush()


def export_rows(body: dict, fmt: str) -> str:
    """A chart's rows as CSV (formulas escaped for spreadsheets) or as JSON records."""
    if fmt == "json":
        records = [dict(zip(body["columns"], row, strict=False)) for row in body["rows"]]
        return json.dumps(records, default=str)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([escape_cell(c) for c in body["columns"]])
    for row in body["rows"]:
        writer.writerow([escape_cell(v) for v in row])
    return out.getvalue()


# --- key drivers --------------------------------------------------------------------------


def analyze(
    *, session: Session, principal: Principal, settings: Settings, body: AnalysisCreate
) -> Analysis:
    """What drives a column of a dataset: the other columns ranked by their measured
    influence (``engines.ask.drivers``), kept so it can be read again."""
    dataset = resolve(session, principal.org_id, body.data_source)
    version = datasets.get_version(session=session, dataset=dataset, number=body.version)
    table = _table(settings, dataset, version)
    names = [s.name for s in table.specs]
    try:
        target = body.target or _target_of(settings, version, table, body.query)
        if target not in names:
            raise ValidationFailed(
                f"No column {target!r} in the dataset.",
                details={"reason": "UNKNOWN_COLUMN", "candidates": names[:50]},
            )
        cap = settings.analytics.drivers_max_rows
        frame = drivers_engine.frame_of(table.path, table.specs, cap, 0, limits=limits(settings))
        found = drivers_engine.key_drivers(
            frame, target, {s.name: s.type for s in table.specs}, max_rows=cap
        )
    except TableError as exc:
        raise _refusal(exc) from exc
    analysis = Analysis(
        org_id=principal.org_id,
        dataset_id=dataset.id,
        version=version.number,
        query=body.query,
        analysis_type="key_drivers",
        target=target,
        options=body.options.model_dump(),
        results=_results(found, body),
        created_by_id=principal.user_id,
    )
    session.add(analysis)
    session.flush()
    return analysis


def _target_of(settings: Settings, version: DatasetVersion, table: Any, question: str) -> str:
    """The column a key-drivers question is about ("what drives sales?")."""
    return engine.find_target(question, context(settings, version, table))


def _results(found: Any, body: AnalysisCreate) -> dict:
    threshold = body.options.confidence_threshold
    drivers = [_driver(d) for d in found.drivers]
    return {
        "primary_drivers": [d for d in drivers if d["confidence"] >= threshold],
        "other_drivers": [d for d in drivers if d["confidence"] < threshold],
        "insights": list(found.insights) if body.options.include_insights else [],
        "recommendations": (
            list(found.recommendations) if body.options.include_recommendations else []
        ),
        "task": found.task,
        "model_score": _number(found.model_score),
        "rows_used": int(found.rows_used),
    }


def _driver(d: Any) -> dict:
    return {
        "factor": d.factor,
        "kind": d.kind,
        "correlation": None if d.correlation is None else _number(d.correlation),
        "mutual_information": _number(d.mutual_information),
        "importance": _number(d.importance),
        "importance_std": _number(d.importance_std),
        "direction": d.direction,
        "impact": d.impact,
        "confidence": _number(d.confidence),
    }


def _number(value: Any) -> float:
    """A float rounded for reading (4 significant decimals); NaN as 0."""
    number = float(value)
    return 0.0 if number != number else round(number, 4)


def analysis_body(analysis: Analysis) -> dict:
    return {**analysis_fields(analysis), "results": analysis.results}


def analysis_fields(analysis: Analysis) -> dict:
    return {
        "id": analysis.id,
        "analysis_id": analysis.id,
        "query": analysis.query,
        "analysis_type": analysis.analysis_type,
        "target": analysis.target,
        "dataset_id": analysis.dataset_id,
        "version": analysis.version,
        "generated_at": analysis.created_at,
    }


def get_analysis(*, session: Session, org_id: int, analysis_id: int) -> Analysis:
    return get_owned(session, Analysis, org_id, analysis_id, "Analysis")


def list_analyses(
    *, session: Session, org_id: int, page: PageParams, dataset_id: int | None = None
) -> tuple[list[Analysis], int]:
    stmt = select(Analysis).where(Analysis.org_id == org_id)
    if dataset_id is not None:
        stmt = stmt.where(Analysis.dataset_id == dataset_id)
    return paginate(session, stmt.order_by(desc(Analysis.created_at), desc(Analysis.id)), page)


# --- the engines on offer -----------------------------------------------------------------

OFFLINE_CAPABILITIES = [
    "query_understanding",
    "chart_generation",
    "insight_generation",
    "key_drivers",
]


def models(session: Session | None = None, org_id: int | None = None) -> list[dict]:
    """The engines that answer questions: augury's offline parser, with the accuracy and
    median time the Ask benchmark measured (``benchmarks/results/ask.json``; null when
    this installation has no such file), then the organization's LLM providers
    (:func:`providers.models`: their median recorded response time, and the benchmark's
    accuracy through a provider when it ran the same model)."""
    configured = (
        []
        if session is None or org_id is None
        else providers.models(session, org_id, llm_benchmark_figures())
    )
    return [
        {
            "model_id": "augury-offline",
            "name": "augury's semantic parser",
            "provider": "augury",
            "capabilities": list(OFFLINE_CAPABILITIES),
            "status": "active",
            "offline": True,
            "performance_metrics": benchmark_figures(),
        },
        *configured,
    ]


@cache
def llm_benchmark_figures(path: Path = BENCHMARK_FILE) -> dict | None:
    """The Ask benchmark's figures through an LLM provider (``make bench-ask --llm``:
    its ``llm`` section names the model), read once per process; None when not run."""
    try:
        results = json.loads(path.read_text()).get("llm")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(results, dict) or not isinstance(results.get("model"), str):
        return None
    for name in ("holdout", "dev"):
        figures = results.get(name)
        if isinstance(figures, dict) and isinstance(figures.get("accuracy"), int | float):
            accuracy = round(float(figures["accuracy"]), 4)
            return {"model": results["model"], "accuracy": accuracy, "measured_on": name}
    return None


@cache
def benchmark_figures(path: Path = BENCHMARK_FILE) -> dict:
    """Accuracy and median seconds per question from the benchmark's results, read once
    per process: the held-out set's when it was measured (the honest figure), else the
    dev set's."""
    empty: dict = {"accuracy": None, "response_time": None, "measured_on": None}
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        return empty
    for name in ("holdout", "dev"):
        figures = results.get(name) if isinstance(results, dict) else None
        if isinstance(figures, dict) and isinstance(figures.get("accuracy"), int | float):
            p50 = figures.get("p50_ms")
            return {
                "accuracy": round(float(figures["accuracy"]), 4),
                "response_time": None
                if not isinstance(p50, int | float)
                else round(float(p50) / 1000, 4),
                "measured_on": name,
            }
    return empty
