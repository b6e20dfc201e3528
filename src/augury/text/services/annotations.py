"""Tags people save on segments, their "done" and "skipped" marks, and the progress both
make.

One annotator's tags on one segment of a session are one :class:`TextAnnotation` row,
so two annotators saving the same segment at once never touch the same row. One
annotator's two saves (two tabs, a retry) compare ``version``: the update only happens
``WHERE version = :read`` and a first save only inserts, against the row's unique
constraint. Whichever loses gets 409 with the tags that won, never a silent overwrite.

Tags name classes and labels of the project, offered in the session, in the shapes the
project's type allows (:func:`check_tags`); they are stored by id, so a renamed class
carries its tags along.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.errors import Conflict, NotFound, ValidationFailed
from augury.store.db import changed
from augury.store.upsert import upsert
from augury.text.models import (
    ProjectType,
    SessionMode,
    SessionStatus,
    TextAnnotation,
    TextClass,
    TextDocument,
    TextLabel,
    TextMark,
    TextProject,
    TextSegment,
    TextSession,
    TextSessionAssignee,
    TextSessionDocument,
)
from augury.text.schemas.sessions import TagIn, TagsSave

HUMAN = "human"
"""The source of what people save (models write ``model``, imports ``import``)."""
ANNOTATED, SKIPPED = "ANNOTATED", "SKIPPED"
TODO, IN_PROGRESS, DONE = "todo", "in_progress", "done"
"""A document's state for one annotator (or ``skipped``, :data:`SKIPPED` in lower case)."""
LABELED = (SessionMode.ANNOTATION, SessionMode.CORRECTION)
"""The modes whose sessions people tag; imports arrive labeled and review has its queue."""


def annotator_key(principal: Principal) -> str:
    """Who saves: the person (for an API key, the person who made it), else the key."""
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    return f"key:{principal.key_id}"


def user_of(key: str) -> int | None:
    kind, _, ident = key.partition(":")
    return int(ident) if kind == "user" and ident.isdecimal() else None


# --- vocabulary ----------------------------------------------------------------------------


@dataclass
class Vocabulary:
    """A project's classes and labels by id, and which of them a session offers."""

    classes: dict[int, str]
    labels: dict[int, str]
    offered_classes: set[int] = field(default_factory=set)
    offered_labels: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session, project_id: int, ts: TextSession | None = None) -> Vocabulary:
        classes = dict(
            session.execute(
                select(TextClass.id, TextClass.name)
                .where(TextClass.project_id == project_id)
                .order_by(TextClass.position, TextClass.id)
            ).all()
        )
        labels = dict(
            session.execute(
                select(TextLabel.id, TextLabel.name)
                .where(TextLabel.project_id == project_id)
                .order_by(TextLabel.position, TextLabel.id)
            ).all()
        )
        vocab = cls(classes, labels, set(classes), set(labels))
        if ts is not None:
            if ts.class_ids is not None:
                vocab.offered_classes = set(ts.class_ids) & set(classes)
            if ts.label_ids is not None:
                vocab.offered_labels = set(ts.label_ids) & set(labels)
        return vocab

    def class_name(self, ident: object) -> str:
        """The name of class ``ident``, or ``?`` for one deleted since."""
        return self.classes.get(ident, "?") if isinstance(ident, int) else "?"

    def label_name(self, ident: object) -> str:
        return self.labels.get(ident, "?") if isinstance(ident, int) else "?"

    def class_id(self, name: str) -> int | None:
        return _find(self.classes, name)

    def label_id(self, name: str) -> int | None:
        return _find(self.labels, name)

    def class_names(self) -> list[str]:
        return [name for cid, name in self.classes.items() if cid in self.offered_classes]

    def label_names(self) -> list[str]:
        return [name for lid, name in self.labels.items() if lid in self.offered_labels]

    def tag_out(self, tag: dict) -> dict:
        """A stored tag with its class and label names (null for one deleted since)."""
        cid, lid = tag.get("class_id"), tag.get("label_id")
        out = {
            "class": self.classes.get(cid) if cid is not None else None,
            "class_id": cid,
            "label": self.labels.get(lid) if lid is not None else None,
            "label_id": lid,
            "start": tag.get("start"),
            "end": tag.get("end"),
        }
        if tag.get("confidence") is not None:
            out["confidence"] = tag["confidence"]
        return out

    def tags_out(self, tags: Iterable[dict]) -> list[dict]:
        return [self.tag_out(t) for t in tags]


