"""What a run did, read from ML Metadata: the summary of `polarity run` and `polarity status`."""

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx
from tfx.types import artifact_utils

from components import blessing_gate, class_metrics, data_gate, features, golden_evaluator
from polarity import metadata, rollback

# TFMA metric name -> its name in a summary; per-class metrics become "<name>/<class>".
METRIC_NAMES = {
    "example_count": "examples",
    class_metrics.ACCURACY: "accuracy",
    class_metrics.MACRO_F1: "macro_f1",
    class_metrics.PRECISION: "precision",
    class_metrics.RECALL: "recall",
}


# Evaluator node id -> (its output keys for evaluation and blessing, the summary key of its metrics).
EVALUATORS = {
    "Evaluator": ("evaluation", "blessing", "metrics"),
    "GoldenEvaluator": (golden_evaluator.EVALUATION_KEY, golden_evaluator.BLESSING_KEY, "golden_metrics"),
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


def evaluation_metrics(evaluation_uri: str, classes: tuple = ()) -> dict[str, dict[str, float]]:
    """Candidate metrics per slice from an Evaluator output directory.

    Args:
      evaluation_uri: the Evaluator's output directory.
      classes: the class names, to name per-class metrics ("recall/positive").
    """
    metrics: dict[str, dict[str, float]] = {}
    for record in tfma.load_metrics(evaluation_uri):
        values = metrics.setdefault(slice_name(record.slice_key), {})
        for item in record.metric_keys_and_values:
            if item.key.is_diff or item.key.model_name == "baseline" or item.key.name not in METRIC_NAMES:
                continue
            values[metric_name(item.key, classes)] = round(item.value.double_value.value, 4)
    return dict(sorted(metrics.items(), key=lambda entry: (entry[0] != "overall", entry[0])))


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


_PROTO_LISTS = ("RepeatedCompositeContainer", "ListValue")


def _plain(value):
    """JSON-ready copies of the dict/list views TFX returns for JSON properties."""
    if hasattr(value, "items"):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ in _PROTO_LISTS:
        return [_plain(item) for item in value]
    return value


def _first(node: metadata.NodeExecution, key: str):
    artifacts = node.outputs.get(key) or []
    return artifacts[0] if artifacts else None


def _summarize_node(summary: dict, node: metadata.NodeExecution, classes: tuple) -> None:
    standard = tfx.types.standard_artifacts
    if node.node_id == "CsvExampleGen" and _first(node, "examples"):
        summary["span"] = data_gate.span_of(
            metadata.as_tfx_artifact(_first(node, "examples"), standard.Examples)
        )
    elif node.node_id == "StatisticsGen" and _first(node, "statistics"):
        stats = metadata.as_tfx_artifact(_first(node, "statistics"), standard.ExampleStatistics)
        summary["rows"] = {
            split: data_gate.count_rows(stats, split)
            for split in artifact_utils.decode_split_names(stats.split_names)
        }
    elif node.node_id == "ExampleValidator" and _first(node, "anomalies"):
        anomalies = metadata.as_tfx_artifact(_first(node, "anomalies"), standard.ExampleAnomalies)
        summary["anomalies"] = [
            f"[{split}] {line}"
            for split in artifact_utils.decode_split_names(anomalies.split_names)
            for line in data_gate.describe_anomalies(data_gate.load_split_anomalies(anomalies, split))
        ]
    elif node.node_id in EVALUATORS and _first(node, EVALUATORS[node.node_id][0]):
        evaluation_key, blessing_key, metrics_key = EVALUATORS[node.node_id]
        uri = _first(node, evaluation_key).uri
        summary[metrics_key] = evaluation_metrics(uri, classes)
        blessing = _first(node, blessing_key)
        if not (blessing and metadata.custom_value(blessing, "blessed")):
            where = "golden set" if node.node_id == "GoldenEvaluator" else "span eval split"
            summary["not_blessed_because"] += [f"{where}: {reason}" for reason in blessing_reasons(uri)]
    elif node.node_id == "BlessingGate" and _first(node, "verdict"):
        verdict = metadata.as_tfx_artifact(_first(node, "verdict"), standard.ModelBlessing)
        summary["blessed"] = bool(verdict.get_int_custom_property("blessed"))
        verdicts = verdict.get_json_value_custom_property("verdicts") or {}
        if verdicts.get(blessing_gate.NOT_ROLLED_BACK_VERDICT) is False:
            summary["not_blessed_because"].append(
                "the model was rolled back with `polarity rollback`; it is never pushed again"
            )
    elif node.node_id == "DataGate" and _first(node, "validated_statistics"):
        validated = metadata.as_tfx_artifact(_first(node, "validated_statistics"), standard.ExampleStatistics)
        summary["profile"] = _plain(validated.get_json_value_custom_property("profile"))
        summary["drift_warnings"] = list(validated.get_json_value_custom_property("drift_warnings") or [])
    elif node.node_id == "Pusher" and _first(node, "pushed_model"):
        pushed = _first(node, "pushed_model")
        summary["pushed"] = bool(metadata.custom_value(pushed, "pushed"))
        summary["pushed_model"] = metadata.custom_value(pushed, "pushed_destination")
        summary["pushed_version"] = metadata.custom_value(pushed, "pushed_version")


def run_summary(store, pipeline_name: str, run=None, serving_dir=None, classes: tuple = ()) -> dict | None:
    """The summary of one run (the latest by default); None if none ran.

    With serving_dir, it also holds "serving": the version a server of that
    directory serves and, if a rollback published it, the version it copies.
    `classes` (the dataset contract's class names) name the per-class metrics.
    """
    if run is None:
        runs = metadata.pipeline_runs(store, pipeline_name)
        if not runs:
            return None
        run = runs[-1]
    nodes = metadata.run_executions(store, run)
    failed = [node for node in nodes if node.state == "failed"]
    summary = {
        "pipeline": pipeline_name,
        "run_id": run.name,
        "classes": list(classes),
        "state": "failed"
        if failed
        else ("running" if any(n.state == "running" for n in nodes) else "complete"),
        "components": [
            {"id": node.node_id, "state": node.state, "seconds": round(node.seconds, 1)} for node in nodes
        ],
        "span": None,
        "rows": {},
        "anomalies": [],
        "metrics": {},
        "golden_metrics": {},
        "profile": None,
        "drift_warnings": [],
        "blessed": None,
        "not_blessed_because": [],
        "pushed": None,
        "pushed_model": None,
        "pushed_version": None,
        "error": failed[0].error if failed else "",
        "failed_component": failed[0].node_id if failed else None,
    }
    for node in nodes:
        _summarize_node(summary, node, tuple(classes))
    if serving_dir is not None:
        summary["serving"] = rollback.serving_state(serving_dir)
    return summary
