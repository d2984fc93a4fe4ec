"""Contract: the Kubeflow Pipelines v2 spec compiles offline and holds what a cluster needs."""

import json
import sys

import pytest
from tfx import v1 as tfx
from workspace_helpers import run_cli

from components.hyperparameters import Hyperparameters
from polarity.config import ConfigError, load_config

pytest.importorskip("kfp.pipeline_spec", reason="the kubeflow extra is not installed")

IMAGE = "us-docker.pkg.dev/my-project/pipelines/polarity:0.1.0"
ROOT = "gs://polarity-test/root"
KUBEFLOW = (f"kubeflow.image={IMAGE}", f"kubeflow.pipeline_root={ROOT}")
PARAMETERS = {"data_root", "data_range_config", "trainer_config"}


def kubeflow_config(*overrides):
    return load_config(overrides=[*KUBEFLOW, "training.epochs=5", *overrides])


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """(config, PipelineJob dict, .json path, .yaml path) of one compile of each format."""
    from pipelines.kubeflow_runner import compile_kubeflow

    out = tmp_path_factory.mktemp("kfp")
    config = kubeflow_config()
    job = compile_kubeflow(config, out / "pipeline.json")
    compile_kubeflow(config, out / "pipeline.yaml")
    return config, job, out / "pipeline.json", out / "pipeline.yaml"


def _containers(spec):
    return {
        label.removesuffix("_executor"): executor["container"]
        for label, executor in spec["deploymentSpec"]["executors"].items()
        if "container" in executor
    }


def test_spec_holds_every_component_of_the_pipeline(compiled):
    from pipelines.kubeflow_runner import build_kubeflow_pipeline

    config, job, _, _ = compiled
    tasks = set(job["pipelineSpec"]["root"]["dag"]["tasks"])
    components = build_kubeflow_pipeline(config).components
    component_ids = {component.id for component in components}
    resolvers = {component.id for component in components if isinstance(component, tfx.dsl.Resolver)}
    # KFP splits the latest-blessed-model resolver into a model and a blessing query.
    resolver = "latest_blessed_model_resolver"
    assert tasks == (component_ids - {resolver}) | {
        f"{resolver}-model-resolver",
        f"{resolver}-model-blessing-resolver",
    }
    # Resolvers run in the KFP backend, every other component in the image.
    assert set(_containers(job["pipelineSpec"])) == component_ids - resolvers


def test_every_step_runs_the_configured_image_with_its_own_size(compiled):
    config, job, _, _ = compiled
    containers = _containers(job["pipelineSpec"])
    unsized = sorted(set(containers) - set(config.kubeflow.resources))
    assert not unsized, f"no default size for {unsized}: add them to _default_resources in polarity/config.py"
    for component_id, container in containers.items():
        size = config.kubeflow.resources[component_id]
        assert container["image"] == IMAGE, component_id
        assert container["resources"]["cpuLimit"] == size.cpu, component_id
        assert container["resources"]["memoryLimit"] == size.memory_gb, component_id
    # The n-gram model (the default) has nothing to use a GPU for: no step asks for one.
    assert not [cid for cid, container in containers.items() if "accelerator" in container["resources"]]
    # Components are code in the image, referenced by module path: nothing to upload.
    assert "components.pusher.AtomicPusherExecutor" in containers["Pusher"]["args"]


def test_component_code_and_schema_are_paths_inside_the_image(compiled):
    _, job, _, _ = compiled
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]

    def constant(task, name):
        return tasks[task]["inputs"]["parameters"][name]["runtimeValue"]["constant"]

    assert constant("Trainer", "run_fn") == "components.trainer.run_fn"
    assert constant("Transform", "preprocessing_fn") == "components.preprocessing.preprocessing_fn"
    assert constant("ImportSchemaGen", "schema_file") == "/pipeline/schemas/schema.pbtxt"
    assert json.loads(constant("Pusher", "push_destination"))["filesystem"]["base_directory"] == (
        f"{ROOT}/serving/polarity"
    )


def test_per_run_values_are_pipeline_parameters_with_the_configured_defaults(compiled):
    config, job, _, _ = compiled
    spec = job["pipelineSpec"]
    declared = spec["root"]["inputDefinitions"]["parameters"]
    assert set(declared) == PARAMETERS
    assert declared["data_root"]["defaultValue"] == f"{ROOT}/data"
    assert declared["data_range_config"]["defaultValue"] == ""  # the newest span
    trainer_config = json.loads(declared["trainer_config"]["defaultValue"])
    assert Hyperparameters.from_config(trainer_config["hyperparameters"]).epochs == 5
    assert trainer_config["model_name"] == config.serving.model_name
    assert job["runtimeConfig"]["gcsOutputDirectory"] == ROOT
    assert set(job["runtimeConfig"]["parameterValues"]) == PARAMETERS
    tasks = spec["root"]["dag"]["tasks"]
    wired = {
        (task, name): value["componentInputParameter"]
        for task, body in tasks.items()
        for name, value in body.get("inputs", {}).get("parameters", {}).items()
        if "componentInputParameter" in value
    }
    assert wired == {
        ("CsvExampleGen", "input_base"): "data_root",
        ("CsvExampleGen", "range_config"): "data_range_config",
        ("Trainer", "custom_config"): "trainer_config",
    }


