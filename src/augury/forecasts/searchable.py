"""How forecasts appear in the global search (installed by runtime.wiring)."""

from __future__ import annotations

from augury.forecasts.models import ForecastTask
from augury.search.service import Entry, Searchable


def _forecast(task: ForecastTask, _conn) -> Entry:
    return Entry(title=task.name, body=task.expression, link=f"/forecasts/{task.id}")


SEARCHABLE = [Searchable(ForecastTask, "forecast", ("name", "expression"), _forecast)]
