"""Reading a location that is a local path or a URI, one way for every caller.

Local paths go through the standard library, so that read-only commands
(`polarity status`, `lineage`) stay free of TensorFlow; a URI (gs://, s3://,
ram://, any file system tf.io.gfile knows, the layer TFX itself uses) goes
through tf.io.gfile, and a scheme this TensorFlow cannot reach is a
FileSystemError that says what to install.
"""

import contextlib
import os
import re

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class FileSystemError(ValueError):
    """A location on a file system this TensorFlow cannot reach, with what to install."""


def is_uri(location) -> bool:
    """Whether `location` names its file system by a scheme (gs://, s3://, ram://, file://...)."""
    return bool(_URI.match(os.fspath(location)))


def gfile():
    """tf.io.gfile, imported on first use: configuration and local reads stay TensorFlow-free."""
    import tensorflow as tf

    return tf.io.gfile


@contextlib.contextmanager
def file_system_of(location: str):
    """Turns "no file system for this scheme" into an error that says what to do."""
    import tensorflow as tf

    try:
        yield
    except tf.errors.UnimplementedError as error:
        scheme = location.split("://", 1)[0]
        raise FileSystemError(
            f"{location}: this TensorFlow has no file system for {scheme}://. gs:// is built in; "
            "s3:// and hdfs:// come with tensorflow-io (install it in the environment or pipeline "
            "image and `import tensorflow_io`); otherwise use a local path"
        ) from error


def exists(location) -> bool:
    location = os.fspath(location)
    if not is_uri(location):
        return os.path.exists(location)
    with file_system_of(location):
        return gfile().exists(location)


def isdir(location) -> bool:
    location = os.fspath(location)
    if not is_uri(location):
        return os.path.isdir(location)
    with file_system_of(location):
        return gfile().exists(location) and gfile().isdir(location)  # isdir alone hides an unknown scheme


def listdir(location) -> list[str]:
    """The names in a folder (object stores' trailing "/" on folders removed)."""
    location = os.fspath(location)
    if not is_uri(location):
        return os.listdir(location)
    if not isdir(location):  # gfile says NotFound for a scheme it has no file system for
        raise FileNotFoundError(f"no folder {location}")
    with file_system_of(location):
        return [name.rstrip("/") for name in gfile().listdir(location)]


def read_text(location) -> str | None:
    """The file's text, or None when there is no such file."""
    location = os.fspath(location)
    if not is_uri(location):
        try:
            with open(location, encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
    with file_system_of(location):
        if not gfile().exists(location):
            return None
        with gfile().GFile(location, "r") as handle:
            return handle.read()
