"""The one typed configuration of Polarity, parsed once at the edge (CLI or runner).

A YAML file (all keys optional) and `--set section.key=value` overrides feed
`load_config`; every unknown key or wrong value is rejected with its dotted name.
"""

import datetime
import os
import pathlib
import re
import sys
from typing import Literal

import pydantic
import yaml
from pydantic import Field

from components.contract import ContractError, DatasetContract
from components.hyperparameters import (
    HEAD_STARTS,
    MODEL_FAMILIES,
    WIDE_STARTS,
    EncoderHyperparameters,
    Hyperparameters,
)
from components.text_features import TextFeatures
from serving.model_dir import is_uri

_HPARAMS = Hyperparameters()
# keras-hub (>= 0.30 loads sentence-transformers checkpoints) needs Python >= 3.11: the TFX 1.21 stack.
ENCODER_MIN_PYTHON = (3, 11)
_CONTRACT = DatasetContract()
_TEXT = TextFeatures()
PIPELINE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
# A container image reference: [registry[:port]/]path[:tag][@sha256:digest], lower case.
IMAGE_PATTERN = (
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
# Where Kubeflow steps read and write: an object store URI or an absolute path on a mounted volume.
REMOTE_PATH_PATTERN = r"^(?:(?:gs|s3|minio)://[^/\s]+(?:/\S*)?|/\S*)$"
_CRON_PRESETS = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly")
_CRON_FIELDS = (  # (name, lowest, highest) of the five fields of a cron expression
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 6),
)
_CRON_NAMES = {
    "month": ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
    "day of week": ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"),
}


def _cron_value(text: str, name: str, low: int, high: int) -> int:
    names = _CRON_NAMES.get(name, ())
    if text.upper() in names:
        return names.index(text.upper()) + (1 if name == "month" else 0)
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{name} field: {text!r} is not a number from {low} to {high}")
    return int(text)


def check_cron(expression: str) -> str:
    """Validates a five-field cron expression (minute hour day month weekday) or a preset.

    Returns:
      the expression, stripped.

    Raises:
      ValueError: naming the field that is wrong.
    """
    expression = " ".join(expression.split())
    if expression in _CRON_PRESETS:
        return expression
    fields = expression.split(" ")
    if len(fields) != len(_CRON_FIELDS):
        raise ValueError(
            f"{expression!r} has {len(fields)} fields; write five (minute hour day-of-month month "
            f"day-of-week), e.g. '0 3 * * *' for 03:00 daily, or one of {', '.join(_CRON_PRESETS)}"
        )
    for text, (name, low, high) in zip(fields, _CRON_FIELDS, strict=True):
        for item in text.split(","):
            base, _, step = item.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                raise ValueError(f"{name} field: step {step!r} in {item!r} must be a positive number")
            if base == "*":
                continue
            first, _, last = base.partition("-")
            start = _cron_value(first, name, low, high)
            if last and _cron_value(last, name, low, high) < start:
                raise ValueError(f"{name} field: range {base!r} runs backwards")
    return expression


class ConfigError(ValueError):
    """A configuration file, key or value that cannot be used, with what to do."""


