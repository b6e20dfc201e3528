"""A project's labeled data as a file, out (export) and in (import).

The file (docs/text.md, "Projects") has one row per segment and tag:

    document_id, external_id, document_text, meta,
    segment_start, segment_end, segment_text,
    session_id, session, annotator, class, label, tag_start, tag_end

Every segment of an exported document is in it: a segment nobody tagged has one row
with the session columns empty. ``document_text`` and ``meta`` are on a document's
first row only (XLSX leaves out a text longer than a cell holds; importing rebuilds it
from the segments, spaces between them). An annotation without tags (the annotator
found none applied) is one row with its session and annotator and no class or label.
``tag_start``/``tag_end`` are segment-relative, empty for the whole segment.
``annotator`` is a person's email, ``model:<id>``, or the name an earlier import gave.

Importing makes an IMPORT session for each session the file names (by ``session_id``,
else ``session``), named as there, so an export imported into a fresh project exports
the same rows, ids aside. Documents with an ``external_id`` the project has already
are not made again: their tags go on the project's segments of the same spans.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import Membership, User
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.errors import NotFound, ValidationFailed
from augury.text.models import (
    ProjectType,
    SessionMode,
    SessionStatus,
    TextAnnotation,
    TextClass,
    TextDocument,
    TextLabel,
    TextProject,
    TextSegment,
    TextSession,
    TextSessionAssignee,
    TextSessionDocument,
)
from augury.text.schemas.projects import ImportedSession, ImportResult
from augury.text.schemas.vocabulary import VocabCreate
from augury.text.services import documents as documents_service
from augury.text.services import sheets, vocabulary
from augury.text.services.portability import insert_rows, inserted

COLUMNS = (
    "document_id",
    "external_id",
    "document_text",
    "meta",
    "segment_start",
    "segment_end",
    "segment_text",
    "session_id",
    "session",
    "annotator",
    "class",
    "label",
    "tag_start",
    "tag_end",
)
FORMATS = ("csv", "jsonl", "xlsx")
CHUNK = 500
"""Documents read or written per round of queries."""
MAX_ROWS = 500_000
MAX_ERRORS = 50


# --- export --------------------------------------------------------------------------


def export_sessions(
    session: Session,
    project: TextProject,
    session_id: int | None = None,
    annotator_id: int | None = None,
) -> dict[int, str]:
    """The sessions an export reads, by id with their names: one (``session_id``), or
    all of the project's; only those assigned to ``annotator_id`` when given."""
    stmt = select(TextSession.id, TextSession.name).where(TextSession.project_id == project.id)
    if session_id is not None:
        stmt = stmt.where(TextSession.id == session_id)
    if annotator_id is not None:
        stmt = stmt.where(
            select(TextSessionAssignee.user_id)
            .where(
                TextSessionAssignee.session_id == TextSession.id,
                TextSessionAssignee.user_id == annotator_id,
            )
            .exists()
        )
    found = dict(session.execute(stmt.order_by(TextSession.id)).tuples().all())
    if session_id is not None and not found:
        raise NotFound("Session not found.", details={"session_id": session_id})
    return found


def export_file(
    *,
    session: Session,
    project: TextProject,
    fmt: str,
    dst: Path,
    session_id: int | None = None,
    annotator_id: int | None = None,
) -> int:
    """Write the project's labeled data to ``dst`` as csv, jsonl or xlsx (the format in
    the module's docstring); the number of rows."""
    sessions = export_sessions(session, project, session_id, annotator_id)
    return sheets.write_rows(
        dst, fmt, COLUMNS, export_rows(session, project, sessions, xlsx=fmt == "xlsx")
    )


def _annotator_names(session: Session, project: TextProject, sessions: Sequence[int]) -> dict:
    ids = (
        select(TextAnnotation.annotator_id)
        .distinct()
        .where(TextAnnotation.project_id == project.id, TextAnnotation.session_id.in_(sessions))
        .scalar_subquery()
    )
    return dict(session.execute(select(User.id, User.email).where(User.id.in_(ids))).tuples().all())


