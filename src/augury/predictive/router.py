"""HTTP routes of predictive models, under ``/api/v1``: applications and subscriptions,
summaries, the model registry (trainings and their versions, files), predictions and
what-ifs.

Each resource's routes live in :mod:`augury.predictive.routes`; this is the one router
the app includes, in matching order.
"""

from __future__ import annotations

from fastapi import APIRouter

from augury.predictive.routes import applications, models, predictions

router = APIRouter(tags=["models"])
for part in (applications, models, predictions):
    router.include_router(part.router)
