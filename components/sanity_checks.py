"""Checks that cost seconds before a training run that may cost a GPU hour.

As practitioners debug a network before training it (Karpathy's "recipe", the CS231n
notes): the labels are not all one class, the loss of a fresh model is close to
ln(number of classes) (it guesses uniformly), its gradients are finite, and it can
drive the loss of a few dozen examples to near zero (it can learn at all). Any model
family: the Trainer gives a function building a fresh compiled model and one batch.
A failed check raises `SanityCheckError` saying what failed and by how much.
"""

import dataclasses
import math
import time
import warnings
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf


class SanityCheckError(RuntimeError):
    """A check failed: training would waste its time; the message says what and what to look at."""


@dataclasses.dataclass(frozen=True)
class SanityLimits:
    """How close is close enough.

    Attributes:
      initial_loss_tolerance: largest |loss - ln(classes)| of a fresh model, in nats.
      overfit_loss: the loss the few examples must reach ...
      overfit_steps: ... within this many steps on that one batch.
    """

    initial_loss_tolerance: float = 0.35
    overfit_loss: float = 0.1
    overfit_steps: int = 100


def _loss(model: keras.Model, inputs, labels, training: bool = False) -> tf.Tensor:
    probabilities = tf.cast(model(inputs, training=training), tf.float32)
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(labels, probabilities))


def check_labels(labels, num_classes: int) -> str:
    """The labels of a sample take at least two classes, all within range."""
    labels = np.asarray(labels).ravel()
    outside = sorted({int(label) for label in labels if not 0 <= label < num_classes})
    if outside:
        raise SanityCheckError(f"labels: class ids {outside} are outside 0..{num_classes - 1}")
    present = sorted({int(label) for label in labels})
    if len(present) < 2:
        raise SanityCheckError(
            f"labels: all {len(labels)} sampled training labels are class {present}; the model would learn "
            "a constant. Check data.label_column and data.classes against the CSV"
        )
    return f"labels: {len(present)} classes among {len(labels)} sampled"


def check_initial_loss(model: keras.Model, inputs, labels, num_classes: int, tolerance: float) -> str:
    """A fresh model's loss is ln(num_classes) give or take `tolerance` (it guesses uniformly)."""
    loss = float(_loss(model, inputs, labels))
    expected = math.log(num_classes)
    if not abs(loss - expected) <= tolerance:
        raise SanityCheckError(
            f"initial loss: {loss:.3f}, expected ln({num_classes}) = {expected:.3f} within {tolerance}; "
            "a fresh model should guess uniformly: check the output layer's initialisation and that "
            "the loss is taken on probabilities over the contract's classes"
        )
    return f"initial loss: {loss:.3f} (ln {num_classes} = {expected:.3f})"


def check_finite_gradients(model: keras.Model, inputs, labels) -> str:
    """Every gradient of the loss with respect to the trainable weights is finite."""
    with tf.GradientTape() as tape:
        loss = _loss(model, inputs, labels, training=True)
    variables = model.trainable_variables
    gradients = tape.gradient(loss, variables)
    bad = [
        variable.path if hasattr(variable, "path") else variable.name
        for variable, gradient in zip(variables, gradients, strict=True)
        if gradient is not None and not bool(tf.reduce_all(tf.math.is_finite(tf.cast(gradient, tf.float32))))
    ]
    if bad or not math.isfinite(float(loss)):
        raise SanityCheckError(
            f"gradients: not finite for {bad[:5]}{' ...' if len(bad) > 5 else ''} (loss {float(loss)}); "
            "look for a log or division of zero, or weights that are already inf/NaN"
        )
    return f"gradients: finite for {sum(g is not None for g in gradients)} weights"


def check_overfits(model: keras.Model, inputs, labels, steps: int, target: float) -> str:
    """A compiled model drives the loss of one small batch below `target` within `steps` steps."""
    loss = float(_loss(model, inputs, labels))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Gradients do not exist for variables")
        for step in range(1, steps + 1):
            model.train_on_batch(inputs, labels)
            if step % 5 == 0 or step == steps:
                loss = float(_loss(model, inputs, labels))
                if loss < target:
                    return f"overfit: loss {loss:.4f} on {len(np.asarray(labels))} examples in {step} steps"
    raise SanityCheckError(
        f"overfit: loss still {loss:.4f} (target {target}) after {steps} steps on the same "
        f"{len(np.asarray(labels))} examples; the model cannot learn them: check that the inputs "
        "carry the text (not padding alone), the learning rate, and that the labels match the inputs"
    )


def run_sanity_checks(
    build_model: Callable[[], keras.Model],
    inputs,
    labels,
    num_classes: int,
    limits: SanityLimits = SanityLimits(),
) -> list[str]:
    """Runs every check on one batch with a fresh model; returns what each found.

    Args:
      build_model: builds a fresh compiled model (the family's own initialisation, no
        data-dependent start such as the n-gram model's naive-Bayes weights).
      inputs: one batch of model inputs (a few dozen examples).
      labels: their class ids.
      num_classes: number of classes.
      limits: tolerances and the overfitting budget.

    Raises:
      SanityCheckError: the first check that failed, with what it found.
    """
    start = time.monotonic()
    found = [check_labels(labels, num_classes)]
    model = build_model()
    found.append(check_initial_loss(model, inputs, labels, num_classes, limits.initial_loss_tolerance))
    found.append(check_finite_gradients(model, inputs, labels))
    found.append(check_overfits(model, inputs, labels, limits.overfit_steps, limits.overfit_loss))
    found.append(f"sanity checks passed in {time.monotonic() - start:.1f} s")
    return found
