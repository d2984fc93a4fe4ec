"""The Polarity TFX pipeline, defined once for every orchestrator.

This module wires components and nothing else: TensorFlow code lives in
`components/` and is referred to by module path, and runners only choose paths
and the orchestrator.
"""

import dataclasses
import json
import os

from tfx import v1 as tfx

from components import baseline_resolver, eval_config, preprocessing, trainer
from components.blessing_gate import BlessingGate
from components.contract import DatasetContract
from components.data_gate import DataGate
from components.golden_evaluator import BLESSING_KEY as GOLDEN_BLESSING_KEY
from components.golden_evaluator import EVALUATION_KEY as GOLDEN_EVALUATION_KEY
from components.golden_evaluator import GoldenEvaluator
from components.pusher import AtomicPusher
from components.text_features import TextFeatures
from polarity.spans import GOLDEN_PATTERN

PREPROCESSING_FN = "components.preprocessing.preprocessing_fn"
RUN_FN = "components.trainer.run_fn"
DATA_GATE_ID = "DataGate"
BLESSING_GATE_ID = "BlessingGate"
GOLDEN_SPLIT = "golden"

# Pipeline parameters an operator may change per run without recompiling, when
# the orchestrator takes them (Kubeflow Pipelines v2). TFX 1.16 only accepts a
# RuntimeParameter as a whole execution property, so the span choice and the
# trainer settings are JSON strings; the blessing thresholds live inside the
# EvalConfig proto and are compiled in (change them and compile again).
DATA_ROOT_PARAMETER = "data_root"
DATA_RANGE_PARAMETER = "data_range_config"
TRAINER_CONFIG_PARAMETER = "trainer_config"


def _parameter(name: str, default: str) -> tfx.dsl.experimental.RuntimeParameter:
    return tfx.dsl.experimental.RuntimeParameter(name=name, ptype=str, default=default)


