"""Serving an earlier pushed model again, safely for a running TF Serving.

TF Serving serves the highest numeric version under the model base path, and
unloads a version whose directory disappears. A rollback therefore never deletes
or renames a version: it republishes the chosen version's files as a new, highest
version (via serving/model_dir.publish, which no server sees half-written), and
the server moves to it the way it moves to any new push. Each rollback is
recorded in an append-only journal, <serving dir>.rollbacks.jsonl next to the
serving directory (outside it, so no server ever looks at it), which status and
lineage read. The serving directory is a local path or a URI (gs://, s3://),
reached through tf.io.gfile.
"""

import datetime
import json
import os

from serving import model_dir, storage

JOURNAL_SUFFIX = ".rollbacks.jsonl"


class RollbackError(ValueError):
    """A rollback that cannot be done, with what to do instead."""


_gfile = storage.gfile


def journal_path(serving_dir) -> str:
    """<serving dir>.rollbacks.jsonl, a local path or URI next to the serving directory."""
    return os.fspath(serving_dir).rstrip("/") + JOURNAL_SUFFIX


def read_journal(serving_dir) -> list[dict]:
    """The recorded rollbacks, oldest first (none: an empty list)."""
    text = storage.read_text(journal_path(serving_dir)) or ""
    entries = []
    for line in text.splitlines():
        if line.strip():
            try:
                entries.append(json.loads(line))
            except ValueError:  # a line torn by a crash mid-append: the version it names is what counts
                continue
    return entries


def _append_to_journal(serving_dir: str, entry: dict) -> None:
    """Adds a line durably: appended and synced on a local disk; elsewhere the journal is
    written whole to a new object that then replaces it, so a crash keeps the old one.
    """
    path, line = journal_path(serving_dir), json.dumps(entry) + "\n"
    gfile = _gfile()
    if os.path.dirname(path):
        gfile.makedirs(os.path.dirname(path))
    if not model_dir.is_uri(path):
        with open(path, "a", encoding="utf-8") as journal:
            journal.write(line)
            journal.flush()
            os.fsync(journal.fileno())
        return
    before = ""
    if gfile.exists(path):
        with gfile.GFile(path, "r") as journal:
            before = journal.read()
    if before and not before.endswith("\n"):
        before += "\n"
    new = f"{path}.tmp-{os.getpid()}"
    if gfile.exists(new):
        gfile.remove(new)
    with gfile.GFile(new, "w") as journal:
        journal.write(before + line)
    gfile.rename(new, path, overwrite=True)


def rolled_back_from(serving_dir) -> dict[int, int]:
    """{version published by a rollback: the version whose files it copied}."""
    return {int(entry["version"]): int(entry["rollback_of"]) for entry in read_journal(serving_dir)}


def origin(version: int, copies: dict[int, int]) -> int:
    """The version first pushed with these files, following rollbacks of rollbacks."""
    seen = set()
    while version in copies and version not in seen:
        seen.add(version)
        version = copies[version]
    return version


def serving_state(serving_dir) -> dict | None:
    """What a server of serving_dir serves: the highest version and, if it is a rollback, its origin."""
    versions = model_dir.list_versions(serving_dir)
    if not versions:
        return None
    copies = rolled_back_from(serving_dir)
    current = versions[-1]
    return {
        "version": current,
        "rollback_of": origin(current, copies) if current in copies else None,
        "versions": versions,
    }


def default_target(versions: list[int], copies: dict[int, int]) -> int:
    """The pushed model before the one served: the newest pipeline push older than it.

    Repeated rollbacks thus step back one pushed model at a time; `--to` picks any.
    """
    serving_origin = origin(versions[-1], copies)
    earlier = [version for version in versions if version < serving_origin and version not in copies]
    if not earlier:
        raise RollbackError(
            f"no pushed model before version {serving_origin} in the serving directory, "
            f"which holds versions {', '.join(map(str, versions))}: there is nothing to roll back to"
        )
    return earlier[-1]


def _check_target(target: int, versions: list[int], copies: dict[int, int], base: str) -> None:
    if target not in versions:
        raise RollbackError(
            f"version {target} is not in {base}; pushed versions there: {', '.join(map(str, versions))}"
        )
    if origin(target, copies) == origin(versions[-1], copies):
        raise RollbackError(
            f"version {target} holds the model already served (version {versions[-1]}); nothing to do"
        )
    source = model_dir.version_path(base, target)
    if not _gfile().exists(os.path.join(source, model_dir.SAVED_MODEL_FILE)):
        raise RollbackError(f"{source} holds no saved_model.pb; pick another version with --to")


def rollback(serving_dir, to: int | None = None, now: float | None = None) -> dict:
    """Publishes an earlier version's files as the new highest version and journals it.

    Hold the workspace lock (polarity/lock.py) around it, so that no Pusher picks
    a version number at the same time.

    Args:
      serving_dir: the model base path the server watches (local path or URI).
      to: the version to serve again; default `default_target`.
      now: clock for the new version number (tests).

    Returns:
      The journal entry: version (new), rollback_of (copied), replaced (served before), time.

    Raises:
      RollbackError: no such version, nothing earlier, it is what is served already,
        or no file system for the serving directory's scheme.
    """
    base = os.fspath(serving_dir)
    try:
        model_dir.remove_leftovers(base)  # first, so that a killed push's partial version is no candidate
        versions = model_dir.list_versions(base)
    except model_dir.FileSystemError as error:
        raise RollbackError(str(error)) from None
    if not versions:
        raise RollbackError(f"no model version in {base}: nothing has been pushed, so nothing to roll back")
    copies = rolled_back_from(base)
    target = default_target(versions, copies) if to is None else to
    _check_target(target, versions, copies, base)
    version = model_dir.next_version(base, now=now)
    entry = {
        "version": version,
        "rollback_of": origin(target, copies),
        "copied": target,
        "replaced": versions[-1],
        "time": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    _append_to_journal(base, entry)
    # Journal first: a crash in between leaves an entry for a version that never appeared (harmless),
    # never a served version that status cannot explain.
    model_dir.publish(model_dir.version_path(base, target), base, version)
    return entry
