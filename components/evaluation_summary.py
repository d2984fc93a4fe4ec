"""Plain summaries of TFMA's outputs: metrics per slice and why a candidate was not blessed.

The BlessingGate records them on its verdict in ML Metadata, so `polarity status` and
`polarity lineage` answer from ML Metadata alone, without loading TensorFlow; the
readers below are also their fallback for runs recorded before that.
"""

import tensorflow_model_analysis as tfma

from components import class_metrics, features

# TFMA metric name -> its name in a summary; per-class metrics become "<name>/<class>".
METRIC_NAMES = {
    "example_count": "examples",
    class_metrics.ACCURACY: "accuracy",
    class_metrics.MACRO_F1: "macro_f1",
    class_metrics.PRECISION: "precision",
    class_metrics.RECALL: "recall",
}


def slice_name(slice_key) -> str:
    """'overall', 'source=imdb', 'length_bucket=20-99 tokens', ..."""
    parts = []
    for key in slice_key.single_slice_keys:
        value = key.WhichOneof("kind")
        value = getattr(key, value) if value else ""
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if key.column == features.LENGTH_BUCKET_KEY:
            value = features.length_bucket_name(int(value))
        parts.append(f"{key.column}={value}")
    return ",".join(parts) or "overall"


def metric_name(key, classes: tuple = ()) -> str:
    """The summary name of a TFMA metric key: "accuracy", "recall/<class name>", ..."""
    name = METRIC_NAMES[key.name]
    if key.HasField("sub_key") and key.sub_key.HasField("class_id"):
        class_id = key.sub_key.class_id.value
        name += f"/{classes[class_id] if class_id < len(classes) else class_id}"
    return name


def metrics_by_model(evaluation_uri: str, classes: tuple = ()) -> dict:
    """{"candidate": {slice: {metric: value}}, "baseline": {...}} from one read of the
    Evaluator's metrics (the baseline's are empty when it had none).

    Args:
      evaluation_uri: the Evaluator's output directory.
      classes: the class names, to name per-class metrics ("recall/positive").
    """
    found: dict[str, dict[str, dict[str, float]]] = {"candidate": {}, "baseline": {}}
    for record in tfma.load_metrics(evaluation_uri):
        where = slice_name(record.slice_key)
        for item in record.metric_keys_and_values:
            if item.key.is_diff or item.key.name not in METRIC_NAMES:
                continue
            model = "baseline" if item.key.model_name == "baseline" else "candidate"
            values = found[model].setdefault(where, {})
            values[metric_name(item.key, classes)] = round(item.value.double_value.value, 4)
    return {
        model: dict(sorted(metrics.items(), key=lambda entry: (entry[0] != "overall", entry[0])))
        for model, metrics in found.items()
    }


def evaluation_metrics(evaluation_uri: str, classes: tuple = (), model: str = "candidate") -> dict:
    """Metrics per slice of one model ("candidate", or "baseline" for the one it was compared with)."""
    return metrics_by_model(evaluation_uri, classes)[model]


def blessing_reasons(evaluation_uri: str) -> list[str]:
    """Why a candidate was not blessed, one sentence per failed threshold."""
    result = tfma.load_validation_result(evaluation_uri)
    reasons = []
    for per_slice in result.metric_validations_per_slice:
        where = slice_name(per_slice.slice_key)
        for failure in per_slice.failures:
            name = failure.metric_key.name
            value = failure.metric_value.double_value.value
            threshold = failure.metric_threshold
            if failure.metric_key.is_diff:
                bound = threshold.change_threshold.absolute.value
                reasons.append(
                    f"{name} changed by {value:+.4f} against the baseline on {where}; allowed {bound:+.4f}"
                )
            else:
                bound = threshold.value_threshold.lower_bound.value
                reasons.append(f"{name} {value:.4f} on {where} is below the floor {bound:.4f}")
    if result.missing_thresholds or (not result.validation_ok and not reasons):
        reasons.append(f"validation failed: {result.validation_details or result.missing_slices}")
    return reasons


def summarize(evaluation_uri: str, classes: tuple, blessed: bool) -> dict:
    """What the BlessingGate records of one evaluation: candidate and baseline metrics, reasons."""
    by_model = metrics_by_model(evaluation_uri, classes)
    return {
        "metrics": by_model["candidate"],
        "baseline_metrics": by_model["baseline"],
        "not_blessed_because": [] if blessed else blessing_reasons(evaluation_uri),
    }
