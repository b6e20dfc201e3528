"""Classes and labels of a project: one module, since they have one shape (a name, a
description and examples) and one life (added one or many at once, edited, deleted,
read from and written to files).

Names are unique in a project, compared without case ("Staff" and "staff" would be the
same thing to an annotator). The sentiments of an ABSA project are fixed: its labels
cannot be added, changed or deleted. Deleting a class or a label removes the tags that
name it from every annotation of the project in the same transaction (each changed
annotation's ``version`` moves on, so a save based on the old tags is refused, not
lost) and from the sessions that offered it; the answer counts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import cast as cast_type

from pydantic import ValidationError
from sqlalchemy import String, cast, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.errors import Conflict, NotFound, ValidationFailed
from augury.store.pagination import PageParams, paginate
from augury.text.models import (
    ProjectType,
    TextAnnotation,
    TextClass,
    TextLabel,
    TextProject,
    TextReviewConfig,
    TextSession,
)
from augury.text.schemas.vocabulary import (
    ClassRead,
    Kind,
    LabelRead,
    VocabCreate,
    VocabDeleted,
    VocabUpdate,
)
from augury.text.services import sheets

MAX_PER_CALL = 10_000
"""The most classes (or labels) one call adds."""
UPLOAD_FORMATS = ("csv", "xlsx", "json")
DOWNLOAD_FORMATS = ("csv", "json", "xlsx")
AUDITED = ("name", "description", "examples", "position")


@dataclass(frozen=True)
class _Vocab:
    model: type[TextClass] | type[TextLabel]
    one: str
    tag_key: str
    session_column: str

    @property
    def read(self) -> type[ClassRead]:
        return LabelRead if self.model is TextLabel else ClassRead


KINDS: dict[str, _Vocab] = {
    "classes": _Vocab(TextClass, "class", "class_id", "class_ids"),
    "labels": _Vocab(TextLabel, "label", "label_id", "label_ids"),
}

Item = TextClass | TextLabel


def _kind(kind: Kind) -> _Vocab:
    return KINDS[kind]


def _writable(project: TextProject, kind: Kind) -> None:
    if kind == "labels" and project.type == ProjectType.ABSA:
        raise ValidationFailed(
            "The labels of an ABSA project are its fixed sentiments (POS, NEG, NEU, "
            "CONFLICT): they cannot be added, changed or deleted. Add aspects as classes.",
            details={"reason": "FIXED_LABELS", "project_type": project.type},
        )


def list_page(
    *, session: Session, project: TextProject, kind: Kind, page: PageParams
) -> tuple[list[Item], int]:
    """The project's classes (or labels), in display order."""
    model = _kind(kind).model
    stmt = select(model).where(model.project_id == project.id).order_by(model.position, model.id)
    return paginate(session, stmt, page)


def all_of(session: Session, project_id: int, kind: Kind) -> list[Item]:
    model = _kind(kind).model
    return list(
        session.scalars(
            select(model).where(model.project_id == project_id).order_by(model.position, model.id)
        )
    )


def get(*, session: Session, project: TextProject, kind: Kind, item_id: int) -> Item:
    """One class (or label) of the project; another project's is 404."""
    vocab = _kind(kind)
    item = cast_type(Item | None, session.get(vocab.model, item_id))
    if item is None or item.project_id != project.id:
        raise NotFound(f"{vocab.one.capitalize()} not found.", details={"id": item_id})
    return item


def _taken(session: Session, project: TextProject, kind: Kind) -> dict[str, Item]:
    return {item.name.casefold(): item for item in all_of(session, project.id, kind)}


def _conflict(kind: Kind, names: Sequence[str], reason: str) -> Conflict:
    what = _kind(kind).one
    shown = ", ".join(repr(n) for n in list(names)[:10])
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    where = (
        "twice in this request" if reason == "DUPLICATE_IN_REQUEST" else "in the project already"
    )
    plural = len(names) > 1
    return Conflict(
        f"The {what} name{'s' if plural else ''} {shown}{more} {'are' if plural else 'is'} "
        f"{where} (names are unique, whatever their case); nothing was added.",
        details={"reason": reason, "names": list(names)},
    )


