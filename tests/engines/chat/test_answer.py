"""answer: the offline, extractive answer and its streaming pieces."""

from augury.engines.chat.answer import DONT_KNOW, MAX_SENTENCES, Answer, compose, stream_pieces
from augury.engines.chat.retrieve import Index

PASSAGES = [
    "Returns\nYou can return any item within 30 days of delivery. Items must be unused "
    "and in their original box. Sale items cannot be returned.",
    "Refunds\nRefunds are paid to the original card. They take five working days to "
    "appear on your statement.",
    "Opening hours\nThe shop is open Monday to Saturday from 9 am to 6 pm. On Sundays we "
    "are closed.",
]
TITLES = ["Returns", "Refunds", "Opening hours"]


def _answer(question, min_confidence=0.3, strict=True):
    index = Index.build(PASSAGES, TITLES, None)
    hits = index.search(question, None, k=3)
    return compose(
        question,
        hits,
        PASSAGES,
        TITLES,
        min_confidence,
        strict,
        confidence=index.confidence(question, hits),
    )


def test_the_answer_quotes_the_best_sentence_and_cites_it():
    a = _answer("How long does a refund take to appear on my card?")
    assert isinstance(a, Answer) and a.known
    assert a.sources[0] == 1
    assert "five working days" in a.text
    assert "[1]" in a.text
    assert a.text.count(".") <= MAX_SENTENCES
    # nothing but the knowledge's own words (and citations)
    for sentence in a.text.replace("[1]", "").replace("[2]", "").split(". "):
        assert sentence.strip(" .") in " ".join(PASSAGES)


def test_several_sources_are_numbered_in_order():
    a = compose(
        "Can I return sale items and when does the shop open?",
        [(0, 0.03), (2, 0.02)],
        PASSAGES,
        TITLES,
        0.3,
        confidence=0.9,
    )
    assert a.sources == [0, 2]
    assert "[1]" in a.text and "[2]" in a.text
    assert a.text.index("[1]") < a.text.index("[2]")
    assert "Returns" not in a.text  # headings are not quoted


def test_strict_below_the_threshold_says_it_does_not_know():
    a = _answer("What is the capital of Australia?")
    assert not a.known and a.sources == [] and a.text == DONT_KNOW
    assert "person" in DONT_KNOW


def test_lenient_below_the_threshold_still_answers_but_is_not_known():
    a = compose("refund card", [(1, 0.01)], PASSAGES, TITLES, 0.99, strict=False, confidence=0.5)
    assert not a.known and a.sources == [1] and "original card" in a.text


def test_without_a_confidence_one_is_estimated():
    a = compose("when is the shop open on saturday", [(2, 0.02)], PASSAGES, TITLES, 0.3)
    assert a.known and 0 < a.confidence <= 1
    b = compose("quantum entanglement", [(2, 0.02)], PASSAGES, TITLES, 0.3)
    assert not b.known and b.text == DONT_KNOW


def test_no_hits_or_bad_indexes_are_dont_know():
    assert compose("anything", [], PASSAGES, TITLES, 0.0).text == DONT_KNOW
    assert compose("anything", [(7, 1.0)], PASSAGES, TITLES, 0.0).text == DONT_KNOW


def test_stream_pieces_rebuild_the_text():
    text = "Refunds take five working days. [1]  Really!\n"
    pieces = list(stream_pieces(text))
    assert "".join(pieces) == text
    assert len(pieces) == 8  # the trailing line break is a piece of its own
    assert list(stream_pieces("")) == []
