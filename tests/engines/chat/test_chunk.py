"""chunk: knowledge into passages by headings, paragraphs, sentences, then words."""

import random

from augury.engines.chat import tokens
from augury.engines.chat.chunk import Piece, passages, rows_as_text

DOC = """# Returns

You may return any item within 30 days. The item must be unused. Refunds are paid to the
card used for the purchase.

# Shipping

Parcels leave our warehouse every weekday. Delivery takes three days in Europe.
"""


def test_headings_start_passages_and_stay_on_top():
    pieces = passages("Help", DOC)
    assert [p.seq for p in pieces] == [0, 1]
    assert pieces[0].text.startswith("Returns\n")
    assert pieces[1].text.startswith("Shipping\n")
    assert "Refunds are paid to the card used for the purchase." in pieces[0].text
    assert all(isinstance(p, Piece) and p.tokens == tokens.count(p.text) for p in pieces)


def test_cuts_fall_between_sentences_with_overlap():
    sentences = [f"Sentence number {i} talks about topic {i} at some length." for i in range(40)]
    pieces = passages("", " ".join(sentences), max_tokens=60, overlap_sentences=1)
    assert len(pieces) > 3
    for p in pieces:
        assert p.tokens <= 60
        # every passage is whole sentences
        assert p.text.endswith(".") and p.text.startswith("Sentence")
    # consecutive passages share one sentence
    for a, b in zip(pieces, pieces[1:], strict=False):
        assert a.text.split(". ")[-1].rstrip(".") == b.text.split(". ")[0]
    # nothing is lost
    joined = " ".join(p.text for p in pieces)
    assert all(s in joined for s in sentences)


def test_without_overlap_passages_share_nothing():
    sentences = [f"Fact {i} is written here in full." for i in range(30)]
    pieces = passages("", " ".join(sentences), max_tokens=40, overlap_sentences=0)
    assert " ".join(p.text for p in pieces) == " ".join(sentences)


def test_a_sentence_longer_than_a_passage_is_cut_between_words():
    words = [f"word{i}" for i in range(400)]
    pieces = passages("", " ".join(words), max_tokens=50)
    assert len(pieces) > 1
    assert all(p.tokens <= 50 for p in pieces)
    assert " ".join(p.text for p in pieces).split() == words


def test_the_title_is_kept_out_of_the_budget():
    text = " ".join(f"Sentence {i} is here." for i in range(50))
    title = "A rather long title for this piece of knowledge"
    for p in passages(title, text, max_tokens=60):
        assert p.tokens + tokens.count(title) <= 60


def test_empty_text_has_no_passages():
    assert passages("Title", "") == []
    assert passages("Title", "   \n\n ") == []


def test_a_very_large_text_is_chunked():
    rng = random.Random(0)
    vocab = "the card payment refund parcel arrives late week store opening hour price"
    vocab = vocab.split()
    paragraphs = []
    for _ in range(1000):
        sentences = [
            " ".join(rng.choice(vocab) for _ in range(rng.randint(6, 24))).capitalize() + "."
            for _ in range(rng.randint(3, 7))
        ]
        paragraphs.append(" ".join(sentences))
    text = "\n\n".join(paragraphs)
    assert len(text.split()) >= 60_000
    text = text + "\n\n" + " ".join(["extra"] * (100_000 - len(text.split())))
    pieces = passages("Big", text)
    assert len(pieces) > 300
    assert max(p.tokens for p in pieces) <= 180


def test_rows_as_text():
    text = rows_as_text(
        ["Product", "Price", "Stock"], [["Tea", 4.5, 10.0], ["Coffee", float("nan"), None]]
    )
    assert text == "Product: Tea; Price: 4.5; Stock: 10\n\nProduct: Coffee"
    pieces = passages("Catalog", text)
    assert "Product: Tea; Price: 4.5; Stock: 10" in pieces[0].text


def test_plain_text_titles_but_not_lists_or_table_rows():
    text = "Shipping policy\n\nWe ship daily. Parcels arrive fast.\n\nReturns\n\nReturn in 30 days."
    assert [p.text for p in passages("", text)] == [
        "Shipping policy\nWe ship daily. Parcels arrive fast.",
        "Returns\nReturn in 30 days.",
    ]
    listed = "Features\n\nfast\n\nsmall\n\ncheap\n\nThe product is great."
    assert len(passages("", listed)) == 1
    rows = rows_as_text(["city", "price"], [["Paris", 3.5], ["Rome", 2], ["Oslo", 9]])
    assert [p.text for p in passages("", rows)] == [rows]
