"""Annotator agreement: Cohen's kappa for two raters, Fleiss' kappa for more.

Several people labeling the same documents show how clear the classes are: raw
agreement flatters a project where one class dominates (two people who both answer
"positive" 90 % of the time agree 82 % by chance), so kappa subtracts the agreement
their label frequencies predict, ``(p_o - p_e) / (1 - p_e)``: 1 is perfect, 0 is chance.

* :func:`cohen_kappa`: two raters, each with their own label frequencies (Cohen 1960);
* :func:`fleiss_kappa`: any number of raters per item, pooled frequencies (Fleiss 1971).
  Every item must have the same number of ratings; items with fewer are left out and
  counted in ``left_out``;
* :func:`agreement`: ratings as ``{item: {rater: category}}``, Cohen for two raters,
  Fleiss for more;
* :func:`multilabel_agreement`: tags where a rater gives each item a set of labels; each
  label is a yes/no question with its own kappa, and their mean sums them up.

Kappa is undefined (None) when chance agreement is certain: every rating is the same
one category, so agreement is 1.0 but says nothing about the raters. It is also None
with no items to compare.

References: Cohen, J. (1960), A coefficient of agreement for nominal scales,
*Educational and Psychological Measurement* 20, 37-46; Fleiss, J. L. (1971), Measuring
nominal scale agreement among many raters, *Psychological Bulletin* 76, 378-382.

>>> ratings = {1: {"ann": "pos", "bob": "pos"}, 2: {"ann": "neg", "bob": "neg"},
...            3: {"ann": "pos", "bob": "neg"}, 4: {"ann": "neg"}}
>>> a = agreement(ratings)
>>> a.method, a.items, a.left_out, round(a.percent_agreement, 3), round(a.kappa, 3)
('cohen', 3, 1, 0.667, 0.4)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Agreement",
    "MultiLabelAgreement",
    "agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "multilabel_agreement",
]


@dataclass(frozen=True)
class Agreement:
    """How far raters agree on a set of items.

    ``kappa`` is None where it is undefined (no items, or a single category used by
    everyone). ``percent_agreement`` is the raw share of agreeing pairs of ratings,
    0 to 1 (None with no items); ``expected_agreement`` the share chance predicts.
    ``items`` were compared; ``left_out`` had ratings but too few (one rater only, or
    fewer than ``raters`` for Fleiss). ``raters`` is the ratings per compared item.
    """

    method: str
    kappa: float | None
    percent_agreement: float | None
    expected_agreement: float | None
    items: int
    left_out: int
    raters: int


@dataclass(frozen=True)
class MultiLabelAgreement:
    """Per-label yes/no agreement on multi-label tags, and its mean over the labels
    whose kappa is defined (a label nobody used has none)."""

    kappa: float | None
    percent_agreement: float | None
    items: int
    left_out: int
    per_label: dict[Hashable, Agreement] = field(default_factory=dict)


def cohen_kappa(first: Sequence[Hashable | None], second: Sequence[Hashable | None]) -> Agreement:
    """Cohen's kappa of two raters' categories for the same items, position by position.

    None means the rater did not rate that item; items either rater left out are not
    compared (those the other rated count in ``left_out``).

    >>> k = cohen_kappa(["a", "a", "b", None], ["a", "b", "b", "b"])
    >>> k.items, k.left_out, round(k.kappa, 3)
    (3, 1, 0.4)
    """
    if len(first) != len(second):
        raise ValueError(f"the raters rated {len(first)} and {len(second)} items, not the same")
    pairs = [(a, b) for a, b in zip(first, second, strict=True) if a is not None and b is not None]
    left_out = sum(1 for a, b in zip(first, second, strict=True) if (a is None) != (b is None))
    n = len(pairs)
    if n == 0:
        return Agreement("cohen", None, None, None, 0, left_out, 2)
    observed = sum(1 for a, b in pairs if a == b) / n
    count_a = Counter(a for a, _ in pairs)
    count_b = Counter(b for _, b in pairs)
    expected = sum(count_a[c] * count_b[c] for c in count_a) / (n * n)
    kappa = _kappa(observed, expected, count_a, count_b)
    return Agreement("cohen", kappa, observed, expected, n, left_out, raters=2)


def fleiss_kappa(
    items: Iterable[Iterable[Hashable | None]], *, raters: int | None = None
) -> Agreement:
    """Fleiss' kappa over items each rated by ``raters`` people (not necessarily the
    same people), given as each item's list of categories; None ratings are ignored.

    ``raters`` defaults to the most ratings any item has; items with another number of
    ratings are left out and counted.

    >>> k = fleiss_kappa([["a", "a", "a"], ["a", "a", "b"], ["b", "b", "b"], ["a"]])
    >>> k.items, k.left_out, k.raters, round(k.kappa, 3)
    (3, 1, 3, 0.55)
    """
    rated = [[r for r in item if r is not None] for item in items]
    rated = [item for item in rated if item]
    n = raters if raters is not None else max((len(item) for item in rated), default=0)
    kept = [item for item in rated if len(item) == n] if n >= 2 else []
    left_out = len(rated) - len(kept)
    if not kept:
        return Agreement("fleiss", None, None, None, 0, left_out, n)
    totals: Counter[Hashable] = Counter()
    agreeing_pairs = 0
    for item in kept:
        counts = Counter(item)
        totals.update(counts)
        agreeing_pairs += sum(c * (c - 1) for c in counts.values())
    observed = agreeing_pairs / (len(kept) * n * (n - 1))
    ratings = len(kept) * n
    expected = sum((t / ratings) ** 2 for t in totals.values())
    kappa = _kappa(observed, expected, totals)
    return Agreement("fleiss", kappa, observed, expected, len(kept), left_out, raters=n)


def agreement(ratings: Mapping[Hashable, Mapping[Hashable, Hashable | None]]) -> Agreement:
    """Agreement of ``{item: {rater: category}}``: Cohen's kappa when two people rated,
    Fleiss' kappa (items with fewer ratings than the most any item has left out) when
    more did. A None category means not rated."""
    raters = sorted({r for by in ratings.values() for r, c in by.items() if c is not None}, key=str)
    if len(raters) == 2:
        first, second = raters
        keys = list(ratings)
        return cohen_kappa(
            [ratings[k].get(first) for k in keys], [ratings[k].get(second) for k in keys]
        )
    return fleiss_kappa(by.values() for by in ratings.values())


def multilabel_agreement(
    ratings: Mapping[Hashable, Mapping[Hashable, Iterable[Hashable] | None]],
    labels: Iterable[Hashable] | None = None,
) -> MultiLabelAgreement:
    """Agreement on multi-label tags ``{item: {rater: labels}}``: each label's kappa as a
    yes/no category (did the rater give it?), and the mean of the defined ones.

    An empty set of labels is a rating (none apply); None means not rated. ``labels``
    defaults to every label someone gave.

    >>> tags = {1: {"ann": {"food", "price"}, "bob": {"food"}},
    ...         2: {"ann": {"staff"}, "bob": {"staff"}},
    ...         3: {"ann": set(), "bob": {"price"}}}
    >>> m = multilabel_agreement(tags)
    >>> round(m.per_label["food"].kappa, 3), round(m.per_label["price"].kappa, 3), round(m.kappa, 3)
    (1.0, -0.5, 0.5)
    """
    given = {
        item: {rater: frozenset(tags) for rater, tags in by.items() if tags is not None}
        for item, by in ratings.items()
    }
    if labels is None:
        labels = sorted({t for by in given.values() for tags in by.values() for t in tags}, key=str)
    per_label = {
        label: agreement(
            {
                item: {rater: label in tags for rater, tags in by.items()}
                for item, by in given.items()
            }
        )
        for label in labels
    }
    kappas = [a.kappa for a in per_label.values() if a.kappa is not None]
    percents = [a.percent_agreement for a in per_label.values() if a.percent_agreement is not None]
    first = next(iter(per_label.values()), None)
    return MultiLabelAgreement(
        kappa=sum(kappas) / len(kappas) if kappas else None,
        percent_agreement=sum(percents) / len(percents) if percents else None,
        items=first.items if first else 0,
        left_out=first.left_out if first else 0,
        per_label=per_label,
    )


def _kappa(observed: float, expected: float, *counts: Counter[Hashable]) -> float | None:
    """Kappa, or None when chance agreement is certain (one category for everyone)."""
    categories = set().union(*counts)
    if len(categories) < 2:
        return None
    return (observed - expected) / (1 - expected)
