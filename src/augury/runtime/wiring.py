"""The composition root: the one module (with ``augury/app.py`` for HTTP routes) that
knows every domain and puts together what they offer.

A domain declares its pieces and never imports the pipeline that runs them:

* **tables**: its ``models.py``, imported in :func:`metadata` (Alembic and the tests
  see the full schema);
* **job types**: classes with ``name``, ``Params`` and ``run(ctx, params)``, listed in
  :data:`JOB_TYPES` as ``"module:Class"`` (imported when a job of the type first runs,
  so a job's process loads only what it needs);
* **stream consumers**: classes with ``name`` and ``consume(session, spans)`` that see
  every batch of ingested points, listed in :func:`consumers` (order matters: rollups,
  then detection);
* **periodic tasks**: classes with ``name``, ``every_s`` and ``run(db)``, run by the
  stream processor after the consumers, listed in :func:`periodic_tasks`;
* **routers**: listed in ``augury/app.py``.

Adding a domain is one folder and one line here per kind of thing it offers (see
docs/architecture.md). Domain imports sit inside the functions below so that a process
only imports what it runs (the job forkserver imports this module and stays small).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from augury.jobs import types as job_types

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from augury.alerts.dispatch import Dispatcher
    from augury.config import Settings
    from augury.metrics.stream import Consumer
    from augury.metrics.writer import MetricCache
    from augury.runtime.loops import Every
    from augury.runtime.stream import PeriodicTask, StreamProcessor
    from augury.store.db import Database

JOB_TYPES = {
    "demo.work": "augury.jobs.builtin:DemoWork",
    "metrics.backfill": "augury.metrics.jobs:Backfill",
    "forecast.run": "augury.forecasts.jobs:RunForecast",
    "forecast.csv": "augury.forecasts.jobs:ForecastCsv",
    "datasets.profile": "augury.datasets.jobs:ProfileDataset",
    "datasets.from_metrics": "augury.datasets.jobs:MetricsToDataset",
    "analytics.workflow": "augury.analytics.jobs:RunWorkflow",
    "text.documents": "augury.text.jobs:AddDocuments",
    "text.correction": "augury.text.services.correction:PrepareCorrection",
    "text.train": "augury.text.services.modeling:TrainModel",
    "text.analyze": "augury.text.services.analyses:BatchAnalysis",
    "models.train": "augury.predictive.services.training:TrainModel",
    "models.predict": "augury.predictive.services.predicting:PredictDataset",
    "dashboards.export": "augury.dashboards.schedules:SendScheduledExport",
    "chat.index": "augury.chat.jobs:IndexUseCase",
}


def consumers() -> list[Consumer]:
    """Every stage ingested points go through, in order."""
    from augury.anomalies.detection import DetectConsumer
    from augury.metrics.rollups import RollupConsumer

    return [RollupConsumer(), DetectConsumer()]


def periodic_tasks(settings: Settings) -> list[PeriodicTask]:
    """What the stream processor runs after the consumers, each when it is due."""
    from augury.alerts.evaluate import AlertEvaluator
    from augury.anomalies.patterns import PatternMatcher
    from augury.chat.services.auto_messages import AutoMessages
    from augury.chat.services.freshness import StaleAttachments
    from augury.dashboards.schedules import ScheduledExports
    from augury.datasets.retention import DatasetRetention
    from augury.datasets.storage import StagingSweep
    from augury.forecasts.jobs import ForecastScheduler
    from augury.metrics.rollups import RetentionTask
    from augury.text.services.files import ExpiredFileSweep
    from augury.webhooks.fanout import FanOut

    m = settings.metrics
    return [
        AlertEvaluator(settings.base_url, every_s=settings.alerts.evaluate_interval_s),
        RetentionTask(m.retention_days, m.rollup_retention_days),
        ForecastScheduler(),
        StagingSweep(settings),
        ExpiredFileSweep(settings),
        FanOut(),
        DatasetRetention(settings),
        ScheduledExports(settings),
        AutoMessages(),
        StaleAttachments(settings),
        PatternMatcher(),
    ]


def install() -> None:
    """Register the job types and the searchable objects in this process (idempotent)."""
    for name, ref in JOB_TYPES.items():
        job_types.registry.register(name, ref)
    install_search()


def fill_search_index(db: Database) -> int:
    """Index what a database holds when its search index is empty (one upgraded from
    before the index existed); how many objects were indexed."""
    from augury.search import service as search

    install_search()
    with db.session() as session:
        return search.reindex(session, only_if_empty=True)


def install_search() -> None:
    """Keep the global search index current in every session of this process: each
    domain says how its objects become index rows (its ``searchable`` module)."""
    from augury.accounts import searchable as accounts
    from augury.alerts import searchable as alerts
    from augury.analytics import searchable as analytics
    from augury.anomalies import searchable as anomalies
    from augury.chat import searchable as chat
    from augury.collectors import searchable as collectors
    from augury.dashboards import searchable as dashboards
    from augury.datasets import searchable as datasets
    from augury.forecasts import searchable as forecasts
    from augury.metrics import searchable as metrics
    from augury.search import service as search

    search.install(
        [
            *accounts.SEARCHABLE,
            *alerts.SEARCHABLE,
            *analytics.SEARCHABLE,
            *chat.SEARCHABLE,
            *collectors.SEARCHABLE,
            *dashboards.SEARCHABLE,
            *datasets.SEARCHABLE,
            *forecasts.SEARCHABLE,
            *metrics.SEARCHABLE,
        ],
        touches=datasets.TOUCHES,
        related=anomalies.RELATED,
    )


def metadata() -> MetaData:
    """Every domain's tables, for Alembic and the tests."""
    import augury.accounts.models
    import augury.alerts.models
    import augury.analytics.models
    import augury.anomalies.models
    import augury.audit.models
    import augury.chat.models
    import augury.collectors.models
    import augury.dashboards.models
    import augury.datasets.models
    import augury.events.models
    import augury.forecasts.models
    import augury.jobs.models
    import augury.metrics.models
    import augury.notifications.models
    import augury.predictive.models
    import augury.search.models
    import augury.text.models
    import augury.usage.models
    import augury.webhooks.models  # noqa: F401  (each import adds its tables to Base)
    from augury.store.base import Base

    return Base.metadata


