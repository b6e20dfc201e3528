"""HTTP dependencies of the analytics routes: the saved chart or analysis a path names
(404 for another organization's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from augury.analytics import service
from augury.analytics.models import Analysis, SavedChart
from augury.api.deps import ObjectId, Reader, SessionDep


def _chart(chart_id: ObjectId, principal: Reader, session: SessionDep) -> SavedChart:
    return service.get_chart(session=session, org_id=principal.org_id, chart_id=chart_id)


def _analysis(analysis_id: ObjectId, principal: Reader, session: SessionDep) -> Analysis:
    return service.get_analysis(session=session, org_id=principal.org_id, analysis_id=analysis_id)


ChartDep = Annotated[SavedChart, Depends(_chart)]
AnalysisDep = Annotated[Analysis, Depends(_analysis)]
