"""A project's way to other places: cloned (in its organization or into another) and
transferred to another organization.

Cross-organization work is for people who are an admin or owner of the organization
the project goes to (their membership says so; a person may belong to several), and,
for a transfer, of the one it leaves too. A copy or a move is one transaction.
Copies read and write a chunk of documents at a time (with their segments, group and
session links, tags and marks) through multi-row inserts, so a big project is copied
in bounded memory. A transfer moves every row that belongs to the project: each table
with an ``org_id`` and a ``project_id`` referencing ``text_project``
(:func:`project_tables`), so tables that later issues add move too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, Table, case, insert, literal, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import Membership, Role
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from augury.text.models import (
    TextAnnotation,
    TextClass,
    TextDocument,
    TextGroup,
    TextGroupDocument,
    TextLabel,
    TextMark,
    TextProject,
    TextProjectMember,
    TextReviewConfig,
    TextSegment,
    TextSession,
    TextSessionAssignee,
    TextSessionDocument,
)
from augury.text.schemas.projects import ProjectClone
from augury.text.services import documents as documents_service
from augury.text.services import projects, review

CHUNK = 500
"""Documents copied per round of queries."""


# --- organizations -------------------------------------------------------------------


def administered(session: Session, principal: Principal, org_id: int) -> Principal:
    """The caller acting in organization ``org_id``, where they must be an active admin
    or owner (404 when not a member: another organization does not exist for them)."""
    principal.require_user()
    role = session.scalar(
        select(Membership.role).where(
            Membership.org_id == org_id,
            Membership.user_id == principal.user_id,
            Membership.disabled_at.is_(None),
        )
    )
    if role is None:
        raise NotFound("Organization not found.", details={"org_id": org_id})
    if Role(role).rank < Role.admin.rank:
        raise PermissionDenied(
            f"You are a {role} of that organization; a project can go there only "
            "from an admin or owner of it.",
            details={"required": "admin", "role": role, "org_id": org_id},
        )
    return Principal(
        org_id=org_id,
        user_id=principal.user_id,
        role=Role(role),
        session_id=principal.session_id,
        email=principal.email,
        ip=principal.ip,
    )


def _org_user_ids(session: Session, org_id: int) -> set[int]:
    return set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.org_id == org_id, Membership.disabled_at.is_(None)
            )
        )
    )


# --- clone ---------------------------------------------------------------------------


def _copy_name(session: Session, org_id: int, name: str) -> str:
    candidate = f"Copy of {name}"[:200]
    n = 2
    while projects.name_taken(session, org_id, candidate):
        candidate = f"Copy {n} of {name}"[:200]
        n += 1
    return candidate


def clone(
    *, session: Session, principal: Principal, project: TextProject, body: ProjectClone
) -> tuple[TextProject, Principal]:
    """Copy the project into this organization or another the caller administers: its
    classes, labels, documents with their segments, groups, and with
    ``include_annotations`` the sessions that hold labels (their documents, tags, marks
    and the assignees who are members there). The copy and the caller acting in its
    organization."""
    target = body.org_id or project.org_id
    acting = principal if target == project.org_id else administered(session, principal, target)
    name = body.name or _copy_name(session, target, project.name)
    if projects.name_taken(session, target, name):
        raise Conflict(
            f"The organization has a project named '{name}' already; give the copy a name.",
            details={"reason": "NAME_TAKEN", "name": name},
        )
    copy = TextProject(
        org_id=target,
        name=name,
        description=project.description,
        type=project.type,
        language=project.language,
        segmentation=project.segmentation,
        settings=dict(project.settings or {}),
        document_count=0,
        created_by_id=principal.user_id,
    )
    session.add(copy)
    projects.flush_new(session, copy)
    same_org = target == project.org_id
    plan = _Copy(
        source=project,
        copy=copy,
        classes=_copy_vocab(session, TextClass, project.id, copy.id),
        labels=_copy_vocab(session, TextLabel, project.id, copy.id),
        keep_people=same_org,
    )
    plan.groups = _copy_groups(session, plan, principal)
    if body.include_annotations:
        plan.sessions = _copy_sessions(session, plan, principal, _org_user_ids(session, target))
    copy.document_count = _copy_documents(session, plan)
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="text_project.clone",
        target_type="text_project",
        target_id=project.id,
        after={"copy_id": copy.id, "org_id": target, "name": name},
    )
    if not same_org:
        audit.record_change(
            session=session,
            principal=acting,
            action="text_project.create",
            target_type="text_project",
            target_id=copy.id,
            after={"name": name, "cloned_from": project.id, "from_org_id": project.org_id},
        )
    return copy, acting


@dataclass
class _Copy:
    source: TextProject
    copy: TextProject
    classes: dict[int, int]
    labels: dict[int, int]
    keep_people: bool
    groups: dict[int, int] = field(default_factory=dict)
    sessions: dict[int, int] = field(default_factory=dict)

    def person(self, user_id: int | None, principal: Principal) -> int | None:
        """Who a copied row says made it: the same person in the same organization,
        the one copying in another."""
        return user_id if self.keep_people else principal.user_id

    def tags(self, tags: Any) -> list:
        """Tags with the copy's class and label ids (one naming a class or label the
        copy lacks is dropped)."""
        out = []
        for tag in tags or []:
            if not isinstance(tag, dict):
                continue
            class_id, label_id = tag.get("class_id"), tag.get("label_id")
            if (class_id is not None and class_id not in self.classes) or (
                label_id is not None and label_id not in self.labels
            ):
                continue
            out.append(
                {
                    **tag,
                    "class_id": None if class_id is None else self.classes[class_id],
                    "label_id": None if label_id is None else self.labels[label_id],
                }
            )
        return out

    def ids(self, ids: list | None, mapping: dict[int, int]) -> list | None:
        return None if ids is None else [mapping[i] for i in ids if i in mapping]


def _copy_vocab(session: Session, model, source_id: int, copy_id: int) -> dict[int, int]:
    items = list(
        session.scalars(select(model).where(model.project_id == source_id).order_by(model.id))
    )
    copies = [
        model(
            project_id=copy_id,
            **{
                c.key: getattr(item, c.key)
                for c in model.__table__.columns
                if c.key not in ("id", "project_id", "created_at")
            },
        )
        for item in items
    ]
    session.add_all(copies)
    session.flush()
    return {item.id: c.id for item, c in zip(items, copies, strict=True)}


def _copy_groups(session: Session, plan: _Copy, principal: Principal) -> dict[int, int]:
    groups = list(
        session.scalars(
            select(TextGroup).where(TextGroup.project_id == plan.source.id).order_by(TextGroup.id)
        )
    )
    copies = [
        TextGroup(
            org_id=plan.copy.org_id,
            project_id=plan.copy.id,
            name=g.name,
            description=g.description,
            document_count=g.document_count,
            created_by_id=plan.person(g.created_by_id, principal),
        )
        for g in groups
    ]
    session.add_all(copies)
    session.flush()
    return {g.id: c.id for g, c in zip(groups, copies, strict=True)}


def _copy_sessions(
    session: Session, plan: _Copy, principal: Principal, members: set[int]
) -> dict[int, int]:
    labeled = select(TextAnnotation.id).where(TextAnnotation.session_id == TextSession.id).exists()
    rows = list(
        session.scalars(
            select(TextSession)
            .where(TextSession.project_id == plan.source.id, labeled)
            .order_by(TextSession.id)
        )
    )
    copies = []
    for s in rows:
        sampling = dict(s.sampling or {})
        if sampling.get("group_id") in plan.groups:
            sampling["group_id"] = plan.groups[sampling["group_id"]]
        copies.append(
            TextSession(
                org_id=plan.copy.org_id,
                project_id=plan.copy.id,
                name=s.name,
                description=s.description,
                mode=s.mode,
                status=s.status,
                class_ids=plan.ids(s.class_ids, plan.classes),
                label_ids=plan.ids(s.label_ids, plan.labels),
                sampling=sampling,
                model_id=None,
                predicted_score=s.predicted_score,
                document_count=s.document_count,
                finished_at=s.finished_at,
                updated_at=s.updated_at,
                created_by_id=plan.person(s.created_by_id, principal),
            )
        )
    session.add_all(copies)
    session.flush()
    mapping = {s.id: c.id for s, c in zip(rows, copies, strict=True)}
    if mapping:
        assignees = session.execute(
            select(TextSessionAssignee.session_id, TextSessionAssignee.user_id).where(
                TextSessionAssignee.session_id.in_(list(mapping))
            )
        ).all()
        session.add_all(
            TextSessionAssignee(session_id=mapping[sid], user_id=uid)
            for sid, uid in assignees
            if uid in members
        )
    return mapping


def inserted(session: Session, model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` in multi-row statements; their new ids, in order. Through the
    table (Core), not the ORM, whose bookkeeping per row would double a big copy's time;
    the columns' Python defaults apply all the same."""
    if not rows:
        return []
    table = model.__table__
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.execute(stmt, rows).scalars())


