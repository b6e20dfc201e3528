"""Chatbots (``client.chat``): use cases and their knowledge, chats and their messages,
handover to a person, ratings, AIchat and token totals, and the widget's public side
(``src/augury/chat/README.md``, "The API").

    >>> bot = client.chat.use_cases.create("Manolo", welcome="Hi!")  # doctest: +SKIP
    >>> client.chat.knowledge.add_sentences(bot["id"], ["We open at 9."])  # doctest: +SKIP
    >>> chat = client.chat.chats.open(bot["id"])["chat"]  # doctest: +SKIP
    >>> client.chat.chats.send(chat["id"], "When do you open?")["answer"]["text"]  # doctest: +SKIP
    'We open at 9.'
"""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from augury.client.base import JSON, Resource, _body
from augury.client.errors import _error_from

if TYPE_CHECKING:
    from augury.client.connection import Client

_USE_CASE_FIELDS = (
    "description",
    "welcome",
    "instructions",
    "temperature",
    "max_tokens",
    "strict",
    "min_confidence",
    "provider_id",
    "words_for_manual",
    "words_for_attention",
    "timeout_for_auto_msg_s",
    "auto_msg",
    "manual_message",
    "allowed_origins",
)


def _events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """Server-sent events as ``(event, data)``; data decoded from JSON where it is."""
    event = "message"
    data: list[str] = []
    for line in response.iter_lines():
        if not line:
            if data:
                text = "\n".join(data)
                try:
                    yield event, json.loads(text)
                except ValueError:
                    yield event, text
            event, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        text = "\n".join(data)
        try:
            yield event, json.loads(text)
        except ValueError:
            yield event, text


def _sse(
    client: Client,
    route: str,
    body: JSON,
    *,
    authenticate: bool = True,
    headers: Mapping[str, str] | None = None,
) -> Iterator[tuple[str, Any]]:
    """POST ``body`` and read the answer as server-sent events."""
    from augury.client.connection import _jwt_expired  # connection imports this module

    if (
        authenticate
        and client.access_token
        and client.refresh_token
        and _jwt_expired(client.access_token)
    ):
        client.refresh()
    sent = {"Accept": "text/event-stream", **(headers or {})}
    credential = client.access_token or client.api_key
    if authenticate and credential:
        sent["Authorization"] = f"Bearer {credential}"
    with client._http.stream("POST", route, json=body, headers=sent) as response:
        if response.is_error:
            response.read()
            raise _error_from(response)
        yield from _events(response)


class ChatUseCases(Resource):
    """``client.chat.use_cases``: chatbots, their settings, open and close."""

    def create(self, name: str, **fields: Any) -> JSON:
        """A new, open use case: ``welcome``, ``description``, ``instructions``,
        ``temperature`` (0..2), ``max_tokens``, ``strict``, ``min_confidence`` (0..1),
        ``provider_id``, ``words_for_manual``, ``words_for_attention``,
        ``timeout_for_auto_msg_s``, ``auto_msg``, ``manual_message``,
        ``allowed_origins`` (``https://host[:port]``)."""
        unknown = set(fields) - set(_USE_CASE_FIELDS)
        if unknown:
            raise TypeError(f"unknown use case fields: {', '.join(sorted(unknown))}")
        return self._client.request("POST", "/chat/use-cases", json={"name": name, **fields})

    def list(
        self, *, q: str | None = None, status: str | None = None, offset: int = 0, limit: int = 50
    ) -> JSON:
        return self._page("/chat/use-cases", offset, limit, q=q, status=status)

    def iter(self, *, q: str | None = None, page_size: int = 100) -> Iterator[JSON]:
        return self._iter("/chat/use-cases", page_size, q=q)

    def get(self, use_case_id: int) -> JSON:
        return self._client.request("GET", f"/chat/use-cases/{use_case_id}")

    def find(self, ref: str | int) -> JSON:
        """A use case by its id, its public hash or its exact name (NotFoundError else)."""
        from augury.client.errors import NotFoundError

        text = str(ref).strip()
        if text.isdecimal():
            try:
                return self.get(int(text))
            except NotFoundError:
                pass
        for use_case in self.iter(q=None):
            if text in (use_case["hash"], use_case["name"]):
                return use_case
        raise NotFoundError(404, "RESOURCE_NOT_FOUND", f"No use case {text!r}.", {"use_case": text})

    def update(self, use_case_id: int, **changes: Any) -> JSON:
        """Change what is given (``provider_id=None`` clears the provider)."""
        return self._client.request("PATCH", f"/chat/use-cases/{use_case_id}", json=changes)

    def delete(self, use_case_id: int) -> None:
        self._client.request("DELETE", f"/chat/use-cases/{use_case_id}")

    def open(self, use_case_id: int) -> JSON:
        return self._client.request("POST", f"/chat/use-cases/{use_case_id}/open")

    def close(self, use_case_id: int) -> JSON:
        """No new chats or visitor messages (409) until opened again."""
        return self._client.request("POST", f"/chat/use-cases/{use_case_id}/close")

    def reindex(self, use_case_id: int) -> JSON:
        """Read every piece again; the index's state (``job`` when a job does it)."""
        return self._client.request("POST", f"/chat/use-cases/{use_case_id}/reindex")

    def retrieve(self, use_case_id: int, q: str, *, k: int = 5) -> JSON:
        """The passages the bot would answer ``q`` from, with scores and confidence."""
        return self._client.request(
            "GET", f"/chat/use-cases/{use_case_id}/retrieve", params={"q": q, "k": k}
        )


