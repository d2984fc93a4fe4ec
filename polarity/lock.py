"""One writer per workspace: an exclusive lock on <workspace>/.polarity.lock.

Every process that changes a workspace's ML Metadata, pipeline root or serving
directory holds it while it does: `polarity run`, `polarity simulate`,
`polarity rollback`, and each task of the Airflow DAG (pipelines/airflow_dag.py).
It is an flock, not a pid file: the kernel releases it when the holder exits or
is killed, so a lock file left behind by a crashed run never blocks the next one.

The holder writes a record of itself into the file (pid, host, command, start
time) and empties it when it ends normally. A record found by the next holder
is therefore a killed holder's: that process is known to be gone, and what it
left unfinished may be recovered (polarity/recovery.py). Records of killed
holders that nobody recovered yet are carried forward in each new record
("interrupted"), so a second crash does not hide the first.
"""

import contextlib
import dataclasses
import datetime
import fcntl
import json
import os
import pathlib
import socket
import sys
import time
from collections.abc import Iterator

LOCK_FILE = ".polarity.lock"
_POLL_SECONDS = 0.5


class WorkspaceBusyError(RuntimeError):
    """Another live process holds the workspace lock."""


@dataclasses.dataclass
class Holding:
    """The lock as this process holds it.

    Attributes:
      path: the lock file.
      record: what this holder wrote into it.
      interrupted: records of killed holders found on taking the lock, oldest
        first; they are put back on release unless `recovered()` was called.
    """

    path: pathlib.Path
    record: dict
    interrupted: list[dict]

    @property
    def acquired_ms(self) -> int:
        """When this holder took the lock, in ms since the epoch (ML Metadata's clock)."""
        return self.record["started_ms"]

    def recovered(self) -> None:
        """Says the killed holders' unfinished work was closed: release forgets them."""
        self.interrupted = []


_HELD: list[Holding] = []  # the locks this process holds, innermost last


def lock_path(workspace: pathlib.Path) -> pathlib.Path:
    return pathlib.Path(workspace).absolute() / LOCK_FILE


def held_here() -> Holding | None:
    """The workspace lock this process holds now (the innermost), or None."""
    return _HELD[-1] if _HELD else None


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


def describe(holder: dict) -> str:
    """'pid 12 (`polarity run`, started ..., on host)' for messages."""
    host = f", on {holder['host']}" if holder.get("host") else ""
    return f"pid {holder.get('pid')} (`{holder.get('command')}`, started {holder.get('started')}{host})"


def _holder_text(path: pathlib.Path) -> str:
    holder = _read_holder(path)
    return "another process" if holder is None else describe(holder)


def _alive(holder: dict) -> bool:
    """Whether the holder's process exists; one on another host is taken to be alive."""
    if holder.get("host", socket.gethostname()) != socket.gethostname():
        return True
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, run by another user
        return True
    return True


def recorded_holder(workspace: pathlib.Path) -> dict | None:
    """Who the lock file names, with "alive": whether that process still exists.

    A holder that ends normally empties the file; one that was killed leaves its
    record behind (and the kernel frees the lock). None: the file names no one.
    Reads only: probing the flock itself could refuse a run starting at that moment.
    """
    holder = _read_holder(lock_path(workspace))
    if holder is None or not isinstance(holder.get("pid"), int):
        return None
    return {**holder, "alive": _alive(holder)}


def _killed_holders(record: dict | None) -> list[dict]:
    """The killed holders a record found in the file stands for, oldest first."""
    if record is None:
        return []
    earlier = [item for item in record.get("interrupted") or [] if isinstance(item, dict)]
    return [*earlier, {key: value for key, value in record.items() if key != "interrupted"}]


def _busy_error(path: pathlib.Path, waited: float) -> WorkspaceBusyError:
    after = f" (waited {waited:.0f} s)" if waited else ""
    return WorkspaceBusyError(
        f"workspace {path.parent} is in use by {_holder_text(path)}, which holds {path}{after}. "
        "Only one run, task or rollback may change a workspace at a time: wait for it to finish "
        "and try again (nothing was changed). The lock goes away by itself when that "
        "process ends, also if it is killed."
    )


def _take(descriptor: int, path: pathlib.Path, wait_seconds: float, on_wait) -> None:
    """Takes the flock, polling up to wait_seconds; raises WorkspaceBusyError past that."""
    started = time.monotonic()
    told = False
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise _busy_error(path, waited) from None
            if not told and on_wait is not None:
                on_wait(f"Waiting up to {wait_seconds:.0f} s for {_holder_text(path)} to release {path}")
                told = True
            time.sleep(_POLL_SECONDS)


def _new_record(command: str | None, interrupted: list[dict]) -> dict:
    now = time.time()
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command or " ".join(["polarity", *sys.argv[1:]]),
        "started": datetime.datetime.fromtimestamp(now).astimezone().isoformat(timespec="seconds"),
        "started_ms": int(now * 1000),
    }
    return {**record, "interrupted": interrupted} if interrupted else record


def _left_record(held: Holding) -> dict | None:
    """What release leaves in the file: the killed holders nobody recovered, or nothing."""
    if not held.interrupted:
        return None
    *earlier, last = held.interrupted
    return {**last, "interrupted": earlier} if earlier else last


@contextlib.contextmanager
def workspace_lock(
    workspace: pathlib.Path, command: str | None = None, wait_seconds: float = 0.0, on_wait=None
) -> Iterator[Holding]:
    """Holds the workspace lock for the body of the `with`.

    Args:
      workspace: the workspace directory (created if missing).
      command: what the holder is doing, for the message another command prints;
        default this process's command line.
      wait_seconds: how long to wait for another holder to finish; 0 refuses at once.
      on_wait: called with one line when it starts waiting (e.g. print).

    Yields:
      The Holding. Call its `recovered()` once the killed holders' unfinished
      work is closed; otherwise their records are put back on release, so that
      `polarity status` still reports their run as interrupted.

    Raises:
      WorkspaceBusyError: another process holds the lock (past wait_seconds);
        the message names it and says what to do.
    """
    path = lock_path(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    # os.open makes the descriptor non-inheritable: programs the run starts do not keep the lock.
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _take(descriptor, path, wait_seconds, on_wait)
        # Holding the lock, any record in the file is a killed holder's (a clean exit empties it).
        interrupted = _killed_holders(_read_holder(path))
        held = Holding(path, _new_record(command, interrupted), interrupted)
        _write_holder(descriptor, held.record)
        _HELD.append(held)
        try:
            yield held
        finally:
            _HELD.remove(held)
            _write_holder(descriptor, _left_record(held))
    finally:
        os.close(descriptor)  # closing the only descriptor releases the flock
