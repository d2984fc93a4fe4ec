"""Contract: the TF Serving deployment files parse and agree with the code and the configuration.

No Docker engine or cluster runs here, so this checks what can be checked offline:
every file parses, and they all name the model, ports and paths the code uses.
"""

import pathlib
import re

import pytest
import yaml
from google.protobuf import text_format

from polarity.config import Config
from serving import client
from serving.metrics import PROMETHEUS_PATH
from serving.model_config import read_model_config

DEPLOY = pathlib.Path(__file__).resolve().parents[2] / "serving" / "deploy"
MODEL = Config().serving.model_name
GRPC_PORT = int(client.DEFAULT_GRPC_TARGET.rsplit(":", 1)[1])
REST_PORT = int(client.DEFAULT_REST_URL.rsplit(":", 1)[1])
MODEL_MOUNT = f"/models/{MODEL}"


def _yaml(relative: str):
    return yaml.safe_load((DEPLOY / relative).read_text(encoding="utf-8"))


def _flags(args: list) -> dict:
    return dict(arg.lstrip("-").split("=", 1) for arg in args)


@pytest.fixture(scope="module")
def deployment():
    return _yaml("kubernetes/deployment.yaml")


@pytest.fixture(scope="module")
def container(deployment):
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_models_config_names_the_model_at_the_mounted_path():
    (model,) = read_model_config(DEPLOY / "models.config")
    assert model.name == MODEL
    assert str(model.base_path) == MODEL_MOUNT
    assert model.policy.kind == "latest" and model.policy.num_versions == 1


def test_kustomization_lists_existing_files():
    kustomization = _yaml("kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (DEPLOY / resource).is_file(), resource
    (config_map,) = kustomization["configMapGenerator"]
    for name in config_map["files"]:
        assert (DEPLOY / name).is_file(), name


def test_deployment_runs_tf_serving_on_the_push_volume(deployment, container):
    assert container["image"].startswith("tensorflow/serving:")
    flags = _flags(container["args"])
    assert int(flags["port"]) == GRPC_PORT and int(flags["rest_api_port"]) == REST_PORT
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"grpc": GRPC_PORT, "rest": REST_PORT}
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert mounts["models"] == MODEL_MOUNT
    assert flags["model_config_file"] == f"{mounts['config']}/models.config"
    assert flags["batching_parameters_file"] == f"{mounts['config']}/batching_parameters.txt"
    volumes = {volume["name"]: volume for volume in deployment["spec"]["template"]["spec"]["volumes"]}
    claim = volumes["models"]["persistentVolumeClaim"]["claimName"]
    assert claim == _yaml("kubernetes/volume.yaml")["metadata"]["name"]
    assert (
        volumes["config"]["configMap"]["name"] == _yaml("kustomization.yaml")["configMapGenerator"][0]["name"]
    )


def test_readiness_probe_asks_the_model_status_url(container):
    probe = container["readinessProbe"]["httpGet"]
    assert probe["path"] == f"/v1/models/{MODEL}"
    assert probe["port"] == "rest"
    requests = container["resources"]["requests"]
    assert requests["cpu"] and requests["memory"]


def test_service_exposes_both_ports(deployment):
    service = _yaml("kubernetes/service.yaml")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {"grpc": GRPC_PORT, "rest": REST_PORT}


def test_compose_file_matches_the_manifests(container):
    service = _yaml("docker-compose.yml")["services"]["tf-serving"]
    assert service["image"] == container["image"]
    assert _flags(service["command"]) == _flags(container["args"])
    published = {int(mapping.rsplit(":", 1)[1]) for mapping in service["ports"]}
    assert published == {GRPC_PORT, REST_PORT}
    assert all(mapping.startswith("127.0.0.1:") for mapping in service["ports"])
    targets = {volume.split(":")[-2] for volume in service["volumes"]}
    assert MODEL_MOUNT in targets and "/config/models.config" in targets
    assert f"/v1/models/{MODEL}" in " ".join(service["healthcheck"]["test"])


def test_monitoring_path_is_the_one_the_server_exports():
    text = (DEPLOY / "monitoring.config").read_text(encoding="utf-8")
    assert re.search(rf'path:\s*"{re.escape(PROMETHEUS_PATH)}"', text)
    assert re.search(r"enable:\s*true", text)


def test_models_config_is_a_model_server_config_proto():
    from tensorflow_serving.config import model_server_config_pb2

    config = text_format.Parse(
        (DEPLOY / "models.config").read_text(encoding="utf-8"), model_server_config_pb2.ModelServerConfig()
    )
    assert [model.name for model in config.model_config_list.config] == [MODEL]
