"""The bot's answer to a stored question: retrieval over the use case's knowledge, then
the provider's streamed answer from those passages, or the offline answer.

:func:`generate` runs in three steps, each in a session of its own, so nothing holds a
write transaction while a provider thinks (on SQLite a write transaction locks out
every other writer):

1. read: the chat, the use case, the recent history, the passages retrieval finds and
   the provider's call settings (a read-only session, closed before the call);
2. write the answer: with a provider, its streamed reply (the use case's temperature
   and max_tokens, the messages :func:`augury.engines.chat.prompt.messages` builds);
   with none, or when strict and retrieval is not confident enough, the offline answer
   (:func:`augury.engines.chat.answer.compose`), streamed in pieces too;
3. store it in a new short transaction, with its sources, confidence, tokens (the
   provider's usage when it gives one, else the shipped tokenizer's count) and, when
   the provider failed (unreachable, slow, an HTTP error, a reply repeating the
   instructions), the offline answer with the reason in ``error``.

A reply is held back by :data:`HOLD_CHARS` while it streams and checked against the
instructions (:func:`augury.engines.chat.prompt.leaks`) as it grows, so the operator's
instructions do not leak out through the token events either.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury.analytics import providers
from augury.analytics.providers import ProviderFailed
from augury.chat.models import Chat, ChatMessage, ChatUseCase, Role
from augury.chat.services import chats, index, llm
from augury.config import Settings
from augury.engines.chat import answer as offline
from augury.engines.chat import prompt, tokens
from augury.errors import AuguryError

log = logging.getLogger(__name__)

HISTORY = 10
"""Earlier messages of the chat the provider sees."""
K = 5
"""Passages retrieved per question."""
HOLD_CHARS = 160
"""A streamed reply is sent this far behind what arrived, so a leak is caught first."""
STEP_CHARS = 48
"""A streamed reply is sent in steps of at least this many characters."""
LEAKED = "the reply repeated the use case's instructions; the offline answer was given"
_CITATION = re.compile(r"\[(\d{1,3})\]")


@dataclass
class Passage:
    n: int
    passage_id: int | None
    knowledge_id: int | None
    title: str
    text: str
    score: float

    def source(self) -> dict:
        return {
            "passage_id": self.passage_id,
            "knowledge_id": self.knowledge_id,
            "title": self.title,
            "score": round(float(self.score), 4),
        }


@dataclass
class Plan:
    """What step 1 read: everything the answer needs, with no session."""

    org_id: int
    chat_id: int
    question_id: int
    question: str
    instructions: str
    temperature: float
    max_tokens: int
    strict: bool
    min_confidence: float
    history: list[dict]
    passages: list[Passage]
    confidence: float
    target: llm.Target | None = None
    error: str | None = None


@dataclass
class Written:
    text: str
    engine: str
    sources: list[dict]
    confidence: float | None
    tokens: int
    error: str | None = None
    latency_ms: float | None = None
    provider_id: int | None = None
    call_error: str | None = None


def _retrieve(
    session: Session, settings: Settings, use_case: ChatUseCase, question: str
) -> tuple[list[Passage], float]:
    """The passages retrieval finds for ``question`` (numbered from 1) and its confidence."""
    found = index.retrieve(session, settings, use_case, question, k=K)
    passages = [
        Passage(n, h.passage_id, h.knowledge_id, h.title or "", h.text or "", float(h.score))
        for n, h in enumerate(found.hits, start=1)
    ]
    return passages, float(found.confidence or 0.0)


def plan(session: Session, settings: Settings, org_id: int, chat_id: int, question_id: int) -> Plan:
    """Step 1: read what the answer needs (no writes)."""
    chat = chats.get(session, org_id, chat_id)
    question = chats.message(session, chat, question_id)
    use_case = session.get(ChatUseCase, chat.use_case_id)
    if use_case is None:
        raise AuguryError("The chat's use case is gone.")
    earlier = session.scalars(
        select(ChatMessage)
        .where(ChatMessage.chat_id == chat.id, ChatMessage.id < question.id)
        .where(ChatMessage.author.in_(("visitor", "bot", "person", "user")))
        .order_by(ChatMessage.id.desc())
        .limit(HISTORY)
    ).all()
    history = [{"role": m.role, "content": m.text} for m in reversed(earlier)]
    error = None
    try:
        passages, confidence = _retrieve(session, settings, use_case, question.text)
    except AuguryError as exc:
        passages, confidence, error = [], 0.0, f"retrieval failed: {exc.message}"
    p = Plan(
        org_id=org_id,
        chat_id=chat.id,
        question_id=question.id,
        question=question.text,
        instructions=use_case.instructions or "",
        temperature=float(use_case.temperature or 0.0),
        max_tokens=int(use_case.max_tokens or 512),
        strict=bool(use_case.strict),
        min_confidence=float(use_case.min_confidence or 0.0),
        history=history,
        passages=passages,
        confidence=confidence,
        error=error,
    )
    if use_case.provider_id is not None:
        try:
            provider = providers.check_usable(
                session, providers.get(session, org_id, use_case.provider_id)
            )
            p.target = llm.target(settings, provider)
        except (ProviderFailed, AuguryError) as exc:
            p.error = f"the provider cannot be used: {exc.message}"
    return p


def _offline(p: Plan, error: str | None = None) -> Written:
    hits = [(i, ps.score) for i, ps in enumerate(p.passages)]
    result = offline.compose(
        p.question,
        hits,
        [ps.text for ps in p.passages],
        [ps.title for ps in p.passages],
        p.min_confidence,
        p.strict,
        confidence=p.confidence if p.passages else None,
    )
    text = result.text
    return Written(
        text=text,
        engine="offline",
        sources=_sources(p, result.sources),
        confidence=result.confidence if result.confidence is not None else p.confidence,
        tokens=tokens.count(text),
        error=error or p.error,
    )


def _sources(p: Plan, given: list[int]) -> list[dict]:
    """The offline answer's sources (indexes into the passages) as stored."""
    return [p.passages[i].source() for i in given if 0 <= i < len(p.passages)]


