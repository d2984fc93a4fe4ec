"""Blesses a model only when every evaluation blessed it.

The span Evaluator measures a candidate on the newest span's eval split; the
golden Evaluator measures it on a fixed, trusted set no span can change (a
model that learned flipped labels looks fine on its own span but fails there).
The Pusher and the baseline resolver read only this gate's blessing.

A model an operator rolled back (`polarity rollback` sets ROLLED_BACK_KEY on its
Model artifact) is never blessed again, so no later run pushes it back into
service, and the baseline resolver skips it.
"""

import json

from tfx import v1 as tfx
from tfx.components.evaluator import constants
from tfx.utils import io_utils

from components import evaluation_summary
from components.features import (
    GOLDEN_SUMMARY_KEY,
    NOT_ROLLED_BACK_VERDICT,
    ROLLED_BACK_KEY,
    SPAN_SUMMARY_KEY,
)

__all__ = ["BlessingGate", "NOT_ROLLED_BACK_VERDICT", "ROLLED_BACK_KEY"]


@tfx.dsl.components.component
def BlessingGate(
    model: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Model],
    span_blessing: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ModelBlessing],
    golden_blessing: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ModelBlessing],
    span_evaluation: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ModelEvaluation],
    golden_evaluation: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ModelEvaluation],
    verdict: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.ModelBlessing],
    classes: tfx.dsl.components.Parameter[str] = "[]",
) -> None:
    """Writes a ModelBlessing (`verdict`) that is blessed if and only if both inputs are
    and the model was never rolled back.

    The verdict also records each evaluation's metrics per slice (per-class metrics
    named by `classes`, a JSON list) and the reasons a candidate was not blessed, so
    that the run's summary is read from ML Metadata without loading TensorFlow.

    Its output key is not "blessing": TFX's Airflow runner names artifacts
    <output key>:<run id>, which must differ from the Evaluators' blessings.
    """
    blessing = verdict
    verdicts = {
        "span": span_blessing.get_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY) == 1,
        "golden": golden_blessing.get_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY) == 1,
        NOT_ROLLED_BACK_VERDICT: not model.get_string_custom_property(ROLLED_BACK_KEY),
    }
    blessed = all(verdicts.values())
    blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY, model.uri)
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
    blessing.set_int_custom_property(
        constants.ARTIFACT_PROPERTY_BLESSED_KEY,
        constants.BLESSED_VALUE if blessed else constants.NOT_BLESSED_VALUE,
    )
    blessing.set_json_value_custom_property("verdicts", verdicts)
    names = tuple(json.loads(classes))
    for key, evaluation, blessed_by_it in (
        (SPAN_SUMMARY_KEY, span_evaluation, verdicts["span"]),
        (GOLDEN_SUMMARY_KEY, golden_evaluation, verdicts["golden"]),
    ):
        summary = evaluation_summary.summarize(evaluation.uri, names, blessed_by_it)
        blessing.set_json_value_custom_property(key, summary)
    marker = constants.BLESSED_FILE_NAME if blessed else constants.NOT_BLESSED_FILE_NAME
    io_utils.write_string_file(f"{blessing.uri}/{marker}", "")
