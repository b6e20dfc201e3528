"""The widget's public side, ``/chat/widget/{hash}``: no sign-in. The hash names a use
case (it is public: it sits in the website's page); a chat's secret token, sent as
``X-Chat-Token``, names the chat (a wrong token, or another use case's chat: 404).

CORS is the use case's: a browser's preflight (``OPTIONS``) is answered, and
``Access-Control-Allow-Origin`` given, only for an origin in its ``allowed_origins``.
Each visitor is rate limited (per chat token and per client address:
:data:`LIMITS`), with 429 and ``Retry-After`` past it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.routing import APIRoute
from sqlalchemy import select

from augury.api.deps import MAX_ID, ObjectId, SessionDep, SettingsDep, client_ip
from augury.api.ratelimit import RateLimiter
from augury.chat.chat_schemas import (
    MessageCreate,
    RatingUpdate,
    WidgetChatCreate,
    WidgetChatOpened,
    WidgetInfo,
    WidgetMessageRead,
    WidgetTurn,
)
from augury.chat.models import Chat, ChatUseCase
from augury.chat.routes.chats import STREAM_DOC, respond
from augury.chat.services import chats
from augury.config import RateLimitSettings
from augury.errors import NotFound, PermissionDenied, RateLimited


class WidgetRoute(APIRoute):
    """A widget route: its answer, an error's included, carries the use case's CORS
    headers (which :func:`use_case_of` worked out), so a page on an allowed origin can
    read a 404, a 409 or a 429's Retry-After too. Errors are rendered by the app's own
    handlers (the one error envelope)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handle(request)
            except Exception as exc:
                handler = _handler_for(request, exc)
                if handler is None:
                    raise
                response = handler(request, exc)
                if inspect.isawaitable(response):
                    response = await response
            response.headers.append("Vary", "Origin")
            for name, value in getattr(request.state, "widget_cors", {}).items():
                response.headers[name] = value
            return response

        return route


def _handler_for(request: Request, exc: Exception):
    handlers = request.app.exception_handlers
    for kind in type(exc).__mro__:
        if kind in handlers:
            return handlers[kind]
    return None


router = APIRouter(prefix="/widget/{hash}", tags=["chat widget"], route_class=WidgetRoute)

LIMITS = {"widget.message": 20, "widget.address": 60, "widget.open": 10}
"""Per minute: messages per chat token, messages per client address, chats opened per
client address."""
ALLOW_METHODS = "GET, POST, PATCH, OPTIONS"
ALLOW_HEADERS = "Content-Type, Accept, X-Chat-Token"
EXPOSE_HEADERS = "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"

Hash = Annotated[str, Path(min_length=1, max_length=64, description="The use case's hash.")]
ChatToken = Annotated[
    str | None, Header(alias="X-Chat-Token", max_length=200, description="The chat's token.")
]


class WidgetLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__(RateLimitSettings())

    def limit_for(self, group: str) -> int:
        return LIMITS[group]


def _limiter(request: Request) -> WidgetLimiter:
    limiter = getattr(request.app.state, "chat_widget_limiter", None)
    if limiter is None:
        limiter = request.app.state.chat_widget_limiter = WidgetLimiter()
    return limiter


def limit(request: Request, settings, group: str, client: str) -> None:
    """Count one request of ``client`` in ``group``: 429 with Retry-After past its limit."""
    if not settings.ratelimit.enabled:
        return
    limiter = _limiter(request)
    allowed, _limit, _remaining, reset = limiter.hit(group, client)
    if not allowed:
        raise RateLimited(max(1, math.ceil(reset - limiter.clock())))


def use_case_of(hash: Hash, request: Request, session: SessionDep) -> ChatUseCase:
    """The use case the hash names (any organization's: the hash is its public name);
    the answer will carry its CORS headers for an allowed origin."""
    found = session.scalar(select(ChatUseCase).where(ChatUseCase.hash == hash))
    if found is None:
        raise NotFound("Use case not found.")
    origin = request.headers.get("origin")
    if _origin_allowed(found, origin):
        request.state.widget_cors = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSE_HEADERS,
        }
    return found


