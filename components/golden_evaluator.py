"""TFX's Evaluator under other output names, for the golden set.

Two stock Evaluators in one pipeline both name their outputs
`evaluation:<run id>` and `blessing:<run id>`; TFX's Airflow runner gives
artifacts those names, and ML Metadata refuses the second pair. This one runs
the same executor with outputs `golden_evaluation` and `golden_blessing`.
"""

from tfx import v1 as tfx
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_component_specs
from tfx.types.component_spec import ChannelParameter, ComponentSpec
from tfx.utils import json_utils

from components.features import GOLDEN_BLESSING_KEY as BLESSING_KEY
from components.features import GOLDEN_EVALUATION_KEY as EVALUATION_KEY


class GoldenEvaluatorSpec(ComponentSpec):
    PARAMETERS = standard_component_specs.EvaluatorSpec.PARAMETERS
    INPUTS = standard_component_specs.EvaluatorSpec.INPUTS
    OUTPUTS = {
        EVALUATION_KEY: ChannelParameter(type=tfx.types.standard_artifacts.ModelEvaluation),
        BLESSING_KEY: ChannelParameter(type=tfx.types.standard_artifacts.ModelBlessing),
    }


class GoldenEvaluatorExecutor(evaluator_executor.Executor):
    """The stock Evaluator executor, handed its outputs under the stock keys."""

    def Do(self, input_dict, output_dict, exec_properties):
        renamed = {
            standard_component_specs.EVALUATION_KEY: output_dict[EVALUATION_KEY],
            standard_component_specs.BLESSING_KEY: output_dict[BLESSING_KEY],
        }
        return super().Do(input_dict, renamed, exec_properties)


class GoldenEvaluator(base_component.BaseComponent):
    """Evaluates a candidate (and the baseline) on the golden set's examples."""

    SPEC_CLASS = GoldenEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(GoldenEvaluatorExecutor)

    def __init__(self, examples, model, baseline_model, eval_config, example_splits):
        super().__init__(
            spec=GoldenEvaluatorSpec(
                examples=examples,
                model=model,
                baseline_model=baseline_model,
                eval_config=eval_config,
                example_splits=json_utils.dumps(example_splits),
                fairness_indicator_thresholds=json_utils.dumps(None),
                **{
                    EVALUATION_KEY: tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelEvaluation),
                    BLESSING_KEY: tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
                },
            )
        )
