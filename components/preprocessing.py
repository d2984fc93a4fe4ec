"""TF Transform: tokens, word and character n-grams, their vocabulary, and the class id.

Everything here runs inside the TF graph, so serving applies exactly the same
tokenisation as training (the `transform_features` signature). What the CSV holds and
which n-grams to build arrive in `custom_config` (the dataset contract and the text
features), so they are part of what TFX caches on.
"""

import tensorflow as tf
import tensorflow_transform as tft

from components import encoder_features, features, tokenizer, vocabulary
from components.contract import DatasetContract
from components.text_features import TextFeatures

CONTRACT_KEY = "contract"
TEXT_FEATURES_KEY = "text_features"
# Set for the encoder family, which reads the raw text (components/encoder_features.py).
RAW_TEXT_KEY = "raw_text"


def transform_config(contract: DatasetContract, text_features: TextFeatures, raw_text: bool = False) -> dict:
    """The Transform `custom_config` that `preprocessing_fn` reads. `raw_text` passes the text
    column through as well (the encoder family); off, the n-gram family's config and cache
    key are as they were."""
    config = {CONTRACT_KEY: contract.to_dict(), TEXT_FEATURES_KEY: text_features.to_dict()}
    if raw_text:
        config[RAW_TEXT_KEY] = True
    return config


def _dense_column(value) -> tf.Tensor:
    """A [batch, 1] column (as the schema declares it) as a [batch] vector."""
    if isinstance(value, tf.SparseTensor):
        value = tf.sparse.to_dense(value, default_value="" if value.dtype == tf.string else 0)
    return tf.reshape(value, [-1])


def ngrams(text: tf.Tensor, text_features: TextFeatures) -> tuple[tf.RaggedTensor, tf.RaggedTensor]:
    """(tokens, n-grams) of a batch of texts: word n-grams, then character n-grams if asked."""
    tokens = tokenizer.tokenize(text)
    grams = tokenizer.word_ngrams(tokens, text_features.word_ngrams)
    if text_features.char_ngrams:
        grams = tf.concat([grams, tokenizer.char_ngrams(tokens, text_features.char_ngrams)], axis=1)
    return tokens, grams


def class_ids(label: tf.Tensor, contract: DatasetContract) -> tf.Tensor:
    """The 0-based class index of each label, which the CSV holds as a class name or an index.

    Labels outside the classes map to -1; the schema's label domain stops such a span
    before Transform runs.
    """
    if label.dtype.is_integer:
        return tf.where((label >= 0) & (label < contract.num_classes), tf.cast(label, tf.int64), -1)
    spellings = contract.label_values()
    keys = tf.constant(list(spellings))
    values = tf.constant(list(spellings.values()), tf.int64)
    matches = tf.equal(tf.expand_dims(tf.strings.strip(label), 1), keys)
    return tf.reduce_max(tf.where(matches, values, tf.constant(-1, tf.int64)), axis=1)


def preprocessing_fn(inputs, custom_config):
    """TFX Transform entry point.

    Args:
      inputs: raw features, named by the dataset contract's columns.
      custom_config: `transform_config(...)`: the contract and the text features.

    Returns:
      The n-gram ids of each text (the exact top-k vocabulary of the training split
      by frequency, `components.vocabulary`; out-of-vocabulary n-grams in a shared
      bucket), its length bucket (for evaluation slices) and its class id, when the
      label is present.
    """
    contract = DatasetContract.from_dict(custom_config[CONTRACT_KEY])
    text_features = TextFeatures.from_dict(custom_config[TEXT_FEATURES_KEY])
    text = _dense_column(inputs[contract.text_column])
    tokens, grams = ngrams(text, text_features)
    grams = grams.to_sparse()
    vocabulary_path = vocabulary.top_k_vocabulary(grams.values, text_features.vocab_size, features.VOCAB_NAME)
    token_count = tf.cast(tokens.row_lengths(), tf.float32)
    outputs = {
        features.NGRAM_IDS_KEY: tft.apply_vocabulary(
            grams, vocabulary_path, num_oov_buckets=features.OOV_BUCKETS
        ),
        features.LENGTH_BUCKET_KEY: tf.reshape(
            tft.apply_buckets(
                tf.expand_dims(token_count, -1),
                bucket_boundaries=tf.constant([features.LENGTH_BUCKET_BOUNDARIES], tf.float32),
            ),
            [-1],
        ),
    }
    if custom_config.get(RAW_TEXT_KEY):
        outputs.update(encoder_features.transform_outputs(text))
    if contract.label_column in inputs:
        outputs[features.CLASS_ID_KEY] = class_ids(_dense_column(inputs[contract.label_column]), contract)
    return outputs
