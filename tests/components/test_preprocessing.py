"""preprocessing_fn through tft_beam on a handful of rows, with exact expected outputs."""

import tempfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from components import features, preprocessing
from components.contract import DatasetContract
from components.text_features import TextFeatures

CONTRACT = DatasetContract(
    text_column="review", label_column="stars", classes=("bad", "good"), slice_columns=()
)
ROWS = [
    {"review": "Great film.<br /><br />GREAT acting!", "stars": 1},
    {"review": "A dull, dull film", "stars": 0},
    {"review": " ".join(["great"] * 25), "stars": 1},
]


def _analyze(rows, raw_spec, contract=CONTRACT, text_features=TextFeatures(), raw_text=False):
    """(transformed rows, vocabulary) of preprocessing_fn run through tft_beam on `rows`."""
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(raw_spec))
    rows = [{key: [value] for key, value in row.items()} for row in rows]
    config = preprocessing.transform_config(contract, text_features, raw_text=raw_text)
    with tft_beam.Context(temp_dir=tempfile.mkdtemp(), force_tf_compat_v1=False):
        (outputs, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing.preprocessing_fn(inputs, config)
        )
    output_dir = tempfile.mkdtemp()
    _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
    vocabulary = tft.TFTransformOutput(output_dir).vocabulary_by_name(features.VOCAB_NAME)
    return outputs, [token.decode() for token in vocabulary]


@pytest.fixture(scope="module")
def transformed():
    raw_spec = {
        "review": tf.io.FixedLenFeature([1], tf.string),
        "stars": tf.io.FixedLenFeature([1], tf.int64),
    }
    return _analyze(ROWS, raw_spec)


def test_labels_given_as_class_names_or_indices_become_class_ids():
    contract = DatasetContract(classes=("negative", "neutral", "positive"), slice_columns=())
    rows = [{"text": "fine", "label": label} for label in ("neutral", "positive", "0", " negative ", "2")]
    raw_spec = {"text": tf.io.FixedLenFeature([1], tf.string), "label": tf.io.FixedLenFeature([1], tf.string)}
    outputs, _ = _analyze(rows, raw_spec, contract)
    assert [int(row[features.CLASS_ID_KEY]) for row in outputs] == [1, 2, 0, 0, 2]


def test_character_ngrams_join_the_word_ngrams_when_asked():
    raw_spec = {
        "review": tf.io.FixedLenFeature([1], tf.string),
        "stars": tf.io.FixedLenFeature([1], tf.int64),
    }
    rows = [{"review": "кино", "stars": 1}]
    outputs, vocabulary = _analyze(
        rows, raw_spec, text_features=TextFeatures(word_ngrams=(1, 1), char_ngrams=(4, 4))
    )
    assert sorted(vocabulary) == sorted(["кино", "#<кин", "#кино", "#ино>"])
    assert len(outputs[0][features.NGRAM_IDS_KEY]) == 4


def test_vocabulary_is_every_ngram_most_frequent_first(transformed):
    _, vocabulary = transformed
    assert vocabulary[:2] == ["great", "great great"]  # 27 and 24 occurrences
    assert set(vocabulary) == {
        "great", "great great", "film", "dull", ".", "acting", "!", "a",
        "great film", "film .", ". great", "great acting", "acting !",
        "a dull", "dull ,", ", dull", "dull film", ",",
    }  # fmt: skip


def test_transformed_rows_are_the_ngram_ids_length_bucket_and_class_id(transformed):
    outputs, vocabulary = transformed
    decoded = [[vocabulary[i] for i in row[features.NGRAM_IDS_KEY]] for row in outputs]
    assert decoded[0] == [
        "great", "film", ".", "great", "acting", "!",
        "great film", "film .", ". great", "great acting", "acting !",
    ]  # fmt: skip
    assert decoded[1] == ["a", "dull", ",", "dull", "film", "a dull", "dull ,", ", dull", "dull film"]
    assert decoded[2] == ["great"] * 25 + ["great great"] * 24
    # 6 and 5 words fall in [0, 20); 25 words in [20, 100).
    assert [int(row[features.LENGTH_BUCKET_KEY]) for row in outputs] == [0, 0, 1]
    assert [int(row[features.CLASS_ID_KEY]) for row in outputs] == [1, 0, 1]
    assert all(np.asarray(row[features.NGRAM_IDS_KEY]).dtype == np.int64 for row in outputs)


def test_the_raw_text_passes_through_unchanged_only_for_the_encoder_family(transformed):
    from components.encoder_features import ENCODER_TEXT_KEY

    raw_spec = {
        "review": tf.io.FixedLenFeature([1], tf.string),
        "stars": tf.io.FixedLenFeature([1], tf.int64),
    }
    outputs, _ = _analyze(ROWS, raw_spec, raw_text=True)
    assert [row[ENCODER_TEXT_KEY].decode("utf-8") for row in outputs] == [row["review"] for row in ROWS]
    ngram_rows, _ = transformed
    assert all(ENCODER_TEXT_KEY not in row for row in ngram_rows)
