"""Unit: the JSON <-> tensor codec follows TF Serving's REST docs (g3doc/api_rest.md).

Each contract case quotes the documented request it is built from.
"""

import base64
import json

import numpy as np
import pytest

from serving import json_tensor
from serving.json_tensor import COLUMNAR, ROW, JsonTensorError, TensorSpec

TEXT = {"text": TensorSpec("DT_STRING", (-1,))}
# The doc's three named inputs: "tag" (string), "signal" (ints), "sensor" (2x2).
TAG_SIGNAL_SENSOR = {
    "tag": TensorSpec("DT_STRING", (-1,)),
    "signal": TensorSpec("DT_INT32", (-1, 5)),
    "sensor": TensorSpec("DT_FLOAT", (-1, 2, 2)),
}


def test_row_format_list_of_scalars():
    # api_rest.md: { // List of 3 scalar tensors.  "instances": [ "foo", "bar", "baz" ] }
    fmt, arrays = json_tensor.predict_request_to_arrays({"instances": ["foo", "bar", "baz"]}, TEXT)
    assert fmt == ROW
    assert arrays["text"].shape == (3,)
    assert list(arrays["text"]) == [b"foo", b"bar", b"baz"]


def test_row_format_named_inputs_from_the_docs():
    # api_rest.md: {"instances": [{"tag": "foo", "signal": [1, 2, 3, 4, 5], "sensor": [[1, 2], [3, 4]]},
    #                             {"tag": "bar", "signal": [3, 4, 1, 2, 5], "sensor": [[4, 5], [6, 8]]}]}
    doc = {
        "instances": [
            {"tag": "foo", "signal": [1, 2, 3, 4, 5], "sensor": [[1, 2], [3, 4]]},
            {"tag": "bar", "signal": [3, 4, 1, 2, 5], "sensor": [[4, 5], [6, 8]]},
        ]
    }
    fmt, arrays = json_tensor.predict_request_to_arrays(doc, TAG_SIGNAL_SENSOR)
    assert fmt == ROW
    assert list(arrays["tag"]) == [b"foo", b"bar"]
    np.testing.assert_array_equal(arrays["signal"], [[1, 2, 3, 4, 5], [3, 4, 1, 2, 5]])
    assert arrays["signal"].dtype == np.int32
    np.testing.assert_array_equal(arrays["sensor"], [[[1, 2], [3, 4]], [[4, 5], [6, 8]]])
    assert arrays["sensor"].dtype == np.float32


def test_columnar_format_is_the_same_tensors():
    # api_rest.md: {"inputs": {"tag": ["foo", "bar"], "signal": [[1, 2, 3, 4, 5], [3, 4, 1, 2, 5]],
    #                          "sensor": [[[1, 2], [3, 4]], [[4, 5], [6, 8]]]}}
    doc = {
        "inputs": {
            "tag": ["foo", "bar"],
            "signal": [[1, 2, 3, 4, 5], [3, 4, 1, 2, 5]],
            "sensor": [[[1, 2], [3, 4]], [[4, 5], [6, 8]]],
        }
    }
    fmt, arrays = json_tensor.predict_request_to_arrays(doc, TAG_SIGNAL_SENSOR)
    assert fmt == COLUMNAR
    assert arrays["signal"].shape == (2, 5) and arrays["sensor"].shape == (2, 2, 2)


def test_base64_values_are_decoded():
    # api_rest.md: { "b64": <base64 encoded string> } for binary values.
    payload = bytes(range(256))
    doc = {"instances": [{"b64": base64.b64encode(payload).decode()}]}
    _, arrays = json_tensor.predict_request_to_arrays(doc, TEXT)
    assert arrays["text"][0] == payload


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"instances": ["a"], "inputs": ["a"]}, "expecting only one of 'inputs' or 'instances'"),
        ({"signature_name": "x"}, "Missing 'inputs' or 'instances' key"),
        ({"instances": []}, "No values in 'instances' array"),
        ({"instances": "a"}, "Excepting 'instances' to be an list/array"),
        ({"instances": [5]}, "Type: Number is not of expected type: string"),
        ({"instances": [{"b64": "!!not base64!!"}]}, "Unable to base64 decode"),
        ({"inputs": {"txt": ["a"]}}, "Missing named input: text in 'inputs' object."),
        ({"inputs": {"text": ["a"], "extra": [1]}}, "Unknown named input(s): extra"),
        ({"instances": [{"text": "a", "other": "b"}]}, "keys must be equal to: text"),
    ],
)
def test_malformed_predict_requests_name_the_problem(doc, message):
    with pytest.raises(JsonTensorError) as error:
        json_tensor.predict_request_to_arrays(doc, TEXT)
    assert message in str(error.value)


