"""Where a pushed model came from, answered from ML Metadata's events.

PushedModel (pushed_version) <- Pusher -> its model and blessing inputs;
Model <- Trainer <- transformed examples <- Transform <- Examples (span) from
CsvExampleGen; the blessing <- Evaluator -> its evaluation (metrics) and the
baseline model it was compared against. A version published by a rollback is
traced back to the version whose files it copies.
"""

from ml_metadata.proto import metadata_store_pb2

from components import features
from polarity import metadata, report, rollback
from serving import model_dir

_INPUT, _OUTPUT = metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.OUTPUT
_DONE = (metadata_store_pb2.Execution.COMPLETE,)


class LineageError(LookupError):
    """No lineage for the asked version, with what to do."""


def _producer(store, artifact_id: int) -> metadata_store_pb2.Execution | None:
    """The execution that made an artifact (not the cached runs that reused it)."""
    ids = [e.execution_id for e in store.get_events_by_artifact_ids([artifact_id]) if e.type == _OUTPUT]
    executions = sorted(store.get_executions_by_id(ids), key=lambda e: e.id)
    made = [execution for execution in executions if execution.last_known_state in _DONE]
    return (made or executions or [None])[0]


def _run_of(store, execution: metadata_store_pb2.Execution | None) -> str | None:
    """The run (local or Airflow) an execution belongs to."""
    return None if execution is None else metadata.run_and_node(store, execution)[0]


def _pushes(store) -> list[tuple[metadata_store_pb2.Artifact, metadata_store_pb2.Execution]]:
    """(PushedModel that was pushed, the Pusher execution that made it), oldest first."""
    found = []
    for artifact in store.get_artifacts_by_type("PushedModel"):
        if metadata.custom_value(artifact, "pushed"):
            execution = _producer(store, artifact.id)
            if execution is not None:
                found.append((artifact, execution))
    return sorted(found, key=lambda pair: pair[1].id)


def _push_of_version(store, version: int):
    for artifact, execution in reversed(_pushes(store)):
        if str(metadata.custom_value(artifact, "pushed_version")) == str(version):
            return artifact, execution
    return None


def model_of_version(store, version: int) -> metadata_store_pb2.Artifact | None:
    """The Model artifact a pipeline run pushed as `version`; None if no recorded run did."""
    push = _push_of_version(store, version)
    models = metadata.linked_artifacts(store, push[1].id, _INPUT, "model") if push else []
    return models[0] if models else None


def _pushed_version_of_model(store, model_id: int) -> int | None:
    for artifact, execution in reversed(_pushes(store)):
        if any(
            model.id == model_id for model in metadata.linked_artifacts(store, execution.id, _INPUT, "model")
        ):
            return int(metadata.custom_value(artifact, "pushed_version"))
    return None


def _training_data(store, model: metadata_store_pb2.Artifact) -> tuple:
    """(trainer execution, [raw Examples artifacts]) of a model."""
    trainer = _producer(store, model.id)
    raw = []
    for transformed in metadata.linked_artifacts(store, trainer.id, _INPUT, "examples") if trainer else []:
        transform = _producer(store, transformed.id)
        raw += metadata.linked_artifacts(store, transform.id, _INPUT, "examples") if transform else []
    return trainer, raw


def _baseline_metrics(evaluation_uri: str, classes: tuple) -> dict[str, float]:
    """The baseline model's overall metrics from the evaluation that compared it (loads TFMA)."""
    from components import evaluation_summary

    return evaluation_summary.evaluation_metrics(evaluation_uri, classes, model="baseline").get("overall", {})


def _baseline(
    store, evaluator, evaluation_uri: str | None, classes: tuple, record: dict | None
) -> dict | None:
    models = metadata.linked_artifacts(store, evaluator.id, _INPUT, "baseline_model") if evaluator else []
    if not models:
        return None
    trainer = _producer(store, models[0].id)
    if record is not None:
        metrics = record.get("baseline_metrics", {}).get("overall", {})
    else:
        metrics = _baseline_metrics(evaluation_uri, classes) if evaluation_uri else {}
    return {
        "model_uri": models[0].uri,
        "pushed_version": _pushed_version_of_model(store, models[0].id),
        "trained_in_run": _run_of(store, trainer),
        "metrics": metrics,
    }


