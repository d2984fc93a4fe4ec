"""The BlessingGate: blessed only when both evaluations blessed and no operator rolled the model back."""

import os

import pytest
from tfx import v1 as tfx

from components.blessing_gate import NOT_ROLLED_BACK_VERDICT, ROLLED_BACK_KEY, BlessingGate


def _blessing(blessed: bool):
    blessing = tfx.types.standard_artifacts.ModelBlessing()
    blessing.set_int_custom_property("blessed", int(blessed))
    return blessing


def _verdict(tmp_path, span: bool, golden: bool, rolled_back_at: str = ""):
    model = tfx.types.standard_artifacts.Model()
    model.id, model.uri = 7, str(tmp_path / "model")
    if rolled_back_at:
        model.set_string_custom_property(ROLLED_BACK_KEY, rolled_back_at)
    verdict = tfx.types.standard_artifacts.ModelBlessing()
    verdict.uri = str(tmp_path / "verdict")
    os.makedirs(verdict.uri)
    inputs = {"model": [model], "span_blessing": [_blessing(span)], "golden_blessing": [_blessing(golden)]}
    BlessingGate.EXECUTOR_SPEC.executor_class().Do(inputs, {"verdict": [verdict]}, {})
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
    tmp_path, span, golden, rolled_back_at, blessed
):
    verdict = _verdict(tmp_path, span, golden, rolled_back_at)
    assert verdict.get_int_custom_property("blessed") == int(blessed)
    assert verdict.get_int_custom_property("current_model_id") == 7
    assert os.path.exists(os.path.join(verdict.uri, "BLESSED" if blessed else "NOT_BLESSED"))
    verdicts = verdict.get_json_value_custom_property("verdicts")
    assert verdicts[NOT_ROLLED_BACK_VERDICT] is not bool(rolled_back_at)
