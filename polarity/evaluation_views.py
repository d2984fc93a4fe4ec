"""What the Evaluator found, read from its TFMA output for the report and the model card.

Metrics per slice for the candidate and the baseline, the thresholds blessing applied
(from the EvalConfig the Evaluator ran with, as ML Metadata recorded it), and the
overall slice's plots: the confusion matrix, and per class (one against the rest) the
reliability diagram, the ROC curve and the precision-recall curve.
"""

import tensorflow_model_analysis as tfma
from google.protobuf import json_format
from tensorflow_model_analysis.proto import config_pb2

from components import evaluation_summary

CANDIDATE, BASELINE = "candidate", "baseline"
EVAL_CONFIG_PROPERTY = "eval_config"


def metrics_by_model(evaluation_uri: str, classes: tuple = ()) -> dict:
    """{"candidate": {slice: {metric: value}}, "baseline": {...}} (baseline empty without one)."""
    return evaluation_summary.metrics_by_model(evaluation_uri, classes)


def thresholds(eval_config_json: str) -> list[dict]:
    """The blessing thresholds of an EvalConfig: [{"metric", "slice", "floor", "max_drop"}].

    Args:
      eval_config_json: the EvalConfig as JSON (the Evaluator execution's `eval_config`).
    """
    config = json_format.Parse(eval_config_json, config_pb2.EvalConfig())
    found = []
    for spec in config.metrics_specs:
        for metric in spec.metrics:
            for per_slice in metric.per_slice_thresholds:
                threshold = per_slice.threshold
                for slicing in per_slice.slicing_specs or [config_pb2.SlicingSpec()]:
                    columns = ",".join(slicing.feature_keys) or "overall"
                    found.append(
                        {
                            "metric": evaluation_summary.METRIC_NAMES.get(
                                _snake(metric.class_name), metric.class_name
                            ),
                            "slice": columns,
                            "floor": threshold.value_threshold.lower_bound.value
                            if threshold.value_threshold.HasField("lower_bound")
                            else None,
                            "max_drop": -threshold.change_threshold.absolute.value
                            if threshold.change_threshold.HasField("absolute")
                            else None,
                        }
                    )
    return found


def _snake(class_name: str) -> str:
    """TFMA's metric name for a metric class name: "MacroF1" -> "macro_f1"."""
    return "".join(
        f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(class_name)
    ).replace("f_1", "f1")


def execution_thresholds(store, execution_id: int) -> list[dict]:
    """The thresholds of the EvalConfig an Evaluator execution ran with; [] if none recorded."""
    [execution] = store.get_executions_by_id([execution_id])
    for properties in (execution.custom_properties, execution.properties):
        if EVAL_CONFIG_PROPERTY in properties:
            return thresholds(properties[EVAL_CONFIG_PROPERTY].string_value)
    return []


def _confusion(value, num_classes: int) -> list[list[float]]:
    """Rows are actual classes, columns predicted ones, from the arg-max matrix."""
    matrix = [[0.0] * num_classes for _ in range(num_classes)]
    matrices = value.multi_class_confusion_matrix_at_thresholds.matrices
    for entry in matrices[0].entries if matrices else []:
        if entry.actual_class_id < num_classes and entry.predicted_class_id < num_classes:
            matrix[entry.actual_class_id][entry.predicted_class_id] = entry.num_weighted_examples
    return matrix


def _calibration(value) -> dict:
    """Reliability: per score bucket that holds examples, mean score, observed rate, count."""
    points = {"predicted": [], "observed": [], "count": []}
    for bucket in value.calibration_histogram_buckets.buckets:
        count = bucket.num_weighted_examples.value
        if count > 0:
            points["predicted"].append(bucket.total_weighted_refined_prediction.value / count)
            points["observed"].append(bucket.total_weighted_label.value / count)
            points["count"].append(count)
    return points


def _curves(value) -> dict:
    """ROC (false positive rate, recall) and precision-recall points over thresholds."""
    matrices = value.confusion_matrix_at_thresholds.matrices
    roc = [(m.false_positive_rate, m.recall) for m in matrices]
    pr = [(m.recall, m.precision) for m in matrices if m.true_positives + m.false_positives > 0]
    return {
        "roc": sorted(roc),
        "pr": sorted(pr),
    }


def overall_plots(evaluation_uri: str, classes: tuple) -> dict:
    """{model: {"confusion": matrix, "per_class": {class: {"calibration", "roc", "pr"}}}} for
    the overall slice; a model without plots (an evaluation before they existed) is absent."""
    found: dict = {}
    for record in tfma.load_plots(evaluation_uri):
        if evaluation_summary.slice_name(record.slice_key) != "overall":
            continue
        for item in record.plot_keys_and_values:
            model = found.setdefault(BASELINE if item.key.model_name == BASELINE else CANDIDATE, {})
            if item.value.HasField("multi_class_confusion_matrix_at_thresholds"):
                model["confusion"] = _confusion(item.value, len(classes))
            if item.key.HasField("sub_key") and item.key.sub_key.HasField("class_id"):
                class_id = item.key.sub_key.class_id.value
                name = classes[class_id] if class_id < len(classes) else str(class_id)
                model.setdefault("per_class", {})[name] = {
                    "calibration": _calibration(item.value),
                    **_curves(item.value),
                }
    return found
