"""The offline answer: the knowledge's own sentences that best answer a question.

Without a language model (no provider configured, or the provider failing), a chatbot
still answers from its knowledge: it takes the sentences of the best passages that
share the most of the question's content words (:func:`.retrieve.terms`, weighted by
how rare they are among those passages), prefers a passage's earlier sentences and
better-ranked passages, and writes at most :data:`MAX_SENTENCES` of them, in their
passages' order, each followed by the number of its source (``[1]`` is the first of
:attr:`Answer.sources`). It never writes a word the knowledge does not hold.

Below ``min_confidence``, a strict use case says it does not know (:data:`DONT_KNOW`)
and offers a person instead of guessing; a lenient one still answers, marked
``known=False``.

>>> texts = ["Returns\\nYou can return an item within 30 days. Shoes must be unworn.",
...          "The shop opens at 9 am."]
>>> a = compose("How many days do I have to return an item?", [(0, 0.03), (1, 0.01)],
...             texts, ["Help", "Hours"], min_confidence=0.3, strict=True, confidence=0.8)
>>> a.text, a.sources, a.known
('You can return an item within 30 days. [1]', [0], True)
>>> compose("Who is the president?", [], texts, None, 0.3).text == DONT_KNOW
True
>>> list(stream_pieces("Hello there, friend."))
['Hello', ' there,', ' friend.']
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ..text.segment import split
from .retrieve import CONFIDENCE, CONFIDENCE_LEXICAL, Hit, terms

__all__ = ["DONT_KNOW", "MAX_SENTENCES", "Answer", "compose", "stream_pieces"]

DONT_KNOW = (
    "I'm sorry, I don't know the answer to that from the information I have. "
    "Would you like me to put you in touch with a person?"
)
"""What a strict chatbot says when its knowledge does not answer the question."""
MAX_SENTENCES = 3
"""The most sentences an offline answer quotes."""
MAX_PASSAGES = 3
"""How many of the best passages the sentences are taken from."""
MAX_SENTENCE_CHARS = 600
"""A longer "sentence" (a table row, a run-on list) is cut at a word near this length."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The offline answer: its ``text``, the passage indexes it quotes (``sources``, in
    citation order: ``[1]`` is the first), the ``confidence`` it was decided on, and
    whether the knowledge answers the question (``known``)."""

    text: str
    sources: list[int] = field(default_factory=list)
    confidence: float = 0.0
    known: bool = False


@dataclass(slots=True)
class _Sentence:
    passage: int  # the passage's index
    rank: int  # the passage's rank among the hits (0 is the best)
    position: int  # the sentence's place in its passage
    text: str
    score: float = 0.0


def _index_of(hit: Hit | tuple[int, float] | int) -> int:
    if isinstance(hit, Hit):
        return hit.index
    if isinstance(hit, tuple):
        return int(hit[0])
    return int(hit)


def _estimate(question: str, hits: Sequence[object], best_text: str) -> float:
    """A confidence when the caller has none: the lexical formula of
    :meth:`.retrieve.Index.confidence` on unweighted coverage (the passages' IDF is not
    known here), raised to the semantic formula's when the best hit carries a cosine."""
    asked = set(terms(question))
    if not asked:
        return 0.0
    cover = len(asked & set(terms(best_text))) / len(asked)
    best = hits[0]
    if isinstance(best, Hit) and best.semantic is not None:
        c = CONFIDENCE
        x = c["semantic"] * best.semantic + c["coverage"] * cover + c["bias"]
    else:
        x = CONFIDENCE_LEXICAL["coverage"] * cover + CONFIDENCE_LEXICAL["bias"]
    return round(1.0 / (1.0 + math.exp(-x)), 4)


