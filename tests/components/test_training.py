"""The naive-Bayes log-count ratios that start the model's wide part."""

import numpy as np
import pytest
import tensorflow as tf

from components import features, training
from components.hyperparameters import Hyperparameters
from components.model import build_model


def test_nb_log_count_ratios_count_each_ngram_once_per_review():
    ids = np.array([[1, 2, 2, 0], [2, 3, 0, 0]])  # shifted ids, 0 pads
    dataset = tf.data.Dataset.from_tensors(({features.NGRAM_IDS_KEY: ids}, np.array([[1], [0]])))
    ratios = training.nb_log_count_ratios(dataset, vocab_size=3)
    # Smoothed once-per-review counts: positive (2, 2, 1) / 5, negative (1, 2, 2) / 5.
    assert ratios == pytest.approx([np.log(2), 0, -np.log(2)])


def test_model_starts_from_the_nb_ratios():
    # The deep part starts near zero, so the wide part sets the first predictions.
    model = build_model(
        Hyperparameters(embedding_dim=4), vocab_size=3, nb_log_ratios=np.array([4.0, 0, -4.0])
    )
    probability = model.predict({features.NGRAM_IDS_KEY: np.array([[1, 0], [3, 0]])}, verbose=0)
    assert probability.ravel() == pytest.approx(1 / (1 + np.exp([-4.0, 4.0])), abs=0.02)
