"""Trains the model on transformed examples; no TFX types here but the data accessor."""

import logging
import warnings

import keras
import numpy as np
import tensorflow as tf
from tfx_bsl.public import tfxio

from components import devices, features, sanity_checks, wide_part
from components.hyperparameters import Hyperparameters
from components.model import build_model
from components.signatures import dense_model_inputs

# Examples the sanity checks overfit (components/sanity_checks.py), and the labels they sample.
SANITY_EXAMPLES = 32
SANITY_LABEL_SAMPLE = 512


def seed_training(seed: int | None) -> None:
    """Seeds Python's, NumPy's and TensorFlow's global generators (initial weights, dropout,
    any unseeded shuffle) for `training.seed`; None leaves them as they are."""
    if seed is not None:
        keras.utils.set_random_seed(seed)


def labelled_batches(
    file_pattern, data_accessor, schema, batch_size: int, shuffle: bool, seed: int | None = None
) -> tf.data.Dataset:
    """Transformed examples once through, as (transformed features, class id) batches:
    what each model family's dataset maps to its own inputs. Shuffled, TFX reshuffles on
    each pass; `seed` makes the sequence of orders the same from run to run."""
    return data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size,
            label_key=features.CLASS_ID_KEY,
            num_epochs=1,
            shuffle=shuffle,
            shuffle_seed=seed,
        ),
        schema,
    )


def make_dataset(
    file_pattern, data_accessor, schema, batch_size: int, shuffle: bool, seed: int | None = None
) -> tf.data.Dataset:
    """Reads transformed examples once through, as (dense model inputs, class id) batches."""
    dataset = labelled_batches(file_pattern, data_accessor, schema, batch_size, shuffle, seed)
    return dataset.map(
        lambda batch, label: (dense_model_inputs(batch), tf.reshape(label, [-1])),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).prefetch(tf.data.AUTOTUNE)


def sanity_sample(dataset: tf.data.Dataset, examples: int, label_sample: int):
    """(inputs of the first `examples`, their labels, the labels of about `label_sample` examples)."""
    batches = list(dataset.take(max(1, -(-label_sample // examples))).as_numpy_iterator())
    inputs, labels = batches[0]
    inputs = {name: value[:examples] for name, value in inputs.items()}
    sampled = np.concatenate([batch_labels for _, batch_labels in batches])
    return inputs, labels[:examples], sampled


def check_before_training(
    dataset: tf.data.Dataset, hparams: Hyperparameters, vocab_size: int, num_classes: int
) -> list[str]:
    """The sanity checks on the n-gram model, fresh (no naive-Bayes start), before training it.

    Raises:
      sanity_checks.SanityCheckError: a check failed (the Trainer stops, saying which).
    """
    inputs, labels, sampled = sanity_sample(dataset, SANITY_EXAMPLES, SANITY_LABEL_SAMPLE)
    sanity_checks.check_labels(sampled, num_classes)
    found = sanity_checks.run_sanity_checks(
        lambda: build_model(hparams, vocab_size, num_classes), inputs, labels, num_classes
    )
    for line in found:
        logging.info("Sanity check: %s", line)
    return found


def train_model(
    train_dataset: tf.data.Dataset,
    eval_dataset: tf.data.Dataset,
    hparams: Hyperparameters,
    log_dir: str,
    vocab_size: int,
    num_classes: int,
    plan: devices.DevicePlan | None = None,
) -> keras.Model:
    """Fits a new model with early stopping on the eval split.

    The model's wide part starts as `hparams.wide` says (components/wide_part.py),
    from one extra pass over the training split (and, for a logistic fit, the eval split).

    Args:
      train_dataset: batches from `make_dataset`, one pass per epoch.
      eval_dataset: the eval split, for early stopping and validation metrics.
      hparams: training hyperparameters.
      log_dir: TensorBoard log directory.
      vocab_size: number of n-gram ids, out-of-vocabulary buckets included.
      num_classes: number of classes.
      plan: device plan; found at run time when omitted.

    Returns:
      The trained model, holding the weights of its best eval epoch.
    """
    plan = plan or devices.plan_devices()
    if hparams.max_train_steps:
        train_dataset = train_dataset.take(hparams.max_train_steps)
    train_counts = wide_part.ngram_counts(train_dataset, vocab_size)
    eval_counts = wide_part.ngram_counts(eval_dataset, vocab_size) if hparams.wide == "logistic" else None
    wide = wide_part.wide_start(hparams.wide, train_counts, eval_counts, num_classes, hparams.wide_strengths)
    with devices.make_strategy(plan).scope():
        model = build_model(hparams, vocab_size, num_classes, plan.dtype_policy, wide)
    callbacks = [
        # Validation and early stopping judge the moving average of the weights
        # (the optimizer keeps it when hparams.ema_momentum is set), the weights
        # the best epoch leaves in the model and the exporter saves.
        *([] if hparams.ema_momentum is None else [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)]),
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=hparams.early_stopping_patience, restore_best_weights=True
        ),
        keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch"),
    ]
    epochs = 1 if hparams.max_train_steps else hparams.epochs
    with warnings.catch_warnings():
        # Keras learns the length of a one-pass dataset by running out of it.
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        model.fit(
            train_dataset,
            validation_data=eval_dataset,
            epochs=epochs,
            callbacks=[*callbacks, _EpochLogger()],
            verbose=0,
        )
    return model


class _EpochLogger(keras.callbacks.Callback):
    """Logs each epoch's metrics (to the run log, not the console)."""

    def on_epoch_end(self, epoch, logs=None):
        metrics = ", ".join(f"{name}={value:.4f}" for name, value in sorted((logs or {}).items()))
        logging.info("Epoch %d: %s", epoch + 1, metrics)
