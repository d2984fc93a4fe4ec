"""LP-FT's first step: the encoder's softmax head fitted on frozen features before fine-tuning.

Fine-tuning a pretrained encoder under a randomly initialised head sends the head's
random gradients into the encoder while the head is still learning, and distorts the
pretrained features most where the training data does not reach: out of domain. A
linear probe first (the head fitted as a logistic regression on the frozen encoder's
pooled features), then fine-tuning, keeps more of them (Kumar et al., "Fine-Tuning can
Distort Pretrained Features and Underperform Out-of-Distribution", ICLR 2022).
`training.encoder.head: linear_probe` turns it on; benchmarks/encoder_bench.py measures it.

The probe reads the training texts once, without gradients (about a third of a
fine-tuning epoch), and picks scikit-learn's inverse L2 strength C by cross-validated
log-loss on them, so it reads the eval split no more than fine-tuning does.
"""

import logging

import keras
import numpy as np
import tensorflow as tf

from components import encoder_model

# The values of scikit-learn's C tried (on standardised-scale pooled features, norm about 1-3).
PROBE_STRENGTHS = (0.1, 1.0, 10.0, 100.0)
PROBE_FOLDS = 5


def pooled_features(model: keras.Model, batches: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(pooled encoder features [texts, width], class ids [texts]) of (encoder inputs, label) batches,
    read in one pass so that the rows line up however the dataset shuffles."""
    embedder = keras.Model(model.inputs, model.get_layer(encoder_model.HEAD_LAYER).input)
    embed = tf.function(lambda inputs: embedder(inputs, training=False), reduce_retracing=True)
    found, labels = [], []
    for inputs, label in batches:
        found.append(np.asarray(embed(inputs), np.float32))
        labels.append(np.asarray(label))
    return np.concatenate(found), np.concatenate(labels)


def softmax_head(coef: np.ndarray, intercept: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's logistic regression as a Dense softmax head: (kernel [width, classes], bias).

    With two classes scikit-learn holds one weight vector w (class 1 against class 0):
    logits (-w/2, w/2) give the same probabilities.
    """
    if num_classes == 2:
        coef = np.concatenate([-coef / 2, coef / 2])
        intercept = np.concatenate([-intercept / 2, intercept / 2])
    return coef.T.astype(np.float32), intercept.astype(np.float32)


def fit_head(model: keras.Model, batches: tf.data.Dataset, num_classes: int) -> float:
    """Fits the model's head on its frozen pooled features; returns the chosen C.

    Args:
      model: the encoder model (components/encoder_model.py), its head named encoder_model.HEAD_LAYER.
      batches: (encoder inputs, class id) batches of the training texts.
      num_classes: number of classes.

    Raises:
      ValueError: some class has no training text (the head could not learn it).
    """
    from sklearn.linear_model import LogisticRegressionCV

    pooled, labels = pooled_features(model, batches)
    missing = sorted(set(range(num_classes)) - set(labels.tolist()))
    if missing:
        raise ValueError(
            f"training.encoder.head=linear_probe: the training texts hold no example of classes "
            f"{missing}; every class needs some"
        )
    folds = int(min(PROBE_FOLDS, np.bincount(labels, minlength=num_classes).min()))
    fitted = LogisticRegressionCV(
        Cs=list(PROBE_STRENGTHS), cv=max(folds, 2), scoring="neg_log_loss", max_iter=2000
    ).fit(pooled, labels)
    strength = float(np.ravel(fitted.C_)[0])
    kernel, bias = softmax_head(fitted.coef_, fitted.intercept_, num_classes)
    model.get_layer(encoder_model.HEAD_LAYER).set_weights([kernel, bias])
    logging.info(
        "Linear probe: head fitted on %d frozen encoder features (C=%g, training accuracy %.3f)",
        len(labels),
        strength,
        fitted.score(pooled, labels),
    )
    return strength