def _evaluation(store, pusher, classes: tuple) -> dict:
    blessings = metadata.linked_artifacts(store, pusher.id, _INPUT, "model_blessing")
    gate = _producer(store, blessings[0].id) if blessings else None
    # The Pusher reads the BlessingGate's verdict; the span Evaluator's is one of its inputs.
    span_blessings = metadata.linked_artifacts(store, gate.id, _INPUT, "span_blessing") if gate else []
    evaluator = _producer(store, span_blessings[0].id) if span_blessings else gate
    evaluations = metadata.linked_artifacts(store, evaluator.id, _OUTPUT, "evaluation") if evaluator else []
    uri = evaluations[0].uri if evaluations else None
    # The verdict records the evaluation (ML Metadata alone, no TensorFlow); older runs' did not.
    record = metadata.json_value(blessings[0], features.SPAN_SUMMARY_KEY) if blessings else None
    if record is not None:
        metrics = report.overall_first(record["metrics"])
    else:
        metrics = report.evaluation_metrics(uri, classes) if uri else {}
    return {
        "blessed": bool(blessings and metadata.custom_value(blessings[0], "blessed")),
        "evaluated_in_run": _run_of(store, evaluator),
        "metrics": metrics,
        "baseline": _baseline(store, evaluator, uri, classes, record),
    }


def _resolve_version(serving_dir, version: int | None) -> tuple[int, int | None]:
    """(asked or served version, the pushed version it copies if a rollback published it)."""
    if version is None:
        version = model_dir.latest_version(serving_dir)
        if version is None:
            raise LineageError(f"no model version in {serving_dir}: nothing is served; name a VERSION")
    copies = rollback.rolled_back_from(serving_dir)
    return version, (rollback.origin(version, copies) if version in copies else None)


def model_lineage(store, serving_dir, version: int | None = None, classes: tuple = ()) -> dict:
    """The lineage of a pushed version (default: the served one) as a JSON-ready dict.

    `classes` (the dataset contract's class names) name the per-class metrics.

    Raises:
      LineageError: the version was not pushed by a pipeline run in this store.
    """
    version, rollback_of = _resolve_version(serving_dir, version)
    pushed_version = rollback_of or version
    push = _push_of_version(store, pushed_version)
    if push is None:
        known = [str(metadata.custom_value(artifact, "pushed_version")) for artifact, _ in _pushes(store)]
        raise LineageError(
            f"version {pushed_version} was not pushed by a pipeline run recorded in this ML Metadata "
            f"store; pushed versions: {', '.join(known) or 'none'}"
        )
    pushed, pusher = push
    models = metadata.linked_artifacts(store, pusher.id, _INPUT, "model")
    trainer, examples = _training_data(store, models[0]) if models else (None, [])
    return {
        "version": version,
        "served": version == model_dir.latest_version(serving_dir),
        "rollback_of": rollback_of,
        "pushed_version": pushed_version,
        "pushed_model": metadata.custom_value(pushed, "pushed_destination"),
        "pushed_in_run": _run_of(store, pusher),
        "trained_in_run": _run_of(store, trainer),
        "model_uri": models[0].uri if models else None,
        "spans": sorted({metadata.span_of(item) for item in examples}),
        "examples": [item.uri for item in examples],
        **_evaluation(store, pusher, tuple(classes)),
    }


def render_lineage(found: dict) -> str:
    """The human form of `model_lineage`."""
    from polarity.render import metrics_table

    origin = f" (rollback of {found['rollback_of']})" if found["rollback_of"] else ""
    lines = [
        f"Model version {found['version']}{origin}: {'served now' if found['served'] else 'not served'}",
        f"  Pushed in run {found['pushed_in_run']} as version {found['pushed_version']}: "
        f"{found['pushed_model']}",
        f"  Trained in run {found['trained_in_run']} on span(s) {', '.join(map(str, found['spans']))}",
        f"  Model: {found['model_uri']}",
        f"Blessed: {'yes' if found['blessed'] else 'no'} (evaluated in run {found['evaluated_in_run']})",
    ]
    if found["metrics"]:
        lines += ["Metrics on the eval split, per slice:", *metrics_table(found["metrics"])]
    baseline = found["baseline"]
    if baseline is None:
        lines.append("Baseline: none (the first blessed model; judged on the floors only)")
    else:
        accuracy = baseline["metrics"].get("accuracy")
        which = (
            f"version {baseline['pushed_version']}"
            if baseline["pushed_version"] is not None
            else f"model {baseline['model_uri']} (never pushed)"
        )
        lines.append(
            f"Baseline: {which} trained in run {baseline['trained_in_run']}"
            + (f", accuracy {accuracy:.4f}" if accuracy is not None else "")
        )
    lines.append(f"Model card: {found.get('model_card') or 'none written'}")
    return "\n".join(lines)
