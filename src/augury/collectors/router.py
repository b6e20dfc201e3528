"""HTTP routes of collectors under ``/api/v1/data-sources`` and ``/api/v1/data-streams``:
the route modules of ``routes/``, gathered into one router for the composition root."""

from __future__ import annotations

from fastapi import APIRouter

from augury.collectors.routes import sources, streams

router = APIRouter(tags=["collectors"])
router.include_router(sources.router)
router.include_router(streams.router)
