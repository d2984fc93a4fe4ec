"""Metrics derived from TFMA's argmax confusion matrix equal scikit-learn's on the same predictions."""

import numpy as np
import pytest
from sklearn import metrics as sk
from tensorflow_model_analysis.metrics.multi_class_confusion_matrix_metrics import MatrixEntryKey

from components import class_metrics


def _tfma_matrices(labels, predicted):
    """TFMA's accumulator shape: {threshold: {MatrixEntryKey(actual, predicted): weight}}."""
    matrix: dict = {}
    for actual, guess in zip(labels, predicted, strict=True):
        key = MatrixEntryKey(int(actual), int(guess))
        matrix[key] = matrix.get(key, 0.0) + 1.0
    return {0.0: matrix}


@pytest.mark.parametrize("num_classes, seed", [(2, 0), (3, 1), (5, 2)])
def test_accuracy_macro_f1_precision_recall_match_scikit_learn(num_classes, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, 500)
    predicted = np.where(rng.random(500) < 0.6, labels, rng.integers(0, num_classes, 500))
    counts = class_metrics.confusion_matrix(_tfma_matrices(labels, predicted), num_classes)
    assert class_metrics.accuracy(counts) == pytest.approx(sk.accuracy_score(labels, predicted))
    assert class_metrics.macro_f1(counts) == pytest.approx(sk.f1_score(labels, predicted, average="macro"))
    precision, recall = class_metrics.per_class_precision_recall(counts)
    assert precision == pytest.approx(sk.precision_score(labels, predicted, average=None))
    assert recall == pytest.approx(sk.recall_score(labels, predicted, average=None))


def test_a_class_never_predicted_counts_zero_as_scikit_learn_does():
    labels, predicted = [0, 1, 2, 2], [0, 1, 1, 1]
    counts = class_metrics.confusion_matrix(_tfma_matrices(labels, predicted), 3)
    expected = sk.f1_score(labels, predicted, average="macro", zero_division=0)
    assert class_metrics.macro_f1(counts) == pytest.approx(expected)
