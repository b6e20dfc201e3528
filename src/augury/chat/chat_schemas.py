"""Bodies of chats, their messages, the widget's public side, AIchat and token totals
(the use cases' and knowledge's bodies are in :mod:`augury.chat.schemas`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from augury.schemas import StrictModel

MAX_TEXT_CHARS = 20_000
"""The longest message a visitor or an operator may send (about 3,000 words); a longer
one is refused whole (422), nothing of it stored."""
MAX_PROMPT_CHARS = 200_000
"""The longest AIchat prompt (all its messages together)."""

MessageText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description=f"The message, 1 to {MAX_TEXT_CHARS:,} characters.",
    ),
]
Visitor = Annotated[str, Field(max_length=100, description="A label for the visitor.")]


class ChatCreate(StrictModel):
    use_case_id: int = Field(ge=1, le=2**31 - 1)
    visitor: Visitor = ""


class MessageCreate(StrictModel):
    text: MessageText


class RatingUpdate(StrictModel):
    rating: Literal["good", "bad"] | None


class ChatRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    use_case_id: int
    status: str
    control: str
    managed_by_id: int | None
    user_id: int | None
    channel: str
    visitor: str
    tokens: int
    attention: bool
    attention_reason: str | None
    started_at: datetime
    finished_at: datetime | None
    last_message_at: datetime
    auto_msg_sent_at: datetime | None


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    chat_id: int
    role: str
    text: str
    tokens: int
    author: str
    author_id: int | None
    engine: str | None
    confidence: float | None
    sources: list[dict]
    rating: str | None
    error: str | None
    created_at: datetime


class ChatOpened(BaseModel):
    chat: ChatRead
    messages: list[MessageRead]


class ChatState(BaseModel):
    """What the visitor's side needs of a chat after a message: who answers, whether it
    is flagged, whether it is over."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    control: str
    attention: bool


class Turn(BaseModel):
    """A posted message and what came of it: the bot's answer (none while a person is in
    control), the notice a handover posted, the chat's state."""

    question: MessageRead
    answer: MessageRead | None = None
    notice: MessageRead | None = None
    chat: ChatState


# --- the widget --------------------------------------------------------------------------------


class WidgetInfo(BaseModel):
    name: str
    welcome: str
    status: str


class WidgetChatCreate(StrictModel):
    visitor: Visitor = ""


class WidgetMessageRead(BaseModel):
    """A message as a visitor sees it: no operator ids, no errors."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    role: str
    text: str
    author: str
    sources: list[dict]
    rating: str | None
    created_at: datetime


class WidgetChatOpened(BaseModel):
    chat_id: int
    token: str = Field(description="The chat's secret: send it as X-Chat-Token. Shown once.")
    messages: list[WidgetMessageRead]


class WidgetTurn(BaseModel):
    question: WidgetMessageRead
    answer: WidgetMessageRead | None = None
    notice: WidgetMessageRead | None = None
    chat: ChatState


# --- AIchat and tokens -----------------------------------------------------------------------


class PromptMessage(StrictModel):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=MAX_PROMPT_CHARS)


class AIChatRequest(StrictModel):
    prompt: (
        Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS)]
        | Annotated[list[PromptMessage], Field(min_length=1, max_length=200)]
    )
    max_tokens: int = Field(4000, ge=1, le=128_000)
    tokens: bool = Field(False, description="Only count the prompt's tokens (offline).")
    provider_id: int | None = Field(None, ge=1, le=2**31 - 1)


class AIChatTokens(BaseModel):
    prompt: int
    completion: int | None = None
    total: int | None = None
    counted_by: str


class AIChatResponse(BaseModel):
    completion: str | None = None
    tokens: AIChatTokens
    engine: str | None = None


class UseCaseTokens(BaseModel):
    use_case_id: int
    name: str
    tokens: int


class DayTokens(BaseModel):
    day: str
    messages: int
    aichat: int
    tokens: int


class Ratings(BaseModel):
    good: int
    bad: int


class TokenTotals(BaseModel):
    messages: int
    aichat: int
    tokens: int
    ratings: Ratings = Field(description="How visitors rated the answers written in the window.")
    use_cases: list[UseCaseTokens]
    days: list[DayTokens]
