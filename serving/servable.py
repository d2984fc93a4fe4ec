"""One loaded model version: its signatures, how to run them, its warm-up.

What TF Serving calls a servable: a SavedModel loaded from <base>/<version>,
with the signature defs it publishes as metadata and the warm-up requests it
replays before taking traffic (assets.extra/tf_serving_warmup_requests).
"""

import dataclasses
import os

import numpy as np

from serving import rest_api
from serving.json_tensor import TensorSpec

# The SavedModel's own init op is listed among signature defs but is not one.
INIT_OP_SIGNATURE = "__saved_model_init_op"
# Where TF Serving looks for warm-up requests (SavedModel warmup docs).
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


class LoadError(RuntimeError):
    """A version directory that does not load as a servable model."""


@dataclasses.dataclass(frozen=True)
class Signature:
    """A signature def: its inputs and outputs by name."""

    name: str
    method_name: str
    inputs: dict
    outputs: dict


def _spec(tensor_info) -> TensorSpec:
    from tensorflow.core.framework import types_pb2

    shape = tensor_info.tensor_shape
    dims = None if shape.unknown_rank else tuple(dim.size for dim in shape.dim)
    return TensorSpec(types_pb2.DataType.Name(tensor_info.dtype), dims)


def read_signature_defs(version_dir) -> dict:
    """The signature defs in <version_dir>/saved_model.pb (name -> SignatureDef proto).

    version_dir is a local path or a URI (gs://, s3://...): read through tf.io.gfile.
    """
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    path = os.path.join(os.fspath(version_dir), "saved_model.pb")
    saved_model = saved_model_pb2.SavedModel()
    try:
        with tf.io.gfile.GFile(path, "rb") as handle:
            saved_model.ParseFromString(handle.read())
    except Exception as error:  # DecodeError, NotFoundError: both mean "not a SavedModel"
        raise LoadError(f"{path} is not a readable SavedModel: {error}") from error
    if not saved_model.meta_graphs:
        raise LoadError(f"{path} holds no meta graph")
    return dict(saved_model.meta_graphs[0].signature_def)


class Servable:
    """A loaded model version. Thread-safe to run; build it with `load`."""

    def __init__(self, version: int, path: str, loaded, signature_defs: dict):
        self.version = version
        self.path = path
        self._loaded = loaded
        self.signature_defs = signature_defs
        self.signatures = {
            name: Signature(
                name=name,
                method_name=sig.method_name,
                inputs={key: _spec(info) for key, info in sig.inputs.items()},
                outputs={key: _spec(info) for key, info in sig.outputs.items()},
            )
            for name, sig in signature_defs.items()
            if name != INIT_OP_SIGNATURE
        }
        self._functions = {name: loaded.signatures[name] for name in self.signatures}

    @classmethod
    def load(cls, version: int, path) -> "Servable":
        """Loads the SavedModel at path; raises LoadError with the reason."""
        import tensorflow as tf

        _register_tf_text_ops()
        path = os.fspath(path)
        signature_defs = read_signature_defs(path)
        try:
            loaded = tf.saved_model.load(path)
        except Exception as error:
            raise LoadError(
                f"Failed to load SavedModel at {path}: {type(error).__name__}: {error}"
            ) from error
        missing = sorted(set(signature_defs) - {INIT_OP_SIGNATURE} - set(loaded.signatures))
        if missing:
            raise LoadError(f"SavedModel at {path} lists signatures it cannot run: {missing}")
        return cls(version, path, loaded, signature_defs)

    def run(self, signature: str, arrays: dict) -> dict:
        """Runs a signature on numpy inputs; returns numpy outputs by name."""
        import tensorflow as tf

        function = self._functions[signature]
        tensors = {
            name: tf.constant(array, dtype=tf.as_dtype(_tf_dtype(self.signatures[signature].inputs[name])))
            for name, array in arrays.items()
        }
        return {name: value.numpy() for name, value in function(**tensors).items()}

    def warm_up(self) -> int:
        """Replays assets.extra/tf_serving_warmup_requests; returns how many ran.

        As TF Serving does (saved_model_warmup_util.cc), predict, classify and
        regress logs are replayed, and any failure fails the load (the version
        never takes traffic).
        """
        import tensorflow as tf
        from tensorflow_serving.apis import prediction_log_pb2

        path = os.path.join(self.path, WARMUP_FILE)
        if not tf.io.gfile.exists(path):
            return 0
        count = 0
        for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
            log = prediction_log_pb2.PredictionLog.FromString(record)
            kind = log.WhichOneof("log_type")
            if kind not in ("predict_log", "classify_log", "regress_log"):
                raise LoadError(f"{path}: unsupported warm-up log type {kind!r}")
            request = getattr(log, kind).request
            signature = request.model_spec.signature_name or rest_api.DEFAULT_SIGNATURE
            if signature not in self.signatures:
                raise LoadError(f"{path}: warm-up request names unknown signature {signature!r}")
            if kind == "predict_log":
                arrays = {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}
            else:
                arrays = {rest_api.CLASSIFY_REGRESS_INPUTS: _serialized_examples(request.input)}
            self.run(signature, arrays)
            count += 1
        return count


def _register_tf_text_ops() -> None:
    """Registers TF Text's ops, which TF Serving's model server links (its ops_lib).

    A SavedModel whose graph uses one (Polarity's tokenizer runs `CaseFoldUTF8`)
    loads only once the op is registered, and importing tensorflow_text registers them.
    """
    try:
        import tensorflow_text  # noqa: F401
    except ImportError:  # not installed: models without TF Text ops still load
        pass


def _serialized_examples(model_input) -> np.ndarray:
    """A tensorflow.serving.Input's examples, serialized (context merged into each)."""
    which = model_input.WhichOneof("kind")
    if which == "example_list_with_context":
        listed = model_input.example_list_with_context
        context = listed.context.SerializeToString()
        serialized = [context + example.SerializeToString() for example in listed.examples]
    else:
        serialized = [example.SerializeToString() for example in model_input.example_list.examples]
    array = np.empty(len(serialized), dtype=object)
    array[:] = serialized
    return array


def _tf_dtype(spec: TensorSpec) -> int:
    from tensorflow.core.framework import types_pb2

    return types_pb2.DataType.Value(spec.dtype)
