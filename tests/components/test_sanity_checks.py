"""Unit: each sanity check passes on a healthy n-gram model and fails on a deliberately broken one.

The model is the real one (components/model.py) on real reviews, their tokens hashed to ids
(Transform's vocabulary would give the same kind of input: n-gram ids, 0 for padding).
"""

import math

import numpy as np
import pytest
import tensorflow as tf

from components import sanity_checks, tokenizer
from components.hyperparameters import Hyperparameters
from components.model import DEEP_EMBEDDING, build_model
from components.sanity_checks import SanityCheckError, SanityLimits
from components.wide_part import WideStart
from polarity.data import read_reviews

VOCAB = 5000
EXAMPLES = 32


@pytest.fixture(scope="module")
def batch():
    """32 real reviews, half of each class: (inputs, labels)."""
    reviews = read_reviews()
    by_label = {label: [r for r in reviews if r["label"] == label][: EXAMPLES // 2] for label in ("0", "1")}
    rows = [row for pair in zip(by_label["0"], by_label["1"], strict=True) for row in pair]
    tokens = tokenizer.tokenize(tf.constant([row["text"] for row in rows]))
    ids = tf.strings.to_hash_bucket_fast(tokens, VOCAB).to_tensor(default_value=-1) + 1
    labels = np.array([int(row["label"]) for row in rows])
    return {"ngram_ids": ids.numpy()}, labels


def fresh(**overrides):
    return lambda: build_model(Hyperparameters(**overrides), VOCAB, 2)


def test_a_healthy_model_passes_every_check_in_seconds(batch):
    inputs, labels = batch
    found = sanity_checks.run_sanity_checks(fresh(), inputs, labels, 2)
    assert [line.split(":")[0] for line in found[:4]] == ["labels", "initial loss", "gradients", "overfit"]
    assert "passed" in found[-1]


def test_constant_labels_fail(batch):
    inputs, labels = batch
    with pytest.raises(SanityCheckError, match=r"labels: all 32 sampled training labels are class \[1\]"):
        sanity_checks.run_sanity_checks(fresh(), inputs, np.ones_like(labels), 2)


def test_labels_outside_the_classes_fail(batch):
    _, labels = batch
    with pytest.raises(SanityCheckError, match=r"class ids \[2\] are outside 0..1"):
        sanity_checks.check_labels(np.append(labels, 2), 2)


def test_a_model_that_starts_confident_fails_the_initial_loss(batch):
    inputs, labels = batch
    # Wide weights started far from zero (as a wrongly scaled naive-Bayes start would be).
    rng = np.random.default_rng(0)
    model = build_model(Hyperparameters(), VOCAB, 2, wide=WideStart(rng.normal(0, 5, (VOCAB, 1))))
    with pytest.raises(SanityCheckError, match=rf"initial loss: .* expected ln\(2\) = {math.log(2):.3f}"):
        sanity_checks.check_initial_loss(model, inputs, labels, 2, SanityLimits().initial_loss_tolerance)


def test_an_infinite_weight_fails_the_gradient_check(batch):
    inputs, labels = batch
    model = fresh()()
    deep = model.get_layer(DEEP_EMBEDDING)
    weights = deep.embeddings.numpy()
    weights[int(inputs["ngram_ids"][0, 0])] = np.inf
    deep.embeddings.assign(weights)
    with pytest.raises(SanityCheckError, match="gradients: not finite for"):
        sanity_checks.check_finite_gradients(model, inputs, labels)


def test_inputs_that_lost_the_text_cannot_be_overfit(batch):
    _, labels = batch
    padding_only = {"ngram_ids": np.zeros((EXAMPLES, 8), np.int64)}  # every id lost: all padding
    with pytest.raises(
        SanityCheckError, match=r"overfit: loss still .* after 30 steps on the same 32 examples"
    ):
        sanity_checks.check_overfits(fresh()(), padding_only, labels, steps=30, target=0.1)


def test_a_learning_rate_too_small_cannot_overfit(batch):
    inputs, labels = batch
    with pytest.raises(SanityCheckError, match="overfit: loss still"):
        sanity_checks.check_overfits(fresh(learning_rate=1e-7)(), inputs, labels, steps=30, target=0.1)


def test_the_trainer_check_stops_on_a_split_of_one_class(batch):
    """training.check_before_training samples the split's labels, not just the overfitting batch."""
    from components import training

    inputs, labels = batch
    dataset = tf.data.Dataset.from_tensor_slices((inputs, np.zeros_like(labels))).batch(8).repeat(4)
    with pytest.raises(SanityCheckError, match=r"all 128 sampled training labels are class \[0\]"):
        training.check_before_training(dataset, Hyperparameters(), VOCAB, 2)
    healthy = tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(EXAMPLES)
    found = training.check_before_training(healthy, Hyperparameters(), VOCAB, 2)
    assert found[-1].startswith("sanity checks passed")