class _Section(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", validate_assignment=True)


# Where a path setting points: a local path (absolute) or a URI, kept as the text it is, whose
# scheme names the file system (gs://bucket/dir, s3://..., any that tf.io.gfile reaches).
Location = pathlib.Path | str
_SCHEME_WITHOUT_SLASHES = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):(?!//)")


def check_location(value):
    """Validates a path setting: a URI as it is (without a trailing /), or a local path.

    Raises:
      ValueError: for a URI that lost a slash ('gs:/bucket'), which would become a local folder.
    """
    if value is None:
        return None
    value = os.fspath(value)
    missing = _SCHEME_WITHOUT_SLASHES.match(value)
    if missing:
        scheme = missing.group(1)
        raise ValueError(
            f"looks like a {scheme}:// URI without its two slashes; write {scheme}://BUCKET/PATH "
            f"(or ./{value} for a local folder of that name)"
        )
    if is_uri(value):
        value = value.rstrip("/")
        if value.endswith(":"):
            raise ValueError("names no bucket or folder after the scheme, e.g. gs://BUCKET/PATH")
    return value


def _resolve(given: str | None, default: pathlib.Path) -> Location:
    """A URI as given; a local path (given, or the default) made absolute."""
    if given is not None and is_uri(given):
        return given
    return pathlib.Path(given or default).absolute()


class DataConfig(_Section):
    """Where review spans are and how they are split."""

    root: str | None = Field(
        None, description="Directory or URI holding span-N/ folders of CSV files; default <workspace>/data."
    )
    golden_root: str | None = Field(
        None, description="Directory or URI holding the golden set's CSV; default <workspace>/golden."
    )
    span_pattern: str = Field(
        "span-{SPAN}/*.csv", description="Input glob under root; {SPAN} is the span number."
    )
    train_spans: int = Field(1, ge=1, description="Train on the last K spans ingested (1 = latest only).")
    train_buckets: int = Field(4, ge=1, description="Hash buckets of each span that go to the train split.")
    eval_buckets: int = Field(1, ge=1, description="Hash buckets of each span that go to the eval split.")
    min_rows: int = Field(200, ge=1, description="A span with fewer rows halts the run.")
    text_column: str = Field(_CONTRACT.text_column, description="CSV column holding the text.")
    label_column: str = Field(_CONTRACT.label_column, description="CSV column holding the class.")
    classes: list[str] = Field(
        list(_CONTRACT.classes),
        min_length=2,
        description="Class names in order; the label column holds a name or its 0-based index.",
    )
    slice_columns: list[str] = Field(
        list(_CONTRACT.slice_columns),
        description="Categorical columns that evaluation and drift are sliced by (any values).",
    )
    schema_file: str | None = Field(
        None,
        description="The span schema (schema.pbtxt); default <workspace>/schema/schema.pbtxt, "
        "written by `polarity schema` (or `polarity data` for the bundled reviews).",
    )

    @pydantic.field_validator("root", "golden_root", "schema_file", mode="before")
    @classmethod
    def _location(cls, value):
        return check_location(value)

    @pydantic.field_validator("span_pattern")
    @classmethod
    def _has_span(cls, value: str) -> str:
        if value.count("{SPAN}") != 1:
            raise ValueError(
                "must contain {SPAN} exactly once (as CsvExampleGen needs), e.g. 'span-{SPAN}/*.csv'"
            )
        return value

    @pydantic.field_validator("classes", mode="before")
    @classmethod
    def _class_names(cls, value):
        """YAML reads `classes: [0, 1]` as numbers; class names are text."""
        return [str(item) for item in value] if isinstance(value, list | tuple) else value

    @pydantic.model_validator(mode="after")
    def _valid_contract(self):
        try:
            self.contract()
        except ContractError as error:
            raise ValueError(str(error)) from None
        return self

    def contract(self) -> DatasetContract:
        """The dataset contract these settings describe."""
        return DatasetContract(
            text_column=self.text_column,
            label_column=self.label_column,
            classes=tuple(self.classes),
            slice_columns=tuple(self.slice_columns),
        )


class TextConfig(_Section):
    """How text becomes features (components/preprocessing.py), the same for every language."""

    word_ngrams: tuple[int, int] = Field(
        _TEXT.word_ngrams, description="Smallest and largest word n-gram, e.g. [1, 2]."
    )
    char_ngrams: tuple[int, int] | None = Field(
        _TEXT.char_ngrams,
        description="Smallest and largest character n-gram inside a word (fastText style); null: none.",
    )
    vocab_size: int = Field(_TEXT.vocab_size, ge=1, description="Most frequent n-grams the model learns.")

    @pydantic.model_validator(mode="after")
    def _ranges(self):
        try:
            self.features()
        except ValueError as error:
            raise ValueError(str(error)) from None
        return self

    def features(self) -> TextFeatures:
        return TextFeatures(
            word_ngrams=tuple(self.word_ngrams),
            char_ngrams=tuple(self.char_ngrams) if self.char_ngrams else None,
            vocab_size=self.vocab_size,
        )


_ENCODER = EncoderHyperparameters()


class EncoderConfig(_Section):
    """Fine-tuning of the pretrained encoder (training.model: encoder; components/encoder_model.py)."""

    sequence_length: int = Field(
        _ENCODER.sequence_length, ge=8, le=512, description="Word pieces per text; longer texts are cut."
    )
    batch_size: int = Field(_ENCODER.batch_size, ge=1, description="Texts per step, over all GPUs.")
    learning_rate: float = Field(_ENCODER.learning_rate, gt=0, lt=1, description="Peak AdamW learning rate.")
    warmup_fraction: float = Field(
        _ENCODER.warmup_fraction, ge=0, lt=1, description="Share of steps warming up; then linear decay to 0."
    )
    weight_decay: float = Field(_ENCODER.weight_decay, ge=0, lt=1)
    epochs: int = Field(_ENCODER.epochs, ge=1)
    early_stopping_patience: int = Field(_ENCODER.early_stopping_patience, ge=0)
    cpu_sample_size: int = Field(
        _ENCODER.cpu_sample_size,
        ge=16,
        description="Without a GPU: training texts fine-tuned on (and at most as many evaluated).",
    )
    head: Literal[HEAD_STARTS] = Field(
        _ENCODER.head,
        description="random | linear_probe: the softmax head fitted on the frozen encoder before "
        "fine-tuning (LP-FT), which keeps more of the pretrained features out of domain.",
    )
    with_ngrams: bool = Field(
        _ENCODER.with_ngrams,
        description="Train the n-gram model too and export both as one model: the n-grams score the "
        "share of each text beyond the encoder's sequence_length; false: the encoder alone.",
    )
    fine_tuned_share: float = Field(
        _ENCODER.fine_tuned_share,
        ge=0,
        le=1,
        description="Below 1: export this share of the fine-tuned weights averaged with the weights "
        "fine-tuning started from (WiSE-FT; needs head: linear_probe); 1: the fine-tuned weights.",
    )
    freeze_token_embeddings: bool = Field(
        _ENCODER.freeze_token_embeddings,
        description="Keep the pretrained word-piece embeddings fixed; the rest of the encoder fine-tunes.",
    )
    frozen_layers: int = Field(
        _ENCODER.frozen_layers,
        ge=0,
        description="Keep the pretrained embeddings and this many lower Transformer layers fixed "
        "(all-MiniLM-L6-v2 has 6); 0: fine-tune them all.",
    )
    layer_decay: float = Field(
        _ENCODER.layer_decay,
        gt=0,
        le=1,
        description="Layer-wise learning-rate decay: the top Transformer layer at this multiple of "
        "the head's rate, each layer below at this multiple of the one above; 1: one rate for all.",
    )
    soup_size: int = Field(
        _ENCODER.soup_size,
        ge=1,
        description="Fine-tunes (each its own head and data order) averaged into the exported "
        "encoder, a uniform model soup; 1: one fine-tune. Training costs that many times as long.",
    )
    ensemble_size: int = Field(
        _ENCODER.ensemble_size,
        ge=1,
        description="Fine-tunes (each its own head and data order) all exported, their class "
        "probabilities combined (renormalised geometric mean), a deep ensemble; 1: one. Training, "
        "serving and explaining the encoder cost that many times as much.",
    )
    weigh_by_read_share: bool = Field(
        _ENCODER.weigh_by_read_share,
        description="Weigh each training text by the share of it the encoder reads, its weight in the "
        "combined model (needs with_ngrams).",
    )
    mask_handles_and_links: bool = Field(
        _ENCODER.mask_handles_and_links,
        description='Replace user handles and links by "@user" and "http" before tokenising, in '
        "training and serving, as TweetEval's models read tweets.",
    )

    @pydantic.model_validator(mode="after")
    def _consistent(self):
        try:
            EncoderHyperparameters.from_config(self.model_dump())
        except ValueError as error:
            raise ValueError(str(error)) from None
        return self


class TrainingConfig(_Section):
    """Trainer hyperparameters (see components/training.py).

    `model` picks the model family: `ngrams` (the CPU default) or `encoder`, a pretrained
    Transformer fine-tuned on a GPU (the TFX 1.21 stack; its settings in `encoder`).
    """

    model: Literal[MODEL_FAMILIES] = Field(_HPARAMS.model, description="ngrams | encoder.")
    epochs: int = Field(_HPARAMS.epochs, ge=1)
    batch_size: int = Field(_HPARAMS.batch_size, ge=1)
    learning_rate: float = Field(_HPARAMS.learning_rate, gt=0)
    embedding_dim: int = Field(_HPARAMS.embedding_dim, ge=1)
    dropout: float = Field(_HPARAMS.dropout, ge=0, lt=1)
    early_stopping_patience: int = Field(_HPARAMS.early_stopping_patience, ge=0)
    ema_momentum: float | None = Field(
        _HPARAMS.ema_momentum,
        gt=0,
        lt=1,
        description="Momentum of the weight average that is validated and exported; null: off.",
    )
    max_train_steps: int | None = Field(
        _HPARAMS.max_train_steps, ge=1, description="Cap on training steps (tests, smoke runs)."
    )
    wide: Literal[WIDE_STARTS] = Field(
        _HPARAMS.wide,
        description="naive_bayes | logistic: how the wide part starts (components/wide_part.py); "
        "logistic (idf-weighted, fitted and kept) measures better on short texts such as tweets.",
    )
    wide_strengths: list[pydantic.PositiveFloat] = Field(
        list(_HPARAMS.wide_strengths),
        min_length=1,
        description="For wide=logistic: the inverse L2 strengths (scikit-learn's C) tried; "
        "the best on the eval split is kept.",
    )
    seed: int | None = Field(
        _HPARAMS.seed,
        ge=0,
        lt=2**32,
        description="Seeds the Trainer: the order the training split is read in (and the "
        "encoder's CPU sample of it), initial weights, dropout; the same data, settings and "
        "seed train the same model on the same CPU. null: a fresh draw each run.",
    )
    encoder: EncoderConfig = Field(default_factory=EncoderConfig)

    @pydantic.model_validator(mode="after")
    def _encoder_needs_its_stack(self):
        if self.model == "encoder" and sys.version_info < ENCODER_MIN_PYTHON:
            raise ValueError(
                "training.model=encoder needs the TFX 1.21 stack (Python 3.12, keras-hub; "
                f"`make STACK=tfx-1.21`); this is Python {sys.version_info.major}.{sys.version_info.minor}, "
                "the TFX 1.16 stack, which has only training.model=ngrams"
            )
        return self


class EvaluationConfig(_Section):
    """When a candidate model is blessed: one metric, a floor, no regression, the golden set."""

    metric: Literal["accuracy", "macro_f1"] = Field(
        "accuracy", description="The metric blessing judges: accuracy or macro_f1 (mean F1 over classes)."
    )
    floor: float = Field(
        0.85,
        ge=0,
        le=1,
        description="Overall value of the metric a model must reach on the span's eval split.",
    )
    max_drop: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Largest drop of the metric allowed against the last blessed model.",
    )
    golden_floor: float = Field(
        0.80,
        ge=0,
        le=1,
        description="Value of the metric a model must reach on the fixed golden set.",
    )


