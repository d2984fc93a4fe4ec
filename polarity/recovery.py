"""Closes the books on runs that were killed: their unfinished executions become CANCELED.

A local run killed mid-component leaves its execution RUNNING in ML Metadata and
partial files under <pipeline_root>/<node>/<output>/<execution id>. TFX never
reuses them (the cache only takes executions that finished, and a new run gets
a new run context), but `polarity status` would report the dead run as running
forever. Called while holding the workspace lock, when no other local run can be
alive, this marks such executions CANCELED and deletes their partial outputs.
"""

import dataclasses
import pathlib
import shutil

from ml_metadata.proto import metadata_store_pb2

from polarity import metadata

_UNFINISHED = (metadata_store_pb2.Execution.NEW, metadata_store_pb2.Execution.RUNNING)
_SYSTEM_DIR = ".system"


@dataclasses.dataclass(frozen=True)
class Interrupted:
    """An execution a killed run left unfinished."""

    run_id: str
    node_id: str
    execution_id: int


def _contexts(store, execution_id: int) -> dict[str, str]:
    return {context.type: context.name for context in store.get_contexts_by_execution(execution_id)}


def _partial_outputs(pipeline_root: pathlib.Path, node_id: str, execution_id: int) -> list[pathlib.Path]:
    node_dir = pipeline_root / node_id
    if not node_dir.is_dir():
        return []
    found = [path for path in node_dir.glob(f"*/{execution_id}") if path.parent.name != _SYSTEM_DIR]
    found += list(node_dir.glob(f"{_SYSTEM_DIR}/*/{execution_id}"))
    return [path for path in found if path.is_dir()]


def cancel_interrupted(store, pipeline_root: pathlib.Path) -> list[Interrupted]:
    """Marks every NEW or RUNNING execution CANCELED and removes its partial outputs.

    Only call it while holding the workspace lock (polarity/lock.py): then no
    execution of this store can still be running.

    Returns:
      The executions it closed, oldest first.
    """
    closed = []
    unfinished = [e for e in store.get_executions() if e.last_known_state in _UNFINISHED]
    for execution in sorted(unfinished, key=lambda e: (e.create_time_since_epoch, e.id)):
        contexts = _contexts(store, execution.id)
        node_id = contexts.get(metadata.NODE_CONTEXT, execution.type).split(".", 1)[-1]
        execution.last_known_state = metadata_store_pb2.Execution.CANCELED
        store.put_executions([execution])
        for path in _partial_outputs(pathlib.Path(pipeline_root), node_id, execution.id):
            shutil.rmtree(path, ignore_errors=True)
        closed.append(Interrupted(contexts.get(metadata.RUN_CONTEXT, "?"), node_id, execution.id))
    return closed


def close_interrupted_runs(metadata_path: pathlib.Path, pipeline_root: pathlib.Path) -> list[str]:
    """`cancel_interrupted` on a workspace's store, if it has one; one line per execution closed."""
    if not pathlib.Path(metadata_path).is_file():
        return []
    return [
        f"Run {item.run_id} was interrupted in {item.node_id}: marked canceled, partial output removed"
        for item in cancel_interrupted(metadata.open_store(metadata_path), pipeline_root)
    ]