def test_both_formats_round_trip_through_the_pipeline_spec_proto(compiled):
    import yaml
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    _, job, json_path, yaml_path = compiled
    from_json = json.loads(json_path.read_text())
    parsed_job = json_format.ParseDict(from_json, pipeline_spec_pb2.PipelineJob())
    assert json_format.MessageToDict(parsed_job) == from_json == job
    from_yaml = yaml.safe_load(yaml_path.read_text())
    parsed_spec = json_format.ParseDict(from_yaml, pipeline_spec_pb2.PipelineSpec())
    assert json_format.MessageToDict(parsed_spec) == from_yaml == job["pipelineSpec"]
    assert yaml_path.read_text().startswith("# PIPELINE DEFINITION\n# Name: polarity\n")


def _gpu_requests(job) -> dict:
    containers = _containers(job["pipelineSpec"])
    return {
        cid: c["resources"]["accelerator"] for cid, c in containers.items() if "accelerator" in c["resources"]
    }


def test_cpu_only_clusters_get_no_gpu_request(tmp_path):
    from pipelines.kubeflow_runner import compile_kubeflow

    job = compile_kubeflow(kubeflow_config("kubeflow.trainer_accelerator_count=0"), tmp_path / "cpu.json")
    assert _gpu_requests(job) == {}


def test_a_configured_gpu_count_goes_to_the_trainer_alone(tmp_path):
    from pipelines.kubeflow_runner import compile_kubeflow

    config = kubeflow_config(
        "kubeflow.trainer_accelerator_count=2", "kubeflow.trainer_accelerator_type=NVIDIA_L4"
    )
    job = compile_kubeflow(config, tmp_path / "gpus.json")
    assert _gpu_requests(job) == {"Trainer": {"type": "NVIDIA_L4", "count": "2"}}


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="training.model=encoder needs the TFX 1.21 stack (Python 3.12)"
)
def test_the_encoder_trainer_asks_for_a_gpu(tmp_path):
    from pipelines.kubeflow_runner import compile_kubeflow

    job = compile_kubeflow(kubeflow_config("training.model=encoder"), tmp_path / "encoder.json")
    assert _gpu_requests(job) == {"Trainer": {"type": "nvidia.com/gpu", "count": "1"}}


def test_the_cli_compiles_and_names_the_parameters(tmp_path, capsys):
    output = tmp_path / "out" / "pipeline.yaml"
    assert (
        run_cli("compile", "kubeflow", "--output", str(output), *(f"--set={item}" for item in KUBEFLOW)) == 0
    )
    assert output.is_file()
    assert "parameters: data_range_config, data_root, trainer_config" in capsys.readouterr().out


@pytest.mark.parametrize(
    "overrides, message",
    [
        ((), "kubeflow.image and kubeflow.pipeline_root must be set"),
        ((f"kubeflow.image={IMAGE}",), "kubeflow.pipeline_root must be set"),
        ((*KUBEFLOW, "pipeline_name=Polarity_v2"), "pipeline_name"),
        ((*KUBEFLOW, "kubeflow.image=My Image:latest"), "kubeflow.image: Value error, not a container image"),
        (
            (*KUBEFLOW, "kubeflow.pipeline_root=relative/root"),
            "kubeflow.pipeline_root: Value error, Kubeflow",
        ),
        (
            (*KUBEFLOW, "kubeflow.golden_root=golden"),
            "kubeflow.golden_root: Value error, Kubeflow",
        ),
        ((*KUBEFLOW, "kubeflow.trainer_accelerator_count=-1"), "kubeflow.trainer_accelerator_count"),
        (
            (*KUBEFLOW, "kubeflow.resources.Trainr={cpu: 2, memory_gb: 4}"),
            "kubeflow.resources: no component Trainr",
        ),
        ((*KUBEFLOW, "kubeflow.resources.Trainer.cpu=0"), "kubeflow.resources.Trainer.cpu"),
        ((*KUBEFLOW, "data.train_spans=3"), "data.train_spans=3"),
    ],
)
def test_bad_values_fail_before_compiling_naming_the_key(tmp_path, capsys, monkeypatch, overrides, message):
    from tfx import v1 as tfx

    def must_not_compile(*args, **kwargs):
        raise AssertionError("compiled a bad configuration")

    monkeypatch.setattr(tfx.orchestration.experimental.KubeflowV2DagRunner, "run", must_not_compile)
    output = tmp_path / "pipeline.json"
    code = run_cli("compile", "kubeflow", "--output", str(output), *(f"--set={item}" for item in overrides))
    assert code == 2
    assert message in capsys.readouterr().err
    assert not output.exists()


