"""Reliability: every malformed request gets a 4xx with a clear message, and the server keeps serving."""

import pytest

from components import features

MODEL = "/v1/models/polarity"
PREDICT = f"{MODEL}:predict"
TEXT = {"signature_name": features.PREDICT_TEXT_SIGNATURE}
ONE = {"instances": ["a"]}

CASES = [
    ("malformed JSON", "POST", PREDICT, b'{"instances": [', 400, "JSON Parse error"),
    ("empty body", "POST", PREDICT, b"", 400, "The document is empty"),
    ("not an object", "POST", PREDICT, b'["a"]', 400, "Is not object"),
    ("non-UTF-8 body", "POST", PREDICT, b'{"instances": ["\xc3\x28"]}', 400, "not valid UTF-8"),
    ("wrong type", "POST", PREDICT, {**TEXT, "instances": [42]}, 400, "is not of expected type: string"),
    ("missing input key", "POST", PREDICT, {**TEXT}, 400, "Missing 'inputs' or 'instances' key"),
    ("missing named input", "POST", PREDICT, {**TEXT, "inputs": {"txt": ["a"]}}, 400, "named input: text"),
    ("unknown input", "POST", PREDICT, {**TEXT, "inputs": {"text": ["a"], "x": [1]}}, 400, "Unknown named"),
    ("empty batch", "POST", PREDICT, {**TEXT, "instances": []}, 400, "No values in 'instances' array"),
    ("empty columnar batch", "POST", PREDICT, {**TEXT, "inputs": {"text": []}}, 400, "empty batch"),
    ("signature not a string", "POST", PREDICT, {"signature_name": 3, **ONE}, 400, "must be a string"),
    ("unknown signature", "POST", PREDICT, {"signature_name": "nope", **ONE}, 400, '"nope" not found'),
    ("bad base64", "POST", PREDICT, {"instances": [{"b64": "@@@"}]}, 400, "Unable to base64 decode"),
    ("unknown model", "POST", "/v1/models/other:predict", ONE, 404, "Latest(other)"),
    ("unknown version", "POST", f"{MODEL}/versions/5:predict", ONE, 404, "Specific(polarity, 5)"),
    (
        "unknown version label",
        "POST",
        f"{MODEL}/labels/stable:predict",
        ONE,
        400,
        "Unrecognized servable version label: stable",
    ),
    ("unknown verb", "POST", f"{MODEL}:generate", ONE, 400, "Malformed request"),
    (
        "explain with a predict signature",
        "POST",
        f"{MODEL}:explain",
        {**TEXT, **ONE},
        400,
        "not an explanation",
    ),
    ("GET on predict", "GET", PREDICT, None, 400, "Malformed request"),
    (
        "regress a classifier",
        "POST",
        f"{MODEL}:regress",
        {"examples": [{"text": "a"}]},
        400,
        "one output Tensor",
    ),
    ("classify without examples", "POST", f"{MODEL}:classify", ONE, 400, "'examples'"),
    (
        "classify on a text signature",
        "POST",
        f"{MODEL}:classify",
        {**TEXT, "examples": [{"text": "a"}]},
        400,
        "No classification inputs found",
    ),
    ("no model name", "GET", "/v1/models", None, 400, "Missing model name"),
    ("outside the API", "GET", "/v2/anything", None, 404, "under /v1/models/"),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_bad_request_gets_a_clear_4xx_and_the_server_keeps_serving(http, case):
    _, method, path, body, expected_status, message = case
    status, answer = http.request(method, path, body=body)
    assert status == expected_status, answer
    assert set(answer) == {"error"} and message in answer["error"], answer
    status, answer = http.post(PREDICT, {**TEXT, "instances": ["still serving?"]})
    assert status == 200 and len(answer["predictions"]) == 1
