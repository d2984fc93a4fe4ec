"""Training: the naive-Bayes ratios that start the wide part, and the weights the trainer returns."""

import numpy as np
import pytest
import tensorflow as tf

from components import features, training
from components.hyperparameters import Hyperparameters
from components.model import build_model


def test_nb_log_count_ratios_count_each_ngram_once_per_review():
    ids = np.array([[1, 2, 2, 0], [2, 3, 0, 0]])  # shifted ids, 0 pads
    dataset = tf.data.Dataset.from_tensors(({features.NGRAM_IDS_KEY: ids}, np.array([1, 0])))
    ratios = training.nb_log_count_ratios(dataset, vocab_size=3, num_classes=2)
    # Smoothed once-per-review counts: positive (2, 2, 1) / 5, negative (1, 2, 2) / 5.
    assert ratios[:, 0] == pytest.approx([np.log(2), 0, -np.log(2)])


def test_nb_log_count_ratios_of_three_classes_are_against_the_first():
    ids = np.array([[1, 0], [2, 0], [3, 0]])
    dataset = tf.data.Dataset.from_tensors(({features.NGRAM_IDS_KEY: ids}, np.array([0, 1, 2])))
    ratios = training.nb_log_count_ratios(dataset, vocab_size=3, num_classes=3)
    # Smoothed counts per class: (2, 1, 1), (1, 2, 1), (1, 1, 2), each over 4.
    assert ratios.shape == (3, 2)
    assert ratios[:, 0] == pytest.approx([-np.log(2), np.log(2), 0])
    assert ratios[:, 1] == pytest.approx([-np.log(2), 0, np.log(2)])


def test_two_classes_are_a_sigmoid_on_one_logit_started_from_the_nb_ratios():
    # The deep part starts near zero, so the wide part sets the first predictions.
    model = build_model(
        Hyperparameters(embedding_dim=4),
        vocab_size=3,
        num_classes=2,
        nb_log_ratios=np.array([[4.0], [0], [-4.0]]),
    )
    scores = model.predict({features.NGRAM_IDS_KEY: np.array([[1, 0], [3, 0]])}, verbose=0)
    assert scores.shape == (2, 2)
    assert scores[:, 1] == pytest.approx(1 / (1 + np.exp([-4.0, 4.0])), abs=0.02)
    assert scores.sum(axis=1) == pytest.approx([1, 1])


def test_three_classes_score_as_a_softmax_with_the_first_as_reference():
    ratios = np.array([[3.0, 0.0], [0.0, 3.0], [-3.0, -3.0]])
    model = build_model(Hyperparameters(embedding_dim=4), vocab_size=3, num_classes=3, nb_log_ratios=ratios)
    scores = model.predict({features.NGRAM_IDS_KEY: np.array([[1], [2], [3]])}, verbose=0)
    assert scores.argmax(axis=1).tolist() == [1, 2, 0]


def _toy_dataset(rows: int, seed: int) -> tf.data.Dataset:
    """Reviews of 6 n-gram ids (1..40); ids 1..20 lean positive, 21..40 negative."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, rows)
    ids = np.where(labels[:, None] == 1, rng.integers(1, 21, (rows, 6)), rng.integers(21, 41, (rows, 6)))
    noise = rng.random((rows, 6)) < 0.3
    ids = np.where(noise, rng.integers(1, 41, (rows, 6)), ids)
    inputs = {features.NGRAM_IDS_KEY: ids}
    return tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(16)


@pytest.mark.parametrize("ema_momentum", [0.9, None])
def test_the_model_returned_is_the_one_validated_at_its_best_epoch(tmp_path, monkeypatch, ema_momentum):
    # With a weight average, validation must judge the average and the average must be
    # what is returned (and exported); otherwise the best epoch's weights.
    hparams = Hyperparameters(epochs=3, embedding_dim=4, early_stopping_patience=3, ema_momentum=ema_momentum)
    model = training.train_model(
        _toy_dataset(320, 0), _toy_dataset(160, 1), hparams, str(tmp_path), vocab_size=40, num_classes=2
    )
    best_val_loss = min(model.history.history["val_loss"])
    loss = model.evaluate(_toy_dataset(160, 1), verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(best_val_loss, rel=1e-4)


@pytest.mark.parametrize("ema_momentum, moved", [(0.9999, False), (None, True)])
def test_a_slow_weight_average_keeps_the_returned_model_near_its_start(
    tmp_path, monkeypatch, ema_momentum, moved
):
    # An average with momentum 0.9999 moves 1% of the way in 100 steps: the model
    # returned must be that average, not the raw trained weights.
    built = []

    def recording_build_model(*args, **kwargs):
        built.append(build_model(*args, **kwargs))
        built.append([w.copy() for w in built[0].get_weights()])
        return built[0]

    monkeypatch.setattr(training, "build_model", recording_build_model)
    hparams = Hyperparameters(epochs=2, embedding_dim=4, early_stopping_patience=2, ema_momentum=ema_momentum)
    model = training.train_model(
        _toy_dataset(800, 0), _toy_dataset(160, 1), hparams, str(tmp_path), vocab_size=40, num_classes=2
    )
    pairs = zip(model.get_weights(), built[1], strict=True)
    largest_move = max(np.abs(now - start).max() for now, start in pairs)
    assert (largest_move > 0.05) == moved, largest_move
