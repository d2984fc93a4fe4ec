"""TFMA metrics of a single-label classifier over two or more classes, from one confusion matrix.

TFMA's own multi-class confusion matrix (`multi_class_confusion_matrices`, predicted
class = argmax of the scores) is computed once per slice; accuracy, macro-F1 and each
class's precision and recall are derived from it. TFMA's binarized metrics would
threshold each class's score at 0.5 instead of taking the argmax, which is not what
the model predicts with three or more classes.

The Evaluator imports this module by path (`MetricConfig(module=...)`).
"""

import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util
from tensorflow_model_analysis.metrics import multi_class_confusion_matrix_metrics as mc

ACCURACY = "accuracy"
MACRO_F1 = "macro_f1"
PRECISION = "precision"
RECALL = "recall"
MODULE = __name__
# The argmax is always above 0: softmax scores are positive.
_ARGMAX_THRESHOLD = 0.0


def confusion_matrix(matrices, num_classes: int) -> np.ndarray:
    """[actual, predicted] counts from TFMA's matrices at the argmax threshold."""
    counts = np.zeros((num_classes, num_classes))
    for entry, weight in matrices[_ARGMAX_THRESHOLD].items():
        if 0 <= entry.actual_class_id < num_classes and 0 <= entry.predicted_class_id < num_classes:
            counts[entry.actual_class_id, entry.predicted_class_id] += weight
    return counts


def per_class_precision_recall(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(precision, recall) of each class; 0 where a class was never predicted or never seen."""
    correct = np.diag(counts)
    predicted, actual = counts.sum(axis=0), counts.sum(axis=1)
    precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
    recall = np.divide(correct, actual, out=np.zeros_like(correct), where=actual > 0)
    return precision, recall


def macro_f1(counts: np.ndarray) -> float:
    """Mean over classes of F1 (as scikit-learn's f1_score(average='macro'), zero_division=0)."""
    precision, recall = per_class_precision_recall(counts)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    return float(f1.mean())


def accuracy(counts: np.ndarray) -> float:
    return float(np.trace(counts) / max(counts.sum(), 1e-12))


def _derived(name: str, num_classes: int, compute, eval_config, model_name, output_name, example_weighted):
    """The shared confusion matrix, and a derived computation of `compute(counts)` -> {key: value}."""
    matrices = mc.multi_class_confusion_matrices(
        thresholds=[_ARGMAX_THRESHOLD],
        eval_config=eval_config,
        model_name=model_name,
        output_name=output_name,
        example_weighted=example_weighted,
    )
    matrices_key = matrices[-1].keys[-1]

    def key(sub_key=None):
        return metric_types.MetricKey(
            name=name,
            model_name=model_name,
            output_name=output_name,
            sub_key=sub_key,
            example_weighted=example_weighted,
        )

    keys = (
        [key()] if compute is not None else [key(metric_types.SubKey(class_id=c)) for c in range(num_classes)]
    )

    def result(metrics):
        counts = confusion_matrix(metrics[matrices_key], num_classes)
        if compute is not None:
            return {keys[0]: compute(counts)}
        precision, recall = per_class_precision_recall(counts)
        values = precision if name == PRECISION else recall
        return {keys[c]: float(values[c]) for c in range(num_classes)}

    return [*matrices, metric_types.DerivedMetricComputation(keys=keys, result=result)]


def _whole(compute):
    def create(num_classes, name, eval_config=None, model_name="", output_name="", example_weighted=False):
        return _derived(name, num_classes, compute, eval_config, model_name, output_name, example_weighted)

    # Called once per model (candidate and baseline) and output, each reading its own labels.
    return metric_util.merge_per_key_computations(create)


@metric_util.merge_per_key_computations
def _per_class(name, num_classes, eval_config=None, model_name="", output_name="", example_weighted=False):
    return _derived(name, num_classes, None, eval_config, model_name, output_name, example_weighted)


class Accuracy(metric_types.Metric):
    """Share of examples whose argmax class is the label."""

    def __init__(self, num_classes: int = 2, name: str = ACCURACY):
        super().__init__(_whole(accuracy), num_classes=num_classes, name=name)


class MacroF1(metric_types.Metric):
    """Unweighted mean over classes of F1."""

    def __init__(self, num_classes: int = 2, name: str = MACRO_F1):
        super().__init__(_whole(macro_f1), num_classes=num_classes, name=name)


class ClassPrecision(metric_types.Metric):
    """Precision of each class, under sub key class_id."""

    def __init__(self, num_classes: int = 2, name: str = PRECISION):
        super().__init__(_per_class, num_classes=num_classes, name=name)


class ClassRecall(metric_types.Metric):
    """Recall of each class, under sub key class_id."""

    def __init__(self, num_classes: int = 2, name: str = RECALL):
        super().__init__(_per_class, num_classes=num_classes, name=name)
