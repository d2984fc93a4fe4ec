"""The pushed model's `explain_text` signature: exact attributions in the model's own tokens."""

import numpy as np
import pytest
import tensorflow as tf
from saved_model_helpers import load_exported_model

from components import explain, features, tokenizer
from polarity.data import BUNDLED_CONTRACT

CLASSES = list(BUNDLED_CONTRACT.classes)
POSITIVE = CLASSES.index("positive")
TEXTS = [
    "An absolutely wonderful, moving film with brilliant performances. I loved it.",
    "A terrible, boring mess. The worst film I have seen, a complete waste of time.",
    "Не плохо, но и не хорошо. Фильм так себе.",
    "这部电影非常好看，演员很棒！",
    "می‌خواهم این فیلم را دوباره ببینم :)",
    "Great cast 👍 but the ending?!",
]


@pytest.fixture(scope="module")
def loaded(pushed_model_dir):
    return load_exported_model(pushed_model_dir)


def _explain(loaded, texts) -> dict:
    outputs = loaded.signatures[explain.EXPLAIN_SIGNATURE](**{features.TEXT_INPUT_KEY: tf.constant(texts)})
    return {key: value.numpy() for key, value in outputs.items()}


def _scores(loaded, texts) -> np.ndarray:
    predict_text = loaded.signatures[features.PREDICT_TEXT_SIGNATURE]
    return predict_text(**{features.TEXT_INPUT_KEY: tf.constant(texts)})[features.SCORES_KEY].numpy()


def _tokens(outputs, row: int) -> list:
    count = outputs[explain.TOKEN_COUNT_KEY][row]
    return [token.decode() for token in outputs[explain.TOKENS_KEY][row][:count]]


def test_attributions_add_up_to_the_log_odds_of_predict_text(loaded):
    outputs = _explain(loaded, TEXTS)
    summed = outputs[explain.BASE_VALUES_KEY] + outputs[explain.ATTRIBUTIONS_KEY].sum(axis=1)
    np.testing.assert_allclose(summed, outputs[explain.LOG_ODDS_KEY], atol=1e-4)
    scores = _scores(loaded, TEXTS).astype(np.float64)
    positive_log_odds = np.log(scores[:, POSITIVE]) - np.log(scores[:, 1 - POSITIVE])
    np.testing.assert_allclose(summed[:, POSITIVE], positive_log_odds, atol=1e-4)
    np.testing.assert_allclose(summed[:, 1 - POSITIVE], -positive_log_odds, atol=1e-4)
    np.testing.assert_allclose(outputs[features.SCORES_KEY], scores, atol=1e-6)
    assert [[name.decode() for name in row] for row in outputs[features.CLASSES_KEY]] == [CLASSES] * len(
        TEXTS
    )


def test_tokens_are_the_models_tokenisation(loaded):
    outputs = _explain(loaded, TEXTS)
    expected = [[token.decode() for token in row] for row in tokenizer.tokenize(tf.constant(TEXTS)).to_list()]
    assert [_tokens(outputs, row) for row in range(len(TEXTS))] == expected
    assert _tokens(outputs, 3)[:4] == ["这", "部", "电", "影"]
    assert "می‌خواهم".replace("\u200c", "") in _tokens(outputs, 4)


def test_direction_adding_terrible_lowers_positive_and_terrible_counts_against_it(loaded):
    base = "The plot was fine and the actors did their job."
    worse = base + " Terrible."
    scores = _scores(loaded, [base, worse])[:, POSITIVE]
    assert scores[1] < scores[0]
    outputs = _explain(loaded, [worse])
    tokens = _tokens(outputs, 0)
    terrible = outputs[explain.ATTRIBUTIONS_KEY][0, tokens.index("terrible")]
    assert terrible[POSITIVE] < 0 < terrible[1 - POSITIVE]
    assert terrible[POSITIVE] == pytest.approx(-terrible[1 - POSITIVE], abs=1e-6)


def test_ngrams_are_listed_with_their_whole_contribution(loaded):
    outputs = _explain(loaded, ["not good at all"])
    count = outputs[explain.NGRAM_COUNT_KEY][0]
    grams = [gram.decode() for gram in outputs[explain.NGRAMS_KEY][0][:count]]
    assert grams == ["not", "good", "at", "all", "not good", "good at", "at all"]
    by_ngram = outputs[explain.NGRAM_ATTRIBUTIONS_KEY][0, :count].sum(axis=0)
    by_token = outputs[explain.ATTRIBUTIONS_KEY][0].sum(axis=0)
    np.testing.assert_allclose(by_ngram, by_token, atol=1e-5)