def insert_rows(session: Session, model, rows: list[dict]) -> None:
    """Insert ``rows`` (Core, as :func:`inserted`), when their ids are not needed."""
    if rows:
        session.execute(insert(model.__table__), rows)


def _copy_documents(session: Session, plan: _Copy) -> int:
    """Copy the documents a chunk at a time, each chunk with its segments, group links
    and (when sessions are copied) session links, tags and marks; the number copied."""
    columns = [
        TextDocument.id,
        TextDocument.external_id,
        TextDocument.text,
        TextDocument.meta,
        TextDocument.pages,
        TextDocument.segmentation,
        TextDocument.source,
        TextDocument.length,
        TextDocument.segment_count,
        TextDocument.created_at,
    ]
    last, copied = 0, 0
    while True:
        docs = session.execute(
            select(*columns)
            .where(TextDocument.project_id == plan.source.id, TextDocument.id > last)
            .order_by(TextDocument.id)
            .limit(CHUNK)
        ).all()
        if not docs:
            return copied
        last = docs[-1].id
        new_ids = documents_service.insert_documents(
            session,
            [
                {
                    **{c.key: getattr(d, c.key) for c in columns if c.key != "id"},
                    "org_id": plan.copy.org_id,
                    "project_id": plan.copy.id,
                }
                for d in docs
            ],
        )
        documents = {d.id: new for d, new in zip(docs, new_ids, strict=True)}
        segments = _copy_segments(session, plan, documents)
        _copy_links(session, plan, documents, segments)
        copied += len(docs)


