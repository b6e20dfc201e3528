"""Token counts, offline: Llama 2's tokenizer, which wordllama's wheel ships.

A chatbot's knowledge, its messages and every ``POST /chat/aichat`` prompt are counted
in tokens (Anaimo's Tokens). Providers count with their own tokenizers, which we cannot
download, so augury counts with one it already installs: the 32,000-piece
SentencePiece BPE of Llama 2, the tokenizer of the built-in embedder
(``wordllama/tokenizers/l2_supercat_tokenizer_config.json``). Its counts estimate a
provider's, they are not the same number: a 32,000-piece vocabulary generally cuts text
into more pieces than the 100,000 to 200,000 of recent OpenAI models (a safe side for
budgets). When a provider reports its usage, that count is the one to store.
:data:`TOKENIZER_NAME` is written next to every count so a reader knows which tokenizer
made it.

The tokenizer loads once per process (~50 ms) under a lock; after that it is only read,
and the Rust tokenizer is safe to share between threads.

>>> count("Hello world, héllo!")
7
>>> count("")
0
>>> truncate("one two three four five", 3)
'one two three'
>>> count_messages([{"role": "user", "content": "Hello world"}]) == 2 + PER_MESSAGE + REPLY_PRIMING
True
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "PER_MESSAGE",
    "REPLY_PRIMING",
    "TOKENIZER_NAME",
    "count",
    "count_messages",
    "encode",
    "tokenizer",
    "truncate",
]

TOKENIZER_NAME = "llama2-sentencepiece (wordllama l2_supercat)"
"""The tokenizer behind every count here, as stored beside counts (``counted_by``)."""

PER_MESSAGE = 4
"""Tokens a chat message costs beyond its content: the role's name and the markers
around it in a chat template (ChatML writes ``<|im_start|>user\\n … <|im_end|>\\n``:
four pieces besides the content; OpenAI's own guide counts 3 or 4)."""

REPLY_PRIMING = 3
"""Tokens that open the model's reply (``<|im_start|>assistant\\n``), once per request."""

_CONFIG = "tokenizers/l2_supercat_tokenizer_config.json"
_lock = threading.Lock()


_loaded: list[Any] = []


def tokenizer() -> Any:
    """The ``tokenizers.Tokenizer``, loaded once from wordllama's package folder (the
    first callers wait on a lock; later ones read it without one)."""
    if _loaded:
        return _loaded[0]
    with _lock:
        if not _loaded:
            import tokenizers
            import wordllama

            path = Path(wordllama.__file__).parent / _CONFIG
            tok = tokenizers.Tokenizer.from_file(str(path))
            tok.no_padding()
            tok.no_truncation()
            _loaded.append(tok)
    return _loaded[0]


def encode(text: str) -> Any:
    """The tokenizer's ``Encoding`` of ``text`` (ids, pieces, character offsets), with
    no special tokens (no ``<s>``)."""
    return tokenizer().encode(text, add_special_tokens=False)


def count(text: str) -> int:
    """How many tokens ``text`` is (no special tokens)."""
    if not text:
        return 0
    return len(encode(text).ids)


def _content_text(content: Any) -> str:
    """A message's content as text: a string, or OpenAI's list of parts (the ``text``
    of each text part; images and other parts are not counted)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return str(content)


def count_messages(messages: list[dict[str, Any]]) -> int:
    """Tokens of a chat request: each message's content plus :data:`PER_MESSAGE`, and
    :data:`REPLY_PRIMING` once (0 for no messages). A ``name`` field counts its tokens."""
    if not messages:
        return 0
    total = REPLY_PRIMING
    for message in messages:
        total += PER_MESSAGE + count(_content_text(message.get("content")))
        name = message.get("name")
        if isinstance(name, str) and name:
            total += count(name)
    return total


def truncate(text: str, max_tokens: int) -> str:
    """The longest start of ``text`` that is at most ``max_tokens`` tokens, cut where a
    token ends (a character is never split; trailing spaces are dropped)."""
    if max_tokens <= 0 or not text:
        return ""
    encoding = encode(text)
    if len(encoding.ids) <= max_tokens:
        return text
    end = encoding.offsets[max_tokens - 1][1]
    # Byte-fallback pieces of one character share its offsets: never keep half of it.
    following = encoding.offsets[max_tokens][0]
    if following < end:
        end = encoding.offsets[max_tokens][0]
    return text[:end].rstrip()