def test_an_output_that_is_not_json_or_yaml_is_refused(tmp_path):
    from pipelines.kubeflow_runner import compile_kubeflow

    with pytest.raises(ConfigError, match=r"--output .*pipeline\.txt: name a \.json or \.yaml file"):
        compile_kubeflow(kubeflow_config(), tmp_path / "pipeline.txt")


def test_one_size_can_change_without_losing_the_others(tmp_path):
    from pipelines.kubeflow_runner import compile_kubeflow

    config = kubeflow_config("kubeflow.resources.Trainer.cpu=8")
    job = compile_kubeflow(config, tmp_path / "sized.json")
    containers = _containers(job["pipelineSpec"])
    assert containers["Trainer"]["resources"]["cpuLimit"] == 8
    assert containers["Trainer"]["resources"]["memoryLimit"] == 16  # the default, kept
    assert all("cpuLimit" in container["resources"] for container in containers.values())


def _executor_input(spec: dict, bucket: str, push_destination: str) -> dict:
    """The ExecutorInput a KFP backend hands the Pusher's step, with artifacts under `bucket`."""
    component = spec["components"]["Pusher"]

    def artifact(key: str, definitions: dict, **metadata) -> dict:
        uri = f"{bucket}/{key}/1"
        found = {"uri": uri, "type": definitions["artifacts"][key]["artifactType"], "metadata": metadata}
        return {"artifacts": [found]}

    inputs, outputs = component["inputDefinitions"], component["outputDefinitions"]
    return {
        "inputs": {
            "artifacts": {
                "model": artifact("model", inputs),
                "model_blessing": artifact("model_blessing", inputs, blessed=1),
            },
            "parameterValues": {"push_destination": push_destination, "custom_config": "null"},
        },
        "outputs": {
            "artifacts": {"pushed_model": artifact("pushed_model", outputs)},
            "outputFile": f"{bucket}/Pusher/executor_output.json",
        },
    }


def test_the_pusher_step_publishes_through_gfile_to_its_bucket(compiled, tmp_path, monkeypatch):
    """The compiled Pusher step (entrypoint, executor, arguments) run in this process.

    Its destination is on gs://; ram:// stands in for the bucket, since a test
    reaches no network. tf.io.gfile reaches both the same way.
    """
    import tensorflow as tf
    from saved_model_helpers import SCALE, files_under, load_and_call, ram_location, save_small_model
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor

    from serving import model_dir

    _, job, _, _ = compiled
    spec = job["pipelineSpec"]
    container = spec["deploymentSpec"]["executors"]["Pusher_executor"]["container"]
    assert container["command"] == ["python", "-m", kubeflow_v2_run_executor.__name__]
    constant = spec["root"]["dag"]["tasks"]["Pusher"]["inputs"]["parameters"]["push_destination"]
    destination = constant["runtimeValue"]["constant"]
    serving_dir = json.loads(destination)["filesystem"]["base_directory"]
    assert serving_dir == f"{ROOT}/serving/polarity" and serving_dir.startswith("gs://")
    monkeypatch.chdir(tmp_path)
    with ram_location("bucket") as bucket:
        save_small_model(f"{bucket}/model/1/Format-Serving", work_dir=tmp_path)
        on_ram = destination.replace(ROOT, bucket)
        executor_input = json.dumps(_executor_input(spec, bucket, on_ram))
        args = [executor_input if arg == "{{$}}" else arg for arg in container["args"]]
        kubeflow_v2_run_executor.main(kubeflow_v2_run_executor._parse_flags(args))

        pushed_dir = f"{bucket}/serving/polarity"
        (version,) = model_dir.list_versions(pushed_dir)
        published = model_dir.version_path(pushed_dir, version)
        assert files_under(published) == files_under(f"{bucket}/model/1/Format-Serving")
        assert load_and_call(published) == [SCALE, 2 * SCALE]
        with tf.io.gfile.GFile(f"{bucket}/Pusher/executor_output.json") as output:
            (pushed,) = json.load(output)["artifacts"]["pushed_model"]["artifacts"]
        assert pushed["metadata"]["pushed"] == 1
        assert pushed["metadata"]["pushed_destination"] == published
    assert not [path.name for path in tmp_path.iterdir() if path.name in ("gs:", "ram:")]
