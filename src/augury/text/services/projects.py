"""Text projects: creating, listing, changing and deleting them, and who does what in
them (members).

A project's type is fixed at creation (its tags were made under it); an ABSA project
is born with its four sentiments. Deleting one takes everything in it (documents,
sessions, tags, files), so it needs ``confirm``: without it the answer says what would
go. Every change is in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete as sql_delete
from sqlalchemy import desc, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import Membership, Role, User
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import Settings
from augury.errors import Conflict, NotFound, ValidationFailed
from augury.store.pagination import PageParams, paginate
from augury.store.text import contains
from augury.text import access
from augury.text.models import (
    ABSA_LABELS,
    ProjectRole,
    ProjectType,
    TextClass,
    TextDocument,
    TextFile,
    TextGroup,
    TextLabel,
    TextProject,
    TextProjectMember,
    TextSession,
)
from augury.text.schemas.projects import (
    MemberRead,
    ProjectCreate,
    ProjectDeleted,
    ProjectRead,
    ProjectUpdate,
)
from augury.text.services import embedders, files, modeling, review

AUDITED = ("name", "description", "type", "language", "segmentation")


def _snapshot(project: TextProject) -> dict:
    """The audited fields, with the embedding model kept in the project's settings."""
    return {
        **audit.snapshot(project, AUDITED),
        "embedding_model": embedders.project_model(project),
    }


def get(*, session: Session, org_id: int, project_id: int) -> TextProject:
    return access.get_project(session, org_id, project_id)


def name_taken(session: Session, org_id: int, name: str, *, other_than: int | None = None) -> bool:
    stmt = select(TextProject.id).where(TextProject.org_id == org_id, TextProject.name == name)
    if other_than is not None:
        stmt = stmt.where(TextProject.id != other_than)
    return session.scalar(stmt.limit(1)) is not None


def _name_conflict(name: str) -> Conflict:
    return Conflict(
        f"The organization has a project named '{name}' already; pick another name.",
        details={"reason": "NAME_TAKEN", "name": name},
    )


def flush_new(session: Session, project: TextProject) -> None:
    """Flush a new or renamed project; a name another request took meanwhile is 409."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise _name_conflict(project.name) from exc


def create(
    *,
    session: Session,
    principal: Principal,
    body: ProjectCreate,
    settings: Settings | None = None,
) -> TextProject:
    """A new project; an ABSA project gets its fixed sentiments POS, NEG, NEU, CONFLICT.
    An ``embedding_model`` must be one of ``settings``' local models (422)."""
    if name_taken(session, principal.org_id, body.name):
        raise _name_conflict(body.name)
    model = body.embedding_model
    if model is not None:
        embedders.check_name(settings, model)
    project = TextProject(
        org_id=principal.org_id,
        name=body.name,
        description=body.description,
        type=body.type.value,
        language=body.language,
        segmentation=body.segmentation,
        settings={embedders.FIELD: model} if model is not None else {},
        document_count=0,
        created_by_id=principal.user_id,
    )
    session.add(project)
    flush_new(session, project)
    if body.type is ProjectType.ABSA:
        session.add_all(
            TextLabel(project_id=project.id, name=name, position=i, fixed=True, examples=[])
            for i, name in enumerate(ABSA_LABELS)
        )
        session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="text_project.create",
        target_type="text_project",
        target_id=project.id,
        after=_snapshot(project),
    )
    return project


def list_page(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    type: ProjectType | None = None,
    q: str | None = None,
) -> tuple[list[TextProject], int]:
    """The organization's projects, most recently changed first; ``q`` matches the name
    or the description."""
    stmt = select(TextProject).where(TextProject.org_id == org_id)
    if type is not None:
        stmt = stmt.where(TextProject.type == type.value)
    if q and q.strip():
        stmt = stmt.where(
            or_(
                contains(TextProject.name, q.strip()),
                contains(TextProject.description, q.strip()),
            )
        )
    stmt = stmt.order_by(desc(TextProject.updated_at), desc(TextProject.id))
    return paginate(session, stmt, page)


