"""absa: aspect categories detected and each one's polarity, or polarities only for
given categories; saved and loaded; evaluated as SemEval-2014 does; bad records."""

from __future__ import annotations

import numpy as np
import pytest
from tests.engines.text.planted import REVIEWS

from augury.engines.text.absa import AbsaModel, evaluate_absa, load_absa, train_absa
from augury.engines.text.model_errors import TextModelError


@pytest.fixture(scope="module")
def model():
    return train_absa(REVIEWS)


def test_learns_the_categories_and_polarities(model):
    assert model.categories == ["food", "price", "service"]
    assert model.polarities == ["NEG", "POS"]
    assert model.info["sentences"] == 24 and model.info["pairs"] == 30
    assert model.detector.multi_label and model.detector.at_least_one


def test_predicts_categories_and_their_polarity_end_to_end(model):
    records = [
        {"text": "The dessert was amazing"},
        {"text": "the waiter forgot our drinks", "id": 7},
        {"text": "prices are way too high", "aspects": []},
    ]
    out = model.predict(records)
    assert [r.get("id") for r in out] == [None, 7, None] and records[0] == {
        "text": "The dessert was amazing"
    }  # the input is not changed; other keys are kept
    found = [[(a["category"], a["polarity"]) for a in r["aspects"]] for r in out]
    assert found == [[("food", "POS")], [("service", "NEG")], [("price", "NEG")]]
    for record in out:
        for aspect in record["aspects"]:
            assert 0 < aspect["confidence"] <= 1 and 0 < aspect["category_confidence"] <= 1


def test_given_categories_get_their_polarity_only(model):
    records = [
        {"text": "cheap, great value", "aspects": [{"category": "price"}, {"category": "food"}]},
        {"text": "Great view", "aspects": [{"category": "ambience", "polarity": None}]},
        {
            "text": "rude staff",
            "aspects": [{"category": "service"}, {"category": "food", "polarity": "POS"}],
        },
    ]
    out = model.predict(records)
    assert [[a["category"] for a in r["aspects"]] for r in out] == [
        ["price", "food"],
        ["ambience"],  # a category it never saw: judged by the shared weights
        ["service", "food"],
    ]
    assert out[0]["aspects"][0]["polarity"] == "POS"
    assert out[2]["aspects"][0]["polarity"] == "NEG"
    assert out[2]["aspects"][1] == {"category": "food", "polarity": "POS"}  # given, kept
    assert all("category_confidence" not in a for r in out for a in r["aspects"])


def test_the_category_changes_the_polarity_of_the_same_words(model):
    proba = model.polarity_proba(["cheap", "cheap"], ["price", "food"])
    pos = model.polarities.index("POS")
    assert proba[0, pos] > proba[1, pos]


def test_a_record_with_polarities_is_predicted_whole(model):
    (out,) = model.predict(
        [
            {
                "text": "friendly and lovely staff",
                "aspects": [{"category": "food", "polarity": "NEG"}],
            }
        ]
    )
    assert [(a["category"], a["polarity"]) for a in out["aspects"]] == [("service", "POS")]


def test_save_and_load_predict_the_same(model, tmp_path):
    digest = model.save(tmp_path / "absa")
    again = load_absa(tmp_path / "absa")
    assert again.content_hash == digest and again.categories == model.categories
    records = [
        {"text": "slow service but tasty food"},
        {"text": "ok", "aspects": [{"category": "price"}]},
    ]
    assert again.predict(records) == model.predict(records)
    texts, cats = ["cold soup", "kind staff"], ["food", "service"]
    assert np.allclose(again.polarity_proba(texts, cats), model.polarity_proba(texts, cats))


def test_a_model_saved_before_the_sentiment_features_still_loads(model, tmp_path):
    width = model.sentiment.width
    older = AbsaModel(
        model.detector,
        model.polarities,
        model.polarity_coef[:, : model.polarity_coef.shape[1] - width],
        model.polarity_intercept,
    )
    older.save(tmp_path / "older")
    again = load_absa(tmp_path / "older")
    assert again.sentiment is None
    texts, cats = ["cold soup", "kind staff"], ["food", "service"]
    assert np.allclose(again.polarity_proba(texts, cats), older.polarity_proba(texts, cats))


def test_evaluation_counts_categories_and_polarities(model):
    held_out = [
        {"text": "The dessert was delicious", "aspects": [{"category": "food", "polarity": "POS"}]},
        {"text": "Rude waiters", "aspects": [{"category": "service", "polarity": "NEG"}]},
        {"text": "Overpriced wine", "aspects": [{"category": "price", "polarity": "NEG"}]},
    ]
    report = evaluate_absa(model, held_out)
    c = report["categories"]
    assert report["sentences"] == 3 and c["tp"] + c["fn"] == 3
    assert c["f1"] == pytest.approx(2 * c["tp"] / (2 * c["tp"] + c["fp"] + c["fn"]), abs=1e-4)
    p = report["polarity"]
    assert p["pairs"] == 3 and sum(sum(row.values()) for row in p["confusion"].values()) == 3
    assert p["accuracy"] >= 2 / 3


def test_duplicate_categories_count_once_and_unlabeled_aspects_teach_detection_only():
    records = [
        *REVIEWS,
        {"text": "The menu", "aspects": [{"category": "food"}, {"category": "food"}]},
        {"text": "Nice place", "aspects": [{"category": "ambience"}]},
    ]
    model = train_absa(records)
    assert model.categories == ["ambience", "food", "price", "service"]
    assert model.info["pairs"] == 30 and model.info["category_counts"]["food"] == 12


@pytest.mark.parametrize(
    ("records", "code"),
    [
        ([], "NO_TEXT"),
        (["just a string"], "BAD_RECORD"),
        ([{"aspects": []}], "BAD_RECORD"),
        ([{"text": "x", "aspects": "food"}], "BAD_RECORD"),
        ([{"text": "x", "aspects": [{"polarity": "POS"}]}], "BAD_RECORD"),
        ([{"text": "x", "aspects": [{"category": "food", "polarity": 1}]}], "BAD_RECORD"),
        (
            [{"text": "good", "aspects": [{"category": "food", "polarity": "POS"}]}] * 3,
            "TOO_FEW_CLASSES",
        ),
        ([{"text": "good"}, {"text": "bad"}], "TOO_FEW_CLASSES"),
    ],
)
def test_bad_records_are_a_clear_error(records, code):
    with pytest.raises(TextModelError) as err:
        train_absa(records)
    assert err.value.code == code


def test_predicting_a_bad_record_names_it(model):
    with pytest.raises(TextModelError) as err:
        model.predict([{"text": "fine"}, {"txt": "typo"}])
    assert err.value.code == "BAD_RECORD" and err.value.details == {"record": 1}
