"""Unit: WiSE-FT's weight average (components/weight_averaging.py) on a real Keras fit."""

import keras
import numpy as np
import pytest

from components import weight_averaging


def test_the_average_takes_the_share_of_the_fine_tuned_weights():
    start = [np.zeros((2, 2), np.float32), np.array([1.0, 3.0], np.float32)]
    tuned = [np.ones((2, 2), np.float32), np.array([3.0, -1.0], np.float32)]
    averaged = weight_averaging.averaged(start, tuned, 0.25)
    np.testing.assert_allclose(averaged[0], np.full((2, 2), 0.25))
    np.testing.assert_allclose(averaged[1], [1.5, 2.0])
    assert all(weight.dtype == np.float32 for weight in averaged)
    for share, expected in ((0.0, start), (1.0, tuned)):  # the ends are the models themselves
        for got, want in zip(weight_averaging.averaged(start, tuned, share), expected, strict=True):
            np.testing.assert_array_equal(got, want)


def test_a_share_outside_zero_to_one_or_weights_of_another_model_are_refused():
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\], got 1.5"):
        weight_averaging.WeightAveraging(1.5)
    with pytest.raises(ValueError, match="differ in number or shape"):
        weight_averaging.averaged([np.zeros(2)], [np.zeros(3)], 0.5)


def test_the_soup_averages_each_weight_over_the_runs_and_refuses_other_models():
    runs = [
        [np.zeros((2,), np.float32), np.array([[1.0]], np.float32)],
        [np.full((2,), 3.0, np.float32), np.array([[2.0]], np.float32)],
        [np.array([3.0, 0.0], np.float32), np.array([[6.0]], np.float32)],
    ]
    soup = weight_averaging.uniform_soup(runs)
    np.testing.assert_allclose(soup[0], [2.0, 1.0])
    np.testing.assert_allclose(soup[1], [[3.0]])
    assert all(weight.dtype == np.float32 for weight in soup)
    np.testing.assert_array_equal(weight_averaging.uniform_soup(runs[:1])[1], runs[0][1])
    with pytest.raises(ValueError, match="differ in number or shape"):
        weight_averaging.uniform_soup([runs[0], runs[1][:1]])
    with pytest.raises(ValueError, match="at least one"):
        weight_averaging.uniform_soup([])


class _Recorder(keras.callbacks.Callback):
    """Keeps the weights fit ends with, before the averaging after it replaces them."""

    def on_train_end(self, logs=None):
        self.weights = self.model.get_weights()


def test_the_callback_averages_what_fit_ended_with_and_the_start():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    start = model.get_weights()
    features = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(np.int32)
    recorder, averaging = _Recorder(), weight_averaging.WeightAveraging(0.5)
    model.fit(features, labels, epochs=3, callbacks=[recorder, averaging], verbose=0)
    for kept, first in zip(averaging.start_weights, start, strict=True):
        np.testing.assert_array_equal(kept, first)
    assert not np.allclose(recorder.weights[0], start[0])  # fitting moved the weights
    for final, first, tuned in zip(model.get_weights(), start, recorder.weights, strict=True):
        np.testing.assert_allclose(final, (first + tuned) / 2, rtol=1e-6)


def test_share_one_keeps_the_fine_tuned_weights():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    recorder = _Recorder()
    model.fit(
        np.ones((8, 3)), np.zeros((8, 2)), callbacks=[recorder, weight_averaging.WeightAveraging()], verbose=0
    )
    for final, tuned in zip(model.get_weights(), recorder.weights, strict=True):
        np.testing.assert_array_equal(final, tuned)
