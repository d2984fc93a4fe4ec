"""Shared fixtures: small real review spans and one real pipeline run per session.

The session's pipeline run (2,400 real reviews, a few epochs) is the model that
signature, serving and end-to-end tests share, so the suite trains once.
"""

import os
import pathlib

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SMALL_ROWS = 2400
# A small slice cannot reach the production accuracy floor; tests bless at 0.6.
SMALL_RUN_OVERRIDES = (
    "training.epochs=3",
    "evaluation.accuracy_floor=0.6",
    "evaluation.golden_accuracy_floor=0.6",
    "data.min_rows=100",
)


def small_config(workspace: pathlib.Path, *overrides: str):
    """A configuration for a small, fast, real run in `workspace`."""
    from polarity.config import load_config

    return load_config(overrides=[*SMALL_RUN_OVERRIDES, *overrides], workspace=workspace)


def write_small_spans(config, spans: int = 1, rows: int = SMALL_ROWS, first_span: int = 1, seed: int = 0):
    """Writes `spans` spans of real reviews (rows in all) into the config's data root."""
    from polarity import data

    return data.prepare_spans(
        config.data_root, config.golden_root, spans=spans, limit=rows, seed=seed, first_span=first_span
    )


def small_run_flags() -> list:
    """SMALL_RUN_OVERRIDES as `--set` command-line flags."""
    return [flag for override in SMALL_RUN_OVERRIDES for flag in ("--set", override)]


def run_cli(*argv: str) -> int:
    """Runs the `polarity` command in-process and returns its exit code."""
    from polarity import cli

    return cli.main(list(argv))


@pytest.fixture(scope="session")
def trained_workspace(tmp_path_factory):
    """A workspace where the pipeline ran once on a small real span and pushed a model.

    Returns:
      (config, summary): the configuration used and the run summary from ML Metadata.
    """
    from pipelines.local_runner import run_local
    from polarity import metadata, report

    workspace = tmp_path_factory.mktemp("trained_workspace")
    config = small_config(workspace)
    write_small_spans(config)
    run_local(config)
    summary = report.run_summary(metadata.open_store(config.metadata_path), config.pipeline_name)
    assert summary["pushed"], f"the shared run pushed no model: {summary}"
    return config, summary


@pytest.fixture(scope="session")
def pushed_model_dir(trained_workspace) -> pathlib.Path:
    """The version directory the shared run published for serving."""
    _, summary = trained_workspace
    return pathlib.Path(summary["pushed_model"])
