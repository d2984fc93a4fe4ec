"""TF Serving's REST surface: URLs, error codes and the non-tensor JSON bodies.

Sources, in tensorflow/serving: g3doc/api_rest.md (the documented API),
model_servers/http_rest_api_util.cc (URL regexes), http_server.cc
(ToHTTPStatusCode: canonical error code -> HTTP status), get_model_status_impl.cc
and http_rest_api_util.cc ToJsonString (status and metadata JSON).
"""

import dataclasses
import re

import numpy as np
from google.protobuf import json_format

from components import features
from serving.json_tensor import JsonTensorError

# http_rest_api_util.cc: kPredictionApiGegex and kModelStatusApiRegex (case-insensitive).
PREDICTION_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)",
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

    kind: str  # "predict", "classify", "regress", "status" or "metadata"
    model: str
    version: int | None = None


def parse_path(method: str, path: str) -> Route:
    """Matches a /v1 path as ParseModelInfo does; raises ApiError like TF Serving."""
    if method == "POST":
        match = PREDICTION_PATH.fullmatch(path)
        if match:
            model, version, label, verb = match.groups()
            return Route(verb.lower(), model, _version(version, label))
    elif method == "GET":
        match = STATUS_PATH.fullmatch(path)
        if match:
            model, version, label, metadata = match.groups()
            if not model:
                raise ApiError("INVALID_ARGUMENT", "Missing model name in request.")
            return Route("metadata" if metadata else "status", model, _version(version, label))
    raise ApiError("INVALID_ARGUMENT", f"Malformed request: {method} {path}")


def _version(text: str | None, label: str | None) -> int | None:
    if label:
        # server_core.cc: labels exist only when a model config assigns them.
        raise ApiError("INVALID_ARGUMENT", f"Unrecognized servable version label: {label}")
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
    return json_format.MessageToDict(
        response, including_default_value_fields=True, preserving_proto_field_name=True
    )


def model_metadata_json(model: str, version: int, signature_defs: dict) -> dict:
    """GetModelMetadataResponse with the signature_def metadata, shaped as ToJsonString does."""
    from tensorflow_serving.apis import get_model_metadata_pb2, model_pb2

    spec = model_pb2.ModelSpec(name=model)
    spec.version.value = version
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for name, signature_def in signature_defs.items():
        signature_map.signature_def[name].CopyFrom(signature_def)
    options = {"including_default_value_fields": True, "preserving_proto_field_name": True}
    return {
        "model_spec": json_format.MessageToDict(spec, **options),
        "metadata": {"signature_def": json_format.MessageToDict(signature_map, **options)},
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


def classification_results(probabilities) -> list:
    """Per example, [[label, score], ...] over the label values (ClassificationResult JSON).

    The model's probability is that of the positive label; the other label gets 1 - p.
    """
    negative, positive = (str(value) for value in features.LABEL_VALUES)
    return [[[negative, float(str(np.float32(1) - p))], [positive, float(str(p))]] for p in probabilities]


def classify_input(signature) -> str:
    """The serialized-Example input of a signature :classify can run, or an ApiError."""
    spec = signature.inputs.get(features.EXAMPLES_INPUT_KEY)
    if len(signature.inputs) == 1 and spec is not None and spec.dtype == "DT_STRING":
        if features.PROBABILITY_KEY in signature.outputs:
            return features.EXAMPLES_INPUT_KEY
    raise ApiError(
        "INVALID_ARGUMENT",
        f"Signature '{signature.name}' cannot classify: :classify needs a single serialized tf.Example "
        f"input '{features.EXAMPLES_INPUT_KEY}' and a '{features.PROBABILITY_KEY}' output "
        f"(use '{features.SERVING_SIGNATURE}').",
    )
