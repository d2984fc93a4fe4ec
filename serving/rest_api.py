"""TF Serving's REST surface: URLs, error codes and the non-tensor JSON bodies.

Sources, in tensorflow/serving: g3doc/api_rest.md (the documented API),
model_servers/http_rest_api_util.cc (URL regexes), http_server.cc
(ToHTTPStatusCode: canonical error code -> HTTP status), get_model_status_impl.cc
and http_rest_api_util.cc ToJsonString (status and metadata JSON).
"""

import dataclasses
import re

import numpy as np

from polarity import compat
from serving import json_tensor
from serving.json_tensor import JsonTensorError

# tensorflow/cc/saved_model/signature_constants.h: the signature a request without
# "signature_name" runs, and the keys and method names of classify and regress.
DEFAULT_SIGNATURE = "serving_default"
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"
CLASSIFY_REGRESS_INPUTS = "inputs"
CLASSIFY_CLASSES = "classes"
CLASSIFY_SCORES = "scores"
REGRESS_OUTPUTS = "outputs"

# http_rest_api_util.cc: kPredictionApiGegex and kModelStatusApiRegex (case-insensitive);
# :explain is KServe V1's verb, an extension (serving/explanations.py).
PREDICTION_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict|explain)",
    re.IGNORECASE,
)
STATUS_PATH = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
    re.IGNORECASE,
)

