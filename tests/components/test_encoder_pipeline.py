"""End to end: the encoder family through the real pipeline on a few hundred reviews, then served.

TFX 1.21 stack only (keras-hub needs Keras >= 3.15). On the CPU the Trainer fine-tunes on a
sample (training.encoder.cpu_sample_size) of short word-piece sequences, so this takes minutes.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest
from saved_model_helpers import optimizer_variables

pytestmark = [
    pytest.mark.skipif(
        sys.version_info < (3, 11), reason="training.model=encoder needs the TFX 1.21 stack (Python 3.12)"
    ),
    pytest.mark.start_first,
]

ROWS = 400
SEQUENCE_LENGTH = 48
ENCODER_RUN = (
    "training.model=encoder",
    f"training.encoder.sequence_length={SEQUENCE_LENGTH}",
    "training.encoder.batch_size=16",
    "training.encoder.cpu_sample_size=192",
    "training.encoder.epochs=2",
    "training.encoder.learning_rate=1e-4",
    # Floors far below chance: 192 CPU examples teach the encoder little (eval accuracy
    # 0.54-0.7 on 80 rows, run to run); this test is the path end to end, and the blessing
    # rules are tested on the n-gram model.
    "evaluation.floor=0.3",
    "evaluation.golden_floor=0.3",
    "data.min_rows=100",
)


@pytest.fixture(scope="module")
def encoder_run(tmp_path_factory):
    """(config, run summary) of one encoder run on ROWS real reviews."""
    from workspace_helpers import write_small_spans

    from pipelines.local_runner import run_local
    from polarity import metadata, report
    from polarity.config import load_config

    workspace = tmp_path_factory.mktemp("encoder_workspace")
    config = load_config(overrides=list(ENCODER_RUN), workspace=workspace)
    write_small_spans(config, rows=ROWS)
    run_local(config)
    return config, report.run_summary(metadata.open_store(config.metadata_path), config.pipeline_name)


@pytest.fixture(scope="module")
def pushed(encoder_run):
    """The pushed version directory of the encoder run (which must have been blessed)."""
    config, summary = encoder_run
    assert summary["blessed"] is True, summary
    return config.serving_dir / summary["pushed_version"]


def test_the_encoder_run_is_blessed_and_pushed(encoder_run, pushed):
    _, summary = encoder_run
    assert {component["state"] for component in summary["components"]} == {"complete"}
    assert summary["golden_metrics"]["overall"]["examples"] == 1000
    assert (pushed / "saved_model.pb").is_file()
    assert optimizer_variables(pushed) == []  # the weights only, not AdamW's moments


def test_the_export_has_the_ngram_models_signatures(pushed):
    from serving import servable

    defs = servable.read_signature_defs(pushed)
    assert set(defs) - {servable.INIT_OP_SIGNATURE} == {
        "serving_default",
        "predict_text",
        "transform_features",
        "explain_text",
    }
    assert defs["serving_default"].method_name == "tensorflow/serving/classify"
    assert set(defs["serving_default"].outputs) == {"classes", "scores"}


def test_the_graph_needs_only_tf_text_ops_that_tf_serving_links(pushed):
    """Every op outside core TensorFlow is one of TF Text's (whose ops_lib TF Serving links)."""
    from components import encoder_model
    from components.encoder_export import graph_ops

    ops = sorted(graph_ops(str(pushed)))
    probe = "\n".join(
        (
            "import json, sys",
            "import tensorflow as tf",
            "from tensorflow.python.framework import op_def_registry as r",
            "ops = json.load(sys.stdin)",
            "core = {o for o in ops if r.get(o) is not None}",
            "import tensorflow_text",
            "print(json.dumps([sorted(set(ops) - core), [o for o in ops if r.get(o) is None]]))",
        )
    )
    answer = subprocess.run(
        [sys.executable, "-c", probe], input=json.dumps(ops), capture_output=True, text=True, check=True
    )
    not_core, unknown = json.loads(answer.stdout.strip().splitlines()[-1])
    assert unknown == [], "ops neither core TensorFlow nor TF Text's"
    # The tokenizer's five, and the n-gram Transform graph's CaseFoldUTF8 (transform_features).
    assert set(not_core) == set(encoder_model.SERVING_TF_TEXT_OPS)


