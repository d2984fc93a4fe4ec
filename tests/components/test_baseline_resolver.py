"""The baseline resolver: the newest blessed model that is not the candidate."""

from tfx import v1 as tfx

from components.baseline_resolver import BLESSING_KEY, CANDIDATE_KEY, MODEL_KEY, PreviousBlessedModelStrategy
from components.blessing_gate import ROLLED_BACK_KEY


def _model(artifact_id, rolled_back=()):
    model = tfx.types.standard_artifacts.Model()
    model.id = artifact_id
    if artifact_id in rolled_back:
        model.set_string_custom_property(ROLLED_BACK_KEY, "2026-11-23T03:10:00+00:00")
    return model


def _blessing(model_id, blessed):
    blessing = tfx.types.standard_artifacts.ModelBlessing()
    blessing.set_int_custom_property("current_model_id", model_id)
    blessing.set_int_custom_property("blessed", int(blessed))
    return blessing


def _resolve(models, blessings, candidate, rolled_back=()):
    inputs = {
        MODEL_KEY: [_model(i, rolled_back) for i in models],
        BLESSING_KEY: [_blessing(i, blessed) for i, blessed in blessings],
        CANDIDATE_KEY: [_model(candidate)],
    }
    result = PreviousBlessedModelStrategy().resolve_artifacts(None, inputs)
    assert [artifact.id for artifact in result[CANDIDATE_KEY]] == [candidate]
    assert len(result[BLESSING_KEY]) == len(result[MODEL_KEY])
    return [artifact.id for artifact in result[MODEL_KEY]]


def test_a_new_candidate_is_judged_against_the_newest_blessed_model():
    assert _resolve([1, 2, 3, 4], [(1, True), (2, True), (3, False)], candidate=4) == [2]


def test_the_candidate_is_never_its_own_baseline():
    # No new data: the cached candidate is the model the last run blessed.
    assert _resolve([1, 2, 3], [(1, True), (3, True)], candidate=3) == [1]


def test_no_baseline_before_any_other_model_was_blessed():
    assert _resolve([1], [], candidate=1) == []
    assert _resolve([1, 2], [(1, False), (2, True)], candidate=2) == []


def test_a_rolled_back_model_is_never_the_baseline():
    assert _resolve([1, 2, 3], [(1, True), (2, True)], candidate=3, rolled_back={2}) == [1]
    assert _resolve([1, 2, 3], [(1, True), (2, True)], candidate=3, rolled_back={1, 2}) == []
