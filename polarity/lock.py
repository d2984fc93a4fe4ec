"""One writer per workspace: an exclusive, non-blocking lock on <workspace>/.polarity.lock.

`polarity run` and `polarity rollback` hold it while they change ML Metadata, the
pipeline root or the serving directory. It is an flock, not a pid file: the kernel
releases it when the holder exits or is killed, so a lock file left behind by a
crashed run never blocks the next one. The holder writes who it is into the file
only so that a refused command can say whom it waits for.
"""

import contextlib
import datetime
import fcntl
import json
import os
import pathlib
import sys
from collections.abc import Iterator

LOCK_FILE = ".polarity.lock"


class WorkspaceBusyError(RuntimeError):
    """Another live process holds the workspace lock."""


def lock_path(workspace: pathlib.Path) -> pathlib.Path:
    return pathlib.Path(workspace).absolute() / LOCK_FILE


def _read_holder(path: pathlib.Path) -> dict | None:
    """The record a holder wrote into the lock file; None when it names no one (or not yet)."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # empty, or the holder is between taking the lock and writing its name
        return None
    return holder if isinstance(holder, dict) else None


def _write_holder(descriptor: int, holder: dict | None) -> None:
    """Replaces the lock file's record with `holder`'s; None leaves the file empty."""
    os.ftruncate(descriptor, 0)
    if holder is not None:
        os.pwrite(descriptor, json.dumps(holder).encode("utf-8"), 0)


def _holder_text(path: pathlib.Path) -> str:
    holder = _read_holder(path)
    if holder is None:
        return "another process"
    return f"pid {holder.get('pid')} (`{holder.get('command')}`, started {holder.get('started')})"


def recorded_holder(workspace: pathlib.Path) -> dict | None:
    """Who the lock file names, with "alive": whether that process still exists.

    A holder that ends normally empties the file; one that was killed leaves its
    record behind (and the kernel frees the lock). None: the file names no one.
    Reads only: probing the flock itself could refuse a run starting at that moment.
    """
    holder = _read_holder(lock_path(workspace))
    if holder is None or not isinstance(holder.get("pid"), int):
        return None
    try:
        os.kill(holder["pid"], 0)
        alive = True
    except ProcessLookupError:
        alive = False
    except PermissionError:  # exists, run by another user
        alive = True
    return {**holder, "alive": alive}


@contextlib.contextmanager
def workspace_lock(
    workspace: pathlib.Path, command: str | None = None, keep_interrupted_record: bool = False
) -> Iterator[pathlib.Path]:
    """Holds the workspace lock for the body of the `with`; never waits.

    Args:
      workspace: the workspace directory (created if missing).
      command: what the holder is doing, for the message another command prints;
        default this process's command line.
      keep_interrupted_record: put back, on release, the record a killed holder
        left in the file, for holders that do not recover its run (rollback), so
        that `polarity status` still reports that run as interrupted.

    Yields:
      The lock file's path.

    Raises:
      WorkspaceBusyError: another process holds the lock; the message names it
        and says what to do.
    """
    path = lock_path(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    # os.open makes the descriptor non-inheritable: programs the run starts do not keep the lock.
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkspaceBusyError(
                f"workspace {path.parent} is in use by {_holder_text(path)}, which holds {path}. "
                "Only one run or rollback may change a workspace at a time: wait for it to finish "
                "and try again (nothing was changed). The lock goes away by itself when that "
                "process ends, also if it is killed."
            ) from None
        # Holding the lock, any record in the file is a killed holder's (a clean exit empties it).
        interrupted = _read_holder(path) if keep_interrupted_record else None
        holder = {
            "pid": os.getpid(),
            "command": command or " ".join(["polarity", *sys.argv[1:]]),
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        _write_holder(descriptor, holder)
        try:
            yield path
        finally:
            _write_holder(descriptor, interrupted)
    finally:
        os.close(descriptor)  # closing the only descriptor releases the flock
