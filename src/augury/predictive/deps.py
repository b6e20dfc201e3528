"""HTTP dependencies of the predictive routes: the model a path names (404 for another
organization's) and its version by number."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from augury.api.deps import MAX_ID, ObjectId, Reader, SessionDep
from augury.predictive.models import ModelVersion, PredictiveModel
from augury.predictive.services import registry


def _model(model_id: ObjectId, principal: Reader, session: SessionDep) -> PredictiveModel:
    return registry.get_model(session, principal.org_id, model_id)


ModelDep = Annotated[PredictiveModel, Depends(_model)]
"""The path's model, for anyone in its organization who may read."""

VersionNumber = Annotated[
    int, Path(ge=1, le=MAX_ID, description="The version's number within its model.")
]


def _version(model: ModelDep, number: VersionNumber, session: SessionDep) -> ModelVersion:
    return registry.get_version(session, model, number)


VersionDep = Annotated[ModelVersion, Depends(_version)]
"""Version ``{number}`` of the path's model (404 when it has none)."""
