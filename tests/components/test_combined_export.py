"""Unit: how the combined model (components/combined_export.py) weighs its two families."""

import sys

import numpy as np
import pytest
import tensorflow as tf

from components import combined_export


def _logit(p):
    return np.log(p / (1 - p))


def test_a_text_the_encoder_read_whole_is_scored_by_the_encoder_and_an_unread_one_by_the_ngrams():
    ngrams = tf.constant([[0.9, 0.1], [0.9, 0.1]])
    encoder = tf.constant([[0.2, 0.8], [0.2, 0.8]])
    combined = combined_export.combine_scores(ngrams, encoder, tf.constant([0.0, 1.0])).numpy()
    np.testing.assert_allclose(combined, [[0.2, 0.8], [0.9, 0.1]], atol=1e-6)


def test_two_classes_mix_their_log_odds_by_the_weight():
    ngrams = np.array([[0.3, 0.7], [0.95, 0.05], [0.5, 0.5]], np.float32)
    encoder = np.array([[0.6, 0.4], [0.1, 0.9], [0.01, 0.99]], np.float32)
    weight = np.array([0.25, 0.5, 0.9], np.float32)
    combined = combined_export.combine_scores(
        tf.constant(ngrams), tf.constant(encoder), tf.constant(weight)
    ).numpy()
    expected = weight * _logit(ngrams[:, 1]) + (1 - weight) * _logit(encoder[:, 1])
    np.testing.assert_allclose(_logit(combined[:, 1]), expected, atol=1e-4)
    np.testing.assert_allclose(combined.sum(axis=1), 1, atol=1e-6)


def test_more_classes_mix_log_probabilities_and_renormalise():
    ngrams = np.array([[0.7, 0.2, 0.1]], np.float32)
    encoder = np.array([[0.1, 0.3, 0.6]], np.float32)
    combined = combined_export.combine_scores(
        tf.constant(ngrams), tf.constant(encoder), tf.constant([0.4])
    ).numpy()
    unnormalised = ngrams**0.4 * encoder**0.6
    np.testing.assert_allclose(combined, unnormalised / unnormalised.sum(), atol=1e-6)


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="the encoder's tokenizer is on the TFX 1.21 stack only"
)
def test_the_unread_share_counts_word_pieces_beyond_the_window():
    from components import encoder_model

    preprocessor = encoder_model.build_preprocessor(encoder_model.weights_dir(), sequence_length=16)
    long_text = " ".join(["wonderful"] * 30)  # one word piece each: 32 with [CLS] and [SEP]
    share = encoder_model.unread_share(preprocessor, tf.constant(["A fine film.", long_text])).numpy()
    np.testing.assert_allclose(share, [0.0, 1 - 16 / 32], atol=1e-6)
