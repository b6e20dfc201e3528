"""Groups of a project's documents: made from document ids, new documents or a file's
column; documents added and removed; listed and searched; downloaded as a file.

A document may be in any number of groups, and deleting a group leaves its documents in
the project. ``document_count`` is recounted from the membership rows after every
change, so it stays right whatever else (a document deleted) changed them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.config import Settings
from augury.datasets.storage import storage_for
from augury.engines.tabular.export import XLSX_MAX_CELL, XLSX_MAX_ROWS, escape_cell
from augury.errors import Conflict, NotFound, ValidationFailed
from augury.jobs.models import Job
from augury.store.pagination import PageParams, paginate
from augury.text.models import TextDocument, TextGroup, TextGroupDocument, TextProject
from augury.text.schemas.documents import DocumentsCreate
from augury.text.schemas.groups import GroupCreate, GroupUpdate
from augury.text.services import documents

AUDITED = ("name", "description")
DOWNLOAD_FORMATS = ("csv", "jsonl", "json", "xlsx")
FIXED_COLUMNS = ("text", "id", "document_id")
"""The first columns of a download: the text, the caller's id (empty when none was
given) and augury's id; the documents' meta keys follow."""


def get(session: Session, project: TextProject, group_id: int) -> TextGroup:
    group = session.scalar(
        select(TextGroup).where(TextGroup.id == group_id, TextGroup.project_id == project.id)
    )
    if group is None:
        raise NotFound("Group not found.")
    return group


def list_page(
    session: Session, project: TextProject, page: PageParams
) -> tuple[list[TextGroup], int]:
    stmt = select(TextGroup).where(TextGroup.project_id == project.id).order_by(TextGroup.id)
    return paginate(session, stmt, page)


def _name_free(session: Session, project: TextProject, name: str, other: int | None = None):
    stmt = select(TextGroup.id).where(TextGroup.project_id == project.id, TextGroup.name == name)
    if other is not None:
        stmt = stmt.where(TextGroup.id != other)
    if session.scalar(stmt) is not None:
        raise Conflict(
            f"The project already has a group named {name!r}.",
            details={"reason": "NAME_TAKEN", "name": name},
        )


def create(
    session: Session,
    principal: Principal,
    settings: Settings,
    project: TextProject,
    body: GroupCreate,
) -> tuple[TextGroup, Job | None]:
    """A group, with its documents: existing ones (every id this project's, else 422),
    new ones, or a file's column. Large uploads are added by a ``text.documents`` job,
    returned with the group (which fills as it runs)."""
    name = body.name.strip()
    _name_free(session, project, name)
    ids = documents.require_documents(session, project, body.document_ids or [])
    group = TextGroup(
        org_id=project.org_id,
        project_id=project.id,
        name=name,
        description=body.description,
        document_count=0,
        created_by_id=principal.user_id,
    )
    session.add(group)
    session.flush()
    job = None
    if ids:
        documents.join_group(session, group.id, ids)
    if body.documents is not None or body.file_id is not None:
        made = documents.create(
            session,
            principal,
            settings,
            project,
            DocumentsCreate.model_validate(
                body.model_dump(exclude={"name", "description", "document_ids"})
            ),
            group_id=group.id,
        )
        job = made.job
    session.refresh(group)
    audit.record_change(
        session=session,
        principal=principal,
        action="text.group.create",
        target_type="text_group",
        target_id=group.id,
        after={**audit.snapshot(group, AUDITED), "project_id": project.id},
    )
    return group, job


def update(
    session: Session,
    principal: Principal,
    project: TextProject,
    group: TextGroup,
    body: GroupUpdate,
) -> TextGroup:
    """Rename, describe, and (as the seed's PATCH does) add ``document_ids``."""
    before = audit.snapshot(group, AUDITED)
    if body.name is not None and body.name.strip() != group.name:
        _name_free(session, project, body.name.strip(), other=group.id)
        group.name = body.name.strip()
    if body.description is not None:
        group.description = body.description
    if body.document_ids:
        add_documents(session, principal, project, group, body.document_ids)
    audit.record_change(
        session=session,
        principal=principal,
        action="text.group.update",
        target_type="text_group",
        target_id=group.id,
        before=before,
        after=audit.snapshot(group, AUDITED),
    )
    session.flush()
    session.refresh(group)
    return group


def delete_group(session: Session, principal: Principal, group: TextGroup) -> None:
    """Delete the group; its documents stay in the project."""
    audit.record_change(
        session=session,
        principal=principal,
        action="text.group.delete",
        target_type="text_group",
        target_id=group.id,
        before={**audit.snapshot(group, AUDITED), "document_count": group.document_count},
    )
    session.delete(group)
    session.flush()


def add_documents(
    session: Session,
    principal: Principal,
    project: TextProject,
    group: TextGroup,
    ids: Sequence[int],
) -> int:
    """Add documents of the project (422 naming any that are not); how many were new."""
    wanted = documents.require_documents(session, project, ids)
    added = documents.join_group(session, group.id, wanted)
    session.refresh(group)
    return added


def remove_documents(
    session: Session,
    principal: Principal,
    project: TextProject,
    group: TextGroup,
    ids: Sequence[int],
) -> int:
    """Take documents out of the group (they stay in the project); how many were in it."""
    wanted = documents.require_documents(session, project, ids)
    removed = 0
    for lo in range(0, len(wanted), 1000):
        result = session.execute(
            delete(TextGroupDocument).where(
                TextGroupDocument.group_id == group.id,
                TextGroupDocument.document_id.in_(wanted[lo : lo + 1000]),
            )
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
    documents.recount_groups(session, [group.id])
    session.refresh(group)
    return removed


def member(
    session: Session, project: TextProject, group: TextGroup, document_id: int
) -> TextDocument:
    """The group's document ``document_id``; 404 when it is not in the group."""
    doc = session.scalar(
        select(TextDocument)
        .join(TextGroupDocument, TextGroupDocument.document_id == TextDocument.id)
        .where(
            TextGroupDocument.group_id == group.id,
            TextDocument.id == document_id,
            TextDocument.project_id == project.id,
        )
    )
    if doc is None:
        raise NotFound("Document not found in this group.")
    return doc


def documents_page(
    session: Session,
    project: TextProject,
    group: TextGroup,
    page: PageParams,
    q: str | None = None,
) -> tuple[list[TextDocument], int]:
    return documents.list_page(session, project, page, q=q, group_id=group.id)


# -- download ----------------------------------------------------------------------------


def _members(session: Session, group: TextGroup, batch: int = 1000) -> Iterator[dict]:
    """The group's documents in id order as plain rows, a batch at a time (bounded
    memory: no objects pile up in the session)."""
    last = 0
    while True:
        rows = session.execute(
            select(TextDocument.id, TextDocument.text, TextDocument.external_id, TextDocument.meta)
            .join(TextGroupDocument, TextGroupDocument.document_id == TextDocument.id)
            .where(TextGroupDocument.group_id == group.id, TextDocument.id > last)
            .order_by(TextDocument.id)
            .limit(batch)
        ).all()
        for doc_id, text, external_id, meta in rows:
            yield {"text": text, "id": external_id, "document_id": doc_id, "meta": meta or {}}
        if len(rows) < batch:
            return
        last = rows[-1][0]


def _meta_keys(session: Session, group: TextGroup) -> list[str]:
    keys: dict[str, None] = {}
    for doc in _members(session, group):
        for key in doc["meta"]:
            keys.setdefault(str(key), None)
    return [k if k not in FIXED_COLUMNS else f"meta.{k}" for k in keys]


def _row(doc: dict, meta_keys: list[str]) -> dict:
    meta = doc.pop("meta")
    for key in meta_keys:
        source = key[5:] if key.startswith("meta.") and key[5:] in FIXED_COLUMNS else key
        doc[key] = meta.get(source)
    return doc


def download(session: Session, settings: Settings, group: TextGroup, fmt: str) -> Path:
    """The group's documents written to a staging file (the caller sends and removes
    it): one row each, ``text``, ``id``, ``document_id`` then the meta keys. CSV and
    XLSX cells that a spreadsheet would run as formulas are escaped."""
    if fmt not in DOWNLOAD_FORMATS:
        raise ValidationFailed(
            f"Unknown format {fmt!r}; download as {', '.join(DOWNLOAD_FORMATS)}.",
            details={"formats": list(DOWNLOAD_FORMATS)},
        )
    if fmt == "xlsx" and group.document_count > XLSX_MAX_ROWS:
        raise ValidationFailed(
            f"XLSX holds at most {XLSX_MAX_ROWS:,} rows; download the group as CSV or JSONL.",
            details={"reason": "TOO_MANY_ROWS", "max_rows": XLSX_MAX_ROWS},
        )
    keys = _meta_keys(session, group)
    columns = [*FIXED_COLUMNS, *keys]
    path = storage_for(settings).staging_file(f".{fmt}")
    try:
        rows = (_row(doc, keys) for doc in _members(session, group))
        {"csv": _csv, "jsonl": _jsonl, "json": _json, "xlsx": _xlsx}[fmt](path, columns, rows)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _flat(value: object) -> object:
    """A meta value as a spreadsheet cell: objects and lists as JSON text."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _csv(path: Path, columns: list[str], rows: Iterator[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else escape_cell(_flat(row[c])) for c in columns])


def _jsonl(path: Path, columns: list[str], rows: Iterator[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _json(path: Path, columns: list[str], rows: Iterator[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for i, row in enumerate(rows):
            out.write(("," if i else "") + "\n" + json.dumps(row, ensure_ascii=False))
        out.write("\n]\n")


def _xlsx(path: Path, columns: list[str], rows: Iterator[dict]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("documents")
    sheet.append(columns)
    for row in rows:
        sheet.append([_xlsx_cell(row[c]) for c in columns])
    book.save(path)


def _xlsx_cell(value: object) -> object:
    value = escape_cell(_flat(value))
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_CELL]
    return value