# http_server.cc ToHTTPStatusCode.
HTTP_STATUS = {
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


class ApiError(Exception):
    """An error answered as {"error": message} with TF Serving's HTTP status for `code`."""

    def __init__(self, code: str, message: str, http_status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status or HTTP_STATUS[code]


def invalid_argument(error: JsonTensorError) -> ApiError:
    return ApiError("INVALID_ARGUMENT", str(error))


@dataclasses.dataclass(frozen=True)
class Route:
    """What a /v1 URL asks for."""

    kind: str  # "predict", "classify", "regress", "explain", "status" or "metadata"
    model: str
    version: int | None = None
    label: str | None = None  # /labels/<label>: resolved to a version by the core


def parse_path(method: str, path: str) -> Route:
    """Matches a /v1 path as ParseModelInfo does; raises ApiError like TF Serving."""
    if method == "POST":
        match = PREDICTION_PATH.fullmatch(path)
        if match:
            model, version, label, verb = match.groups()
            return Route(verb.lower(), model, _version(version), label)
    elif method == "GET":
        match = STATUS_PATH.fullmatch(path)
        if match:
            model, version, label, metadata = match.groups()
            if not model:
                raise ApiError("INVALID_ARGUMENT", "Missing model name in request.")
            return Route("metadata" if metadata else "status", model, _version(version), label)
    raise ApiError("INVALID_ARGUMENT", f"Malformed request: {method} {path}")


def _version(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        version = int(text)
    except ValueError:
        version = None
    if version is None or version >= 2**63:
        raise ApiError("INVALID_ARGUMENT", f"Failed to convert version: {text} to numeric.")
    return version


def model_status_json(states: list) -> dict:
    """GetModelStatusResponse as TF Serving prints it (proto field names, defaults shown)."""
    from tensorflow_serving.apis import get_model_status_pb2

    response = get_model_status_pb2.GetModelStatusResponse()
    for entry in sorted(states, key=lambda s: s.version):
        status = response.model_version_status.add()
        status.version = entry.version
        status.state = get_model_status_pb2.ModelVersionStatus.State.Value(entry.state)
        status.status.error_code = (
            status.status.DESCRIPTOR.fields_by_name["error_code"]
            .enum_type.values_by_name[entry.error_code]
            .number
        )
        status.status.error_message = entry.error_message
    return compat.message_to_dict(response)


def model_metadata_json(model: str, version: int, signature_defs: dict) -> dict:
    """GetModelMetadataResponse with the signature_def metadata, shaped as ToJsonString does."""
    from tensorflow_serving.apis import get_model_metadata_pb2, model_pb2

    spec = model_pb2.ModelSpec(name=model)
    spec.version.value = version
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for name, signature_def in signature_defs.items():
        signature_map.signature_def[name].CopyFrom(signature_def)
    return {
        "model_spec": compat.message_to_dict(spec),
        "metadata": {"signature_def": compat.message_to_dict(signature_map)},
    }


def serialize_examples(examples: list) -> list:
    """Feature dicts (from json_tensor.classify_request_examples) as serialized tf.Examples."""
    from tensorflow.core.example import example_pb2

    serialized = []
    for feature_dict in examples:
        example = example_pb2.Example()
        for name, (kind, values) in feature_dict.items():
            feature = example.features.feature[name]
            if kind == "bytes":
                feature.bytes_list.value.extend(values)
            elif kind == "float":
                feature.float_list.value.extend(values)
            else:
                feature.int64_list.value.extend(values)
        serialized.append(example.SerializeToString())
    return serialized


def _describe(signature) -> str:
    return f"'{signature.name}' (inputs: {sorted(signature.inputs)}, outputs: {sorted(signature.outputs)})"


def classify_input(signature, check_method: bool = False) -> str:
    """The serialized-Example input of a signature :classify runs, as classifier.cc checks it.

    TF Serving checks the method name only with --enable_signature_method_name_check
    (off by default, since TF2 SavedModels cannot record classify); otherwise any
    signature shaped for classification runs.

    Raises:
      ApiError: the signature cannot classify, with TF Serving's message.
    """
    if check_method and signature.method_name != CLASSIFY_METHOD:
        raise ApiError(
            "INVALID_ARGUMENT",
            f"Expected classification signature method_name to be {CLASSIFY_METHOD}. "
            f"Was: {signature.method_name}",
        )
    if len(signature.inputs) != 1:
        raise ApiError("INVALID_ARGUMENT", "Expected one input Tensor.")
    if len(signature.outputs) not in (1, 2):
        raise ApiError(
            "INVALID_ARGUMENT", f"Expected one or two output Tensors, found {len(signature.outputs)}"
        )
    if CLASSIFY_REGRESS_INPUTS not in signature.inputs:
        raise ApiError(
            "FAILED_PRECONDITION", f"No classification inputs found in SignatureDef: {_describe(signature)}"
        )
    if CLASSIFY_CLASSES not in signature.outputs and CLASSIFY_SCORES not in signature.outputs:
        raise ApiError(
            "FAILED_PRECONDITION",
            f'Expected classification signature outputs to contain at least one of "{CLASSIFY_CLASSES}" '
            f'or "{CLASSIFY_SCORES}". Signature was: {_describe(signature)}',
        )
    return CLASSIFY_REGRESS_INPUTS


def regress_input(signature, check_method: bool = False) -> str:
    """The serialized-Example input of a signature :regress runs, as regressor.cc checks it."""
    if check_method and signature.method_name != REGRESS_METHOD:
        raise ApiError(
            "INVALID_ARGUMENT",
            f"Expected regression signature method_name to be {REGRESS_METHOD}. Was: {signature.method_name}",
        )
    if len(signature.inputs) != 1:
        raise ApiError("INVALID_ARGUMENT", "Expected one input Tensor.")
    if len(signature.outputs) != 1:
        raise ApiError("INVALID_ARGUMENT", "Expected one output Tensor.")
    if CLASSIFY_REGRESS_INPUTS not in signature.inputs:
        raise ApiError(
            "INVALID_ARGUMENT", f"No regression inputs found in SignatureDef: {_describe(signature)}"
        )
    if REGRESS_OUTPUTS not in signature.outputs:
        raise ApiError(
            "INVALID_ARGUMENT", f"No regression outputs found in SignatureDef: {_describe(signature)}"
        )
    return CLASSIFY_REGRESS_INPUTS


def _shape(array) -> str:
    return "[" + ",".join(str(d) for d in array.shape) + "]"


def _check_classify_output(name: str, array, dtype: str, kinds: str, examples: int) -> None:
    if array.ndim != 2:
        raise ApiError(
            "INVALID_ARGUMENT", f"Expected Tensor shape: [batch_size num_classes] but got {_shape(array)}"
        )
    if array.dtype.kind not in kinds or (dtype == "DT_FLOAT" and array.dtype != np.float32):
        raise ApiError("INVALID_ARGUMENT", f"Expected {name} Tensor of {dtype}. Got: {array.dtype}")
    if array.shape[0] != examples:
        raise ApiError(
            "INVALID_ARGUMENT", f"Expected {name} output batch size of {examples}. Got: {array.shape[0]}"
        )


def classification_results(outputs: dict, examples: int) -> list:
    """ClassificationResult JSON: per example, [[class, score], ...] (classifier.cc, json_tensor.cc).

    A signature may output classes, scores or both ([batch, num_classes] each); a
    missing class is written as "" and a missing score as 0, as TF Serving does.
    """
    classes, scores = outputs.get(CLASSIFY_CLASSES), outputs.get(CLASSIFY_SCORES)
    if classes is not None:
        _check_classify_output("classes", classes, "DT_STRING", "OSU", examples)
    if scores is not None:
        _check_classify_output("scores", scores, "DT_FLOAT", "f", examples)
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise ApiError(
            "INVALID_ARGUMENT",
            "Tensors class and score should match in dim_size(1). "
            f"Got {classes.shape[1]} vs. {scores.shape[1]}",
        )
    width = (classes if classes is not None else scores).shape[1]
    names = (
        json_tensor.string_values(classes).reshape(examples, width).tolist()
        if classes is not None
        else [[""] * width] * examples
    )
    values = (
        np.asarray(json_tensor.float_values(scores), dtype=object).reshape(examples, width).tolist()
        if scores is not None
        else [[0.0] * width] * examples
    )
    return [
        [[name, value] for name, value in zip(row_names, row_values, strict=True)]
        for row_names, row_values in zip(names, values, strict=True)
    ]


def regression_results(outputs: dict, examples: int) -> list:
    """RegressionResult JSON: one float per example (regressor.cc PostProcessRegressionResult)."""
    array = outputs[REGRESS_OUTPUTS]
    if not (array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1)):
        raise ApiError(
            "INVALID_ARGUMENT",
            "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] "
            f"but got {_shape(array)}",
        )
    if array.shape[0] != examples:
        raise ApiError(
            "INVALID_ARGUMENT",
            f"Input batch size did not match output batch size: {examples} vs. {array.shape[0]}",
        )
    if array.dtype != np.float32:
        raise ApiError("INVALID_ARGUMENT", f"Expected output Tensor of DT_FLOAT.  Got: {array.dtype}")
    return json_tensor.float_values(array)
