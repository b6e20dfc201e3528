"""sentiment: VADER's lexicon read from its wheel, negation scopes, and the polarity
head's extra features saved and restored."""

from __future__ import annotations

import numpy as np

from augury.engines.text.sentiment import SentimentFeatures, lexicon, lexicon_scores, tokens


def test_the_lexicon_comes_from_the_installed_package():
    ratings = lexicon()
    assert len(ratings) > 7000
    assert ratings["good"] > 0 > ratings["bad"]


def test_a_negation_covers_the_words_up_to_punctuation_or_a_turn():
    negated = [
        t for t, n in tokens("It wasn't fresh or warm, and the staff weren't rude but slow") if n
    ]
    assert negated == ["fresh", "or", "warm", "rude"]


def test_negated_words_score_the_other_way():
    plain, negated = lexicon_scores(["the food was good", "the food was not good"])
    assert plain[0] == 1 and plain[1] == 0  # one positive word, no negative one
    assert negated[0] == 0 and negated[1] == 1
    assert plain[6] == -negated[6] > 0  # the last sentiment word's score


def test_fitted_features_restore_to_the_same_matrix():
    texts = ["great food", "the food was not great", "rude staff!", "never again", "ok"]
    fitted, X = SentimentFeatures.fit(texts)
    arrays, strings = fitted.state()
    restored = SentimentFeatures.restore(arrays, strings)
    assert X.shape == (5, restored.width)
    np.testing.assert_array_equal(restored.transform(texts).toarray(), X.toarray())
    assert "great_NEG" in strings["negated_vocabulary"]
