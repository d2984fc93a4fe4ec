"""The typed configuration: defaults that work, and errors that name the key."""

import dataclasses
import json
import pathlib

import pytest
import yaml

from components.hyperparameters import Hyperparameters
from polarity.config import Config, ConfigError, default_config_yaml, load_config


def test_defaults_derive_every_path_from_the_workspace(tmp_path):
    config = load_config(workspace=tmp_path)
    assert config.data_root == tmp_path / "data"
    assert config.pipeline_root == tmp_path / "pipeline_root"
    assert config.metadata_path == tmp_path / "metadata.sqlite"
    assert config.serving_dir == tmp_path / "serving" / "polarity"


URIS = {
    "serving.serving_dir": "ram://models/serving/polarity",
    "data.root": "gs://reviews-bucket/data",
    "data.golden_root": "s3://reviews/golden",
    "data.schema_file": "gs://reviews-bucket/schema/schema.pbtxt",
}


def test_uris_stay_uris_where_a_path_is_accepted(tmp_path, monkeypatch):
    from pipelines.params import pipeline_kwargs

    monkeypatch.chdir(tmp_path)
    config = load_config(overrides=[f"{key}={uri}/" for key, uri in URIS.items()], workspace=tmp_path / "ws")
    found = {
        "serving.serving_dir": config.serving_dir,
        "data.root": config.data_root,
        "data.golden_root": config.golden_root,
        "data.schema_file": config.schema_file,
    }
    assert found == URIS  # as given, less the trailing slash
    kwargs = pipeline_kwargs(config)
    assert (kwargs["serving_dir"], kwargs["data_root"], kwargs["golden_root"]) == (
        URIS["serving.serving_dir"],
        URIS["data.root"],
        URIS["data.golden_root"],
    )
    assert kwargs["schema_file"] == URIS["data.schema_file"]
    assert not list(tmp_path.iterdir())


def test_uris_in_a_config_file_survive_a_round_trip(tmp_path):
    path = tmp_path / "polarity.yaml"
    path.write_text(f"serving:\n  serving_dir: {URIS['serving.serving_dir']}\n", encoding="utf-8")
    config = load_config(path)
    assert config.serving_dir == URIS["serving.serving_dir"]
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    assert load_config(path) == config


def test_local_path_settings_become_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(overrides=["serving.serving_dir=models/polarity", "data.root=/srv/reviews"])
    assert config.serving_dir == tmp_path / "models" / "polarity"
    assert config.data_root == pathlib.Path("/srv/reviews")


@pytest.mark.parametrize(
    "override, message",
    [
        ("serving.serving_dir=gs:/bucket/serving", r"serving\.serving_dir: .*gs:// URI without"),
        ("data.root=s3:bucket/data", r"data\.root: .*write s3://BUCKET/PATH"),
        ("data.golden_root=gs://", r"data\.golden_root: .*names no bucket or folder"),
        ("workspace=gs://bucket/ws", r"workspace: .*must be a local folder: it holds the ML Metadata"),
    ],
)
def test_a_uri_that_would_become_a_local_folder_is_refused(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def test_trainer_defaults_have_one_source():
    assert Hyperparameters(**Config().training.model_dump()) == Hyperparameters()


def test_every_trainer_hyperparameter_is_configurable():
    trainer_names = {field.name for field in dataclasses.fields(Hyperparameters)}
    assert set(Config().training.model_dump()) == trainer_names


def test_the_training_seed_reaches_the_trainer_and_a_bad_one_is_named():
    config = load_config(overrides=["training.seed=7"])
    assert Hyperparameters.from_config(config.training.model_dump()).seed == 7
    assert Config().training.seed is None  # unseeded unless asked
    with pytest.raises(ConfigError, match=r"training\.seed: .*greater than or equal to 0.*got -1"):
        load_config(overrides=["training.seed=-1"])
    with pytest.raises(ValueError, match=r"training\.seed: 4294967296 is not in"):
        Hyperparameters(seed=2**32)  # a trainer_config given at run time is checked too


def test_yaml_file_and_overrides_apply_in_order(tmp_path):
    path = tmp_path / "polarity.yaml"
    path.write_text("training:\n  epochs: 3\nevaluation:\n  accuracy_floor: 0.7\n", encoding="utf-8")
    config = load_config(path, overrides=["training.epochs=5", "data.train_spans=2"])
    assert config.training.epochs == 5
    assert config.evaluation.floor == 0.7  # read under its name since the dataset contract
    assert config.data.train_spans == 2


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"training\.epoch: unknown key"):
        load_config(overrides=["training.epoch=3"])


def test_wrong_value_is_named_with_what_was_given():
    with pytest.raises(ConfigError, match=r"evaluation\.floor: .*less than or equal to 1.*got 1\.5"):
        load_config(overrides=["evaluation.floor=1.5"])


def test_pipeline_name_must_suit_every_orchestrator():
    with pytest.raises(ConfigError, match="pipeline_name"):
        load_config(overrides=["pipeline_name=My_Pipeline"])


def test_span_pattern_needs_the_span_placeholder():
    with pytest.raises(ConfigError, match=r"data\.span_pattern: .*must contain \{SPAN\}"):
        load_config(overrides=["data.span_pattern=reviews/*.csv"])


def test_missing_or_invalid_config_file_is_explained(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(bad)


def test_malformed_override_is_explained():
    with pytest.raises(ConfigError, match="expected section.key=value"):
        load_config(overrides=["epochs"])


def test_default_yaml_round_trips(tmp_path):
    path = pathlib.Path(tmp_path) / "defaults.yaml"
    path.write_text(default_config_yaml(), encoding="utf-8")
    assert load_config(path) == load_config()


def test_drift_section_feeds_the_gate_checks():
    from components import drift

    config = load_config(overrides=["drift.source_mix.action=halt", "drift.text_length.threshold=0.8"])
    checks = {check.measure: check for check in drift.checks_from_json(json.dumps(config.drift.as_checks()))}
    assert checks["label_balance"] == drift.DriftCheck("label_balance", 0.15, "halt")
    assert checks["slice_mix"] == drift.DriftCheck("slice_mix", 0.30, "halt")  # read under its new name
    assert checks["text_length"] == drift.DriftCheck("text_length", 0.8, "warn")


def test_beam_args_name_only_what_differs_from_beams_defaults():
    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions

    defaults = PipelineOptions([]).view_as(DirectOptions)
    beam = load_config().beam
    assert (beam.direct_num_workers, beam.direct_running_mode) == (
        defaults.direct_num_workers,
        defaults.direct_running_mode,
    )
    assert beam.pipeline_args() == []
    changed = load_config(overrides=["beam.direct_running_mode=multi_processing", "beam.extra_args=[--x=1]"])
    assert changed.beam.pipeline_args() == ["--direct_running_mode=multi_processing", "--x=1"]


@pytest.mark.parametrize("overrides, packaged", [([], False), (["beam.direct_num_workers=2"], True)])
def test_tfx_packages_itself_for_beam_only_when_given_beam_args(tmp_path, monkeypatch, overrides, packaged):
    # A Beam component's executor, built as the local runner builds it: with the
    # default config, TFX must not build (and leave behind) its tfx_ephemeral sdist.
    import tempfile

    from tfx.components.statistics_gen.executor import Executor
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    args = load_config(overrides=overrides).beam.pipeline_args()
    Executor(BaseBeamExecutor.Context(beam_pipeline_args=args, tmp_dir=str(tmp_path / "executor")))
    assert bool(list(tmp_path.glob("*/build/tfx/dist/tfx_ephemeral-*"))) == packaged