def _find(known: dict[int, str], name: str) -> int | None:
    """The id named ``name``, exactly or else whatever its case (names are unique
    without case in a project)."""
    folded = None
    for ident, candidate in known.items():
        if candidate == name:
            return ident
        if folded is None and candidate.casefold() == name.casefold():
            folded = ident
    return folded


def resolve_names(names: list[str] | None, known: dict[int, str], what: str) -> list[int] | None:
    """Ids of ``names`` among ``known`` (id → name), or 422 listing those unknown."""
    if names is None:
        return None
    found = {n: _find(known, n) for n in dict.fromkeys(names)}
    unknown = [n for n, ident in found.items() if ident is None]
    if unknown:
        plural = "classes" if what == "class" else f"{what}s"
        raise ValidationFailed(
            f"The project has no {what} {', '.join(repr(n) for n in unknown[:10])}.",
            details={"reason": f"UNKNOWN_{what.upper()}", plural: unknown},
        )
    return list(dict.fromkeys(ident for ident in found.values() if ident is not None))


# --- checking tags -------------------------------------------------------------------------


def _refuse(reason: str, message: str, **details) -> ValidationFailed:
    return ValidationFailed(message, details={"reason": reason, **details})


def _resolve_tag(
    index: int, tag: TagIn, vocab: Vocabulary, unknown: dict[str, list]
) -> tuple[int | None, int | None]:
    """The class and label ids a tag names (by id or name; both must agree)."""
    ids: list[int | None] = []
    for kind, name, ident, known in (
        ("classes", tag.class_, tag.class_id, vocab.classes),
        ("labels", tag.label, tag.label_id, vocab.labels),
    ):
        found: int | None = None
        if ident is not None:
            if ident not in known:
                unknown[kind].append(ident)
            elif name is not None and known[ident].casefold() != name.casefold():
                raise _refuse(
                    "MISMATCH",
                    f"Tag {index}: {kind[:-2] if kind == 'classes' else kind[:-1]} id {ident} "
                    f"is {known[ident]!r}, not {name!r}.",
                    index=index,
                )
            else:
                found = ident
        elif name is not None:
            found = _find(known, name)
            if found is None:
                unknown[kind].append(name)
        ids.append(found)
    return ids[0], ids[1]


def _check_type(project_type: str, tags: list[dict], vocab: Vocabulary) -> None:
    has_class = [t["class_id"] is not None for t in tags]
    has_label = [t["label_id"] is not None for t in tags]
    for i in range(len(tags)):
        if not (has_class[i] or has_label[i]):
            raise _refuse("EMPTY_TAG", f"Tag {i} names neither a class nor a label.", index=i)
    if project_type == ProjectType.CLASS:
        if any(has_label):
            raise _refuse(
                "TYPE_RULE", "A CLASS project's tags have a class and no label.", type=project_type
            )
        if len({t["class_id"] for t in tags}) > 1:
            names = sorted({vocab.classes[t["class_id"]] for t in tags})
            raise _refuse(
                "TYPE_RULE",
                f"A CLASS project gives a segment at most one class, not {', '.join(names)}.",
                type=project_type,
                classes=names,
            )
    elif project_type == ProjectType.LABEL:
        if any(has_class):
            raise _refuse(
                "TYPE_RULE", "A LABEL project's tags have a label and no class.", type=project_type
            )
    else:
        if not all(has_class) or not all(has_label):
            word = (
                "aspect and a sentiment"
                if project_type == ProjectType.ABSA
                else "class and a label"
            )
            raise _refuse(
                "TYPE_RULE",
                f"A {project_type} project's tags are pairs: each has a {word}.",
                type=project_type,
            )
        if project_type == ProjectType.ABSA:
            aspects = [t["class_id"] for t in tags]
            repeated = sorted({vocab.classes[a] for a in aspects if aspects.count(a) > 1})
            if repeated:
                raise _refuse(
                    "TYPE_RULE",
                    f"An aspect gets one sentiment per segment; {', '.join(repeated)} has several.",
                    type=project_type,
                    classes=repeated,
                )