def create_many(
    *,
    session: Session,
    principal: Principal,
    project: TextProject,
    kind: Kind,
    items: Sequence[VocabCreate],
) -> list[Item]:
    """Add classes (or labels), all or none: a name the project has, or that the request
    repeats, is 409 naming every such name."""
    _writable(project, kind)
    if not items:
        raise ValidationFailed(f"Send at least one {_kind(kind).one}.", details={"reason": "EMPTY"})
    if len(items) > MAX_PER_CALL:
        raise ValidationFailed(
            f"At most {MAX_PER_CALL} {kind} per call; send them in parts.",
            details={"reason": "TOO_MANY", "limit": MAX_PER_CALL, "given": len(items)},
        )
    seen: dict[str, str] = {}
    repeated = []
    for body in items:
        key = body.name.casefold()
        if key in seen:
            repeated.append(body.name)
        seen[key] = body.name
    if repeated:
        raise _conflict(kind, repeated, "DUPLICATE_IN_REQUEST")
    taken = _taken(session, project, kind)
    clashes = [b.name for b in items if b.name.casefold() in taken]
    if clashes:
        raise _conflict(kind, clashes, "NAME_TAKEN")
    vocab = _kind(kind)
    start = max((i.position for i in taken.values()), default=-1) + 1
    created = [
        vocab.model(
            project_id=project.id,
            name=body.name,
            description=body.description,
            examples=list(body.examples),
            position=start + n,
        )
        for n, body in enumerate(items)
    ]
    session.add_all(created)
    _flush(session, kind, [b.name for b in items])
    project.updated_at = clock.now()
    audit.record_change(
        session=session,
        principal=principal,
        action=f"text_{vocab.one}.create",
        target_type="text_project",
        target_id=project.id,
        after={"names": [c.name for c in created[:100]], "count": len(created)},
    )
    return created


