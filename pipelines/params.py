"""Maps the one configuration onto create_pipeline's parameters, for every runner."""

from polarity.config import Config
from schemas import schema_dir


def pipeline_kwargs(config: Config, schema_path: str | None = None) -> dict:
    """create_pipeline keyword arguments for a configuration, paths included.

    Args:
      config: the validated configuration.
      schema_path: directory of schema.pbtxt as the orchestrator sees it;
        defaults to the installed `schemas` package.
    """
    return dict(
        pipeline_name=config.pipeline_name,
        pipeline_root=str(config.pipeline_root),
        data_root=str(config.data_root),
        schema_path=str(schema_path or schema_dir()),
        serving_dir=str(config.serving_dir),
        model_name=config.serving.model_name,
        hyperparameters=config.training.model_dump(),
        accuracy_floor=config.evaluation.accuracy_floor,
        max_accuracy_drop=config.evaluation.max_accuracy_drop,
        golden_root=str(config.golden_root),
        golden_accuracy_floor=config.evaluation.golden_accuracy_floor,
        drift_checks=config.drift.as_checks(),
        span_pattern=config.data.span_pattern,
        train_spans=config.data.train_spans,
        train_buckets=config.data.train_buckets,
        eval_buckets=config.data.eval_buckets,
        min_rows=config.data.min_rows,
        enable_cache=config.enable_cache,
        beam_pipeline_args=config.beam.pipeline_args(),
    )
