"""The Pusher on a serving directory that is not a local folder (TF's ram:// file system).

ram:// lives in this process, like the LocalDagRunner and Beam's in-memory
DirectRunner, so a whole pipeline run can push there.
"""

import shutil

import pytest
import tensorflow as tf
from google.protobuf import json_format
from saved_model_helpers import SCALE, files_under, load_and_call, ram_location, save_small_model
from tfx import v1 as tfx
from tfx.types import standard_artifacts

from components.pusher import AtomicPusherExecutor
from serving import model_dir


@pytest.fixture
def ram_root(tmp_path, monkeypatch):
    """A fresh ram:// folder, with the working directory in tmp_path to catch a local `ram:` folder."""
    monkeypatch.chdir(tmp_path)
    with ram_location("root") as root:
        yield root
    assert not (tmp_path / "ram:").exists(), "a ram:// path was written as a local folder"


def _push(model_uri: str, serving_dir: str, pushed_uri: str, blessed: bool = True):
    """Runs the executor as TFX does, on real artifacts; returns the PushedModel artifact."""
    model = standard_artifacts.Model()
    model.uri = model_uri
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = f"{pushed_uri}-blessing"
    blessing.set_int_custom_property("blessed", int(blessed))
    pushed = standard_artifacts.PushedModel()
    pushed.uri = pushed_uri
    destination = tfx.proto.PushDestination(
        filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_dir)
    )
    AtomicPusherExecutor().Do(
        {"model": [model], "model_blessing": [blessing]},
        {"pushed_model": [pushed]},
        {"push_destination": json_format.MessageToJson(destination), "custom_config": "null"},
    )
    return pushed


def test_the_executor_publishes_a_blessed_model_on_ram_once(tmp_path, ram_root):
    model_uri = f"{ram_root}/Trainer/model/7"
    save_small_model(f"{model_uri}/Format-Serving", work_dir=tmp_path)
    serving_dir = f"{ram_root}/serving/polarity"
    pushed = _push(model_uri, serving_dir, f"{ram_root}/Pusher/pushed_model/8")
    version = pushed.get_string_custom_property("pushed_version")
    assert pushed.get_int_custom_property("pushed") == 1
    assert pushed.get_string_custom_property("pushed_destination") == f"{serving_dir}/{version}"
    assert model_dir.list_versions(serving_dir) == [int(version)]
    assert files_under(f"{serving_dir}/{version}") == files_under(f"{model_uri}/Format-Serving")
    assert load_and_call(f"{serving_dir}/{version}") == [SCALE, 2 * SCALE]
    assert files_under(pushed.uri) == files_under(f"{model_uri}/Format-Serving"), "the artifact holds it too"
    again = _push(model_uri, serving_dir, f"{ram_root}/Pusher/pushed_model/9")
    assert again.get_string_custom_property("pushed_version") == version, "the same model adds no version"
    assert model_dir.list_versions(serving_dir) == [int(version)]


def test_the_executor_pushes_nothing_for_a_model_not_blessed(tmp_path, ram_root):
    model_uri = str(tmp_path / "model")
    save_small_model(f"{model_uri}/Format-Serving")
    pushed = _push(model_uri, f"{ram_root}/serving", f"{ram_root}/pushed", blessed=False)
    assert pushed.get_int_custom_property("pushed") == 0
    assert not tf.io.gfile.exists(f"{ram_root}/serving")


def test_a_killed_push_on_an_object_store_is_cleaned_up_by_the_next(tmp_path, ram_root):
    model_uri = str(tmp_path / "model")
    save_small_model(f"{model_uri}/Format-Serving")
    serving_dir = f"{ram_root}/serving"
    partial = f"{serving_dir}/100/variables"  # a push killed before saved_model.pb was written
    tf.io.gfile.makedirs(partial)
    tf.io.gfile.copy(f"{model_uri}/Format-Serving/variables/variables.index", f"{partial}/variables.index")
    pushed = _push(model_uri, serving_dir, f"{ram_root}/pushed")
    assert model_dir.list_versions(serving_dir) == [int(pushed.get_string_custom_property("pushed_version"))]


@pytest.fixture
def pipeline_on_ram(tmp_path, monkeypatch, trained_workspace):
    """The shared run's workspace history, run again with its serving directory on ram://.

    Its ML Metadata is copied, so the run reuses what it can from cache; the Pusher,
    whose destination changed, runs in this process and pushes the blessed model.
    """
    from workspace_helpers import small_config

    first, _ = trained_workspace
    monkeypatch.chdir(tmp_path)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copy(first.metadata_path, workspace / first.metadata_path.name)
    with ram_location() as serving:
        config = small_config(
            workspace,
            f"data.root={first.data_root}",
            f"data.golden_root={first.golden_root}",
            f"data.schema_file={first.schema_file}",
            f"serving.serving_dir={serving}/polarity",
        )
        yield config, first
    assert not list(tmp_path.rglob("ram:")), "a ram:// path was written as a local folder"


def test_a_pipeline_run_pushes_a_complete_loadable_version_to_ram(pipeline_on_ram, pushed_model_dir):
    from pipelines.local_runner import run_local
    from polarity import metadata, report

    config, _ = pipeline_on_ram
    assert config.serving_dir.startswith("ram://")
    run_local(config)
    summary = report.run_summary(metadata.open_store(config.metadata_path), config.pipeline_name)
    versions = model_dir.list_versions(config.serving_dir)
    assert [str(version) for version in versions] == [summary["pushed_version"]], summary
    published = model_dir.version_path(config.serving_dir, versions[0])
    assert summary["pushed_model"] == published
    assert files_under(published) == files_under(str(pushed_model_dir)), "the version landed complete"
    loaded = tf.saved_model.load(published)
    assert "serving_default" in loaded.signatures
    assert summary["pushed"]