def _flush(session: Session, kind: Kind, names: Sequence[str]) -> None:
    """Flush; a name another request took meanwhile is 409 (the unique constraint)."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise _conflict(kind, names, "NAME_TAKEN") from exc


def update_item(
    *,
    session: Session,
    principal: Principal,
    project: TextProject,
    kind: Kind,
    item: Item,
    body: VocabUpdate,
) -> Item:
    """Rename, describe, give examples or move a class (or label); tags keep pointing at
    it, by id."""
    _writable(project, kind)
    if body.id is not None and body.id != item.id:
        raise ValidationFailed(
            f"The body's id {body.id} is not the path's {item.id}.",
            details={"reason": "ID_MISMATCH"},
        )
    before = audit.snapshot(item, AUDITED)
    changes = body.model_dump(exclude_unset=True, exclude={"id", "example"})
    if "examples" in body.model_fields_set or "example" in body.model_fields_set:
        changes["examples"] = body.examples
    name = changes.get("name")
    if name is not None and name.casefold() != item.name.casefold():
        other = _taken(session, project, kind).get(name.casefold())
        if other is not None and other.id != item.id:
            raise _conflict(kind, [name], "NAME_TAKEN")
    for field, value in changes.items():
        if value is not None:
            setattr(item, field, list(value) if field == "examples" else value)
    _flush(session, kind, [item.name])
    project.updated_at = clock.now()
    audit.record_change(
        session=session,
        principal=principal,
        action=f"text_{_kind(kind).one}.update",
        target_type=f"text_{_kind(kind).one}",
        target_id=item.id,
        before=before,
        after=audit.snapshot(item, AUDITED),
    )
    return item


def delete_item(
    *, session: Session, principal: Principal, project: TextProject, kind: Kind, item: Item
) -> VocabDeleted:
    """Delete a class (or label) and, in the same transaction, every tag that names it
    and its place in sessions' and review's offered lists."""
    _writable(project, kind)
    vocab = _kind(kind)
    tags_removed, annotations_changed = _drop_tags(session, project.id, vocab.tag_key, item.id)
    sessions_changed = _drop_offered(session, project.id, vocab, item.id)
    result = VocabDeleted(
        id=item.id,
        name=item.name,
        tags_removed=tags_removed,
        annotations_changed=annotations_changed,
        sessions_changed=sessions_changed,
    )
    audit.record_change(
        session=session,
        principal=principal,
        action=f"text_{vocab.one}.delete",
        target_type=f"text_{vocab.one}",
        target_id=item.id,
        before={
            **audit.snapshot(item, AUDITED),
            "tags_removed": tags_removed,
            "annotations_changed": annotations_changed,
        },
    )
    session.delete(item)
    project.updated_at = clock.now()
    session.flush()
    return result


def _drop_tags(session: Session, project_id: int, key: str, item_id: int) -> tuple[int, int]:
    """Remove the tags whose ``key`` is ``item_id`` from the project's annotations:
    (tags removed, annotations changed). Each row is rewritten only if its version is
    still the one read, so a save that lands in between is read again, never undone."""
    # A cheap text filter first (the id's digits appear in the JSON), the exact test in
    # Python: JSON functions differ between SQLite and PostgreSQL.
    stmt = select(TextAnnotation.id, TextAnnotation.tags, TextAnnotation.version).where(
        TextAnnotation.project_id == project_id,
        cast(TextAnnotation.tags, String).like(f"%{item_id}%"),
    )
    removed = changed = 0
    pending = list(session.execute(stmt).all())
    while pending:
        retry = []
        for annotation_id, tags, version in pending:
            kept = [t for t in tags or [] if not (isinstance(t, dict) and t.get(key) == item_id)]
            if len(kept) == len(tags or []):
                continue
            result = session.execute(
                update(TextAnnotation)
                .where(TextAnnotation.id == annotation_id, TextAnnotation.version == version)
                .values(tags=kept, version=version + 1, updated_at=clock.now())
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                removed += len(tags) - len(kept)
                changed += 1
            else:
                retry.append(annotation_id)
        pending = (
            list(
                session.execute(
                    select(TextAnnotation.id, TextAnnotation.tags, TextAnnotation.version).where(
                        TextAnnotation.id.in_(retry)
                    )
                ).all()
            )
            if retry
            else []
        )
    return removed, changed


def _drop_offered(session: Session, project_id: int, vocab: _Vocab, item_id: int) -> int:
    """Take the id out of the sessions (and the review setting) that list it."""
    changed = 0
    for row in session.scalars(select(TextSession).where(TextSession.project_id == project_id)):
        offered = getattr(row, vocab.session_column)
        if offered and item_id in offered:
            setattr(row, vocab.session_column, [i for i in offered if i != item_id])
            changed += 1
    if vocab.model is TextClass:
        for config in session.scalars(
            select(TextReviewConfig).where(TextReviewConfig.project_id == project_id)
        ):
            if config.class_ids and item_id in config.class_ids:
                config.class_ids = [i for i in config.class_ids if i != item_id]
    return changed


# --- files ---------------------------------------------------------------------------


def read_file(data: bytes, file_name: str | None, kind: Kind) -> list[VocabCreate]:
    """The entries of a CSV, XLSX or JSON file: columns ``name``, ``description`` and
    ``examples`` (one per line in the cell) or ``example`` (any column whose name starts
    with "example"); other columns are ignored. 422 naming the rows that are wrong."""
    fmt = sheets.format_of(data, file_name, UPLOAD_FORMATS)
    rows = sheets.read_rows(data, fmt)
    if rows and not any("name" in r.values for r in rows):
        raise ValidationFailed(
            "The file needs a 'name' column (and may have description and examples).",
            details={"reason": "NO_NAME_COLUMN", "columns": sorted(rows[0].values)},
        )
    items, errors = [], []
    for row in rows:
        try:
            items.append(_entry(row))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors()
            )
            errors.append({"line": row.line, "message": problems})
    if errors:
        raise ValidationFailed(
            f"{len(errors)} row(s) of the file are not valid {kind}, the first at line "
            f"{errors[0]['line']} ({errors[0]['message']}); nothing was added.",
            details={"reason": "INVALID_ROWS", "errors": errors[:50], "count": len(errors)},
        )
    if not items:
        raise ValidationFailed(f"The file holds no {kind}.", details={"reason": "EMPTY"})
    return items


def _entry(row: sheets.Row) -> VocabCreate:
    examples: list[str] = []
    for column, value in row.values.items():
        if not column.startswith("example") or value is None:
            continue
        if isinstance(value, list):
            examples.extend(str(v) for v in value)
        else:
            examples.extend(str(value).splitlines())
    examples = list(dict.fromkeys(e.strip() for e in examples if e.strip()))
    return VocabCreate(
        name=row.text("name") or "",
        description=row.text("description") or "",
        examples=examples,
    )


def write_file(items: Iterable[Item], kind: Kind, fmt: str, dst: Path) -> int:
    """The entries as a file :func:`read_file` reads back: CSV and XLSX with one example
    per line of the ``examples`` cell; JSON as the API answers them."""
    read = _kind(kind).read
    bodies = [read.model_validate(item).model_dump(mode="json") for item in items]
    if fmt == "json":
        columns: list[str] = list(read.model_fields)
        return sheets.write_rows(dst, fmt, columns, bodies)
    columns = ["id", "name", "description", "examples", "position"]
    rows: list[dict[str, Any]] = [{**b, "examples": "\n".join(b["examples"])} for b in bodies]
    return sheets.write_rows(dst, fmt, columns, rows)
