"""A use case's retrieval index: its knowledge cut into passages, embedded, retrieved.

Each piece of knowledge becomes passages (:func:`augury.engines.chat.chunk.passages`,
at most :data:`PASSAGE_TOKENS` tokens with the title): a sentence or an uploaded file
from its own text; an attached text document from its text; a text project from its
documents (each its own section, titled by the document, at most
:data:`MAX_PROJECT_DOCUMENTS` of them and :data:`MAX_ATTACHMENT_CHARS` characters); a
dataset from its latest version's first :data:`MAX_DATASET_ROWS` rows
(``column: value; ...`` a row). Each passage keeps the built-in embedder's vector
(float32, unit length) and the embedder's name; when the embedder cannot be loaded,
passages are stored without vectors and retrieval is lexical only.

The index is refreshed inline whenever knowledge changes (:func:`refresh`, only the
pieces touched are read again), and as a whole by :func:`rebuild` (``POST .../reindex``
re-reads every attachment). Each refresh raises ``index_version``. A piece whose source
cannot be read (a dataset without a version ...) keeps no passages and is named in
``index_error`` (``index_status`` ``failed``); the others stay retrievable.

:func:`retrieve` is what answering calls: the BM25 and vector index built from the
stored passages is cached in this process per ``(use case, index version)``, so a chat
message searches, never rebuilds.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.chat.models import (
    ChatKnowledge,
    ChatPassage,
    ChatUseCase,
    IndexStatus,
    KnowledgeKind,
)
from augury.config import Settings
from augury.errors import AuguryError, ValidationFailed
from augury.jobs.models import Job

log = logging.getLogger("augury.chat.index")

PASSAGE_TOKENS = 180
MAX_DATASET_ROWS = 2_000
MAX_PROJECT_DOCUMENTS = 1_000
MAX_ATTACHMENT_CHARS = 2_000_000
"""An attachment's text read at most (a project's documents together)."""
SEQ_STRIDE = 100_000
"""``seq`` = the piece's position x this + the passage's place in the piece."""
CACHE_SIZE = 64
"""Built indexes kept in memory per process (least recently used go first)."""


# --- reading knowledge -----------------------------------------------------------------------


def sections(
    session: Session, settings: Settings | None, piece: ChatKnowledge
) -> list[tuple[str, str]]:
    """The piece's current text as ``(title, text)`` sections. Raises AuguryError when an
    attachment cannot be read (gone, no version ...)."""
    from augury.store.owned import get_owned

    if piece.kind in (KnowledgeKind.SENTENCE, KnowledgeKind.FILE):
        return [(piece.title, piece.text or "")]
    if piece.kind == KnowledgeKind.DOCUMENT:
        from augury.text.models import TextDocument

        doc = get_owned(session, TextDocument, piece.org_id, piece.ref_id or 0, "Document")
        return [(piece.title, (doc.text or "")[:MAX_ATTACHMENT_CHARS])]
    if piece.kind == KnowledgeKind.PROJECT:
        from augury.text.models import TextDocument, TextProject

        project = get_owned(session, TextProject, piece.org_id, piece.ref_id or 0, "Text project")
        rows = session.execute(
            select(TextDocument.id, TextDocument.external_id, TextDocument.text)
            .where(TextDocument.project_id == project.id, TextDocument.org_id == piece.org_id)
            .order_by(TextDocument.id)
            .limit(MAX_PROJECT_DOCUMENTS)
        ).all()
        out, used = [], 0
        for doc_id, external_id, text in rows:
            text = (text or "")[: MAX_ATTACHMENT_CHARS - used]
            if not text.strip():
                continue
            used += len(text)
            out.append((f"{piece.title}: {external_id or f'document {doc_id}'}"[:300], text))
            if used >= MAX_ATTACHMENT_CHARS:
                break
        return out
    if piece.kind == KnowledgeKind.DATASET:
        from augury.datasets import querying
        from augury.datasets import service as datasets
        from augury.engines.chat.chunk import rows_as_text

        if settings is None:
            raise ValidationFailed("A dataset is read with the server's settings.")
        dataset = datasets.get(session=session, org_id=piece.org_id, dataset_id=piece.ref_id or 0)
        version = datasets.get_version(session=session, dataset=dataset)
        preview = querying.preview(
            session, settings, dataset, version, offset=0, limit=MAX_DATASET_ROWS
        )
        text = rows_as_text(preview["columns"], preview["rows"])[:MAX_ATTACHMENT_CHARS]
        return [(piece.title, text)]
    raise ValidationFailed(f"Unknown knowledge kind {piece.kind!r}.")


# --- building ------------------------------------------------------------------------------


def _embedder() -> Any | None:
    from augury.engines.text.embed import default_embedder
    from augury.engines.text.model_errors import TextModelError

    try:
        return default_embedder()
    except TextModelError as exc:
        log.warning("chat passages are stored without vectors: %s", exc.message)
        return None


_ERROR_LINE = re.compile(r"^#(\d+): ")


def _errors(use_case: ChatUseCase) -> dict[int, str]:
    out = {}
    for line in (use_case.index_error or "").splitlines():
        m = _ERROR_LINE.match(line)
        if m:
            out[int(m.group(1))] = line[m.end() :]
    return out


def drop_piece(session: Session, piece: ChatKnowledge) -> None:
    """Remove a piece's passages (before the piece itself goes)."""
    session.execute(delete(ChatPassage).where(ChatPassage.knowledge_id == piece.id))