class DriftCheckConfig(_Section):
    """A drift threshold between a span and the previous validated span, and its action."""

    threshold: float = Field(ge=0)
    action: Literal["halt", "warn"]


class DriftConfig(_Section):
    """Span-to-span drift thresholds (components/drift.py says how each is measured)."""

    label_balance: DriftCheckConfig = Field(
        default_factory=lambda: DriftCheckConfig(threshold=0.15, action="halt"),
        description="Largest change of any class's share; a jump means broken labelling upstream.",
    )
    slice_mix: DriftCheckConfig = Field(
        default_factory=lambda: DriftCheckConfig(threshold=0.30, action="warn"),
        description="L-infinity distance of each slice column's value shares; a domain shift warns.",
    )
    text_length: DriftCheckConfig = Field(
        default_factory=lambda: DriftCheckConfig(threshold=0.50, action="warn"),
        description="Relative change of the mean text length in characters.",
    )

    def as_checks(self) -> list[dict]:
        return [
            {"measure": name, "threshold": check.threshold, "action": check.action}
            for name, check in (
                ("label_balance", self.label_balance),
                ("slice_mix", self.slice_mix),
                ("text_length", self.text_length),
            )
        ]


class BeamConfig(_Section):
    """Apache Beam options for the data-heavy components."""

    direct_num_workers: int = Field(1, ge=0, description="DirectRunner workers; 1 is fastest on 2 cores.")
    direct_running_mode: str = Field("in_memory", pattern="^(in_memory|multi_threading|multi_processing)$")
    extra_args: list[str] = Field(
        default_factory=list, description="More Beam pipeline args, passed as they are."
    )

    def pipeline_args(self) -> list[str]:
        """The DirectRunner options that differ from Beam's own defaults, then extra_args.

        The default configuration passes no Beam args at all, on purpose: given any,
        without --extra_package, --setup_file or a container image, every Beam
        component of TFX first builds an sdist of the installed tfx for remote
        workers ("tfx_ephemeral": about 3 s and 49 MB in a temp directory it never
        deletes). The DirectRunner runs in this environment and does not use it.
        """
        differing = [
            f"--{name}={getattr(self, name)}"
            for name, beam_default in _BEAM_DIRECT_DEFAULTS.items()
            if getattr(self, name) != beam_default
        ]
        return [*differing, *self.extra_args]


