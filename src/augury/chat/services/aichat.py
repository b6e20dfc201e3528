"""AIchat (Anaimo's ``POST /aichat``): a prompt in, a completion or a token count out.

A prompt is a text (sent as one user message) or a list of chat messages. ``tokens:
true`` only counts the prompt, offline, with the shipped tokenizer (no provider is
needed). Otherwise the organization's default provider, or the one ``provider_id``
names, writes the completion (at most ``max_tokens``); with neither it is a 409 that
says how to set one up. Every call is recorded (:class:`~augury.chat.models.ChatAICall`)
for the token totals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from augury.accounts.principal import Principal
from augury.analytics import providers
from augury.analytics.providers import ProviderFailed
from augury.chat.models import ChatAICall
from augury.chat.services import llm
from augury.config import Settings
from augury.engines.chat import tokens
from augury.errors import Conflict, ProviderError

NO_PROVIDER = (
    "No AI provider to answer with: add one (POST /api/v1/ai/providers, is_default: true) "
    "or name one with provider_id; tokens: true counts a prompt's tokens without one."
)


@dataclass
class Outcome:
    prompt_tokens: int
    counted_by: str
    completion: str | None = None
    completion_tokens: int | None = None
    engine: str | None = None


def messages_of(prompt: str | list) -> list[dict]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": _attr(m, "role"), "content": _attr(m, "content")} for m in prompt]


def _attr(m, name: str):
    return m[name] if isinstance(m, dict) else getattr(m, name)


def run(
    session: Session,
    settings: Settings,
    principal: Principal,
    prompt: str | list,
    *,
    max_tokens: int = 4000,
    count_only: bool = False,
    provider_id: int | None = None,
) -> Outcome:
    """The completion of ``prompt`` (or only its token count), recorded."""
    messages = messages_of(prompt)
    counted = tokens.count_messages(messages)
    if count_only:
        _record(session, principal, None, True, counted, 0, "tokenizer")
        return Outcome(counted, "tokenizer")
    provider = (
        providers.check_usable(session, providers.get(session, principal.org_id, provider_id))
        if provider_id is not None
        else providers.pick(session, principal.org_id, "auto")
    )
    if provider is None:
        raise Conflict(NO_PROVIDER, details={"reason": "NO_PROVIDER"})
    started = time.perf_counter()
    try:
        target = llm.target(settings, provider)
        parts: list[str] = []
        usage = None
        for piece in llm.stream(target, messages, temperature=0.0, max_tokens=max_tokens):
            if isinstance(piece, llm.Usage):
                usage = piece
            else:
                parts.append(piece)
    except ProviderFailed as exc:
        raise ProviderError(
            f"{provider.name}: {exc.message}",
            details={"provider": provider.name, "reason": exc.reason},
        ) from exc
    providers.record_call(session, provider, (time.perf_counter() - started) * 1000, None)
    completion = "".join(parts)
    if usage is not None:
        prompt_tokens, completion_tokens, by = usage.prompt, usage.completion, "provider"
    else:
        prompt_tokens, completion_tokens, by = counted, tokens.count(completion), "tokenizer"
    _record(session, principal, provider.id, False, prompt_tokens, completion_tokens, by)
    return Outcome(prompt_tokens, by, completion, completion_tokens, f"provider:{provider.name}")


def _record(
    session: Session,
    principal: Principal,
    provider_id: int | None,
    count_only: bool,
    prompt_tokens: int,
    completion_tokens: int,
    counted_by: str,
) -> None:
    session.add(
        ChatAICall(
            org_id=principal.org_id,
            user_id=principal.user_id,
            provider_id=provider_id,
            count_only=count_only,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            counted_by=counted_by,
        )
    )
    session.flush()
