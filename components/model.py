"""The sentiment model: a bag of word n-gram embeddings, then a linear layer (fastText style)."""

import keras

from components import features
from components.hyperparameters import Hyperparameters


def build_model(
    hparams: Hyperparameters,
    vocab_size: int = features.VOCAB_SIZE + features.OOV_BUCKETS,
    dtype_policy: str = "float32",
) -> keras.Model:
    """Builds and compiles the classifier.

    Args:
      hparams: embedding width, dropout rate on the pooled document vector and
        Adam learning rate are read from here.
      vocab_size: number of n-gram ids, out-of-vocabulary buckets included.
      dtype_policy: Keras dtype policy of the hidden layers, e.g. "mixed_float16"
        on a GPU; the output layer always computes in float32.

    Returns:
      A compiled Keras model taking `ngram_ids` ([batch, n-grams], ids shifted
      by one and 0 for padding) and returning the positive probability, [batch, 1].
    """
    ids = keras.Input(shape=(None,), dtype="int64", name=features.NGRAM_IDS_KEY)
    embedded = keras.layers.Embedding(vocab_size + 1, hparams.embedding_dim, dtype=dtype_policy)(ids)
    present = keras.ops.cast(keras.ops.expand_dims(keras.ops.greater(ids, 0), -1), embedded.dtype)
    counts = keras.ops.maximum(keras.ops.sum(present, axis=1), 1)
    # Sum over sqrt(count): short critic sentences keep as strong a signal as long reviews.
    document = keras.ops.sum(embedded * present, axis=1) / keras.ops.sqrt(counts)
    document = keras.layers.Dropout(hparams.dropout, dtype=dtype_policy)(document)
    probability = keras.layers.Dense(1, activation="sigmoid", dtype="float32")(document)
    model = keras.Model(inputs={features.NGRAM_IDS_KEY: ids}, outputs=probability)
    model.compile(
        optimizer=keras.optimizers.Adam(hparams.learning_rate),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")],
    )
    return model
