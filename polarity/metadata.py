"""Reads runs, executions and artifacts back from ML Metadata (the run history).

Two runners write the workspace's store, with different contexts:

- the local runner (TFX's IR-based orchestration): a "pipeline" context, one
  "pipeline_run" context per run and one "node" context per component
  ("<pipeline>.<node id>");
- the Airflow DAG (TFX's legacy launcher, tfx/orchestration/metadata.py): the
  same "pipeline" context, a "run" context per DAG run ("<pipeline>.<run id>")
  and "component_run" contexts; the node id is the execution's "component_id"
  property.

Both kinds of run are read here the same way.
"""

import dataclasses
import json
import pathlib

from google.protobuf import json_format
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

PIPELINE_CONTEXT = "pipeline"
RUN_CONTEXT = "pipeline_run"
NODE_CONTEXT = "node"
LEGACY_RUN_CONTEXT = "run"  # the Airflow runner's
RUN_CONTEXTS = (RUN_CONTEXT, LEGACY_RUN_CONTEXT)
LEGACY_COMPONENT_ID = "component_id"  # the Airflow runner's execution property naming the node
EXECUTION_RESULT = "__execution_result__"
STATES = {
    metadata_store_pb2.Execution.NEW: "new",
    metadata_store_pb2.Execution.RUNNING: "running",
    metadata_store_pb2.Execution.COMPLETE: "complete",
    metadata_store_pb2.Execution.FAILED: "failed",
    metadata_store_pb2.Execution.CACHED: "cached",
    metadata_store_pb2.Execution.CANCELED: "canceled",
}


@dataclasses.dataclass
class NodeExecution:
    """One component's execution in a run, with its output artifacts by key."""

    execution_id: int
    node_id: str
    state: str
    started_ms: int
    finished_ms: int
    error: str
    outputs: dict[str, list[metadata_store_pb2.Artifact]]

    @property
    def seconds(self) -> float:
        return max(0, self.finished_ms - self.started_ms) / 1000


def open_store(metadata_path: pathlib.Path) -> metadata_store.MetadataStore:
    """A read-write connection to the SQLite store; it must exist already."""
    if not pathlib.Path(metadata_path).is_file():
        raise FileNotFoundError(
            f"No ML Metadata store at {metadata_path}: nothing has run in this workspace yet; "
            "run `polarity run` first (or pass the --workspace that did)"
        )
    config = metadata_store_pb2.ConnectionConfig()  # as tfx's sqlite_metadata_connection_config
    config.sqlite.filename_uri = str(metadata_path)
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(config)


def pipeline_runs(store, pipeline_name: str) -> list[metadata_store_pb2.Context]:
    """Run contexts of one pipeline, oldest first."""
    pipeline = store.get_context_by_type_and_name(PIPELINE_CONTEXT, pipeline_name)
    if pipeline is None:
        return []
    pipeline_executions = {execution.id for execution in store.get_executions_by_context(pipeline.id)}
    runs = []
    for run in (run for kind in RUN_CONTEXTS for run in store.get_contexts_by_type(kind)):
        executions = store.get_executions_by_context(run.id)
        if any(execution.id in pipeline_executions for execution in executions):
            runs.append(run)
    return sorted(runs, key=lambda run: (run.create_time_since_epoch, run.id))


def run_and_node(store, execution: metadata_store_pb2.Execution) -> tuple[str | None, str]:
    """(the name of the run context holding an execution or None, its node id), for either runner."""
    contexts = store.get_contexts_by_execution(execution.id)
    runs = [context.name for context in contexts if context.type in RUN_CONTEXTS]
    nodes = [context.name.split(".", 1)[-1] for context in contexts if context.type == NODE_CONTEXT]
    if not nodes and LEGACY_COMPONENT_ID in execution.properties:
        nodes = [execution.properties[LEGACY_COMPONENT_ID].string_value]
    return (runs[0] if runs else None), (nodes[0] if nodes else execution.type)


def linked_artifacts(store, execution_id: int, kind: int, key: str) -> list[metadata_store_pb2.Artifact]:
    """The artifacts an execution read (kind INPUT) or wrote (OUTPUT) under an input or output key."""
    ids = [
        event.artifact_id
        for event in store.get_events_by_execution_ids([execution_id])
        if event.type == kind and event.path.steps and event.path.steps[0].key == key
    ]
    return store.get_artifacts_by_id(ids) if ids else []


def _error_message(execution: metadata_store_pb2.Execution) -> str:
    if EXECUTION_RESULT not in execution.custom_properties:
        return ""
    try:
        result = json.loads(execution.custom_properties[EXECUTION_RESULT].string_value)
    except ValueError:
        return ""
    return result.get("resultMessage", "")


def run_executions(store, run: metadata_store_pb2.Context) -> list[NodeExecution]:
    """The executions of a run in the order they started, with outputs."""
    executions = sorted(
        store.get_executions_by_context(run.id), key=lambda e: (e.create_time_since_epoch, e.id)
    )
    if not executions:
        return []
    events = store.get_events_by_execution_ids([execution.id for execution in executions])
    artifact_ids = {event.artifact_id for event in events}
    artifacts = {artifact.id: artifact for artifact in store.get_artifacts_by_id(list(artifact_ids))}
    nodes = []
    for execution in executions:
        _, node_id = run_and_node(store, execution)
        outputs: dict[str, list] = {}
        for event in events:
            if event.execution_id != execution.id or event.type != metadata_store_pb2.Event.OUTPUT:
                continue
            key = event.path.steps[0].key if event.path.steps else "output"
            outputs.setdefault(key, []).append(artifacts[event.artifact_id])
        state, error = STATES.get(execution.last_known_state, "unknown"), _error_message(execution)
        nodes.append(
            NodeExecution(
                execution_id=execution.id,
                node_id=node_id,
                state=state,
                started_ms=execution.create_time_since_epoch,
                finished_ms=execution.last_update_time_since_epoch,
                error=error,
                outputs=outputs,
            )
        )
    return nodes


def as_tfx_artifact(artifact: metadata_store_pb2.Artifact, artifact_class):
    """Wraps an MLMD artifact proto in its TFX class (for split and URI helpers).

    Only the callers that need TFX's helpers use it: this module loads no TFX itself,
    so `polarity status` answers without loading TensorFlow.
    """
    wrapped = artifact_class()
    wrapped.set_mlmd_artifact(artifact)
    return wrapped


def custom_value(artifact: metadata_store_pb2.Artifact, key: str) -> object | None:
    """A custom property's value, whatever its type, or None."""
    if key not in artifact.custom_properties:
        return None
    value = artifact.custom_properties[key]
    return getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None


def json_value(artifact: metadata_store_pb2.Artifact, key: str):
    """A custom property TFX stored with `set_json_value_custom_property`, as plain JSON, or None."""
    value = custom_value(artifact, key)
    if value is None or not isinstance(value, metadata_store_pb2.google_dot_protobuf_dot_struct__pb2.Struct):
        return value
    plain = json_format.MessageToDict(value)
    return plain["__value__"] if set(plain) == {"__value__"} else plain


def span_of(artifact: metadata_store_pb2.Artifact) -> int | None:
    """The span of an Examples artifact, wherever the TFX version recorded it."""
    for properties in (artifact.custom_properties, artifact.properties):
        if "span" in properties:
            return properties["span"].int_value
    return None
