"""Reads small outputs of a run straight from their files, without loading TensorFlow.

StatisticsGen and ExampleValidator write one binary proto per split
(`Split-<name>/FeatureStats.pb`, `Split-<name>/SchemaDiff.pb`), which
tensorflow_metadata's protos parse alone. Each reader returns None when the files are
not local (an object store needs TensorFlow's file systems); callers then fall back
to TFX's own readers.
"""

import json
import pathlib

from ml_metadata.proto import metadata_store_pb2

from components.anomaly_text import describe_anomalies

STATISTICS_FILE = "FeatureStats.pb"
ANOMALIES_FILE = "SchemaDiff.pb"


def split_names(artifact: metadata_store_pb2.Artifact) -> list[str]:
    """The splits of an artifact, from its `split_names` property (a JSON list)."""
    value = artifact.properties.get("split_names")
    return json.loads(value.string_value) if value is not None and value.string_value else []


def _split_file(artifact: metadata_store_pb2.Artifact, split: str, name: str) -> pathlib.Path | None:
    if "://" in artifact.uri:
        return None
    path = pathlib.Path(artifact.uri) / f"Split-{split}" / name
    return path if path.is_file() else None


def rows_per_split(statistics: metadata_store_pb2.Artifact) -> dict[str, int] | None:
    """{split: examples} of a StatisticsGen output, or None if its files are not local."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    rows = {}
    for split in split_names(statistics):
        path = _split_file(statistics, split, STATISTICS_FILE)
        if path is None:
            return None
        proto = statistics_pb2.DatasetFeatureStatisticsList.FromString(path.read_bytes())
        rows[split] = sum(dataset.num_examples for dataset in proto.datasets)
    return rows


def anomalies(validator_output: metadata_store_pb2.Artifact) -> list[str] | None:
    """ "[split] sentence" per anomaly of an ExampleValidator output, or None if not local."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    lines = []
    for split in split_names(validator_output):
        path = _split_file(validator_output, split, ANOMALIES_FILE)
        if path is None:
            return None
        proto = anomalies_pb2.Anomalies.FromString(path.read_bytes())
        lines += [f"[{split}] {line}" for line in describe_anomalies(proto)]
    return lines
