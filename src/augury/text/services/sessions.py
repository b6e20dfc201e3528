"""Labeling sessions (ANNOTATION), correction sessions (CORRECTION) and imported labeled
files (IMPORT): which documents, which classes and labels, who labels them, and what
the annotator view, progress and agreement read.

Annotators see only the sessions they are assigned to: any other session, like any
session of another project or organization, does not exist for them (404, not 403).
Viewers read every session of the project and save nothing; managers do everything.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, func, insert, select
from sqlalchemy.orm import Session, undefer

from augury import clock
from augury.accounts.models import Membership, Role, User
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import Settings
from augury.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from augury.store.pagination import PageParams
from augury.text import access
from augury.text.models import (
    ABSA_LABELS,
    ProjectRole,
    ProjectType,
    SessionMode,
    SessionStatus,
    TextAnnotation,
    TextDocument,
    TextGroup,
    TextGroupDocument,
    TextMark,
    TextProject,
    TextSegment,
    TextSession,
    TextSessionAssignee,
    TextSessionDocument,
)
from augury.text.schemas.sessions import (
    MAX_SESSION_DOCUMENTS,
    ColumnMapping,
    SessionCreate,
    SessionUpdate,
    TagsSave,
)
from augury.text.schemas.vocabulary import VocabCreate
from augury.text.services import annotations as annotating
from augury.text.services import correction, documents, files, vocabulary
from augury.text.services.annotations import Vocabulary, annotator_key

AUDITED = ("name", "description", "status", "class_ids", "label_ids")
SNIPPET_CHARS = 300
"""How much of each document a session's document list shows."""
MODES = tuple(m.value for m in SessionMode)
STATUSES = tuple(s.value for s in SessionStatus)


# --- finding sessions ----------------------------------------------------------------------


def _visible(session: Session, principal: Principal, project: TextProject) -> Select:
    """The project's sessions the principal may see: an annotator's assigned ones, else all."""
    stmt = select(TextSession).where(
        TextSession.project_id == project.id, TextSession.org_id == project.org_id
    )
    if access.project_role(session, principal, project) == ProjectRole.ANNOTATOR:
        stmt = stmt.where(
            exists().where(
                TextSessionAssignee.session_id == TextSession.id,
                TextSessionAssignee.user_id == principal.user_id,
            )
        )
    return stmt


def get(
    session: Session, principal: Principal, project: TextProject, session_id: int
) -> TextSession:
    """The project's session ``session_id`` if the principal may see it, else 404."""
    row = session.scalar(_visible(session, principal, project).where(TextSession.id == session_id))
    if row is None:
        raise NotFound("Session not found.")
    return row


def _choices(raw: str | None, allowed: Sequence[str], what: str) -> list[str] | None:
    if not raw:
        return None
    asked = [p.strip().upper() for p in raw.split(",") if p.strip()]
    unknown = [p for p in asked if p not in allowed]
    if unknown:
        raise ValidationFailed(
            f"Unknown {what} {unknown[0]!r}; {what}s are {', '.join(allowed)} (comma-separated).",
            details={"reason": f"UNKNOWN_{what.upper()}", what: unknown, "allowed": list(allowed)},
        )
    return asked or None


def list_page(
    session: Session,
    principal: Principal,
    project: TextProject,
    page: PageParams,
    *,
    mode: str | None = None,
    status: str | None = None,
) -> tuple[list[TextSession], int]:
    """The sessions the principal may see, newest first; ``mode`` and ``status`` take
    one value or several, comma-separated."""
    stmt = _visible(session, principal, project)
    modes = _choices(mode, MODES, "mode")
    statuses = _choices(status, STATUSES, "status")
    if modes:
        stmt = stmt.where(TextSession.mode.in_(modes))
    if statuses:
        stmt = stmt.where(TextSession.status.in_(statuses))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        session.scalars(stmt.order_by(TextSession.id.desc()).offset(page.offset).limit(page.limit))
    )
    return rows, int(total)


# --- reading -------------------------------------------------------------------------------


