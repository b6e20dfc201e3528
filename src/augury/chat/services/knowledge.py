"""A use case's knowledge: ordered pieces (Anaimo's Use case sentence).

Pieces sit at positions 1..n. A new one goes at the end; deleting one closes the gap;
moving one up or down swaps it with its neighbour (moving the first up or the last down
changes nothing). A piece is a sentence typed in, an uploaded file (its text read once,
with the reader text projects use, and kept), or an attachment: a text document, a text
project (its documents) or a dataset (its latest version's rows), all the
organization's (another organization's is a 404), whose text is read again whenever
the use case is re-indexed.

Every change re-indexes the pieces it touched, inline (:mod:`.index`), so the tokens of
each piece, the use case's total and the passages are current when the request ends.
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.audit import service as audit
from augury.chat.models import ChatKnowledge, ChatUseCase, KnowledgeKind
from augury.chat.schemas import MAX_SENTENCE_CHARS, KnowledgeAdd, KnowledgeUpdate
from augury.chat.services import index
from augury.config import Settings
from augury.datasets.models import Dataset
from augury.errors import NotFound, PayloadTooLarge, ValidationFailed
from augury.store.owned import get_owned
from augury.text.models import TextDocument, TextProject

MAX_FILE_BYTES = 20 * 1024 * 1024
"""An uploaded knowledge file at most (413 above)."""
MAX_PIECES = 2_000
"""Pieces a use case holds at most."""
_TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".rst", ".html", ".htm", ".xml"}
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.S | re.I)


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    use_case: ChatUseCase,
    piece: ChatKnowledge,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    audit.record_change(
        session=session,
        principal=principal,
        action=f"chat.knowledge.{action}",
        target_type="chat_use_case",
        target_id=use_case.id,
        before=before,
        after={**(after or {}), "knowledge_id": piece.id} if after is not None else None,
    )


def _summary(piece: ChatKnowledge) -> dict:
    """What the audit log keeps of a piece (never a whole file's text)."""
    text = piece.text or ""
    return {
        "kind": piece.kind,
        "position": piece.position,
        "title": piece.title,
        "ref_id": piece.ref_id,
        "text": text if len(text) <= 500 else text[:500] + "…",
    }


def pieces(session: Session, use_case: ChatUseCase) -> list[ChatKnowledge]:
    """The use case's pieces in order."""
    return list(
        session.scalars(
            select(ChatKnowledge)
            .where(ChatKnowledge.use_case_id == use_case.id)
            .order_by(ChatKnowledge.position, ChatKnowledge.id)
        )
    )


def get(session: Session, use_case: ChatUseCase, knowledge_id: int) -> ChatKnowledge:
    """The use case's piece ``knowledge_id`` (another use case's is a 404)."""
    piece = session.scalar(
        select(ChatKnowledge).where(
            ChatKnowledge.id == knowledge_id,
            ChatKnowledge.use_case_id == use_case.id,
            ChatKnowledge.org_id == use_case.org_id,
        )
    )
    if piece is None:
        raise NotFound("Knowledge not found.", details={"knowledge_id": knowledge_id})
    return piece


def _next_position(session: Session, use_case: ChatUseCase, adding: int) -> int:
    last, count = session.execute(
        select(func.max(ChatKnowledge.position), func.count()).where(
            ChatKnowledge.use_case_id == use_case.id
        )
    ).one()
    if int(count or 0) + adding > MAX_PIECES:
        raise ValidationFailed(
            f"A use case holds at most {MAX_PIECES} pieces of knowledge.",
            details={"max_pieces": MAX_PIECES},
        )
    return int(last or 0) + 1


def _new(use_case: ChatUseCase, position: int, kind: str, **values: Any) -> ChatKnowledge:
    now = clock.now()
    return ChatKnowledge(
        org_id=use_case.org_id,
        use_case_id=use_case.id,
        position=position,
        kind=kind,
        created_at=now,
        updated_at=now,
        **values,
    )


def _touched(use_case: ChatUseCase) -> None:
    use_case.updated_at = clock.now()


def _default_title(kind: str, name: str) -> str:
    return f"{kind.capitalize()}: {name}"[:300] if name else kind.capitalize()


def _attachment_title(session: Session, org_id: int, kind: str, ref_id: int) -> str:
    """The attached object's name; another organization's (or a missing) one is a 404."""
    if kind == KnowledgeKind.DOCUMENT:
        doc = get_owned(session, TextDocument, org_id, ref_id, "Document")
        return doc.external_id or f"Document {doc.id}"
    if kind == KnowledgeKind.DATASET:
        return get_owned(session, Dataset, org_id, ref_id, "Dataset").name
    return get_owned(session, TextProject, org_id, ref_id, "Text project").name


def add(
    *,
    session: Session,
    settings: Settings | None,
    principal: Principal,
    use_case: ChatUseCase,
    body: KnowledgeAdd,
) -> list[ChatKnowledge]:
    """Add a sentence, several sentences, or an attachment at the end; the new pieces."""
    if body.sentences is not None:
        texts = [s.strip() for s in body.sentences]
        titles = [body.title or ""] * len(texts)
        kind = KnowledgeKind.SENTENCE
    elif body.kind == "sentence":
        texts, titles, kind = (
            [(body.text or "").strip()],
            [body.title or ""],
            KnowledgeKind.SENTENCE,
        )
    else:
        kind = KnowledgeKind(body.kind or "")
        assert body.ref_id is not None  # the schema requires it
        name = _attachment_title(session, use_case.org_id, kind, body.ref_id)
        position = _next_position(session, use_case, 1)
        piece = _new(use_case, position, kind, ref_id=body.ref_id, title=body.title or name)
        return _added(session, settings, principal, use_case, [piece])
    position = _next_position(session, use_case, len(texts))
    added = [
        _new(use_case, position + i, kind, text=text, title=title)
        for i, (text, title) in enumerate(zip(texts, titles, strict=True))
    ]
    return _added(session, settings, principal, use_case, added)


def _added(
    session: Session,
    settings: Settings | None,
    principal: Principal,
    use_case: ChatUseCase,
    added: list[ChatKnowledge],
) -> list[ChatKnowledge]:
    session.add_all(added)
    session.flush()
    for piece in added:
        _audit(session, principal, "add", use_case, piece, after=_summary(piece))
    _touched(use_case)
    index.refresh(session, settings, use_case, added)
    return added


def read_file_text(path: Path, file_name: str) -> str:
    """An uploaded file's text: Markdown, HTML and plain text as they are (HTML without
    its tags), DOCX's paragraphs, and anything the text projects' reader reads (PDF,
    images by OCR, CSV, JSON, XLSX ...), its rows as lines."""
    suffix = PurePath(file_name).suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        raw = path.read_bytes()
        text = _decode(raw)
        if suffix in (".html", ".htm", ".xml"):
            text = html.unescape(_TAG.sub(" ", text))
            text = "\n".join(" ".join(line.split()) for line in text.splitlines())
            text = re.sub(r"\n{3,}", "\n\n", text)
        return text.strip()
    if suffix == ".docx":
        return _docx_text(path)
    from augury.engines.text import documents as reader
    from augury.engines.text.errors import TextFileError

    try:
        table = reader.read_table(path, file_name)
    except TextFileError as exc:
        raise ValidationFailed(exc.message, details={"reason": exc.code, **exc.details}) from exc
    if table.columns == ["text"] or len(table.columns) == 1:
        return "\n".join(str(c) for c in table.cells[0] if c not in (None, "")).strip()
    from augury.engines.chat.chunk import rows_as_text

    rows = [list(r) for r in zip(*table.cells, strict=True)]
    return rows_as_text(list(table.columns), rows).strip()


def _decode(raw: bytes) -> str:
    for codec in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _docx_text(path: Path) -> str:
    """A Word document's paragraphs, a line each (from ``word/document.xml``)."""
    try:
        with zipfile.ZipFile(path) as z:
            xml = z.read("word/document.xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ValidationFailed(
            "The file is not a readable .docx.", details={"reason": "BAD_DOCX"}
        ) from exc
    paragraphs = re.findall(r"<w:p[ >].*?</w:p>", xml, re.S)
    lines = ["".join(re.findall(r"<w:t(?: [^>]*)?>(.*?)</w:t>", p, re.S)) for p in paragraphs]
    return "\n".join(html.unescape(line) for line in lines if line.strip()).strip()


def add_file(
    *,
    session: Session,
    settings: Settings | None,
    principal: Principal,
    use_case: ChatUseCase,
    path: Path,
    file_name: str | None,
    size: int,
) -> ChatKnowledge:
    """An uploaded file as a piece of kind ``file``: its text read now and kept."""
    if size > MAX_FILE_BYTES:
        raise PayloadTooLarge(
            f"A knowledge file is at most {MAX_FILE_BYTES} bytes.",
            details={"max_bytes": MAX_FILE_BYTES},
        )
    name = (file_name or "upload").strip() or "upload"
    text = read_file_text(path, name)
    if not text:
        raise ValidationFailed(
            "No text found in the file.", details={"reason": "EMPTY_FILE", "file": name}
        )
    if len(text) > MAX_SENTENCE_CHARS:
        raise PayloadTooLarge(
            f"The file's text is {len(text)} characters; at most {MAX_SENTENCE_CHARS}.",
            details={"max_chars": MAX_SENTENCE_CHARS, "chars": len(text)},
        )
    position = _next_position(session, use_case, 1)
    piece = _new(use_case, position, KnowledgeKind.FILE, text=text, title=name[:300])
    return _added(session, settings, principal, use_case, [piece])[0]


def update(
    *,
    session: Session,
    settings: Settings | None,
    principal: Principal,
    use_case: ChatUseCase,
    piece: ChatKnowledge,
    body: KnowledgeUpdate,
) -> ChatKnowledge:
    """Change a piece's title, or a sentence's or file's text (an attachment's text is
    its source's: 422)."""
    if body.text is not None and piece.kind not in (KnowledgeKind.SENTENCE, KnowledgeKind.FILE):
        raise ValidationFailed(
            f"A {piece.kind}'s text is read from it; change its title only.",
            details={"field": "text", "kind": piece.kind},
        )
    before = _summary(piece)
    if body.text is not None:
        piece.text = body.text.strip()
    if body.title is not None:
        piece.title = body.title
    piece.updated_at = clock.now()
    _touched(use_case)
    session.flush()
    _audit(session, principal, "update", use_case, piece, before, _summary(piece))
    index.refresh(session, settings, use_case, [piece])
    return piece


def delete(
    *,
    session: Session,
    settings: Settings | None,
    principal: Principal,
    use_case: ChatUseCase,
    piece: ChatKnowledge,
) -> None:
    """Remove a piece; the ones after it move up one place."""
    _audit(session, principal, "delete", use_case, piece, before=_summary(piece))
    index.drop_piece(session, piece)
    session.delete(piece)
    session.flush()
    for i, other in enumerate(pieces(session, use_case), start=1):
        other.position = i
    _touched(use_case)
    session.flush()
    index.refresh(session, settings, use_case, [])


def move(
    *,
    session: Session,
    settings: Settings | None,
    principal: Principal,
    use_case: ChatUseCase,
    piece: ChatKnowledge,
    direction: str,
) -> ChatKnowledge:
    """Swap the piece with its neighbour above (``up``) or below (``down``)."""
    ordered = pieces(session, use_case)
    at = next(i for i, p in enumerate(ordered) if p.id == piece.id)
    to = at - 1 if direction.lower() == "up" else at + 1
    if not 0 <= to < len(ordered):
        return piece
    other = ordered[to]
    before = _summary(piece)
    # Renumber from the list (positions may have had gaps) with the two swapped.
    ordered[at], ordered[to] = ordered[to], ordered[at]
    for i, p in enumerate(ordered, start=1):
        p.position = i
    piece.updated_at = other.updated_at = clock.now()
    _touched(use_case)
    session.flush()
    _audit(session, principal, "move", use_case, piece, before, _summary(piece))
    index.refresh(session, settings, use_case, [])
    return piece


def fields(piece: ChatKnowledge, passages: int | None = None) -> dict[str, Any]:
    """A piece as the API returns it."""
    body = {
        "id": piece.id,
        "use_case_id": piece.use_case_id,
        "position": piece.position,
        "kind": piece.kind,
        "title": piece.title,
        "text": piece.text,
        "ref_id": piece.ref_id,
        "tokens": piece.tokens,
        "created_at": piece.created_at,
        "updated_at": piece.updated_at,
    }
    if passages is not None:
        body["passages"] = passages
    return body