def test_plain_list_of_one_input_is_one_tensor():
    # api_rest.md: { "instances": [ [0, 1], [2, 3] ] } for a single input of shape [-1, 2].
    _, arrays = json_tensor.predict_request_to_arrays(
        {"instances": [[0, 1], [2, 3]]}, {"x": TensorSpec("DT_INT32", (-1, 2))}
    )
    assert arrays["x"].dtype == np.int32
    np.testing.assert_array_equal(arrays["x"], [[0, 1], [2, 3]])


@pytest.mark.parametrize(
    "instances, message",
    [
        (["a", 5], "Failed to process element: 1 key: text of 'instances' list. Error: JSON Value: 5"),
        (["a", ["b"]], "Expecting shape [] but got: [1] (element 1, input text)"),
        (["a", {"text": "b"}], "Expecting value/list but got object at item 1 of input list"),
    ],
)
def test_a_bad_element_of_a_plain_list_is_named(instances, message):
    with pytest.raises(JsonTensorError) as error:
        json_tensor.predict_request_to_arrays({"instances": instances}, TEXT)
    assert message in str(error.value)


def test_plain_list_needs_objects_when_there_are_several_inputs():
    with pytest.raises(JsonTensorError, match="expecting list of objects"):
        json_tensor.predict_request_to_arrays({"instances": ["foo"]}, TAG_SIGNAL_SENSOR)


def test_ragged_lists_are_rejected():
    with pytest.raises(JsonTensorError, match="unexpected size"):
        json_tensor.json_to_array([[1, 2], [3]], "DT_INT32")


def test_shapes_are_left_to_the_model_as_tf_serving_does():
    # tensorflow_model_server_test.py testPredictREST: [2.0, 3.0, 4.0] to an x declared [-1, 1]
    # answers; TF Serving feeds what it is sent. Only the batch size is read here.
    arrays = {"text": np.array([[b"a"], [b"b"]], dtype=object)}
    assert json_tensor.batch_size(arrays) == 2
    assert json_tensor.batch_size({"x": np.float32(2.0)}) == 1
    with pytest.raises(JsonTensorError, match="empty batch"):
        json_tensor.batch_size({"text": np.array([], dtype=object)})


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "The document is empty"),
        (b"{not json", "JSON Parse error"),
        (b"[1, 2]", "Is not object"),
        (b'{"instances": ["\xff\xfe"]}', "not valid UTF-8"),
    ],
)
def test_bodies_that_are_not_json_objects(body, message):
    with pytest.raises(JsonTensorError, match=message):
        json_tensor.parse_json_object(body)


def test_nan_and_infinity_are_accepted_as_tf_serving_does():
    # api_rest.md, JSON conformance: "requests like the following one are valid ... NaN, Infinity".
    doc = json_tensor.parse_json_object(b'{"inputs": [1.0, -3.14, NaN, Infinity]}')
    array = json_tensor.json_to_array(doc["inputs"], "DT_FLOAT")
    assert np.isnan(array[2]) and np.isinf(array[3])


def test_what_strict_json_parsers_refuse_still_parses():
    # Beyond 64 bits and lone surrogates: valid for TF Serving's parser and for json.
    doc = json_tensor.parse_json_object(b'{"a": 123456789012345678901234567890, "b": "\\ud800"}')
    assert doc == {"a": 123456789012345678901234567890, "b": "\ud800"}


@pytest.mark.parametrize(
    "body",
    [
        {"predictions": [{"label": 1, "probability": 0.25}], "text": "caf\u00e9 \u2014 \U0001f600"},
        {"model_version_status": [{"version": "3", "state": "AVAILABLE", "status": {"error_code": "OK"}}]},
        {"predictions": [0.5, float("nan"), float("inf"), -float("inf")]},
        {"outputs": [2**70], "none": None, "text": "null"},
    ],
    ids=["unicode", "status", "non-finite", "json-only"],
)
def test_dump_json_reads_back_as_json_writes_it(body):
    # Compared as json's text, where NaN equals NaN.
    assert json.dumps(json.loads(json_tensor.dump_json(body))) == json.dumps(body)


def test_dump_json_writes_non_finite_floats_as_tf_serving_does():
    # json_tensor.cc WriteDecimal: NaN, Infinity and -Infinity, not null.
    assert json_tensor.dump_json({"predictions": [float("nan"), float("inf"), -float("inf")]}) == (
        b'{"predictions": [NaN, Infinity, -Infinity]}'
    )


