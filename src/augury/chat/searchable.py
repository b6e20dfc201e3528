"""How chatbots (use cases) appear in the global search (installed by runtime.wiring):
their name, then description, welcome message and handover words; the link opens the
use case's page."""

from __future__ import annotations

from augury.chat.models import ChatUseCase
from augury.search.service import Entry, Searchable

KIND = "use_case"


def _use_case(use_case: ChatUseCase, _conn) -> Entry:
    words = [
        use_case.description or "",
        use_case.welcome or "",
        ", ".join(use_case.words_for_manual or []),
        ", ".join(use_case.words_for_attention or []),
    ]
    return Entry(
        title=use_case.name,
        body=" · ".join(w for w in words if w),
        link=f"/chat/{use_case.id}",
    )


SEARCHABLE = [
    Searchable(
        ChatUseCase,
        KIND,
        ("name", "description", "welcome", "words_for_manual", "words_for_attention"),
        _use_case,
    )
]
