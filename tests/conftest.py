"""Shared fixtures: small real review spans and one real pipeline run per session.

The session's pipeline run (2,400 real reviews, a few epochs) is the model that
signature, serving and end-to-end tests share, so the suite trains once.
"""

import os
import pathlib

import pytest
from workspace_helpers import small_config, write_small_spans

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_collection_modifyitems(config, items):
    """Files marked `start_first` go first; the rest keep their order.

    `make test` runs whole files on each of a few processes, handed out in this order
    (pytest-xdist's --dist loadfile --no-loadscope-reorder). The files of long pipeline runs
    (Airflow's scheduler: about 10 minutes) then start at once, and the short files fill in
    around them, instead of one starting last and the suite waiting on it alone.
    """
    items.sort(key=lambda item: item.get_closest_marker("start_first") is None)


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