def _cited(p: Plan, text: str) -> list[dict]:
    """The passages the reply cites (``[2]``), else every passage it was given."""
    numbers = {int(n) for n in _CITATION.findall(text)}
    cited = [ps.source() for ps in p.passages if ps.n in numbers]
    return cited or [ps.source() for ps in p.passages]


def _provider(p: Plan) -> Generator[str, None, Written]:
    """The provider's reply, its pieces yielded :data:`HOLD_CHARS` behind what arrived,
    and the :class:`Written` answer returned; raises ProviderFailed (a reply repeating
    the instructions is one: ``leaked``)."""
    assert p.target is not None
    messages = prompt.messages(
        p.instructions,
        [(ps.n, ps.title, ps.text) for ps in p.passages],
        p.history,
        p.question,
        p.strict,
    )
    started = time.perf_counter()
    reply, sent, usage = "", 0, None
    for piece in llm.stream(p.target, messages, temperature=p.temperature, max_tokens=p.max_tokens):
        if isinstance(piece, llm.Usage):
            usage = piece
            continue
        reply += piece
        # Checked before anything more is sent, every STEP_CHARS (not every piece: a
        # check reads the whole reply).
        if len(reply) - HOLD_CHARS >= sent + STEP_CHARS:
            if p.instructions and prompt.leaks(reply, p.instructions):
                raise ProviderFailed("leaked", LEAKED)
            yield reply[sent : len(reply) - HOLD_CHARS]
            sent = len(reply) - HOLD_CHARS
    if p.instructions and prompt.leaks(reply, p.instructions):
        raise ProviderFailed("leaked", LEAKED)
    if not reply.strip():
        raise ProviderFailed("bad_reply", "the provider's reply is empty")
    if sent < len(reply):
        yield reply[sent:]
    return Written(
        text=reply,
        engine=f"provider:{p.target.name}",
        sources=_cited(p, reply),
        confidence=p.confidence,
        tokens=usage.completion if usage else tokens.count(reply),
        latency_ms=(time.perf_counter() - started) * 1000,
        provider_id=p.target.provider_id,
    )


def write(p: Plan) -> Iterator[str | Written]:
    """Step 2: the answer's text pieces as they come, then the :class:`Written` answer.
    When a provider fails part-way, the offline answer follows what it had sent: the
    stored answer (the ``answer`` event) is the one to show."""
    target = p.target
    if target is not None and not (p.strict and p.confidence < p.min_confidence):
        started = time.perf_counter()
        try:
            written = yield from _provider(p)
        except Exception as exc:  # whatever went wrong, the visitor gets an answer
            if isinstance(exc, ProviderFailed):
                reason, message = exc.reason, exc.message
            else:
                log.exception("chat %s: the provider's answer failed", p.chat_id)
                reason, message = "internal", f"the call failed ({type(exc).__name__})"
            failed = _offline(p, f"{target.name}: {message}")
            failed.provider_id = target.provider_id
            failed.latency_ms = (time.perf_counter() - started) * 1000
            # A reply that leaked came from a provider that answered: not its failure.
            failed.call_error = None if reason == "leaked" else message
            yield from _pieces(failed.text)
            yield failed
            return
        yield written
        return
    written = _offline(p)
    yield from _pieces(written.text)
    yield written


def _pieces(text: str) -> Iterator[str]:
    yield from offline.stream_pieces(text)


def store(session: Session, p: Plan, w: Written) -> tuple[ChatMessage, Chat]:
    """Step 3: the answer stored (and the provider's call recorded)."""
    chat = chats.get(session, p.org_id, p.chat_id)
    message = chats.add_message(
        session,
        chat,
        Role.ASSISTANT,
        w.text,
        author="bot",
        tokens=w.tokens,
        engine=w.engine,
        confidence=None if w.confidence is None else round(float(w.confidence), 4),
        sources=w.sources,
        error=w.error,
    )
    if w.provider_id is not None and w.latency_ms is not None:
        provider = session.get(providers.AIProvider, w.provider_id)
        if provider is not None:
            providers.record_call(session, provider, w.latency_ms, w.call_error)
    return message, chat


def generate(
    sessions: Callable[[], Session], settings: Settings, org_id: int, chat_id: int, question_id: int
) -> Iterator[tuple[str, Any]]:
    """The answer to a committed question: ``("token", text)`` pieces, then
    ``("answer", message)`` and ``("chat", chat)`` once it is stored."""
    session = sessions()
    try:
        p = plan(session, settings, org_id, chat_id, question_id)
    finally:
        session.rollback()
        session.close()
    written: Written | None = None
    for item in write(p):
        if isinstance(item, Written):
            written = item
        else:
            yield "token", item
    assert written is not None
    session = sessions()
    try:
        message, chat = store(session, p, written)
        session.commit()
        yield "answer", message
        yield "chat", chat
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
