"""A streamed chat completion from an organization's OpenAI-compatible provider.

The same checks as :func:`augury.analytics.providers.complete` (the address resolved and
checked, the connection made to the checked address, no redirects, the key decrypted
only here and scrubbed from errors, the whole call bounded by the provider's
``timeout_s``), with ``stream: true``: the reply comes as server-sent events, one
``data: {json}`` line per piece, ``data: [DONE]`` last, and with
``stream_options.include_usage`` the provider's own token counts in the final chunk.
Raises :class:`~augury.analytics.providers.ProviderFailed`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx

from augury.analytics import providers
from augury.analytics.models import AIProvider
from augury.analytics.providers import ProviderFailed
from augury.config import Settings

MAX_REPLY_CHARS = 200_000
_ERROR_CHARS = 300


@dataclass
class Usage:
    prompt: int
    completion: int


@dataclass
class Target:
    """What a call needs of a provider, read while a session was open (the call itself
    holds none)."""

    provider_id: int
    name: str
    base_url: str
    model: str
    api_key: str | None
    timeout_s: float
    allowed: Sequence[str]


def target(settings: Settings, provider: AIProvider) -> Target:
    """The provider's call settings, its key decrypted (raises ``ProviderFailed``)."""
    key = (
        None
        if provider.api_key_encrypted is None
        else providers.decrypt_key(settings, provider.api_key_encrypted)
    )
    return Target(
        provider.id,
        provider.name,
        provider.base_url,
        provider.model,
        key,
        provider.timeout_s,
        tuple(settings.analytics.allowed_private_networks),
    )


def stream(
    t: Target, messages: list[dict], *, temperature: float, max_tokens: int
) -> Iterator[str | Usage]:
    """The reply's text pieces as they come, then its :class:`Usage` when the provider
    reports one."""
    body = {
        "model": t.model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with providers.post(
        t.base_url,
        body,
        api_key=t.api_key,
        timeout_s=t.timeout_s,
        allowed=t.allowed,
        accept="text/event-stream",
    ) as sent:
        yield from _events(sent.response, t, sent.deadline)


def _events(response: httpx.Response, t: Target, deadline: float) -> Iterator[str | Usage]:
    if not 200 <= response.status_code < 300:
        raw = response.read()[:4000].decode("utf-8", "replace")
        snippet = " ".join(providers.scrub(raw, t.api_key).split())[:_ERROR_CHARS]
        raise ProviderFailed("http_error", f"HTTP {response.status_code}: {snippet}".rstrip(": "))
    kind = response.headers.get("content-type", "")
    if "text/event-stream" not in kind:
        # A provider that ignores ``stream``: one JSON completion.
        raw = response.read()[: providers.MAX_REPLY_BYTES].decode("utf-8", "replace")
        yield providers.content(raw)
        usage = _usage(raw)
        if usage is not None:
            yield usage
        return
    size = 0
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout(f"over {t.timeout_s:g} s")
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise ProviderFailed("bad_reply", "a streamed chunk is not JSON") from exc
        if not isinstance(chunk, dict):
            raise ProviderFailed("bad_reply", "a streamed chunk is not a completion chunk")
        if "error" in chunk:
            message = providers.scrub(json.dumps(chunk["error"])[:_ERROR_CHARS], t.api_key)
            raise ProviderFailed("http_error", f"the provider failed mid-answer: {message}")
        for choice in chunk.get("choices") or []:
            piece = ((choice or {}).get("delta") or {}).get("content")
            if isinstance(piece, str) and piece:
                size += len(piece)
                if size > MAX_REPLY_CHARS:
                    raise ProviderFailed("bad_reply", f"the reply is over {MAX_REPLY_CHARS} chars")
                yield piece
        usage = _usage_of(chunk)
        if usage is not None:
            yield usage


def _usage(raw: str) -> Usage | None:
    try:
        return _usage_of(json.loads(raw))
    except ValueError:
        return None


def _usage_of(chunk: object) -> Usage | None:
    usage = chunk.get("usage") if isinstance(chunk, dict) else None
    if not isinstance(usage, dict):
        return None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if isinstance(prompt, int) and isinstance(completion, int):
        return Usage(prompt, completion)
    return None
