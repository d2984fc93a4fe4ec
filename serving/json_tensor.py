"""JSON <-> tensors, as TensorFlow Serving's REST API maps them.

Follows tensorflow_serving/util/json_tensor.cc: the same keys ("instances",
"inputs", "predictions", "outputs", "examples", "results", "b64"), the same
shape rules (dense tensors, every leaf at the tensor's rank) and, where a
client may match on them, the same error messages. Only numpy here: the model
is run elsewhere.
"""

import base64
import dataclasses
import json
import math

import numpy as np
import orjson

SIGNATURE_KEY = "signature_name"
INSTANCES_KEY = "instances"
INPUTS_KEY = "inputs"
PREDICTIONS_KEY = "predictions"
OUTPUTS_KEY = "outputs"
EXAMPLES_KEY = "examples"
CONTEXT_KEY = "context"
RESULTS_KEY = "results"
BASE64_KEY = "b64"
# Output tensors whose name ends so are written as {"b64": ...} (json_tensor.cc).
BYTES_SUFFIX = "_bytes"

ROW, COLUMNAR = "row", "columnar"

# TensorFlow's DataTypeString() names, used in TF Serving's type errors.
_TYPE_NAMES = {
    "DT_STRING": "string",
    "DT_FLOAT": "float",
    "DT_DOUBLE": "double",
    "DT_INT8": "int8",
    "DT_INT16": "int16",
    "DT_INT32": "int32",
    "DT_INT64": "int64",
    "DT_UINT8": "uint8",
    "DT_UINT32": "uint32",
    "DT_UINT64": "uint64",
    "DT_BOOL": "bool",
}
_NUMPY_TYPES = {
    "DT_STRING": object,
    "DT_FLOAT": np.float32,
    "DT_DOUBLE": np.float64,
    "DT_INT8": np.int8,
    "DT_INT16": np.int16,
    "DT_INT32": np.int32,
    "DT_INT64": np.int64,
    "DT_UINT8": np.uint8,
    "DT_UINT32": np.uint32,
    "DT_UINT64": np.uint64,
    "DT_BOOL": np.bool_,
}
_INT_RANGES = {
    "DT_INT8": (-(2**7), 2**7 - 1),
    "DT_INT16": (-(2**15), 2**15 - 1),
    "DT_INT32": (-(2**31), 2**31 - 1),
    "DT_INT64": (-(2**63), 2**63 - 1),
    "DT_UINT8": (0, 2**8 - 1),
    "DT_UINT32": (0, 2**32 - 1),
    "DT_UINT64": (0, 2**64 - 1),
}


# RapidJSON's words (GetParseError_En) for what Python's json reports, so that
# clients matching TF Serving's parse errors ("JSON Parse error: Invalid value") match.
_RAPIDJSON_ERRORS = {
    "Expecting value": "Invalid value.",
    "Expecting property name enclosed in double quotes": "Missing a name for object member.",
    "Expecting ':' delimiter": "Missing a colon after a name of object member.",
    "Extra data": "The document root must not be followed by other values.",
    "Unterminated string starting at": "Missing a closing quotation mark in string.",
}


class JsonTensorError(ValueError):
    """A request body that cannot become tensors (TF Serving: INVALID_ARGUMENT)."""


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    """A signature input or output: TF dtype name ("DT_STRING") and shape (-1: any)."""

    dtype: str
    shape: tuple | None  # None: unknown rank


def _show(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:200] + "..."


def _json_type(value) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def _type_error(value, dtype: str) -> JsonTensorError:
    return JsonTensorError(
        f"JSON Value: {_show(value)} Type: {_json_type(value)} is not of expected type: "
        f"{_TYPE_NAMES.get(dtype, dtype)}"
    )


def parse_json_object(body: bytes) -> dict:
    """Parses a request body into a JSON object, with TF Serving's messages.

    NaN, Infinity and -Infinity are accepted, as TF Serving's parser does.
    """
    if not body:
        raise JsonTensorError("JSON Parse error: The document is empty")
    try:
        doc = orjson.loads(body)  # strict JSON, twice as fast as json
    except orjson.JSONDecodeError:
        doc = _parse_leniently(body)  # NaN and Infinity, big integers, and the error messages
    if not isinstance(doc, dict):
        raise JsonTensorError(f"JSON Value: {_show(doc)} Is not object")
    return doc


