"""`:explain` on a live server and `polarity explain`, on the real pushed model.

As a person would check them: the attributions add up to the log-odds the server's
own :predict scores give, adding "terrible" lowers the positive score and
"terrible" counts against it, the CLI prints it coloured, as JSON and as HTML.
"""

import json
import re

import numpy as np
import pytest
from serving_helpers import Http, publish_version, running_server, server_options
from test_serve_cli import start_server
from tf_serving_models import text_classifier

from components import combined_export, features
from components import explain as component_explain
from polarity import cli
from serving import explain_view, explanations

TEXTS = [
    "A wonderful, moving film. The cast is superb and I loved every minute.",
    "Tedious and badly acted; a complete waste of two hours.",
    "Отличный фильм, очень понравился!",
    "这部电影太无聊了",
]
BASE = "The plot was fine and the actors did their job."
WORSE = BASE + " Terrible."


def _predict_scores(http, texts) -> np.ndarray:
    body = {"signature_name": features.PREDICT_TEXT_SIGNATURE, "instances": texts}
    status, answer = http.post("/v1/models/polarity:predict", body)
    assert status == 200, answer
    return np.array([row[features.SCORES_KEY] for row in answer["predictions"]], np.float64)


def _log_odds(scores: np.ndarray, classes: list) -> dict:
    """Each class's log-odds from two-class scores: log(p / (1 - p))."""
    return {name: np.log(scores[:, i]) - np.log(scores[:, 1 - i]) for i, name in enumerate(classes)}


def test_server_and_model_name_the_same_signature_and_outputs():
    assert explanations.EXPLAIN_SIGNATURE == component_explain.EXPLAIN_SIGNATURE
    exported = {
        component_explain.TOKENS_KEY,
        component_explain.TOKEN_COUNT_KEY,
        component_explain.ATTRIBUTIONS_KEY,
        component_explain.NGRAMS_KEY,
        component_explain.NGRAM_COUNT_KEY,
        component_explain.NGRAM_ATTRIBUTIONS_KEY,
        component_explain.BASE_VALUES_KEY,
        component_explain.LOG_ODDS_KEY,
        features.CLASSES_KEY,
        features.SCORES_KEY,
    }
    assert set(explanations.OUTPUTS) == exported
    assert explanations.NGRAM_WEIGHT == combined_export.NGRAM_WEIGHT_KEY


def test_a_combined_models_explanation_carries_the_ngram_weight_and_others_do_not():
    outputs = {
        "tokens": np.array([[b"loved", b"it", b"loved"]]),
        "token_count": np.array([3]),
        "attributions": np.array([[[-0.5, 0.5], [0.0, 0.0], [-0.25, 0.25]]]),
        "ngrams": np.array([[b"loved", b"it", b"loved"]]),
        "ngram_count": np.array([3]),
        "ngram_attributions": np.array([[[-0.5, 0.5], [0.0, 0.0], [-0.25, 0.25]]]),
        "base_values": np.array([[0.0, 0.0]]),
        "log_odds": np.array([[-0.75, 0.75]]),
        "classes": np.array([[b"negative", b"positive"]]),
        "scores": np.array([[0.18, 0.82]]),
    }
    (plain,) = explanations.explanations_from(outputs)
    assert plain.ngram_weight is None and "ngram_weight" not in plain.to_json()
    (combined,) = explanations.explanations_from({**outputs, "ngram_weight": np.array([0.25])})
    assert combined.to_json()["ngram_weight"] == 0.25
    assert explanations.Explanation.from_json(combined.to_json()) == combined
    assert explanations.Explanation.from_json(plain.to_json()) == plain
    report = explain_view.terminal_report("Loved it ... loved", combined, "positive", colour=False)
    assert "the n-gram model weighs 0.25 in this score, the encoder 0.75" in report
    assert "n-gram model weighs" not in explain_view.terminal_report(
        "Loved it", plain, "positive", colour=False
    )


def test_explain_answers_kserve_v1_shape_and_adds_up_to_the_predicted_log_odds(http, contract):
    status, body = http.post("/v1/models/polarity:explain", {"instances": TEXTS})
    assert status == 200, body
    assert set(body) == {"predictions", "explanations"}
    classes = list(contract.classes)
    scores = _predict_scores(http, TEXTS)
    assert [row["classes"] for row in body["predictions"]] == [classes] * len(TEXTS)
    np.testing.assert_allclose([row["scores"] for row in body["predictions"]], scores, atol=1e-6)
    expected = _log_odds(scores, classes)
    for row, value in enumerate(body["explanations"]):
        explanation = explanations.Explanation.from_json(value)
        assert explanation.classes == classes
        assert len(explanation.tokens) == len(explanation.attributions[classes[0]]) > 0
        for name in classes:
            total = explanation.base_values[name] + sum(explanation.attributions[name])
            assert total == pytest.approx(explanation.log_odds[name], abs=1e-4)
            assert total == pytest.approx(expected[name][row], abs=1e-4)


