"""How dashboards appear in the global search (installed by runtime.wiring)."""

from __future__ import annotations

from augury.dashboards.models import Dashboard
from augury.search.service import Entry, Searchable


def _dashboard(dashboard: Dashboard, _conn) -> Entry:
    return Entry(
        title=dashboard.name,
        body=" ".join(_words(dashboard)),
        link=f"/dashboards/{dashboard.id}",
    )


def _words(dashboard: Dashboard) -> list[str]:
    """The description, then what the tiles say: titles, expressions and notes."""
    words = [dashboard.description or ""]
    for tile in dashboard.tiles or []:
        words += [str(tile.get(k)) for k in ("title", "expression", "text") if tile.get(k)]
    return words


SEARCHABLE = [Searchable(Dashboard, "dashboard", ("name", "description", "tiles"), _dashboard)]