def _count_by_project(session: Session, column, ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(column, func.count()).where(column.in_(ids)).group_by(column)
    ).all()
    return {project_id: int(n) for project_id, n in rows}


def read_all(
    session: Session, principal: Principal, projects: Iterable[TextProject]
) -> list[ProjectRead]:
    """Projects as the API answers them: with their counts and the caller's role, in
    one query per count for the whole list."""
    projects = list(projects)
    ids = [p.id for p in projects]
    if not ids:
        return []
    counts = {
        "document_count": _count_by_project(session, TextDocument.project_id, ids),
        "class_count": _count_by_project(session, TextClass.project_id, ids),
        "label_count": _count_by_project(session, TextLabel.project_id, ids),
        "session_count": _count_by_project(session, TextSession.project_id, ids),
    }
    return [
        ProjectRead.model_validate(
            {
                **{c.key: getattr(p, c.key) for c in TextProject.__table__.columns},
                **{name: found.get(p.id, 0) for name, found in counts.items()},
                "embedding_model": embedders.project_model(p),
                "role": access.project_role(session, principal, p),
            }
        )
        for p in projects
    ]


def read(session: Session, principal: Principal, project: TextProject) -> ProjectRead:
    return read_all(session, principal, [project])[0]


def update(
    *,
    session: Session,
    principal: Principal,
    project: TextProject,
    body: ProjectUpdate,
    settings: Settings | None = None,
) -> TextProject:
    """Rename or describe the project, or change its language, the segmentation of
    documents added from now on or the embedding model of models trained from now on
    (one of ``settings``' local models, 422 otherwise; null: the built-in one)."""
    if body.type is not None and body.type.value != project.type:
        raise ValidationFailed(
            f"A project's type is fixed once created (this one is {project.type}); "
            "make a new project of the other type.",
            details={"reason": "TYPE_FIXED", "type": project.type},
        )
    if body.embedding_model is not None:
        embedders.check_name(settings, body.embedding_model)
    before = _snapshot(project)
    changes = body.model_dump(exclude_unset=True, exclude={"type", "embedding_model"})
    name = changes.get("name")
    if name not in (None, project.name) and name_taken(
        session, project.org_id, name, other_than=project.id
    ):
        raise _name_conflict(name)
    for field, value in changes.items():
        if value is not None:
            setattr(project, field, value)
    if "embedding_model" in body.model_fields_set:
        embedders.set_project_model(project, body.embedding_model)
    project.updated_at = clock.now()
    flush_new(session, project)
    audit.record_change(
        session=session,
        principal=principal,
        action="text_project.update",
        target_type="text_project",
        target_id=project.id,
        before=before,
        after=_snapshot(project),
    )
    return project


def contents(session: Session, project: TextProject) -> ProjectDeleted:
    """What the project holds that its deletion takes with it."""

    def count(model) -> int:
        return int(session.scalar(select(func.count()).where(model.project_id == project.id)) or 0)

    return ProjectDeleted(
        documents=count(TextDocument),
        sessions=count(TextSession),
        classes=count(TextClass),
        labels=count(TextLabel),
        groups=count(TextGroup),
    )


def delete(
    *,
    session: Session,
    principal: Principal,
    settings: Settings,
    project: TextProject,
    confirm: bool,
) -> ProjectDeleted:
    """Delete the project and everything in it (the database cascades to every text
    table; uploaded files leave the blob storage too). Without ``confirm``: 409 saying
    what would go."""
    held = contents(session, project)
    if not confirm:
        raise Conflict(
            f"Deleting project '{project.name}' deletes its {held.documents} documents and "
            f"{held.sessions} sessions with their labels, and its {held.classes} classes, "
            f"{held.labels} labels and {held.groups} groups. Repeat with ?confirm=true.",
            details={"reason": "CONFIRM_DELETE", **held.model_dump()},
        )
    uploads = list(session.scalars(select(TextFile).where(TextFile.project_id == project.id)))
    for upload in uploads:
        session.expunge(upload)
    audit.record_change(
        session=session,
        principal=principal,
        action="text_project.delete",
        target_type="text_project",
        target_id=project.id,
        before={**audit.snapshot(project, AUDITED), **held.model_dump()},
    )
    review.drop_webhook_channel(session, project)  # an alert channel outlives the project
    model_files = modeling.stored_files(session, project)
    session.execute(sql_delete(TextProject).where(TextProject.id == project.id))
    session.expunge(project)
    files.forget(settings, uploads)
    modeling.forget_files(settings, model_files)
    return held


