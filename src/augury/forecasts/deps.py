"""Loader for the forecasting routes: the task a path names, from the principal's
organization only (another organization's id is a 404, as if it did not exist).

It resolves the principal as ``Reader``; a route that changes the task also declares
``Writer`` before it, so that a reader is refused (403) before the lookup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from augury.api.deps import ObjectId, Reader, SessionDep
from augury.forecasts import service
from augury.forecasts.models import ForecastTask


def _task(task_id: ObjectId, principal: Reader, session: SessionDep) -> ForecastTask:
    return service.get_task(session=session, org_id=principal.org_id, task_id=task_id)


ForecastTaskDep = Annotated[ForecastTask, Depends(_task)]
