"""Halts a run before training when a span fails validation.

ExampleValidator records anomalies but lets the pipeline go on; this gate reads
them, the span's statistics and its drift from the previous validated span, and
raises with a plain-words report, so that Transform, Trainer and Pusher never
run on bad data.
"""

import json
import os

import tensorflow as tf
from tensorflow_data_validation.utils import anomalies_util
from tfx import v1 as tfx
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components import drift
from components.anomaly_text import describe_anomalies
from components.contract import DatasetContract

ANOMALIES_FILE = "SchemaDiff.pb"


class DataValidationError(RuntimeError):
    """A span that must not be trained on; the message says what and where."""


def span_of(artifact) -> int:
    """The span number of a TFX artifact, wherever this TFX version recorded it."""
    if artifact.has_custom_property("span"):
        return artifact.get_int_custom_property("span")
    return artifact.span


def load_split_anomalies(anomalies_artifact, split: str):
    uri = artifact_utils.get_split_uri([anomalies_artifact], split)
    return anomalies_util.load_anomalies_binary(io_utils.get_only_uri_in_dir(uri))


def count_rows(statistics_artifact, split: str) -> int:
    """Number of examples in one split, from StatisticsGen's output."""
    proto = stats_artifact_utils.load_statistics(statistics_artifact, split).proto()
    return sum(dataset.num_examples for dataset in proto.datasets)


def span_problems(anomalies_artifact, split_statistics: list, min_rows: int) -> list[str]:
    """Every reason the span must not be trained on; empty when it is fine.

    Args:
      anomalies_artifact: ExampleValidator's output for the span.
      split_statistics: the span's statistics, one list per split (load_split_statistics).
      min_rows: fewer rows than this is a problem.
    """
    problems = []
    for split in artifact_utils.decode_split_names(anomalies_artifact.split_names):
        problems += [
            f"[{split} split] {line}"
            for line in describe_anomalies(load_split_anomalies(anomalies_artifact, split))
        ]
    total_rows = sum(dataset.num_examples for stats in split_statistics for dataset in stats.datasets)
    if total_rows < min_rows:
        problems.append(f"the span holds {total_rows} rows, fewer than data.min_rows={min_rows}")
    return problems


def load_split_statistics(statistics_artifact) -> list:
    """The DatasetFeatureStatisticsList of every split of a statistics artifact."""
    return [
        stats_artifact_utils.load_statistics(statistics_artifact, split).proto()
        for split in artifact_utils.decode_split_names(statistics_artifact.split_names)
    ]


def read_baseline(path: str) -> dict | None:
    """The profile of the last span that passed the gate, or None before the first."""
    if not path or not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as handle:
        return json.load(handle)


def write_baseline(path: str, span: int, profile: dict) -> None:
    """Replaces the drift baseline (write then rename: never half-written)."""
    tf.io.gfile.makedirs(os.path.dirname(path))
    staging = f"{path}.tmp"
    with tf.io.gfile.GFile(staging, "w") as handle:
        json.dump({"span": span, "profile": profile}, handle)
    tf.io.gfile.rename(staging, path, overwrite=True)


@tfx.dsl.components.component
def DataGate(
    examples: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Examples],
    statistics: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleStatistics],
    anomalies: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleAnomalies],
    validated_statistics: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.ExampleStatistics],
    input_pattern: tfx.dsl.components.Parameter[str],
    min_rows: tfx.dsl.components.Parameter[int],
    contract: tfx.dsl.components.Parameter[str],
    schema_file: tfx.dsl.components.Parameter[str],
    drift_checks: tfx.dsl.components.Parameter[str] = "[]",
    drift_baseline: tfx.dsl.components.Parameter[str] = "",
) -> None:
    """Raises DataValidationError, stopping the run, if the span has an anomaly
    or drifted past a "halt" threshold from the last span that passed.

    The profile of a span that passes becomes the drift baseline (a small JSON
    file at `drift_baseline`, on the pipeline root, so every orchestrator sees
    it), and the span's statistics are published as `validated_statistics`
    with its profile and drift warnings as properties. `contract` is the dataset
    contract as JSON; `schema_file` is named in the message when the span fails.
    """
    split_statistics = load_split_statistics(statistics)
    problems = span_problems(anomalies, split_statistics, min_rows)
    profile = drift.span_profile(split_statistics, DatasetContract.from_json(contract))
    baseline = read_baseline(drift_baseline)
    findings = []
    if baseline is not None:
        findings = drift.find_drift(baseline["profile"], profile, drift.checks_from_json(drift_checks))
    problems += [finding.describe() for finding in findings if finding.action == drift.HALT]
    span = span_of(examples)
    if problems:
        where = input_pattern.replace("{SPAN}", str(span))
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise DataValidationError(
            f"Span {span} ({where}) failed validation; nothing was trained or pushed:\n{listing}\n"
            f"Fix the span's CSV, or if the data is right, the schema {schema_file} "
            "(edit it, or write it anew from this span with `polarity schema`), and run again."
        )
    io_utils.copy_dir(statistics.uri, validated_statistics.uri)
    validated_statistics.split_names = statistics.split_names
    validated_statistics.set_int_custom_property("span", span)
    validated_statistics.set_json_value_custom_property("profile", profile)
    validated_statistics.set_json_value_custom_property(
        "drift_warnings", [finding.describe() for finding in findings if finding.action == drift.WARN]
    )
    validated_statistics.set_int_custom_property("previous_span", baseline["span"] if baseline else 0)
    if drift_baseline:
        write_baseline(drift_baseline, span, profile)
