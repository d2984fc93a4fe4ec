"""The text classifier: a bag of n-gram embeddings plus a wide linear part (components/wide_part.py)."""

import keras
import numpy as np
import tensorflow as tf

from components import features
from components.hyperparameters import Hyperparameters
from components.wide_part import WideStart

# Layer names components/explain.py finds the model's variables by.
DEEP_EMBEDDING = "ngram_embedding"
IDF = "idf"
WIDE = "wide"
LINEAR = "linear"


def once_per_text(row_ids: tf.Tensor, ids: tf.Tensor) -> tf.Tensor:
    """1 / (occurrences of the n-gram in its text) for each occurrence, so that summing over a
    text's occurrences counts each distinct n-gram once (core TF ops only: UniqueWithCounts).

    Args:
      row_ids: the text of each occurrence, int64 (any shape).
      ids: the n-gram id of each occurrence, int64 below 2**32, the same shape.
    """
    _, index, counts = tf.unique_with_counts(tf.reshape(row_ids * 2**32 + ids, [-1]))
    return tf.reshape(1.0 / tf.cast(tf.gather(counts, index), tf.float32), tf.shape(ids))


class _OncePerText(keras.layers.Layer):
    """`once_per_text` of a padded [texts, n-grams] batch of ids, 0 where it pads."""

    def call(self, ids):
        rows = tf.broadcast_to(tf.range(tf.shape(ids, out_type=tf.int64)[0])[:, None], tf.shape(ids))
        return tf.where(ids > 0, once_per_text(rows, ids), 0.0)[..., None]


def build_model(
    hparams: Hyperparameters,
    vocab_size: int,
    num_classes: int,
    dtype_policy: str = "float32",
    wide: WideStart | None = None,
) -> keras.Model:
    """Builds and compiles the classifier, a softmax over `num_classes` classes.

    Each class c > 0 gets a logit, the sum of a deep part (fastText style: n-gram
    embeddings pooled into a document vector, then a linear layer) and a wide part
    (one weight per n-gram, NBSVM style); class 0's logit is fixed at 0 (the
    reference class of a multinomial logistic regression). With two classes this is
    exactly a sigmoid on one logit. Both parts pool with sum over sqrt(count), so
    short texts keep as strong a signal as long ones.

    Args:
      hparams: embedding width, dropout rate on the pooled document vector, Adam
        learning rate and the momentum of its weight average are read from here.
      vocab_size: number of n-gram ids, out-of-vocabulary buckets included.
      num_classes: number of classes, two or more.
      dtype_policy: Keras dtype policy of the hidden layers, e.g. "mixed_float16"
        on a GPU; the output layers always compute in float32.
      wide: the wide part's weights, idf, starting bias and whether it trains
        (`wide_part.wide_start`); zero weights, idf 1 and trainable when omitted.

    Returns:
      A compiled Keras model taking `ngram_ids` ([batch, n-grams], ids shifted by
      one and 0 for padding) and returning class probabilities, [batch, num_classes].
    """
    logits = num_classes - 1
    wide = wide or WideStart(np.zeros((vocab_size, logits), np.float32))
    ids = keras.Input(shape=(None,), dtype="int64", name=features.NGRAM_IDS_KEY)
    embedded = keras.layers.Embedding(
        vocab_size + 1, hparams.embedding_dim, dtype=dtype_policy, name=DEEP_EMBEDDING
    )(ids)
    present = keras.ops.cast(keras.ops.expand_dims(keras.ops.greater(ids, 0), -1), "float32")
    sqrt_counts = keras.ops.sqrt(keras.ops.maximum(keras.ops.sum(present, axis=1), 1))
    document = keras.ops.sum(embedded * keras.ops.cast(present, embedded.dtype), axis=1)
    document = document / keras.ops.cast(sqrt_counts, embedded.dtype)
    document = keras.layers.Dropout(hparams.dropout, dtype=dtype_policy)(document)
    linear = keras.layers.Dense(logits, dtype="float32", name=LINEAR)
    deep_logits = linear(document)
    if wide.bias is not None:
        linear.bias.assign(np.asarray(wide.bias, np.float32).reshape(logits))

    idf = np.ones(vocab_size + 1, np.float32)
    if wide.idf is not None:
        idf[1:] = wide.idf
    ngram_idf = keras.layers.Embedding(
        vocab_size + 1,
        1,
        embeddings_initializer=keras.initializers.Constant(idf[:, None]),
        trainable=False,
        dtype="float32",
        name=IDF,
    )(ids)
    share = _OncePerText(dtype="float32")(ids)
    occurrence = ngram_idf * share
    norm = keras.ops.sqrt(keras.ops.maximum(keras.ops.sum(ngram_idf * occurrence, axis=1), 1))
    wide_init = np.zeros((vocab_size + 1, logits), np.float32)
    wide_init[1:] = wide.weights
    wide_weights = keras.layers.Embedding(
        vocab_size + 1,
        logits,
        embeddings_initializer=keras.initializers.Constant(wide_init),
        trainable=wide.trainable,
        dtype="float32",
        name=WIDE,
    )(ids)
    wide_logits = keras.ops.sum(wide_weights * occurrence, axis=1) / norm

    class_logits = deep_logits + wide_logits
    reference = keras.ops.zeros_like(class_logits[:, :1])
    probabilities = keras.layers.Activation("softmax", dtype="float32")(
        keras.ops.concatenate([reference, class_logits], axis=1)
    )
    model = keras.Model(inputs={features.NGRAM_IDS_KEY: ids}, outputs=probabilities)
    weight_average = (
        {} if hparams.ema_momentum is None else {"use_ema": True, "ema_momentum": hparams.ema_momentum}
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hparams.learning_rate, **weight_average),
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
