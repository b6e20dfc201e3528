"""Which dimension values drive a grouped anomaly (Anodot's token map).

An anomaly groups the anomalous metrics of one measure (``what``); each metric carries
dimensions (``host=web-2``, ``region=eu``). A *token* is one ``key=value``. For every
token of the anomalous metrics this module measures:

- ``anomalous``: how many anomalous metrics carry it (Anodot's ``anomalyOccurrences``);
- ``total``: how many metrics of the measure carry it, anomalous or not
  (``totalOccurrences``), when the caller gives them all;
- ``share``: the part of the anomaly's total absolute deviation (``|delta|`` summed
  over its metrics) that its carriers account for;
- ``expected_share``: the part of the anomalous metrics' expected values (``|expected|``)
  its carriers make up: a token with 90% of the deviation and 10% of the expected
  volume is far more surprising than one with 90% of both;
- ``lift``: its frequency among the anomalous metrics over its frequency among all
  metrics of the measure (1: no more common among the anomalous ones than anywhere).

It then looks, greedily, for the most specific conjunction of tokens whose metrics still
account for at least ``cover`` (80%) of the deviation: at each step it adds the token
that narrows the matching metrics of the measure the most while the anomalous ones
carrying every chosen token keep ``cover`` of the deviation (ties: the larger share,
then key and value in alphabetical order); a token that narrows nothing is never added.
No token at all means the deviation is spread out, and the sentence says so.

Without the measure's other metrics, "narrows" can only be judged among the anomalous
metrics themselves, so a token all of them share is never a driver: give ``population``
whenever it is known.

Examples:
    >>> members = [
    ...     Member({"host": "web-2", "region": "eu"}, delta=9.0, expected=10.0),
    ...     Member({"host": "web-1", "region": "eu"}, delta=0.5, expected=10.0),
    ...     Member({"host": "web-3", "region": "us"}, delta=0.5, expected=10.0),
    ... ]
    >>> population = [m.dimensions for m in members] + [{"host": "web-4", "region": "us"}]
    >>> e = explain(members, population)
    >>> e.sentence
    'host=web-2 accounts for 90% of the deviation (1 of 4 metrics).'
    >>> [(t.token, round(t.share, 2), t.anomalous, t.total) for t in e.tokens[:2]]
    [('region=eu', 0.95, 2, 2), ('host=web-2', 0.9, 1, 1)]
    >>> explain([Member({"host": "a"}, 1.0, 5.0), Member({"host": "b"}, 1.0, 5.0)]).spread
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

COVER = 0.8
"""Share of the deviation the drivers must account for."""
MAX_TOKENS = 50
"""Tokens kept in the token map (the strongest; ``token_count`` says how many there were)."""


@dataclass(frozen=True)
class Member:
    """One anomalous metric of the anomaly: its dimensions and its deviation at its peak."""

    dimensions: Mapping[str, str]
    delta: float
    """Value minus expected at the peak."""
    expected: float = 0.0


@dataclass(frozen=True)
class Token:
    key: str
    value: str
    anomalous: int
    """Anomalous metrics carrying it."""
    total: int | None
    """Metrics of the measure carrying it (None: the measure's metrics were not given)."""
    share: float
    """Part (0-1) of the anomaly's absolute deviation its anomalous metrics account for."""
    expected_share: float | None
    """Part (0-1) of the anomalous metrics' absolute expected values (None if all are 0)."""
    lift: float | None
    """(anomalous / anomalous metrics) / (total / metrics of the measure)."""

    @property
    def token(self) -> str:
        return f"{self.key}={self.value}"


@dataclass(frozen=True)
class Explanation:
    sentence: str
    spread: bool
    """True when no conjunction of tokens accounts for ``cover`` of the deviation."""
    drivers: tuple[tuple[str, str], ...]
    """The conjunction, (key, value) in the order found (most narrowing first)."""
    share: float | None
    """Part of the deviation the anomalous metrics carrying every driver account for."""
    matched: int
    """Anomalous metrics carrying every driver (all of them when spread)."""
    matched_total: int | None
    """Metrics of the measure carrying every driver."""
    metrics: int
    """Anomalous metrics."""
    population: int | None
    """Metrics of the measure (None when not given)."""
    tokens: list[Token] = field(default_factory=list)
    """Strongest first: share, then anomalous count, then key and value."""
    token_count: int = 0
    """Distinct tokens of the anomalous metrics (``tokens`` keeps ``MAX_TOKENS``)."""


def _pct(x: float) -> int:
    """Whole percent, rounded down (so 0.999 is 99%, never a misleading 100%)."""
    return math.floor(100 * x + 1e-9)


def _metrics(n: int) -> str:
    return f"{n} metric" if n == 1 else f"{n} metrics"


def explain(
    members: Sequence[Member],
    population: Iterable[Mapping[str, str]] | None = None,
    *,
    cover: float = COVER,
    max_tokens: int = MAX_TOKENS,
) -> Explanation:
    """The token map and drivers of an anomaly made of ``members``.

    ``population``: the dimensions of every metric of the measure, anomalous or not
    (the anomalous ones included). Deterministic: the same input in any order gives the
    same answer.
    """
    if not 0 < cover <= 1:
        raise ValueError("cover must be in (0, 1]")
    n = len(members)
    weights = [abs(m.delta) if math.isfinite(m.delta) else 0.0 for m in members]
    total_w = math.fsum(weights)
    if total_w <= 0:  # no deviation to share out: every metric counts the same
        weights, total_w = [1.0] * n, float(n)
    expected = [abs(m.expected) if math.isfinite(m.expected) else 0.0 for m in members]
    total_e = math.fsum(expected)

    carriers: dict[tuple[str, str], set[int]] = {}
    for i, m in enumerate(members):
        for k, v in m.dimensions.items():
            carriers.setdefault((str(k), str(v)), set()).add(i)

    pop_index: dict[tuple[str, str], set[int]] | None = None
    pop_size: int | None = None
    if population is not None:
        pop_index = {}
        pop_size = 0
        for j, dims in enumerate(population):
            pop_size += 1
            for k, v in dims.items():
                tok = (str(k), str(v))
                if tok in carriers:  # only the anomalous metrics' tokens matter
                    pop_index.setdefault(tok, set()).add(j)
        pop_size = max(pop_size, n)

    def share_of(idx: Iterable[int]) -> float:
        return math.fsum(weights[i] for i in idx) / total_w if n else 0.0

    tokens = []
    for (k, v), idx in carriers.items():
        total = None
        lift = None
        if pop_index is not None and pop_size:
            total = max(len(pop_index.get((k, v), ())), len(idx))
            lift = (len(idx) / n) / (total / pop_size)
        tokens.append(
            Token(
                key=k,
                value=v,
                anomalous=len(idx),
                total=total,
                share=share_of(idx),
                expected_share=math.fsum(expected[i] for i in idx) / total_e if total_e else None,
                lift=lift,
            )
        )
    tokens.sort(key=lambda t: (-t.share, -t.anomalous, t.key, t.value))

    # Greedy conjunction: narrow the measure's metrics while keeping `cover`.
    def narrowed(chosen: list[tuple[str, str]]) -> int:
        if pop_index is None:
            return len(set.intersection(*(carriers[t] for t in chosen))) if chosen else n
        if not chosen:
            return pop_size or 0
        return len(set.intersection(*(pop_index.get(t, set()) for t in chosen)))

    chosen: list[tuple[str, str]] = []
    matched = set(range(n))
    width = narrowed(chosen)
    while True:
        best = None
        for tok, idx in carriers.items():
            if tok in chosen:
                continue
            inside = matched & idx
            if not inside:
                continue
            s = share_of(inside)
            if s + 1e-12 < cover:
                continue
            w = narrowed([*chosen, tok])
            if w >= width:
                continue
            rank = (w, -s, tok)
            if best is None or rank < best[0]:
                best = (rank, tok, inside, w)
        if best is None:
            break
        _, tok, matched, width = best
        chosen.append(tok)

    shown = tokens[:max_tokens]
    if chosen:
        share = share_of(matched)
        names = " and ".join(f"{k}={v}" for k, v in chosen)
        verb = "accounts" if len(chosen) == 1 else "account"
        out_of = pop_size if pop_size is not None else n
        sentence = (
            f"{names} {verb} for {_pct(share)}% of the deviation "
            f"({len(matched)} of {_metrics(out_of)})."
        )
        return Explanation(
            sentence=sentence,
            spread=False,
            drivers=tuple(chosen),
            share=share,
            matched=len(matched),
            matched_total=width if pop_index is not None else None,
            metrics=n,
            population=pop_size,
            tokens=shown,
            token_count=len(tokens),
        )

    if n == 0:
        sentence = "No metrics to explain."
    elif not tokens:
        sentence = (
            "Its metric has no dimensions to break the deviation down by."
            if n == 1
            else "Its metrics have no dimensions to break the deviation down by."
        )
    elif n == 1 and (pop_size is None or pop_size == 1):
        sentence = "The whole deviation is its only metric's: no other metric to compare with."
    else:
        top = tokens[0]
        every = pop_size is not None and pop_size == n and n > 1
        where = (
            f"all {n} metrics of the measure"
            if every
            else _metrics(n) + (f" of {pop_size}" if pop_size is not None else "")
        )
        if top.share + 1e-12 >= cover:  # large, but it does not single anything out
            aside = f"{top.token} has {_pct(top.share)}% but every metric carries it"
        else:
            aside = f"the largest, {top.token}, has {_pct(top.share)}%"
        sentence = (
            f"Spread across {where}: no dimension values single out the metrics behind "
            f"{_pct(cover)}% of the deviation ({aside})."
        )
    return Explanation(
        sentence=sentence,
        spread=True,
        drivers=(),
        share=None,
        matched=n,
        matched_total=pop_size,
        metrics=n,
        population=pop_size,
        tokens=shown,
        token_count=len(tokens),
    )