def _check_spans(tags: list[dict], length: int) -> None:
    by_tag: dict[tuple, list[tuple[int, int, int]]] = defaultdict(list)
    for i, tag in enumerate(tags):
        start, end = tag["start"], tag["end"]
        if (start is None) != (end is None):
            raise _refuse("BAD_SPAN", f"Tag {i}: give both start and end, or neither.", index=i)
        if start is None:
            span = (0, length)
        else:
            if not 0 <= start < end <= length:
                raise _refuse(
                    "BAD_SPAN",
                    f"Tag {i}: the span {start}..{end} is not within the segment "
                    f"(0..{length}, start before end).",
                    index=i,
                    segment_length=length,
                )
            span = (start, end)
        by_tag[(tag["class_id"], tag["label_id"])].append((span[0], span[1], i))
    for spans in by_tag.values():
        spans.sort()
        for (_, a_end, a), (b_start, _, b) in zip(spans, spans[1:], strict=False):
            if b_start < a_end:
                raise _refuse(
                    "OVERLAP",
                    f"Tags {a} and {b} put the same tag on overlapping spans.",
                    indexes=[a, b],
                )


def check_tags(
    project: TextProject, vocab: Vocabulary, segment: TextSegment, tags: list[TagIn]
) -> list[dict]:
    """``tags`` as stored (``{"class_id", "label_id", "start", "end"}``), or 422: a class
    or label the project lacks (another project's id included) or the session does not
    offer, a shape the project's type forbids, a span outside the segment or overlapping
    another of the same tag."""
    unknown: dict[str, list] = {"classes": [], "labels": []}
    stored = []
    for i, tag in enumerate(tags):
        class_id, label_id = _resolve_tag(i, tag, vocab, unknown)
        stored.append(
            {"class_id": class_id, "label_id": label_id, "start": tag.start, "end": tag.end}
        )
    if unknown["classes"] or unknown["labels"]:
        named = [repr(x) for x in unknown["classes"] + unknown["labels"]]
        raise _refuse(
            "UNKNOWN_TAG",
            f"The project has no class or label {', '.join(named[:10])}.",
            classes=unknown["classes"],
            labels=unknown["labels"],
        )
    classes = sorted(
        {
            vocab.classes[t["class_id"]]
            for t in stored
            if t["class_id"] is not None and t["class_id"] not in vocab.offered_classes
        }
    )
    labels = sorted(
        {
            vocab.labels[t["label_id"]]
            for t in stored
            if t["label_id"] is not None and t["label_id"] not in vocab.offered_labels
        }
    )
    if classes or labels:
        raise _refuse(
            "NOT_OFFERED",
            f"This session does not offer {', '.join(repr(n) for n in classes + labels)}.",
            classes=classes,
            labels=labels,
            offered_classes=vocab.class_names(),
            offered_labels=vocab.label_names(),
        )
    _check_type(project.type, stored, vocab)
    _check_spans(stored, segment.end - segment.start)
    return stored


# --- saving --------------------------------------------------------------------------------


def check_open(ts: TextSession) -> None:
    """409 unless people may tag and mark in the session now."""
    if ts.mode not in LABELED:
        raise Conflict(
            f"A {ts.mode} session takes no tags here"
            + (": its labels came with the file." if ts.mode == SessionMode.IMPORT else "."),
            details={"reason": "NOT_LABELED_HERE", "mode": ts.mode},
        )
    if ts.status in (SessionStatus.SAMPLING, SessionStatus.PREDICTING):
        raise Conflict(
            "The session is still choosing and pre-tagging its documents; try again when "
            "its status is ANNOTATING.",
            details={"reason": "NOT_READY", "status": ts.status},
        )
    if ts.status == SessionStatus.FAILED:
        raise Conflict(
            "The session failed while it was prepared; delete it and create another.",
            details={"reason": "FAILED", "status": ts.status},
        )
    if ts.status == SessionStatus.FINISHED:
        raise Conflict(
            "The session is finished; a manager can reopen it (PATCH status ANNOTATING).",
            details={"reason": "FINISHED", "status": ts.status},
        )


