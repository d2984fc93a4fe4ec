"""The baseline a candidate model is judged against: the last blessed model other than itself.

TFX's LatestBlessedModelStrategy returns the newest blessed model. When a run
brings no new data, the Trainer's cached output is the model the previous run
blessed and pushed, so the candidate would be compared with itself: a new
baseline for the Evaluators, whose caches then miss, and a full re-evaluation
that can only conclude "no regression". Leaving the candidate out keeps the
baseline of the run that judged it, so the Evaluators, the BlessingGate and the
Pusher are all cached, and a new candidate is still compared with the newest
blessed model. A model an operator rolled back is never a baseline: the next
candidate is judged against the model the rollback returned to, or an older one.

Both runners that share the workspace's ML Metadata resolve this node, and they
hand the strategy different inputs:

- the local runner (TFX's IR-based input resolution) finds a producer's outputs
  through its "node" context, and the candidate within this run's context;
- the Airflow DAG (TFX's legacy `_ResolverDriver`, tfx/orchestration/metadata.py
  `get_qualified_artifacts`) finds a producer's outputs by the executions'
  `component_id` property, and resolves every channel against the whole
  pipeline's history, so `candidate` holds every model its Trainer ever output.

Each runner writes only its own kind of record, so each saw only its own
verdicts: the first Airflow run after local runs had no blessed baseline, a
local run after Airflow runs was judged against an older local model, and an
Airflow run left out every model an earlier Airflow run had trained. The
strategy therefore reads the verdicts and this run's candidate from the store
itself, the same way for both kinds of record (below), and ML Metadata is only
read, never changed.
"""

from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx
from tfx.components.evaluator import constants
from tfx.types import artifact_utils

from components.blessing_gate import ROLLED_BACK_KEY, BlessingGate

# Input and output keys of the resolver.
MODEL_KEY = "model"
BLESSING_KEY = "model_blessing"
CANDIDATE_KEY = "candidate"
# The BlessingGate's output (the pipeline's `blessing_gate.outputs["verdict"]`).
VERDICT_KEY = "verdict"
# The run contexts of the two runners: the local runner's, then TFX's legacy launcher's.
RUN_CONTEXT_TYPES = ("pipeline_run", "run")


def _outputs(events, key: str | None = None) -> list:
    """The output events among `events`, under `key` when given."""
    return [
        event
        for event in events
        if event.type == metadata_store_pb2.Event.OUTPUT
        and (key is None or (event.path.steps and event.path.steps[0].key == key))
    ]


def recorded_verdicts(store) -> list:
    """Every live BlessingGate verdict in the store, whichever runner recorded it.

    Both runners name the gate's execution type after its component class, and
    both record its output under VERDICT_KEY; only the way they tie an
    execution to its node differs (a "node" context, a `component_id`
    property), and that is what made each runner blind to the other's verdicts.
    """
    gate_runs = store.get_executions_by_type(BlessingGate.get_class_type())
    events = store.get_events_by_execution_ids([execution.id for execution in gate_runs]) if gate_runs else []
    ids = sorted({event.artifact_id for event in _outputs(events, VERDICT_KEY)})
    artifacts = [
        artifact
        for artifact in (store.get_artifacts_by_id(ids) if ids else [])
        if artifact.state == metadata_store_pb2.Artifact.LIVE
    ]
    if not artifacts:
        return []
    types = {kind.id: kind for kind in store.get_artifact_types_by_id({a.type_id for a in artifacts})}
    return [artifact_utils.deserialize_artifact(types[a.type_id], a) for a in artifacts]


def this_runs_candidates(store, candidates: list) -> list:
    """The candidates of this run: those in the newest run context any of them is in.

    The local runner already resolves the candidate within this run (one
    model). TFX's legacy resolver driver hands every model the Trainer output
    under Airflow; this run's is the one in the newest run context, because a
    DAG run's context is created by its first task and the DAG allows one
    active run at a time.
    """
    if len(candidates) <= 1:
        return candidates
    run_types = {kind.id for kind in store.get_context_types() if kind.name in RUN_CONTEXT_TYPES}
    newest_run = {}
    for artifact in candidates:
        runs = [c.id for c in store.get_contexts_by_artifact(artifact.id) if c.type_id in run_types]
        newest_run[artifact.id] = max(runs, default=-1)
    latest = max(newest_run.values())
    return [artifact for artifact in candidates if newest_run[artifact.id] == latest]


class PreviousBlessedModelStrategy(tfx.dsl.experimental.ResolverStrategy):
    """Resolves the newest blessed model that is not this run's candidate nor rolled back.

    Inputs: `model` (all Model artifacts), `model_blessing` (the blessings that
    count) and `candidate` (this run's Trainer output). Outputs `model` and
    `model_blessing`: one each, or none when no other model was ever blessed;
    `candidate` passes through (TFX wants every input key back). With a store
    (both runners pass one), the BlessingGate's verdicts recorded by either
    runner count, and `candidate` is narrowed to this run's (see the module
    docstring).
    """

    def resolve_artifacts(self, store, input_dict):
        candidates = input_dict[CANDIDATE_KEY]
        verdicts = list(input_dict[BLESSING_KEY])
        if store is not None:
            verdicts += recorded_verdicts(store)
            candidates = this_runs_candidates(store, candidates)
        candidate_ids = {artifact.id for artifact in candidates}
        blessings = {
            blessing.get_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY): blessing
            for blessing in sorted(verdicts, key=lambda artifact: artifact.id)
            if blessing.get_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY)
            == constants.BLESSED_VALUE
        }
        for model in sorted(input_dict[MODEL_KEY], key=lambda artifact: artifact.id, reverse=True):
            rolled_back = model.get_string_custom_property(ROLLED_BACK_KEY)
            if model.id in blessings and model.id not in candidate_ids and not rolled_back:
                return {MODEL_KEY: [model], BLESSING_KEY: [blessings[model.id]], CANDIDATE_KEY: candidates}
        return {MODEL_KEY: [], BLESSING_KEY: [], CANDIDATE_KEY: candidates}