def test_row_response_with_several_outputs_is_a_list_of_objects():
    # api_rest.md: "If the model outputs multiple named tensors, we output a list of objects instead".
    outputs = {"probability": np.array([0.2, 0.9], np.float32), "label": np.array([0, 1], np.int64)}
    body = json_tensor.arrays_to_predict_response(outputs, ROW)
    assert body == {"predictions": [{"label": 0, "probability": 0.2}, {"label": 1, "probability": 0.9}]}
    # Floats are written as the shortest text that round-trips the float32, as TF Serving does.
    assert '"probability": 0.2}' in json.dumps(body)


def test_columnar_response_and_single_output():
    # api_rest.md: "If the output of the model contains only one named tensor, we omit the name".
    half_plus_three = {"y": np.array([3.5, 4.0, 5.5], np.float32)}
    assert json_tensor.arrays_to_predict_response(half_plus_three, ROW) == {"predictions": [3.5, 4.0, 5.5]}
    both = {"a": np.array([1, 2]), "b": np.array([[1.5], [2.5]], np.float32)}
    expected = {"outputs": {"a": [1, 2], "b": [[1.5], [2.5]]}}
    assert json_tensor.arrays_to_predict_response(both, COLUMNAR) == expected


def test_outputs_named_bytes_are_base64():
    # api_rest.md: "Named tensors that have _bytes as a suffix in their name are considered to have
    # binary values".
    body = json_tensor.arrays_to_predict_response({"image_bytes": np.array([b"\x00\xff"], dtype=object)}, ROW)
    assert body == {"predictions": [{"b64": base64.b64encode(b"\x00\xff").decode()}]}


def test_classify_examples_from_the_docs():
    # api_rest.md: {"signature_name": "classify_objects", "examples": [
    #   {"image": { "b64": "aW1hZ2UgYnl0ZXM=" }, "caption": "seaside"},
    #   {"image": { "b64": "YXdlc29tZSBpbWFnZSBieXRlcw==" }, "caption": "mountains"}]}
    doc = {
        "signature_name": "classify_objects",
        "examples": [
            {"image": {"b64": "aW1hZ2UgYnl0ZXM="}, "caption": "seaside"},
            {"image": {"b64": "YXdlc29tZSBpbWFnZSBieXRlcw=="}, "caption": "mountains"},
        ],
    }
    examples = json_tensor.classify_request_examples(doc)
    assert examples[0] == {"image": ("bytes", [b"image bytes"]), "caption": ("bytes", [b"seaside"])}
    assert examples[1]["image"] == ("bytes", [b"awesome image bytes"])


def test_classify_context_and_errors():
    doc = {"context": {"lang": "en"}, "examples": [{"x": [1, 2]}, {"x": 1.5}]}
    examples = json_tensor.classify_request_examples(doc)
    assert examples[0] == {"lang": ("bytes", [b"en"]), "x": ("int64", [1, 2])}
    assert examples[1]["x"] == ("float", [1.5])
    with pytest.raises(JsonTensorError, match="'examples' value is an empty array"):
        json_tensor.classify_request_examples({"examples": []})
    with pytest.raises(JsonTensorError, match="key 'examples' is expected"):
        json_tensor.classify_request_examples({"instances": ["a"]})
    with pytest.raises(JsonTensorError, match="Unexpected element type in feature: x"):
        json_tensor.classify_request_examples({"examples": [{"x": [1, "a"]}]})
    with pytest.raises(JsonTensorError, match="must not appear in 'examples'"):
        json_tensor.classify_request_examples({"context": {"x": 1}, "examples": [{"x": 2}]})


def test_row_response_needs_outputs_batched_alike():
    # json_tensor.cc MakeRowFormatJsonFromTensors: the errors TF Serving gives.
    with pytest.raises(JsonTensorError, match="Tensor name: y has no shape information"):
        json_tensor.arrays_to_predict_response({"y": np.float32(1.0)}, ROW)
    outputs = {"a": np.zeros(3, np.float32), "b": np.zeros(2, np.float32)}
    with pytest.raises(JsonTensorError, match="Tensor name: b has inconsistent batch size: 2 expecting: 3"):
        json_tensor.arrays_to_predict_response(outputs, ROW)
    assert json_tensor.arrays_to_predict_response({"y": np.float32(1.0)}, COLUMNAR) == {"outputs": 1.0}


def test_parse_errors_use_rapidjson_words():
    # http_rest_api_handler_test.cc PredictRequestErrors: "instances = [1, 2]" ->
    # "JSON Parse error: Invalid value".
    with pytest.raises(JsonTensorError, match="JSON Parse error: Invalid value"):
        json_tensor.parse_json_object(b"instances = [1, 2]")