def _sentences(text: str) -> list[str]:
    """A passage's sentences, without its heading line (a chunk's first line when it
    has no end mark and more follows)."""
    lines = text.split("\n", 1)
    if len(lines) == 2 and lines[0].strip() and lines[0].strip()[-1] not in ".!?:;。！？":
        text = lines[1]
    out = []
    for a, b in split(text):
        sentence = " ".join(text[a:b].split())
        if len(sentence) > MAX_SENTENCE_CHARS:
            cut = sentence.rfind(" ", 0, MAX_SENTENCE_CHARS)
            sentence = sentence[: cut if cut > 0 else MAX_SENTENCE_CHARS] + " …"
        if sentence:
            out.append(sentence)
    return out


def _pick(question: str, chosen: list[tuple[int, str]]) -> list[_Sentence]:
    """The best sentences of the chosen passages, in their passages' order."""
    asked = Counter(terms(question))
    candidates: list[_Sentence] = []
    for rank, (index, text) in enumerate(chosen):
        for position, sentence in enumerate(_sentences(text)):
            candidates.append(_Sentence(index, rank, position, sentence))
    if not candidates:
        return []
    bags = [set(terms(c.text)) for c in candidates]
    # Rarer question words among these sentences weigh more (a local IDF).
    n = len(candidates)
    weight = {w: math.log(1 + n / (1 + sum(w in b for b in bags))) for w in asked}
    total = sum(weight.values()) or 1.0
    for c, bag in zip(candidates, bags, strict=True):
        overlap = sum(weight[w] for w in asked if w in bag) / total
        c.score = overlap - 0.03 * c.position - 0.08 * c.rank
    best = max(candidates, key=lambda c: c.score)
    picked = [best]
    for c in sorted(candidates, key=lambda c: -c.score):
        if len(picked) >= MAX_SENTENCES:
            break
        if c is best or c.score <= 0 or c.score < best.score * 0.6:
            continue
        picked.append(c)
    if len(picked) == 1 and best.position == 0:
        # A passage's opening sentence often needs the next one to make sense.
        follow = [c for c in candidates if c.passage == best.passage and c.position == 1]
        if follow and (len(best.text) < 30 or follow[0].score > 0):
            picked.append(follow[0])
    return sorted(picked, key=lambda c: (c.rank, c.position))


def compose(
    question: str,
    hits: Sequence[Hit | tuple[int, float] | int],
    passages: Sequence[str],
    titles: Sequence[str] | None,
    min_confidence: float,
    strict: bool = True,
    *,
    confidence: float | None = None,
) -> Answer:
    """The offline answer to ``question`` from the best ``hits`` (``Hit`` objects, or
    ``(index, score)`` pairs, best first) into ``passages`` (their texts; ``titles`` are
    not quoted). ``confidence`` is the retrieval's (:meth:`.retrieve.Index.confidence`);
    without it one is estimated from the best passage's words."""
    indexes = [i for i in (_index_of(h) for h in hits) if 0 <= i < len(passages)]
    if not indexes:
        return Answer(DONT_KNOW, [], 0.0, False)
    if confidence is None:
        confidence = _estimate(question, hits, passages[indexes[0]])
    confidence = min(1.0, max(0.0, float(confidence)))
    known = confidence >= min_confidence
    if strict and not known:
        return Answer(DONT_KNOW, [], confidence, False)
    picked = _pick(question, [(i, passages[i]) for i in indexes[:MAX_PASSAGES]])
    if not picked:
        return Answer(DONT_KNOW, [], confidence, False)
    sources: list[int] = []
    parts: list[str] = []
    for sentence in picked:
        if sentence.passage not in sources:
            sources.append(sentence.passage)
        parts.append(f"{sentence.text} [{sources.index(sentence.passage) + 1}]")
    # One citation after consecutive sentences of the same source.
    text = ""
    for k, part in enumerate(parts):
        same_next = k + 1 < len(picked) and picked[k + 1].passage == picked[k].passage
        text += (picked[k].text if same_next else part) + " "
    return Answer(text.strip(), sources, confidence, known)


_PIECE = re.compile(r"\s*\S+|\s+$")


def stream_pieces(text: str) -> Iterator[str]:
    """``text`` in word-sized pieces (each with the spaces before it) for streaming: the
    pieces joined are ``text``."""
    for match in _PIECE.finditer(text):
        yield match.group(0)
