"""How saved charts appear in the global search (installed by runtime.wiring)."""

from __future__ import annotations

from augury.analytics.models import SavedChart
from augury.search.service import Entry, Searchable


def _chart(chart: SavedChart, _conn) -> Entry:
    return Entry(
        title=chart.title or chart.query,
        body=chart.query,
        link=f"/ask?chart={chart.id}",
    )


SEARCHABLE = [Searchable(SavedChart, "chart", ("title", "query"), _chart)]