# apache_beam.options.pipeline_options.DirectOptions' defaults (checked by a test).
_BEAM_DIRECT_DEFAULTS = {"direct_num_workers": 1, "direct_running_mode": "in_memory"}


class ServingConfig(_Section):
    """The model as TF Serving sees it."""

    model_name: str = Field("polarity", pattern=r"^[A-Za-z0-9_.-]+$")
    serving_dir: str | None = Field(
        None,
        description="TF Serving model base path, a directory or URI (gs://...); "
        "default <workspace>/serving/<model_name>.",
    )

    @pydantic.field_validator("serving_dir", mode="before")
    @classmethod
    def _location(cls, value):
        return check_location(value)


class ResourcesConfig(_Section):
    """CPU and memory one Kubeflow step asks for (requests and limits alike)."""

    cpu: float = Field(gt=0, le=96, description="vCPUs, e.g. 0.5 or 4.")
    memory_gb: float = Field(gt=0, le=1024, description="Memory in GB (10^9 bytes), as Kubeflow counts it.")


def _default_resources() -> dict:
    sizes = {
        "CsvExampleGen": (2, 4),
        "StatisticsGen": (2, 4),
        "ImportSchemaGen": (0.5, 1),
        "ExampleValidator": (1, 2),
        "DataGate": (0.5, 1),
        "Transform": (4, 8),
        "Trainer": (4, 16),
        "Evaluator": (2, 8),
        "GoldenExampleGen": (1, 2),
        "GoldenEvaluator": (2, 8),
        "BlessingGate": (0.5, 1),
        "Pusher": (0.5, 2),
    }
    return {name: ResourcesConfig(cpu=cpu, memory_gb=memory) for name, (cpu, memory) in sizes.items()}


