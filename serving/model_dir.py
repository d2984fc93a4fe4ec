"""The TF Serving model directory: <base>/<numeric version>/saved_model.pb ...

TF Serving (and the embedded server) serve every numeric sub-directory as a
version and the highest by default. The base is a local path or a URI (gs://,
s3://, any file system tf.io.gfile knows, the layer TFX itself uses), so every
access goes through tf.io.gfile. A version is published so that no server ever
loads it half-written, and a version number is never reused:

- on a local file system, by copying into a hidden staging directory next to
  the versions and renaming it into place (rename(2) moves a directory at once);
- on an object store, where a rename copies file by file, by copying every other
  file into the version directory, checking they all arrived, and writing
  saved_model.pb last (as TFX's own Pusher does): until then the directory holds
  no SavedModel a server could load.
"""

import contextlib
import os
import time

from serving import storage
from serving.storage import FileSystemError, is_uri  # noqa: F401 (callers name them here)

STAGING_PREFIX = ".staging-"
SAVED_MODEL_FILE = "saved_model.pb"


def renames_atomically(location) -> bool:
    """Whether renaming a directory at `location` moves it at once: local paths only.

    Object stores (gs://, s3://) copy a "directory" object by object, and TF's
    ram:// file system renames only the directory entry, not the files under it.
    """
    location = os.fspath(location)
    return not is_uri(location) or location.startswith("file://")


_gfile = storage.gfile
_file_system_of = storage.file_system_of


def _remove_tree(location: str) -> None:
    import tensorflow as tf

    try:
        _gfile().rmtree(location)
    except tf.errors.NotFoundError:  # ram:// deletes it all, then trips over a name listed by prefix
        if _gfile().exists(location):
            raise


def version_path(base_dir, version: int) -> str:
    """<base_dir>/<version>, as a local path or URI."""
    return os.path.join(os.fspath(base_dir), str(version))


def list_versions(base_dir) -> list[int]:
    """Numeric version directories under base_dir, ascending (missing dir: none)."""
    base = os.fspath(base_dir)
    if not storage.isdir(base):
        return []
    names = storage.listdir(base)
    return sorted(int(name) for name in names if name.isdigit() and storage.isdir(os.path.join(base, name)))


def latest_version(base_dir) -> int | None:
    versions = list_versions(base_dir)
    return versions[-1] if versions else None


def next_version(base_dir, now: float | None = None) -> int:
    """A Unix-time version number, always above every existing version."""
    candidate = int(now if now is not None else time.time())
    latest = latest_version(base_dir)
    return max(candidate, (latest or 0) + 1)


def _tree(root: str) -> tuple[list[str], dict[str, int]]:
    """(sub-directories, {file: size}) under root, as paths relative to it."""
    import tensorflow as tf

    gfile = _gfile()
    root = root.rstrip("/")
    folders, files = [], {}
    for folder, _, names in gfile.walk(root):
        relative = folder[len(root) :].strip("/")
        if relative:
            folders.append(relative)
        for name in names:
            path = os.path.join(relative, name)
            try:
                files[path] = gfile.stat(os.path.join(root, path)).length
            except tf.errors.NotFoundError:  # ram:// lists assets.extra/'s files under assets/ as ".extra"
                continue
    return folders, files


def _not_arrived(target: str, files: dict[str, int]) -> list[str]:
    """The files missing under target, or there with another size than the source's."""
    gfile = _gfile()
    missing = []
    for path, size in sorted(files.items()):
        full = os.path.join(target, path)
        if not gfile.exists(full) or gfile.stat(full).length != size:
            missing.append(path)
    return missing


def _copy_files(source: str, target: str, folders: list[str], files) -> None:
    gfile = _gfile()
    gfile.makedirs(target)
    for folder in folders:
        gfile.makedirs(os.path.join(target, folder))
    for path in files:
        gfile.copy(os.path.join(source, path), os.path.join(target, path), overwrite=False)


def copy_tree(source, target) -> None:
    """Copies every file under source to target (local paths or URIs); existing files are an error."""
    source, target = os.fspath(source).rstrip("/"), os.fspath(target)
    _copy_files(source, target, *_tree(source))


