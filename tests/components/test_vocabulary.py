"""components.vocabulary: the same file as tft.vocabulary's exact top k, through tft_beam."""

import tempfile

import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from components import vocabulary

# Counts: great 6, film 4, dull 4, bad 3, a 3, the 3, ok 1; ties go to the later token.
ROWS = ["great film great", "dull film dull bad", "great great a the", "bad the a ok", "great film dull"]
ROWS += ["great film dull bad a the"]


def _vocabularies(top_k: int, rows=ROWS) -> tuple[list, list]:
    """(ours, tft.vocabulary's) for the rows' space-separated words, analyzed in batches of two rows."""

    def preprocessing_fn(inputs):
        words = tf.strings.split(tf.reshape(inputs["text"], [-1]), sep=" ").to_sparse()
        ours = vocabulary.top_k_vocabulary(words.values, top_k, "ours")
        reference = tft.vocabulary(words, top_k=top_k, vocab_filename="reference")
        return {
            "ours": tft.apply_vocabulary(words, ours, num_oov_buckets=1),
            "reference": tft.apply_vocabulary(words, reference, num_oov_buckets=1),
        }

    spec = {"text": tf.io.FixedLenFeature([1], tf.string)}
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    rows = [{"text": [text]} for text in rows]
    with tft_beam.Context(temp_dir=tempfile.mkdtemp(), desired_batch_size=2, force_tf_compat_v1=False):
        _, transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(preprocessing_fn)
    output_dir = tempfile.mkdtemp()
    _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
    output = tft.TFTransformOutput(output_dir)
    return tuple([t.decode() for t in output.vocabulary_by_name(name)] for name in ("ours", "reference"))


def test_top_k_matches_tft_vocabulary_with_its_tie_order():
    ours, reference = _vocabularies(top_k=4)
    assert ours == reference == ["great", "film", "dull", "the"]


def test_top_k_beyond_the_distinct_tokens_keeps_them_all():
    ours, reference = _vocabularies(top_k=100)
    assert ours == reference == ["great", "film", "dull", "the", "bad", "a", "ok"]


def test_tokens_a_text_file_cannot_hold_are_left_out_as_tft_does():
    # "  " splits into an empty token; a line break inside a token would shift the ids after it.
    rows = ["good  line\nbreak good", "car\riage good"]
    ours, reference = _vocabularies(top_k=10, rows=rows)
    assert ours == reference == ["good"]


def test_an_empty_vocabulary_holds_tfts_placeholder():
    ours, reference = _vocabularies(top_k=10, rows=["a\nb", "c\rd"])
    assert ours == reference and len(ours) == 1