def _parse_leniently(body: bytes):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JsonTensorError(
            f"JSON Parse error: the body is not valid UTF-8 ({error.reason} at offset: {error.start}); "
            'send UTF-8 JSON and put binary values in {"b64": ...}'
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        message = _RAPIDJSON_ERRORS.get(error.msg, error.msg)
        raise JsonTensorError(f"JSON Parse error: {message} at offset: {error.pos}") from None
    except RecursionError:
        raise JsonTensorError("JSON Parse error: the document is nested too deeply") from None
    return doc


def dump_json(body) -> bytes:
    """A response body as JSON bytes, non-finite floats as NaN, Infinity, -Infinity (as TF Serving).

    orjson writes a :predict response about 15x faster than json, but writes
    non-finite floats as null and refuses integers beyond 64 bits; a body whose
    orjson form holds a null (rare: only such floats, None or the text "null")
    or that orjson refuses is written by json instead.
    """
    try:
        encoded = orjson.dumps(body)
    except TypeError:  # integers beyond 64 bits, keys that are not strings
        encoded = None
    if encoded is None or b"null" in encoded:
        return json.dumps(body).encode("utf-8")
    return encoded


def signature_name(doc: dict) -> str:
    """The optional "signature_name" ("" when absent, meaning the default)."""
    name = doc.get(SIGNATURE_KEY, "")
    if not isinstance(name, str):
        raise JsonTensorError(
            f"JSON Value: {_show(doc)} not formatted correctly. 'signature_name' key must be a string value."
        )
    return name


def is_base64_object(value) -> bool:
    """{"b64": "<base64 string>"} and nothing else in the object."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(BASE64_KEY), str)


def decode_base64_object(value) -> bytes:
    if not is_base64_object(value):
        raise JsonTensorError(f"JSON Value: {_show(value)} not formatted correctly for base64 data")
    try:
        return base64.b64decode(value[BASE64_KEY], validate=True)
    except ValueError:
        raise JsonTensorError("Unable to base64 decode") from None


def _dense_shape(value) -> list:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _leaf(value, dtype: str):
    if dtype == "DT_STRING":
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, dict):
            return decode_base64_object(value)
        raise _type_error(value, dtype)
    if dtype == "DT_BOOL":
        if isinstance(value, bool):
            return value
        raise _type_error(value, dtype)
    if dtype in ("DT_FLOAT", "DT_DOUBLE"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise _type_error(value, dtype)
    if dtype in _INT_RANGES:
        low, high = _INT_RANGES[dtype]
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        raise _type_error(value, dtype)
    raise JsonTensorError(f"Conversion of JSON Value: {_show(value)} to type: {dtype} is not supported")


def _fill(value, level: int, shape: list, dtype: str, out: list) -> None:
    rank = len(shape)
    if not isinstance(value, list):
        if level != rank:
            raise JsonTensorError(
                f"JSON Value: {_show(value)} found at incorrect level: {level + 1} in the JSON DOM. "
                f"Expected at level: {rank}"
            )
        out.append(_leaf(value, dtype))
        return
    if level >= rank:
        raise JsonTensorError(f"Encountered list at unexpected level: {level} expected < {rank}")
    if len(value) != shape[level]:
        raise JsonTensorError(
            f"Encountered list at unexpected size: {len(value)} at level: {level} "
            f"expected size: {shape[level]}"
        )
    for item in value:
        _fill(item, level + 1, shape, dtype, out)


def json_to_array(value, dtype: str) -> np.ndarray:
    """One JSON value (scalar or nested lists) as a dense numpy array of dtype."""
    shape = _dense_shape(value)
    flat: list = []
    _fill(value, 0, shape, dtype, flat)
    array = np.empty(len(flat), dtype=object) if dtype == "DT_STRING" else None
    if array is not None:
        array[:] = flat
    else:
        array = np.asarray(flat, dtype=_NUMPY_TYPES[dtype])
    return array.reshape(shape)


def _is_named_element(value) -> bool:
    return isinstance(value, dict) and not is_base64_object(value)


def _instances_to_arrays(instances: list, specs: dict) -> dict:
    if len(specs) == 1 and not _is_named_element(instances[0]):
        # One unnamed input: the list is the whole tensor. Converting it in one pass gives the
        # same array as stacking its elements; on an error, the per-element pass below runs
        # to name the element at fault.
        name, spec = next(iter(specs.items()))
        try:
            return {name: json_to_array(instances, spec.dtype)}
        except JsonTensorError:
            pass
    if not _is_named_element(instances[0]) and len(specs) > 1:
        raise JsonTensorError(
            "instances is a plain list, but expecting list of objects as multiple input tensors "
            f"required as per tensorinfo_map (inputs: {','.join(sorted(specs))})"
        )
    named = _is_named_element(instances[0])
    columns: dict = {name: [] for name in specs}
    for index, element in enumerate(instances):
        if named:
            if not _is_named_element(element):
                raise JsonTensorError(f"Expecting object but got list at item {index} of input list")
            if set(element) != set(specs):
                raise JsonTensorError(
                    f"Failed to process element: {index} of 'instances' list. JSON object: "
                    f"{_show(element)} keys must be equal to: {','.join(sorted(specs))}"
                )
            items = element.items()
        else:
            if _is_named_element(element):
                raise JsonTensorError(f"Expecting value/list but got object at item {index} of input list")
            items = [(next(iter(specs)), element)]
        for name, value in items:
            try:
                array = json_to_array(value, specs[name].dtype)
            except JsonTensorError as error:
                raise JsonTensorError(
                    f"Failed to process element: {index} key: {name} of 'instances' list. Error: {error}"
                ) from None
            if columns[name] and columns[name][0].shape != array.shape:
                raise JsonTensorError(
                    f"Expecting shape {list(columns[name][0].shape)} but got: {list(array.shape)} "
                    f"(element {index}, input {name})"
                )
            columns[name].append(array)
    return {name: np.stack(arrays) for name, arrays in columns.items()}


def _inputs_to_arrays(value, specs: dict) -> dict:
    if not isinstance(value, dict) or is_base64_object(value):
        if len(specs) > 1:
            raise JsonTensorError(
                "inputs is a plain value/list, but expecting an object as multiple input tensors "
                f"required as per tensorinfo_map (inputs: {','.join(sorted(specs))})"
            )
        name = next(iter(specs))
        return {name: json_to_array(value, specs[name].dtype)}
    arrays = {}
    for name, spec in specs.items():
        if name not in value:
            raise JsonTensorError(f"Missing named input: {name} in 'inputs' object.")
        arrays[name] = json_to_array(value[name], spec.dtype)
    unknown = sorted(set(value) - set(specs))
    if unknown:
        # TF Serving ignores extra keys here; a typo is likelier than intent, so say so.
        raise JsonTensorError(
            f"Unknown named input(s): {', '.join(unknown)} in 'inputs' object; "
            f"this signature takes: {', '.join(sorted(specs))}"
        )
    return arrays


def predict_request_to_arrays(doc: dict, specs: dict) -> tuple:
    """The input tensors of a :predict body, as FillPredictRequestFromJson reads them.

    Args:
      doc: the parsed request object.
      specs: the signature's inputs, name -> TensorSpec.

    Returns:
      (format, arrays): ROW for "instances", COLUMNAR for "inputs"; name -> numpy array.
    """
    has_instances, has_inputs = INSTANCES_KEY in doc, INPUTS_KEY in doc
    if has_instances and has_inputs:
        raise JsonTensorError(
            f"JSON Value: {_show(doc)} Not formatted correctly expecting only one of 'inputs' or "
            "'instances' keys to exist "
        )
    if has_instances:
        instances = doc[INSTANCES_KEY]
        if not isinstance(instances, list):
            raise JsonTensorError(f"JSON Value: {_show(doc)} Excepting 'instances' to be an list/array")
        if not instances:
            raise JsonTensorError(f"JSON Value: {_show(doc)} No values in 'instances' array")
        return ROW, _instances_to_arrays(instances, specs)
    if has_inputs:
        return COLUMNAR, _inputs_to_arrays(doc[INPUTS_KEY], specs)
    raise JsonTensorError("Missing 'inputs' or 'instances' key")


def batch_size(arrays: dict) -> int:
    """The rows of a request: the 0th dimension of its inputs (1 for scalars).

    Shapes are not checked against the signature: as in TF Serving, the model
    decides what it takes (a [-1, 1] input fed [3] values runs element-wise).
    An empty batch is refused here, where TF Serving would run the model on it.
    """
    for name, array in arrays.items():
        if array.ndim and array.shape[0] == 0:
            raise JsonTensorError(f"Input '{name}' is an empty batch; send at least one value")
    for array in arrays.values():
        return array.shape[0] if array.ndim else 1
    return 0


def float_values(array: np.ndarray) -> list:
    """A float tensor's values, flat, as TF Serving writes them.

    The shortest text that round-trips the value at its own width (a float32 0.1
    is 0.1); astype(str) gives numpy's str() of each value in one pass.
    """
    return [float(text) for text in array.reshape(-1).astype(str).tolist()]


def string_values(array: np.ndarray) -> np.ndarray:
    """A string tensor's values as text (UTF-8, undecodable bytes replaced), same shape."""
    flat = [
        value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
        for value in array.reshape(-1)
    ]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(array.shape)


def _flat_values(name: str, array: np.ndarray) -> list:
    if array.dtype.kind == "f":
        return float_values(array)
    if array.dtype.kind in "OSU":
        as_bytes = name.endswith(BYTES_SUFFIX)
        values = []
        for value in array.reshape(-1):
            value = value if isinstance(value, bytes) else str(value).encode("utf-8")
            if as_bytes:
                values.append({BASE64_KEY: base64.b64encode(value).decode("ascii")})
            else:
                values.append(value.decode("utf-8", errors="replace"))
        return values
    return array.reshape(-1).tolist()


def _nest(flat: list, shape: tuple, start: int = 0):
    if not shape:
        return flat[start]
    if len(shape) == 1:
        return flat[start : start + shape[0]]
    stride = math.prod(shape[1:])
    return [_nest(flat, shape[1:], start + i * stride) for i in range(shape[0])]


def _as_json(name: str, array: np.ndarray):
    return _nest(_flat_values(name, array), array.shape)


def arrays_to_predict_response(outputs: dict, request_format: str) -> dict:
    """The :predict response body, as MakeJsonFromTensors writes it.

    Row format: {"predictions": [...]} with one object per instance when there are
    several outputs; columnar: {"outputs": {...}}. One output drops its name.
    """
    names = sorted(outputs)
    if request_format == COLUMNAR:
        if len(names) == 1:
            return {OUTPUTS_KEY: _as_json(names[0], outputs[names[0]])}
        return {OUTPUTS_KEY: {name: _as_json(name, outputs[name]) for name in names}}
    batch = 0
    for name in names:  # MakeRowFormatJsonFromTensors: every output is batched alike
        shape = outputs[name].shape
        if not shape:
            raise JsonTensorError(f"Tensor name: {name} has no shape information ")
        if shape[0] < 1:
            raise JsonTensorError(f"Tensor name: {name} has invalid batch size: {shape[0]}")
        if batch and shape[0] != batch:
            raise JsonTensorError(
                f"Tensor name: {name} has inconsistent batch size: {shape[0]} expecting: {batch}"
            )
        batch = shape[0]
    rows = {name: _as_json(name, outputs[name]) for name in names}
    if len(names) == 1:
        return {PREDICTIONS_KEY: rows[names[0]]}
    return {PREDICTIONS_KEY: [{name: rows[name][i] for name in names} for i in range(batch)]}


def _feature_values(name: str, content) -> tuple:
    """(kind, values) of one tf.Example feature, per AddValueToFeature."""
    kind, values = None, []
    for value in content if isinstance(content, list) else [content]:
        if (
            value is None
            or isinstance(value, list)
            or (isinstance(value, dict) and not is_base64_object(value))
        ):
            raise JsonTensorError(
                f"Feature: {name} has element with unexpected JSON type: {_json_type(value)}"
            )
        if isinstance(value, bool):
            this, value = "int64", int(value)
        elif isinstance(value, dict):
            this, value = "bytes", decode_base64_object(value)
        elif isinstance(value, str):
            this, value = "bytes", value.encode("utf-8")
        elif isinstance(value, float):
            this = "float"
        else:
            this = "int64"
            if not -(2**63) <= value < 2**63:
                raise JsonTensorError(f"Feature: {name} has uint64 element. Only int64 is supported.")
        if kind not in (None, this):
            raise JsonTensorError(f"Unexpected element type in feature: {name} expecting type: {kind}")
        kind = this
        values.append(value)
    return kind or "bytes", values


def example_features(value) -> dict:
    """A JSON object of an "examples" list as feature name -> (kind, values)."""
    if not isinstance(value, dict):
        raise JsonTensorError(f"Example must be JSON object but got JSON {_json_type(value)}")
    return {name: _feature_values(name, content) for name, content in value.items()}


def classify_request_examples(doc: dict) -> list:
    """The examples of a :classify body (context merged in), as feature dicts."""
    if EXAMPLES_KEY not in doc:
        raise JsonTensorError(
            f"JSON Value: {_show(doc)} When method is classify, key 'examples' is expected and was not found"
        )
    examples = doc[EXAMPLES_KEY]
    if not isinstance(examples, list):
        raise JsonTensorError(f"JSON Value: {_show(doc)} Expecting 'examples' value to be an list/array")
    if not examples:
        raise JsonTensorError(f"JSON Value: {_show(doc)} 'examples' value is an empty array")
    context = example_features(doc[CONTEXT_KEY]) if CONTEXT_KEY in doc else {}
    merged = []
    for index, example in enumerate(examples):
        feature_dict = example_features(example)
        both = sorted(set(feature_dict) & set(context))
        if both:
            raise JsonTensorError(
                f"Example {index} repeats context feature(s) {', '.join(both)}; a feature in "
                "'context' must not appear in 'examples'"
            )
        merged.append({**context, **feature_dict})
    return merged
