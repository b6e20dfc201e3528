"""retrieve: BM25, cosine and their reciprocal rank fusion; confidence; vector storage."""

import json
from pathlib import Path

import numpy as np
import pytest

from augury.engines.chat.retrieve import RRF_K, Hit, Index, decode, encode, terms
from augury.engines.text.embed import embed

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "chat" / "data" / "chatterbot_en.json"
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
    ("Error codes", "Error E42 on the display means the water filter must be replaced."),
    ("XR-200", "The XR-200 blender has a 1200 W motor and a glass jug."),
    ("Acme Club", "Acme Club members collect one point per euro spent."),
    ("Click and collect", "Orders placed before noon can be picked up the same day in Lyon."),
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
    # questions a visitor asks with the knowledge's own rare words: the lexical side's
    ("My coffee machine shows E42", 12),
    ("How strong is the XR-200 motor?", 13),
    ("How do Acme Club points work?", 14),
    ("Can I collect my order in Lyon?", 15),
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
    assert terms("What is the price of the shipping?") == ["pric", "ship"]
    assert terms("closed") == terms("close") == terms("closing") == terms("closes")
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


def test_fusion_on_the_handmade_set(index):
    """Fusion beats BM25 and is within one question of the vectors here (18 questions:
    on this set the vectors alone are best by one at top-1 and top-3); on the
    benchmark's 464 questions it beats both (the next test)."""

    def hit_rate(k, **sides):
        return sum(_top(index, q, k, **sides)[:k].count(i) for q, i in QUESTIONS) / len(QUESTIONS)

    for k in (1, 3):
        fused = hit_rate(k)
        lexical = hit_rate(k, semantic=False)
        semantic = hit_rate(k, lexical=False)
        assert fused > lexical, (k, fused, lexical)
        assert fused >= semantic - 1 / len(QUESTIONS), (k, fused, semantic)
    assert hit_rate(3) >= 0.9


def test_fusion_matches_or_beats_each_side_on_the_benchmark():
    data = json.loads(BENCH.read_text(encoding="utf-8"))
    texts = [p["text"] for p in data["passages"]]
    titles = [p["category"].replace("_", " ") for p in data["passages"]]
    vectors = embed([f"{t}. {x}" for t, x in zip(titles, texts, strict=True)])
    index = Index.build(texts, titles, vectors)
    questions = [q["text"] for q in data["questions"]]
    right = [set(q["answers"]) for q in data["questions"]]
    qvectors = embed(questions)
    ranked = {"lexical": [], "semantic": [], "fused": []}
    for q, qv in zip(questions, qvectors, strict=True):
        ranked["lexical"].append([h.index for h in index.search(q, None, 3)])
        ranked["semantic"].append(list(np.argsort(-(vectors @ qv), kind="stable")[:3]))
        ranked["fused"].append([h.index for h in index.search(q, qv, 3)])
    for k in (1, 3):
        rate = {
            side: np.mean([bool(set(r[:k]) & ok) for r, ok in zip(rows, right, strict=True)])
            for side, rows in ranked.items()
        }
        assert rate["fused"] >= max(rate["lexical"], rate["semantic"]), (k, rate)


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
    assert index.confidence(good, index.search(good, None)) > 0.35
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
