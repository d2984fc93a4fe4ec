"""TF Serving's --model_config_file (a ModelServerConfig text proto), read for `polarity serve`.

The same file configures the tensorflow/serving image (serving/deploy/models.config)
and the embedded server, so both serve the same names, paths, version policy and
version labels (`version_labels { key: "stable" value: 3 }`).
"""

import pathlib

from google.protobuf import text_format

from serving import model_dir
from serving.core import ModelConfig
from serving.versions import VersionPolicy


class ModelConfigError(ValueError):
    """A model config file that cannot be served, with the reason."""


def _policy(config) -> VersionPolicy:
    policy = config.model_version_policy
    which = policy.WhichOneof("policy_choice")
    if which == "all":
        return VersionPolicy("all")
    if which == "specific":
        if not policy.specific.versions:
            raise ModelConfigError(f"model {config.name!r}: specific version policy lists no versions")
        return VersionPolicy("specific", versions=tuple(policy.specific.versions))
    num = policy.latest.num_versions if which == "latest" and policy.latest.num_versions else 1
    return VersionPolicy("latest", num_versions=num)


def _base_path(base_path: str, relative_to: pathlib.Path):
    """A URI as it is; a local path, relative ones against the config file's folder."""
    if model_dir.is_uri(base_path):
        return base_path
    base = pathlib.Path(base_path)
    return base if base.is_absolute() else relative_to / base


def parse_model_config(text: str, relative_to: pathlib.Path, source: str = "model config") -> tuple:
    """ModelConfigs from ModelServerConfig text; relative base paths resolve against relative_to."""
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as error:
        raise ModelConfigError(f"{source} is not a ModelServerConfig text proto: {error}") from None
    models = []
    for model in config.model_config_list.config:
        if not model.name or not model.base_path:
            raise ModelConfigError(f"{source}: every config needs a name and a base_path")
        if model.model_platform not in ("", "tensorflow"):
            raise ModelConfigError(
                f"{source}: model {model.name!r} platform {model.model_platform!r} is not served"
            )
        models.append(
            ModelConfig(
                model.name,
                _base_path(model.base_path, relative_to),
                _policy(model),
                tuple(sorted(model.version_labels.items())),
            )
        )
    if not models:
        raise ModelConfigError(f"{source} lists no models under model_config_list")
    if len({m.name for m in models}) != len(models):
        raise ModelConfigError(f"{source} names a model twice")
    return tuple(models)


def read_model_config(path) -> tuple:
    path = pathlib.Path(path)
    if not path.is_file():
        raise ModelConfigError(f"Model config file {path} does not exist")
    return parse_model_config(path.read_text(encoding="utf-8"), path.parent.absolute(), source=str(path))
