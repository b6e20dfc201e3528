"""Knowledge cut into passages: the pieces retrieval finds and a prompt quotes.

A passage must make sense alone (a person reading it, or a model quoting it), so cuts
follow the text's own structure: a heading starts a new passage (and is kept at its
top, the context of every passage of its section), paragraphs are packed together while
they fit, and a paragraph that does not fit is cut between sentences
(:func:`augury.engines.text.segment.split`), never inside one, unless a single sentence
is longer than a passage, which is then cut between words. Consecutive passages of a
section share ``overlap_sentences`` sentences, so an answer that straddles a cut is
still whole in one of them.

Sizes are in tokens of :mod:`.tokens` (Llama 2's tokenizer). The title of the knowledge
piece is not repeated in the passages (the index and the prompt carry it beside each
one), but its tokens are kept out of ``max_tokens``: title and passage fit together.
All sentences are tokenized in one batch and segmentation is linear, so 100,000 words
take a fraction of a second.

>>> text = "# Opening hours\\nWe open at 9. We close at 18.\\n\\n# Returns\\nReturns take 30 days."
>>> [(p.seq, p.text) for p in passages("Shop", text)]
[(0, 'Opening hours\\nWe open at 9. We close at 18.'), (1, 'Returns\\nReturns take 30 days.')]
>>> text = "We open at nine every day. Returns take thirty days. Parking is free for all."
>>> for piece in passages("", text, max_tokens=16):
...     print(piece.seq, piece.tokens, piece.text)
0 12 We open at nine every day. Returns take thirty days.
1 12 Returns take thirty days. Parking is free for all.
>>> rows_as_text(["city", "price"], [["Paris", 3.5], ["Rome", None]])
'city: Paris; price: 3.5\\n\\ncity: Rome'
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..text.segment import split
from . import tokens as _tokens

__all__ = ["Piece", "passages", "rows_as_text"]

MIN_TOKENS = 16
"""The least room a passage gets, whatever the title takes."""

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_PARAGRAPH_BREAK = 2
"""Tokens of the blank line between two paragraphs of a passage (two ``<0x0A>``)."""
_END_PUNCT = ".!?:;,。！？…)\"'”’"


@dataclass(frozen=True, slots=True)
class Piece:
    """One passage: its ``text``, its size in ``tokens`` and its place ``seq`` (0, 1, ...)
    in the knowledge piece."""

    text: str
    tokens: int
    seq: int


@dataclass(slots=True)
class _Unit:
    text: str
    tokens: int


def _short_line(para: str) -> bool:
    """One line of at most 80 characters, with no end punctuation and no ``;`` (a
    table row written by :func:`rows_as_text` is not a title)."""
    return "\n" not in para and len(para) <= 80 and para[-1] not in _END_PUNCT and ";" not in para


def _blocks(text: str) -> list[tuple[str, str]]:
    """``("heading", text)`` and ``("para", text)`` in order: markdown headings (``#``
    lines), and a title line of a plain-text document: a short line (:func:`_short_line`)
    followed by a paragraph that is not one (a run of short lines is a list, not
    titles)."""
    out: list[tuple[str, str]] = []
    paragraphs = [text[a:b] for a, b in split(text, mode="paragraph")]
    short = [_short_line(p) for p in paragraphs]
    for i, para in enumerate(paragraphs):
        lines = para.split("\n")
        if not any(_HEADING.match(line) for line in lines):
            is_title = (
                short[i]
                and i + 1 < len(paragraphs)
                and not short[i + 1]
                and not (i > 0 and short[i - 1])
            )
            out.append(("heading" if is_title else "para", para))
            continue
        body: list[str] = []
        for line in lines:
            match = _HEADING.match(line)
            if match:
                if body:
                    out.append(("para", "\n".join(body).strip()))
                    body = []
                if match.group(1):
                    out.append(("heading", match.group(1)))
            else:
                body.append(line)
        if "\n".join(body).strip():
            out.append(("para", "\n".join(body).strip()))
    return out


def _word_cuts(sentence: str, limit: int) -> list[_Unit]:
    """A sentence longer than ``limit`` tokens, cut between words into parts of at most
    ``limit`` tokens (between tokens where a single word is longer still)."""
    encoding = _tokens.encode(sentence)
    pieces, offsets = encoding.tokens, encoding.offsets
    out: list[_Unit] = []
    start = 0
    n = len(pieces)
    while start < n:
        stop = min(start + limit, n)
        if stop < n:
            # Back up to the start of a word (a piece that opens with "▁").
            back = stop
            while back > start + 1 and not pieces[back].startswith("▁"):
                back -= 1
            if back > start + 1:
                stop = back
        a = offsets[start][0]
        b = offsets[stop][0] if stop < n else len(sentence)
        part = sentence[a:b].strip()
        if part:
            out.append(_Unit(part, stop - start))
        start = stop
    return out


def passages(
    title: str, text: str, max_tokens: int = 180, overlap_sentences: int = 1
) -> list[Piece]:
    """``text`` cut into passages of at most ``max_tokens`` tokens (title included, see
    the module), headings first, then paragraphs, sentences and, for a sentence longer
    than a passage, words."""
    if not text or not text.strip():
        return []
    limit = max(MIN_TOKENS, max_tokens - (_tokens.count(title) if title else 0))
    overlap = max(0, overlap_sentences)

    # Every sentence of every block, tokenized in one batch.
    sections: list[tuple[str, list[list[str]]]] = []
    heading = ""
    current: list[list[str]] = []
    for kind, block in _blocks(text):
        if kind == "heading":
            if current or heading:
                sections.append((heading, current))
            heading, current = block, []
        else:
            sentences = [" ".join(block[a:b].split()) for a, b in split(block)]
            current.append([s for s in sentences if s])
    if current or heading:
        sections.append((heading, current))

    flat = [s for _, paras in sections for para in paras for s in para]
    flat += [h for h, _ in sections if h]
    encoded = _tokens.tokenizer().encode_batch(flat, add_special_tokens=False) if flat else []
    sizes = {s: len(e.ids) for s, e in zip(flat, encoded, strict=True)}

    out: list[str] = []
    for heading, paras in sections:
        head = _Unit(heading, sizes[heading]) if heading else None
        room = limit - (head.tokens + 1 if head else 0)
        if room < MIN_TOKENS // 2:  # a heading longer than a passage: cut it too
            head, room = None, limit
        units: list[tuple[int, _Unit]] = []  # (paragraph number, unit)
        for p, para in enumerate(paras):
            for sentence in para:
                size = sizes[sentence]
                if size > room:
                    units.extend((p, u) for u in _word_cuts(sentence, room))
                else:
                    units.append((p, _Unit(sentence, size)))
        if not units:
            if head:
                out.append(head.text)
            continue
        out.extend(_pack(units, head, room, overlap))
    texts = [t for t in out if t.strip()]
    counts = (
        [len(e.ids) for e in _tokens.tokenizer().encode_batch(texts, add_special_tokens=False)]
        if texts
        else []
    )
    return [Piece(t, c, i) for i, (t, c) in enumerate(zip(texts, counts, strict=True))]


def _pack(units: list[tuple[int, _Unit]], head: _Unit | None, room: int, overlap: int) -> list[str]:
    """Sentences packed greedily into passages of at most ``room`` tokens; a passage
    after a cut starts with the last ``overlap`` sentences of the one before (when they
    leave room for a new one)."""
    out: list[str] = []
    chosen: list[tuple[int, _Unit]] = []
    used = 0
    fresh = 0  # sentences in ``chosen`` that no earlier passage holds

    def emit() -> None:
        body = ""
        for k, (p, unit) in enumerate(chosen):
            if k and p != chosen[k - 1][0]:
                body += "\n\n"
            elif k:
                body += " "
            body += unit.text
        out.append(f"{head.text}\n{body}" if head else body)

    for p, unit in units:
        cost = unit.tokens + (_PARAGRAPH_BREAK if chosen and chosen[-1][0] != p else 0)
        if chosen and used + cost > room:
            emit()
            keep = chosen[-overlap:] if overlap else []
            kept = _size(keep)
            while keep and kept + unit.tokens + _PARAGRAPH_BREAK > room:
                keep = keep[1:]
                kept = _size(keep)
            chosen, used, fresh = list(keep), kept, 0
            cost = unit.tokens + (_PARAGRAPH_BREAK if chosen and chosen[-1][0] != p else 0)
        chosen.append((p, unit))
        used += cost
        fresh += 1
    if chosen and fresh:
        emit()
    return out


def _size(units: list[tuple[int, _Unit]]) -> int:
    """Tokens of sentences joined as a passage joins them."""
    breaks = sum(1 for k in range(1, len(units)) if units[k][0] != units[k - 1][0])
    return sum(u.tokens for _, u in units) + _PARAGRAPH_BREAK * breaks


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    return " ".join(str(value).split())


def rows_as_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A table's rows as text a passage can hold: ``col: value; col: value`` a row,
    rows apart by blank lines (each its own paragraph, so never split between passages
    unless one row is longer than a passage); empty and missing cells are left out."""
    lines = []
    for row in rows:
        cells = [
            f"{' '.join(str(c).split())}: {v}"
            for c, v in zip(columns, (_cell(x) for x in row), strict=False)
            if v != ""
        ]
        if cells:
            lines.append("; ".join(cells))
    return "\n\n".join(lines)
