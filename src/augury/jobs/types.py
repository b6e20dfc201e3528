"""Registry of job types: name -> "module:Class", imported lazily.

A job type is a class with ``name``, ``title``, a pydantic ``Params`` model and
``run(ctx, params) -> dict | None``. Domains add their types to ``JOB_TYPES`` (e.g.
"metrics.backfill"); the API validates params against ``Params`` before queueing.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from pydantic import BaseModel

JOB_TYPES: dict[str, str] = {
    "demo.work": "augury.jobs.builtin:DemoWork",
    "metrics.backfill": "augury.metrics.jobs:Backfill",
    "forecast.run": "augury.forecasts.jobs:RunForecast",
    "forecast.csv": "augury.forecasts.jobs:ForecastCsv",
}


class JobType(Protocol):
    name: str
    title: str
    Params: type[BaseModel]

    def run(self, ctx: Any, params: Any) -> dict | None: ...


def load(name: str) -> JobType:
    """The job type registered under ``name``; KeyError if there is none."""
    module, _, attr = JOB_TYPES[name].partition(":")
    return getattr(importlib.import_module(module), attr)()


def describe() -> list[dict]:
    out = []
    for name in sorted(JOB_TYPES):
        jt = load(name)
        out.append(
            {"name": name, "title": jt.title, "params_schema": jt.Params.model_json_schema()}
        )
    return out
