"""The bundled reviews' curated schema parses, matches the default dataset contract, and
accepts what `polarity data` writes."""

import tensorflow_data_validation as tfdv

from polarity import data
from schemas import SCHEMA_FILE, schema_dir

CONTRACT = data.BUNDLED_CONTRACT


def load_schema():
    return tfdv.load_schema_text(str(schema_dir() / SCHEMA_FILE))


def test_schema_names_exactly_the_contract_columns():
    schema = load_schema()
    assert {feature.name for feature in schema.feature} == set(CONTRACT.columns)
    assert tuple(tfdv.get_domain(schema, "source").value) == ("imdb", "rotten_tomatoes")
    label_domain = tfdv.get_domain(schema, CONTRACT.label_column)
    assert (label_domain.min, label_domain.max) == (0, CONTRACT.num_classes - 1)
    assert label_domain.is_categorical  # so statistics count each class (drift reads them)


def test_prepared_span_validates_without_anomalies(tmp_path):
    data.prepare_spans(tmp_path / "data", tmp_path / "golden", limit=300)
    stats = tfdv.generate_statistics_from_csv(str(tmp_path / "data" / "span-1" / data.SPAN_FILE))
    anomalies = tfdv.validate_statistics(stats, load_schema())
    assert not anomalies.anomaly_info, anomalies


def test_schema_flags_a_label_outside_0_1_and_an_unknown_source(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "text,label,source\nfine film,1,imdb\nbad film,2,imdb\nok,0,letterboxd\n", encoding="utf-8"
    )
    anomalies = tfdv.validate_statistics(tfdv.generate_statistics_from_csv(str(path)), load_schema())
    assert set(anomalies.anomaly_info) == {"label", "source"}


def _anomalous_features(tmp_path, csv_text):
    path = tmp_path / "span.csv"
    path.write_text(csv_text, encoding="utf-8")
    anomalies = tfdv.validate_statistics(tfdv.generate_statistics_from_csv(str(path)), load_schema())
    return set(anomalies.anomaly_info)


def test_schema_flags_a_missing_column(tmp_path):
    assert _anomalous_features(tmp_path, "text,label\nfine film,1\nbad film,0\n") == {"source"}


def test_schema_flags_an_unexpected_new_column(tmp_path):
    found = _anomalous_features(tmp_path, "text,label,source,rating\nfine film,1,imdb,9\nbad,0,imdb,2\n")
    assert found == {"rating"}
