"""Chat: chatbots for a use case that answer from its knowledge and hand over to a person.

Anaimo's chat half, in augury's words:

- a **use case** (Anaimo's Use case) is one chatbot: its description, welcome message,
  temperature and the handover rules (words that hand the chat to a person, words that
  flag it for attention, an automatic message after N seconds without a reply, the
  message shown when a person takes over). It is open or closed; its public ``hash``
  names it to the website widget.
- its **knowledge** (Anaimo's Use case sentence) is ordered: sentences typed in, and
  documents, datasets and text projects attached. Each piece is cut into **passages**,
  the retrieval index (a vector from the shipped embedding model per passage; the
  lexical side is computed from their text at query time).
- a **chat** (Anaimo's Chat) is one conversation: who is in control (``control``: the
  bot or a person, Anaimo's ControlType 0/1), the person managing it, its tokens, its
  status. A visitor holds the chat's secret token; only its SHA-256 is stored.
- a **message** (Anaimo's Sentence and Chat sentence) has a role (system, user,
  assistant), its tokens, the passages it was answered from, and a good/bad rating.
- an **AI call** is one ``POST /chat/aichat`` prompt: its tokens, for the totals.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from augury import clock
from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin


class UseCaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class KnowledgeKind(enum.StrEnum):
    SENTENCE = "sentence"
    FILE = "file"
    """An uploaded file; its text is read once and kept in ``text``."""
    DOCUMENT = "document"
    DATASET = "dataset"
    PROJECT = "project"


class IndexStatus(enum.StrEnum):
    EMPTY = "empty"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


class ChatStatus(enum.StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"


class Control(enum.StrEnum):
    """Who answers: Anaimo's ControlType 0 (the bot) and 1 (a person)."""

    BOT = "bot"
    PERSON = "person"


class Role(enum.StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class ChatUseCase(IdMixin, CreatedMixin, OrgMixin, Base):
    __tablename__ = "chat_use_case"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    welcome: Mapped[str] = mapped_column(Text, default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    """The operator's own guidance to the model (tone, persona); never shown to visitors."""
    temperature: Mapped[float] = mapped_column(Float, default=0.0)
    max_tokens: Mapped[int] = mapped_column(Integer, default=512)
    strict: Mapped[bool] = mapped_column(Boolean, default=True)
    """Answer only from the knowledge: below ``min_confidence`` say so and offer a person."""
    min_confidence: Mapped[float] = mapped_column(Float, default=0.2)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("ai_provider.id", ondelete="SET NULL")
    )
    """The OpenAI-compatible provider that writes answers; none: the offline answer."""
    words_for_manual: Mapped[list] = mapped_column(default=list)
    words_for_attention: Mapped[list] = mapped_column(default=list)
    timeout_for_auto_msg_s: Mapped[int | None] = mapped_column(Integer)
    auto_msg: Mapped[str] = mapped_column(Text, default="")
    manual_message: Mapped[str] = mapped_column(Text, default="")
    allowed_origins: Mapped[list] = mapped_column(default=list)
    """Web origins whose pages may embed the widget (CORS); empty: none."""
    status: Mapped[str] = mapped_column(String(10), default=UseCaseStatus.OPEN)
    opened_at: Mapped[datetime | None] = mapped_column(default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column()
    hash: Mapped[str] = mapped_column(String(40), unique=True)
    """Public: names the use case to the widget. Not a secret."""
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    """Tokens of the knowledge (Anaimo's use case Tokens)."""
    index_status: Mapped[str] = mapped_column(String(10), default=IndexStatus.EMPTY)
    index_version: Mapped[int] = mapped_column(Integer, default=0)
    index_error: Mapped[str | None] = mapped_column(Text)
    indexed_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class ChatKnowledge(IdMixin, CreatedMixin, OrgMixin, Base):
    """One piece of a use case's knowledge, at ``position`` (1, 2, ...)."""

    __tablename__ = "chat_knowledge"

    use_case_id: Mapped[int] = mapped_column(
        ForeignKey("chat_use_case.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), default=KnowledgeKind.SENTENCE)
    title: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    """A sentence's words; empty for an attachment (its text is read when indexed)."""
    ref_id: Mapped[int | None] = mapped_column(Integer)
    """The attached document, dataset or text project."""
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class ChatPassage(IdMixin, OrgMixin, Base):
    """A retrievable piece of knowledge: its text, where it came from and its vector."""

    __tablename__ = "chat_passage"

    use_case_id: Mapped[int] = mapped_column(
        ForeignKey("chat_use_case.id", ondelete="CASCADE"), index=True
    )
    knowledge_id: Mapped[int] = mapped_column(
        ForeignKey("chat_knowledge.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    """Its place in the use case: knowledge position, then order inside the piece."""
    title: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    """float32 little-endian, L2-normalized; the embedder's name is ``embedder``."""
    embedder: Mapped[str] = mapped_column(String(100), default="")


class Chat(IdMixin, OrgMixin, Base):
    __tablename__ = "chat"

    use_case_id: Mapped[int] = mapped_column(
        ForeignKey("chat_use_case.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default=ChatStatus.ACTIVE, index=True)
    control: Mapped[str] = mapped_column(String(10), default=Control.BOT)
    managed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    """The person in control (Anaimo's UserManaging_Id)."""
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    """The signed-in user who opened it; none for a widget visitor."""
    channel: Mapped[str] = mapped_column(String(10), default="api")
    """``api``, ``ui`` or ``widget``."""
    visitor: Mapped[str] = mapped_column(String(100), default="")
    """A label for the visitor (a name they gave, or ``visitor-<n>``)."""
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """SHA-256 of the visitor's secret chat token (widget chats)."""
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    attention: Mapped[bool] = mapped_column(Boolean, default=False)
    attention_reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column()
    last_message_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    auto_msg_sent_at: Mapped[datetime | None] = mapped_column()


class ChatMessage(IdMixin, CreatedMixin, OrgMixin, Base):
    """One sentence of a chat."""

    __tablename__ = "chat_message"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    author: Mapped[str] = mapped_column(String(20), default="bot")
    """Who wrote it: ``visitor``, ``bot``, ``person`` (an operator), ``auto`` (the
    automatic message) or ``system``."""
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    engine: Mapped[str | None] = mapped_column(String(120))
    """How a bot answer was written: ``offline`` or ``provider:<name>``."""
    confidence: Mapped[float | None] = mapped_column(Float)
    sources: Mapped[list] = mapped_column(default=list)
    """The passages the answer used: ``{"passage_id", "knowledge_id", "title", "score"}``."""
    rating: Mapped[str | None] = mapped_column(String(4))
    """``good`` or ``bad`` (Anaimo's rate 1/0)."""
    error: Mapped[str | None] = mapped_column(Text)
    """Why the provider did not write it (the offline answer was given instead)."""


class ChatAICall(IdMixin, CreatedMixin, OrgMixin, Base):
    """One ``/chat/aichat`` prompt: its tokens feed the organization's totals."""

    __tablename__ = "chat_ai_call"

    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("ai_provider.id", ondelete="SET NULL")
    )
    count_only: Mapped[bool] = mapped_column(Boolean, default=False)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    counted_by: Mapped[str] = mapped_column(String(20), default="tokenizer")
    """``provider`` (its own usage figures) or ``tokenizer`` (the shipped one)."""
