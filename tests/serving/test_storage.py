"""One way to read a local path or a URI: the same answers on a local disk and on ram://."""

import pytest
import tensorflow as tf
from saved_model_helpers import ram_location

from serving import storage


@pytest.fixture(params=["local", "ram"])
def folder(request, tmp_path, monkeypatch):
    """A folder holding a.txt ("hello") and a sub-folder b/, on a local disk or on ram://."""
    monkeypatch.chdir(tmp_path)
    with ram_location() as ram:
        root = str(tmp_path / "root") if request.param == "local" else f"{ram}/root"
        tf.io.gfile.makedirs(f"{root}/b")
        with tf.io.gfile.GFile(f"{root}/a.txt", "w") as handle:
            handle.write("hello")
        yield root
    assert not (tmp_path / "ram:").exists(), "a ram:// path was written as a local folder"


def test_local_paths_and_uris_read_alike(folder):
    assert sorted(storage.listdir(folder)) == ["a.txt", "b"]
    assert storage.isdir(folder) and storage.isdir(f"{folder}/b") and not storage.isdir(f"{folder}/a.txt")
    assert storage.exists(f"{folder}/a.txt") and not storage.exists(f"{folder}/c.txt")
    assert storage.read_text(f"{folder}/a.txt") == "hello"
    assert storage.read_text(f"{folder}/c.txt") is None
    assert not storage.isdir(f"{folder}/missing")


def test_a_scheme_without_a_file_system_says_what_to_install():
    for read in (storage.exists, storage.isdir, storage.listdir, storage.read_text):
        with pytest.raises(storage.FileSystemError, match=r"nosuch://x/y: .* no file system for nosuch://"):
            read("nosuch://x/y")
