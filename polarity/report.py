"""What a run did, read from ML Metadata: the summary of `polarity run` and `polarity status`."""

from components import features
from polarity import metadata, rollback, run_files

# Evaluator node id -> (its output keys for evaluation and blessing, the summary key of its metrics,
# and the BlessingGate's record of it).
EVALUATORS = {
    "Evaluator": ("evaluation", "blessing", "metrics", features.SPAN_SUMMARY_KEY),
    "GoldenEvaluator": (
        features.GOLDEN_EVALUATION_KEY,
        features.GOLDEN_BLESSING_KEY,
        "golden_metrics",
        features.GOLDEN_SUMMARY_KEY,
    ),
}
_WHERE = {"Evaluator": "span eval split", "GoldenEvaluator": "golden set"}


def evaluation_metrics(evaluation_uri: str, classes: tuple = ()) -> dict:
    """Candidate metrics per slice from an Evaluator output directory (loads TFMA)."""
    from components import evaluation_summary

    return evaluation_summary.evaluation_metrics(evaluation_uri, classes)


def _first(node: metadata.NodeExecution, key: str):
    artifacts = node.outputs.get(key) or []
    return artifacts[0] if artifacts else None


def _summarize_node(summary: dict, node: metadata.NodeExecution, classes: tuple, late: list) -> None:
    """Adds what one component did to the summary; work that needs TensorFlow goes to `late`."""
    if node.node_id == "CsvExampleGen" and _first(node, "examples"):
        summary["span"] = metadata.span_of(_first(node, "examples"))
    elif node.node_id == "StatisticsGen" and _first(node, "statistics"):
        rows = run_files.rows_per_split(_first(node, "statistics"))
        if rows is None:
            late.append(lambda: summary.update(rows=_rows_with_tfx(_first(node, "statistics"))))
        else:
            summary["rows"] = rows
    elif node.node_id == "ExampleValidator" and _first(node, "anomalies"):
        found = run_files.anomalies(_first(node, "anomalies"))
        if found is None:
            late.append(lambda: summary.update(anomalies=_anomalies_with_tfx(_first(node, "anomalies"))))
        else:
            summary["anomalies"] = found
    elif node.node_id in EVALUATORS and _first(node, EVALUATORS[node.node_id][0]):
        late.append(lambda: _evaluation_from_files(summary, node, classes))
    elif node.node_id == "BlessingGate" and _first(node, "verdict"):
        verdict = _first(node, "verdict")
        summary["blessed"] = bool(metadata.custom_value(verdict, "blessed"))
        verdicts = metadata.json_value(verdict, "verdicts") or {}
        if verdicts.get(features.NOT_ROLLED_BACK_VERDICT) is False:
            summary["not_blessed_because"].append(
                "the model was rolled back with `polarity rollback`; it is never pushed again"
            )
        for node_id, (_, _, metrics_key, record_key) in EVALUATORS.items():
            record = metadata.json_value(verdict, record_key)
            if record is not None:
                summary[metrics_key] = overall_first(record["metrics"])
                reasons = record["not_blessed_because"]
                summary["not_blessed_because"] += [f"{_WHERE[node_id]}: {reason}" for reason in reasons]
                summary["_recorded"].add(node_id)
    elif node.node_id == "DataGate" and _first(node, "validated_statistics"):
        validated = _first(node, "validated_statistics")
        summary["profile"] = metadata.json_value(validated, "profile")
        summary["drift_warnings"] = list(metadata.json_value(validated, "drift_warnings") or [])
    elif node.node_id == "Pusher" and _first(node, "pushed_model"):
        pushed = _first(node, "pushed_model")
        summary["pushed"] = bool(metadata.custom_value(pushed, "pushed"))
        summary["pushed_model"] = metadata.custom_value(pushed, "pushed_destination")
        summary["pushed_version"] = metadata.custom_value(pushed, "pushed_version")


def overall_first(metrics: dict) -> dict:
    """Slices in reading order, "overall" first (ML Metadata keeps a record's keys unordered)."""
    return dict(sorted(metrics.items(), key=lambda entry: (entry[0] != "overall", entry[0])))


def _evaluation_from_files(summary: dict, node: metadata.NodeExecution, classes: tuple) -> None:
    """An Evaluator's metrics read from its TFMA output: runs the BlessingGate did not record."""
    if node.node_id in summary["_recorded"]:
        return
    from components import evaluation_summary

    evaluation_key, blessing_key, metrics_key, _ = EVALUATORS[node.node_id]
    uri = _first(node, evaluation_key).uri
    summary[metrics_key] = evaluation_summary.evaluation_metrics(uri, classes)
    blessing = _first(node, blessing_key)
    if not (blessing and metadata.custom_value(blessing, "blessed")):
        reasons = evaluation_summary.blessing_reasons(uri)
        summary["not_blessed_because"] += [f"{_WHERE[node.node_id]}: {reason}" for reason in reasons]


def _rows_with_tfx(statistics) -> dict:
    from tfx import v1 as tfx

    from components import data_gate

    wrapped = metadata.as_tfx_artifact(statistics, tfx.types.standard_artifacts.ExampleStatistics)
    return {split: data_gate.count_rows(wrapped, split) for split in run_files.split_names(statistics)}


def _anomalies_with_tfx(anomalies) -> list[str]:
    from tfx import v1 as tfx

    from components import data_gate

    wrapped = metadata.as_tfx_artifact(anomalies, tfx.types.standard_artifacts.ExampleAnomalies)
    return [
        f"[{split}] {line}"
        for split in run_files.split_names(anomalies)
        for line in data_gate.describe_anomalies(data_gate.load_split_anomalies(wrapped, split))
    ]


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
    late: list = []
    summary["_recorded"] = set()  # evaluators whose metrics the BlessingGate recorded
    for node in nodes:
        _summarize_node(summary, node, tuple(classes), late)
    for step in late:  # only for what ML Metadata and local files did not hold
        step()
    del summary["_recorded"]
    if serving_dir is not None:
        summary["serving"] = rollback.serving_state(serving_dir)
    return summary
