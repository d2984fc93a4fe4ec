"""The closed form of components/explain.py against the model of components/model.py itself.

Unit tier: a freshly built model with random weights, n-gram ids from a hash of the
n-grams (what Transform's vocabulary does, minus the vocabulary); word and character
n-grams, two and three classes, several scripts. The pushed model's `explain_text`
signature is tested in test_signatures.py.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from components import explain, features, preprocessing, signatures
from components.hyperparameters import Hyperparameters
from components.model import DEEP_EMBEDDING, IDF, LINEAR, WIDE, build_model
from components.text_features import TextFeatures

VOCAB = 97
TEXTS = [
    "A wonderful film, though far too long!",
    "Не плохо, но и не хорошо.",
    "这部电影非常好看",
    "می‌خواهم این فیلم را دوباره ببینم :)",
    "",
    "ok",
]


def _model(num_classes: int, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = build_model(Hyperparameters(embedding_dim=8), VOCAB, num_classes)
    # Random wide weights, bias and idf too, so every part of the closed form counts.
    rng = np.random.default_rng(seed)
    for variable in (model.get_layer(WIDE).embeddings, model.get_layer(LINEAR).bias):
        variable.assign(rng.normal(size=variable.shape).astype(np.float32))
    idf = model.get_layer(IDF).embeddings
    idf.assign(rng.uniform(1, 8, size=idf.shape).astype(np.float32))
    return model


def _ids(texts, text_features: TextFeatures) -> tf.RaggedTensor:
    _, grams = preprocessing.ngrams(tf.constant(texts), text_features)
    return grams.with_values(tf.strings.to_hash_bucket_fast(grams.values, VOCAB) + 1)


def _explain(model, texts, text_features):
    ids = _ids(texts, text_features)
    outputs = explain.explain(tf.constant(texts), ids, explain.additive_weights(model), text_features)
    probabilities = model({features.NGRAM_IDS_KEY: ids.to_tensor(0)}, training=False).numpy()
    return {key: value.numpy() for key, value in outputs.items()}, probabilities


def _log_odds(probabilities: np.ndarray) -> np.ndarray:
    """log p_c minus the mean log p_k of the other classes, from the model's probabilities."""
    logs = np.log(probabilities.astype(np.float64))
    classes = logs.shape[1]
    return (logs * classes - logs.sum(axis=1, keepdims=True)) / (classes - 1)


CASES = [
    (2, TextFeatures(word_ngrams=(1, 2))),
    (2, TextFeatures(word_ngrams=(1, 3), char_ngrams=(2, 4))),
    (3, TextFeatures(word_ngrams=(2, 3), char_ngrams=(3, 3))),
]


@pytest.mark.parametrize(("num_classes", "text_features"), CASES)
def test_base_plus_attributions_is_the_models_log_odds(num_classes, text_features):
    model = _model(num_classes, seed=num_classes)
    outputs, probabilities = _explain(model, TEXTS, text_features)
    summed = outputs[explain.BASE_VALUES_KEY] + outputs[explain.ATTRIBUTIONS_KEY].sum(axis=1)
    np.testing.assert_allclose(summed, outputs[explain.LOG_ODDS_KEY], atol=1e-4)
    np.testing.assert_allclose(outputs[explain.LOG_ODDS_KEY], _log_odds(probabilities), atol=1e-4)
    # Each n-gram's share adds up to the same total as the tokens'.
    by_ngram = outputs[explain.BASE_VALUES_KEY] + outputs[explain.NGRAM_ATTRIBUTIONS_KEY].sum(axis=1)
    np.testing.assert_allclose(by_ngram, outputs[explain.LOG_ODDS_KEY], atol=1e-4)


def test_two_classes_explain_the_log_odds_of_each():
    model = _model(2, seed=0)
    outputs, probabilities = _explain(model, TEXTS, TextFeatures())
    log_odds = np.log(probabilities[:, 1]) - np.log(probabilities[:, 0])
    np.testing.assert_allclose(outputs[explain.LOG_ODDS_KEY][:, 1], log_odds, atol=1e-4)
    np.testing.assert_allclose(
        outputs[explain.ATTRIBUTIONS_KEY][..., 0], -outputs[explain.ATTRIBUTIONS_KEY][..., 1]
    )
    # A text without n-grams is explained by the base value alone: the model's bias.
    bias = model.get_layer(LINEAR).bias.numpy()[0]
    assert outputs[explain.BASE_VALUES_KEY][:, 1] == pytest.approx([bias] * len(TEXTS))


