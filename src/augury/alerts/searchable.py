"""How alerts appear in the global search (installed by runtime.wiring)."""

from __future__ import annotations

from augury.alerts.models import AlertConfig
from augury.search.service import Entry, Searchable


def _alert(config: AlertConfig, _conn) -> Entry:
    words = [config.description, ", ".join(config.labels or []), config.expression, config.owner]
    return Entry(
        title=config.title,
        body=" · ".join(w for w in words if w),
        link=f"/alerts/{config.id}/edit",
    )


SEARCHABLE = [
    Searchable(
        AlertConfig, "alert", ("title", "description", "labels", "expression", "owner"), _alert
    )
]
