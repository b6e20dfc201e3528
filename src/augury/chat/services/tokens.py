"""Token totals of an organization: its chats' messages and its AIchat calls, per use
case and per day (UTC), in a window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury.chat.models import Chat, ChatAICall, ChatMessage, ChatUseCase


def _window(stmt, column, start: datetime | None, end: datetime | None):
    if start is not None:
        stmt = stmt.where(column >= start)
    if end is not None:
        stmt = stmt.where(column < end)
    return stmt


def summary(
    session: Session, org_id: int, start: datetime | None = None, end: datetime | None = None
) -> dict[str, int]:
    """The window's chats started, messages written, their ratings and tokens, and the
    tokens of aichat calls (usage's platform figures show them as they are)."""
    messages, chat_tokens, good, bad = session.execute(
        _window(
            select(
                func.count(),
                func.coalesce(func.sum(ChatMessage.tokens), 0),
                func.count().filter(ChatMessage.rating == "good"),
                func.count().filter(ChatMessage.rating == "bad"),
            ).where(ChatMessage.org_id == org_id),
            ChatMessage.created_at,
            start,
            end,
        )
    ).one()
    call_tokens = ChatAICall.prompt_tokens + ChatAICall.completion_tokens
    aichat = session.scalar(
        _window(
            select(func.coalesce(func.sum(call_tokens), 0)).where(ChatAICall.org_id == org_id),
            ChatAICall.created_at,
            start,
            end,
        )
    )
    chats = session.scalar(
        _window(select(func.count()).where(Chat.org_id == org_id), Chat.started_at, start, end)
    )
    return {
        "chats": int(chats or 0),
        "messages": int(messages),
        "rated_good": int(good),
        "rated_bad": int(bad),
        "chat_tokens": int(chat_tokens),
        "aichat_tokens": int(aichat or 0),
        "tokens": int(chat_tokens) + int(aichat or 0),
    }


def totals(
    session: Session, org_id: int, start: datetime | None = None, end: datetime | None = None
) -> dict:
    """``{messages, aichat, tokens, ratings: {good, bad}, use_cases: [...], days: [...]}``:
    the ratings are those of the answers written in the window."""
    per_use_case = session.execute(
        _window(
            select(
                Chat.use_case_id, ChatUseCase.name, func.coalesce(func.sum(ChatMessage.tokens), 0)
            )
            .join(Chat, Chat.id == ChatMessage.chat_id)
            .join(ChatUseCase, ChatUseCase.id == Chat.use_case_id)
            .where(ChatMessage.org_id == org_id)
            .group_by(Chat.use_case_id, ChatUseCase.name)
            .order_by(Chat.use_case_id),
            ChatMessage.created_at,
            start,
            end,
        )
    ).all()
    overall = summary(session, org_id, start, end)
    call_tokens = ChatAICall.prompt_tokens + ChatAICall.completion_tokens
    days: dict[str, dict[str, int]] = {}
    message_day = func.date(ChatMessage.created_at)
    for day, n in session.execute(
        _window(
            select(message_day, func.coalesce(func.sum(ChatMessage.tokens), 0))
            .where(ChatMessage.org_id == org_id)
            .group_by(message_day),
            ChatMessage.created_at,
            start,
            end,
        )
    ):
        days.setdefault(str(day), {"messages": 0, "aichat": 0})["messages"] += int(n)
    call_day = func.date(ChatAICall.created_at)
    for day, n in session.execute(
        _window(
            select(call_day, func.coalesce(func.sum(call_tokens), 0))
            .where(ChatAICall.org_id == org_id)
            .group_by(call_day),
            ChatAICall.created_at,
            start,
            end,
        )
    ):
        days.setdefault(str(day), {"messages": 0, "aichat": 0})["aichat"] += int(n)
    messages = sum(int(n) for _, _, n in per_use_case)
    return {
        "ratings": {"good": overall["rated_good"], "bad": overall["rated_bad"]},
        "messages": messages,
        "aichat": overall["aichat_tokens"],
        "tokens": messages + overall["aichat_tokens"],
        "use_cases": [
            {"use_case_id": uc, "name": name, "tokens": int(n)} for uc, name, n in per_use_case
        ],
        "days": [
            {"day": d, **v, "tokens": v["messages"] + v["aichat"]} for d, v in sorted(days.items())
        ],
    }
