"""The BlessingGate: blessed only when both evaluations blessed and no operator rolled the model back."""

import json
import os

import pytest
from tfx import v1 as tfx

from components import evaluation_summary, features
from components.blessing_gate import NOT_ROLLED_BACK_VERDICT, ROLLED_BACK_KEY, BlessingGate
from polarity import metadata, report_data


@pytest.fixture(scope="module")
def evaluations(trained_workspace):
    """The shared run's real Evaluator and GoldenEvaluator outputs, as TFX artifacts."""
    config, summary = trained_workspace
    store = metadata.open_store(config.metadata_path)
    # By id: other files on this test process run the shared workspace again.
    run = report_data.find_run(store, config.pipeline_name, summary["run_id"])
    nodes = {node.node_id: node for node in metadata.run_executions(store, run)}
    found = {}
    for node_id, key in (("Evaluator", "evaluation"), ("GoldenEvaluator", features.GOLDEN_EVALUATION_KEY)):
        evaluation = tfx.types.standard_artifacts.ModelEvaluation()
        evaluation.uri = nodes[node_id].outputs[key][0].uri
        found[node_id] = evaluation
    return found, tuple(config.data.classes)


def _blessing(blessed: bool):
    blessing = tfx.types.standard_artifacts.ModelBlessing()
    blessing.set_int_custom_property("blessed", int(blessed))
    return blessing


def _verdict(tmp_path, evaluations, span: bool, golden: bool, rolled_back_at: str = ""):
    model = tfx.types.standard_artifacts.Model()
    model.id, model.uri = 7, str(tmp_path / "model")
    if rolled_back_at:
        model.set_string_custom_property(ROLLED_BACK_KEY, rolled_back_at)
    verdict = tfx.types.standard_artifacts.ModelBlessing()
    verdict.uri = str(tmp_path / "verdict")
    os.makedirs(verdict.uri)
    found, classes = evaluations
    inputs = {
        "model": [model],
        "span_blessing": [_blessing(span)],
        "golden_blessing": [_blessing(golden)],
        "span_evaluation": [found["Evaluator"]],
        "golden_evaluation": [found["GoldenEvaluator"]],
    }
    properties = {"classes": json.dumps(list(classes))}
    BlessingGate.EXECUTOR_SPEC.executor_class().Do(inputs, {"verdict": [verdict]}, properties)
    return verdict


@pytest.mark.parametrize(
    ("span", "golden", "rolled_back_at", "blessed"),
    [
        (True, True, "", True),
        (True, False, "", False),
        (False, True, "", False),
        (True, True, "2026-11-23T03:10:00+00:00", False),
    ],
)
def test_blessed_only_when_both_evaluations_bless_a_model_never_rolled_back(
    tmp_path, evaluations, span, golden, rolled_back_at, blessed
):
    verdict = _verdict(tmp_path, evaluations, span, golden, rolled_back_at)
    assert verdict.get_int_custom_property("blessed") == int(blessed)
    assert verdict.get_int_custom_property("current_model_id") == 7
    assert os.path.exists(os.path.join(verdict.uri, "BLESSED" if blessed else "NOT_BLESSED"))
    verdicts = verdict.get_json_value_custom_property("verdicts")
    assert verdicts[NOT_ROLLED_BACK_VERDICT] is not bool(rolled_back_at)


def test_the_verdict_records_both_evaluations_as_tfma_reports_them(tmp_path, evaluations):
    # `polarity status` reads these records instead of loading TFMA; they must be TFMA's numbers.
    verdict = _verdict(tmp_path, evaluations, True, True)
    found, classes = evaluations
    for key, node_id in (
        (features.SPAN_SUMMARY_KEY, "Evaluator"),
        (features.GOLDEN_SUMMARY_KEY, "GoldenEvaluator"),
    ):
        record = metadata.json_value(verdict.mlmd_artifact, key)
        assert record["metrics"] == evaluation_summary.evaluation_metrics(found[node_id].uri, classes)
        assert "recall/positive" in record["metrics"]["overall"]
        assert record["not_blessed_because"] == []
