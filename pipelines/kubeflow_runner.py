"""Compiles the pipeline for Kubeflow Pipelines v2 (KubeflowV2DagRunner), offline.

Components are referenced by module path inside the pipeline image (see the
Dockerfile), so compiling uploads nothing. This module only resolves paths,
sizes and the image from the configuration; `create_pipeline` builds the DAG.
"""

import json
import pathlib

from tfx import v1 as tfx

from pipelines.params import pipeline_kwargs
from pipelines.pipeline import create_pipeline
from polarity.config import Config, ConfigError

TRAINER_ID = "Trainer"
_KFP_SPEC_SUFFIXES = (".json", ".yaml", ".yml")


def kubeflow_paths(config: Config) -> dict:
    """Pipeline root, data and golden-set roots and serving directory as the Kubeflow steps see them.

    Raises:
      ConfigError: when a required key is unset, naming it and what to set.
    """
    settings = config.kubeflow
    missing = [key for key in ("image", "pipeline_root") if getattr(settings, key) is None]
    if missing:
        keys = " and ".join(f"kubeflow.{key}" for key in missing)
        raise ConfigError(
            f"{keys} must be set to compile for Kubeflow, e.g. --set kubeflow.image=REGISTRY/polarity:TAG "
            "(built from the Dockerfile and pushed) --set kubeflow.pipeline_root=gs://BUCKET/polarity"
        )
    root = settings.pipeline_root
    return {
        "pipeline_root": root,
        "data_root": settings.data_root or f"{root}/data",
        "golden_root": settings.golden_root or f"{root}/golden",
        "serving_dir": settings.serving_dir or f"{root}/serving/{config.serving.model_name}",
    }


def check_kubeflow_config(config: Config) -> None:
    """Rejects what Kubeflow v2 cannot run, before compiling, with what to change.

    Raises:
      ConfigError: naming the configuration key.
    """
    kubeflow_paths(config)
    if config.data.train_spans != 1:
        raise ConfigError(
            f"data.train_spans={config.data.train_spans}: Kubeflow Pipelines v2 resolves only the latest "
            "artifact or the latest blessed model, not a range of spans; set data.train_spans=1 for Kubeflow"
        )


def trainer_gpus(config: Config) -> int:
    """GPUs the Trainer asks for: as configured, else one for the encoder and none for n-grams."""
    count = config.kubeflow.trainer_accelerator_count
    if count is None:
        return 1 if config.training.model == "encoder" else 0
    return count


def _resource_spec(config: Config, component_id: str):
    from kfp.pipeline_spec import pipeline_spec_pb2

    resource_spec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec
    size = config.kubeflow.resources[component_id]
    spec = resource_spec(
        cpu_limit=size.cpu,
        memory_limit=size.memory_gb,
        cpu_request=size.cpu,
        memory_request=size.memory_gb,
    )
    count = trainer_gpus(config)
    if component_id == TRAINER_ID and count > 0:
        spec.accelerator.type = config.kubeflow.trainer_accelerator_type
        spec.accelerator.count = count
    return spec


def build_kubeflow_pipeline(config: Config) -> tfx.dsl.Pipeline:
    """The pipeline with Kubeflow paths, pipeline parameters and per-component sizes.

    Raises:
      ConfigError: for a missing key, a component id in kubeflow.resources
        that the pipeline lacks, or a setting Kubeflow v2 cannot run.
    """
    check_kubeflow_config(config)
    kwargs = pipeline_kwargs(config, schema_file=f"{config.kubeflow.schema_path}/schema.pbtxt")
    kwargs.update(kubeflow_paths(config))
    # KFP v2 compiles only TFX's own resolver strategies.
    pipeline = create_pipeline(**kwargs, runtime_parameters=True, stock_resolvers_only=True)
    containers = {
        component.id: component
        for component in pipeline.components
        if not isinstance(component, tfx.dsl.Resolver)  # resolvers run in the KFP backend
    }
    unknown = sorted(set(config.kubeflow.resources) - set(containers))
    if unknown:
        raise ConfigError(
            f"kubeflow.resources: no component {', '.join(unknown)} in the pipeline; "
            f"size one of {', '.join(sorted(containers))}"
        )
    for component_id, component in containers.items():
        if component_id in config.kubeflow.resources:
            component.with_platform_config(_resource_spec(config, component_id))
    return pipeline


def pipeline_parameters(pipeline: tfx.dsl.Pipeline) -> dict:
    """Name and default of every pipeline parameter (RuntimeParameter) of the pipeline."""
    return {
        value.name: value.default
        for component in pipeline.components
        for value in component.exec_properties.values()
        if isinstance(value, tfx.dsl.experimental.RuntimeParameter)
    }


def _complete_spec(job: dict, pipeline: tfx.dsl.Pipeline) -> None:
    """Fills in what KubeflowV2DagRunner (TFX 1.16) leaves out of the spec.

    It writes parameter defaults only into the PipelineJob's runtimeConfig,
    which a .yaml PipelineSpec (what KFP uploads) lacks, and drops the
    platform config of file-based ExampleGens.
    """
    from google.protobuf import json_format

    spec = job["pipelineSpec"]
    for name, default in pipeline_parameters(pipeline).items():
        spec["root"]["inputDefinitions"]["parameters"][name].update(defaultValue=default, isOptional=True)
    executors = spec["deploymentSpec"]["executors"]
    for component in pipeline.components:
        container = executors.get(f"{component.id}_executor", {}).get("container")
        if container is not None and "resources" not in container and component.platform_config:
            container["resources"] = json_format.MessageToDict(component.platform_config)


def compile_kubeflow(config: Config, output: pathlib.Path) -> dict:
    """Writes the KFP v2 pipeline for `config` to `output` (.json: PipelineJob, .yaml: PipelineSpec).

    Returns:
      the PipelineJob as a JSON dict (pipelineSpec and runtimeConfig).

    Raises:
      ConfigError: for a bad configuration or output name, before compiling.
    """
    output = pathlib.Path(output)
    if output.suffix not in _KFP_SPEC_SUFFIXES:
        raise ConfigError(f"--output {output}: name a .json or .yaml file (e.g. pipeline.json)")
    if output.is_dir():
        raise ConfigError(f"--output {output} is a directory; name a .json or .yaml file inside it")
    pipeline = build_kubeflow_pipeline(config)
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=config.kubeflow.image,
            use_pipeline_spec_2_1=True,  # typed parameters with defaults, as KFP 2 compiles
        ),
    )
    job = runner.run(pipeline, parameter_values=pipeline_parameters(pipeline), write_out=False)
    _complete_spec(job, pipeline)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix == ".json":
        output.write_text(json.dumps(job, indent=2, sort_keys=True), encoding="utf-8")
    else:
        _write_yaml(job, output)
    return job


def _write_yaml(job: dict, output: pathlib.Path) -> None:
    import yaml

    header = f"# PIPELINE DEFINITION\n# Name: {job['pipelineSpec']['pipelineInfo']['name']}\n"
    output.write_text(header + yaml.safe_dump(job["pipelineSpec"], sort_keys=True), encoding="utf-8")
