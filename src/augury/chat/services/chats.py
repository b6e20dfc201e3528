"""Chats: opening one (the welcome first), their messages, handover to a person and back,
ratings, finishing.

Nothing a visitor writes is lost: :func:`post` stores the message (and what its words
set off: a handover, a flag for attention) and the caller commits it before any answer
is written (:mod:`.answer` then works in sessions of its own, so a slow provider holds
no write transaction). A widget chat's secret token is returned once, when it is
opened; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.models import Membership
from augury.accounts.principal import Principal
from augury.chat.models import (
    Chat,
    ChatMessage,
    ChatStatus,
    ChatUseCase,
    Control,
    Role,
    UseCaseStatus,
)
from augury.engines.chat import prompt, tokens
from augury.errors import Conflict, NotFound
from augury.events import service as events
from augury.notifications import service as notifications
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate

TOKEN_BYTES = 32
DEFAULT_MANUAL_MESSAGE = "A person will answer you here shortly."
OPEN_CHAT = "This chat is finished; open a new one to go on."
CLOSED = "This use case is closed: it takes no new chats or messages."


@dataclass
class Posted:
    """A stored message, the notice a handover posted, and whether the bot answers it."""

    chat: Chat
    question: ChatMessage
    notice: ChatMessage | None
    bot_answers: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _open_use_case(session: Session, org_id: int, use_case_id: int) -> ChatUseCase:
    use_case = get_owned(session, ChatUseCase, org_id, use_case_id, "Use case")
    if use_case.status != UseCaseStatus.OPEN:
        raise Conflict(CLOSED, details={"use_case_id": use_case.id, "status": use_case.status})
    return use_case


def add_message(
    session: Session,
    chat: Chat,
    role: str,
    text: str,
    *,
    author: str,
    author_id: int | None = None,
    **fields,
) -> ChatMessage:
    """Store one message of ``chat`` and count its tokens into the chat's."""
    count = fields.pop("tokens", None)
    message = ChatMessage(
        org_id=chat.org_id,
        chat_id=chat.id,
        role=role,
        text=text,
        tokens=tokens.count(text) if count is None else count,
        author=author,
        author_id=author_id,
        created_at=clock.now(),
        **fields,
    )
    session.add(message)
    chat.tokens = (chat.tokens or 0) + message.tokens
    chat.last_message_at = clock.now()
    session.flush()
    return message


def open_chat(
    session: Session,
    org_id: int,
    use_case_id: int,
    *,
    visitor: str = "",
    user_id: int | None = None,
    channel: str = "api",
) -> tuple[Chat, list[ChatMessage], str | None]:
    """A new chat of the organization's open use case (409 when closed), its welcome as
    the first assistant message; a widget chat also gets its secret token (returned
    here, once)."""
    use_case = _open_use_case(session, org_id, use_case_id)
    token = secrets.token_urlsafe(TOKEN_BYTES) if channel == "widget" else None
    chat = Chat(
        org_id=org_id,
        use_case_id=use_case.id,
        user_id=user_id,
        channel=channel,
        visitor=visitor,
        token_hash=hash_token(token) if token else None,
        started_at=clock.now(),
        last_message_at=clock.now(),
    )
    session.add(chat)
    session.flush()
    if not visitor:
        chat.visitor = f"visitor-{chat.id}"
    messages = []
    if use_case.welcome:
        messages.append(add_message(session, chat, Role.ASSISTANT, use_case.welcome, author="bot"))
    return chat, messages, token


def get(session: Session, org_id: int, chat_id: int) -> Chat:
    return get_owned(session, Chat, org_id, chat_id, "Chat")


def by_token(session: Session, use_case: ChatUseCase, chat_id: int, token: str | None) -> Chat:
    """The use case's chat that ``token`` opens (404 for any other: a wrong token, another
    use case's chat, no token)."""
    if not token:
        raise NotFound("Chat not found.")
    chat = session.scalar(
        select(Chat).where(
            Chat.id == chat_id,
            Chat.use_case_id == use_case.id,
            Chat.org_id == use_case.org_id,
            Chat.token_hash == hash_token(token),
        )
    )
    if chat is None:
        raise NotFound("Chat not found.")
    return chat


def list_page(
    session: Session,
    org_id: int,
    page: PageParams,
    *,
    use_case_id: int | None = None,
    status: str | None = None,
    attention: bool | None = None,
    control: str | None = None,
) -> tuple[list[Chat], int]:
    """The organization's chats, newest activity first."""
    stmt = select(Chat).where(Chat.org_id == org_id)
    if use_case_id is not None:
        stmt = stmt.where(Chat.use_case_id == use_case_id)
    if status is not None:
        stmt = stmt.where(Chat.status == status)
    if attention is not None:
        stmt = stmt.where(Chat.attention.is_(attention))
    if control is not None:
        stmt = stmt.where(Chat.control == control)
    stmt = stmt.order_by(Chat.last_message_at.desc(), Chat.id.desc())
    return paginate(session, stmt, page)


def messages(session: Session, chat: Chat, after_id: int | None = None) -> list[ChatMessage]:
    """The chat's messages, oldest first (those after ``after_id`` only)."""
    stmt = select(ChatMessage).where(ChatMessage.chat_id == chat.id)
    if after_id is not None:
        stmt = stmt.where(ChatMessage.id > after_id)
    return list(session.scalars(stmt.order_by(ChatMessage.id)))


def message(session: Session, chat: Chat, message_id: int) -> ChatMessage:
    found = session.scalar(
        select(ChatMessage).where(ChatMessage.id == message_id, ChatMessage.chat_id == chat.id)
    )
    if found is None:
        raise NotFound("Message not found.")
    return found


