"""Request bodies of the chat domain.

Sections: use cases and their knowledge (this module's first half); chats, messages,
AI calls and token totals below them. Whatever a body names in the organization (a
provider, an attached document, dataset or project) is checked by the services, which
know the organization; these models check shapes and ranges only.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from augury.schemas import StrictModel

MAX_ID = 2**31 - 1

# --- use cases and knowledge -----------------------------------------------------------------

MAX_WORDS = 100
"""Handover and attention words a use case holds (each list)."""
MAX_WORD_CHARS = 100
MAX_ORIGINS = 50
MAX_SENTENCE_CHARS = 1_000_000
"""A sentence's (or a file's) text at most: about 150,000 words. A long one is accepted
and cut into passages of at most 180 tokens for retrieval; longer is a 422."""
MAX_SENTENCES_AT_ONCE = 500
MAX_TEXT = 20_000
"""Welcome, instructions, messages: text fields of a use case."""


def _origin(value: str) -> str:
    """``scheme://host[:port]`` and nothing else (no path, query, user or fragment)."""
    raw = value.strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin: write scheme://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{value!r} is not an origin: no path, query or user, only host[:port]")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} has an invalid port") from exc
    host = parts.hostname
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _words(values: list[str]) -> list[str]:
    """Trimmed, without empty ones or repeats (case-insensitive), in the given order."""
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        word = " ".join(value.split())
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            out.append(word)
    return out


def _origins(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Word = Annotated[str, Field(min_length=1, max_length=MAX_WORD_CHARS)]
Words = Annotated[list[Word], Field(max_length=MAX_WORDS), AfterValidator(_words)]
Origin = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_origin)]
Origins = Annotated[list[Origin], Field(max_length=MAX_ORIGINS), AfterValidator(_origins)]
Temperature = Annotated[float, Field(ge=0, le=2)]
MaxTokens = Annotated[int, Field(ge=1, le=32_000)]
Confidence = Annotated[float, Field(ge=0, le=1)]
AutoTimeout = Annotated[int, Field(ge=5, le=7 * 86_400, description="Seconds; at least 5.")]
LongText = Annotated[str, Field(max_length=MAX_TEXT)]


class UseCaseCreate(StrictModel):
    """A chatbot: what it says first, how it answers and when it hands over to a person."""

    name: str = Field(min_length=1, max_length=200)
    description: LongText = ""
    welcome: LongText = ""
    instructions: LongText = ""
    temperature: Temperature = 0.0
    max_tokens: MaxTokens = 512
    strict: bool = True
    min_confidence: Confidence = 0.2
    provider_id: int | None = Field(None, ge=1, le=MAX_ID)
    words_for_manual: Words = Field(default_factory=list)
    words_for_attention: Words = Field(default_factory=list)
    timeout_for_auto_msg_s: AutoTimeout | None = None
    auto_msg: LongText = ""
    manual_message: LongText = ""
    allowed_origins: Origins = Field(default_factory=list)

    @model_validator(mode="after")
    def _name_not_blank(self) -> UseCaseCreate:
        if not self.name.strip():
            raise ValueError("name must not be blank")
        self.name = self.name.strip()
        return self


class UseCaseUpdate(StrictModel):
    """Every field optional; what is given changes. ``null`` clears ``provider_id`` and
    ``timeout_for_auto_msg_s``."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: LongText | None = None
    welcome: LongText | None = None
    instructions: LongText | None = None
    temperature: Temperature | None = None
    max_tokens: MaxTokens | None = None
    strict: bool | None = None
    min_confidence: Confidence | None = None
    provider_id: int | None = Field(None, ge=1, le=MAX_ID)
    words_for_manual: Words | None = None
    words_for_attention: Words | None = None
    timeout_for_auto_msg_s: AutoTimeout | None = None
    auto_msg: LongText | None = None
    manual_message: LongText | None = None
    allowed_origins: Origins | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> UseCaseUpdate:
        nullable = {"provider_id", "timeout_for_auto_msg_s"}
        for field in self.model_fields_set - nullable:
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        if self.name is not None:
            if not self.name.strip():
                raise ValueError("name must not be blank")
            self.name = self.name.strip()
        return self


SentenceText = Annotated[str, Field(min_length=1, max_length=MAX_SENTENCE_CHARS)]
Title = Annotated[str, Field(max_length=300)]


class KnowledgeAdd(StrictModel):
    """One piece at the end: ``{kind: "sentence", text, title?}``, or an attachment
    ``{kind: "document"|"dataset"|"project", ref_id, title?}``; or several sentences at
    once: ``{"sentences": ["...", ...]}``."""

    kind: Literal["sentence", "document", "dataset", "project"] | None = None
    text: SentenceText | None = None
    title: Title | None = None
    ref_id: int | None = Field(None, ge=1, le=MAX_ID)
    sentences: (
        Annotated[list[SentenceText], Field(min_length=1, max_length=MAX_SENTENCES_AT_ONCE)] | None
    ) = None

    @model_validator(mode="after")
    def _one_shape(self) -> KnowledgeAdd:
        if self.sentences is not None:
            if self.kind not in (None, "sentence") or self.text is not None or self.ref_id:
                raise ValueError("'sentences' goes alone (or with kind 'sentence')")
            if any(not s.strip() for s in self.sentences):
                raise ValueError("a sentence must not be blank")
            return self
        if self.kind is None:
            self.kind = "sentence" if self.text is not None else None
        if self.kind is None:
            raise ValueError("give 'kind' (sentence, document, dataset, project) or 'sentences'")
        if self.kind == "sentence":
            if self.text is None or not self.text.strip():
                raise ValueError("a sentence needs 'text'")
            if self.ref_id is not None:
                raise ValueError("a sentence has no 'ref_id'")
        else:
            if self.ref_id is None:
                raise ValueError(f"a {self.kind} needs 'ref_id'")
            if self.text is not None:
                raise ValueError(f"a {self.kind} has no 'text': its text is read from it")
        return self


class KnowledgeUpdate(StrictModel):
    """A sentence's or file's ``text``, any piece's ``title``."""

    text: SentenceText | None = None
    title: Title | None = None

    @model_validator(mode="after")
    def _something(self) -> KnowledgeUpdate:
        if self.text is None and self.title is None:
            raise ValueError("give 'text' or 'title'")
        if self.text is not None and not self.text.strip():
            raise ValueError("text must not be blank")
        return self


class KnowledgeMove(StrictModel):
    """Anaimo's PATCH usecase_sentence: one place up or down (case-insensitive)."""

    direction: Literal["up", "down", "Up", "Down", "UP", "DOWN"]


# --- chats, messages, AI calls and token totals ----------------------------------------------