def refresh(
    session: Session,
    settings: Settings | None,
    use_case: ChatUseCase,
    changed: Sequence[ChatKnowledge],
) -> ChatUseCase:
    """Read ``changed`` pieces again into passages, renumber every passage after the
    pieces' positions, total the tokens and raise the index version."""
    from augury.engines.chat.chunk import passages
    from augury.engines.chat.retrieve import encode
    from augury.engines.chat.tokens import count

    use_case.index_status = IndexStatus.INDEXING
    errors = _errors(use_case)
    existing = {
        k: errors[k]
        for k in session.scalars(
            select(ChatKnowledge.id).where(ChatKnowledge.use_case_id == use_case.id)
        )
        if k in errors
    }
    new_rows: list[ChatPassage] = []
    for piece in changed:
        drop_piece(session, piece)
        existing.pop(piece.id, None)
        try:
            parts = sections(session, settings, piece)
        except AuguryError as exc:
            existing[piece.id] = exc.message
            piece.tokens = 0
            continue
        tokens, seq = 0, 0
        for title, text in parts:
            tokens += count(text)
            for p in passages(title, text, max_tokens=PASSAGE_TOKENS):
                new_rows.append(
                    ChatPassage(
                        org_id=use_case.org_id,
                        use_case_id=use_case.id,
                        knowledge_id=piece.id,
                        seq=piece.position * SEQ_STRIDE + min(seq, SEQ_STRIDE - 1),
                        title=title[:300],
                        text=p.text,
                        tokens=p.tokens,
                    )
                )
                seq += 1
        piece.tokens = tokens
    if new_rows:
        embedder = _embedder()
        if embedder is not None:
            vectors = embedder.embed([_embed_text(r.title, r.text) for r in new_rows])
            for row, vector in zip(new_rows, vectors, strict=True):
                row.vector = encode(vector)
                row.embedder = embedder.name
        session.add_all(new_rows)
    session.flush()
    _renumber(session, use_case)
    _finish(session, use_case, existing)
    return use_case


def _embed_text(title: str, text: str) -> str:
    return f"{title}\n{text}" if title else text


def _renumber(session: Session, use_case: ChatUseCase) -> None:
    """Every passage's ``seq`` after its piece's current position (moves, deletes)."""
    position = (
        select(ChatKnowledge.position)
        .where(ChatKnowledge.id == ChatPassage.knowledge_id)
        .scalar_subquery()
    )
    session.execute(
        update(ChatPassage)
        .where(ChatPassage.use_case_id == use_case.id)
        .values(seq=position * SEQ_STRIDE + ChatPassage.seq % SEQ_STRIDE)
        .execution_options(synchronize_session=False)
    )


def _finish(session: Session, use_case: ChatUseCase, errors: dict[int, str]) -> None:
    use_case.tokens = int(
        session.scalar(
            select(func.coalesce(func.sum(ChatKnowledge.tokens), 0)).where(
                ChatKnowledge.use_case_id == use_case.id
            )
        )
        or 0
    )
    passages = session.scalar(
        select(func.count()).select_from(ChatPassage).where(ChatPassage.use_case_id == use_case.id)
    )
    use_case.index_version = (use_case.index_version or 0) + 1
    use_case.indexed_at = clock.now()
    use_case.index_error = (
        "\n".join(f"#{k}: {v}" for k, v in sorted(errors.items())) if errors else None
    )
    if errors:
        use_case.index_status = IndexStatus.FAILED
    else:
        use_case.index_status = IndexStatus.READY if passages else IndexStatus.EMPTY
    session.flush()


def rebuild(session: Session, settings: Settings | None, use_case: ChatUseCase) -> ChatUseCase:
    """Read every piece again (attachments' sources may have changed) and re-index."""
    pieces = list(
        session.scalars(
            select(ChatKnowledge)
            .where(ChatKnowledge.use_case_id == use_case.id)
            .order_by(ChatKnowledge.position, ChatKnowledge.id)
        )
    )
    use_case.index_error = None
    return refresh(session, settings, use_case, pieces)


ATTACHMENTS = (KnowledgeKind.DOCUMENT, KnowledgeKind.DATASET, KnowledgeKind.PROJECT)
JOB_TYPE = "chat.index"


def request_reindex(
    session: Session, settings: Settings | None, principal: Principal, use_case: ChatUseCase
) -> Job | None:
    """``POST .../reindex``: a use case with attachments is re-indexed by a ``chat.index``
    job (the job, with ``index.status`` ``indexing`` meanwhile); one of sentences and
    files only, or a process where the job type is not registered, at once (None)."""
    from augury.jobs import service as jobs_service
    from augury.jobs import types as job_types

    attached = session.scalar(
        select(func.count())
        .select_from(ChatKnowledge)
        .where(ChatKnowledge.use_case_id == use_case.id, ChatKnowledge.kind.in_(ATTACHMENTS))
    )
    if attached and JOB_TYPE in job_types.registry:
        job = jobs_service.create(
            session=session,
            org_id=use_case.org_id,
            type=JOB_TYPE,
            params={"use_case_id": use_case.id},
            user_id=principal.user_id,
            quotas=settings.quotas if settings is not None else None,
        )
        use_case.index_status = IndexStatus.INDEXING
        session.flush()
        return job
    rebuild(session, settings, use_case)
    return None