def _copy_segments(session: Session, plan: _Copy, documents: dict[int, int]) -> dict[int, int]:
    """Copy the documents' segments in one INSERT ... SELECT (their text never leaves the
    database); the old-to-new segment ids when sessions are copied too (their tags and
    marks name segments), found by document, position and start."""
    old_ids = list(documents)
    columns = ("position", "start", "end", "page", "text")
    session.execute(
        insert(TextSegment).from_select(
            ["document_id", "project_id", *columns],
            select(
                case(documents, value=TextSegment.document_id),
                literal(plan.copy.id, Integer),
                *(getattr(TextSegment, c) for c in columns),
            ).where(TextSegment.document_id.in_(old_ids)),
        )
    )
    if not plan.sessions:
        return {}
    where = (TextSegment.document_id, TextSegment.position, TextSegment.start)
    new = session.execute(
        select(TextSegment.id, *where).where(TextSegment.document_id.in_(list(documents.values())))
    ).all()
    found = {(d, p, s): segment_id for segment_id, d, p, s in new}
    old = session.execute(
        select(TextSegment.id, *where).where(TextSegment.document_id.in_(old_ids))
    )
    return {segment_id: found[(documents[d], p, s)] for segment_id, d, p, s in old}


def _columns(model) -> list:
    """The table's columns, to read rows as tuples (no ORM objects pile up in a big copy)."""
    return [getattr(model, c.key) for c in model.__table__.columns]


