"""The one typed configuration of Polarity, parsed once at the edge (CLI or runner).

A YAML file (all keys optional) and `--set section.key=value` overrides feed
`load_config`; every unknown key or wrong value is rejected with its dotted name.
"""

import pathlib
import re

import pydantic
import yaml
from pydantic import Field

from components.hyperparameters import Hyperparameters

_HPARAMS = Hyperparameters()
PIPELINE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class ConfigError(ValueError):
    """A configuration file, key or value that cannot be used, with what to do."""


class _Section(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Section):
    """Where review spans are and how they are split."""

    root: pathlib.Path | None = Field(
        None, description="Directory holding span-N/ folders of CSV files; default <workspace>/data."
    )
    span_pattern: str = Field(
        "span-{SPAN}/*.csv", description="Input glob under root; {SPAN} is the span number."
    )
    train_spans: int = Field(1, ge=1, description="Train on the last K spans ingested (1 = latest only).")
    train_buckets: int = Field(4, ge=1, description="Hash buckets of each span that go to the train split.")
    eval_buckets: int = Field(1, ge=1, description="Hash buckets of each span that go to the eval split.")
    min_rows: int = Field(200, ge=1, description="A span with fewer rows halts the run.")

    @pydantic.field_validator("span_pattern")
    @classmethod
    def _has_span(cls, value: str) -> str:
        if "{SPAN}" not in value:
            raise ValueError("must contain {SPAN}, e.g. 'span-{SPAN}/*.csv'")
        return value


class TrainingConfig(_Section):
    """Trainer hyperparameters (see components/training.py)."""

    epochs: int = Field(_HPARAMS.epochs, ge=1)
    batch_size: int = Field(_HPARAMS.batch_size, ge=1)
    learning_rate: float = Field(_HPARAMS.learning_rate, gt=0)
    embedding_dim: int = Field(_HPARAMS.embedding_dim, ge=1)
    dropout: float = Field(_HPARAMS.dropout, ge=0, lt=1)
    early_stopping_patience: int = Field(_HPARAMS.early_stopping_patience, ge=0)
    max_train_steps: int | None = Field(
        _HPARAMS.max_train_steps, ge=1, description="Cap on training steps (tests, smoke runs)."
    )


class EvaluationConfig(_Section):
    """When a candidate model is blessed."""

    accuracy_floor: float = Field(0.85, ge=0, le=1, description="Overall eval accuracy a model must reach.")
    max_accuracy_drop: float = Field(
        0.01, ge=0, le=1, description="Largest accuracy drop allowed against the last blessed model."
    )


class BeamConfig(_Section):
    """Apache Beam options for the data-heavy components."""

    direct_num_workers: int = Field(1, ge=0, description="DirectRunner workers; 1 is fastest on 2 cores.")
    direct_running_mode: str = Field("in_memory", pattern="^(in_memory|multi_threading|multi_processing)$")
    extra_args: list[str] = Field(
        default_factory=list, description="More Beam pipeline args, passed as they are."
    )

    def pipeline_args(self) -> list[str]:
        return [
            f"--direct_num_workers={self.direct_num_workers}",
            f"--direct_running_mode={self.direct_running_mode}",
            *self.extra_args,
        ]


class ServingConfig(_Section):
    """The model as TF Serving sees it."""

    model_name: str = Field("polarity", pattern=r"^[A-Za-z0-9_.-]+$")
    serving_dir: pathlib.Path | None = Field(
        None, description="TF Serving model base path; default <workspace>/serving/<model_name>."
    )


class Config(_Section):
    """Everything a run needs; paths not given are derived from the workspace."""

    pipeline_name: str = Field("polarity", pattern=PIPELINE_NAME_PATTERN)
    workspace: pathlib.Path = pathlib.Path("workspace")
    enable_cache: bool = True
    data: DataConfig = Field(default_factory=DataConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    beam: BeamConfig = Field(default_factory=BeamConfig)
    serving: ServingConfig = Field(default_factory=ServingConfig)

    @property
    def data_root(self) -> pathlib.Path:
        return (self.data.root or self.workspace / "data").absolute()

    @property
    def pipeline_root(self) -> pathlib.Path:
        return (self.workspace / "pipeline_root").absolute()

    @property
    def metadata_path(self) -> pathlib.Path:
        return (self.workspace / "metadata.sqlite").absolute()

    @property
    def serving_dir(self) -> pathlib.Path:
        return (self.serving.serving_dir or self.workspace / "serving" / self.serving.model_name).absolute()


def _format_errors(error: pydantic.ValidationError, source: str) -> str:
    lines = [f"Invalid configuration ({source}):"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"  {where}: unknown key; check its spelling against `polarity config`")
        else:
            lines.append(f"  {where}: {item['msg']} (got {item.get('input')!r})")
    return "\n".join(lines)


def _parse_override(override: str) -> tuple:
    match = re.fullmatch(r"([A-Za-z_][\w.]*)=(.*)", override, flags=re.DOTALL)
    if not match:
        raise ConfigError(f"--set {override!r}: expected section.key=value, e.g. training.epochs=3")
    value = yaml.safe_load(match.group(2)) if match.group(2) else None
    return match.group(1).split("."), value


def _apply_override(tree: dict, keys: list, value) -> None:
    node = tree
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {'.'.join(keys)}: {key!r} is a value, not a section")
        node = child
    node[keys[-1]] = value


def load_config(path: pathlib.Path | None = None, overrides=(), workspace=None) -> Config:
    """Reads the YAML file (if any), applies `--set` overrides and validates.

    Args:
      path: a YAML file with any subset of the keys of `Config`.
      overrides: strings like "training.epochs=3" (values parsed as YAML).
      workspace: the --workspace flag, which beats the file.

    Raises:
      ConfigError: naming the file, key and value that are wrong.
    """
    tree = {}
    source = "defaults"
    if path is not None:
        path = pathlib.Path(path)
        source = str(path)
        if not path.is_file():
            raise ConfigError(f"Config file {path} does not exist; pass an existing YAML file to --config")
        try:
            tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise ConfigError(f"Config file {path} is not valid YAML: {error}") from error
        if not isinstance(tree, dict):
            raise ConfigError(
                f"Config file {path} must hold a mapping of sections, got {type(tree).__name__}"
            )
    for override in overrides:
        _apply_override(tree, *_parse_override(override))
        source += " + --set"
    if workspace is not None:
        tree["workspace"] = str(workspace)
    try:
        return Config.model_validate(tree)
    except pydantic.ValidationError as error:
        raise ConfigError(_format_errors(error, source)) from None


def default_config_yaml() -> str:
    """The defaults as a commented YAML document, for `polarity config`."""
    return yaml.safe_dump(Config().model_dump(mode="json"), sort_keys=False)
