"""agreement: Cohen's and Fleiss' kappa against worked examples, edge cases, multi-label."""

import pytest

from augury.engines.text.agreement import (
    agreement,
    cohen_kappa,
    fleiss_kappa,
    multilabel_agreement,
)

# Fleiss (1971), Table 1: 30 patients, each diagnosed by 6 psychiatrists into depression,
# personality disorder, schizophrenia, neurosis or other; the number choosing each.
FLEISS_1971 = [
    (0, 0, 0, 6, 0), (0, 3, 0, 0, 3), (0, 1, 4, 0, 1), (0, 0, 0, 0, 6), (0, 3, 0, 3, 0),
    (2, 0, 4, 0, 0), (0, 0, 4, 0, 2), (2, 0, 3, 1, 0), (2, 0, 0, 4, 0), (0, 0, 0, 0, 6),
    (1, 0, 0, 5, 0), (1, 1, 0, 4, 0), (0, 3, 3, 0, 0), (1, 0, 0, 5, 0), (0, 2, 0, 3, 1),
    (0, 0, 5, 0, 1), (3, 0, 0, 1, 2), (5, 1, 0, 0, 0), (0, 2, 0, 4, 0), (1, 0, 2, 0, 3),
    (0, 0, 0, 0, 6), (0, 1, 0, 5, 0), (0, 2, 0, 1, 3), (2, 0, 0, 4, 0), (1, 0, 0, 4, 1),
    (0, 5, 0, 1, 0), (4, 0, 0, 0, 2), (0, 2, 0, 4, 0), (1, 0, 5, 0, 0), (0, 0, 0, 0, 6),
]  # fmt: skip
DIAGNOSES = ("depression", "personality", "schizophrenia", "neurosis", "other")


def _ratings(counts):
    return [d for d, n in zip(DIAGNOSES, counts, strict=True) for _ in range(n)]


def test_fleiss_1971_table():
    # By hand: the squared counts of each row sum to 680 over the 30 rows, so
    #   P = (680 - 30*6) / (30*6*5) = 500/900 = 0.55556 (mean pairwise agreement);
    # the columns total 26, 26, 30, 55, 43 of 180 ratings, so
    #   Pe = (26² + 26² + 30² + 55² + 43²) / 180² = 7126/32400 = 0.21994;
    #   kappa = (0.55556 - 0.21994) / (1 - 0.21994) = 0.33562 / 0.78006 = 0.4302,
    # the .430 Fleiss reports.
    result = fleiss_kappa([_ratings(row) for row in FLEISS_1971])
    assert result.method == "fleiss"
    assert (result.items, result.left_out, result.raters) == (30, 0, 6)
    assert result.percent_agreement == pytest.approx(500 / 900)
    assert result.expected_agreement == pytest.approx(7126 / 32400)
    assert result.kappa == pytest.approx(0.4302, abs=5e-5)


def test_fleiss_leaves_out_and_counts_items_with_fewer_ratings():
    items = [_ratings(row) for row in FLEISS_1971]
    items += [["neurosis", "other"], ["other"], [None, None], []]
    result = fleiss_kappa(items)
    # The two items with one or two ratings are left out; the unrated ones are not items.
    assert (result.items, result.left_out) == (30, 2)
    assert result.kappa == pytest.approx(0.4302, abs=5e-5)


def test_fleiss_with_a_fixed_number_of_raters():
    # raters=2 keeps only the items rated twice: (a, a) and (a, b).
    # P = (1 + 0) / 2 = 0.5; a is 3 of 4 ratings, b 1: Pe = 9/16 + 1/16 = 0.625;
    # kappa = (0.5 - 0.625) / 0.375 = -1/3.
    result = fleiss_kappa([["a", "a"], ["a", "b"], ["a", "a", "a"]], raters=2)
    assert (result.items, result.left_out, result.raters) == (2, 1, 2)
    assert result.kappa == pytest.approx(-1 / 3)


def test_cohen_textbook_two_by_two():
    # 50 items: both yes 20, A yes / B no 5, A no / B yes 10, both no 15.
    #   p_o = (20 + 15) / 50 = 0.7
    #   A says yes 25/50 = 0.5, B 30/50 = 0.6: p_e = 0.5*0.6 + 0.5*0.4 = 0.5
    #   kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    result = cohen_kappa(a, b)
    assert (result.method, result.items, result.left_out, result.raters) == ("cohen", 50, 0, 2)
    assert result.percent_agreement == pytest.approx(0.7)
    assert result.expected_agreement == pytest.approx(0.5)
    assert result.kappa == pytest.approx(0.4)


