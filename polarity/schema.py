"""The span schema: inferred from a span with TFDV and fitted to the dataset contract.

`polarity schema` writes it to `data.schema_file`; `polarity data` copies the curated
schema of the bundled reviews there. ImportSchemaGen reads it on every run, and
ExampleValidator holds each span to it.
"""

import glob
import os

from components.contract import DatasetContract

HEADER = "# proto-file: tensorflow_metadata/proto/v0/schema.proto\n# proto-message: Schema\n#\n"


class SchemaError(ValueError):
    """A schema that cannot be made or found, with what to do."""


def bundled_schema_path() -> str:
    """The curated schema of the bundled reviews, shipped in the `schemas` package."""
    from schemas import SCHEMA_FILE, schema_dir

    return str(schema_dir() / SCHEMA_FILE)


def _read(path: str) -> str:
    import tensorflow as tf

    with tf.io.gfile.GFile(path, "r") as handle:
        return handle.read()


def exists(path: str) -> bool:
    """Whether a schema file is at `path`, a local path or a URI (gs://...)."""
    import tensorflow as tf

    return tf.io.gfile.exists(str(path))


def _write(path: str, text: str) -> None:
    """Writes `text` to a local path (write then rename) or a URI (one object), never half-written."""
    import tensorflow as tf

    tf.io.gfile.makedirs(os.path.dirname(path) or ".")
    staging = f"{path}.tmp"
    with tf.io.gfile.GFile(staging, "w") as handle:
        handle.write(text)
    tf.io.gfile.rename(staging, path, overwrite=True)


def install_bundled_schema(schema_file: str) -> str:
    """Copies the bundled reviews' schema to `schema_file` unless one is there; "written" or "kept"."""
    if exists(schema_file):
        return "kept"
    _write(schema_file, _read(bundled_schema_path()))
    return "written"


def _set_presence(feature) -> None:
    feature.presence.min_fraction = 1.0
    feature.presence.min_count = 1


def fit_to_contract(schema, contract: DatasetContract) -> list[str]:
    """Applies the contract to an inferred schema in place; returns what it decided, in words.

    - only the contract's columns are kept (another column in a span is an anomaly);
    - the text column must be present and non-empty in every row;
    - the label column's domain is the classes (names, or indices 0..n-1 for numbers),
      categorical, and absent at serving time;
    - slice columns are categorical with no fixed domain (any value may appear), and
      absent at serving time.
    """
    from tensorflow_metadata.proto.v0 import schema_pb2

    by_name = {feature.name: feature for feature in schema.feature}
    missing = [column for column in contract.columns if column not in by_name]
    if missing:
        raise SchemaError(
            f"the span has no column(s) {missing}; its columns are {sorted(by_name)}. "
            "Set data.text_column, data.label_column and data.slice_columns to the CSV's header names."
        )
    decisions = []
    dropped = sorted(set(by_name) - set(contract.columns))
    kept = [by_name[column] for column in contract.columns]
    del schema.feature[:]
    schema.feature.extend(kept)  # copies: look the features up again below
    by_name = {feature.name: feature for feature in schema.feature}
    del schema.string_domain[:]
    if dropped:
        decisions.append(
            f"left out column(s) {dropped}: not in the contract, so a span holding them is refused"
        )
    schema.ClearField("default_environment")
    schema.default_environment.extend(["TRAINING", "SERVING"])

    text = by_name[contract.text_column]
    if text.type != schema_pb2.BYTES:
        raise SchemaError(f"text column {contract.text_column!r} holds numbers, not text")
    text.ClearField("domain_info")
    _set_presence(text)
    decisions.append(f"text column {contract.text_column!r}: present and non-empty in every row")

    label = by_name[contract.label_column]
    label.ClearField("domain_info")
    _set_presence(label)
    label.not_in_environment.append("SERVING")
    if label.type == schema_pb2.INT:
        label.int_domain.min, label.int_domain.max = 0, contract.num_classes - 1
        label.int_domain.is_categorical = True
        decisions.append(
            f"label column {contract.label_column!r}: class indices 0..{contract.num_classes - 1} "
            f"({', '.join(f'{i}={name}' for i, name in enumerate(contract.classes))})"
        )
    elif label.type == schema_pb2.BYTES:
        label.string_domain.value.extend(contract.label_values())
        decisions.append(
            f"label column {contract.label_column!r}: one of {list(contract.classes)} (or its index)"
        )
    else:
        raise SchemaError(
            f"label column {contract.label_column!r} holds decimals; give class names or indices"
        )

    for column in contract.slice_columns:
        feature = by_name[column]
        feature.ClearField("domain_info")
        feature.ClearField("distribution_constraints")
        feature.not_in_environment.append("SERVING")
        if feature.type == schema_pb2.INT:
            feature.int_domain.is_categorical = True
        decisions.append(f"slice column {column!r}: categorical, any value")
    return decisions


def infer_schema(span_glob: str, contract: DatasetContract):
    """(schema, decisions): TFDV's schema of the CSV files matching `span_glob`, fitted to the contract."""
    import tensorflow_data_validation as tfdv

    files = sorted(glob.glob(span_glob))
    if not files:
        raise SchemaError(f"no CSV file matches {span_glob}; check data.root and data.span_pattern")
    statistics = tfdv.generate_statistics_from_csv(data_location=span_glob)
    schema = tfdv.infer_schema(statistics, infer_feature_shape=True)
    return schema, fit_to_contract(schema, contract)


def write_schema(schema, path: str, source: str) -> None:
    """Writes the schema as text, with the proto-file header ImportSchemaGen's readers expect."""
    from google.protobuf import text_format

    note = f"# Inferred by `polarity schema` from {source}, then fitted to the dataset contract.\n\n"
    _write(path, HEADER + note + text_format.MessageToString(schema))
