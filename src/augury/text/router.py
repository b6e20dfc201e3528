"""HTTP routes of text projects, under ``/api/v1/text``: projects and their members,
classes and labels, files, documents and groups, labeling and correction sessions,
human review, export and import, models and analyses.

Each resource's routes live in :mod:`augury.text.routes`; this is the one router the
app includes, in matching order.
"""

from __future__ import annotations

from fastapi import APIRouter

from augury.text.routes import (
    analyses,
    documents,
    files,
    groups,
    models,
    projects,
    review,
    sessions,
    vocabulary,
)

router = APIRouter(prefix="/text", tags=["text"])
for part in (projects, vocabulary, files, documents, groups, sessions, review, models, analyses):
    router.include_router(part.router)