def session_document(session: Session, ts: TextSession, document_id: int) -> TextSessionDocument:
    row = session.get(TextSessionDocument, (ts.id, document_id))
    if row is None:
        raise NotFound("Document not found in this session.")
    return row


def segment_of(session: Session, ts: TextSession, document_id: int, segment_id: int) -> TextSegment:
    """The segment ``segment_id`` of a document of the session, else 404."""
    session_document(session, ts, document_id)
    segment = session.get(TextSegment, segment_id)
    if segment is None or segment.document_id != document_id:
        raise NotFound("Segment not found in this document.")
    return segment


def annotation_of(session: Session, ts_id: int, segment_id: int, key: str) -> TextAnnotation | None:
    return session.scalar(
        select(TextAnnotation)
        .where(
            TextAnnotation.session_id == ts_id,
            TextAnnotation.segment_id == segment_id,
            TextAnnotation.annotator_key == key,
        )
        .execution_options(populate_existing=True)
    )


def _conflict(current: TextAnnotation | None, vocab: Vocabulary, sent: int | None) -> Conflict:
    if current is None and sent is None:
        return Conflict(
            "The segment changed while you saved (its document was removed?); reload it.",
            details={"reason": "STALE_VERSION", "version": None, "tags": []},
        )
    if current is None:
        return Conflict(
            f"You sent version {sent}, but no tags of yours are saved on this segment "
            "(they were deleted); save again with version null.",
            details={"reason": "STALE_VERSION", "version": None, "tags": []},
        )
    what = (
        "You have already saved tags on this segment"
        if sent is None
        else (f"Your tags on this segment changed since version {sent}")
    )
    return Conflict(
        f"{what}: version {current.version} is saved. Read it, and save again with "
        f"version {current.version}.",
        details={
            "reason": "STALE_VERSION",
            "version": current.version,
            "tags": vocab.tags_out(current.tags),
            "updated_at": current.updated_at.isoformat(),
        },
    )


def start(session: Session, ts: TextSession) -> None:
    """CREATED becomes ANNOTATING with the first save (one UPDATE, so racing saves agree)."""
    if ts.status == SessionStatus.CREATED:
        changed(
            session,
            update(TextSession)
            .where(TextSession.id == ts.id, TextSession.status == SessionStatus.CREATED)
            .values(status=SessionStatus.ANNOTATING, updated_at=clock.now())
            .execution_options(synchronize_session=False),
        )
        ts.status = SessionStatus.ANNOTATING