def test_cohen_three_categories():
    # 100 items; rows are A, columns B:   x   y   z
    #                                  x  25   5   0   (30)
    #                                  y   5  30   5   (40)
    #                                  z   0   5  25   (30)
    #   p_o = 80/100 = 0.8; p_e = .3*.3 + .4*.4 + .3*.3 = 0.34
    #   kappa = (0.8 - 0.34) / 0.66 = 23/33 = 0.69697
    table = {("x", "x"): 25, ("x", "y"): 5, ("y", "x"): 5, ("y", "y"): 30, ("y", "z"): 5,
             ("z", "y"): 5, ("z", "z"): 25}  # fmt: skip
    pairs = [pair for pair, n in table.items() for _ in range(n)]
    result = cohen_kappa([a for a, _ in pairs], [b for _, b in pairs])
    assert result.kappa == pytest.approx(23 / 33)


def test_agreement_picks_cohen_for_two_raters_and_fleiss_for_more():
    two = {1: {"ann": "x", "bob": "x"}, 2: {"ann": "y", "bob": "x"}, 3: {"ann": "y"}}
    result = agreement(two)
    # Items 1 and 2: p_o = 1/2; ann x 1/2, bob x 2/2: p_e = 1/2*1 + 1/2*0 = 1/2; kappa 0.
    assert (result.method, result.items, result.left_out) == ("cohen", 2, 1)
    assert result.kappa == pytest.approx(0.0)

    three = {
        i: {f"r{j}": c for j, c in enumerate(_ratings(row))} for i, row in enumerate(FLEISS_1971)
    }
    result = agreement(three)
    assert (result.method, result.items, result.raters) == ("fleiss", 30, 6)
    assert result.kappa == pytest.approx(0.4302, abs=5e-5)


def test_none_ratings_are_not_ratings():
    result = agreement({1: {"ann": "x", "bob": None, "cy": "x"}, 2: {"ann": "y", "cy": "x"}})
    assert (result.method, result.items) == ("cohen", 2)


@pytest.mark.parametrize(
    "ratings",
    [
        {1: {"ann": "pos", "bob": "pos"}, 2: {"ann": "pos", "bob": "pos"}},
        {i: {"a": "pos", "b": "pos", "c": "pos"} for i in range(5)},
    ],
)
def test_everyone_agreeing_on_one_category_has_no_kappa(ratings):
    result = agreement(ratings)
    assert result.kappa is None
    assert result.percent_agreement == 1.0
    assert result.items == len(ratings)


def test_no_overlapping_items_has_no_kappa():
    result = agreement({1: {"ann": "x"}, 2: {"bob": "y"}, 3: {"ann": "y"}})
    assert (result.kappa, result.percent_agreement, result.items, result.left_out) == (
        None,
        None,
        0,
        3,
    )
    assert agreement({}).kappa is None
    assert cohen_kappa([], []).items == 0


def test_opposite_raters_have_negative_kappa():
    # p_o = 0; each says x half the time: p_e = 0.5; kappa = (0 - 0.5) / 0.5 = -1.
    assert cohen_kappa(["x", "y"], ["y", "x"]).kappa == pytest.approx(-1.0)


def test_cohen_needs_paired_ratings():
    with pytest.raises(ValueError, match="not the same"):
        cohen_kappa(["x"], ["x", "y"])


def test_multilabel_per_label_kappa_and_mean():
    tags = {
        1: {"ann": {"food", "price"}, "bob": {"food"}},
        2: {"ann": {"staff"}, "bob": {"staff"}},
        3: {"ann": set(), "bob": {"price"}},
        4: {"ann": {"food"}, "bob": None},
    }
    result = multilabel_agreement(tags, labels=["food", "price", "staff", "unused"])
    # food: (yes, yes), (no, no), (no, no): p_o = 1, p_e = 1/3*1/3 + 2/3*2/3 = 5/9, kappa 1.
    # price: (yes, no), (no, no), (no, yes): p_o = 1/3, p_e = 5/9,
    #   kappa = (1/3 - 5/9) / (4/9) = -0.5.
    # staff: like food, kappa 1. unused: all "no", kappa undefined, left out of the mean.
    assert result.per_label["food"].kappa == pytest.approx(1.0)
    assert result.per_label["price"].kappa == pytest.approx(-0.5)
    assert result.per_label["staff"].kappa == pytest.approx(1.0)
    assert result.per_label["unused"].kappa is None
    assert result.kappa == pytest.approx((1 - 0.5 + 1) / 3)
    # percent agreement: mean of 1, 1/3, 1 and 1 (unused: every pair agrees on "no").
    assert result.percent_agreement == pytest.approx((1 + 1 / 3 + 1 + 1) / 4)
    assert (result.items, result.left_out) == (3, 1)


def test_multilabel_without_tags():
    result = multilabel_agreement({})
    assert (result.kappa, result.percent_agreement, result.items, result.per_label) == (
        None,
        None,
        0,
        {},
    )
