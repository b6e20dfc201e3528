"""zeroshot: classes ranked by similarity to their names, descriptions and examples,
with confidences; and a model trained on the same data does better."""

from __future__ import annotations

import numpy as np
import pytest
from tests.engines.text.planted import FEEDBACK, intent_classes, split

from augury.engines.text.classify import train
from augury.engines.text.model_errors import TextModelError
from augury.engines.text.zeroshot import ZeroShotModel, zero_shot

PLANTED = [
    ("my new card still has not been delivered", "card_arrival"),
    ("what conversion rate do you apply to dollars", "exchange_rate"),
    ("someone stole my card, block it", "lost_or_stolen_card"),
    ("adding money to my account failed", "top_up_failed"),
    ("I want to change my PIN code", "change_pin"),
]


def test_ranks_the_right_class_first_on_a_planted_set():
    ranked = zero_shot(intent_classes(), [text for text, _ in PLANTED])
    assert [r[0].name for r in ranked] == [name for _, name in PLANTED]
    for ranking in ranked:
        confidences = [r.confidence for r in ranking]
        assert len(ranking) == 5 and confidences == sorted(confidences, reverse=True)
        assert sum(confidences) == pytest.approx(1.0)
        assert {r.name for r in ranking} == {c["name"] for c in intent_classes()}


def test_names_alone_are_read_as_words():
    classes = [{"name": "card_arrival"}, {"name": "exchangeRate"}, {"name": "change-pin"}]
    ranked = zero_shot(classes, ["when does my card arrive", "the exchange rate", "new pin"])
    assert [r[0].name for r in ranked] == ["card_arrival", "exchangeRate", "change-pin"]


def test_examples_move_a_class_towards_their_wording():
    classes = [
        {"name": "A", "description": "", "examples": ["the parcel never came"]},
        {"name": "B", "description": None, "examples": ["they charged me twice"]},
    ]
    ranked = zero_shot(classes, ["my parcel has not come", "a double charge on my bill"])
    assert [r[0].name for r in ranked] == ["A", "B"]


def test_a_text_with_no_tokens_gets_equal_confidences():
    (ranking,) = zero_shot(intent_classes(), [""])
    assert all(r.confidence == pytest.approx(0.2) for r in ranking)


def test_the_model_has_the_trained_models_interface():
    model = ZeroShotModel(intent_classes())
    proba = model.predict_proba([text for text, _ in PLANTED])
    assert proba.shape == (5, 5) and np.allclose(proba.sum(axis=1), 1.0)
    assert [p.label for p in model.predict([PLANTED[0][0]])] == ["card_arrival"]
    assert model.classes == [c["name"] for c in intent_classes()]


@pytest.mark.parametrize(
    ("classes", "code"),
    [
        ([{"name": "a"}], "TOO_FEW_CLASSES"),
        ([{"name": "a"}, {"name": "a"}], "BAD_CLASSES"),
        ([{"name": "a"}, {"name": "  "}], "BAD_CLASSES"),
        ([{"name": "a"}, {"description": "no name"}], "BAD_CLASSES"),
    ],
)
def test_bad_classes_are_a_clear_error(classes, code):
    with pytest.raises(TextModelError) as err:
        zero_shot(classes, ["text"])
    assert err.value.code == code


def test_a_trained_model_beats_zero_shot_on_the_same_data():
    train_x, train_y, test_x, test_y = split(FEEDBACK, 10)
    truth = np.array(test_y)
    zero = ZeroShotModel(
        [{"name": name, "description": entry["description"]} for name, entry in FEEDBACK.items()]
    )
    trained = train(train_x, train_y)
    zero_proba = zero.predict_proba(test_x)
    trained_proba = trained.predict_proba(test_x)
    zero_right = (np.array(zero.classes)[zero_proba.argmax(axis=1)] == truth).mean()
    trained_right = (np.array(trained.classes)[trained_proba.argmax(axis=1)] == truth).mean()
    assert zero_right >= 0.5  # zero-shot is useful before any label (chance: 1/3)
    assert trained_right > zero_right
