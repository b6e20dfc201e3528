"""retrieve: BM25, cosine and their reciprocal rank fusion; confidence; vector storage."""

import numpy as np
import pytest

from augury.engines.chat.retrieve import RRF_K, Hit, Index, decode, encode, terms
from augury.engines.text.embed import embed

PASSAGES = [
    ("Returns", "You can return any item within 30 days of delivery for a full refund."),
    ("Refunds", "Refunds are paid back to the original card within five working days."),
    ("Shipping", "Parcels are sent by post and usually arrive within three days in Europe."),
    ("International", "We ship worldwide; deliveries outside Europe take up to two weeks."),
    ("Opening hours", "The shop is open Monday to Saturday from 9 am to 6 pm."),
    ("Payment", "We accept Visa, Mastercard, PayPal and bank transfers."),
    ("Gift cards", "Gift cards are valid for one year and can be used online or in store."),
    ("Password", "To reset your password, click 'Forgot password' on the login page."),
    ("Account", "You can delete your account at any time from the settings page."),
    ("Warranty", "Every electronic device comes with a two-year manufacturer warranty."),
    ("Contact", "Our support team answers emails within 24 hours, phone lines open 9 to 5."),
    ("Discounts", "Students get a 10% discount with a valid student ID."),
]
QUESTIONS = [
    ("How long do I have to send something back?", 0),
    ("When will I get my money back?", 1),
    ("How many days does delivery take?", 2),
    ("Do you deliver to the United States?", 3),
    ("What time do you open on Saturday?", 4),
    ("Can I pay with PayPal?", 5),
    ("Which credit cards do you take?", 5),
    ("How long is a gift card valid?", 6),
    ("I forgot my password", 7),
    ("How do I close my account?", 8),
    ("Is there a guarantee on laptops?", 9),
    ("How fast does customer service reply to email?", 10),
    ("Is there a reduction for students?", 11),
    ("refund to my card", 1),
]
OFF_TOPIC = [
    "What is the capital of Australia?",
    "Who won the football world cup in 1998?",
    "How do I bake sourdough bread?",
    "Explain quantum entanglement",
]


@pytest.fixture(scope="module")
def index():
    titles = [t for t, _ in PASSAGES]
    texts = [x for _, x in PASSAGES]
    vectors = embed([f"{t}. {x}" for t, x in PASSAGES])
    return Index.build(texts, titles, vectors)


def _top(index, question, k, lexical=True, semantic=True):
    qv = embed([question])[0] if semantic else None
    if not lexical:
        scores = index.semantic_scores(qv)
        return list(np.argsort(-scores)[:k])
    return [h.index for h in index.search(question, qv, k=k)]


def test_terms_fold_stem_and_drop_stopwords():
    assert terms("Refunds REFUNDED refunding réfund") == ["refund"] * 4
    assert terms("What is the price of the shipping?") == ["price", "ship"]
    assert terms("") == []


def test_lexical_retrieval_finds_the_passage_among_distractors():
    texts = [x for _, x in PASSAGES]
    index = Index.build(texts, [t for t, _ in PASSAGES], None)
    hits = index.search("reset my password", None, k=3)
    assert hits[0].index == 7 and hits[0].rank == 1 and hits[0].semantic is None
    assert hits[0].lexical > 0
    assert index.search("zzz qqq", None) == []


def test_fused_hits_carry_both_scores(index):
    question = "When will I get my money back?"
    hits = index.search(question, embed([question])[0], k=5)
    assert len(hits) == 5
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert all(isinstance(h, Hit) and h.semantic is not None for h in hits)
    assert hits[0].score <= 2 / (RRF_K + 1)
    assert sorted((h.score for h in hits), reverse=True) == [h.score for h in hits]


def test_fusion_matches_or_beats_each_side(index):
    def hit_rate(k, **sides):
        return sum(_top(index, q, k, **sides)[:k].count(i) for q, i in QUESTIONS) / len(QUESTIONS)

    for k in (1, 3):
        fused = hit_rate(k)
        lexical = hit_rate(k, semantic=False)
        semantic = hit_rate(k, lexical=False)
        assert fused >= max(lexical, semantic) - 1 / len(QUESTIONS), (k, fused, lexical, semantic)
    assert hit_rate(3) >= 0.85


def test_confidence_is_high_on_topic_and_low_off_topic(index):
    def confidence(question):
        hits = index.search(question, embed([question])[0])
        return index.confidence(question, hits)

    on = [confidence(q) for q, _ in QUESTIONS]
    off = [confidence(q) for q in OFF_TOPIC]
    assert all(0.0 <= c <= 1.0 for c in on + off)
    assert max(off) < 0.35
    assert float(np.median(on)) > max(off)
    assert index.confidence("anything", []) == 0.0


def test_lexical_confidence_without_vectors():
    index = Index.build([x for _, x in PASSAGES], [t for t, _ in PASSAGES], None)
    good = "How long is a gift card valid?"
    assert index.confidence(good, index.search(good, None)) > 0.5
    bad = "What is the capital of Australia?"
    assert index.confidence(bad, index.search(bad, None)) < 0.2


def test_vectors_round_trip_through_bytes():
    vectors = embed(["one", "two", "three"])
    data = encode(vectors)
    assert len(data) == 3 * 256 * 4
    assert np.array_equal(decode(data, 256), vectors)
    with pytest.raises(ValueError):
        decode(b"\x00" * 5, 256)


def test_an_empty_index_and_bad_shapes():
    assert Index.build([], None, None).search("x", None) == []
    with pytest.raises(ValueError):
        Index.build(["a"], None, np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(ValueError):
        Index.build(["a"], ["t", "u"], None)
