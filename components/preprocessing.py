"""TF Transform: text normalisation, word n-grams and their vocabulary.

Everything here runs inside the TF graph, so serving applies exactly the same
normalisation as training (the `transform_features` signature).
"""

import tensorflow as tf
import tensorflow_transform as tft

from components import features, vocabulary

# Markup and punctuation handling, applied in this order.
_HTML_TAG = r"<[^>]*>"
_SPLIT_PUNCTUATION = r"([!?.,;:()\"])"
_NOT_A_TOKEN_CHAR = r"[^a-z0-9'!?.,;:()\" ]"


def normalize_text(text: tf.Tensor) -> tf.Tensor:
    """Lower-cases, drops HTML tags and gives punctuation its own tokens."""
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, _HTML_TAG, " ")
    text = tf.strings.regex_replace(text, _NOT_A_TOKEN_CHAR, " ")
    return tf.strings.regex_replace(text, _SPLIT_PUNCTUATION, r" \1 ")


def tokenize(text: tf.Tensor) -> tf.RaggedTensor:
    """Splits normalised text on whitespace: [batch] -> ragged [batch, words]."""
    return tf.strings.split(normalize_text(text))


def word_ngrams(tokens: tf.RaggedTensor) -> tf.RaggedTensor:
    """All word n-grams in `features.NGRAM_RANGE`, joined by a space."""
    low, high = features.NGRAM_RANGE
    return tf.strings.ngrams(tokens, ngram_width=tuple(range(low, high + 1)), separator=" ")


def _dense_column(value) -> tf.Tensor:
    """A [batch, 1] column (as the schema declares it) as a [batch] vector."""
    if isinstance(value, tf.SparseTensor):
        value = tf.sparse.to_dense(value)
    return tf.reshape(value, [-1])


def preprocessing_fn(inputs):
    """TFX Transform entry point.

    Args:
      inputs: raw features keyed as in `components.features`.

    Returns:
      The transformed features: the review's n-gram ids (the exact top-k
      vocabulary of the training split by frequency, `components.vocabulary`;
      out-of-vocabulary n-grams in a shared bucket), its length bucket (for
      evaluation slices) and the label, when present.
    """
    text = _dense_column(inputs[features.TEXT_KEY])
    tokens = tokenize(text)
    ngrams = word_ngrams(tokens).to_sparse()
    vocabulary_path = vocabulary.top_k_vocabulary(ngrams.values, features.VOCAB_SIZE, features.VOCAB_NAME)
    ngram_ids = tft.apply_vocabulary(ngrams, vocabulary_path, num_oov_buckets=features.OOV_BUCKETS)
    word_count = tf.cast(tokens.row_lengths(), tf.float32)
    outputs = {
        features.NGRAM_IDS_KEY: ngram_ids,
        features.LENGTH_BUCKET_KEY: tf.reshape(
            tft.apply_buckets(
                tf.expand_dims(word_count, -1),
                bucket_boundaries=tf.constant([features.LENGTH_BUCKET_BOUNDARIES], tf.float32),
            ),
            [-1],
        ),
    }
    if features.LABEL_KEY in inputs:
        outputs[features.LABEL_KEY] = _dense_column(inputs[features.LABEL_KEY])
    return outputs