class KubeflowConfig(_Section):
    """Kubeflow Pipelines v2: the image, where steps read and write, sizes, and the schedule."""

    image: str | None = Field(
        None,
        description="Image built from the Dockerfile, e.g. us-docker.pkg.dev/proj/repo/polarity:0.1.0.",
    )
    pipeline_root: str | None = Field(
        None,
        description="Where outputs go: a gs://, s3:// or minio:// URI, or a path on a mounted volume.",
    )
    data_root: str | None = Field(
        None,
        description="Span folders as steps see them (a pipeline parameter); default <pipeline_root>/data.",
    )
    golden_root: str | None = Field(
        None, description="The golden set's folder as steps see it; default <pipeline_root>/golden."
    )
    serving_dir: str | None = Field(
        None,
        description="Where the Pusher publishes; default <pipeline_root>/serving/<serving.model_name>.",
    )
    schema_path: str = Field(
        "/pipeline/schemas", pattern=r"^/\S*$", description="Directory of schema.pbtxt inside the image."
    )
    trainer_accelerator_type: str = Field(
        "nvidia.com/gpu",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]*$",
        description="GPU resource the Trainer asks for (Vertex AI: e.g. NVIDIA_TESLA_T4).",
    )
    trainer_accelerator_count: int | None = Field(
        None,
        ge=0,
        le=16,
        description="GPUs for the Trainer; 0 for CPU only; default one for training.model=encoder, "
        "none for ngrams (it has nothing to use a GPU for).",
    )
    resources: dict[str, ResourcesConfig] = Field(
        default_factory=_default_resources,
        description="CPU and memory per component id; keys given replace the defaults one by one.",
    )
    host: str = Field(
        "http://localhost:8080",
        pattern=r"^https?://\S+$",
        description="KFP API endpoint, e.g. a `kubectl port-forward svc/ml-pipeline-ui 8080:80`.",
    )
    namespace: str | None = Field(None, description="Kubeflow profile namespace (multi-user installs).")
    experiment_id: str | None = Field(
        None, description="KFP experiment of the recurring run; default one if unset."
    )
    schedule: str = Field("0 3 * * *", description="Cron (five fields, cluster time) of the recurring run.")
    max_concurrency: int = Field(1, ge=1, le=10, description="Scheduled runs allowed at once.")

    @pydantic.field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @pydantic.field_validator("resources", mode="before")
    @classmethod
    def _over_defaults(cls, value):
        """Given sizes replace the defaults key by key: `resources.Trainer.cpu=8` keeps the rest."""
        if not isinstance(value, dict):
            return value
        merged = {name: size.model_dump() for name, size in _default_resources().items()}
        for name, size in value.items():
            given = size.model_dump() if isinstance(size, ResourcesConfig) else size
            merged[name] = {**merged.get(name, {}), **given} if isinstance(given, dict) else given
        return merged

    @pydantic.field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(IMAGE_PATTERN, value):
            raise ValueError(
                "not a container image reference; write [registry/]path[:tag] in lower case, "
                "e.g. us-docker.pkg.dev/my-project/pipelines/polarity:0.1.0"
            )
        return value

    @pydantic.field_validator("pipeline_root", "data_root", "golden_root", "serving_dir")
    @classmethod
    def _remote_path(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(REMOTE_PATH_PATTERN, value):
            raise ValueError(
                "Kubeflow steps run in containers: give a gs://, s3:// or minio:// URI, "
                "or an absolute path on a volume mounted in every step (e.g. gs://my-bucket/polarity)"
            )
        return value.rstrip("/") if value else value


class AirflowConfig(_Section):
    """The Airflow DAG built from the pipeline (pipelines/airflow_dag.py)."""

    schedule: str | None = Field(
        "0 3 * * *", description="Cron (five fields) or preset; null runs on demand."
    )
    start_date: datetime.date = Field(
        datetime.date(2025, 1, 1), description="First date the DAG may run for."
    )
    catchup: bool = Field(False, description="Run every missed interval since start_date (rarely wanted).")
    retries: int = Field(1, ge=0, le=10, description="Retries of a failed task.")
    retry_delay_minutes: float = Field(5, gt=0, description="Wait before a retry.")

    @pydantic.field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)


