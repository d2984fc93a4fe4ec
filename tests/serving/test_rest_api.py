"""Contract: the embedded server answers as TF Serving's REST API documents (g3doc/api_rest.md).

Live server on 127.0.0.1, the real pushed SavedModel as version 1. The model
describes itself: `serving_default` classifies tf.Examples, `predict_text` takes
raw strings, both answer `classes` (the class names) and `scores`.
"""

import base64

import numpy as np
import pytest
import tensorflow as tf
from serving_helpers import Http, running_server, server_options

from components import features
from components.signatures import WARMUP_FILE, serialize_text_examples
from serving import servable

REVIEWS = [
    "A wonderful, moving film. The cast is superb and I loved every minute.",
    "Tedious and badly acted; a complete waste of two hours.",
    "It was fine.",
]
TEXT_SIGNATURE = {"signature_name": features.PREDICT_TEXT_SIGNATURE}


@pytest.fixture(scope="module")
def one_example(contract) -> dict:
    example = serialize_text_examples(["Good."], contract.text_column)[0]
    return {"instances": [{"b64": base64.b64encode(example).decode()}]}


def expected(in_process_model, texts):
    """(class names, scores) of the texts, from the model called in-process."""
    predict_text = in_process_model.signatures[features.PREDICT_TEXT_SIGNATURE]
    outputs = predict_text(**{features.TEXT_INPUT_KEY: tf.constant(texts)})
    classes = [[name.decode() for name in row] for row in outputs[features.CLASSES_KEY].numpy()]
    return classes, outputs[features.SCORES_KEY].numpy()


