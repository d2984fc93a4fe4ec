"""The text classifier: a bag of n-gram embeddings plus a naive-Bayes-initialised wide linear part."""

import keras
import numpy as np

from components import features
from components.hyperparameters import Hyperparameters


def build_model(
    hparams: Hyperparameters,
    vocab_size: int,
    num_classes: int,
    dtype_policy: str = "float32",
    nb_log_ratios: np.ndarray | None = None,
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
      nb_log_ratios: initial wide weights, [vocab_size, num_classes - 1], e.g. from
        `training.nb_log_count_ratios`; zeros when omitted.

    Returns:
      A compiled Keras model taking `ngram_ids` ([batch, n-grams], ids shifted by
      one and 0 for padding) and returning class probabilities, [batch, num_classes].
    """
    logits = num_classes - 1
    ids = keras.Input(shape=(None,), dtype="int64", name=features.NGRAM_IDS_KEY)
    embedded = keras.layers.Embedding(vocab_size + 1, hparams.embedding_dim, dtype=dtype_policy)(ids)
    present = keras.ops.cast(keras.ops.expand_dims(keras.ops.greater(ids, 0), -1), "float32")
    sqrt_counts = keras.ops.sqrt(keras.ops.maximum(keras.ops.sum(present, axis=1), 1))
    document = keras.ops.sum(embedded * keras.ops.cast(present, embedded.dtype), axis=1)
    document = document / keras.ops.cast(sqrt_counts, embedded.dtype)
    document = keras.layers.Dropout(hparams.dropout, dtype=dtype_policy)(document)
    deep_logits = keras.layers.Dense(logits, dtype="float32")(document)

    wide_init = np.zeros((vocab_size + 1, logits), np.float32)
    if nb_log_ratios is not None:
        wide_init[1:] = nb_log_ratios
    wide_weights = keras.layers.Embedding(
        vocab_size + 1, logits, embeddings_initializer=keras.initializers.Constant(wide_init), dtype="float32"
    )(ids)
    wide_logits = keras.ops.sum(wide_weights * present, axis=1) / sqrt_counts

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
