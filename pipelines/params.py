"""Maps the one configuration onto create_pipeline's parameters, for every runner."""

from pipelines.pipeline import BlessingRule
from polarity.config import Config


def pipeline_kwargs(config: Config, schema_file: str | None = None) -> dict:
    """create_pipeline keyword arguments for a configuration, paths included.

    Args:
      config: the validated configuration.
      schema_file: the span schema as the orchestrator sees it; defaults to
        `data.schema_file` (under the workspace unless set).
    """
    return dict(
        pipeline_name=config.pipeline_name,
        pipeline_root=str(config.pipeline_root),
        data_root=str(config.data_root),
        schema_file=str(schema_file or config.schema_file),
        serving_dir=str(config.serving_dir),
        model_name=config.serving.model_name,
        contract=config.data.contract(),
        text_features=config.text.features(),
        hyperparameters=config.training.model_dump(),
        blessing=BlessingRule(**config.evaluation.model_dump()),
        golden_root=str(config.golden_root),
        drift_checks=config.drift.as_checks(),
        span_pattern=config.data.span_pattern,
        train_spans=config.data.train_spans,
        train_buckets=config.data.train_buckets,
        eval_buckets=config.data.eval_buckets,
        min_rows=config.data.min_rows,
        enable_cache=config.enable_cache,
        beam_pipeline_args=config.beam.pipeline_args(),
    )
