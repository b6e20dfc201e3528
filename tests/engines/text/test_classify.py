"""classify.train: a classifier of planted intents, its confidences, multi-label
thresholds, saving and loading, bad training data, and the evaluation report."""

from __future__ import annotations

import numpy as np
import pytest
from tests.engines.text.planted import INTENTS, intents_split

from augury.engines.text import classify
from augury.engines.text.classify import TrainSettings, evaluate, train
from augury.engines.text.features import FeatureSettings
from augury.engines.text.model_errors import TextModelError


@pytest.fixture(scope="module")
def planted():
    train_x, train_y, test_x, test_y = intents_split()
    return train(train_x, train_y), test_x, test_y


def test_learns_the_planted_intents_and_gives_probabilities(planted):
    model, test_x, test_y = planted
    assert model.classes == sorted(INTENTS)
    proba = model.predict_proba(test_x)
    assert proba.shape == (len(test_x), len(INTENTS))
    assert np.allclose(proba.sum(axis=1), 1.0)
    predictions = model.predict(test_x)
    right = sum(p.label == y for p, y in zip(predictions, test_y, strict=True))
    assert right / len(test_y) >= 0.9
    for p, row in zip(predictions, proba, strict=True):
        assert p.labels == (p.label,)
        assert p.confidence == pytest.approx(row.max())
    assert model.info["examples"] == 40 and model.info["dropped_empty"] == 0


def test_confidence_is_higher_on_what_it_gets_right(planted):
    model, test_x, test_y = planted
    predictions = model.predict(test_x)
    right = [p.confidence for p, y in zip(predictions, test_y, strict=True) if p.label == y]
    nonsense = model.predict(["zxqv plorb", "the weather is nice in spring"])
    assert min(p.confidence for p in nonsense) < np.mean(right)


def test_save_and_load_predict_the_same(planted, tmp_path):
    model, test_x, _ = planted
    digest = model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "arrays.npz",
        "model.json",
        "vocabulary.json",
    ]
    again = classify.load(tmp_path / "m")
    assert again.classes == model.classes and again.content_hash == digest
    assert np.allclose(again.predict_proba(test_x), model.predict_proba(test_x), atol=1e-6)
    assert model.save(tmp_path / "m2") == digest  # the hash is of the content, not the files


