"""Routes of chats, ``/chat/chats``: open one, list and read them, post messages (the
bot's answer as JSON, or streamed as server-sent events), rate answers, take a chat
over and give it back, finish it."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from augury.api.deps import MAX_ID, ObjectId, Reader, SessionDep, SettingsDep, Writer
from augury.api.pagination import Page, PageDep, make_page
from augury.chat.chat_schemas import (
    ChatCreate,
    ChatOpened,
    ChatRead,
    ChatState,
    MessageCreate,
    MessageRead,
    RatingUpdate,
    Turn,
)
from augury.chat.models import Chat, ChatStatus, Control
from augury.chat.services import answer, chats
from augury.config import Settings

router = APIRouter()
log = logging.getLogger(__name__)

CHAT = "/chats/{chat_id}"
SSE = "text/event-stream"
STREAM_DOC = {
    201: {
        "description": "The question and the bot's answer; with `Accept: text/event-stream` "
        "server-sent events `question`, `token` (`{text}`), `answer`, `chat`.",
        "content": {SSE: {"schema": {"type": "string"}}},
    }
}


def wants_stream(request: Request) -> bool:
    return SSE in request.headers.get("accept", "")


def _event(kind: str, data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"


def _dump(model: type[BaseModel], row: Any) -> dict:
    return model.model_validate(row).model_dump(mode="json")


def respond(
    request: Request,
    settings: Settings,
    posted: chats.Posted,
    message_model: type[BaseModel],
    turn_model: type[BaseModel],
):
    """The answer to a committed question: a Turn, or its server-sent events."""
    sessions = request.app.state.db.sessionmaker
    chat = posted.chat
    org_id, chat_id, question_id = chat.org_id, chat.id, posted.question.id
    question = _dump(message_model, posted.question)
    notice = None if posted.notice is None else _dump(message_model, posted.notice)

    def events() -> Iterator[tuple[str, Any]]:
        if posted.bot_answers:
            yield from answer.generate(sessions, settings, org_id, chat_id, question_id)
        else:
            yield "chat", chat

    if wants_stream(request):
        return StreamingResponse(
            _stream(question, notice, events, message_model),
            media_type=SSE,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
    turn: dict[str, Any] = {"question": question, "notice": notice}
    for kind, value in events():
        if kind == "answer":
            turn["answer"] = _dump(message_model, value)
        elif kind == "chat":
            turn["chat"] = _dump(ChatState, value)
    return turn_model.model_validate(turn)


def _stream(
    question: dict,
    notice: dict | None,
    events: Callable[[], Iterator[tuple[str, Any]]],
    message_model: type[BaseModel],
) -> Iterator[str]:
    yield _event("question", question)
    if notice is not None:
        yield _event("notice", notice)
    for kind, value in in_background(events):
        if kind == "token":
            yield _event("token", {"text": value})
        elif kind == "answer":
            yield _event("answer", _dump(message_model, value))
        elif kind == "chat":
            yield _event("chat", _dump(ChatState, value))
        elif kind == "error":  # the question is stored; say so rather than cut the stream
            yield _event(
                "error", {"code": "INTERNAL_ERROR", "message": "The answer could not be written."}
            )


_DONE = object()


def in_background(events: Callable[[], Iterator[tuple[str, Any]]]) -> Iterator[tuple[str, Any]]:
    """``events()`` run in a thread of its own, passed on as they come: a visitor who
    leaves mid-answer stops the stream, not the answer, which is still written and
    stored (for the chat's history and the person who may take it over)."""
    passed: queue.Queue = queue.Queue()

    def run() -> None:
        try:
            for item in events():
                passed.put(item)
        except Exception:
            log.exception("a chat answer failed")
            passed.put(("error", None))
        finally:
            passed.put(_DONE)

    threading.Thread(target=run, name="chat-answer", daemon=True).start()
    while (item := passed.get()) is not _DONE:
        yield item


def _readable(chat_id: ObjectId, principal: Reader, session: SessionDep) -> Chat:
    return chats.get(session, principal.org_id, chat_id)


def _writable(chat_id: ObjectId, principal: Writer, session: SessionDep) -> Chat:
    return chats.get(session, principal.org_id, chat_id)


ChatViewer = Annotated[Chat, Depends(_readable)]
"""The path's chat, for anyone of its organization who may read."""
ChatWriter = Annotated[Chat, Depends(_writable)]
"""The path's chat, for members who may write (a viewer: 403 before anything else)."""


@router.post("/chats", status_code=status.HTTP_201_CREATED, response_model=ChatOpened)
def open_chat(body: ChatCreate, principal: Writer, session: SessionDep):
    """Open a chat of an open use case (409 when closed); the welcome is its first message."""
    chat, messages, _ = chats.open_chat(
        session,
        principal.org_id,
        body.use_case_id,
        visitor=body.visitor,
        user_id=principal.user_id,
        channel="api",
    )
    return {"chat": chat, "messages": messages}


@router.get("/chats", response_model=Page[ChatRead])
def list_chats(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    use_case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: ChatStatus | None = None,
    attention: bool | None = None,
    control: Control | None = None,
):
    """The organization's chats, newest activity first."""
    rows, total = chats.list_page(
        session,
        principal.org_id,
        page,
        use_case_id=use_case_id,
        status=status,
        attention=attention,
        control=control,
    )
    return make_page([ChatRead.model_validate(c) for c in rows], total, page)


@router.get(CHAT, response_model=ChatRead)
def get_chat(chat: ChatViewer):
    return chat


@router.get(f"{CHAT}/messages", response_model=list[MessageRead])
def list_messages(
    chat: ChatViewer,
    session: SessionDep,
    after_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
):
    """The chat's messages, oldest first (after ``after_id`` only)."""
    return chats.messages(session, chat, after_id)


@router.post(
    f"{CHAT}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=Turn,
    responses=STREAM_DOC,  # type: ignore[arg-type]
)
def post_message(
    chat: ChatWriter,
    body: MessageCreate,
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
):
    """While the bot is in control: the question and its answer (streamed with `Accept:
    text/event-stream`). While a person is: the member's answer to the visitor."""
    if chat.control == Control.PERSON:
        principal.require_user()
        reply = chats.answer_as_person(session, principal, chat, body.text)
        session.commit()
        return {"question": reply, "chat": chat}
    posted = chats.post(session, chat, body.text, author="visitor")
    session.commit()  # the question is kept whatever happens to the answer
    return respond(request, settings, posted, MessageRead, Turn)


@router.patch(f"{CHAT}/messages/{{message_id}}", response_model=MessageRead)
def rate_message(chat: ChatWriter, message_id: ObjectId, body: RatingUpdate, session: SessionDep):
    """Rate an answer `good` or `bad` (`null` clears it)."""
    return chats.rate(session, chat, message_id, body.rating)


@router.post(f"{CHAT}/takeover", response_model=ChatOpened)
def takeover(chat: ChatWriter, principal: Writer, session: SessionDep):
    """A person takes control (the caller manages the chat); the visitor sees the
    manual message."""
    principal.require_user()
    notice = chats.takeover(session, principal, chat)
    return {"chat": chat, "messages": [notice] if notice else []}


@router.post(f"{CHAT}/release", response_model=ChatRead)
def release(chat: ChatWriter, session: SessionDep):
    """Give the chat back to the bot."""
    return chats.release(session, chat)


@router.post(f"{CHAT}/finish", response_model=ChatRead)
def finish(chat: ChatWriter, session: SessionDep):
    """End the chat: it takes no further messages (409)."""
    return chats.finish(session, chat)
