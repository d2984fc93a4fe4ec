"""The run report, the timeline and the model card of the session's real pipeline run.

Each file is checked as data (what it says about the run) and, in
test_report_in_browser.py, as a reader's browser shows it.
"""

import argparse
import json
import pathlib
import re

import pytest
from workspace_helpers import small_config, write_small_spans

from polarity import card_location, evaluation_views, metadata, model_card, report_commands, report_data


@pytest.fixture(scope="module")
def store(trained_workspace):
    config, _ = trained_workspace
    return metadata.open_store(config.metadata_path)


@pytest.fixture(scope="module")
def data(trained_workspace, store):
    """The shared run's report data, named by its id: other files on this test process run the
    shared workspace again (tests/pipelines/test_local_pipeline_e2e.py), so it may not be the latest."""
    config, summary = trained_workspace
    return report_data.run_report_data(config, store, summary["run_id"])


def test_span_section_counts_the_rows_and_classes_of_the_span(trained_workspace, data):
    _, summary = trained_workspace
    span = data["span"]
    assert span["span"] == summary["span"]
    assert span["rows"] == summary["rows"]
    assert sum(span["text_lengths"]["counts"]) == sum(summary["rows"].values())
    assert set(span["class_balance"]) == set(data["classes"])
    assert sum(span["class_balance"].values()) == pytest.approx(1.0)
    assert sum(span["slice_counts"]["source"].values()) == pytest.approx(sum(summary["rows"].values()), abs=2)
    # The first run has no previous span: each check is listed with its threshold, unmeasured.
    assert [check["measure"] for check in span["drift"]["checks"]] == [
        "label_balance",
        "slice_mix",
        "text_length",
    ]
    assert span["drift"]["previous_span"] is None


def test_drift_checks_measure_against_the_previous_validated_profile(trained_workspace, store):
    config, summary = trained_workspace
    run = report_data.find_run(store, config.pipeline_name, summary["run_id"])
    nodes = {node.node_id: node for node in metadata.run_executions(store, run)}
    gate = nodes["DataGate"]
    profile = metadata.json_value(gate.outputs["validated_statistics"][0], "profile")
    # Measured against itself (the latest validated profile), every distance is zero, nothing fires.
    found = report_data.drift_checks(store, gate, profile, before_id=10**9)
    assert found["previous_span"] is not None
    assert {check["measure"]: check["distance"] for check in found["checks"]} == {
        "label_balance": 0.0,
        "slice_mix": 0.0,
        "text_length": 0.0,
    }
    assert not any(check["fired"] for check in found["checks"])
    assert [check["threshold"] for check in found["checks"]] == [
        config.drift.label_balance.threshold,
        config.drift.slice_mix.threshold,
        config.drift.text_length.threshold,
    ]


def test_evaluation_section_holds_metrics_thresholds_and_per_class_plots(trained_workspace, data):
    config, summary = trained_workspace
    evaluation = data["evaluation"]
    assert evaluation["metrics"][evaluation_views.CANDIDATE] == summary["metrics"]
    assert evaluation["thresholds"] == [
        {
            "metric": config.evaluation.metric,
            "slice": "overall",
            "floor": pytest.approx(config.evaluation.floor),
            "max_drop": pytest.approx(config.evaluation.max_drop),
        }
    ]
    plots = evaluation["plots"][evaluation_views.CANDIDATE]
    confusion = plots["confusion"]
    assert sum(map(sum, confusion)) == summary["rows"]["eval"]
    correct = sum(confusion[index][index] for index in range(len(confusion)))
    assert correct / summary["rows"]["eval"] == pytest.approx(
        summary["metrics"]["overall"]["accuracy"], abs=1e-3
    )
    assert set(plots["per_class"]) == set(data["classes"])
    for curves in plots["per_class"].values():
        assert sum(curves["calibration"]["count"]) == summary["rows"]["eval"]
        assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in curves["roc"] + curves["pr"])
        assert len(curves["roc"]) > 10


def test_mistakes_are_wrong_confident_and_explained(data):
    mistakes = data["mistakes"]
    assert 0 < len(mistakes) <= report_data.MISTAKES_SHOWN
    confidences = [mistake["confidence"] for mistake in mistakes]
    assert confidences == sorted(confidences, reverse=True)
    for mistake in mistakes:
        assert mistake["predicted"] != mistake["actual"]
        assert mistake["confidence"] == max(mistake["scores"].values())
        assert mistake["words"], "the model exports explain_text: each mistake has its word attributions"
        tokens = [token for token, _ in mistake["words"]]
        found = sum(token.lower() in mistake["text"].lower() for token in tokens)
        assert found >= 0.9 * len(tokens), (tokens[:20], mistake["text"][:200])


