"""Everything the run report shows, gathered from ML Metadata and the run's artifacts.

`run_report_data` returns plain data (JSON-ready): the span (rows, class balance, text
lengths, slices, anomalies, drift per check), the candidate against its baseline (per
slice, with the Evaluator's plots), the blessing decision with each threshold, the most
confident mistakes, and the lineage. polarity/html_report.py draws it.
"""

import dataclasses

import numpy as np
from tfx import v1 as tfx

from components import data_gate, drift
from components.contract import DatasetContract
from polarity import evaluation_views, metadata, mistakes, report, rollback

LENGTH_BINS = 20
MISTAKES_SHOWN = 10
EVALUATOR_OUTPUTS = {"Evaluator": "evaluation", "GoldenEvaluator": "golden_evaluation"}


def _output(node: metadata.NodeExecution | None, key: str):
    artifacts = (node.outputs.get(key) or []) if node else []
    return artifacts[0] if artifacts else None


def _property(store, node: metadata.NodeExecution, name: str):
    """An execution property's value (a component parameter), or None."""
    [execution] = store.get_executions_by_id([node.execution_id])
    for properties in (execution.custom_properties, execution.properties):
        if name in properties:
            value = properties[name]
            return getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None
    return None


def halt_reasons(store, nodes: dict, drift_found: dict) -> list[str]:
    """Why the DataGate halted the run (anomalies, too few rows, drift past a "halt"
    threshold), as it judged them; [] unless it failed."""
    gate = nodes.get("DataGate")
    anomalies = _output(nodes.get("ExampleValidator"), "anomalies")
    statistics = _output(nodes.get("StatisticsGen"), "statistics")
    if gate is None or gate.state != "failed" or anomalies is None or statistics is None:
        return []
    standard = tfx.types.standard_artifacts
    reasons = data_gate.span_problems(
        metadata.as_tfx_artifact(anomalies, standard.ExampleAnomalies),
        data_gate.load_split_statistics(metadata.as_tfx_artifact(statistics, standard.ExampleStatistics)),
        int(_property(store, gate, "min_rows") or 0),
    )
    return reasons + [
        f"{check['measure']} drifted by {check['distance']:.3f} (threshold {check['threshold']:.3f})"
        for check in drift_found["checks"]
        if check.get("fired") and check["action"] == drift.HALT
    ]


def text_lengths(examples_uri: str, contract: DatasetContract) -> dict:
    """A histogram of text lengths in characters over the span's splits (the 99th
    percentile closes the last bin, so that a few very long texts do not flatten it)."""
    lengths = [
        len(text)
        for split in ("train", mistakes.EVAL_SPLIT)
        for _, text, _ in mistakes.read_split(examples_uri, contract, split)
    ]
    if not lengths:
        return {"edges": [], "counts": [], "longest": 0}
    top = max(float(np.percentile(lengths, 99)), 1.0)
    counts, edges = np.histogram(np.minimum(lengths, top), bins=LENGTH_BINS, range=(0, top))
    return {"edges": edges.round(1).tolist(), "counts": counts.tolist(), "longest": max(lengths)}


def _previous_profile(store, before_id: int) -> tuple[int | None, dict | None]:
    """(span, profile) of the last span that passed the DataGate before artifact `before_id`."""
    candidates = [
        artifact
        for artifact in store.get_artifacts_by_type("ExampleStatistics")
        if artifact.id < before_id and "profile" in artifact.custom_properties
    ]
    if not candidates:
        return None, None
    latest = max(candidates, key=lambda artifact: artifact.id)
    return metadata.custom_value(latest, "span"), metadata.json_value(latest, "profile")


def drift_checks(store, gate: metadata.NodeExecution | None, profile: dict, before_id: int) -> dict:
    """Each drift check of the DataGate against the previous validated span: its
    distance, threshold and action, and whether it fired."""
    checks_json = _property(store, gate, "drift_checks") if gate else None
    if checks_json is None:
        return {"previous_span": None, "checks": []}
    checks = drift.checks_from_json(checks_json)
    previous_span, previous = _previous_profile(store, before_id)
    if previous is None:
        return {"previous_span": None, "checks": [dataclasses.asdict(check) for check in checks]}
    # A negative threshold makes every comparable measure a finding, so each one's distance is known.
    measured = drift.find_drift(
        previous, profile, [drift.DriftCheck(check.measure, -1.0, check.action) for check in checks]
    )
    distances = {finding.measure: finding.distance for finding in measured}
    return {
        "previous_span": previous_span,
        "checks": [
            {
                **dataclasses.asdict(check),
                "distance": distances.get(check.measure),
                "fired": distances.get(check.measure, 0.0) > check.threshold,
            }
            for check in checks
        ],
    }