class ChatKnowledge(Resource):
    """``client.chat.knowledge``: a use case's ordered pieces."""

    def _at(self, use_case_id: int, rest: str = "") -> str:
        return f"/chat/use-cases/{use_case_id}/knowledge{rest}"

    def list(self, use_case_id: int) -> JSON:
        """``{"items": [...in order], "total", "tokens"}``."""
        return self._client.request("GET", self._at(use_case_id))

    def add_sentence(self, use_case_id: int, text: str, *, title: str | None = None) -> JSON:
        body = _body(kind="sentence", text=text, title=title)
        return self._client.request("POST", self._at(use_case_id), json=body)

    def add_sentences(self, use_case_id: int, sentences: Sequence[str]) -> builtins.list[JSON]:
        """Several sentences at the end, in order; the pieces made."""
        body = {"sentences": list(sentences)}
        return self._client.request("POST", self._at(use_case_id), json=body)

    def attach(self, use_case_id: int, kind: str, ref_id: int, *, title: str | None = None) -> JSON:
        """Attach the organization's ``document``, ``dataset`` or text ``project``."""
        body = _body(kind=kind, ref_id=ref_id, title=title)
        return self._client.request("POST", self._at(use_case_id), json=body)

    def upload(
        self, use_case_id: int, path: str | os.PathLike[str], *, timeout: float | None = None
    ) -> JSON:
        """A file (TXT, Markdown, HTML, PDF, DOCX, CSV ...) as a piece of kind ``file``."""
        return self._upload(self._at(use_case_id, "/files"), path, timeout=timeout)

    def update(
        self,
        use_case_id: int,
        knowledge_id: int,
        *,
        text: str | None = None,
        title: str | None = None,
    ) -> JSON:
        body = _body(text=text, title=title)
        return self._client.request("PATCH", self._at(use_case_id, f"/{knowledge_id}"), json=body)

    def delete(self, use_case_id: int, knowledge_id: int) -> None:
        self._client.request("DELETE", self._at(use_case_id, f"/{knowledge_id}"))

    def move(self, use_case_id: int, knowledge_id: int, direction: str) -> JSON:
        """``"up"`` or ``"down"`` one place; the ordered pieces."""
        route = self._at(use_case_id, f"/{knowledge_id}/move")
        return self._client.request("POST", route, json={"direction": direction})


