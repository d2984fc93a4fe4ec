"""The TF Serving model directory: <base>/<numeric version>/saved_model.pb ...

TF Serving (and the embedded server) serve every numeric sub-directory as a
version and the highest by default. A version is therefore published by copying
into a hidden staging directory on the same filesystem and renaming it into
place, so no server ever sees a half-written version.
"""

import os
import pathlib
import shutil
import time

STAGING_PREFIX = ".staging-"


def list_versions(base_dir) -> list[int]:
    """Numeric version directories under base_dir, ascending (missing dir: none)."""
    base = pathlib.Path(base_dir)
    if not base.is_dir():
        return []
    return sorted(int(entry.name) for entry in base.iterdir() if entry.name.isdigit() and entry.is_dir())


def latest_version(base_dir) -> int | None:
    versions = list_versions(base_dir)
    return versions[-1] if versions else None


def next_version(base_dir, now: float | None = None) -> int:
    """A Unix-time version number, always above every existing version."""
    candidate = int(now if now is not None else time.time())
    latest = latest_version(base_dir)
    return max(candidate, (latest or 0) + 1)


def publish(model_dir, base_dir, version: int) -> pathlib.Path:
    """Copies a SavedModel into base_dir/<version> atomically.

    Args:
      model_dir: a directory holding saved_model.pb (and variables/, assets/...).
      base_dir: the model base path a server watches; created if missing.
      version: the version number to publish; must not exist yet.

    Returns:
      The published version directory.

    Raises:
      FileNotFoundError: model_dir holds no saved_model.pb.
      FileExistsError: the version already exists.
    """
    source = pathlib.Path(model_dir)
    if not (source / "saved_model.pb").is_file():
        raise FileNotFoundError(f"{source} holds no saved_model.pb; nothing was published")
    base = pathlib.Path(base_dir)
    base.mkdir(parents=True, exist_ok=True)
    target = base / str(version)
    if target.exists():
        raise FileExistsError(f"Model version {target} already exists; versions are never overwritten")
    staging = base / f"{STAGING_PREFIX}{version}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        shutil.copytree(source, staging)
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def remove_stale_staging(base_dir) -> list[str]:
    """Deletes staging directories a crashed push left behind; returns their names."""
    base = pathlib.Path(base_dir)
    if not base.is_dir():
        return []
    removed = []
    for entry in base.iterdir():
        if entry.name.startswith(STAGING_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _fingerprint(model_dir: pathlib.Path) -> tuple:
    """The bytes that identify a SavedModel: its graph and its variables' index."""
    parts = []
    for name in ("saved_model.pb", "variables/variables.index"):
        path = model_dir / name
        parts.append(path.read_bytes() if path.is_file() else b"")
    return tuple(parts)


def find_identical_version(base_dir, model_dir) -> int | None:
    """The published version holding this very SavedModel (same graph and
    variables index), if any: pushing the same model twice adds no version."""
    wanted = _fingerprint(pathlib.Path(model_dir))
    for version in reversed(list_versions(base_dir)):
        if _fingerprint(pathlib.Path(base_dir) / str(version)) == wanted:
            return version
    return None