def _still_open(session: Session, chat: Chat) -> ChatUseCase:
    if chat.status == ChatStatus.FINISHED:
        raise Conflict(OPEN_CHAT, details={"chat_id": chat.id, "status": chat.status})
    use_case = session.get(ChatUseCase, chat.use_case_id)
    if use_case is None:
        raise NotFound("Use case not found.")
    return use_case


def post(session: Session, chat: Chat, text: str, *, author: str = "visitor") -> Posted:
    """Store a visitor's (or signed-in user's) message and act on its words: a word for
    a person hands the chat over (the manual message is posted as a notice), a word for
    attention flags it. The bot answers only while it is in control."""
    use_case = _still_open(session, chat)
    if use_case.status != UseCaseStatus.OPEN:
        raise Conflict(CLOSED, details={"use_case_id": use_case.id, "status": use_case.status})
    question = add_message(session, chat, Role.USER, text, author=author)
    notice = None
    manual = prompt.handover_words(text, list(use_case.words_for_manual or []))
    if manual and chat.control == Control.BOT:
        chat.control = Control.PERSON
        notice = add_message(
            session,
            chat,
            Role.ASSISTANT,
            use_case.manual_message or DEFAULT_MANUAL_MESSAGE,
            author="system",
        )
    flagged = prompt.handover_words(text, list(use_case.words_for_attention or []))
    newly_flagged = bool(flagged) and not chat.attention
    if newly_flagged:
        chat.attention = True
        chat.attention_reason = "the visitor wrote " + ", ".join(repr(w) for w in flagged)
    session.flush()
    if notice is not None:
        _alert_operators(session, chat, use_case, "chat.handover", manual, question)
    if newly_flagged:
        _alert_operators(session, chat, use_case, "chat.attention", flagged, question)
    return Posted(chat, question, notice, chat.control == Control.BOT and not manual)


OPERATOR_ROLES = ("owner", "admin", "member")
MAX_NOTIFIED = 50
"""Operators notified of one chat's handover or attention words, at most."""


def _alert_operators(
    session: Session,
    chat: Chat,
    use_case: ChatUseCase,
    type: str,
    words: list[str],
    question: ChatMessage,
) -> None:
    """A platform event (event webhooks send it on) and a notification for whoever
    manages the chat, or else every member who may answer (not viewers)."""
    data = {
        "chat_id": chat.id,
        "use_case_id": use_case.id,
        "use_case": use_case.name,
        "words": words,
        "message_id": question.id,
    }
    events.emit(session, org_id=chat.org_id, type=type, data=data)
    if chat.managed_by_id is not None:
        people = [chat.managed_by_id]
    else:
        people = list(
            session.scalars(
                select(Membership.user_id)
                .where(
                    Membership.org_id == chat.org_id,
                    Membership.role.in_(OPERATOR_ROLES),
                    Membership.disabled_at.is_(None),
                )
                .order_by(Membership.user_id)
                .limit(MAX_NOTIFIED)
            )
        )
    what = "asks for a person" if type == "chat.handover" else "needs attention"
    for user_id in people:
        notifications.notify(
            session,
            org_id=chat.org_id,
            user_id=user_id,
            kind=type,
            title=f"A chat of {use_case.name} {what}",
            body=f"{chat.visitor or 'A visitor'} wrote: {question.text[:200]}",
            link=f"/chat/live?chat={chat.id}",
            data=data,
        )


def answer_as_person(session: Session, principal: Principal, chat: Chat, text: str) -> ChatMessage:
    """A member's answer while a person is in control (an assistant message written by
    ``person``); the member takes the chat if no one manages it yet."""
    _still_open(session, chat)
    if chat.control != Control.PERSON:
        raise Conflict(
            "The bot is in control of this chat: take it over first.",
            details={"chat_id": chat.id, "control": chat.control},
        )
    if chat.managed_by_id is None:
        chat.managed_by_id = principal.user_id
    return add_message(
        session, chat, Role.ASSISTANT, text, author="person", author_id=principal.user_id
    )


def rate(session: Session, chat: Chat, message_id: int, rating: str | None) -> ChatMessage:
    """Rate one of the chat's answers ``good`` or ``bad`` (``None`` clears it)."""
    found = message(session, chat, message_id)
    if found.role != Role.ASSISTANT:
        raise Conflict("Only answers are rated.", details={"message_id": found.id})
    found.rating = rating
    session.flush()
    return found


def takeover(session: Session, principal: Principal, chat: Chat) -> ChatMessage | None:
    """A person takes control; the visitor sees the use case's manual message."""
    use_case = _still_open(session, chat)
    chat.managed_by_id = principal.user_id
    if chat.control == Control.PERSON:
        session.flush()
        return None
    chat.control = Control.PERSON
    return add_message(
        session,
        chat,
        Role.ASSISTANT,
        use_case.manual_message or DEFAULT_MANUAL_MESSAGE,
        author="system",
    )


def release(session: Session, chat: Chat) -> Chat:
    """Give the chat back to the bot."""
    _still_open(session, chat)
    chat.control = Control.BOT
    chat.managed_by_id = None
    session.flush()
    return chat


def finish(session: Session, chat: Chat) -> Chat:
    """End the chat: no further messages (409). Finishing twice changes nothing."""
    if chat.status != ChatStatus.FINISHED:
        chat.status = ChatStatus.FINISHED
        chat.finished_at = clock.now()
        session.flush()
    return chat
