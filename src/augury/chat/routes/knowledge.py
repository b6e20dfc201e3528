"""Routes of a use case's knowledge: ``/chat/use-cases/{id}/knowledge`` (the ordered
pieces: sentences, uploaded files, attached documents, datasets and text projects),
moving a piece up or down, re-indexing, and what retrieval finds for a question.

The file upload reads its multipart body as a stream (the app lets its path past the
body limit, see ``STREAMED_UPLOADS``), to disk, under :data:`knowledge.MAX_FILE_BYTES`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from augury.api.deps import SessionDep, SettingsDep, Writer
from augury.chat.deps import KnowledgeDep, UseCaseDep
from augury.chat.schemas import KnowledgeAdd, KnowledgeMove, KnowledgeUpdate
from augury.chat.services import index, knowledge, use_cases
from augury.datasets.deps import received_upload
from augury.errors import PayloadTooLarge

router = APIRouter()

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.get("/use-cases/{use_case_id}/knowledge")
def list_knowledge(use_case: UseCaseDep, session: SessionDep) -> dict:
    """The use case's pieces in order (`position` 1, 2 ...), each with its tokens and
    passages; `tokens` is their total."""
    counts = index.passage_counts(session, use_case)
    items = [knowledge.fields(p, counts.get(p.id, 0)) for p in knowledge.pieces(session, use_case)]
    return {"items": items, "total": len(items), "tokens": use_case.tokens}


@router.post("/use-cases/{use_case_id}/knowledge", status_code=status.HTTP_201_CREATED)
def add_knowledge(
    body: KnowledgeAdd,
    principal: Writer,
    use_case: UseCaseDep,
    session: SessionDep,
    settings: SettingsDep,
) -> dict | list[dict]:
    """Add at the end: `{kind: "sentence", text, title?}`; an attachment `{kind:
    "document"|"dataset"|"project", ref_id}` (the organization's; its text is read when
    indexed); or several sentences `{"sentences": [...]}` (answers their list). A long
    sentence (up to 1,000,000 characters) is cut into passages. The index is refreshed
    before the answer."""
    added = knowledge.add(
        session=session, settings=settings, principal=principal, use_case=use_case, body=body
    )
    counts = index.passage_counts(session, use_case)
    out = [knowledge.fields(p, counts.get(p.id, 0)) for p in added]
    return out if body.sentences is not None else out[0]


@router.post(
    "/use-cases/{use_case_id}/knowledge/files",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=UPLOAD_BODY,
)
async def upload_knowledge_file(
    request: Request,
    principal: Writer,
    use_case: UseCaseDep,
    session: SessionDep,
    settings: SettingsDep,
) -> dict:
    """Upload a file (multipart `file`: TXT, Markdown, HTML, PDF, DOCX, CSV, JSON, XLSX,
    an image read by OCR ...) as a piece of kind `file`: its text is read now and kept."""
    declared = request.headers.get("content-length")
    if declared and declared.isdecimal() and int(declared) > knowledge.MAX_FILE_BYTES + 65536:
        raise PayloadTooLarge(
            f"A knowledge file is at most {knowledge.MAX_FILE_BYTES} bytes.",
            details={"max_bytes": knowledge.MAX_FILE_BYTES},
        )
    async with received_upload(request, settings) as upload:
        assert upload.path is not None
        piece = await run_in_threadpool(
            knowledge.add_file,
            session=session,
            settings=settings,
            principal=principal,
            use_case=use_case,
            path=upload.path,
            file_name=upload.file_name,
            size=upload.size,
        )
        counts = index.passage_counts(session, use_case)
        return knowledge.fields(piece, counts.get(piece.id, 0))


@router.patch("/use-cases/{use_case_id}/knowledge/{knowledge_id}")
def update_knowledge(
    body: KnowledgeUpdate,
    principal: Writer,
    use_case: UseCaseDep,
    piece: KnowledgeDep,
    session: SessionDep,
    settings: SettingsDep,
) -> dict:
    """Change a piece's `title`, or a sentence's or file's `text`; re-indexed at once."""
    knowledge.update(
        session=session,
        settings=settings,
        principal=principal,
        use_case=use_case,
        piece=piece,
        body=body,
    )
    return knowledge.fields(piece, index.passage_counts(session, use_case).get(piece.id, 0))


@router.delete(
    "/use-cases/{use_case_id}/knowledge/{knowledge_id}", status_code=status.HTTP_204_NO_CONTENT
)
def delete_knowledge(
    principal: Writer,
    use_case: UseCaseDep,
    piece: KnowledgeDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Remove a piece; the pieces after it move up one place."""
    knowledge.delete(
        session=session, settings=settings, principal=principal, use_case=use_case, piece=piece
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/use-cases/{use_case_id}/knowledge/{knowledge_id}/move")
def move_knowledge(
    body: KnowledgeMove,
    principal: Writer,
    use_case: UseCaseDep,
    piece: KnowledgeDep,
    session: SessionDep,
    settings: SettingsDep,
) -> dict:
    """Swap the piece with its neighbour above (`up`) or below (`down`); the first moved
    up or the last moved down stays. Answers the ordered pieces."""
    knowledge.move(
        session=session,
        settings=settings,
        principal=principal,
        use_case=use_case,
        piece=piece,
        direction=body.direction,
    )
    return list_knowledge(use_case, session)


@router.post("/use-cases/{use_case_id}/reindex", status_code=status.HTTP_202_ACCEPTED)
def reindex(
    principal: Writer, use_case: UseCaseDep, session: SessionDep, settings: SettingsDep
) -> dict:
    """Read every piece again (attached documents, datasets and projects may have
    changed) and rebuild the passages. Answers the index's state; with attachments the
    work is a `chat.index` job (`job`, and `status: "indexing"` until it ends), else it
    is done before the answer (`job: null`)."""
    job = index.request_reindex(session, settings, principal, use_case)
    state = use_cases.index_state(session, use_case)
    state["job"] = None if job is None else {"id": job.id, "type": job.type, "status": job.status}
    return state


@router.get("/use-cases/{use_case_id}/retrieve")
def retrieve(
    use_case: UseCaseDep,
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[str, Query(min_length=1, max_length=4000, description="The question.")],
    k: Annotated[int, Query(ge=1, le=50, description="Passages to return.")] = 5,
) -> dict:
    """The passages the bot would answer `q` from, best first, with their scores
    (fused, lexical, semantic) and the retrieval's confidence (0..1)."""
    found = index.retrieve(session, settings, use_case, q, k)
    return {
        "query": q,
        "confidence": round(found.confidence, 4),
        "index": {"version": found.index_version, "passages": found.passages},
        "items": [
            {
                "passage_id": h.passage_id,
                "knowledge_id": h.knowledge_id,
                "title": h.title,
                "text": h.text,
                "score": round(h.score, 6),
                "lexical": round(h.lexical, 6),
                "semantic": round(h.semantic, 6),
                "rank": h.rank,
            }
            for h in found.hits
        ],
    }
