"""The automatic message (Anaimo's AutoMsg): a periodic task that writes a use case's
``auto_msg`` in its active chats whose last message is the visitor's and older than
``timeout_for_auto_msg_s`` (no one answered in time), once per chat
(``auto_msg_sent_at``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.chat.models import Chat, ChatMessage, ChatStatus, ChatUseCase, Role, UseCaseStatus
from augury.chat.services import chats

BATCH = 500


def send_due(session: Session) -> int:
    """Write the automatic message in every chat that waited too long; how many."""
    now = clock.now()
    last_id = (
        select(func.max(ChatMessage.id))
        .where(ChatMessage.chat_id == Chat.id)
        .correlate(Chat)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Chat, ChatUseCase, ChatMessage)
        .join(ChatUseCase, ChatUseCase.id == Chat.use_case_id)
        .join(ChatMessage, ChatMessage.id == last_id)
        .where(
            Chat.status == ChatStatus.ACTIVE,
            Chat.auto_msg_sent_at.is_(None),
            ChatUseCase.status == UseCaseStatus.OPEN,
            ChatUseCase.timeout_for_auto_msg_s.is_not(None),
            ChatUseCase.auto_msg != "",
            ChatMessage.role == Role.USER,
        )
        .order_by(Chat.id)
        .limit(BATCH)
    ).all()
    sent = 0
    for chat, use_case, _last in rows:
        if chat.last_message_at > now - timedelta(seconds=use_case.timeout_for_auto_msg_s or 0):
            continue
        chats.add_message(session, chat, Role.ASSISTANT, use_case.auto_msg, author="auto")
        chat.auto_msg_sent_at = now
        sent += 1
    return sent


class AutoMessages:
    """A periodic task (run by the stream processor): the automatic messages due."""

    name = "chat.auto_messages"
    every_s = 10.0

    def run(self, db) -> int:
        with db.session() as session:
            return send_due(session)