@dataclasses.dataclass(frozen=True)
class BlessingRule:
    """When a candidate is blessed: `metric` (accuracy or macro_f1) reaches `floor` on the
    span's eval split and `golden_floor` on the golden set, and drops at most `max_drop`
    below the last blessed model's on either."""

    metric: str = "accuracy"
    floor: float = 0.85
    max_drop: float = 0.01
    golden_floor: float = 0.80


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    schema_file: str,
    serving_dir: str,
    model_name: str,
    contract: DatasetContract,
    text_features: TextFeatures,
    hyperparameters: dict,
    blessing: BlessingRule,
    golden_root: str,
    drift_checks: list[dict] | None = None,
    span_pattern: str = "span-{SPAN}/*.csv",
    train_spans: int = 1,
    train_buckets: int = 4,
    eval_buckets: int = 1,
    min_rows: int = 200,
    enable_cache: bool = True,
    beam_pipeline_args: list[str] | None = None,
    metadata_connection_config=None,
    runtime_parameters: bool = False,
    stock_resolvers_only: bool = False,
) -> tfx.dsl.Pipeline:
    """Builds the pipeline: ingest the latest span, validate, transform, train,
    evaluate against the last blessed model, and push only a blessed model.

    Args:
      pipeline_name: name of the pipeline in ML Metadata and orchestrators.
      pipeline_root: where component outputs are written.
      data_root: directory holding the span folders.
      schema_file: the span schema (schema.pbtxt) ImportSchemaGen reads.
      serving_dir: TF Serving model base path the Pusher publishes to.
      model_name: the served model's name (used in warm-up requests).
      contract: the dataset contract (columns, classes, slices); Transform and
        the Trainer receive it in custom_config, so it is part of the cache key.
      text_features: the n-grams Transform builds (components/text_features.py).
      hyperparameters: trainer hyperparameters (components/training.py).
      blessing: the metric, floors and tolerated drop a candidate is judged on.
      golden_root: directory of the fixed golden set every candidate is also
        evaluated on.
      drift_checks: span-to-span drift thresholds and actions
        (components/drift.DriftCheck fields); none by default.
      span_pattern: file glob under data_root with a {SPAN} placeholder.
      train_spans: train on the last K ingested spans.
      train_buckets: hash buckets per span in the train split.
      eval_buckets: hash buckets per span in the eval split.
      min_rows: a span with fewer rows halts the run.
      enable_cache: reuse outputs of components whose inputs did not change.
      beam_pipeline_args: Beam options for the Beam-based components.
      metadata_connection_config: ML Metadata connection (local runs).
      runtime_parameters: expose the data root (`data_root`), the span choice
        (`data_range_config`, a tfx RangeConfig as JSON; empty means the newest
        span) and the trainer's custom config (`trainer_config`, JSON holding
        the hyperparameters) as pipeline parameters whose defaults are the
        values given here. Orchestrators that take per-run parameters use it.
      stock_resolvers_only: judge candidates against TFX's
        LatestBlessedModelStrategy instead of the last blessed model other than
        the candidate (components/baseline_resolver.py), for orchestrators whose
        compiler accepts only TFX's own strategies (Kubeflow Pipelines v2).
        The verdicts are the same; a re-run with no new data re-evaluates the
        model it pushed against itself instead of being cached.
    """
    custom_config = trainer.trainer_config(hyperparameters, contract, model_name, text_features)
    input_base, range_config = data_root, None
    # Only the data gate's error message uses the full pattern.
    input_pattern = os.path.join(data_root, span_pattern)
    if runtime_parameters:
        input_base = _parameter(DATA_ROOT_PARAMETER, data_root)
        range_config = _parameter(DATA_RANGE_PARAMETER, "")
        custom_config = _parameter(TRAINER_CONFIG_PARAMETER, json.dumps(custom_config, sort_keys=True))
        input_pattern = span_pattern
    example_gen = tfx.components.CsvExampleGen(
        input_base=input_base,
        input_config=tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name="single_split", pattern=span_pattern)]
        ),
        output_config=tfx.proto.Output(
            split_config=tfx.proto.SplitConfig(
                splits=[
                    tfx.proto.SplitConfig.Split(name="train", hash_buckets=train_buckets),
                    tfx.proto.SplitConfig.Split(name="eval", hash_buckets=eval_buckets),
                ]
            )
        ),
        range_config=range_config,
    )
    schema_gen = tfx.components.ImportSchemaGen(schema_file=schema_file)
    # With the schema, the label and slice columns get categorical statistics (drift reads them).
    statistics_gen = tfx.components.StatisticsGen(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"]
    )
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    data_gate = DataGate(
        examples=example_gen.outputs["examples"],
        statistics=statistics_gen.outputs["statistics"],
        anomalies=example_validator.outputs["anomalies"],
        input_pattern=input_pattern,
        min_rows=min_rows,
        contract=contract.to_json(),
        schema_file=schema_file,
        drift_checks=json.dumps(drift_checks or [], sort_keys=True),
        # The last passing span's profile, kept on the pipeline root for every orchestrator.
        drift_baseline=os.path.join(pipeline_root, DATA_GATE_ID, "drift_baseline.json"),
    ).with_id(DATA_GATE_ID)
    components = [example_gen, statistics_gen, schema_gen, example_validator, data_gate]

    training_examples = example_gen.outputs["examples"]
    if train_spans > 1:
        span_resolver = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.SpanRangeStrategy,
            config={
                "range_config": tfx.proto.RangeConfig(
                    rolling_range=tfx.proto.RollingRange(num_spans=train_spans)
                )
            },
            examples=tfx.dsl.Channel(
                type=tfx.types.standard_artifacts.Examples,
                producer_component_id=example_gen.id,
                output_key="examples",
            ),
        ).with_id("latest_spans_resolver")
        training_examples = span_resolver.outputs["examples"]
        span_resolver.add_upstream_node(data_gate)
        components.append(span_resolver)

    transform = tfx.components.Transform(
        examples=training_examples,
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        custom_config=preprocessing.transform_config(
            contract, text_features, raw_text=hyperparameters.get("model") == "encoder"
        ),
    )
    transform.add_upstream_node(data_gate)
    model_trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        custom_config=custom_config,
    )
    # Only the BlessingGate's verdict counts as "blessed" for the baseline.
    baseline_inputs = {
        baseline_resolver.MODEL_KEY: tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        baseline_resolver.BLESSING_KEY: tfx.dsl.Channel(
            type=tfx.types.standard_artifacts.ModelBlessing,
            producer_component_id=BLESSING_GATE_ID,
            output_key="verdict",
        ),
    }
    if stock_resolvers_only:
        model_resolver = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy, **baseline_inputs
        )
    else:
        model_resolver = tfx.dsl.Resolver(
            strategy_class=baseline_resolver.PreviousBlessedModelStrategy,
            **baseline_inputs,
            **{baseline_resolver.CANDIDATE_KEY: model_trainer.outputs["model"]},
        )
    model_resolver = model_resolver.with_id("latest_blessed_model_resolver")
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=model_trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        eval_config=eval_config.build_eval_config(
            contract, blessing.metric, blessing.floor, blessing.max_drop
        ),
    )
    golden_example_gen = tfx.components.CsvExampleGen(
        input_base=golden_root,
        input_config=tfx.proto.Input(
            splits=[tfx.proto.Input.Split(name="single_split", pattern=GOLDEN_PATTERN)]
        ),
        output_config=tfx.proto.Output(
            split_config=tfx.proto.SplitConfig(
                splits=[tfx.proto.SplitConfig.Split(name=GOLDEN_SPLIT, hash_buckets=1)]
            )
        ),
    ).with_id("GoldenExampleGen")
    golden_evaluator = GoldenEvaluator(
        examples=golden_example_gen.outputs["examples"],
        model=model_trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        eval_config=eval_config.build_eval_config(
            contract,
            blessing.metric,
            blessing.golden_floor,
            blessing.max_drop,
            slicing_specs=eval_config.golden_slicing_specs(contract),
        ),
        example_splits=[GOLDEN_SPLIT],
    ).with_id("GoldenEvaluator")
    blessing_gate = BlessingGate(
        model=model_trainer.outputs["model"],
        span_blessing=evaluator.outputs["blessing"],
        golden_blessing=golden_evaluator.outputs[GOLDEN_BLESSING_KEY],
        span_evaluation=evaluator.outputs["evaluation"],
        golden_evaluation=golden_evaluator.outputs[GOLDEN_EVALUATION_KEY],
        classes=json.dumps(list(contract.classes)),
    ).with_id(BLESSING_GATE_ID)
    pusher = AtomicPusher(
        model=model_trainer.outputs["model"],
        model_blessing=blessing_gate.outputs["verdict"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_dir)
        ),
    ).with_id("Pusher")
    components += [
        transform,
        model_trainer,
        model_resolver,
        evaluator,
        golden_example_gen,
        golden_evaluator,
        blessing_gate,
        pusher,
    ]
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=components,
        enable_cache=enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args or [],
    )