def test_model_status_matches_the_documented_shape(http):
    # api_rest.md: curl http://localhost:8501/v1/models/half_plus_three ->
    # {"model_version_status": [{"version": "123", "state": "AVAILABLE",
    #                            "status": {"error_code": "OK", "error_message": ""}}]}
    status, body = http.get("/v1/models/polarity")
    assert status == 200
    assert body == {
        "model_version_status": [
            {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
        ]
    }
    assert http.get("/v1/models/polarity/versions/1") == (200, body)


def test_predict_row_format_matches_the_model(http, in_process_model, contract):
    # api_rest.md: {"signature_name": <string>, "instances": <list>} -> {"predictions": <list-of-objects>}
    status, body = http.post("/v1/models/polarity:predict", {**TEXT_SIGNATURE, "instances": REVIEWS})
    assert status == 200, body
    classes, scores = expected(in_process_model, REVIEWS)
    rows = body["predictions"]
    assert [set(row) for row in rows] == [{features.CLASSES_KEY, features.SCORES_KEY}] * 3
    assert [row[features.CLASSES_KEY] for row in rows] == classes == [list(contract.classes)] * 3
    np.testing.assert_allclose([row[features.SCORES_KEY] for row in rows], scores, rtol=1e-6)
    negative, positive = contract.classes
    top = [row[features.CLASSES_KEY][int(np.argmax(row[features.SCORES_KEY]))] for row in rows]
    assert top[:2] == [positive, negative]


def test_predict_columnar_format(http, in_process_model):
    # api_rest.md: {"inputs": {...}} -> {"outputs": {<name>: <list>, ...}}
    body = {**TEXT_SIGNATURE, "inputs": {features.TEXT_INPUT_KEY: REVIEWS}}
    status, body = http.post("/v1/models/polarity/versions/1:predict", body)
    assert status == 200, body
    classes, scores = expected(in_process_model, REVIEWS)
    assert body["outputs"][features.CLASSES_KEY] == classes
    np.testing.assert_allclose(body["outputs"][features.SCORES_KEY], scores, rtol=1e-6)


def test_default_signature_takes_base64_serialized_examples(http, in_process_model, contract):
    # api_rest.md, "Encoding binary values": {"b64": <base64 encoded string>}; no signature_name: default.
    examples = serialize_text_examples(REVIEWS, contract.text_column)
    instances = [{"b64": base64.b64encode(example).decode()} for example in examples]
    status, body = http.post("/v1/models/polarity:predict", {"instances": instances})
    assert status == 200, body
    _, scores = expected(in_process_model, REVIEWS)
    np.testing.assert_allclose([r[features.SCORES_KEY] for r in body["predictions"]], scores, rtol=1e-6)


def test_classify_returns_class_score_pairs(http, in_process_model, contract):
    # api_rest.md: {"examples": [{<feature>: <value>}, ...]} ->
    # {"results": [[[<label1>, <score1>], [<label2>, <score2>]], ...]}  (key per json_tensor.cc)
    examples = [{contract.text_column: text} for text in REVIEWS]
    status, body = http.post("/v1/models/polarity:classify", {"examples": examples})
    assert status == 200, body
    classes, scores = expected(in_process_model, REVIEWS)
    for result, names, row in zip(body["results"], classes, scores, strict=True):
        assert [pair[0] for pair in result] == names == list(contract.classes)
        np.testing.assert_allclose([pair[1] for pair in result], row, rtol=1e-6)
        assert sum(pair[1] for pair in result) == pytest.approx(1.0, abs=1e-5)


def test_metadata_lists_the_signatures(http):
    status, body = http.get("/v1/models/polarity/metadata")
    assert status == 200, body
    assert body["model_spec"] == {"name": "polarity", "version": "1", "signature_name": ""}
    signatures = body["metadata"]["signature_def"]["signature_def"]
    names = {features.SERVING_SIGNATURE, features.PREDICT_TEXT_SIGNATURE, features.TRANSFORM_SIGNATURE}
    assert names <= set(signatures)
    assert signatures[features.SERVING_SIGNATURE]["method_name"] == "tensorflow/serving/classify"
    text_input = signatures[features.PREDICT_TEXT_SIGNATURE]["inputs"][features.TEXT_INPUT_KEY]
    assert text_input["dtype"] == "DT_STRING"
    assert text_input["tensor_shape"]["dim"] == [{"size": "-1", "name": ""}]
    for name in (features.SERVING_SIGNATURE, features.PREDICT_TEXT_SIGNATURE):
        assert set(signatures[name]["outputs"]) == {features.CLASSES_KEY, features.SCORES_KEY}
    assert http.get("/v1/models/polarity/versions/1/metadata") == (200, body)


def test_unknown_model_is_404_with_tf_serving_message(http):
    # api_rest.md: POST .../v1/models/half:predict -> HTTP/1.1 404 Not Found
    # { "error": "Servable not found for request: Latest(half)" }
    assert http.post("/v1/models/half:predict", {"instances": [1.0, 5.0]}) == (
        404,
        {"error": "Servable not found for request: Latest(half)"},
    )
    assert http.post("/v1/models/polarity/versions/9:predict", {"instances": ["x"]}) == (
        404,
        {"error": "Servable not found for request: Specific(polarity, 9)"},
    )
    assert http.get("/v1/models/half") == (404, {"error": "Could not find any versions of model half"})
    missing = {"error": "Could not find version 9 of model polarity"}
    assert http.get("/v1/models/polarity/versions/9") == (404, missing)


def test_urls_are_case_insensitive_like_tf_serving(http, one_example):
    # http_rest_api_util.cc matches its URL regexes with (?i).
    status, body = http.post("/V1/Models/polarity:PREDICT", one_example)
    assert status == 200, body


def test_metrics_count_requests_per_version(http, one_example):
    assert http.post("/v1/models/polarity:predict", one_example)[0] == 200
    status, text = http.get("/monitoring/prometheus/metrics")
    assert status == 200
    assert 'polarity_serving_requests_total{api="predict",code="200",model="polarity",version="1"}' in text
    assert 'polarity_serving_model_version_state{model="polarity",state="AVAILABLE",version="1"} 1.0' in text
    assert "polarity_serving_request_latency_seconds_bucket" in text
    assert 'polarity_serving_errors_total{api="predict",code="404",model="half",version=""}' in text


def test_pushed_model_holds_what_tf_serving_loads(model_version_dir):
    """TF Serving loads saved_model.pb with these signatures and replays the warm-up file."""
    assert servable.WARMUP_FILE == WARMUP_FILE
    defs = servable.read_signature_defs(model_version_dir)
    assert defs[features.SERVING_SIGNATURE].method_name == "tensorflow/serving/classify"
    for name in (features.PREDICT_TEXT_SIGNATURE, features.TRANSFORM_SIGNATURE):
        assert defs[name].method_name == "tensorflow/serving/predict"
    assert list(defs[features.SERVING_SIGNATURE].inputs) == [features.EXAMPLES_INPUT_KEY]
    assert (model_version_dir / WARMUP_FILE).is_file()
    loaded = servable.Servable.load(1, model_version_dir)
    assert loaded.warm_up() == 2  # a classify request and a predict request


def test_bearer_token_and_body_limit(base_path, one_example):
    options = server_options(base_path, auth_token="s3cret", max_request_bytes=2048)
    with running_server(options) as running:
        anonymous, authorised = Http(running.url), Http(running.url, token="s3cret")
        status, body = anonymous.get("/v1/models/polarity")
        assert status == 401 and "bearer token" in body["error"]
        assert Http(running.url, token="wrong").get("/v1/models/polarity")[0] == 401
        assert authorised.get("/v1/models/polarity")[0] == 200
        status, body = authorised.post("/v1/models/polarity:predict", {"instances": ["x" * 5000]})
        assert status == 413 and "2048-byte limit" in body["error"]
        assert authorised.post("/v1/models/polarity:predict", one_example)[0] == 200