def stream_processor(db: Database, settings: Settings | None = None) -> StreamProcessor:
    """The processor ``augury serve`` (thread or child process) and ``augury worker``
    run: every consumer, then every periodic task."""
    from augury.config import Settings
    from augury.runtime.stream import StreamProcessor

    settings = settings or Settings()
    return StreamProcessor(
        db,
        consumers(),
        periodic_tasks(settings),
        interval_s=settings.metrics.process_interval_s,
    )


def dispatcher(db: Database, settings: Settings) -> Dispatcher:
    """The alert outbox's sender (tests and ``augury worker`` drain it directly)."""
    from augury.alerts.dispatch import Dispatcher

    return Dispatcher(db, settings)


def dispatch_loop(dispatcher: Dispatcher) -> Every:
    """The loop that sends what the outbox holds, every ``alerts.dispatch_interval_s``."""
    from augury.runtime.loops import Every

    return Every(
        "dispatch",
        dispatcher.run_once,
        dispatcher.cfg.dispatch_interval_s,
        on_close=dispatcher.close,
    )


def collector_loop(db: Database, settings: Settings, cache: MetricCache | None = None) -> Every:
    """The collector: polls the data streams that are due every ``collect.tick_s`` in its
    own thread pool, never in the stream processor (a slow source must not hold up
    detection); off with ``AUGURY_COLLECT__ENABLED=false``."""
    from augury.collectors.services.collector import Collector
    from augury.runtime.loops import Every

    collector = Collector(db, settings, cache=cache)
    return Every(
        "collector",
        collector.run_once,
        settings.collect.tick_s,
        on_close=collector.close,
        enabled=settings.collect.enabled,
    )