def span_section(store, nodes: dict, contract: DatasetContract, summary: dict) -> dict:
    """Rows, class balance, slice counts, text lengths, anomalies and drift of the run's span."""
    statistics = _output(nodes.get("StatisticsGen"), "statistics")
    examples = _output(nodes.get("CsvExampleGen"), "examples")
    profile = summary.get("profile")
    if statistics is not None:
        wrapped = metadata.as_tfx_artifact(statistics, tfx.types.standard_artifacts.ExampleStatistics)
        profile = drift.span_profile(data_gate.load_split_statistics(wrapped), contract)
    rows = (profile or {}).get("rows", 0)
    no_drift = {"previous_span": None, "checks": []}
    drift_found = (
        drift_checks(store, nodes.get("DataGate"), profile, statistics.id)
        if profile and statistics is not None
        else no_drift
    )
    return {
        "span": summary.get("span"),
        "rows": summary.get("rows") or {},
        "class_balance": (profile or {}).get("label_balance", {}),
        "slice_counts": {
            column: {value: round(share * rows) for value, share in sorted(shares.items())}
            for column, shares in (profile or {}).get("slice_mix", {}).items()
        },
        "mean_text_length": (profile or {}).get("text_length"),
        "text_lengths": text_lengths(examples.uri, contract) if examples is not None else None,
        "anomalies": summary.get("anomalies") or [],
        "drift": drift_found,
        "halted_because": halt_reasons(store, nodes, drift_found),
        "drift_warnings": summary.get("drift_warnings") or [],
    }


def evaluation_section(store, node: metadata.NodeExecution | None, classes: tuple) -> dict | None:
    """One Evaluator's metrics per model and slice, thresholds and overall plots."""
    evaluation = _output(node, EVALUATOR_OUTPUTS.get(node.node_id, "")) if node else None
    if evaluation is None:
        return None
    return {
        "metrics": evaluation_views.metrics_by_model(evaluation.uri, classes),
        "thresholds": evaluation_views.execution_thresholds(store, node.execution_id),
        "plots": evaluation_views.overall_plots(evaluation.uri, classes),
    }


def mistakes_section(nodes: dict, contract: DatasetContract) -> list[dict]:
    """The candidate's most confident mistakes on the span's eval split."""
    model = _output(nodes.get("Trainer"), "model")
    examples = _output(nodes.get("CsvExampleGen"), "examples")
    if model is None or examples is None:
        return []
    found = mistakes.most_confident_mistakes(model.uri, examples.uri, contract, limit=MISTAKES_SHOWN)
    return [dataclasses.asdict(mistake) for mistake in found]


def find_run(store, pipeline_name: str, run_id: str | None):
    """The run context named `run_id` (the latest run when None; None if none ran).

    Raises:
      LookupError: no run has that id.
    """
    runs = metadata.pipeline_runs(store, pipeline_name)
    if run_id is None:
        return runs[-1] if runs else None
    matching = [run for run in runs if run.name == run_id]
    if not matching:
        known = ", ".join(run.name for run in runs[-5:]) or "none"
        raise LookupError(f"no run {run_id!r} of pipeline {pipeline_name!r}; latest runs: {known}")
    return matching[0]


def run_report_data(config, store, run_id: str | None = None) -> dict | None:
    """All the report shows about one run (the latest by default); None if none ran.

    Raises:
      LookupError: no run has that id.
    """
    contract = config.data.contract()
    run = find_run(store, config.pipeline_name, run_id)
    if run is None:
        return None
    classes = tuple(contract.classes)
    summary = report.run_summary(store, config.pipeline_name, run, config.serving_dir, classes)
    nodes = {node.node_id: node for node in metadata.run_executions(store, run)}
    return {
        "summary": summary,
        "classes": list(classes),
        "span": span_section(store, nodes, contract, summary),
        "evaluation": evaluation_section(store, nodes.get("Evaluator"), classes),
        "golden": evaluation_section(store, nodes.get("GoldenEvaluator"), classes),
        "mistakes": mistakes_section(nodes, contract),
        "serving": rollback.serving_state(config.serving_dir),
    }