def _annotator(key: str, annotator_id: int | None, emails: dict[int, str]) -> str | None:
    """Who made an annotation, as the file says it: a person's email, ``model:<id>``,
    or the name an import gave."""
    if annotator_id is not None and annotator_id in emails:
        return emails[annotator_id]
    if key == "import":
        return None
    return key.removeprefix("import:")


def export_rows(
    session: Session, project: TextProject, sessions: dict[int, str], *, xlsx: bool = False
) -> Iterator[dict]:
    """The rows of the labeled-data file, document by document."""
    if not sessions:
        return
    ids = list(sessions)
    classes = dict(
        session.execute(
            select(TextClass.id, TextClass.name).where(TextClass.project_id == project.id)
        )
        .tuples()
        .all()
    )
    labels = dict(
        session.execute(
            select(TextLabel.id, TextLabel.name).where(TextLabel.project_id == project.id)
        )
        .tuples()
        .all()
    )
    emails = _annotator_names(session, project, ids)
    document_ids = list(
        session.scalars(
            select(TextAnnotation.document_id)
            .distinct()
            .where(TextAnnotation.project_id == project.id, TextAnnotation.session_id.in_(ids))
            .order_by(TextAnnotation.document_id)
        )
    )
    for start in range(0, len(document_ids), CHUNK):
        chunk = document_ids[start : start + CHUNK]
        yield from _document_rows(session, chunk, sessions, classes, labels, emails, xlsx)


def _document_rows(session, chunk, sessions, classes, labels, emails, xlsx) -> Iterator[dict]:
    docs = session.execute(
        select(TextDocument.id, TextDocument.external_id, TextDocument.text, TextDocument.meta)
        .where(TextDocument.id.in_(chunk))
        .order_by(TextDocument.id)
    ).all()
    segments = defaultdict(list)
    for seg in session.execute(
        select(
            TextSegment.id,
            TextSegment.document_id,
            TextSegment.start,
            TextSegment.end,
            TextSegment.text,
        )
        .where(TextSegment.document_id.in_(chunk))
        .order_by(TextSegment.document_id, TextSegment.position, TextSegment.id)
    ):
        segments[seg.document_id].append(seg)
    annotations = defaultdict(list)
    for a in session.execute(
        select(
            TextAnnotation.segment_id,
            TextAnnotation.session_id,
            TextAnnotation.annotator_id,
            TextAnnotation.annotator_key,
            TextAnnotation.tags,
        )
        .where(TextAnnotation.document_id.in_(chunk), TextAnnotation.session_id.in_(list(sessions)))
        .order_by(
            TextAnnotation.segment_id, TextAnnotation.session_id, TextAnnotation.annotator_key
        )
    ):
        annotations[a.segment_id].append(a)
    for doc in docs:
        text = doc.text if not (xlsx and len(doc.text) > sheets.XLSX_MAX_CELL) else None
        first: dict[str, Any] = {"document_text": text, "meta": doc.meta or None}
        for seg in segments[doc.id]:
            if xlsx and len(seg.text) > sheets.XLSX_MAX_CELL:
                raise ValidationFailed(
                    f"A segment of document {doc.id} has {len(seg.text)} characters, more "
                    f"than an XLSX cell holds ({sheets.XLSX_MAX_CELL}); export as csv or jsonl.",
                    details={"reason": "CELL_TOO_LONG", "document_id": doc.id},
                )
            base = {
                "document_id": doc.id,
                "external_id": doc.external_id,
                "segment_start": seg.start,
                "segment_end": seg.end,
                "segment_text": seg.text,
            }
            for row in _segment_rows(annotations[seg.id], sessions, classes, labels, emails):
                yield {**base, **first, **row}
                first = {}


def _segment_rows(annotations, sessions, classes, labels, emails) -> Iterator[dict]:
    if not annotations:
        yield {}
        return
    for a in annotations:
        who = {
            "session_id": a.session_id,
            "session": sessions[a.session_id],
            "annotator": _annotator(a.annotator_key, a.annotator_id, emails),
        }
        tags = [
            t
            for t in a.tags or []
            if isinstance(t, dict)
            and (t.get("class_id") is None or t["class_id"] in classes)
            and (t.get("label_id") is None or t["label_id"] in labels)
        ]
        if not tags:
            yield who
        for tag in tags:
            yield {
                **who,
                "class": classes.get(tag.get("class_id")),
                "label": labels.get(tag.get("label_id")),
                "tag_start": tag.get("start"),
                "tag_end": tag.get("end"),
            }