def _copy_links(
    session: Session, plan: _Copy, documents: dict[int, int], segments: dict[int, int]
) -> None:
    old_docs = list(documents)
    if plan.groups:
        links = session.execute(
            select(TextGroupDocument.group_id, TextGroupDocument.document_id).where(
                TextGroupDocument.document_id.in_(old_docs)
            )
        ).all()
        rows = [
            {"group_id": plan.groups[g], "document_id": documents[d]}
            for g, d in links
            if g in plan.groups
        ]
        if rows:
            insert_rows(session, TextGroupDocument, rows)
    if not plan.sessions:
        return
    sessions = list(plan.sessions)
    in_sessions = session.execute(
        select(
            TextSessionDocument.session_id,
            TextSessionDocument.document_id,
            TextSessionDocument.position,
            TextSessionDocument.score,
        ).where(
            TextSessionDocument.document_id.in_(old_docs),
            TextSessionDocument.session_id.in_(sessions),
        )
    ).all()
    if in_sessions:
        insert_rows(
            session,
            TextSessionDocument,
            [
                {
                    "session_id": plan.sessions[s.session_id],
                    "document_id": documents[s.document_id],
                    "position": s.position,
                    "score": s.score,
                }
                for s in in_sessions
            ],
        )
    annotations = session.execute(
        select(*_columns(TextAnnotation)).where(
            TextAnnotation.document_id.in_(old_docs), TextAnnotation.session_id.in_(sessions)
        )
    ).all()
    if annotations:
        insert_rows(
            session,
            TextAnnotation,
            [
                {
                    "org_id": plan.copy.org_id,
                    "project_id": plan.copy.id,
                    "session_id": plan.sessions[a.session_id],
                    "document_id": documents[a.document_id],
                    "segment_id": segments[a.segment_id],
                    "annotator_id": a.annotator_id,
                    "annotator_key": a.annotator_key,
                    "source": a.source,
                    "tags": plan.tags(a.tags),
                    "score": a.score,
                    "version": a.version,
                    "updated_at": a.updated_at,
                }
                for a in annotations
            ],
        )
    marks = session.execute(
        select(*_columns(TextMark)).where(
            TextMark.document_id.in_(old_docs), TextMark.session_id.in_(sessions)
        )
    ).all()
    rows = []
    for m in marks:
        ref = m.ref
        if m.scope == "segment":
            if m.ref not in segments:
                continue
            ref = segments[m.ref]
        rows.append(
            {
                "org_id": plan.copy.org_id,
                "project_id": plan.copy.id,
                "session_id": plan.sessions[m.session_id],
                "document_id": documents[m.document_id],
                "user_id": m.user_id,
                "user_key": m.user_key,
                "scope": m.scope,
                "ref": ref,
                "name": m.name,
                "created_at": m.created_at,
            }
        )
    if rows:
        insert_rows(session, TextMark, rows)


# --- transfer ------------------------------------------------------------------------


def project_tables() -> list[Table]:
    """Every table whose rows belong to one text project and carry their organization:
    an ``org_id`` column and a ``project_id`` that references ``text_project``."""
    found = []
    for table in TextProject.metadata.sorted_tables:
        project_id = table.c.get("project_id")
        if "org_id" not in table.c or project_id is None:
            continue
        if any(fk.column.table.name == TextProject.__tablename__ for fk in project_id.foreign_keys):
            found.append(table)
    return found


def transfer(
    *, session: Session, principal: Principal, project: TextProject, org_id: int
) -> Principal:
    """Move the project and everything in it to organization ``org_id``: the caller
    must be an admin or owner of both. Explicit roles and session assignments of people
    who are not members there are dropped. The caller acting in the new organization."""
    if org_id == project.org_id:
        raise ValidationFailed(
            "The project is in that organization already.", details={"reason": "SAME_ORG"}
        )
    principal.require_user()
    principal.require("admin")
    acting = administered(session, principal, org_id)
    if projects.name_taken(session, org_id, project.name):
        raise Conflict(
            f"The organization has a project named '{project.name}' already; rename one "
            "of them first.",
            details={"reason": "NAME_TAKEN", "name": project.name},
        )
    old_org = project.org_id
    audit.record_change(
        session=session,
        principal=principal,
        action="text_project.transfer",
        target_type="text_project",
        target_id=project.id,
        before={"org_id": old_org, "name": project.name},
        after={"org_id": org_id},
    )
    review.drop_webhook_channel(session, project)  # the old organization's channel
    for table in project_tables():
        session.execute(update(table).where(table.c.project_id == project.id).values(org_id=org_id))
    project.org_id = org_id
    project.updated_at = clock.now()
    projects.flush_new(session, project)
    members = _org_user_ids(session, org_id)
    _drop_outsiders(session, project, members)
    audit.record_change(
        session=session,
        principal=acting,
        action="text_project.transfer",
        target_type="text_project",
        target_id=project.id,
        before={"org_id": old_org},
        after={"org_id": org_id, "name": project.name},
    )
    return acting


def _drop_outsiders(session: Session, project: TextProject, members: set[int]) -> None:
    session.execute(
        sql_delete(TextProjectMember).where(
            TextProjectMember.project_id == project.id,
            TextProjectMember.user_id.not_in(members),
        )
    )
    project_sessions = select(TextSession.id).where(TextSession.project_id == project.id)
    session.execute(
        sql_delete(TextSessionAssignee).where(
            TextSessionAssignee.session_id.in_(project_sessions),
            TextSessionAssignee.user_id.not_in(members),
        )
    )
    for config in session.scalars(
        select(TextReviewConfig).where(TextReviewConfig.project_id == project.id)
    ):
        config.assignee_ids = [u for u in config.assignee_ids or [] if u in members]
