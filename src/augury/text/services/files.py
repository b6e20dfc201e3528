"""Uploaded files of a text project: upload, preview, pick a column.

A file is read once on upload (:mod:`augury.engines.text.documents` finds its format,
columns and rows; a PDF or an image is one document in a column ``text``, a PDF's pages
kept as character spans), kept in the datasets' blob storage under
``text/<org>/<project>/<file id><suffix>``, and answered with its columns and first rows,
the header first (the seed's ``preview``). Its ``file_id`` then names it to the
documents, groups and sessions that make documents of one of its columns; they read it
again from storage (a PDF's or an image's reading is kept beside it instead: OCR takes
seconds a page). Files are kept for :data:`FILE_TTL`; :class:`ExpiredFileSweep` removes
them afterwards.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import math
import re
import uuid
from datetime import timedelta
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.config import Settings
from augury.datasets.storage import storage_for
from augury.engines.text.errors import TextFileError
from augury.errors import AuguryError, NotFound, ValidationFailed
from augury.text.models import TextFile, TextProject

log = logging.getLogger("augury.text.files")

FILE_TTL = timedelta(days=1)
"""How long an uploaded file waits for its column to be picked."""
PREVIEW_ROWS = 10
"""Rows in a file's preview, after the header."""
PREVIEW_CELL_CHARS = 500
"""A preview cell longer than this is cut (a PDF's whole text is one cell)."""
READ_ONCE = ("pdf", "image")
"""Formats whose reading is kept beside the file (``<key>.read.json``): OCR is slow."""
READ_SUFFIX = ".read.json"


def file_error(exc: TextFileError) -> ValidationFailed:
    """The engine's refusal of a file as the API's 422, its code as ``details.reason``."""
    return ValidationFailed(exc.message, details={"reason": exc.code, **exc.details})


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean_text(text: str) -> str:
    """``text`` without NUL characters and lone surrogates (JSON escapes can make them;
    no database stores them, and no JSON answer can carry them)."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("", text)
    return text


def jsonable(value: Any) -> Any:
    """A cell as JSON holds it: dates as ISO text, decimals and other objects as text,
    NaN and infinities as null, NUL characters and lone surrogates dropped."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_clean_text(str(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return _clean_text(str(value))


def upload(
    session: Session,
    principal: Principal,
    settings: Settings,
    project: TextProject,
    src: Path,
    *,
    file_name: str | None,
    size: int,
) -> TextFile:
    """Read a received file (422 when it cannot be), keep it, and record it; ``src`` is
    moved into storage."""
    from augury.engines.text import documents as reader

    name = file_name or "upload"
    try:
        table = reader.read_table(src, name)
    except TextFileError as exc:
        raise file_error(exc) from exc
    file_id = str(uuid.uuid4())
    suffix = PurePath(name).suffix.lower()
    suffix = suffix if suffix[1:].isalnum() and len(suffix) <= 10 else ""
    key = f"text/{project.org_id}/{project.id}/{file_id}{suffix}"
    row = TextFile(
        id=file_id,
        org_id=project.org_id,
        project_id=project.id,
        file_name=name,
        format=table.format,
        size_bytes=size,
        storage_key=key,
        columns=list(table.columns),
        row_count=table.row_count,
        preview=jsonable(table.preview(PREVIEW_ROWS, max_chars=PREVIEW_CELL_CHARS)),
        expires_at=clock.now() + FILE_TTL,
        created_by_id=principal.user_id,
    )
    session.add(row)
    session.flush()
    storage = storage_for(settings)
    storage.put(src, key)
    if table.format in READ_ONCE:
        _keep_read(storage, key, table)
    return row


def _keep_read(storage: Any, key: str, table: Any) -> None:
    """Keep what a PDF's or an image's reading found (its text, pages), so making its
    document later does not read it again (OCR takes seconds a page)."""
    staged = storage.staging_file(".json")
    try:
        body = {"format": table.format, "columns": table.columns, "cells": table.cells}
        staged.write_text(
            json.dumps({**body, "pages": table.pages, "ocr": table.ocr}, ensure_ascii=False),
            encoding="utf-8",
        )
        storage.put(staged, key + READ_SUFFIX)
    finally:
        staged.unlink(missing_ok=True)


def get(session: Session, project: TextProject, file_id: str) -> TextFile:
    """The project's file ``file_id``; 404 once it has expired, or for another
    project's."""
    row = session.scalar(
        select(TextFile).where(
            TextFile.id == file_id,
            TextFile.project_id == project.id,
            TextFile.org_id == project.org_id,
        )
    )
    if row is None or row.expires_at <= clock.now():
        raise NotFound(
            "File not found: files are kept for a day after their upload; upload it again.",
            details={"file_id": file_id},
        )
    return row


def table(settings: Settings, text_file: TextFile) -> Any:
    """The file read again from storage (the engine's table of documents)."""
    from augury.engines.text import documents as reader

    storage = storage_for(settings)
    if text_file.format in READ_ONCE:
        kept = json.loads(storage.path(text_file.storage_key + READ_SUFFIX).read_text("utf-8"))
        pages = [tuple(p) for p in kept["pages"]] if kept["pages"] else None
        return reader.DocumentTable(
            format=kept["format"],
            columns=kept["columns"],
            cells=kept["cells"],
            pages=pages,
            ocr=kept["ocr"],
        )
    path = storage.path(text_file.storage_key)
    try:
        return reader.read_table(path, text_file.file_name)
    except TextFileError as exc:
        raise file_error(exc) from exc


def forget(settings: Settings, files: list[TextFile]) -> None:
    """Remove files' blobs (their rows go with their project, or with the sweep); a
    storage failure is logged, never raised: a stray blob is harmless."""
    storage = storage_for(settings)
    for f in files:
        try:
            storage.delete(f.storage_key)
            if f.format in READ_ONCE:
                storage.delete(f.storage_key + READ_SUFFIX)
        except AuguryError:
            log.warning("could not remove text file %s (%s)", f.id, f.storage_key)


def forget_project(session: Session, settings: Settings, project: TextProject) -> None:
    """Remove the blobs of a project's files; call it before deleting the project."""
    forget(
        settings, list(session.scalars(select(TextFile).where(TextFile.project_id == project.id)))
    )


class ExpiredFileSweep:
    """A periodic task: remove files (rows and blobs) whose time is up, hourly."""

    name = "text.expired_files"
    every_s = 3600.0
    BATCH = 500

    def __init__(self, settings: Settings):
        self.settings = settings

    def run(self, db: Any) -> int:
        removed = 0
        while True:
            with db.session() as session:
                rows = list(
                    session.scalars(
                        select(TextFile).where(TextFile.expires_at <= clock.now()).limit(self.BATCH)
                    )
                )
                forget(self.settings, rows)
                for row in rows:
                    session.delete(row)
            removed += len(rows)
            if len(rows) < self.BATCH:
                return removed