class Chats(Resource):
    """``client.chat.chats``: conversations, their messages, a person taking over."""

    def open(self, use_case_id: int, *, visitor: str | None = None) -> JSON:
        """``{"chat", "messages"}``: the welcome message is the first one."""
        body = _body(use_case_id=use_case_id, visitor=visitor)
        return self._client.request("POST", "/chat/chats", json=body)

    def list(
        self,
        *,
        use_case_id: int | None = None,
        status: str | None = None,
        attention: bool | None = None,
        control: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """A page, newest activity first."""
        return self._page(
            "/chat/chats",
            offset,
            limit,
            use_case_id=use_case_id,
            status=status,
            attention=None if attention is None else str(attention).lower(),
            control=control,
        )

    def get(self, chat_id: int) -> JSON:
        return self._client.request("GET", f"/chat/chats/{chat_id}")

    def messages(self, chat_id: int, *, after_id: int | None = None) -> builtins.list[JSON]:
        """The chat's messages, oldest first (after ``after_id``): a list."""
        return self._client.request(
            "GET", f"/chat/chats/{chat_id}/messages", params={"after_id": after_id}
        )

    def send(self, chat_id: int, text: str) -> JSON:
        """Send a message: ``{"question", "answer", "chat"}`` while the bot is in
        control; while a person is, ``{"question", "chat"}`` (the person answers)."""
        return self._client.request("POST", f"/chat/chats/{chat_id}/messages", json={"text": text})

    def stream(self, chat_id: int, text: str) -> Iterator[tuple[str, Any]]:
        """Send a message and read the answer as it is written: ``("question", msg)``,
        ``("token", {"text"})`` ..., ``("answer", msg)``, ``("chat", state)``."""
        return _sse(self._client, f"/chat/chats/{chat_id}/messages", {"text": text})

    def rate(self, chat_id: int, message_id: int, rating: str | None) -> JSON:
        """``"good"``, ``"bad"`` or None (no rating)."""
        route = f"/chat/chats/{chat_id}/messages/{message_id}"
        return self._client.request("PATCH", route, json={"rating": rating})

    def takeover(self, chat_id: int) -> JSON:
        """A person (the caller) takes control: ``{"chat", "messages"}`` (the manual
        message the visitor sees, when the use case has one)."""
        return self._client.request("POST", f"/chat/chats/{chat_id}/takeover")

    def release(self, chat_id: int) -> JSON:
        """Give control back to the bot."""
        return self._client.request("POST", f"/chat/chats/{chat_id}/release")

    def finish(self, chat_id: int) -> JSON:
        return self._client.request("POST", f"/chat/chats/{chat_id}/finish")


class ChatWidget(Resource):
    """``client.chat.widget``: what a website's widget speaks (no sign-in: the use
    case's public hash, and a chat's secret token)."""

    def _at(self, hash: str, rest: str = "") -> str:
        return f"/chat/widget/{hash}{rest}"

    def info(self, hash: str) -> JSON:
        """``{name, welcome, status}``."""
        return self._client.request("GET", self._at(hash), authenticate=False)

    def open(self, hash: str, *, visitor: str | None = None) -> JSON:
        """``{chat_id, token, messages}``: keep ``token`` for the calls below."""
        return self._client.request(
            "POST", self._at(hash, "/chats"), json=_body(visitor=visitor), authenticate=False
        )

    def messages(
        self, hash: str, chat_id: int, token: str, *, after_id: int | None = None
    ) -> builtins.list[JSON]:
        return self._client.request(
            "GET",
            self._at(hash, f"/chats/{chat_id}/messages"),
            params={"after_id": after_id},
            headers={"X-Chat-Token": token},
            authenticate=False,
        )

    def send(self, hash: str, chat_id: int, token: str, text: str) -> JSON:
        return self._client.request(
            "POST",
            self._at(hash, f"/chats/{chat_id}/messages"),
            json={"text": text},
            headers={"X-Chat-Token": token},
            authenticate=False,
        )

    def stream(self, hash: str, chat_id: int, token: str, text: str) -> Iterator[tuple[str, Any]]:
        return _sse(
            self._client,
            self._at(hash, f"/chats/{chat_id}/messages"),
            {"text": text},
            authenticate=False,
            headers={"X-Chat-Token": token},
        )

    def rate(
        self, hash: str, chat_id: int, token: str, message_id: int, rating: str | None
    ) -> JSON:
        return self._client.request(
            "PATCH",
            self._at(hash, f"/chats/{chat_id}/messages/{message_id}"),
            json={"rating": rating},
            headers={"X-Chat-Token": token},
            authenticate=False,
        )

    def finish(self, hash: str, chat_id: int, token: str) -> JSON:
        return self._client.request(
            "POST",
            self._at(hash, f"/chats/{chat_id}/finish"),
            headers={"X-Chat-Token": token},
            authenticate=False,
        )


class Chat(Resource):
    """Chatbots (``client.chat``): ``use_cases``, ``knowledge``, ``chats``, ``widget``,
    and :meth:`aichat` and :meth:`tokens` here."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.use_cases = ChatUseCases(client)
        self.knowledge = ChatKnowledge(client)
        self.chats = Chats(client)
        self.widget = ChatWidget(client)

    def aichat(
        self,
        prompt: str | Sequence[Mapping[str, str]],
        *,
        max_tokens: int = 4000,
        provider_id: int | None = None,
    ) -> JSON:
        """A completion of ``prompt`` (text, or ``[{role, content}]``) by a provider:
        ``{completion, tokens: {prompt, completion, total, counted_by}, engine}``."""
        body = _body(
            prompt=prompt if isinstance(prompt, str) else [dict(m) for m in prompt],
            max_tokens=max_tokens,
            provider_id=provider_id,
        )
        return self._client.request("POST", "/chat/aichat", json=body)

    def count_tokens(self, prompt: str | Sequence[Mapping[str, str]]) -> JSON:
        """Only the prompt's tokens, offline: ``{tokens: {prompt, counted_by}}``."""
        body = {
            "prompt": prompt if isinstance(prompt, str) else [dict(m) for m in prompt],
            "tokens": True,
        }
        return self._client.request("POST", "/chat/aichat", json=body)

    def tokens(self, *, start: Any = None, end: Any = None) -> JSON:
        """Totals: the organization's, per use case, per day (``from``/``to``)."""
        return self._client.request("GET", "/chat/tokens", params={"from": start, "to": end})