def _publish_by_rename(source: str, base: str, target: str, version: int) -> None:
    """Local file systems: copy into a staging directory, then one atomic rename."""
    gfile = _gfile()
    staging = os.path.join(base, f"{STAGING_PREFIX}{version}-{os.getpid()}")
    if gfile.exists(staging):
        _remove_tree(staging)
    try:
        folders, files = _tree(source)
        _copy_files(source, staging, folders, files)
        gfile.rename(staging, target, overwrite=False)
    finally:
        if gfile.exists(staging):
            _remove_tree(staging)


def _publish_in_place(source: str, target: str) -> None:
    """Object stores: everything else first, then saved_model.pb once all of it is there.

    On any failure the partial version is deleted (best effort); it never holds a
    saved_model.pb, so no server can load it meanwhile.
    """
    gfile = _gfile()
    folders, files = _tree(source)
    rest = {path: size for path, size in files.items() if path != SAVED_MODEL_FILE}
    saved_model = os.path.join(target, SAVED_MODEL_FILE)
    try:
        _copy_files(source, target, folders, rest)
        missing = _not_arrived(target, rest)
        if missing:
            raise OSError(
                f"{target}: {', '.join(missing)} did not arrive complete (another writer in the "
                "serving directory?); saved_model.pb was not written, so no server loads it"
            )
        gfile.copy(os.path.join(source, SAVED_MODEL_FILE), saved_model, overwrite=False)
    except BaseException:
        with contextlib.suppress(Exception):
            if not gfile.exists(saved_model):  # complete means someone else's: leave it
                _remove_tree(target)
        raise


def publish(model_dir, base_dir, version: int) -> str:
    """Copies a SavedModel into base_dir/<version> so that no server loads it half-written.

    Args:
      model_dir: a local path or URI holding saved_model.pb (and variables/, assets/...).
      base_dir: the model base path a server watches (local path or URI); created if missing.
      version: the version number to publish; must not exist yet.

    Returns:
      The published version directory (local path or URI).

    Raises:
      FileNotFoundError: model_dir holds no saved_model.pb.
      FileExistsError: the version already exists.
      FileSystemError: no file system for the scheme of model_dir or base_dir.
    """
    source, base = os.fspath(model_dir).rstrip("/"), os.fspath(base_dir)
    gfile = _gfile()
    with _file_system_of(source):
        if not gfile.exists(os.path.join(source, SAVED_MODEL_FILE)):
            raise FileNotFoundError(f"{source} holds no {SAVED_MODEL_FILE}; nothing was published")
    with _file_system_of(base):
        gfile.makedirs(base)
    target = version_path(base, version)
    if gfile.exists(target):
        raise FileExistsError(f"Model version {target} already exists; versions are never overwritten")
    if renames_atomically(base):
        _publish_by_rename(source, base, target, version)
    else:
        _publish_in_place(source, target)
    return target


def remove_leftovers(base_dir) -> list[str]:
    """Deletes what a killed push left behind; returns the names.

    That is staging directories and, where versions are written in place (object
    stores), version directories without saved_model.pb. Call it as the only
    writer of base_dir (the workspace lock, one Pusher at a time).
    """
    base = os.fspath(base_dir)
    if not storage.isdir(base):
        return []
    gfile = _gfile()
    removed = []
    for name in sorted(storage.listdir(base)):
        path = os.path.join(base, name)
        incomplete = (
            name.isdigit()
            and not renames_atomically(base)
            and gfile.isdir(path)
            and not gfile.exists(os.path.join(path, SAVED_MODEL_FILE))
        )
        if name.startswith(STAGING_PREFIX) or incomplete:
            _remove_tree(path)
            removed.append(name)
    return removed


def _fingerprint(model_dir: str) -> tuple:
    """The bytes that identify a SavedModel: its graph and its variables' index."""
    gfile = _gfile()
    parts = []
    for name in (SAVED_MODEL_FILE, "variables/variables.index"):
        path = os.path.join(model_dir, name)
        if gfile.exists(path):
            with gfile.GFile(path, "rb") as file:
                parts.append(file.read())
        else:
            parts.append(b"")
    return tuple(parts)


def find_identical_version(base_dir, model_dir) -> int | None:
    """The published version holding this very SavedModel (same graph and
    variables index), if any: pushing the same model twice adds no version."""
    wanted = _fingerprint(os.fspath(model_dir))
    for version in reversed(list_versions(base_dir)):
        if _fingerprint(version_path(base_dir, version)) == wanted:
            return version
    return None
