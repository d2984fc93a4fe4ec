"""The whole pipeline end to end on small slices of the real reviews."""

import csv
import random
import shutil

import pytest
from ml_metadata.proto import metadata_store_pb2
from workspace_helpers import run_cli, small_config, small_run_flags, write_small_spans

from pipelines.local_runner import run_local
from polarity import data, metadata, report, schema
from serving import model_dir

EXPECTED_COMPONENTS = {
    "CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "DataGate", "Transform",
    "Trainer", "latest_blessed_model_resolver", "Evaluator", "GoldenExampleGen", "GoldenEvaluator",
    "BlessingGate", "Pusher",
}  # fmt: skip


def latest_summary(config):
    return report.run_summary(metadata.open_store(config.metadata_path), config.pipeline_name)


def test_first_run_executes_every_component_once_and_pushes_a_version(trained_workspace):
    config, summary = trained_workspace
    ids = [component["id"] for component in summary["components"]]
    assert sorted(ids) == sorted(EXPECTED_COMPONENTS)
    assert {component["state"] for component in summary["components"]} == {"complete"}
    assert summary["anomalies"] == []
    assert sum(summary["rows"].values()) == 2400
    assert summary["blessed"] is True
    versions = model_dir.list_versions(config.serving_dir)
    assert [str(version) for version in versions] == [summary["pushed_version"]]
    assert (config.serving_dir / summary["pushed_version"] / "saved_model.pb").is_file()
    assert not [p for p in config.serving_dir.iterdir() if p.name.startswith(model_dir.STAGING_PREFIX)]
    assert set(summary["metrics"]) >= {"overall", "source=imdb", "source=rotten_tomatoes"}
    assert any(name.startswith("length_bucket=") for name in summary["metrics"])
    assert summary["golden_metrics"]["overall"]["examples"] == 1000


@pytest.fixture(scope="module")
def reruns(trained_workspace):
    """The same workspace run twice more with no new data."""
    config, first = trained_workspace
    before = model_dir.list_versions(config.serving_dir)
    run_local(config)
    second = latest_summary(config)
    run_local(config)
    return config, first, before, second, latest_summary(config)


def _shuffle_labels(path, seed: int) -> None:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    labels = [row["label"] for row in rows]
    random.Random(seed).shuffle(labels)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "label": label} for row, label in zip(rows, labels, strict=True))


def _copy_of_workspace(config, workspace):
    """A new workspace holding `config`'s ML Metadata, spans and serving directory."""
    workspace.mkdir(parents=True)
    shutil.copy(config.metadata_path, workspace / config.metadata_path.name)
    copy = small_config(workspace)
    shutil.copytree(config.data_root, copy.data_root)
    shutil.copytree(config.serving_dir, copy.serving_dir)
    return copy


def _evaluator_baseline_and_candidate(config) -> tuple[list, list]:
    """Model artifact ids the latest run's Evaluator read as baseline_model and model."""
    store = metadata.open_store(config.metadata_path)
    run = metadata.pipeline_runs(store, config.pipeline_name)[-1]
    evaluator = next(node for node in metadata.run_executions(store, run) if node.node_id == "Evaluator")
    inputs = metadata_store_pb2.Event.INPUT
    return tuple(
        [model.id for model in metadata.linked_artifacts(store, evaluator.execution_id, inputs, key)]
        for key in ("baseline_model", "model")
    )


@pytest.mark.parametrize("rerun", ["second", "third"])
def test_reruns_with_no_new_data_are_served_entirely_from_cache(reruns, rerun):
    config, first, before, second, third = reruns
    summary = {"second": second, "third": third}[rerun]
    assert summary["run_id"] != first["run_id"]
    states = {component["id"]: component["state"] for component in summary["components"]}
    ran = {node for node, state in states.items() if state != "cached"}
    # The candidate is the model the first run pushed; the baseline leaves it
    # out, so the Evaluators see the inputs they judged and are cached too.
    assert ran == {"latest_blessed_model_resolver"}, states  # resolvers always resolve anew
    assert summary["pushed_version"] == first["pushed_version"]
    assert model_dir.list_versions(config.serving_dir) == before


def test_weak_model_on_a_new_span_is_not_blessed_and_serving_is_unchanged(reruns, tmp_path):
    shared, _, before, _, _ = reruns
    _, (served_model,) = _evaluator_baseline_and_candidate(shared)
    # The shared run's history, copied: the session's other tests keep reading its one span.
    config = _copy_of_workspace(shared, tmp_path / "workspace")
    write_small_spans(config, rows=800, first_span=2, seed=7)
    _shuffle_labels(config.data_root / "span-2" / data.SPAN_FILE, seed=7)
    # Labels that say nothing of the text: the model passes the sanity checks (it can
    # memorise a batch) and learns nothing that holds on the eval split or the golden set.
    run_local(config)
    summary = latest_summary(config)
    assert summary["span"] == 2
    # A new candidate is judged against the model that is serving.
    baseline, candidate = _evaluator_baseline_and_candidate(config)
    assert baseline == [served_model] and candidate != [served_model]
    assert summary["blessed"] is False
    assert summary["pushed"] is False
    assert summary["not_blessed_because"], "the reasons for not blessing must be reported"
    assert model_dir.list_versions(config.serving_dir) == before


def _write_span(config, rows, columns=data.COLUMNS):
    path = config.data_root / "span-1" / data.SPAN_FILE
    path.parent.mkdir(parents=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _insert(row):
    return lambda rows: (rows[:200] + [row] + rows[200:], data.COLUMNS)


def _without_source(rows):
    return [{k: v for k, v in row.items() if k != "source"} for row in rows], ("text", "label")


def _with_rating(rows):
    return [{**row, "rating": "7"} for row in rows], (*data.COLUMNS, "rating")


# Each spoils a span of 400 real reviews; the message must name what is wrong. Broken CSV
# rows are refused by `polarity run`'s preflight (polarity/csv_checks.py) before any
# component runs; a span whose rows are each fine but too few is the DataGate's.
PREFLIGHT = "Run halted before it started"
BAD_SPANS = {
    "empty-text": (
        _insert({"text": "", "label": "1", "source": "imdb"}),
        "line 202: the text in column 'text' is empty",
    ),
    "label-2": (_insert({"text": "A fine film.", "label": "2", "source": "imdb"}), "line 202: label '2'"),
    "missing-column": (_without_source, "'source'"),
    "new-column": (_with_rating, "'rating'"),
    "few-rows": (lambda rows: (rows[:50], data.COLUMNS), "50 rows, fewer than data.min_rows=100"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPANS))
def test_bad_span_halts_before_training_and_pushes_nothing(tmp_path, capsys, case):
    spoil, message = BAD_SPANS[case]
    config = small_config(tmp_path / "workspace")
    golden, reviews = data.split_golden(data.read_reviews())
    data.write_golden(config.golden_root, golden)
    schema.install_bundled_schema(str(config.schema_file))
    _write_span(config, *spoil(data.split_spans(reviews, 1, limit=400)[0]))
    exit_code = run_cli("run", "--workspace", str(config.workspace), *small_run_flags())
    captured = capsys.readouterr()
    assert exit_code == 1
    assert message in captured.err, captured.err
    if case == "few-rows":
        assert "Span 1" in captured.err and "nothing was trained or pushed" in captured.err
        summary = latest_summary(config)
        assert summary["failed_component"] == "DataGate"
        assert "Transform" not in {component["id"] for component in summary["components"]}
    else:
        assert PREFLIGHT in captured.err and "No file was changed" in captured.err
        assert not config.metadata_path.exists()  # no component ran
    assert not config.serving_dir.exists()
