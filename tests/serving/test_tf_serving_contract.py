"""Contract: `polarity serve` answers TF Serving's REST API as TF Serving's own tests expect.

Each case takes its request, response and status from a TF Serving source file,
named in its docstring (paths under tensorflow/serving). The models are built
here as TF Serving's testdata builds them (tf_serving_models.py): the TF1
half_plus_two SavedModel, served as model "default" version 123 with the
version label "Version_Label" (http_rest_api_handler_test.cc), and a TF2
two-class classifier.
"""

import json
import threading
import time

import pytest
from serving_helpers import Http, running_server
from tf_serving_models import TWO_CLASSES, half_plus_two, two_class_classifier

from serving.batching import BatchingParameters
from serving.core import CoreOptions, ModelConfig
from serving.server import ServerOptions
from serving.versions import LoadOptions

VERSION = 123
LABEL = "Version_Label"
DEFAULT = "/v1/models/default"


@pytest.fixture(scope="module")
def model_bases(tmp_path_factory) -> dict:
    """Base paths: half_plus_two as version 123 of "default", the classifier as version 1."""
    root = tmp_path_factory.mktemp("tf_serving_models")
    half_plus_two(root / "default" / str(VERSION))
    two_class_classifier(root / "classifier" / "1")
    return {"default": root / "default", "classifier": root / "classifier"}


def contract_options(model_bases, batching=None, **core_options) -> ServerOptions:
    models = (
        ModelConfig("default", model_bases["default"], version_labels=((LABEL, VERSION),)),
        ModelConfig("classifier", model_bases["classifier"]),
    )
    core = CoreOptions(
        models=models,
        batching=batching,
        load=LoadOptions(file_system_poll_wait_seconds=0.2, max_num_load_retries=0),
        # The label is in the config the server starts with, so the flag is needed, as in TF Serving.
        allow_version_labels_for_unavailable_models=True,
        **core_options,
    )
    return ServerOptions(core=core, rest_api_port=0)


@pytest.fixture(scope="module")
def tfs(model_bases):
    with running_server(contract_options(model_bases)) as running:
        yield Http(running.url)


# tensorflow_serving/model_servers/tensorflow_model_server_test.py


def test_predict_rest(tfs):
    """testPredictREST: {'instances': [2.0, 3.0, 4.0]} -> {'predictions': [3.0, 3.5, 4.0]}.

    x is declared [-1, 1]; TF Serving feeds the [3] tensor as sent and lets TensorFlow run it.
    """
    assert tfs.post(f"{DEFAULT}:predict", {"instances": [2.0, 3.0, 4.0]}) == (
        200,
        {"predictions": [3.0, 3.5, 4.0]},
    )


def test_predict_columnar_rest(tfs):
    """testPredictColumnarREST: {'inputs': [2.0, 3.0, 4.0]} -> {'outputs': [3.0, 3.5, 4.0]}."""
    assert tfs.post(f"{DEFAULT}:predict", {"inputs": [2.0, 3.0, 4.0]}) == (200, {"outputs": [3.0, 3.5, 4.0]})


def test_classify_rest(tfs):
    """testClassifyREST: classify_x_to_y on {'x': 2.0} -> {'results': [[['', 3.0]]]}."""
    body = {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}
    assert tfs.post(f"{DEFAULT}:classify", body) == (200, {"results": [[["", 3.0]]]})