def save_tags(
    session: Session,
    principal: Principal,
    project: TextProject,
    ts: TextSession,
    document_id: int,
    segment_id: int,
    body: TagsSave,
) -> tuple[TextAnnotation, Vocabulary]:
    """Replace the caller's tags on a segment, compare-and-set on ``body.version``."""
    check_open(ts)
    segment = segment_of(session, ts, document_id, segment_id)
    vocab = Vocabulary.load(session, project.id, ts)
    tags = check_tags(project, vocab, segment, body.tags)
    key = annotator_key(principal)
    now = clock.now()
    if body.version is None:
        current = annotation_of(session, ts.id, segment_id, key)
        if current is not None:
            raise _conflict(current, vocab, None)
        row = TextAnnotation(
            org_id=project.org_id,
            project_id=project.id,
            session_id=ts.id,
            document_id=document_id,
            segment_id=segment_id,
            annotator_id=principal.user_id,
            annotator_key=key,
            source=HUMAN,
            tags=tags,
            version=1,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            raise _conflict(annotation_of(session, ts.id, segment_id, key), vocab, None) from None
    else:
        won = changed(
            session,
            update(TextAnnotation)
            .where(
                TextAnnotation.session_id == ts.id,
                TextAnnotation.segment_id == segment_id,
                TextAnnotation.annotator_key == key,
                TextAnnotation.version == body.version,
            )
            .values(tags=tags, version=body.version + 1, updated_at=now)
            .execution_options(synchronize_session=False),
        )
        current = annotation_of(session, ts.id, segment_id, key)
        if not won or current is None:
            raise _conflict(current, vocab, body.version)
        row = current
    start(session, ts)
    return row, vocab


# --- marks ---------------------------------------------------------------------------------


def _mark_target(
    session: Session, ts: TextSession, document_id: int, segment_id: int | None, page: int | None
) -> tuple[str, int]:
    if segment_id is not None:
        segment_of(session, ts, document_id, segment_id)
        return "segment", segment_id
    session_document(session, ts, document_id)
    if page is not None:
        pages = session.scalar(select(TextDocument.pages).where(TextDocument.id == document_id))
        count = len(pages) if pages else 1
        if not 1 <= page <= count:
            raise NotFound(
                f"Page {page} not found: the document has {count} page(s), numbered from 1 "
                "as its segments' pages are."
            )
        return "page", page
    return "document", 0


def set_mark(
    session: Session,
    principal: Principal,
    project: TextProject,
    ts: TextSession,
    document_id: int,
    name: str,
    *,
    segment_id: int | None = None,
    page: int | None = None,
) -> TextMark:
    """Mark a segment, a page or the whole document ANNOTATED or SKIPPED for the caller
    (marking again replaces the mark)."""
    check_open(ts)
    scope, ref = _mark_target(session, ts, document_id, segment_id, page)
    key = annotator_key(principal)
    row = {
        "org_id": project.org_id,
        "project_id": project.id,
        "session_id": ts.id,
        "document_id": document_id,
        "user_id": principal.user_id,
        "user_key": key,
        "scope": scope,
        "ref": ref,
        "name": name,
        "created_at": clock.now(),
    }
    upsert(
        session,
        TextMark.__table__,
        [row],
        keys=["session_id", "user_key", "document_id", "scope", "ref"],
        update=["name", "created_at", "user_id"],
    )
    start(session, ts)
    return session.scalars(
        select(TextMark)
        .where(
            TextMark.session_id == ts.id,
            TextMark.user_key == key,
            TextMark.document_id == document_id,
            TextMark.scope == scope,
            TextMark.ref == ref,
        )
        .execution_options(populate_existing=True)
    ).one()


def delete_mark(
    session: Session,
    principal: Principal,
    ts: TextSession,
    document_id: int,
    *,
    segment_id: int | None = None,
    page: int | None = None,
) -> None:
    """Take the caller's mark back (undo); 404 when there is none."""
    check_open(ts)
    scope, ref = _mark_target(session, ts, document_id, segment_id, page)
    gone = changed(
        session,
        delete(TextMark).where(
            TextMark.session_id == ts.id,
            TextMark.user_key == annotator_key(principal),
            TextMark.document_id == document_id,
            TextMark.scope == scope,
            TextMark.ref == ref,
        ),
    )
    if not gone:
        raise NotFound(f"You have no mark on this {scope}.")


# --- states and progress -------------------------------------------------------------------


def _state(counts: dict[tuple[str, str], int], segments: int, pages: int, worked: bool) -> str:
    """A document's state for one annotator from their marks' counts by (scope, name)."""
    if counts.get(("document", ANNOTATED)):
        return DONE
    if counts.get(("document", SKIPPED)):
        return SKIPPED.lower()
    for scope, total in (("segment", segments), ("page", pages)):
        done, skipped = counts.get((scope, ANNOTATED), 0), counts.get((scope, SKIPPED), 0)
        if total and done + skipped >= total:
            return DONE if done else SKIPPED.lower()
    return IN_PROGRESS if worked or counts else TODO


def document_states(
    session: Session,
    ts_id: int,
    keys: list[str] | None = None,
    document_ids: list[int] | None = None,
) -> dict[str, dict[int, str]]:
    """Each annotator's state of each document they touched (others are ``todo``):
    done when they marked the document, or every segment or every page of it, done
    (a mix of done and skipped is done; all skipped is skipped)."""
    marks = select(
        TextMark.user_key, TextMark.document_id, TextMark.scope, TextMark.name, func.count()
    ).where(TextMark.session_id == ts_id)
    saved = select(TextAnnotation.annotator_key, TextAnnotation.document_id).where(
        TextAnnotation.session_id == ts_id, TextAnnotation.source == HUMAN
    )
    if keys is not None:
        marks = marks.where(TextMark.user_key.in_(keys))
        saved = saved.where(TextAnnotation.annotator_key.in_(keys))
    if document_ids is not None:
        marks = marks.where(TextMark.document_id.in_(document_ids))
        saved = saved.where(TextAnnotation.document_id.in_(document_ids))
    counts: dict[tuple[str, int], dict[tuple[str, str], int]] = defaultdict(dict)
    for key, doc, scope, name, n in session.execute(
        marks.group_by(TextMark.user_key, TextMark.document_id, TextMark.scope, TextMark.name)
    ):
        counts[(key, doc)][(scope, name)] = n
    worked = {(key, doc) for key, doc in session.execute(saved.distinct())}
    docs = {doc for _, doc in counts} | {doc for _, doc in worked}
    shape = _shapes(session, docs)
    states: dict[str, dict[int, str]] = defaultdict(dict)
    for key, doc in set(counts) | worked:
        segments, pages = shape.get(doc, (0, 1))
        states[key][doc] = _state(counts.get((key, doc), {}), segments, pages, (key, doc) in worked)
    return states


def _shapes(session: Session, document_ids: set[int]) -> dict[int, tuple[int, int]]:
    """Segment and page counts of documents (a document without pages is one page)."""
    out: dict[int, tuple[int, int]] = {}
    ids = sorted(document_ids)
    for i in range(0, len(ids), 5000):
        for doc, segments, pages in session.execute(
            select(TextDocument.id, TextDocument.segment_count, TextDocument.pages).where(
                TextDocument.id.in_(ids[i : i + 5000])
            )
        ):
            out[doc] = (segments, len(pages) if pages else 1)
    return out


def assignee_keys(session: Session, ts_id: int) -> list[str]:
    return [
        f"user:{uid}"
        for uid in session.scalars(
            select(TextSessionAssignee.user_id)
            .where(TextSessionAssignee.session_id == ts_id)
            .order_by(TextSessionAssignee.user_id)
        )
    ]


def counted_keys(session: Session, ts: TextSession, states: dict[str, dict[int, str]]) -> list[str]:
    """Whose work makes the session's progress: its assignees, else whoever worked."""
    assigned = assignee_keys(session, ts.id)
    if assigned:
        return assigned
    return sorted(k for k in states if k.startswith(("user:", "key:")))


def progress_value(session: Session, ts: TextSession) -> float:
    """The session's progress, 0-100: the mean over :func:`counted_keys` of the share of
    the session's documents each finished or skipped."""
    if ts.mode == SessionMode.IMPORT:
        return 100.0
    if not ts.document_count:
        return 0.0
    states = document_states(session, ts.id)
    keys = counted_keys(session, ts, states)
    if not keys:
        return 0.0
    shares = [_handled(states.get(k, {})) / ts.document_count for k in keys]
    return round(100.0 * sum(shares) / len(shares), 1)


def _handled(states: dict[int, str]) -> int:
    return sum(1 for s in states.values() if s in (DONE, SKIPPED.lower()))


def lock(session: Session, ts: TextSession) -> None:
    """Hold the session's row until commit, so that work deciding from all of its
    annotators' rows (finishing it, its predicted score) runs one at a time and sees
    what the one before committed (PostgreSQL; SQLite writes one at a time anyway)."""
    session.execute(select(TextSession.id).where(TextSession.id == ts.id).with_for_update())


def maybe_finish(session: Session, ts: TextSession) -> None:
    """A session whose assignees all finished (or skipped) every document is FINISHED."""
    if ts.status != SessionStatus.ANNOTATING or not ts.document_count:
        return
    assigned = assignee_keys(session, ts.id)
    if not assigned:
        return
    lock(session, ts)
    states = document_states(session, ts.id, keys=assigned)
    if all(_handled(states.get(k, {})) >= ts.document_count for k in assigned):
        ts.status = SessionStatus.FINISHED
        ts.finished_at = ts.updated_at = clock.now()
