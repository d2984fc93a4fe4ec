"""preprocessing_fn through tft_beam on a handful of rows, with exact expected outputs."""

import tempfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from components import features, preprocessing

ROWS = [
    {features.TEXT_KEY: "Great film.<br /><br />GREAT acting!", features.LABEL_KEY: 1},
    {features.TEXT_KEY: "A dull, dull film", features.LABEL_KEY: 0},
    {features.TEXT_KEY: " ".join(["great"] * 25), features.LABEL_KEY: 1},
]


def test_normalize_text_lowercases_strips_html_and_splits_punctuation():
    text = tf.constant(["Great film.<br /><br />GREAT acting!", "It's <i>so</i> bad; really?"])
    tokens = preprocessing.tokenize(text).to_list()
    assert tokens == [
        [b"great", b"film", b".", b"great", b"acting", b"!"],
        [b"it's", b"so", b"bad", b";", b"really", b"?"],
    ]


def test_word_ngrams_are_unigrams_then_bigrams():
    ngrams = preprocessing.word_ngrams(tf.ragged.constant([["not", "good", "!"]])).to_list()
    assert ngrams == [[b"not", b"good", b"!", b"not good", b"good !"]]


@pytest.fixture(scope="module")
def transformed():
    raw_spec = {
        features.TEXT_KEY: tf.io.FixedLenFeature([1], tf.string),
        features.LABEL_KEY: tf.io.FixedLenFeature([1], tf.int64),
    }
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(raw_spec))
    rows = [{key: [value] for key, value in row.items()} for row in ROWS]
    with tft_beam.Context(temp_dir=tempfile.mkdtemp(), force_tf_compat_v1=False):
        (outputs, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            preprocessing.preprocessing_fn
        )
    output_dir = tempfile.mkdtemp()
    _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
    vocabulary = tft.TFTransformOutput(output_dir).vocabulary_by_name(features.VOCAB_NAME)
    return outputs, [token.decode() for token in vocabulary]


def test_vocabulary_is_every_ngram_most_frequent_first(transformed):
    _, vocabulary = transformed
    assert vocabulary[:2] == ["great", "great great"]  # 27 and 24 occurrences
    assert set(vocabulary) == {
        "great", "great great", "film", "dull", ".", "acting", "!", "a",
        "great film", "film .", ". great", "great acting", "acting !",
        "a dull", "dull ,", ", dull", "dull film", ",",
    }  # fmt: skip


def test_transformed_rows_are_the_ngram_ids_length_bucket_and_label(transformed):
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
    assert [int(row[features.LABEL_KEY]) for row in outputs] == [1, 0, 1]
    assert all(np.asarray(row[features.NGRAM_IDS_KEY]).dtype == np.int64 for row in outputs)