def test_report_file_is_self_contained_and_says_what_happened(trained_workspace, store, tmp_path):
    config, summary = trained_workspace
    path = report_commands.write_run_report(config, store, summary["run_id"], output=tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert summary["run_id"] in text
    for heading in ("The span", "The candidate against the baseline", "The blessing decision", "Lineage"):
        assert f">{heading}" in text
    assert f"version {summary['pushed_version']}" in text
    assert text.count("<svg") == 7  # class balance, lengths, rows per source, confusion, reliability, ROC, PR
    assert not re.search(r"<script|<link|src=\"http|href=\"http|@import", text)


def test_report_command_writes_the_latest_run_or_a_named_one(trained_workspace, tmp_path, capsys):
    config, summary = trained_workspace
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    report_commands.register(commands, lambda sub: None)
    args = parser.parse_args(["report", "--output", str(tmp_path / "latest.html")])
    assert args.handler(args, config) == report_commands.EXIT_OK
    assert f"Report: {tmp_path / 'latest.html'}" in capsys.readouterr().out
    args = parser.parse_args(["report", "--run", "no-such-run"])
    assert args.handler(args, config) == report_commands.EXIT_USAGE
    assert "no run 'no-such-run'" in capsys.readouterr().err
    args = parser.parse_args(["report", "--timeline", "--output", str(tmp_path / "timeline.html")])
    assert args.handler(args, config) == report_commands.EXIT_OK
    timeline = (tmp_path / "timeline.html").read_text(encoding="utf-8")
    assert summary["run_id"] in timeline and timeline.count("<svg") == 2


def test_model_card_is_written_outside_the_serving_directory(trained_workspace, store, tmp_path):
    config, summary = trained_workspace
    version = int(summary["pushed_version"])
    html_path = pathlib.Path(model_card.write_card(config, store, version))
    serving_dir = pathlib.Path(config.serving_dir)
    assert html_path == pathlib.Path(card_location.card_path(config.serving_dir, version))
    assert serving_dir not in html_path.parents
    assert sorted(path.name for path in serving_dir.iterdir()) == [str(version)]
    card = json.loads(html_path.with_name(card_location.JSON_FILE).read_text())
    assert card["model_details"]["version"] == version
    assert card["training_data"]["spans"] == [summary["span"]]
    assert card["quantitative_analysis"]["eval_split"] == summary["metrics"]
    assert card["quantitative_analysis"]["golden_set"] == summary["golden_metrics"]
    passed = card["quantitative_analysis"]["thresholds_passed"]
    assert all(row["value"] >= row["floor"] for row in passed)
    text = html_path.read_text(encoding="utf-8")
    for heading in (
        "Model details",
        "Training data",
        "Evaluation",
        "Known weak slices",
        "Intended use",
        "Limitations",
    ):
        assert f"<h2>{heading}" in text or f"<h3>{heading}" in text


def test_weak_slices_are_those_below_the_floor_or_far_below_overall():
    metrics = {
        "overall": {"accuracy": 0.80},
        "source=a": {"accuracy": 0.79, "examples": 10},
        "source=b": {"accuracy": 0.70, "examples": 5},
        "source=c": {"accuracy": 0.74, "examples": 7},
    }
    weak = model_card.weak_slices(metrics, "accuracy", floor=0.72)
    assert [item["slice"] for item in weak] == ["source=b", "source=c"]
    assert weak[0]["why"] == ["below the floor 0.7200", "0.1000 below overall"]


def test_after_run_reports_a_halted_run_without_a_card(tmp_path, capsys):
    from pipelines.local_runner import run_local

    config = small_config(tmp_path, "data.min_rows=100000")
    write_small_spans(config, rows=300)
    with pytest.raises(Exception, match="min_rows"):
        run_local(config)
    report_commands.after_run(config)
    out = capsys.readouterr().out
    [line] = out.splitlines()
    path = pathlib.Path(line.removeprefix("Report: "))
    text = path.read_text(encoding="utf-8")
    assert path.parent == tmp_path / "reports"
    assert "halted in DataGate" in text and "No evaluation" in text and "min_rows" in text
    timeline = report_commands.write_timeline(config, metadata.open_store(config.metadata_path))
    text = timeline.read_text(encoding="utf-8")
    assert "failed in DataGate" in text and ">halted<" in text and text.count("<svg") == 1  # nothing served


def test_find_card_names_a_written_card_only(trained_workspace, store):
    config, summary = trained_workspace
    version = int(summary["pushed_version"])
    assert card_location.find_card(config.serving_dir, version + 1) is None
    written = model_card.write_card(config, store, version)
    assert card_location.find_card(config.serving_dir, version) == written
