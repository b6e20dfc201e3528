"""Loaders for the anomalies routes: the row a path names, from the principal's
organization only (another organization's id is a 404, as if it did not exist).

Each resolves the principal as ``Reader``; a route that changes the row also declares
``Writer`` before the loader, so that a reader is refused (403) before the lookup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from augury.anomalies import service
from augury.anomalies.models import AnomalyGroup, Exclusion, SensitivityRule
from augury.api.deps import ObjectId, Reader, SessionDep


def _anomaly(anomaly_id: ObjectId, principal: Reader, session: SessionDep) -> AnomalyGroup:
    return service.get_or_raise(session=session, org_id=principal.org_id, anomaly_id=anomaly_id)


def _exclusion(exclusion_id: ObjectId, principal: Reader, session: SessionDep) -> Exclusion:
    return service.get_exclusion(
        session=session, org_id=principal.org_id, exclusion_id=exclusion_id
    )


def _rule(rule_id: ObjectId, principal: Reader, session: SessionDep) -> SensitivityRule:
    return service.get_rule(session=session, org_id=principal.org_id, rule_id=rule_id)


AnomalyDep = Annotated[AnomalyGroup, Depends(_anomaly)]
"""The Anomaly object ``{anomaly_id}`` (a group of metric anomalies)."""
ExclusionDep = Annotated[Exclusion, Depends(_exclusion)]
SensitivityRuleDep = Annotated[SensitivityRule, Depends(_rule)]
