"""Training: the naive-Bayes ratios that start the wide part, and the weights the trainer returns."""

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


def _toy_dataset(rows: int, seed: int) -> tf.data.Dataset:
    """Reviews of 6 n-gram ids (1..40); ids 1..20 lean positive, 21..40 negative."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, rows)
    ids = np.where(labels[:, None] == 1, rng.integers(1, 21, (rows, 6)), rng.integers(21, 41, (rows, 6)))
    noise = rng.random((rows, 6)) < 0.3
    ids = np.where(noise, rng.integers(1, 41, (rows, 6)), ids)
    inputs = {features.NGRAM_IDS_KEY: ids}
    return tf.data.Dataset.from_tensor_slices((inputs, labels.reshape(-1, 1))).batch(16)


@pytest.mark.parametrize("ema_momentum", [0.9, None])
def test_the_model_returned_is_the_one_validated_at_its_best_epoch(tmp_path, monkeypatch, ema_momentum):
    # With a weight average, validation must judge the average and the average must be
    # what is returned (and exported); otherwise the best epoch's weights.
    monkeypatch.setattr(features, "NGRAM_IDS", 40)
    hparams = Hyperparameters(epochs=3, embedding_dim=4, early_stopping_patience=3, ema_momentum=ema_momentum)
    model = training.train_model(_toy_dataset(320, 0), _toy_dataset(160, 1), hparams, str(tmp_path))
    best_val_loss = min(model.history.history["val_loss"])
    loss = model.evaluate(_toy_dataset(160, 1), verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(best_val_loss, rel=1e-4)


@pytest.mark.parametrize("ema_momentum, moved", [(0.9999, False), (None, True)])
def test_a_slow_weight_average_keeps_the_returned_model_near_its_start(
    tmp_path, monkeypatch, ema_momentum, moved
):
    # An average with momentum 0.9999 moves 1% of the way in 100 steps: the model
    # returned must be that average, not the raw trained weights.
    monkeypatch.setattr(features, "NGRAM_IDS", 40)
    built = []

    def recording_build_model(*args, **kwargs):
        built.append(build_model(*args, **kwargs))
        built.append([w.copy() for w in built[0].get_weights()])
        return built[0]

    monkeypatch.setattr(training, "build_model", recording_build_model)
    hparams = Hyperparameters(epochs=2, embedding_dim=4, early_stopping_patience=2, ema_momentum=ema_momentum)
    model = training.train_model(_toy_dataset(800, 0), _toy_dataset(160, 1), hparams, str(tmp_path))
    pairs = zip(model.get_weights(), built[1], strict=True)
    largest_move = max(np.abs(now - start).max() for now, start in pairs)
    assert (largest_move > 0.05) == moved, largest_move
