"""`polarity lineage`: spans, runs, metrics, blessing and baseline of a pushed model, from ML Metadata."""

import contextlib
import io
import json
import shutil

import pytest
from workspace_helpers import run_cli, small_config, write_small_spans

from components.blessing_gate import ROLLED_BACK_KEY
from pipelines.local_runner import run_local
from polarity import data, lineage, metadata, report
from serving import model_dir


@pytest.fixture(scope="module")
def two_pushes(tmp_path_factory, trained_workspace):
    """The shared run's history copied to a new workspace, plus a second pushed model on a new span.

    The second model is judged against the first (the latest blessed model) as its baseline.
    """
    first_config, first = trained_workspace
    workspace = tmp_path_factory.mktemp("lineage") / "workspace"
    workspace.mkdir()
    shutil.copy(first_config.metadata_path, workspace / first_config.metadata_path.name)
    config = small_config(workspace, "evaluation.max_accuracy_drop=1.0")
    shutil.copytree(first_config.data_root, config.data_root)
    shutil.copytree(first_config.serving_dir, config.serving_dir)
    write_small_spans(config, first_span=data.latest_span(config.data_root) + 1, seed=11)
    run_local(config)
    second = report.run_summary(metadata.open_store(config.metadata_path), config.pipeline_name)
    assert second["pushed"], f"the second run pushed no model: {second}"
    return config, first, second


def test_lineage_of_the_served_model_names_its_span_run_metrics_and_baseline(two_pushes):
    config, first, second = two_pushes
    found = lineage.model_lineage(metadata.open_store(config.metadata_path), config.serving_dir)
    assert found["version"] == int(second["pushed_version"]) and found["served"]
    assert found["rollback_of"] is None
    assert found["spans"] == [second["span"]] and second["span"] != first["span"]
    assert found["pushed_in_run"] == found["trained_in_run"] == second["run_id"]
    assert found["blessed"] is True
    assert found["metrics"] == second["metrics"]
    baseline = found["baseline"]
    assert baseline["pushed_version"] == int(first["pushed_version"])
    assert baseline["trained_in_run"] == first["run_id"]
    assert 0 < baseline["metrics"]["accuracy"] <= 1


def test_lineage_of_the_first_model_has_no_baseline(two_pushes, capsys):
    config, first, _ = two_pushes
    assert run_cli("lineage", first["pushed_version"], "--workspace", str(config.workspace)) == 0
    out = capsys.readouterr().out
    assert f"Model version {first['pushed_version']}: not served" in out
    assert f"on span(s) {first['span']}" in out and f"run {first['run_id']}" in out
    assert "Baseline: none" in out


def test_lineage_of_an_unknown_version_says_which_are_known(two_pushes, capsys):
    config, first, second = two_pushes
    assert run_cli("lineage", "7", "--workspace", str(config.workspace)) == 2
    err = capsys.readouterr().err
    assert "version 7 was not pushed" in err
    assert first["pushed_version"] in err and second["pushed_version"] in err


# The tests below run after the rollback: the module's workspace serves the first model again.
@pytest.fixture(scope="module")
def rolled_back(two_pushes):
    """`polarity rollback` in the two-push workspace; returns two_pushes and what it printed."""
    config, first, second = two_pushes
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert run_cli("rollback", "--workspace", str(config.workspace)) == 0
    return config, first, second, out.getvalue()


def test_lineage_of_a_rollback_is_the_lineage_of_the_model_it_serves_again(rolled_back, capsys):
    config, first, _, _ = rolled_back
    assert run_cli("lineage", "--json", "--workspace", str(config.workspace)) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["rollback_of"] == int(first["pushed_version"]) and found["served"]
    assert found["version"] > int(first["pushed_version"])
    assert found["spans"] == [first["span"]] and found["trained_in_run"] == first["run_id"]
    assert found["baseline"] is None


def test_the_next_run_is_judged_against_the_model_served_again_not_the_rolled_back_one(rolled_back):
    config, first, second, printed = rolled_back
    second_version = int(second["pushed_version"])
    withdrawn = lineage.model_of_version(metadata.open_store(config.metadata_path), second_version)
    assert ROLLED_BACK_KEY in withdrawn.custom_properties
    assert f"Model {withdrawn.id} (pushed as version {second_version}) is marked rolled back" in printed

    write_small_spans(config, first_span=data.latest_span(config.data_root) + 1, seed=12)
    run_local(config)
    third = report.run_summary(metadata.open_store(config.metadata_path), config.pipeline_name)
    assert third["pushed"], f"the run after the rollback pushed no model: {third}"
    found = lineage.model_lineage(metadata.open_store(config.metadata_path), config.serving_dir)
    assert found["version"] == int(third["pushed_version"]) and found["served"]
    assert found["baseline"]["pushed_version"] == int(first["pushed_version"])


def test_rolling_forward_to_a_rolled_back_model_clears_its_mark(rolled_back, capsys):
    # Runs after the test above: the third run's model is served; bring the second back.
    config, _, second, _ = rolled_back
    second_version = int(second["pushed_version"])
    third = lineage.model_of_version(
        metadata.open_store(config.metadata_path), model_dir.list_versions(config.serving_dir)[-1]
    )
    assert run_cli("rollback", "--to", str(second_version), "--workspace", str(config.workspace)) == 0
    assert f"Model {third.id}" in capsys.readouterr().out
    store = metadata.open_store(config.metadata_path)
    assert ROLLED_BACK_KEY not in lineage.model_of_version(store, second_version).custom_properties
    assert ROLLED_BACK_KEY in store.get_artifacts_by_id([third.id])[0].custom_properties
