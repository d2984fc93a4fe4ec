"""Halts a run before training when a span fails validation.

ExampleValidator records anomalies but lets the pipeline go on; this gate reads
them, the span's statistics and its drift from the previous validated span, and
raises with a plain-words report, so that Transform, Trainer and Pusher never
run on bad data.
"""

from tensorflow_data_validation.utils import anomalies_util
from tfx import v1 as tfx
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components import drift

ANOMALIES_FILE = "SchemaDiff.pb"


class DataValidationError(RuntimeError):
    """A span that must not be trained on; the message says what and where."""


def span_of(artifact) -> int:
    """The span number of a TFX artifact, wherever this TFX version recorded it."""
    if artifact.has_custom_property("span"):
        return artifact.get_int_custom_property("span")
    return artifact.span


def describe_anomalies(anomalies) -> list[str]:
    """One plain sentence per anomaly in a tensorflow_metadata Anomalies proto."""
    lines = []
    for feature, info in sorted(anomalies.anomaly_info.items()):
        reasons = "; ".join(reason.description or reason.short_description for reason in info.reason)
        lines.append(
            f"feature '{feature}': {info.short_description or 'anomaly'} ({reasons or info.description})"
        )
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        reasons = "; ".join(reason.description for reason in info.reason)
        lines.append(f"dataset: {info.short_description} ({reasons or info.description})")
    return lines


def load_split_anomalies(anomalies_artifact, split: str):
    uri = artifact_utils.get_split_uri([anomalies_artifact], split)
    return anomalies_util.load_anomalies_binary(io_utils.get_only_uri_in_dir(uri))


def count_rows(statistics_artifact, split: str) -> int:
    """Number of examples in one split, from StatisticsGen's output."""
    proto = stats_artifact_utils.load_statistics(statistics_artifact, split).proto()
    return sum(dataset.num_examples for dataset in proto.datasets)


def span_problems(anomalies_artifact, statistics_artifact, min_rows: int) -> list[str]:
    """Every reason the span must not be trained on; empty when it is fine."""
    problems = []
    splits = artifact_utils.decode_split_names(anomalies_artifact.split_names)
    total_rows = 0
    for split in splits:
        problems += [
            f"[{split} split] {line}"
            for line in describe_anomalies(load_split_anomalies(anomalies_artifact, split))
        ]
        total_rows += count_rows(statistics_artifact, split)
    if total_rows < min_rows:
        problems.append(f"the span holds {total_rows} rows, fewer than data.min_rows={min_rows}")
    return problems


def load_split_statistics(statistics_artifact) -> list:
    """The DatasetFeatureStatisticsList of every split of a statistics artifact."""
    return [
        stats_artifact_utils.load_statistics(statistics_artifact, split).proto()
        for split in artifact_utils.decode_split_names(statistics_artifact.split_names)
    ]


def drift_report(statistics_artifact, previous_artifact, checks_json: str) -> tuple:
    """(profile of this span, drift findings against the previous validated span)."""
    profile = drift.span_profile(load_split_statistics(statistics_artifact))
    if previous_artifact is None:
        return profile, []
    previous = drift.span_profile(load_split_statistics(previous_artifact))
    return profile, drift.find_drift(previous, profile, drift.checks_from_json(checks_json))


@tfx.dsl.components.component
def DataGate(
    examples: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Examples],
    statistics: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleStatistics],
    anomalies: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleAnomalies],
    validated_statistics: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.ExampleStatistics],
    input_pattern: tfx.dsl.components.Parameter[str],
    min_rows: tfx.dsl.components.Parameter[int],
    drift_checks: tfx.dsl.components.Parameter[str] = "[]",
    previous_statistics: tfx.dsl.components.InputArtifact[
        tfx.types.standard_artifacts.ExampleStatistics
    ] = None,  # optional: none before the first span passes
) -> None:
    """Raises DataValidationError, stopping the run, if the span has an anomaly
    or drifted past a "halt" threshold from the previous validated span.

    A span that passes is published as `validated_statistics` (a copy of its
    statistics with its profile and drift warnings as properties): the next
    run's previous span.
    """
    problems = span_problems(anomalies, statistics, min_rows)
    profile, findings = drift_report(statistics, previous_statistics, drift_checks)
    problems += [finding.describe() for finding in findings if finding.action == drift.HALT]
    span = span_of(examples)
    if problems:
        where = input_pattern.replace("{SPAN}", str(span))
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise DataValidationError(
            f"Span {span} ({where}) failed validation; nothing was trained or pushed:\n{listing}\n"
            "Fix the span's CSV (or the schema in schemas/schema.pbtxt if the data is right) and run again."
        )
    io_utils.copy_dir(statistics.uri, validated_statistics.uri)
    validated_statistics.split_names = statistics.split_names
    validated_statistics.set_int_custom_property("span", span)
    validated_statistics.set_json_value_custom_property("profile", profile)
    validated_statistics.set_json_value_custom_property(
        "drift_warnings", [finding.describe() for finding in findings if finding.action == drift.WARN]
    )
    previous_span = span_of(previous_statistics) if previous_statistics else 0
    validated_statistics.set_int_custom_property("previous_span", previous_span)