def test_explain_by_version_and_direction_of_terrible(http, contract):
    status, body = http.post("/v1/models/polarity/versions/1:explain", {"instances": [BASE, WORSE]})
    assert status == 200, body
    _, positive = contract.classes
    before, after = (explanations.Explanation.from_json(value) for value in body["explanations"])
    assert after.scores[positive] < before.scores[positive]
    assert after.tokens[-2:] == ["terrible", "."]
    assert after.attributions[positive][-2] < 0


def test_explain_refuses_a_model_without_an_explanation_signature(tmp_path):
    base = tmp_path / "models" / "polarity"
    publish_version(text_classifier(tmp_path / "model"), base, 1)
    with running_server(server_options(base)) as running:
        status, body = Http(running.url).post("/v1/models/polarity:explain", {"instances": ["good"]})
    assert status == 400
    assert 'no explanation signature "explain_text"' in body["error"]


def test_explain_refuses_a_body_without_instances(http):
    status, body = http.post("/v1/models/polarity:explain", {"texts": ["x"]})
    assert status == 400 and "Missing 'inputs' or 'instances' key" in body["error"]


def test_cli_explain_json_from_a_server(server, contract, capsys):
    code = cli.main(["explain", WORSE, "--url", server.url, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    (row,) = json.loads(out)
    _, positive = contract.classes
    assert row["text"] == WORSE
    total = row["base_values"][positive] + sum(row["attributions"][positive])
    assert total == pytest.approx(row["log_odds"][positive], abs=1e-4)
    assert row["attributions"][positive][row["tokens"].index("terrible")] < 0


def test_cli_explain_colours_tokens_like_shap(server, contract, capsys):
    _, positive = contract.classes
    code = cli.main(["explain", WORSE, "--url", server.url, "--class", positive, "--color", "always"])
    out = capsys.readouterr().out
    assert code == 0, out
    # "terrible" lowers the positive class's log-odds: a blue background (red < blue).
    red, green, blue = map(
        int, re.search(r"\x1b\[48;2;(\d+);(\d+);(\d+)m\x1b\[38;2;0;0;0mterrible", out).groups()
    )
    assert red < blue
    assert f"explaining '{positive}'" in out and "top n-grams" in out and "base value" in out
    assert re.search(r"^\s+-\d\.\d{4}\s+terrible$", out, re.MULTILINE)


def test_cli_explain_a_local_version_writes_self_contained_html(
    model_version_dir, tmp_path, contract, capsys
):
    workspace = tmp_path / "workspace"
    publish_version(model_version_dir, workspace / "serving" / "polarity", 3)
    page = tmp_path / "why.html"
    code = cli.main(
        ["explain", WORSE, TEXTS[2], "--workspace", str(workspace), "--model", "3", "--html", str(page)]
        + ["--class", contract.classes[1]]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "\x1b[" not in out  # not a terminal: no colours
    html = page.read_text(encoding="utf-8")
    assert html.count("<section>") == 2
    assert re.search(
        r'<span style="background: rgb\(\d+, \d+, \d+\)" title="-\d\.\d{4}">terrible</span>', html
    )
    assert "отличный" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_cli_explain_names_a_missing_version(tmp_path, capsys):
    assert cli.main(["explain", "hi", "--workspace", str(tmp_path), "--model", "4"]) == 1
    assert "no version 4 in" in capsys.readouterr().err


def test_polarity_serve_process_explains_the_pushed_model(model_version_dir, tmp_path, contract, capsys):
    """A `polarity serve` process of its own (the model's tokenizer needs TF Text's ops there)."""
    workspace = tmp_path / "workspace"
    publish_version(model_version_dir, workspace / "serving" / "polarity", 2)
    process, url = start_server(workspace)
    try:
        code = cli.main(["explain", BASE, WORSE, "--url", url, "--json"])
    finally:
        process.kill()
        process.wait(30)
    out = capsys.readouterr().out
    assert code == 0, out
    before, after = json.loads(out)
    _, positive = contract.classes
    assert after["scores"][positive] < before["scores"][positive]
    for row in (before, after):
        total = row["base_values"][positive] + sum(row["attributions"][positive])
        assert total == pytest.approx(row["log_odds"][positive], abs=1e-4)


def test_client_falls_back_to_predict_on_a_server_without_explain(server, monkeypatch):
    """TF Serving answers :explain "Malformed request"; :predict on the signature explains the same."""
    from serving import client

    rest = client.RestClient(server.url)
    direct = rest.explain_texts([WORSE, TEXTS[3]])

    def tf_serving_explain(body, version=None):
        raise client.ServingError("Malformed request: POST /v1/models/polarity:explain", 400)

    monkeypatch.setattr(rest, "explain", tf_serving_explain)
    for fallback, expected in zip(rest.explain_texts([WORSE, TEXTS[3]]), direct, strict=True):
        assert (fallback.tokens, fallback.ngrams) == (expected.tokens, expected.ngrams)
        for name in expected.classes:
            assert fallback.attributions[name] == pytest.approx(expected.attributions[name], abs=1e-6)
            assert fallback.log_odds[name] == pytest.approx(expected.log_odds[name], abs=1e-6)