def passage_counts(session: Session, use_case: ChatUseCase) -> dict[int, int]:
    """Passages per piece of the use case."""
    rows = session.execute(
        select(ChatPassage.knowledge_id, func.count())
        .where(ChatPassage.use_case_id == use_case.id)
        .group_by(ChatPassage.knowledge_id)
    ).all()
    return {int(k): int(n) for k, n in rows}


# --- retrieving ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Retrieved:
    """One passage retrieval found for a question."""

    passage_id: int
    knowledge_id: int
    title: str
    text: str
    score: float
    lexical: float = 0.0
    semantic: float = 0.0
    rank: int = 0
    seq: int = 0
    tokens: int = 0

    def source(self) -> dict[str, Any]:
        """As a message's ``sources`` entry."""
        return {
            "passage_id": self.passage_id,
            "knowledge_id": self.knowledge_id,
            "title": self.title,
            "score": round(float(self.score), 4),
        }


@dataclass(frozen=True)
class Retrieval:
    """What :func:`retrieve` found: the passages, best first, and how sure it is (0..1)."""

    hits: list[Retrieved]
    confidence: float
    index_version: int = 0
    passages: int = 0


@dataclass
class _Built:
    index: Any
    rows: list[tuple[int, int, str, str, int, int]]
    """``(passage_id, knowledge_id, title, text, seq, tokens)`` in the index's order."""
    embedder: str
    dim: int
    built_at: datetime = field(default_factory=clock.now)


_cache: OrderedDict[tuple[int, int, Any], _Built] = OrderedDict()
_cache_lock = threading.Lock()


def forget(use_case_id: int) -> None:
    """Drop a use case's built indexes from this process's cache."""
    with _cache_lock:
        for key in [k for k in _cache if k[0] == use_case_id]:
            del _cache[key]


def _build(session: Session, use_case: ChatUseCase) -> _Built:
    from augury.engines.chat.retrieve import Index, decode

    rows = session.execute(
        select(
            ChatPassage.id,
            ChatPassage.knowledge_id,
            ChatPassage.title,
            ChatPassage.text,
            ChatPassage.seq,
            ChatPassage.tokens,
            ChatPassage.vector,
            ChatPassage.embedder,
        )
        .where(ChatPassage.use_case_id == use_case.id)
        .order_by(ChatPassage.seq, ChatPassage.id)
    ).all()
    embedders = {r.embedder for r in rows}
    usable = len(embedders) == 1 and all(r.vector for r in rows) and rows
    vectors = None
    dim = 0
    name = ""
    if usable:
        name = rows[0].embedder
        dim = len(rows[0].vector) // 4
        vectors = np.vstack([decode(r.vector, dim) for r in rows])
    index = Index.build([r.text for r in rows], [r.title for r in rows], vectors)
    meta = [(r.id, r.knowledge_id, r.title, r.text, r.seq, r.tokens) for r in rows]
    return _Built(index=index, rows=meta, embedder=name, dim=dim)


def _built(session: Session, use_case: ChatUseCase) -> _Built:
    key = (use_case.id, use_case.index_version, use_case.indexed_at)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    built = _build(session, use_case)
    with _cache_lock:
        for old in [k for k in _cache if k[0] == use_case.id]:
            del _cache[old]
        _cache[key] = built
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def retrieve(
    session: Session,
    settings: Settings | None,
    use_case: ChatUseCase,
    question: str,
    k: int = 5,
) -> Retrieval:
    """The ``k`` passages of the use case's knowledge that best answer ``question``
    (BM25 and vectors fused, best first) and the retrieval's confidence."""
    built = _built(session, use_case)
    if not built.rows or not question.strip():
        return Retrieval([], 0.0, use_case.index_version, len(built.rows))
    query_vector = None
    if built.embedder:
        embedder = _embedder()
        if embedder is not None and embedder.name == built.embedder:
            query_vector = embedder.embed([question])[0]
    hits = built.index.search(question, query_vector, k)
    out = []
    for hit in hits:
        pid, kid, title, text, seq, tokens = built.rows[hit.index]
        out.append(
            Retrieved(
                passage_id=pid,
                knowledge_id=kid,
                title=title,
                text=text,
                score=float(hit.score),
                lexical=float(getattr(hit, "lexical", 0.0) or 0.0),
                semantic=float(getattr(hit, "semantic", 0.0) or 0.0),
                rank=int(getattr(hit, "rank", 0) or 0),
                seq=seq,
                tokens=tokens,
            )
        )
    confidence = float(built.index.confidence(question, hits)) if hits else 0.0
    return Retrieval(out, confidence, use_case.index_version, len(built.rows))
