"""Helpers of the tests that load SavedModels: the pipeline's exported model, and for the push
tests a small real SavedModel and a fresh place on TF's ram:// file system.

ram:// is a file system of this process that tf.io.gfile reaches as it reaches
gs:// or s3://: not the local POSIX one, and a directory rename there moves no
files, as on an object store.
"""

import contextlib
import pathlib
import uuid

SCALE = 3.0


def optimizer_variables(location) -> list[str]:
    """The names of optimizer state (moments, step counts) among a SavedModel's saved variables."""
    import tensorflow as tf

    saved = tf.train.load_checkpoint(f"{location}/variables/variables").get_variable_to_shape_map()
    assert saved, f"{location} saved no variables"
    return sorted(name for name in saved if "optimizer" in name)


def load_exported_model(location):
    """Loads a SavedModel the pipeline exported, registering TF Text's ops first.

    Its tokenizer runs on TF Text ops (CaseFoldUTF8, ...), which a process must have
    imported `tensorflow_text` to load: as `polarity serve` and TF Serving do, not by luck
    of another test file having imported it in the same process.

    Args:
      location: the version directory (a local path or URI).
    """
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 (registers the ops)

    return tf.saved_model.load(str(location))


def save_small_model(path, scale: float = SCALE, work_dir=None) -> str:
    """Saves a SavedModel (a variable, a signature, an asset) at `path`; returns the path.

    Args:
      path: a local path or URI.
      scale: the variable's value.
      work_dir: a local folder for the asset's source file; default the parent of a local `path`.
    """
    import tensorflow as tf

    vocabulary = pathlib.Path(work_dir or pathlib.Path(path).parent) / "vocabulary.txt"
    vocabulary.parent.mkdir(parents=True, exist_ok=True)
    vocabulary.write_text("good\nbad\n", encoding="utf-8")

    class Scale(tf.Module):
        def __init__(self):
            self.scale = tf.Variable(scale)
            self.vocabulary = tf.saved_model.Asset(str(vocabulary))

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def __call__(self, x):
            return {"scores": x * self.scale}

    module = Scale()
    tf.saved_model.save(module, str(path), signatures=module.__call__)
    # As the Trainer's export: TF Serving's warm-up requests, next to assets/ (a prefix of the name).
    tf.io.gfile.makedirs(f"{path}/assets.extra")
    with tf.io.gfile.GFile(f"{path}/assets.extra/tf_serving_warmup_requests", "wb") as file:
        file.write(b"\x00warm-up record\xff")
    return str(path)


@contextlib.contextmanager
def ram_location(name: str = "serving"):
    """A ram:// folder no other test uses, deleted afterwards."""
    import tensorflow as tf

    root = f"ram://{uuid.uuid4().hex}"
    try:
        yield f"{root}/{name}"
    finally:
        try:
            tf.io.gfile.rmtree(root)
        except tf.errors.NotFoundError:  # ram:// deletes it all, then trips over assets.extra's files
            assert not tf.io.gfile.exists(root)


def files_under(root: str) -> dict[str, bytes]:
    """{path relative to root: content} of every file under a local path or URI."""
    import tensorflow as tf

    found = {}
    for folder, _, names in tf.io.gfile.walk(root):
        relative = folder[len(root) :].strip("/")
        for name in names:
            if not tf.io.gfile.exists(f"{folder}/{name}"):  # ram:// lists assets.extra/'s files in assets/
                continue
            with tf.io.gfile.GFile(f"{folder}/{name}", "rb") as file:
                found[f"{relative}/{name}".strip("/")] = file.read()
    return found


def load_and_call(location: str) -> list[float]:
    """Loads the SavedModel at a local path or URI and runs its signature on [1, 2]."""
    import tensorflow as tf

    loaded = tf.saved_model.load(location)
    return loaded.signatures["serving_default"](tf.constant([1.0, 2.0]))["scores"].numpy().tolist()
