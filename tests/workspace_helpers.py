"""Helpers for tests that run the real pipeline: small real spans, a small config, the CLI.

A module of its own, not conftest.py: test files import these by name, and with
several conftest.py files in the tree `from conftest import` finds whichever was
imported first (running tests/serving with tests/operations failed to collect).
"""

import pathlib

SMALL_ROWS = 2400
# A small slice cannot reach the production accuracy floor; tests bless at 0.6.
SMALL_RUN_OVERRIDES = (
    "training.epochs=3",
    "evaluation.floor=0.6",
    "evaluation.golden_floor=0.6",
    "data.min_rows=100",
)


def small_config(workspace: pathlib.Path, *overrides: str):
    """A configuration for a small, fast, real run in `workspace`."""
    from polarity.config import load_config

    return load_config(overrides=[*SMALL_RUN_OVERRIDES, *overrides], workspace=workspace)


def write_small_spans(config, spans: int = 1, rows: int = SMALL_ROWS, first_span: int = 1, seed: int = 0):
    """Writes `spans` spans of real reviews (rows in all) into the config's data root, and
    the bundled reviews' schema to the config's schema file (as `polarity data` does)."""
    from polarity import data, schema

    schema.install_bundled_schema(str(config.schema_file))
    return data.prepare_spans(
        config.data_root, config.golden_root, spans=spans, limit=rows, seed=seed, first_span=first_span
    )


def small_run_flags(*overrides: str) -> list:
    """SMALL_RUN_OVERRIDES, then `overrides`, as `--set` command-line flags."""
    return [flag for override in (*SMALL_RUN_OVERRIDES, *overrides) for flag in ("--set", override)]


def run_cli(*argv: str) -> int:
    """Runs the `polarity` command in-process and returns its exit code."""
    from polarity import cli

    return cli.main(list(argv))