class Config(_Section):
    """Everything a run needs; paths not given are derived from the workspace."""

    pipeline_name: str = Field("polarity", pattern=PIPELINE_NAME_PATTERN)
    workspace: pathlib.Path = pathlib.Path("workspace")
    enable_cache: bool = True
    data: DataConfig = Field(default_factory=DataConfig)
    text: TextConfig = Field(default_factory=TextConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    beam: BeamConfig = Field(default_factory=BeamConfig)
    serving: ServingConfig = Field(default_factory=ServingConfig)
    kubeflow: KubeflowConfig = Field(default_factory=KubeflowConfig)
    airflow: AirflowConfig = Field(default_factory=AirflowConfig)

    @pydantic.field_validator("workspace", mode="before")
    @classmethod
    def _local_workspace(cls, value):
        value = check_location(value)
        if value is not None and is_uri(value):
            raise ValueError(
                "must be a local folder: it holds the ML Metadata database (SQLite) and the run lock. "
                "Put data.root, data.golden_root and serving.serving_dir on the object store instead"
            )
        return value

    # Path settings: a local path comes back as an absolute pathlib.Path, a URI as its str.

    @property
    def data_root(self) -> Location:
        return _resolve(self.data.root, self.workspace / "data")

    @property
    def golden_root(self) -> Location:
        return _resolve(self.data.golden_root, self.workspace / "golden")

    @property
    def schema_file(self) -> Location:
        return _resolve(self.data.schema_file, self.workspace / "schema" / "schema.pbtxt")

    @property
    def pipeline_root(self) -> pathlib.Path:
        return (self.workspace / "pipeline_root").absolute()

    @property
    def metadata_path(self) -> pathlib.Path:
        return (self.workspace / "metadata.sqlite").absolute()

    @property
    def serving_dir(self) -> Location:
        return _resolve(self.serving.serving_dir, self.workspace / "serving" / self.serving.model_name)


def _format_errors(error: pydantic.ValidationError, source: str) -> str:
    lines = [f"Invalid configuration ({source}):"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"  {where}: unknown key; check its spelling against `polarity config`")
        elif isinstance(item.get("input"), dict):  # a whole section failed a cross-field check
            lines.append(f"  {where}: {item['msg'].removeprefix('Value error, ')}")
        else:
            lines.append(f"  {where}: {item['msg']} (got {item.get('input')!r})")
    return "\n".join(lines)


def _parse_override(override: str) -> tuple:
    match = re.fullmatch(r"([A-Za-z_][\w.]*)=(.*)", override, flags=re.DOTALL)
    if not match:
        raise ConfigError(f"--set {override!r}: expected section.key=value, e.g. training.epochs=3")
    try:
        value = yaml.safe_load(match.group(2)) if match.group(2) else None
    except yaml.YAMLError:  # e.g. cron's '*/15 * * * *' or '@daily': take the text as it is
        value = match.group(2)
    return match.group(1).split("."), value


def _apply_override(tree: dict, keys: list, value) -> None:
    node = tree
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {'.'.join(keys)}: {key!r} is a value, not a section")
        node = child
    node[keys[-1]] = value


# Keys renamed since earlier releases: (section, old name) -> new name. Old configs keep working.
RENAMED_KEYS = {
    ("evaluation", "accuracy_floor"): "floor",
    ("evaluation", "max_accuracy_drop"): "max_drop",
    ("evaluation", "golden_accuracy_floor"): "golden_floor",
    ("drift", "source_mix"): "slice_mix",
}


def _rename_old_keys(tree: dict) -> dict:
    tree = {key: dict(value) if isinstance(value, dict) else value for key, value in tree.items()}
    for (section, old), new in RENAMED_KEYS.items():
        if isinstance(tree.get(section), dict) and old in tree[section]:
            value, current = tree[section].pop(old), tree[section].get(new)
            # `--set drift.source_mix.threshold=...` names one key: keep the others.
            both_sections = isinstance(value, dict) and isinstance(current, dict)
            tree[section][new] = {**current, **value} if both_sections else value
    return tree


def _merge(base: dict, update: dict) -> dict:
    """`update` laid over `base`, recursing into mappings present in both."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


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
    # Overrides land on the defaults, so that setting one key of a nested
    # section keeps the section's other defaults.
    tree = _merge(Config().model_dump(mode="json", exclude_unset=False), _rename_old_keys(tree))
    for override in overrides:
        _apply_override(tree, *_parse_override(override))
        source += " + --set"
    tree = _rename_old_keys(tree)
    if workspace is not None:
        tree["workspace"] = str(workspace)
    try:
        return Config.model_validate(tree)
    except pydantic.ValidationError as error:
        raise ConfigError(_format_errors(error, source)) from None


def default_config_yaml() -> str:
    """The defaults as a commented YAML document, for `polarity config`."""
    return yaml.safe_dump(Config().model_dump(mode="json"), sort_keys=False)
