"""`polarity schema`: a schema inferred from a span, fitted to the contract, written, and used."""

import pathlib

import pytest
import tensorflow_data_validation as tfdv
from workspace_helpers import run_cli

THREE_CLASSES = "data.classes=[negative, neutral, positive]"


def _span(workspace: pathlib.Path, text: str) -> pathlib.Path:
    path = workspace / "data" / "span-1" / "part.csv"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def _rows(labels) -> str:
    channels = ("web", "app", "mail")
    return "".join(f"text number {i},{label},{channels[i % 3]},{i}\n" for i, label in enumerate(labels))


@pytest.fixture()
def written(tmp_path, capsys):
    """A workspace whose span holds class names, an extra column, and slices by channel."""
    _span(tmp_path, "text,label,channel,ticket\n" + _rows(["negative", "neutral", "positive"] * 20))
    flags = ["--workspace", str(tmp_path), "--set", THREE_CLASSES, "--set", "data.slice_columns=[channel]"]
    assert run_cli("schema", *flags) == 0
    return tmp_path, flags, capsys.readouterr().out


def test_the_schema_holds_the_contract_and_says_what_it_decided(written):
    workspace, _, out = written
    schema = tfdv.load_schema_text(str(workspace / "schema" / "schema.pbtxt"))
    assert [feature.name for feature in schema.feature] == ["text", "label", "channel"]
    assert set(tfdv.get_domain(schema, "label").value) >= {"negative", "neutral", "positive"}
    assert not tfdv.get_feature(schema, "channel").HasField("domain")
    assert "left out column(s) ['ticket']" in out
    assert "label column 'label': one of ['negative', 'neutral', 'positive']" in out


def test_an_existing_schema_is_kept_unless_forced(written, capsys):
    workspace, flags, _ = written
    assert run_cli("schema", *flags) == 2
    assert "pass --force" in capsys.readouterr().err
    assert run_cli("schema", *flags, "--force") == 0


def test_the_schema_flags_a_label_outside_the_classes_by_name(written, tmp_path_factory):
    workspace, _, _ = written
    schema = tfdv.load_schema_text(str(workspace / "schema" / "schema.pbtxt"))
    other = tmp_path_factory.mktemp("other") / "span.csv"
    other.write_text("text,label,channel\nfine,positive,web\nmeh,mixed,web\n", encoding="utf-8")
    anomalies = tfdv.validate_statistics(tfdv.generate_statistics_from_csv(str(other)), schema)
    assert "mixed" in anomalies.anomaly_info["label"].description


def test_integer_labels_become_a_categorical_index_domain(tmp_path):
    _span(tmp_path, "text,label,source\n" + "".join(f"t {i},{i % 3},a\n" for i in range(60)))
    assert run_cli("schema", "--workspace", str(tmp_path), "--set", THREE_CLASSES) == 0
    schema = tfdv.load_schema_text(str(tmp_path / "schema" / "schema.pbtxt"))
    domain = tfdv.get_feature(schema, "label").int_domain
    assert (domain.min, domain.max, domain.is_categorical) == (0, 2, True)


def test_a_contract_column_missing_from_the_span_is_named(tmp_path, capsys):
    _span(tmp_path, "review,label\nfine,1\nbad,0\n")
    assert run_cli("schema", "--workspace", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "no column(s) ['text', 'source']" in err and "data.text_column" in err


def test_a_run_without_a_schema_says_how_to_make_one(tmp_path, capsys):
    _span(tmp_path, "text,label,source\nfine,1,a\n")
    golden = tmp_path / "golden" / "golden.csv"
    golden.parent.mkdir()
    golden.write_text("text,label,source\ngood,1,a\n", encoding="utf-8")
    assert run_cli("run", "--workspace", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "no schema at" in err and "polarity schema" in err
    assert "site-packages" not in err


def test_the_schema_file_may_be_a_uri(tmp_path, capsys):
    import tensorflow as tf

    _span(tmp_path, "text,label,source\n" + "".join(f"t {i},{i % 2},a\n" for i in range(40)))
    target = f"ram://schema-test-{tmp_path.name}/schema.pbtxt"
    assert run_cli("schema", "--workspace", str(tmp_path), "--set", f"data.schema_file={target}") == 0
    assert "feature {" in tf.io.gfile.GFile(target).read()
    assert not (pathlib.Path.cwd() / "ram:").exists()


def test_polarity_data_refuses_to_write_a_bucket_as_a_local_folder(tmp_path, capsys):
    assert run_cli("data", "--workspace", str(tmp_path), "--set", "data.root=gs://bucket/spans") == 2
    assert "gs://bucket/spans" in capsys.readouterr().err
    assert not (pathlib.Path.cwd() / "gs:").exists()


def test_a_zero_padded_span_is_read_as_it_is_spelled(tmp_path, capsys):
    path = tmp_path / "data" / "day=007" / "part.csv"
    path.parent.mkdir(parents=True)
    rows = "".join(f"t {i},{i % 2},a\n" for i in range(40))
    path.write_text("text,label,source\n" + rows, encoding="utf-8")
    flags = ["--workspace", str(tmp_path), "--set", "data.span_pattern=day={SPAN}/*.csv"]
    assert run_cli("schema", *flags) == 0
    out = capsys.readouterr().out
    assert "Schema inferred from span 7" in out
    assert "day=007" in (tmp_path / "schema" / "schema.pbtxt").read_text(encoding="utf-8")