UseCaseByHash = Annotated[ChatUseCase, Depends(use_case_of)]


def _origin_allowed(use_case: ChatUseCase, origin: str | None) -> bool:
    if not origin:
        return False
    return origin.rstrip("/") in {str(o).rstrip("/") for o in use_case.allowed_origins or []}


def _chat(
    chat_id: ObjectId, use_case: UseCaseByHash, session: SessionDep, token: ChatToken = None
) -> Chat:
    return chats.by_token(session, use_case, chat_id, token)


VisitorChat = Annotated[Chat, Depends(_chat)]
"""The chat the path and the ``X-Chat-Token`` name, of the hash's use case (else 404)."""


def _preflight(request: Request, use_case: ChatUseCase) -> Response:
    origin = request.headers.get("origin")
    if not _origin_allowed(use_case, origin):
        raise PermissionDenied(
            "This origin may not embed the widget: add it to the use case's allowed_origins.",
            details={"origin": origin},
        )
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        headers={
            "Access-Control-Allow-Origin": origin or "",
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )


@router.options("", include_in_schema=False)
def preflight_root(request: Request, use_case: UseCaseByHash):
    return _preflight(request, use_case)


@router.options("/{rest:path}", include_in_schema=False)
def preflight(request: Request, use_case: UseCaseByHash):
    return _preflight(request, use_case)


@router.get("", response_model=WidgetInfo)
def widget_info(use_case: UseCaseByHash):
    """The use case's name, welcome and status, as the widget shows them."""
    return {"name": use_case.name, "welcome": use_case.welcome, "status": use_case.status}


@router.post("/chats", status_code=status.HTTP_201_CREATED, response_model=WidgetChatOpened)
def open_widget_chat(
    body: WidgetChatCreate,
    request: Request,
    use_case: UseCaseByHash,
    session: SessionDep,
    settings: SettingsDep,
):
    """Open a chat (409 when the use case is closed): its token, shown once, and the
    welcome."""
    limit(request, settings, "widget.open", client_ip(request) or "unknown")
    chat, messages, token = chats.open_chat(
        session, use_case.org_id, use_case.id, visitor=body.visitor, channel="widget"
    )
    return {"chat_id": chat.id, "token": token, "messages": messages}


@router.get("/chats/{chat_id}/messages", response_model=list[WidgetMessageRead])
def widget_messages(
    chat: VisitorChat,
    session: SessionDep,
    after_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
):
    """The chat's messages, oldest first (after ``after_id`` only)."""
    return chats.messages(session, chat, after_id)


@router.post(
    "/chats/{chat_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=WidgetTurn,
    responses=STREAM_DOC,  # type: ignore[arg-type]
)
def widget_post_message(
    chat: VisitorChat,
    body: MessageCreate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
):
    """The visitor's message and the bot's answer (streamed with `Accept:
    text/event-stream`); while a person is in control, only the message."""
    limit(request, settings, "widget.message", chat.token_hash or "")
    limit(request, settings, "widget.address", client_ip(request) or "unknown")
    posted = chats.post(session, chat, body.text, author="visitor")
    session.commit()  # the question is kept whatever happens to the answer
    return respond(request, settings, posted, WidgetMessageRead, WidgetTurn)


@router.patch("/chats/{chat_id}/messages/{message_id}", response_model=WidgetMessageRead)
def widget_rate(
    chat: VisitorChat,
    message_id: ObjectId,
    body: RatingUpdate,
    session: SessionDep,
):
    """Rate an answer `good` or `bad` (`null` clears it)."""
    return chats.rate(session, chat, message_id, body.rating)


@router.post(
    "/chats/{chat_id}/finish", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
def widget_finish(chat: VisitorChat, session: SessionDep):
    """End the chat: it takes no further messages."""
    chats.finish(session, chat)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
