"""HTTP dependencies of the text routes: the project a path names, checked for the
project role the route needs (404 for another organization's project, 403 below the
role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from augury.accounts.principal import Principal
from augury.api.deps import Authenticated, ObjectId, SessionDep
from augury.text import access
from augury.text.models import ProjectRole, TextProject


def _project_at(need: ProjectRole):
    def dependency(
        project_id: ObjectId, principal: Authenticated, session: SessionDep
    ) -> TextProject:
        if principal.key_id is not None and not principal.can("read"):
            principal.require("read")
        return access.load(session, principal, project_id, need)

    dependency.__name__ = f"project_{need.value.lower()}"
    return dependency


ProjectViewer = Annotated[TextProject, Depends(_project_at(ProjectRole.VIEWER))]
"""The path's project, for anyone who may read it."""
ProjectAnnotator = Annotated[TextProject, Depends(_project_at(ProjectRole.ANNOTATOR))]
"""The path's project, for annotators and managers."""
ProjectManager = Annotated[TextProject, Depends(_project_at(ProjectRole.MANAGER))]
"""The path's project, for its managers."""

__all__ = ["Principal", "ProjectAnnotator", "ProjectManager", "ProjectViewer"]
