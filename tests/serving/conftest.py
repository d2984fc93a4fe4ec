"""Serving fixtures: a base path holding the shared run's pushed model, and a live server on it."""

import pathlib

import pytest
from saved_model_helpers import load_exported_model
from serving_helpers import Http, publish_version, running_server, server_options


@pytest.fixture(scope="session")
def model_version_dir(pushed_model_dir) -> pathlib.Path:
    """The real SavedModel version directory the shared pipeline run pushed."""
    return pushed_model_dir


@pytest.fixture(scope="session")
def contract(trained_workspace):
    """The dataset contract the shared run trained with: its text column and class names."""
    config, _ = trained_workspace
    return config.data.contract()


@pytest.fixture(scope="session")
def in_process_model(model_version_dir):
    """The same SavedModel loaded in-process, to check the server's answers against."""
    return load_exported_model(model_version_dir)


@pytest.fixture(scope="module")
def base_path(tmp_path_factory, model_version_dir) -> pathlib.Path:
    """A model base path holding the pushed model as version 1."""
    base = tmp_path_factory.mktemp("models") / "polarity"
    publish_version(model_version_dir, base, 1)
    return base


@pytest.fixture(scope="module")
def server(base_path):
    """A live server on version 1 with server-side batching (20 ms window)."""
    from serving.batching import BatchingParameters

    batching = BatchingParameters(max_batch_size=32, batch_timeout_micros=20_000)
    with running_server(server_options(base_path, batching=batching)) as running:
        yield running


@pytest.fixture()
def http(server) -> Http:
    return Http(server.url)