def test_two_classes_give_probabilities_that_sum_to_one():
    texts = ["great, love it", "wonderful and lovely", "awful, hate it", "terrible and bad"]
    model = train(texts, ["pos", "pos", "neg", "neg"])
    proba = model.predict_proba(["lovely stuff", "bad stuff"])
    assert proba.shape == (2, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert [p.label for p in model.predict(["I love it", "I hate it"])] == ["pos", "neg"]


def test_multi_label_keeps_every_label_over_its_threshold():
    texts, targets = [], []
    for i in range(12):
        texts.append(f"the delivery was late again {i}")
        targets.append(["delivery"])
        texts.append(f"the price is far too high {i}")
        targets.append(["price"])
        texts.append(f"late delivery and a high price {i}")
        targets.append(["delivery", "price"])
    model = train(texts, targets, multi_label=True)
    assert model.multi_label and model.classes == ["delivery", "price"]
    assert model.thresholds.shape == (2,)
    assert ((model.thresholds >= 0.25) & (model.thresholds <= 0.75)).all()
    both, late, pricey = model.predict(
        ["delivery was late and the price high", "my delivery came late", "such a high price"]
    )
    assert set(both.labels) == {"delivery", "price"}
    assert late.labels == ("delivery",) and pricey.labels == ("price",)


def test_multi_label_may_predict_no_label_when_training_had_texts_without_any():
    texts = ["late delivery", "slow delivery", "high price", "big price", "hello", "thanks"] * 3
    targets = [["delivery"], ["delivery"], ["price"], ["price"], [], []] * 3
    model = train(texts, targets, multi_label=True)
    assert model.at_least_one is False
    greeting, late = model.predict(["hello there", "late delivery today"])
    assert greeting.labels == () and greeting.confidence < 0.5
    assert late.labels == ("delivery",)


def test_empty_texts_are_left_out_and_counted():
    model = train(
        ["card not here", "", "   ", "refund please", "money back", "card missing"],
        ["card", "card", "refund", "refund", "refund", "card"],
    )
    assert model.info["dropped_empty"] == 2 and model.info["examples"] == 4


@pytest.mark.parametrize(
    ("texts", "targets", "code"),
    [
        (["a text", "another"], ["only", "only"], "TOO_FEW_CLASSES"),
        (["a text", "another"], ["x"], "BAD_TARGETS"),
        (["", "  "], ["x", "y"], "NO_TEXT"),
        (["a text", "another"], [None, None], "NO_TEXT"),
        (["a text", "another"], [["x"], ["y"]], "BAD_TARGETS"),
    ],
)
def test_bad_training_data_is_a_clear_error(texts, targets, code):
    with pytest.raises(TextModelError) as err:
        train(texts, targets)
    assert err.value.code == code


def test_multi_label_targets_must_be_lists():
    with pytest.raises(TextModelError) as err:
        train(["a", "b"], ["x", "y"], multi_label=True)
    assert err.value.code == "BAD_TARGETS"


def test_emoji_non_english_and_huge_texts_are_classified(planted):
    model, _, _ = planted
    long_text = "my card has not arrived. " * 4_000  # 100,000 characters
    predictions = model.predict(["🙂🙂🙂", "Ma carte n'est pas arrivée", "", long_text])
    assert len(predictions) == 4
    assert all(0 < p.confidence <= 1 for p in predictions)
    assert predictions[3].label == "card_arrival"


def test_emoji_only_training_texts_train_on_characters_and_embeddings():
    model = train(["🙂", "😀😀", "😡", "🤬😡"], ["happy", "happy", "angry", "angry"])
    assert model.features.word is None  # no word at all: that block is empty
    assert model.predict(["😀🙂"])[0].label == "happy"


def test_progress_is_reported_and_an_exception_aborts():
    train_x, train_y, _, _ = intents_split()
    seen: list[float] = []
    train(train_x, train_y, progress=lambda fraction, what: seen.append(fraction))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)

    class Aborted(Exception):
        pass

    def abort(fraction, what):
        if what == "fitting":
            raise Aborted

    with pytest.raises(Aborted):
        train(train_x, train_y, progress=abort)


def test_settings_without_embeddings_train_on_ngrams_alone():
    train_x, train_y, test_x, test_y = intents_split()
    settings = TrainSettings(features=FeatureSettings(use_embeddings=False))
    model = train(train_x, train_y, settings=settings)
    assert model.features.embedder is None
    right = sum(p.label == y for p, y in zip(model.predict(test_x), test_y, strict=True))
    assert right / len(test_y) >= 0.6


def test_evaluate_reports_scores_confusion_and_worst_examples(planted):
    model, test_x, test_y = planted
    wrong = list(test_y)
    wrong[0] = "exchange_rate"  # a card-arrival text marked as another intent
    report = evaluate(model, test_x, wrong, worst=3)
    assert report["n"] == 20 and report["classes"] == model.classes
    matrix = np.array(report["confusion"])
    assert matrix.shape == (5, 5) and matrix.sum() == 20
    assert report["accuracy"] == pytest.approx(np.trace(matrix) / 20, abs=1e-4)
    assert set(report["per_class"]) == set(INTENTS)
    assert report["per_class"]["exchange_rate"]["support"] == 5
    worst = report["worst"][0]
    assert worst["index"] == 0 and worst["truth"] == ["exchange_rate"]
    assert worst["predicted"] == ["card_arrival"]


def test_evaluate_counts_an_unknown_class_as_wrong(planted):
    model, test_x, test_y = planted
    report = evaluate(model, test_x[:2], ["renamed_class", test_y[1]])
    assert report["per_class"]["renamed_class"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
    }
    assert report["accuracy"] <= 0.5


def test_the_vocabularies_shrink_to_bound_the_heads_weights():
    train_x, train_y, test_x, test_y = intents_split()
    full = train(train_x, train_y)
    assert len(full.features.char.vocabulary_) > 1_000
    small = train(train_x, train_y, settings=TrainSettings(max_parameters=10_000))
    assert len(small.features.char.vocabulary_) == 1_000  # 10,000 / (2 x 5 classes)
    assert small.coef.shape == (5, small.features.width)
    right = sum(p.label == y for p, y in zip(small.predict(test_x), test_y, strict=True))
    assert right / len(test_y) >= 0.8
