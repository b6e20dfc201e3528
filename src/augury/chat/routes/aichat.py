"""Routes of AIchat (``POST /chat/aichat``: a prompt's completion or its token count) and
the token totals (``GET /chat/tokens``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from augury.api.deps import Reader, SessionDep, SettingsDep, Writer
from augury.chat.chat_schemas import AIChatRequest, AIChatResponse, TokenTotals
from augury.chat.services import aichat, tokens
from augury.schemas import QueryDatetime

router = APIRouter()


@router.post("/aichat", response_model=AIChatResponse, response_model_exclude_none=True)
def ai_chat(body: AIChatRequest, principal: Writer, session: SessionDep, settings: SettingsDep):
    """A prompt's completion by the organization's default provider (or `provider_id`);
    `tokens: true`: only the prompt's token count, offline. No provider: 409."""
    out = aichat.run(
        session,
        settings,
        principal,
        body.prompt,
        max_tokens=body.max_tokens,
        count_only=body.tokens,
        provider_id=body.provider_id,
    )
    used = {"prompt": out.prompt_tokens, "counted_by": out.counted_by}
    if body.tokens:
        return {"tokens": used}
    completion = out.completion_tokens or 0
    return {
        "completion": out.completion,
        "tokens": {**used, "completion": completion, "total": out.prompt_tokens + completion},
        "engine": out.engine,
    }


@router.get("/tokens", response_model=TokenTotals)
def token_totals(
    principal: Reader,
    session: SessionDep,
    start: Annotated[QueryDatetime | None, Query(alias="from")] = None,
    end: Annotated[QueryDatetime | None, Query(alias="to")] = None,
):
    """Tokens of the organization's chat messages and AIchat calls, per use case and day."""
    return tokens.totals(session, principal.org_id, start, end)