# --- import --------------------------------------------------------------------------


@dataclass
class _Segment:
    start: int
    end: int
    text: str
    line: int
    annotations: dict[tuple[str, str], list[tuple]] = field(default_factory=dict)
    """(session key, annotator) -> tags as (class, label, start, end, line)."""


@dataclass
class _Document:
    key: str
    external_id: str | None
    line: int
    text: str | None = None
    meta: dict | None = None
    segments: dict[tuple[int, int], _Segment] = field(default_factory=dict)
    id: int | None = None
    """The project's document, once matched or made."""
    segment_ids: dict[tuple[int, int], int] = field(default_factory=dict)


@dataclass
class _SessionRef:
    name: str | None
    file_id: str | None
    line: int


@dataclass
class _Parsed:
    documents: dict[str, _Document] = field(default_factory=dict)
    sessions: dict[str, _SessionRef] = field(default_factory=dict)
    classes: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)


class _Errors:
    """What is wrong with the file, by line, reported all at once (the first 50)."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.count = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append({"line": line, "message": message})

    def check(self) -> None:
        if self.count:
            first = self.items[0]
            raise ValidationFailed(
                f"{self.count} problem(s) in the file, the first at line {first['line']}: "
                f"{first['message']} Nothing was imported.",
                details={"reason": "INVALID_ROWS", "errors": self.items, "count": self.count},
            )


def _number(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return int(str(value).strip())


def _name(row: sheets.Row, column: str) -> str | None:
    value = row.text(column)
    return value.strip() or None if value is not None else None


def import_file(
    *,
    session: Session,
    principal: Principal,
    project: TextProject,
    data: bytes,
    file_name: str | None,
    session_name: str | None = None,
    create_missing: bool = False,
) -> ImportResult:
    """Import a labeled-data file (the export's format): its new documents with their
    segments, and an IMPORT session of its tags per session it names; all or nothing,
    422 listing the lines that are wrong."""
    rows = sheets.read_rows(data, sheets.format_of(data, file_name, FORMATS))
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(
            f"At most {MAX_ROWS} rows per import; split the file.",
            details={"reason": "TOO_MANY_ROWS", "limit": MAX_ROWS},
        )
    columns = set().union(*(r.values for r in rows)) if rows else set()
    needed = {"segment_start", "segment_end", "segment_text"} - columns
    if not rows or needed or not {"document_id", "external_id"} & columns:
        raise ValidationFailed(
            "The file needs the columns segment_start, segment_end, segment_text, and "
            "document_id or external_id (docs/text.md, Projects, has the format).",
            details={
                "reason": "MISSING_COLUMNS",
                "missing": sorted(needed) or ["document_id or external_id"],
                "columns": sorted(columns),
            },
        )
    errors = _Errors()
    parsed = _parse(rows, ProjectType(project.type), errors)
    _match_existing(session, project, parsed, errors)
    _assemble(parsed, errors)
    errors.check()
    created = _ensure_vocabulary(session, principal, project, parsed, create_missing)
    names = _vocabulary(session, project)
    people = _members_by_email(session, project.org_id, parsed)
    default_name = session_name or (f"Import of {file_name}" if file_name else "Import")
    result = _write(session, principal, project, parsed, names, people, default_name, file_name)
    result.classes_created, result.labels_created = created
    result.ignored_columns = sorted(columns - set(COLUMNS))
    audit.record_change(
        session=session,
        principal=principal,
        action="text_project.import",
        target_type="text_project",
        target_id=project.id,
        after={
            "file_name": file_name,
            "sessions": [s.id for s in result.sessions],
            "documents_created": result.documents_created,
            "annotations": result.annotations,
        },
    )
    return result


def _parse(rows: list[sheets.Row], type_: ProjectType, errors: _Errors) -> _Parsed:
    parsed = _Parsed()
    for row in rows:
        _parse_row(row, type_, parsed, errors)
    return parsed


def _parse_row(row: sheets.Row, type_: ProjectType, parsed: _Parsed, errors: _Errors) -> None:
    line = row.line
    external_id, ref = _name(row, "external_id"), _name(row, "document_id")
    if external_id is None and ref is None:
        errors.add(line, "A row needs its document_id or external_id.")
        return
    if external_id is not None and len(external_id) > 200:
        errors.add(line, "An external_id has at most 200 characters.")
        return
    try:
        start, end = (
            _number(row.values.get("segment_start")),
            _number(row.values.get("segment_end")),
        )
        tag_start, tag_end = (
            _number(row.values.get("tag_start")),
            _number(row.values.get("tag_end")),
        )
    except ValueError:
        errors.add(line, "segment_start, segment_end, tag_start and tag_end are whole numbers.")
        return
    text = row.text("segment_text")
    if start is None or end is None or text is None:
        errors.add(line, "A row needs segment_start, segment_end and segment_text.")
        return
    if not 0 <= start < end or end - start != len(text) or not text.strip():
        errors.add(
            line,
            f"The segment [{start}, {end}) does not fit its text of {len(text)} characters "
            "(spans are half-open character offsets; the text is not blank).",
        )
        return
    key = f"e:{external_id}" if external_id is not None else f"d:{ref}"
    doc = parsed.documents.setdefault(key, _Document(key, external_id, line))
    if not _document_fields(row, doc, errors):
        return
    seg = doc.segments.setdefault((start, end), _Segment(start, end, text, line))
    if seg.text != text:
        errors.add(line, f"The segment [{start}, {end}) has another text at line {seg.line}.")
        return
    _parse_tag(row, type_, seg, parsed, errors, (tag_start, tag_end))


def _document_fields(row: sheets.Row, doc: _Document, errors: _Errors) -> bool:
    text = row.text("document_text")
    if text is not None:
        if doc.text is not None and doc.text != text:
            errors.add(row.line, f"The document_text differs from the one at line {doc.line}.")
            return False
        doc.text = text
    meta = row.values.get("meta")
    if meta not in (None, ""):
        if isinstance(meta, str):
            try:
                meta = json.loads(meta)
            except ValueError:
                meta = None
        if not isinstance(meta, dict):
            errors.add(row.line, "meta is a JSON object.")
            return False
        doc.meta = meta
    return True


def _parse_tag(
    row: sheets.Row,
    type_: ProjectType,
    seg: _Segment,
    parsed: _Parsed,
    errors: _Errors,
    span: tuple[int | None, int | None],
) -> None:
    line = row.line
    session_id, session_name = _name(row, "session_id"), _name(row, "session")
    annotator = _name(row, "annotator") or ""
    class_name, label_name = _name(row, "class"), _name(row, "label")
    if not any((session_id, session_name, annotator, class_name, label_name)) and span == (
        None,
        None,
    ):
        return
    session_key = f"i:{session_id}" if session_id else f"n:{session_name}" if session_name else ""
    parsed.sessions.setdefault(session_key, _SessionRef(session_name, session_id, line))
    tags = seg.annotations.setdefault((session_key, annotator), [])
    if class_name is None and label_name is None:
        if span != (None, None):
            errors.add(line, "A tag span needs a class or a label.")
        return
    rule = _type_rule(type_, class_name, label_name)
    if rule:
        errors.add(line, rule)
        return
    start, end = span
    if (start is None) != (end is None):
        errors.add(line, "Give both tag_start and tag_end, or neither (the whole segment).")
        return
    if start is not None and end is not None and not 0 <= start < end <= len(seg.text):
        errors.add(line, f"The tag span [{start}, {end}) is not within the segment.")
        return
    tag = (class_name, label_name, start, end, line)
    if any(t[:4] == tag[:4] for t in tags):
        return
    if type_ is ProjectType.CLASS and tags:
        errors.add(line, "A CLASS project's segment has one class per annotator and session.")
        return
    if type_ is ProjectType.ABSA and any(t[0] == class_name and t[2:4] == tag[2:4] for t in tags):
        errors.add(line, f"The aspect '{class_name}' has one sentiment per annotator and segment.")
        return
    tags.append(tag)
    if class_name is not None:
        parsed.classes.add(class_name)
    if label_name is not None:
        parsed.labels.add(label_name)


def _type_rule(type_: ProjectType, class_name: str | None, label_name: str | None) -> str | None:
    """What the project's type refuses in a tag, or None."""
    if type_ is ProjectType.CLASS and label_name is not None:
        return "A CLASS project's tags have a class and no label."
    if type_ is ProjectType.LABEL and class_name is not None:
        return "A LABEL project's tags have a label and no class."
    if type_ is ProjectType.ABSA and (class_name is None or label_name is None):
        return "An ABSA project's tags have an aspect (class) and a sentiment (label)."
    return None


def _match_existing(
    session: Session, project: TextProject, parsed: _Parsed, errors: _Errors
) -> None:
    """Documents whose external_id the project has: the file's segments must be the
    project's (same spans and text)."""
    named = {d.external_id: d for d in parsed.documents.values() if d.external_id is not None}
    keys = list(named)
    for start in range(0, len(keys), CHUNK):
        found = session.execute(
            select(TextDocument.id, TextDocument.external_id, TextDocument.text).where(
                TextDocument.project_id == project.id,
                TextDocument.external_id.in_(keys[start : start + CHUNK]),
            )
        ).all()
        by_id: dict[int, _Document] = {}
        for doc_id, external_id, text in found:
            doc = named[str(external_id)]
            doc.id = doc_id
            by_id[doc_id] = doc
            if doc.text is not None and doc.text != text:
                errors.add(
                    doc.line,
                    f"The project has a document '{external_id}' with another text; "
                    "give this one another external_id.",
                )
        if not by_id:
            continue
        stored = session.execute(
            select(
                TextSegment.id,
                TextSegment.document_id,
                TextSegment.start,
                TextSegment.end,
                TextSegment.text,
            ).where(TextSegment.document_id.in_(list(by_id)))
        ).all()
        spans = {(s.document_id, s.start, s.end): (s.id, s.text) for s in stored}
        for doc_id, doc in by_id.items():
            for (a, b), seg in doc.segments.items():
                match = spans.get((doc_id, a, b))
                if match is None or match[1] != seg.text:
                    errors.add(
                        seg.line,
                        f"The project's document '{doc.external_id}' has no segment "
                        f"[{a}, {b}) with this text.",
                    )
                else:
                    doc.segment_ids[(a, b)] = match[0]


def _assemble(parsed: _Parsed, errors: _Errors) -> None:
    """Check each new document's segments against its text (or build the text from
    them, spaces between, when the file has none)."""
    for doc in parsed.documents.values():
        ordered = [doc.segments[span] for span in sorted(doc.segments)]
        for before, after in zip(ordered, ordered[1:], strict=False):
            if after.start < before.end:
                errors.add(after.line, f"The segment overlaps the one at line {before.line}.")
        if doc.id is not None:
            continue
        if doc.text is None:
            parts: list[str] = []
            at = 0
            for seg in ordered:
                parts.extend((" " * max(seg.start - at, 0), seg.text))
                at = seg.end
            doc.text = "".join(parts)
            continue
        for seg in ordered:
            if doc.text[seg.start : seg.end] != seg.text:
                errors.add(
                    seg.line, f"document_text[{seg.start}:{seg.end}] is not the segment_text."
                )


def _vocabulary(session: Session, project: TextProject) -> dict[str, dict[str, int]]:
    """Class and label ids by name, and by name without case as the next guess."""
    names: dict[str, dict[str, int]] = {"classes": {}, "labels": {}}
    for kind in ("classes", "labels"):
        for item in vocabulary.all_of(session, project.id, kind):
            names[kind][item.name] = item.id
            names[kind].setdefault(item.name.casefold(), item.id)
    return names


def _resolve(names: dict[str, int], name: str) -> int | None:
    return names.get(name, names.get(name.casefold()))


def _ensure_vocabulary(
    session: Session,
    principal: Principal,
    project: TextProject,
    parsed: _Parsed,
    create_missing: bool,
) -> tuple[list[str], list[str]]:
    """The classes and labels the file names that the project lacks: created with
    ``create_missing``, else 422 naming them (an ABSA project's labels are fixed)."""
    known = _vocabulary(session, project)
    missing = {
        "classes": sorted(n for n in parsed.classes if _resolve(known["classes"], n) is None),
        "labels": sorted(n for n in parsed.labels if _resolve(known["labels"], n) is None),
    }
    fixed = project.type == ProjectType.ABSA and missing["labels"]
    if (missing["classes"] or missing["labels"]) and (not create_missing or fixed):
        hint = (
            "an ABSA project's sentiments are POS, NEG, NEU and CONFLICT"
            if fixed
            else "add them first, or import with create_missing=true"
        )
        raise ValidationFailed(
            f"The file names classes or labels the project does not have ({hint}).",
            details={"reason": "UNKNOWN_TAG", **missing},
        )
    for kind in ("classes", "labels"):
        if missing[kind]:
            try:
                items = [VocabCreate(name=n) for n in missing[kind]]
            except ValueError as exc:
                raise ValidationFailed(
                    f"A {kind[:-1]} name in the file is not valid: {exc}",
                    details={"reason": "INVALID_NAME"},
                ) from exc
            vocabulary.create_many(
                session=session,
                principal=principal,
                project=project,
                kind=kind,
                items=items,
            )
    return missing["classes"], missing["labels"]


def _members_by_email(session: Session, org_id: int, parsed: _Parsed) -> dict[str, int]:
    """Annotators of the file who are members of the organization, by email."""
    emails = {
        annotator.lower()
        for doc in parsed.documents.values()
        for seg in doc.segments.values()
        for _, annotator in seg.annotations
        if "@" in annotator
    }
    if not emails:
        return {}
    rows = session.execute(
        select(func.lower(User.email), User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.org_id == org_id,
            Membership.disabled_at.is_(None),
            func.lower(User.email).in_(sorted(emails)),
        )
    ).all()
    return {email: user_id for email, user_id in rows}


def _annotator_key(annotator: str, people: dict[str, int]) -> tuple[str, int | None]:
    """The annotation's annotator_key and person: a member of the organization by their
    email; anyone else under ``import:<name>`` (at most 40 characters: a long name is
    shortened with a digest, so two stay apart)."""
    if not annotator:
        return "import", None
    user_id = people.get(annotator.lower())
    if user_id is not None:
        return f"user:{user_id}", user_id
    key = f"import:{annotator}"
    if len(key) > 40:
        digest = hashlib.sha256(annotator.encode()).hexdigest()[:8]
        key = f"import:{annotator[:24]}~{digest}"
    return key, None


def _session_order(item: tuple[str, _SessionRef]) -> tuple:
    """Sessions in the order of their ids in the file (so exports list them alike),
    then by first appearance."""
    ref = item[1]
    if ref.file_id is not None and ref.file_id.isdecimal():
        return (0, int(ref.file_id), ref.line)
    return (1, 0, ref.line)


def _write(
    session: Session,
    principal: Principal,
    project: TextProject,
    parsed: _Parsed,
    names: dict[str, dict[str, int]],
    people: dict[str, int],
    default_name: str,
    file_name: str | None,
) -> ImportResult:
    documents = list(parsed.documents.values())
    new = [d for d in documents if d.id is None]
    segments_created = 0
    for start in range(0, len(new), CHUNK):
        chunk = new[start : start + CHUNK]
        ids = documents_service.insert_documents(
            session,
            [
                {
                    "org_id": project.org_id,
                    "project_id": project.id,
                    "external_id": d.external_id,
                    "text": d.text,
                    "meta": d.meta or {},
                    "segmentation": project.segmentation,
                    "source": "import",
                    "length": len(d.text or ""),
                    "segment_count": len(d.segments),
                }
                for d in chunk
            ],
        )
        spans: list[tuple[_Document, tuple[int, int]]] = []
        for doc, doc_id in zip(chunk, ids, strict=True):
            doc.id = doc_id
            spans.extend((doc, span) for span in sorted(doc.segments))
        seg_ids = inserted(
            session,
            TextSegment,
            [
                {
                    "document_id": doc.id,
                    "project_id": project.id,
                    "position": position,
                    "start": span[0],
                    "end": span[1],
                    "page": None,
                    "text": doc.segments[span].text,
                }
                for position, (doc, span) in _positions(spans)
            ],
        )
        for (doc, span), seg_id in zip(spans, seg_ids, strict=True):
            doc.segment_ids[span] = seg_id
        segments_created += len(seg_ids)
    project.document_count = (project.document_count or 0) + len(new)
    project.updated_at = clock.now()

    refs = dict(sorted(parsed.sessions.items(), key=_session_order))
    if not refs or any(not _labeled(d) for d in documents):
        refs.setdefault("", _SessionRef(None, None, 0))
    made: dict[str, TextSession] = {}
    for key, ref in refs.items():
        made[key] = TextSession(
            org_id=project.org_id,
            project_id=project.id,
            name=(ref.name or (f"Session {ref.file_id}" if ref.file_id else default_name))[:200],
            description=f"Imported from {file_name}." if file_name else "Imported.",
            mode=SessionMode.IMPORT.value,
            status=SessionStatus.FINISHED.value,
            sampling={"how": "file", "file_name": file_name},
            document_count=0,
            finished_at=clock.now(),
            created_by_id=principal.user_id,
        )
    session.add_all(made.values())
    session.flush()

    members: dict[str, list[_Document]] = defaultdict(list)
    annotations: list[dict] = []
    counts: dict[str, int] = defaultdict(int)
    for doc in documents:
        keys = {k for seg in doc.segments.values() for k, _ in seg.annotations} or {""}
        for key in sorted(keys):
            members[key].append(doc)
        for span, seg in sorted(doc.segments.items()):
            for (key, annotator), tags in seg.annotations.items():
                annotator_key, user_id = _annotator_key(annotator, people)
                annotations.append(
                    {
                        "org_id": project.org_id,
                        "project_id": project.id,
                        "session_id": made[key].id,
                        "document_id": doc.id,
                        "segment_id": doc.segment_ids[span],
                        "annotator_id": user_id,
                        "annotator_key": annotator_key,
                        "source": "import",
                        "tags": [
                            {
                                "class_id": None if c is None else _resolve(names["classes"], c),
                                "label_id": None if lb is None else _resolve(names["labels"], lb),
                                "start": a,
                                "end": b,
                            }
                            for c, lb, a, b, _ in tags
                        ],
                        "score": None,
                        "version": 1,
                    }
                )
                counts[key] += 1
    for key, docs in members.items():
        made[key].document_count = len(docs)
        insert_rows(
            session,
            TextSessionDocument,
            [
                {"session_id": made[key].id, "document_id": d.id, "position": i}
                for i, d in enumerate(docs)
            ],
        )
    for start in range(0, len(annotations), 5000):
        insert_rows(session, TextAnnotation, annotations[start : start + 5000])
    return ImportResult(
        sessions=[
            ImportedSession(
                id=s.id, name=s.name, document_count=s.document_count, annotation_count=counts[k]
            )
            for k, s in made.items()
        ],
        documents_created=len(new),
        documents_reused=len(documents) - len(new),
        segments_created=segments_created,
        annotations=len(annotations),
        classes_created=[],
        labels_created=[],
        ignored_columns=[],
    )


def _labeled(doc: _Document) -> bool:
    return any(seg.annotations for seg in doc.segments.values())


def _positions(spans: list[tuple[_Document, tuple[int, int]]]) -> Iterator[tuple[int, Any]]:
    """Each segment with its position in its document."""
    position, current = 0, None
    for doc, span in spans:
        position = position + 1 if doc is current else 0
        current = doc
        yield position, (doc, span)