def test_tokens_are_the_models_tokens_and_padding_is_empty():
    model = _model(3, seed=1)
    outputs, _ = _explain(model, TEXTS, TextFeatures())
    tokens = preprocessing.ngrams(tf.constant(TEXTS), TextFeatures())[0].to_list()
    counts = outputs[explain.TOKEN_COUNT_KEY].tolist()
    assert counts == [len(row) for row in tokens]
    assert [
        row[:count].tolist() for row, count in zip(outputs[explain.TOKENS_KEY], counts, strict=True)
    ] == tokens
    for row, count in zip(outputs[explain.ATTRIBUTIONS_KEY], counts, strict=True):
        assert not row[count:].any()


def test_a_bigram_is_shared_by_its_two_tokens():
    """Only the bigram "not bad" carries weight: half of it goes to each of its words."""
    model = _model(2, seed=2)
    text_features = TextFeatures(word_ngrams=(1, 2))
    ids = _ids(["not bad at all"], text_features)
    bigram_id = int(_ids(["not bad"], TextFeatures(word_ngrams=(2, 2))).values[0])
    for variable in (model.get_layer(DEEP_EMBEDDING).embeddings, model.get_layer(WIDE).embeddings):
        weights = np.zeros(variable.shape, np.float32)
        weights[bigram_id] = 1.0
        variable.assign(weights)
    idf = np.ones(model.get_layer(IDF).embeddings.shape, np.float32)
    idf[bigram_id] = 2.0
    model.get_layer(IDF).embeddings.assign(idf)
    outputs = explain.explain(
        tf.constant(["not bad at all"]), ids, explain.additive_weights(model), text_features
    )
    attributions = outputs[explain.ATTRIBUTIONS_KEY].numpy()[0, :, 1]
    kernel = model.get_layer(LINEAR).kernel.numpy()[:, 0]
    # 4 words and 3 bigrams: the deep part pools over sqrt(7), the wide part over the root
    # of the summed squared idf, 6 * 1 + 2 ** 2.
    contribution = kernel.sum() / np.sqrt(4 + 3) + 2.0 / np.sqrt(6 + 4)
    np.testing.assert_allclose(attributions, [contribution / 2, contribution / 2, 0, 0], atol=1e-6)


def test_misaligned_ids_are_refused():
    model = _model(2, seed=3)
    ids = _ids(["one two three"], TextFeatures(word_ngrams=(1, 1)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="do not line up"):
        explain.explain(tf.constant(["one two three"]), ids, explain.additive_weights(model), TextFeatures())


def test_export_refuses_scores_the_closed_form_does_not_reproduce():
    scores = np.array([[0.2, 0.8]], np.float32)
    explain.check_reproduces_scores(np.array([[-np.log(4), np.log(4)]]), scores)
    with pytest.raises(ValueError, match="no longer additive"):
        explain.check_reproduces_scores(np.array([[-1.0, 1.0]]), scores)


def test_a_mixed_precision_model_passes_the_export_check():
    """On a GPU the model computes in float16; the closed form (float32) still passes export's check."""
    keras.utils.set_random_seed(4)
    model = build_model(Hyperparameters(embedding_dim=16), VOCAB, 2, dtype_policy="mixed_float16")
    rng = np.random.default_rng(4)
    for variable in (model.get_layer(DEEP_EMBEDDING).embeddings, model.get_layer(WIDE).embeddings):
        variable.assign(rng.normal(scale=1.5, size=variable.shape).astype(np.float32))
    texts = [*signatures.WARMUP_TEXTS, " ".join(f"word{i}" for i in range(300))]
    ids = _ids(texts, TextFeatures())
    outputs = explain.explain(tf.constant(texts), ids, explain.additive_weights(model), TextFeatures())
    probabilities = model({features.NGRAM_IDS_KEY: ids.to_tensor(0)}, training=False).numpy()
    log_odds = outputs[explain.LOG_ODDS_KEY].numpy()
    assert np.abs(log_odds - _log_odds(probabilities)).max() > 1e-5  # float16 rounding is there
    explain.check_reproduces_scores(log_odds, probabilities)