def _assignees(session: Session, ts_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    if not ts_ids:
        return out
    for ts_id, user_id, email, name in session.execute(
        select(TextSessionAssignee.session_id, User.id, User.email, User.name)
        .join(User, User.id == TextSessionAssignee.user_id)
        .where(TextSessionAssignee.session_id.in_(ts_ids))
        .order_by(User.id)
    ):
        out[ts_id].append({"user_id": user_id, "email": email, "name": name})
    return out


def read_many(session: Session, project: TextProject, rows: Sequence[TextSession]) -> list[dict]:
    """Sessions as the API returns them (the seed's fields, with assignees)."""
    vocab = Vocabulary.load(session, project.id)
    assignees = _assignees(session, [r.id for r in rows])
    out = []
    for ts in rows:
        offered = (
            vocab
            if ts.class_ids is None and ts.label_ids is None
            else Vocabulary.load(session, project.id, ts)
        )
        score = _current_score(session, ts)
        out.append(
            {
                "id": ts.id,
                "name": ts.name,
                "description": ts.description,
                "project_id": ts.project_id,
                "organization_id": ts.org_id,
                "user_id": ts.created_by_id,
                "mode": ts.mode,
                "status": ts.status,
                "type": project.type,
                "created": ts.created_at,
                "updated_at": ts.updated_at,
                "finished": ts.finished_at,
                "document_count": ts.document_count,
                "document_group_id": (ts.sampling or {}).get("group_id"),
                "progress": annotating.progress_value(session, ts),
                "model_id": ts.model_id,
                "classes": offered.class_names(),
                "labels": offered.label_names(),
                "predicted_score": score.get("score") if score else None,
                "prediction": score,
                "sampling": ts.sampling or {},
                "job_id": ts.job_id,
                "assignees": assignees.get(ts.id, []),
            }
        )
    return out


def _current_score(session: Session, ts: TextSession) -> dict | None:
    """A correction session's predicted score from its checks as they stand now (the
    stored one is the last save's)."""
    if ts.mode != SessionMode.CORRECTION:
        return ts.predicted_score
    correct, n = correction.checked(session, ts)
    return correction.estimate(correct, n, int((ts.sampling or {}).get("training_size", 0)))


def read(session: Session, project: TextProject, ts: TextSession) -> dict:
    return read_many(session, project, [ts])[0]


# --- creating ------------------------------------------------------------------------------


def _check_assignees(session: Session, project: TextProject, user_ids: Sequence[int]) -> list[int]:
    """``user_ids`` if each is an active member of the organization who may label in the
    project, else 422 naming those who are not or cannot."""
    if not user_ids:
        return []
    members = dict(
        session.execute(
            select(Membership.user_id, Membership.role).where(
                Membership.org_id == project.org_id,
                Membership.user_id.in_(list(user_ids)),
                Membership.disabled_at.is_(None),
            )
        ).all()
    )
    strangers = [u for u in user_ids if u not in members]
    if strangers:
        raise ValidationFailed(
            f"User {', '.join(map(str, strangers[:10]))} is not a member of this organization.",
            details={"reason": "NOT_A_MEMBER", "user_ids": strangers},
        )
    unable = []
    for user_id in user_ids:
        person = Principal(org_id=project.org_id, user_id=user_id, role=Role(members[user_id]))
        role = access.project_role(session, person, project)
        if role.rank < ProjectRole.ANNOTATOR.rank:
            unable.append({"user_id": user_id, "role": role.value})
    if unable:
        raise ValidationFailed(
            "Assignees label, so each needs the ANNOTATOR or MANAGER role in the project; "
            f"user {', '.join(str(u['user_id']) for u in unable[:10])} is a VIEWER here "
            "(a manager can change that under the project's members).",
            details={"reason": "CANNOT_ANNOTATE", "users": unable},
        )
    return list(user_ids)


def _replace_assignees(session: Session, ts: TextSession, user_ids: list[int]) -> None:
    session.query(TextSessionAssignee).filter(TextSessionAssignee.session_id == ts.id).delete(
        synchronize_session=False
    )
    if user_ids:
        session.execute(
            insert(TextSessionAssignee), [{"session_id": ts.id, "user_id": u} for u in user_ids]
        )


def _group(session: Session, project: TextProject, group_id: int) -> TextGroup:
    group = session.scalar(
        select(TextGroup).where(TextGroup.id == group_id, TextGroup.project_id == project.id)
    )
    if group is None:
        raise NotFound("Group not found.", details={"group_id": group_id})
    return group


def _project_documents(session: Session, project: TextProject, group_id: int | None) -> list[int]:
    stmt = select(TextDocument.id).where(TextDocument.project_id == project.id)
    if group_id is not None:
        stmt = stmt.join(TextGroupDocument, TextGroupDocument.document_id == TextDocument.id).where(
            TextGroupDocument.group_id == group_id
        )
    return list(session.scalars(stmt.order_by(TextDocument.id)))


def _chosen_documents(
    session: Session, principal: Principal, project: TextProject, body: SessionCreate
) -> tuple[list[int], dict]:
    """The documents of a new labeling session, in session order, and how they were chosen."""
    if body.document_ids is not None:
        return documents.require_documents(session, project, body.document_ids), {"how": "ids"}
    if body.documents is not None:
        docs = documents.checked(documents.from_json(body.documents))
        documents.require_new_ids(session, project.id, docs)
        added = documents.add(
            session, principal, project, docs, segmentation=body.segmentation, source="session"
        )
        return [a.id for a in added], {"how": "documents"}
    if body.group_id is not None:
        _group(session, project, body.group_id)
    pool = _project_documents(session, project, body.group_id)
    where = "group" if body.group_id is not None else "project"
    if not pool:
        raise ValidationFailed(
            f"The {where} has no documents to label; add documents first.",
            details={"reason": "NO_DOCUMENTS"},
        )
    sampling: dict[str, Any] = {
        "how": "group" if body.group_id else "all",
        "group_id": body.group_id,
    }
    if body.sample_size is not None:
        seed = random.SystemRandom().randrange(2**31) if body.seed is None else body.seed
        picked = random.Random(seed).sample(pool, min(body.sample_size, len(pool)))
        return picked, {**sampling, "how": "random", "sample_size": body.sample_size, "seed": seed}
    if len(pool) > MAX_SESSION_DOCUMENTS:
        raise ValidationFailed(
            f"The {where} has {len(pool):,} documents; a session holds at most "
            f"{MAX_SESSION_DOCUMENTS:,}: give a sample_size.",
            details={"reason": "TOO_MANY_DOCUMENTS", "documents": len(pool)},
        )
    return pool, sampling


def _add_session_documents(session: Session, ts: TextSession, ids: Sequence[int]) -> None:
    rows = [{"session_id": ts.id, "document_id": d, "position": n} for n, d in enumerate(ids)]
    for i in range(0, len(rows), 5000):
        session.execute(insert(TextSessionDocument), rows[i : i + 5000])
    ts.document_count = len(rows)


def create(
    session: Session,
    principal: Principal,
    settings: Settings | None,
    project: TextProject,
    body: SessionCreate,
) -> TextSession:
    """A new session with its documents (see :class:`SessionCreate`), assignees and the
    classes and labels it offers (names; none given: all of the project's)."""
    vocab = Vocabulary.load(session, project.id)
    class_ids = annotating.resolve_names(body.classes, vocab.classes, "class")
    label_ids = annotating.resolve_names(body.labels, vocab.labels, "label")
    assignees = _check_assignees(session, project, body.assignees)
    now = clock.now()
    ts = TextSession(
        org_id=project.org_id,
        project_id=project.id,
        name=body.name,
        description=body.description,
        mode=body.mode,
        status=SessionStatus.CREATED,
        class_ids=class_ids,
        label_ids=label_ids,
        sampling={},
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(ts)
    session.flush()
    if body.mode == SessionMode.CORRECTION:
        if body.group_id is not None:
            _group(session, project, body.group_id)
        correction.create(
            session,
            principal,
            project,
            ts,
            model_id=body.model_id,
            sample_size=body.sample_size,
            strategy=body.strategy,
            seed=body.seed,
            group_id=body.group_id,
            settings=settings,
        )
    elif body.mode == SessionMode.IMPORT:
        assert body.file_id is not None and body.column_mapping is not None
        if settings is None:
            raise ValidationFailed("Importing a file needs the server's storage settings.")
        _import_file(session, principal, settings, project, ts, body)
    else:
        ids, ts.sampling = _chosen_documents(session, principal, project, body)
        _add_session_documents(session, ts, ids)
    _replace_assignees(session, ts, assignees)
    session.flush()
    audit.record_change(
        session=session,
        principal=principal,
        action="text.session.create",
        target_type="text_session",
        target_id=ts.id,
        after={
            **audit.snapshot(ts, AUDITED),
            "mode": ts.mode,
            "project_id": project.id,
            "documents": ts.document_count,
            "assignees": assignees,
        },
    )
    return ts


# --- importing an already labeled file -----------------------------------------------------

_SENTIMENTS = {
    "pos": "POS",
    "positive": "POS",
    "neg": "NEG",
    "negative": "NEG",
    "neu": "NEU",
    "neutral": "NEU",
    "conflict": "CONFLICT",
    "mixed": "CONFLICT",
}
_SEPARATORS = re.compile(r"\s*[;|,]\s*")


def _names_in(cell: Any, known: dict[int, str]) -> list[str]:
    """The names a cell holds: one name the project has, a JSON list, or names separated
    by ``;``, ``|`` or ``,`` (a known name with a comma in it stays whole)."""
    if cell is None:
        return []
    text = str(cell).strip()
    if not text:
        return []
    if annotating._find(known, text) is not None:
        return [text]
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return [str(p).strip() for p in parsed if str(p).strip()]
    return [p for p in _SEPARATORS.split(text) if p]


def _mapped_columns(project: TextProject, mapping: ColumnMapping, columns: list[str]):
    """The file's text, class and label columns for the project's type, or 422."""
    if mapping.class_ is not None and mapping.aspect is not None:
        raise ValidationFailed(
            "column_mapping: give `class` or `aspect` (an ABSA project's class), not both.",
            details={"reason": "BAD_MAPPING"},
        )
    text_col = documents.resolve_column(columns, mapping.text)
    class_name = mapping.class_ or mapping.aspect
    class_col = None if class_name is None else documents.resolve_column(columns, class_name)
    label_col = None if mapping.label is None else documents.resolve_column(columns, mapping.label)
    needs = {
        ProjectType.CLASS: (True, False),
        ProjectType.LABEL: (False, True),
        ProjectType.CLASSLABEL: (True, True),
        ProjectType.ABSA: (True, True),
    }[ProjectType(project.type)]
    wanted = []
    if needs[0] != (class_col is not None):
        wanted.append("class" if needs[0] else "no class")
    if needs[1] != (label_col is not None):
        wanted.append("label" if needs[1] else "no label")
    if wanted:
        shape = {
            "CLASS": "text and class",
            "LABEL": "text and label",
            "CLASSLABEL": "text, class and label",
            "ABSA": "text, aspect (or class) and label (the sentiment)",
        }[project.type]
        raise ValidationFailed(
            f"column_mapping: a {project.type} project's labeled file maps {shape}.",
            details={"reason": "BAD_MAPPING", "type": project.type},
        )
    return text_col, class_col, label_col


def _row_pairs(
    project_type: str, classes: list[str], labels: list[str], row: int
) -> list[tuple[str | None, str | None]]:
    if project_type == ProjectType.CLASS:
        return [(c, None) for c in classes]
    if project_type == ProjectType.LABEL:
        return [(None, lab) for lab in labels]
    if not classes and not labels:
        return []
    if len(classes) == len(labels):
        return list(zip(classes, labels, strict=True))
    if len(classes) == 1:
        return [(classes[0], lab) for lab in labels]
    if len(labels) == 1:
        return [(c, labels[0]) for c in classes]
    raise ValidationFailed(
        f"Row {row}: {len(classes)} classes and {len(labels)} labels cannot be paired; give "
        "as many of each, or one of either.",
        details={"reason": "UNPAIRED", "row": row},
    )


def _import_file(
    session: Session,
    principal: Principal,
    settings: Settings,
    project: TextProject,
    ts: TextSession,
    body: SessionCreate,
) -> None:
    """Documents (one segment each) and their tags (source ``import``) from a labeled file."""
    assert body.file_id is not None and body.column_mapping is not None
    text_file = files.get(session, project, body.file_id)
    table = files.table(settings, text_file)
    columns = list(table.columns)
    text_col, class_col, label_col = _mapped_columns(project, body.column_mapping, columns)
    texts = table.texts(text_col)
    class_cells = table.texts(class_col) if class_col else [None] * len(texts)
    label_cells = table.texts(label_col) if label_col else [None] * len(texts)
    metas = table.meta([c for c in (text_col, class_col, label_col) if c])
    vocab = Vocabulary.load(session, project.id)
    absa = project.type == ProjectType.ABSA
    kept: list[int] = []
    rows_pairs: list[list[tuple[str | None, str | None]]] = []
    missing: dict[str, dict[str, None]] = {"classes": {}, "labels": {}}
    for i, text in enumerate(texts):
        if text is None or not str(text).strip():
            continue
        classes = _names_in(class_cells[i], vocab.classes)
        labels = _names_in(label_cells[i], vocab.labels)
        if absa:
            labels = [_SENTIMENTS.get(lab.casefold(), lab) for lab in labels]
        pairs = _row_pairs(project.type, classes, labels, i)
        for c, lab in pairs:
            if c is not None and vocab.class_id(c) is None:
                missing["classes"][c] = None
            if lab is not None and vocab.label_id(lab) is None:
                missing["labels"][lab] = None
        kept.append(i)
        rows_pairs.append(pairs)
    if not kept:
        raise ValidationFailed(
            f"The file has no text in its column {text_col!r}.", details={"reason": "NO_TEXT"}
        )
    _create_missing(session, principal, project, missing, body.create_missing)
    vocab = Vocabulary.load(session, project.id)
    docs = documents.checked(
        documents.from_columns([texts[i] for i in kept], metas=[metas[i] for i in kept])
    )
    added = documents.add(session, principal, project, docs, segmentation="none", source="import")
    doc_ids = [a.id for a in added]
    _add_session_documents(session, ts, doc_ids)
    segment_of = _first_segments(session, doc_ids)
    now = clock.now()
    rows = []
    for doc_id, pairs in zip(doc_ids, rows_pairs, strict=True):
        if not pairs or doc_id not in segment_of:
            continue
        tags = [
            {
                "class_id": None if c is None else vocab.class_id(c),
                "label_id": None if lab is None else vocab.label_id(lab),
                "start": None,
                "end": None,
            }
            for c, lab in dict.fromkeys(pairs)
        ]
        rows.append(
            {
                "org_id": project.org_id,
                "project_id": project.id,
                "session_id": ts.id,
                "document_id": doc_id,
                "segment_id": segment_of[doc_id],
                "annotator_id": principal.user_id,
                "annotator_key": "import",
                "source": "import",
                "tags": tags,
                "version": 1,
                "updated_at": now,
            }
        )
    for i in range(0, len(rows), 5000):
        session.execute(insert(TextAnnotation), rows[i : i + 5000])
    ts.status = SessionStatus.FINISHED
    ts.finished_at = now
    ts.sampling = {
        "how": "file",
        "file_id": text_file.id,
        "file_name": text_file.file_name,
        "rows": len(texts),
        "rows_without_text": len(texts) - len(kept),
        "labeled": len(rows),
        "column_mapping": body.column_mapping.model_dump(by_alias=True, exclude_none=True),
    }


def _create_missing(
    session: Session,
    principal: Principal,
    project: TextProject,
    missing: dict[str, dict[str, None]],
    create_missing: bool,
) -> None:
    classes, labels = list(missing["classes"]), list(missing["labels"])
    if not classes and not labels:
        return
    fixed = project.type == ProjectType.ABSA and labels
    if not create_missing or fixed:
        hint = (
            f"an ABSA project's labels are {', '.join(ABSA_LABELS)}"
            if fixed
            else "add them first, or send create_missing: true to add them with the import"
        )
        named = ", ".join(repr(n) for n in (classes + labels)[:10])
        raise ValidationFailed(
            f"The file names classes or labels the project lacks: {named}; {hint}.",
            details={"reason": "UNKNOWN_TAG", "classes": classes, "labels": labels},
        )
    for kind, names in (("classes", classes), ("labels", labels)):
        if names:
            vocabulary.create_many(
                session=session,
                principal=principal,
                project=project,
                kind=kind,  # type: ignore[arg-type]
                items=[VocabCreate(name=n) for n in names],
            )


def _first_segments(session: Session, doc_ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for i in range(0, len(doc_ids), 1000):
        chunk = doc_ids[i : i + 1000]
        for doc, seg in session.execute(
            select(TextSegment.document_id, func.min(TextSegment.id))
            .where(TextSegment.document_id.in_(chunk))
            .group_by(TextSegment.document_id)
        ):
            out[doc] = seg
    return out


# --- changing ------------------------------------------------------------------------------


def update(
    session: Session,
    principal: Principal,
    project: TextProject,
    ts: TextSession,
    body: SessionUpdate,
) -> TextSession:
    """Rename, describe, narrow the offer, or finish (reopen) the session."""
    before = audit.snapshot(ts, AUDITED)
    vocab = Vocabulary.load(session, project.id)
    if body.name is not None:
        ts.name = body.name
    if body.description is not None:
        ts.description = body.description
    if body.classes is not None:
        ts.class_ids = annotating.resolve_names(body.classes, vocab.classes, "class")
    if body.labels is not None:
        ts.label_ids = annotating.resolve_names(body.labels, vocab.labels, "label")
    if body.status is not None and body.status != ts.status:
        _move(ts, body.status)
    ts.updated_at = clock.now()
    audit.record_change(
        session=session,
        principal=principal,
        action="text.session.update",
        target_type="text_session",
        target_id=ts.id,
        before=before,
        after=audit.snapshot(ts, AUDITED),
    )
    return ts


def _move(ts: TextSession, status: str) -> None:
    if ts.mode not in annotating.LABELED:
        raise Conflict(
            f"A {ts.mode} session's status does not change by hand.",
            details={"reason": "FIXED_STATUS", "mode": ts.mode},
        )
    allowed = {
        SessionStatus.FINISHED: (SessionStatus.CREATED, SessionStatus.ANNOTATING),
        SessionStatus.ANNOTATING: (SessionStatus.FINISHED,),
    }[SessionStatus(status)]
    if ts.status not in allowed:
        raise Conflict(
            f"A {ts.status} session cannot become {status}.",
            details={"reason": "BAD_TRANSITION", "status": ts.status, "wanted": status},
        )
    ts.status = status
    ts.finished_at = clock.now() if status == SessionStatus.FINISHED else None


def set_assignees(
    session: Session,
    principal: Principal,
    project: TextProject,
    ts: TextSession,
    user_ids: Sequence[int],
) -> TextSession:
    """Replace who labels the session."""
    wanted = _check_assignees(session, project, list(dict.fromkeys(user_ids)))
    before = [a["user_id"] for a in _assignees(session, [ts.id]).get(ts.id, [])]
    _replace_assignees(session, ts, wanted)
    ts.updated_at = clock.now()
    audit.record_change(
        session=session,
        principal=principal,
        action="text.session.assignees",
        target_type="text_session",
        target_id=ts.id,
        before={"assignees": before},
        after={"assignees": wanted},
    )
    return ts


def delete(session: Session, principal: Principal, ts: TextSession, *, confirm: bool) -> None:
    """Delete the session with its tags and marks; one holding people's (or an import's)
    tags only with ``confirm``, else 409 saying how many would go."""
    labeled = (
        session.scalar(
            select(func.count())
            .select_from(TextAnnotation)
            .where(TextAnnotation.session_id == ts.id, TextAnnotation.source != "model")
        )
        or 0
    )
    if labeled and not confirm:
        raise Conflict(
            f"The session holds {labeled} labeled segment(s), which would be deleted with it; "
            "send ?confirm=true to delete it anyway.",
            details={"reason": "CONFIRM", "annotations": labeled, "documents": ts.document_count},
        )
    audit.record_change(
        session=session,
        principal=principal,
        action="text.session.delete",
        target_type="text_session",
        target_id=ts.id,
        before={**audit.snapshot(ts, AUDITED), "annotations": labeled},
    )
    session.delete(ts)
    session.flush()


# --- the annotator view --------------------------------------------------------------------


def _whose(
    session: Session, principal: Principal, project: TextProject, annotator: int | None
) -> str:
    """The annotator key a read is about: the caller's, or (managers) ``annotator``'s."""
    own = annotator_key(principal)
    if annotator is None or own == f"user:{annotator}":
        return own
    if access.project_role(session, principal, project) != ProjectRole.MANAGER:
        raise PermissionDenied(
            "Only project managers may read another annotator's tags.",
            details={"required": ProjectRole.MANAGER.value},
        )
    return f"user:{annotator}"


def documents_page(
    session: Session,
    principal: Principal,
    project: TextProject,
    ts: TextSession,
    page: PageParams,
    *,
    annotator: int | None = None,
) -> tuple[list[dict], int]:
    """The session's documents in its order, each with the annotator's state."""
    key = _whose(session, principal, project, annotator)
    total = ts.document_count
    rows = session.execute(
        select(
            TextSessionDocument.document_id,
            TextSessionDocument.position,
            TextSessionDocument.score,
            TextDocument.external_id,
            func.substr(TextDocument.text, 1, SNIPPET_CHARS),
            TextDocument.length,
            TextDocument.segment_count,
        )
        .join(TextDocument, TextDocument.id == TextSessionDocument.document_id)
        .where(TextSessionDocument.session_id == ts.id)
        .order_by(TextSessionDocument.position)
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    ids = [r[0] for r in rows]
    states = annotating.document_states(session, ts.id, keys=[key], document_ids=ids).get(key, {})
    saved = dict(
        session.execute(
            select(TextAnnotation.document_id, func.count())
            .where(
                TextAnnotation.session_id == ts.id,
                TextAnnotation.annotator_key == key,
                TextAnnotation.document_id.in_(ids),
            )
            .group_by(TextAnnotation.document_id)
        ).all()
    )
    items = [
        {
            "id": doc,
            "external_id": ext,
            "position": position,
            "snippet": snippet or "",
            "length": length,
            "segment_count": segments,
            "score": score,
            "state": states.get(doc, annotating.TODO),
            "segments_saved": saved.get(doc, 0),
        }
        for doc, position, score, ext, snippet, length, segments in rows
    ]
    return items, total


def _neighbour(session: Session, ts_id: int, position: int, after: bool) -> int | None:
    col = TextSessionDocument.position
    return session.scalar(
        select(TextSessionDocument.document_id)
        .where(TextSessionDocument.session_id == ts_id, col > position if after else col < position)
        .order_by(col if after else col.desc())
        .limit(1)
    )


def document_view(
    session: Session,
    principal: Principal,
    project: TextProject,
    ts: TextSession,
    document_id: int,
    *,
    annotator: int | None = None,
) -> dict:
    """A document of the session with its segments, the annotator's tags, versions and
    marks, the model's suggestions (corrections), and the previous and next documents."""
    place = annotating.session_document(session, ts, document_id)
    key = _whose(session, principal, project, annotator)
    doc = session.scalars(
        select(TextDocument)
        .where(TextDocument.id == document_id)
        .options(undefer(TextDocument.text))
    ).one()
    segments = list(
        session.scalars(
            select(TextSegment)
            .where(TextSegment.document_id == document_id)
            .order_by(TextSegment.position)
        )
    )
    vocab = Vocabulary.load(session, project.id, ts)
    model_key = (ts.sampling or {}).get("model") if ts.mode == SessionMode.CORRECTION else None
    wanted = [key] + ([model_key] if model_key else [])
    mine: dict[int, TextAnnotation] = {}
    model: dict[int, TextAnnotation] = {}
    for a in session.scalars(
        select(TextAnnotation).where(
            TextAnnotation.session_id == ts.id,
            TextAnnotation.document_id == document_id,
            TextAnnotation.annotator_key.in_(wanted),
        )
    ):
        (mine if a.annotator_key == key else model)[a.segment_id] = a
    marks: dict[tuple[str, int], str] = {
        (m.scope, m.ref): m.name
        for m in session.scalars(
            select(TextMark).where(
                TextMark.session_id == ts.id,
                TextMark.user_key == key,
                TextMark.document_id == document_id,
            )
        )
    }
    state = annotating.document_states(session, ts.id, keys=[key], document_ids=[document_id])
    out_segments = []
    for s in segments:
        saved = mine.get(s.id)
        suggestion = model.get(s.id)
        item: dict[str, Any] = {
            "id": s.id,
            "position": s.position,
            "start": s.start,
            "end": s.end,
            "span": [s.start, s.end],
            "page": s.page,
            "text": s.text,
            "tags": vocab.tags_out(saved.tags) if saved else [],
            "version": saved.version if saved else None,
            "mark": marks.get(("segment", s.id)),
        }
        if model_key:
            item["suggestions"] = vocab.tags_out(suggestion.tags) if suggestion else []
            item["suggestion_score"] = suggestion.score if suggestion else None
        out_segments.append(item)
    return {
        "session_id": ts.id,
        "id": doc.id,
        "external_id": doc.external_id,
        "position": place.position,
        "text": doc.text,
        "meta": doc.meta or {},
        "pages": doc.pages,
        "annotator": key,
        "state": state.get(key, {}).get(document_id, annotating.TODO),
        "mark": marks.get(("document", 0)),
        "page_marks": {str(ref): name for (scope, ref), name in marks.items() if scope == "page"},
        "previous": _neighbour(session, ts.id, place.position, after=False),
        "next": _neighbour(session, ts.id, place.position, after=True),
        "segments": out_segments,
    }


# --- saving, marking -----------------------------------------------------------------------


def _after_work(session: Session, ts: TextSession) -> dict:
    """What a save or a mark answers besides itself: the session's status, progress
    and (corrections) predicted score, re-estimated."""
    score = None
    if ts.mode == SessionMode.CORRECTION:
        annotating.lock(session, ts)
        score = correction.refresh_score(session, ts)
    return {
        "status": ts.status,
        "progress": annotating.progress_value(session, ts),
        "predicted_score": score.get("score") if score else None,
        "prediction": score,
    }


def save_tags(
    session: Session,
    principal: Principal,
    project: TextProject,
    ts: TextSession,
    document_id: int,
    segment_id: int,
    body: TagsSave,
) -> dict:
    """Replace the caller's tags on a segment (see :func:`annotating.save_tags`)."""
    row, vocab = annotating.save_tags(
        session, principal, project, ts, document_id, segment_id, body
    )
    return {
        "session_id": ts.id,
        "document_id": document_id,
        "segment_id": segment_id,
        "annotator": row.annotator_key,
        "source": row.source,
        "tags": vocab.tags_out(row.tags),
        "version": row.version,
        "updated_at": row.updated_at,
        **_after_work(session, ts),
    }


def mark(
    session: Session,
    principal: Principal,
    project: TextProject,
    ts: TextSession,
    document_id: int,
    name: str,
    *,
    segment_id: int | None = None,
    page: int | None = None,
) -> dict:
    """Mark a segment, page or document done or skipped; the session finishes when every
    assignee has finished every document."""
    row = annotating.set_mark(
        session, principal, project, ts, document_id, name, segment_id=segment_id, page=page
    )
    annotating.maybe_finish(session, ts)
    return {
        "name": row.name,
        "created": row.created_at,
        "document_id": document_id,
        "segment_id": segment_id,
        "page": page,
        "annotation_id": ts.id,
        **_after_work(session, ts),
    }


def unmark(
    session: Session,
    principal: Principal,
    ts: TextSession,
    document_id: int,
    *,
    segment_id: int | None = None,
    page: int | None = None,
) -> None:
    annotating.delete_mark(session, principal, ts, document_id, segment_id=segment_id, page=page)
    if ts.mode == SessionMode.CORRECTION:
        correction.refresh_score(session, ts)


# --- progress ------------------------------------------------------------------------------


def progress(session: Session, project: TextProject, ts: TextSession) -> dict:
    """Per annotator and overall: documents done, skipped and in progress, segments
    tagged, saved and skipped; the session's progress is the mean of the counted
    annotators' (its assignees, else whoever worked) shares of documents done or skipped."""
    states = annotating.document_states(session, ts.id)
    assigned = annotating.assignee_keys(session, ts.id)
    counted = annotating.counted_keys(session, ts, states)
    people = sorted(
        set(counted) | {k for k in states if k.startswith(("user:", "key:"))},
        key=lambda k: (k.split(":")[0], int(k.split(":")[1]) if k.split(":")[1].isdecimal() else 0),
    )
    saved: dict[str, int] = defaultdict(int)
    tagged: dict[str, int] = defaultdict(int)
    tagged_segments: set[int] = set()
    for key, segment_id, tags in session.execute(
        select(TextAnnotation.annotator_key, TextAnnotation.segment_id, TextAnnotation.tags).where(
            TextAnnotation.session_id == ts.id, TextAnnotation.source == annotating.HUMAN
        )
    ):
        saved[key] += 1
        if tags:
            tagged[key] += 1
            tagged_segments.add(segment_id)
    skipped = dict(
        session.execute(
            select(TextMark.user_key, func.count())
            .where(
                TextMark.session_id == ts.id,
                TextMark.scope == "segment",
                TextMark.name == annotating.SKIPPED,
            )
            .group_by(TextMark.user_key)
        ).all()
    )
    emails = dict(
        session.execute(
            select(User.id, User.email).where(
                User.id.in_([u for k in people if (u := annotating.user_of(k)) is not None])
            )
        ).all()
    )
    total = ts.document_count
    rows = []
    for key in people:
        mine = states.get(key, {})
        done = sum(1 for s in mine.values() if s == annotating.DONE)
        skip = sum(1 for s in mine.values() if s == annotating.SKIPPED.lower())
        user_id = annotating.user_of(key)
        rows.append(
            {
                "annotator": key,
                "user_id": user_id,
                "email": emails.get(user_id) if user_id is not None else None,
                "assigned": key in assigned,
                "documents_done": done,
                "documents_skipped": skip,
                "documents_in_progress": sum(
                    1 for s in mine.values() if s == annotating.IN_PROGRESS
                ),
                "segments_tagged": tagged.get(key, 0),
                "segments_saved": saved.get(key, 0),
                "segments_skipped": skipped.get(key, 0),
                "progress": round(100.0 * (done + skip) / total, 1) if total else 0.0,
            }
        )
    handled_by_all = 0
    if counted and total:
        finished = [
            {d for d, s in states.get(k, {}).items() if s in (annotating.DONE, "skipped")}
            for k in counted
        ]
        handled_by_all = len(set.intersection(*finished))
    segment_count = session.scalar(
        select(func.coalesce(func.sum(TextDocument.segment_count), 0))
        .join(TextSessionDocument, TextSessionDocument.document_id == TextDocument.id)
        .where(TextSessionDocument.session_id == ts.id)
    )
    score = _current_score(session, ts)
    return {
        "session_id": ts.id,
        "status": ts.status,
        "document_count": total,
        "segment_count": int(segment_count or 0),
        "progress": annotating.progress_value(session, ts),
        "documents_done": handled_by_all,
        "segments_tagged": len(tagged_segments),
        "annotators": rows,
        "predicted_score": score.get("score") if score else None,
        "prediction": score,
    }


# --- agreement -----------------------------------------------------------------------------

NO_TAG = "(none)"
"""The category of a segment an annotator saved without a class (or an aspect absent)."""


def _part(name: str, result: Any) -> dict:
    return {
        "name": name,
        "kappa": None if result.kappa is None else round(result.kappa, 4),
        "method": result.method,
        "percent_agreement": (
            None if result.percent_agreement is None else round(result.percent_agreement, 4)
        ),
        "items": result.items,
        "items_left_out": result.left_out,
    }


def agreement(session: Session, project: TextProject, ts: TextSession) -> dict:
    """Agreement of the people who tagged the same segments of the session: Cohen's
    kappa for two, Fleiss' for more (segments fewer of them tagged are left out and
    counted); on the class of a CLASS project (no class is a category too), else per
    label of a LABEL project, per class/label pair of a CLASSLABEL project, and per
    aspect of an ABSA project (its sentiment, or absent)."""
    from augury.engines.text.agreement import agreement as nominal
    from augury.engines.text.agreement import multilabel_agreement

    vocab = Vocabulary.load(session, project.id)
    ratings: dict[int, dict[str, list[dict]]] = defaultdict(dict)
    for key, segment_id, tags in session.execute(
        select(TextAnnotation.annotator_key, TextAnnotation.segment_id, TextAnnotation.tags).where(
            TextAnnotation.session_id == ts.id, TextAnnotation.source == annotating.HUMAN
        )
    ):
        ratings[segment_id][key] = tags or []
    shared = sum(1 for by in ratings.values() if len(by) >= 2)
    if project.type == ProjectType.CLASS:
        result = nominal(
            {seg: {k: _class_of(t, vocab) for k, t in by.items()} for seg, by in ratings.items()}
        )
        parts = [_part("class", result)]
        kappa, percent = result.kappa, result.percent_agreement
    elif project.type == ProjectType.ABSA:
        aspects = sorted(
            {
                vocab.class_name(t.get("class_id"))
                for by in ratings.values()
                for tags_ in by.values()
                for t in tags_
            }
        )
        results = [
            nominal(
                {
                    seg: {k: _sentiment_of(t, aspect, vocab) for k, t in by.items()}
                    for seg, by in ratings.items()
                }
            )
            for aspect in aspects
        ]
        parts = [_part(a, r) for a, r in zip(aspects, results, strict=True)]
        kappa, percent = _means(results)
    else:
        pairs = project.type != ProjectType.LABEL
        multi = multilabel_agreement(
            {
                seg: {k: _label_names(t, vocab, pairs) for k, t in by.items()}
                for seg, by in ratings.items()
            }
        )
        parts = [_part(str(label), r) for label, r in multi.per_label.items()]
        kappa, percent = multi.kappa, multi.percent_agreement
    return {
        "session_id": ts.id,
        "type": project.type,
        "annotators": sorted({k for by in ratings.values() for k in by}),
        "items": shared,
        "kappa": None if kappa is None else round(kappa, 4),
        "method": next((p["method"] for p in parts if p["items"]), None),
        "percent_agreement": None if percent is None else round(percent, 4),
        "parts": parts,
    }


def _class_of(tags: list[dict], vocab: Vocabulary) -> str:
    names = sorted({vocab.class_name(t.get("class_id")) for t in tags if t.get("class_id")})
    return "+".join(names) or NO_TAG


def _sentiment_of(tags: list[dict], aspect: str, vocab: Vocabulary) -> str:
    for t in tags:
        if vocab.class_name(t.get("class_id")) == aspect:
            return vocab.label_name(t.get("label_id"))
    return NO_TAG


def _label_names(tags: list[dict], vocab: Vocabulary, pairs: bool) -> set[str]:
    if not pairs:
        return {vocab.label_name(t.get("label_id")) for t in tags}
    return {
        f"{vocab.class_name(t.get('class_id'))}/{vocab.label_name(t.get('label_id'))}" for t in tags
    }


def _means(results: list[Any]) -> tuple[float | None, float | None]:
    kappas = [r.kappa for r in results if r.kappa is not None]
    percents = [r.percent_agreement for r in results if r.percent_agreement is not None]
    return (
        sum(kappas) / len(kappas) if kappas else None,
        sum(percents) / len(percents) if percents else None,
    )