def test_regress_rest(tfs):
    """testRegressREST: regress_x_to_y on {'x': 2.0} -> {'results': [3.0]}."""
    body = {"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}
    assert tfs.post(f"{DEFAULT}:regress", body) == (200, {"results": [3.0]})


def test_get_status_rest(tfs):
    """testGetStatusREST: GET /v1/models/default -> version '123' AVAILABLE, error_code 'OK'."""
    assert tfs.get(DEFAULT) == (
        200,
        {
            "model_version_status": [
                {"version": "123", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
            ]
        },
    )


def test_get_model_metadata_rest(tfs):
    """testGetModelMetadataREST: the model spec and every signature def (testdata/*_metadata.json)."""
    status, body = tfs.get(f"{DEFAULT}/metadata")
    assert status == 200, body
    assert body["model_spec"] == {"name": "default", "signature_name": "", "version": "123"}
    signatures = body["metadata"]["signature_def"]["signature_def"]
    assert {name: s["method_name"] for name, s in signatures.items()} == {
        "serving_default": "tensorflow/serving/predict",
        "classify_x_to_y": "tensorflow/serving/classify",
        "regress_x_to_y": "tensorflow/serving/regress",
        "regress_x_to_y2": "tensorflow/serving/regress",
        "regress_x2_to_y3": "tensorflow/serving/regress",
    }
    x = signatures["serving_default"]["inputs"]["x"]
    assert x["dtype"] == "DT_FLOAT" and x["name"] == "x:0"
    dims = [{"size": "-1", "name": ""}, {"size": "1", "name": ""}]
    assert x["tensor_shape"] == {"dim": dims, "unknown_rank": False}


# tensorflow_serving/model_servers/http_rest_api_handler_test.cc


@pytest.mark.parametrize(
    "path, body, expected",
    [
        (
            f"{DEFAULT}:predict",
            {"instances": [[1.0, 2.0], [3.0, 4.0]]},
            {"predictions": [[2.5, 3.0], [3.5, 4.0]]},
        ),
        (f"{DEFAULT}/versions/{VERSION}:predict", {"instances": [1.0, 2.0]}, {"predictions": [2.5, 3.0]}),
        (f"{DEFAULT}/labels/{LABEL}:predict", {"instances": [1.0, 2.0]}, {"predictions": [2.5, 3.0]}),
        (
            f"{DEFAULT}/versions/{VERSION}:predict",
            {"signature_name": "serving_default", "instances": [3.0, 4.0]},
            {"predictions": [3.5, 4.0]},
        ),
        (
            f"{DEFAULT}/versions/{VERSION}:predict",
            {"signature_name": "serving_default", "inputs": [3.0, 4.0]},
            {"outputs": [3.5, 4.0]},
        ),
    ],
    ids=["latest", "version", "label", "signature_name", "columnar"],
)
def test_handler_predict(tfs, path, body, expected):
    """TEST_F(HttpRestApiHandlerTest, Predict): by latest, version and label; row and columnar."""
    assert tfs.post(path, body) == (200, expected)


@pytest.mark.parametrize("path", [DEFAULT, f"{DEFAULT}/versions/{VERSION}", f"{DEFAULT}/labels/{LABEL}"])
def test_handler_regress(tfs, path):
    """TEST_F(HttpRestApiHandlerTest, Regress): regress_x_to_y on {"x": 80.0} -> {"results": [42]}."""
    body = {"signature_name": "regress_x_to_y", "examples": [{"x": 80.0}]}
    assert tfs.post(f"{path}:regress", body) == (200, {"results": [42]})


def test_handler_classify(tfs):
    """TEST_F(HttpRestApiHandlerTest, Classify): {"x": 20.0} -> [[["", 12]]]; by label {"x": 10.0} -> 7."""
    body = {"signature_name": "classify_x_to_y", "examples": [{"x": 20.0}]}
    assert tfs.post(f"{DEFAULT}:classify", body) == (200, {"results": [[["", 12]]]})
    body = {"signature_name": "classify_x_to_y", "examples": [{"x": 10.0}]}
    assert tfs.post(f"{DEFAULT}/labels/{LABEL}:classify", body) == (200, {"results": [[["", 7]]]})


@pytest.mark.parametrize("path", [DEFAULT, f"{DEFAULT}/versions/{VERSION}", f"{DEFAULT}/labels/{LABEL}"])
def test_handler_get_status(tfs, path):
    """TEST_F(HttpRestApiHandlerTest, GetStatus): all versions, a version, a label -> version 123."""
    status, body = tfs.get(path)
    assert status == 200
    assert body["model_version_status"] == [
        {"version": "123", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    ]


@pytest.mark.parametrize(
    "method, path, message",
    [
        ("GET", "/v1/foo", "Malformed request"),
        ("POST", "/v1/foo", "Malformed request"),
        ("GET", "/v1/models", "Missing model name"),
        ("GET", "/v1/models/debug/model_name", "Malformed request"),
        ("POST", "/v1/models", "Malformed request"),
        ("GET", "/v1/models/foo:predict", "Malformed request"),
        ("GET", "/v1/models/foo/version/50:predict", "Malformed request"),
        ("POST", "/v1/models/foo/version/50:regress", "Malformed request"),
        ("POST", "/v1/models/foo/versions/HELLO:regress", "Malformed request"),
        ("POST", f"/v1/models/foo/versions/{2**64 - 1}:regress", "Failed to convert version"),
        ("POST", "/v1/models/foo/metadata", "Malformed request"),
        ("POST", "/v1/models/foo/label/some_label:regress", "Malformed request"),
        ("POST", "/v1/models/foo/versions/50/labels/some_label:regress", "Malformed request"),
        ("POST", "/v1/models/foo/versions/some_label:regress", "Malformed request"),
    ],
)
def test_handler_unsupported_api_calls(tfs, method, path, message):
    """TEST_F(HttpRestApiHandlerTest, UnsupportedApiCalls): INVALID_ARGUMENT (HTTP 400)."""
    status, body = tfs.request(method, path, body=b"")
    assert status == 400 and message in body["error"], body


@pytest.mark.parametrize(
    "path", ["/v1/models/foo:predict", "/v1/models/foo/versions/50:predict", f"{DEFAULT}/versions/99:predict"]
)
def test_handler_predict_model_name_version_errors(tfs, path):
    """TEST_F(HttpRestApiHandlerTest, PredictModelNameVersionErrors): NOT_FOUND (HTTP 404)."""
    status, body = tfs.post(path, {"instances": [1]})
    assert status == 404 and "Servable not found for request" in body["error"], body


@pytest.mark.parametrize(
    "path, body, message",
    [
        (f"{DEFAULT}:predict", b"", "JSON Parse error: The document is empty"),
        (f"{DEFAULT}:predict", b"instances = [1, 2]", "JSON Parse error: Invalid value"),
        (f"{DEFAULT}:predict", {"instances": ["x", "y"]}, "not of expected type: float"),
        (
            f"{DEFAULT}/labels/Version_Nonexistent:predict",
            {"instances": ["x", "y"]},
            "Unrecognized servable version label",
        ),
        (f"{DEFAULT}:predict", {"signature_name": 100}, "'signature_name' key must be a string value."),
    ],
    ids=["empty", "not JSON", "wrong type", "unknown label", "signature_name type"],
)
def test_handler_predict_request_errors(tfs, path, body, message):
    """TEST_F(HttpRestApiHandlerTest, PredictRequestErrors): INVALID_ARGUMENT (HTTP 400)."""
    status, answer = tfs.post(path, body)
    assert status == 400 and message in answer["error"], answer


@pytest.mark.parametrize(
    "path, body, message",
    [
        ("/v1/models/foo:classify", {"instances": [1.0]}, "key 'examples' is expected and was not found"),
        ("/v1/models/foo:regress", {"examples": []}, "'examples' value is an empty array"),
        ("/v1/models/foo:predict", {"signature_name": 100}, "'signature_name' key must be a string value."),
    ],
)
def test_the_body_is_read_before_the_model_is_looked_up(tfs, path, body, message):
    """http_rest_api_handler.cc Process*Request: Fill*RequestFromJson (json_tensor.cc) runs first.

    So a malformed body to an unknown model is INVALID_ARGUMENT, not NOT_FOUND.
    """
    status, answer = tfs.post(path, body)
    assert status == 400 and message in answer["error"], answer


# Classify and regress on any model: servables/tensorflow/classifier.cc and regressor.cc.


def test_classify_any_signature_shaped_for_it(tfs):
    """classifier.cc PostProcessClassificationResult, json_tensor.cc MakeJsonFromClassificationResult.

    Outputs `classes` and `scores` give [[class, score], ...] per example. The TF2 model's
    signature has the predict method name; TF Serving runs it as --enable_signature_method_name_check
    is off by default.
    """
    status, body = tfs.post("/v1/models/classifier:classify", {"examples": [{"x": 0.0}, {"x": 2.0}]})
    assert status == 200, body
    negative, positive = TWO_CLASSES
    assert body["results"][0] == [[negative, 0.5], [positive, 0.5]]
    (neg_name, neg_score), (pos_name, pos_score) = body["results"][1]
    assert (neg_name, pos_name) == TWO_CLASSES
    assert pos_score == pytest.approx(0.8807970779778823, rel=1e-6)
    assert neg_score == pytest.approx(1 - pos_score, rel=1e-5)


def test_predict_runs_classify_signatures_and_back(tfs):
    """prediction_service_impl.cc: Predict runs any signature; api_rest.md row format with two outputs."""
    body = {"signature_name": "predict_x", "instances": [0.0]}
    status, body = tfs.post("/v1/models/classifier:predict", body)
    assert status == 200, body
    assert body == {"predictions": [{"classes": list(TWO_CLASSES), "scores": [0.5, 0.5]}]}


@pytest.mark.parametrize(
    "path, body, message",
    [
        (f"{DEFAULT}:classify", {"examples": [{"x": 1.0}]}, "No classification inputs found in SignatureDef"),
        (f"{DEFAULT}:regress", {"examples": [{"x": 1.0}]}, "No regression inputs found in SignatureDef"),
        (
            f"{DEFAULT}:regress",
            {"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}]},
            "No regression outputs found in SignatureDef",
        ),
        ("/v1/models/classifier:regress", {"examples": [{"x": 1.0}]}, "Expected one output Tensor."),
        (
            f"{DEFAULT}:classify",
            {"signature_name": "nope", "examples": [{"x": 1.0}]},
            "No signature was found with the name: nope",
        ),
        (f"{DEFAULT}:regress", {"instances": [1.0]}, "key 'examples' is expected and was not found"),
    ],
)
def test_signatures_that_cannot_classify_or_regress(tfs, path, body, message):
    """classifier.cc PreProcessClassification, regressor.cc PreProcessRegression: HTTP 400."""
    status, answer = tfs.post(path, body)
    assert status == 400 and message in answer["error"], answer


def test_signature_method_name_check(model_bases):
    """--enable_signature_method_name_check (main.cc): classify needs tensorflow/serving/classify."""
    options = contract_options(model_bases, enable_signature_method_name_check=True)
    with running_server(options) as running:
        http = Http(running.url)
        status, body = http.post("/v1/models/classifier:classify", {"examples": [{"x": 0.0}]})
        assert status == 400
        assert body["error"] == (
            "Expected classification signature method_name to be tensorflow/serving/classify. "
            "Was: tensorflow/serving/predict"
        )
        regress = {"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}
        assert http.post(f"{DEFAULT}:regress", regress) == (200, {"results": [3.0]})


# Batching: tensorflow/core/kernels/batching_util/shared_batch_scheduler.h (a full queue is
# UNAVAILABLE), model_servers/http_server.cc ToHTTPStatusCode (UNAVAILABLE -> 503) and
# servables/tensorflow/batching_session.cc (inputs need a batch dimension).


def test_a_full_batch_queue_is_503_and_scalars_cannot_batch(model_bases):
    """A request finding the queue full gets 503; the one queued before it still answers."""
    batching = BatchingParameters(
        max_batch_size=4, batch_timeout_micros=3_000_000, max_enqueued_batches=1, num_batch_threads=1
    )
    with running_server(contract_options(model_bases, batching=batching)) as running:
        http = Http(running.url)
        first = []
        waiting = threading.Thread(
            target=lambda: first.append(http.post(f"{DEFAULT}:predict", {"instances": [1.0, 2.0, 3.0]}))
        )
        waiting.start()  # three rows wait in the queue for the 3 s batch window
        time.sleep(0.5)
        try:
            status = None
            for _ in range(50):
                status, body = http.post(f"{DEFAULT}:predict", {"instances": [4.0, 5.0]})
                if status == 503:
                    break
            assert status == 503, body
            assert "The batch scheduling queue to which this task was submitted is full" in body["error"]
        finally:
            waiting.join(30)
        assert first == [(200, {"predictions": [2.5, 3.0, 3.5]})]
        status, body = http.post(f"{DEFAULT}:predict", {"inputs": 2.0})
        assert status == 400 and "must have at least one dimension" in body["error"], body


def test_responses_are_json_with_tf_serving_content_type(tfs):
    """http_rest_api_handler.cc AddHeaders: Content-Type: application/json, errors as {"error": ...}."""
    status, body = tfs.request("POST", f"{DEFAULT}:predict", body=json.dumps({"instances": [1.0]}).encode())
    assert (status, body) == (200, {"predictions": [2.5]})
    assert tfs.post("/v1/models/foo:predict", {"instances": [1]}) == (
        404,
        {"error": "Servable not found for request: Latest(foo)"},
    )
