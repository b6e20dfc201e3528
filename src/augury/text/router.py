"""HTTP routes of text projects, under ``/api/v1/text``: projects and their members,
classes and labels, files, documents and groups, labeling and correction sessions,
human review, export and import.

Each resource's routes live in :mod:`augury.text.routes`; this is the one router the
app includes.
"""

from __future__ import annotations

import importlib

from fastapi import APIRouter

router = APIRouter(prefix="/text", tags=["text"])

_PARTS = ("projects", "vocabulary", "files", "documents", "groups", "sessions", "review")
"""Route modules, in matching order; each has a ``router``. A module not written yet
is left out, so the domain grows one resource at a time."""

for _name in _PARTS:
    try:
        _module = importlib.import_module(f"augury.text.routes.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"augury.text.routes.{_name}":
            raise
        continue
    router.include_router(_module.router)
