"""Who may do what in a text project.

A person's role in a project is their explicit :class:`~augury.text.models.TextProjectMember`
role when they have one, else what their organization role implies: members and above
manage, viewers read. Organization admins and owners always manage (an admin cannot be
locked out of their own organization's project). An API key manages with the ``write``
or ``admin`` scope and reads with ``read``.

Annotators see only the sessions they are assigned to; that rule lives with the
sessions (:mod:`augury.text.services.sessions`), which ask :func:`project_role`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.accounts.models import Role
from augury.accounts.principal import Principal
from augury.errors import PermissionDenied
from augury.store.owned import get_owned
from augury.text.models import ProjectRole, TextProject, TextProjectMember

_NEED_WORDS = {
    ProjectRole.VIEWER: "read this project",
    ProjectRole.ANNOTATOR: "label in this project",
    ProjectRole.MANAGER: "manage this project",
}


def project_role(session: Session, principal: Principal, project: TextProject) -> ProjectRole:
    if principal.key_id is not None:
        return ProjectRole.MANAGER if principal.can("write") else ProjectRole.VIEWER
    if principal.role is not None and principal.role.rank >= Role.admin.rank:
        return ProjectRole.MANAGER
    explicit = session.scalar(
        select(TextProjectMember.role).where(
            TextProjectMember.project_id == project.id,
            TextProjectMember.user_id == principal.user_id,
        )
    )
    if explicit is not None:
        return ProjectRole(explicit)
    return ProjectRole.MANAGER if principal.can("write") else ProjectRole.VIEWER


def require(
    session: Session, principal: Principal, project: TextProject, need: ProjectRole
) -> ProjectRole:
    """The principal's role in ``project``, or :class:`PermissionDenied` when below ``need``."""
    role = project_role(session, principal, project)
    if role.rank < need.rank:
        raise PermissionDenied(
            f"Your project role {role} cannot {_NEED_WORDS[need]}; "
            f"it needs {need} (ask a project manager).",
            details={"required": need.value, "role": role.value},
        )
    return role


def get_project(session: Session, org_id: int, project_id: int) -> TextProject:
    return get_owned(session, TextProject, org_id, project_id, "Project")


def load(session: Session, principal: Principal, project_id: int, need: ProjectRole) -> TextProject:
    """The organization's project ``project_id`` (404 for any other's), checked for ``need``."""
    project = get_project(session, principal.org_id, project_id)
    require(session, principal, project, need)
    return project
