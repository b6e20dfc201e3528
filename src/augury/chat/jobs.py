"""Job types of the chat domain.

``chat.index`` (:class:`IndexUseCase`) re-reads every piece of a use case's knowledge
and rebuilds its passages off the request path: what ``POST .../reindex`` queues when
the use case has attachments (documents, text projects, datasets), whose reading and
embedding may take seconds. Sentences and files are small and are indexed inline by
every change. The use case reads ``index.status: "indexing"`` until the job ends.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from augury.chat.models import ChatUseCase, IndexStatus
from augury.chat.services import index
from augury.errors import NotFound

MAX_ID = 2**31 - 1
TYPE = "chat.index"


class IndexUseCase:
    name = TYPE
    title = "Chat: re-index a use case's knowledge (read attachments, cut, embed)"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        use_case_id: int = Field(ge=1, le=MAX_ID)

    def run(self, ctx, params: Params) -> dict:
        """Rebuild the passages in one transaction; a failure leaves the use case's
        ``index.status`` ``failed`` with the reason."""
        ctx.progress(1.0, "reading the knowledge")
        try:
            with ctx.session() as session:
                use_case = _use_case(session, ctx.org_id, params.use_case_id)
                index.rebuild(session, ctx.settings, use_case)
                state = {
                    "use_case_id": use_case.id,
                    "status": use_case.index_status,
                    "version": use_case.index_version,
                    "tokens": use_case.tokens,
                    "error": use_case.index_error,
                }
        except Exception as exc:
            with ctx.session() as session:
                found = session.get(ChatUseCase, params.use_case_id)
                if found is not None and found.org_id == ctx.org_id:
                    found.index_status = IndexStatus.FAILED
                    found.index_error = f"Re-indexing failed: {exc}"[:2000]
            raise
        ctx.progress(100.0, "indexed")
        return state


def _use_case(session, org_id: int, use_case_id: int) -> ChatUseCase:
    found = session.get(ChatUseCase, use_case_id)
    if found is None or found.org_id != org_id:
        raise NotFound("Use case not found.", details={"use_case_id": use_case_id})
    return found
