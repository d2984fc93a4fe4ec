"""Runs the pipeline in this process: LocalDagRunner, SQLite ML Metadata, Beam DirectRunner."""

from tfx import v1 as tfx

from pipelines.params import pipeline_kwargs
from pipelines.pipeline import create_pipeline
from polarity.config import Config


def build_local_pipeline(config: Config) -> tfx.dsl.Pipeline:
    """The pipeline with a SQLite ML Metadata store under the workspace."""
    config.metadata_path.parent.mkdir(parents=True, exist_ok=True)
    return create_pipeline(
        **pipeline_kwargs(config),
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(config.metadata_path)
        ),
    )


def run_local(config: Config) -> None:
    """Runs the whole pipeline once; raises if a component fails or halts it."""
    tfx.orchestration.LocalDagRunner().run(build_local_pipeline(config))