def test_a_review_longer_than_the_window_is_scored_by_both_families(pushed):
    """training.encoder.with_ngrams (the default): the n-gram model weighs in by the unread share."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 (the tokenizer's ops)

    from components import encoder_model, tokenizer
    from polarity.data import read_reviews

    long_review = next(row["text"] for row in read_reviews() if len(row["text"].split()) > 300)
    explained = tf.saved_model.load(str(pushed)).signatures["explain_text"](
        text=tf.constant(["Loved it.", long_review])
    )
    preprocessor = encoder_model.build_preprocessor(encoder_model.weights_dir(), SEQUENCE_LENGTH)
    expected = encoder_model.unread_share(preprocessor, tf.constant([long_review])).numpy()[0]
    weight = explained["ngram_weight"].numpy()
    assert weight[0] == 0 and expected > 0.8
    assert weight[1] == pytest.approx(expected, abs=1e-6)
    # The short text is explained in word pieces only; the long one in the encoder's window of
    # word pieces, then in all of the n-gram model's words.
    count = explained["token_count"].numpy()
    tokens = [
        [token.decode() for token in row[:n]]
        for row, n in zip(explained["tokens"].numpy(), count, strict=True)
    ]
    assert tokens[0] == ["loved", "it", "."]
    words = [token.decode() for token in tokenizer.tokenize(tf.constant([long_review])).to_list()[0]]
    assert tokens[1][SEQUENCE_LENGTH - 2 :] == words
    total = explained["base_values"].numpy() + explained["attributions"].numpy().sum(axis=1)
    np.testing.assert_allclose(total, explained["log_odds"].numpy(), atol=0.1)


@pytest.mark.parametrize("members", [1, 2])
def test_with_ngrams_off_the_encoder_is_exported_alone(encoder_run, tmp_path, members):
    """training.encoder.with_ngrams=false: export_encoder on the run's own Transform graph; with
    two members, an ensemble (components/encoder_ensemble.py), whose export checks that its
    averaged explanation reproduces its scores."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 (the tokenizer's ops)
    import tensorflow_transform as tft

    from components import encoder_export, encoder_model
    from components.encoder_ensemble import EncoderEnsemble
    from serving import servable

    config, _ = encoder_run
    (graph,) = (config.pipeline_root / "Transform" / "transform_graph").iterdir()
    weights = encoder_model.weights_dir()
    preprocessor = encoder_model.build_preprocessor(weights, SEQUENCE_LENGTH)
    models = [encoder_model.build_encoder_model(weights, num_classes=2) for _ in range(members)]
    model = models[0] if members == 1 else EncoderEnsemble(models)
    contract = config.data.contract()
    encoder_export.export_encoder(
        model, preprocessor, tft.TFTransformOutput(str(graph)), str(tmp_path), contract, "polarity"
    )
    signatures = servable.read_signature_defs(tmp_path)
    assert "ngram_weight" not in signatures["explain_text"].outputs
    texts = ["Loved it.", " ".join(["A long, dull and dreary film."] * 20)]
    loaded = tf.saved_model.load(str(tmp_path))
    served = loaded.signatures["predict_text"](text=tf.constant(texts))
    np.testing.assert_allclose(
        served["scores"].numpy(), model(preprocessor(tf.constant(texts))).numpy(), atol=1e-5
    )
    explained = loaded.signatures["explain_text"](text=tf.constant(texts))
    assert explained["attributions"].shape[0] == 2


def test_polarity_serve_answers_predict_and_classify_with_class_names(encoder_run, pushed):
    config, _ = encoder_run
    command = [
        sys.executable, "-m", "polarity.cli", "serve", "--workspace", str(config.workspace),
        "--rest_api_port", "0",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url, seen, deadline = None, [], time.monotonic() + 240
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            seen.append(line)
            match = re.search(r"Serving at (http://127\.0\.0\.1:\d+)", line)
            url = match.group(1) if match else None
        assert url, "polarity serve did not start:\n" + "".join(seen[-30:])
        name = config.serving.model_name
        predicted = _post(
            f"{url}/v1/models/{name}:predict", {"signature_name": "predict_text", "inputs": ["Loved it."]}
        )
        (row,) = predicted["outputs"]["classes"]
        assert row == ["negative", "positive"]
        assert sum(predicted["outputs"]["scores"][0]) == pytest.approx(1, abs=1e-4)
        classified = _post(f"{url}/v1/models/{name}:classify", {"examples": [{"text": "Dreadful and dull."}]})
        (labelled,) = classified["results"]
        assert [label for label, _ in labelled] == ["negative", "positive"]
        explained = _post(f"{url}/v1/models/{name}:explain", {"inputs": ["A cliché, but I loved it."]})
        (explanation,) = explained["explanations"]
        assert explanation["tokens"] == ["a", "cl", "##iche", ",", "but", "i", "loved", "it", "."]
        assert explanation["ngram_weight"] == 0  # the encoder read all of it
        for class_name in ("negative", "positive"):  # integrated gradients add up to the log-odds
            total = explanation["base_values"][class_name] + sum(explanation["attributions"][class_name])
            assert total == pytest.approx(explanation["log_odds"][class_name], abs=0.1)
    finally:
        process.kill()
        process.wait(30)


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_the_served_model_reads_handles_and_links_as_placeholders(pushed):
    """training.encoder.mask_handles_and_links (the default) is inside the exported graph."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 (the tokenizer's ops)

    model = tf.saved_model.load(str(pushed))
    tweet = "@JetBlue thanks! http://t.co/z8fHgxQAD9"
    explained = model.signatures["explain_text"](text=tf.constant([tweet]))
    count = explained["token_count"].numpy()[0]
    tokens = [token.decode() for token in explained["tokens"].numpy()[0][:count]]
    assert tokens == ["@", "user", "thanks", "!", "http"]
    scores = [
        model.signatures["predict_text"](text=tf.constant([text]))["scores"].numpy()
        for text in (tweet, "@user thanks! http")
    ]
    assert (scores[0] == scores[1]).all()