# --- members -------------------------------------------------------------------------


def _effective(org_role: str, explicit: str | None) -> ProjectRole:
    """A person's role in a project, as :func:`augury.text.access.project_role` decides
    it for a signed-in person (admins and owners always manage)."""
    if Role(org_role).rank >= Role.admin.rank:
        return ProjectRole.MANAGER
    if explicit is not None:
        return ProjectRole(explicit)
    return ProjectRole.MANAGER if Role(org_role).rank >= Role.member.rank else ProjectRole.VIEWER


def _active_members(session: Session, org_id: int, user_id: int | None = None):
    stmt = (
        select(Membership.user_id, Membership.role, User.email, User.name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org_id, Membership.disabled_at.is_(None))
        .order_by(Membership.user_id)
    )
    if user_id is not None:
        stmt = stmt.where(Membership.user_id == user_id)
    return session.execute(stmt).all()


def list_members(*, session: Session, project: TextProject) -> list[MemberRead]:
    """Everyone of the organization with their effective role in the project."""
    explicit = dict(
        session.execute(
            select(TextProjectMember.user_id, TextProjectMember.role).where(
                TextProjectMember.project_id == project.id
            )
        ).all()
    )
    return [
        MemberRead(
            user_id=user_id,
            email=email,
            name=name,
            org_role=org_role,
            role=_effective(org_role, explicit.get(user_id)),
            explicit_role=explicit.get(user_id),
        )
        for user_id, org_role, email, name in _active_members(session, project.org_id)
    ]


def _member_row(session: Session, project: TextProject, user_id: int):
    found = _active_members(session, project.org_id, user_id)
    if not found:
        raise NotFound(
            "No active member of this organization has that id.",
            details={"user_id": user_id},
        )
    return found[0]


def set_member(
    *,
    session: Session,
    principal: Principal,
    project: TextProject,
    user_id: int,
    role: ProjectRole,
) -> MemberRead:
    """Give a person of the organization an explicit role in the project."""
    user_id, org_role, email, name = _member_row(session, project, user_id)
    if Role(org_role).rank >= Role.admin.rank:
        raise ValidationFailed(
            f"{email} is an organization {org_role} and manages every project; "
            "a project role would not change that.",
            details={"reason": "ORG_ADMIN", "org_role": org_role},
        )
    row = session.scalar(
        select(TextProjectMember).where(
            TextProjectMember.project_id == project.id, TextProjectMember.user_id == user_id
        )
    )
    before = {"role": row.role} if row is not None else None
    if row is None:
        row = TextProjectMember(project_id=project.id, user_id=user_id, role=role.value)
        session.add(row)
    else:
        row.role = role.value
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="text_project.member.set",
        target_type="text_project",
        target_id=project.id,
        before=None if before is None else {"user_id": user_id, **before},
        after={"user_id": user_id, "role": role.value},
    )
    return MemberRead(
        user_id=user_id,
        email=email,
        name=name,
        org_role=org_role,
        role=_effective(org_role, role.value),
        explicit_role=role,
    )


def remove_member(
    *, session: Session, principal: Principal, project: TextProject, user_id: int
) -> None:
    """Drop a person's explicit role: their organization role applies again."""
    row = session.scalar(
        select(TextProjectMember).where(
            TextProjectMember.project_id == project.id, TextProjectMember.user_id == user_id
        )
    )
    if row is None:
        raise NotFound("That person has no role set on this project.", details={"user_id": user_id})
    audit.record_change(
        session=session,
        principal=principal,
        action="text_project.member.remove",
        target_type="text_project",
        target_id=project.id,
        before={"user_id": user_id, "role": row.role},
    )
    session.delete(row)
    session.flush()
