"""Closes the books on runs that were killed: their unfinished executions become CANCELED.

A run killed mid-component leaves its execution RUNNING in ML Metadata and
partial files under <pipeline_root>/<node>/<output>/<execution id>. TFX never
reuses them (the cache only takes executions that finished, and a new run gets
a new run context), but `polarity status` would report the dead run as running
forever.

Only executions of a process known to be gone are closed: every writer of a
workspace holds its lock (polarity/lock.py) while it writes, so an execution
created while a killed holder held the lock (between its start and the moment
the next holder took the lock) is that holder's. Unfinished executions outside
those spans are left alone: they belong to a writer that is alive, or to one
nothing is known about.
"""

import contextlib
import dataclasses
import json
import pathlib
import shutil
from collections.abc import Iterator

from ml_metadata.proto import metadata_store_pb2

from polarity import lock, metadata

_UNFINISHED = (metadata_store_pb2.Execution.NEW, metadata_store_pb2.Execution.RUNNING)
_SYSTEM_DIR = ".system"


@dataclasses.dataclass(frozen=True)
class Interrupted:
    """An execution a killed run left unfinished, and the process that ran it."""

    run_id: str
    node_id: str
    execution_id: int
    holder: dict


def _partial_outputs(pipeline_root: pathlib.Path, node_id: str, execution_id: int) -> list[pathlib.Path]:
    node_dir = pipeline_root / node_id
    if not node_dir.is_dir():
        return []
    found = [path for path in node_dir.glob(f"*/{execution_id}") if path.parent.name != _SYSTEM_DIR]
    found += list(node_dir.glob(f"{_SYSTEM_DIR}/*/{execution_id}"))
    return [path for path in found if path.is_dir()]


def _owner(execution: metadata_store_pb2.Execution, killed: list[dict], until_ms: int) -> dict | None:
    """The killed holder that held the lock when the execution was created, if any."""
    created = execution.create_time_since_epoch
    if created >= until_ms:
        return None
    owners = [holder for holder in killed if holder.get("started_ms", until_ms) <= created]
    return max(owners, key=lambda holder: holder["started_ms"]) if owners else None


def cancel_interrupted(
    store, pipeline_root: pathlib.Path, killed: list[dict], until_ms: int
) -> list[Interrupted]:
    """Marks the killed holders' NEW or RUNNING executions CANCELED and removes their partial outputs.

    Args:
      store: the workspace's ML Metadata store.
      pipeline_root: where the executions wrote their outputs.
      killed: lock records of holders known to be gone (lock.Holding.interrupted).
      until_ms: when the lock was taken after them: later executions are not theirs.

    Returns:
      The executions it closed, oldest first.
    """
    closed = []
    unfinished = [e for e in store.get_executions() if e.last_known_state in _UNFINISHED]
    for execution in sorted(unfinished, key=lambda e: (e.create_time_since_epoch, e.id)):
        holder = _owner(execution, killed, until_ms)
        if holder is None:
            continue
        run_id, node_id = metadata.run_and_node(store, execution)
        execution.last_known_state = metadata_store_pb2.Execution.CANCELED
        store.put_executions([execution])
        for path in _partial_outputs(pathlib.Path(pipeline_root), node_id, execution.id):
            shutil.rmtree(path, ignore_errors=True)
        closed.append(Interrupted(run_id or "?", node_id, execution.id, holder))
    return closed


def fail_unfinished(store, since_ms: int, message: str) -> list[int]:
    """Marks FAILED, with `message`, the unfinished executions created since since_ms.

    For a writer whose component raised: TFX's legacy launcher (the Airflow
    runner's) leaves the execution RUNNING, and nothing would ever close it.
    Call it holding the workspace lock taken at since_ms: those executions are
    the caller's own.

    Returns:
      The ids of the executions it marked.
    """
    marked = []
    for execution in store.get_executions():
        if execution.last_known_state in _UNFINISHED and execution.create_time_since_epoch >= since_ms:
            execution.last_known_state = metadata_store_pb2.Execution.FAILED
            result = json.dumps({"code": 2, "resultMessage": message})
            execution.custom_properties[metadata.EXECUTION_RESULT].string_value = result
            store.put_executions([execution])
            marked.append(execution.id)
    return marked


def close_interrupted_runs(
    metadata_path: pathlib.Path, pipeline_root: pathlib.Path, held: lock.Holding | None = None
) -> list[str]:
    """Closes what the killed holders of the workspace lock left unfinished; one line per execution.

    Call it holding the workspace lock (`held`, default the lock this process
    holds): the killed holders are those its record names.

    Raises:
      RuntimeError: this process holds no workspace lock.
    """
    held = held or lock.held_here()
    if held is None:
        raise RuntimeError(
            "close_interrupted_runs needs the workspace lock: call it inside lock.workspace_lock"
        )
    if not held.interrupted:
        return []
    closed = []
    if pathlib.Path(metadata_path).is_file():
        store = metadata.open_store(metadata_path)
        closed = cancel_interrupted(store, pipeline_root, held.interrupted, held.acquired_ms)
    held.recovered()
    return [
        f"Run {item.run_id} was interrupted in {item.node_id}: marked canceled, partial output removed "
        f"(its process, {lock.describe(item.holder)}, is gone)"
        for item in closed
    ]


@contextlib.contextmanager
def workspace_writer(
    workspace: pathlib.Path,
    metadata_path: pathlib.Path,
    pipeline_root: pathlib.Path,
    command: str | None = None,
    wait_seconds: float = 0.0,
    on_wait=None,
) -> Iterator[list[str]]:
    """The guard of a writer that runs pipeline components: the lock, then recovery.

    Holds the workspace lock (waiting up to wait_seconds for another holder) and
    closes what killed holders left unfinished before the body runs.

    Yields:
      One line per execution it closed (see close_interrupted_runs).

    Raises:
      lock.WorkspaceBusyError: another process holds the lock past wait_seconds.
    """
    with lock.workspace_lock(workspace, command, wait_seconds=wait_seconds, on_wait=on_wait) as held:
        yield close_interrupted_runs(metadata_path, pipeline_root, held)
