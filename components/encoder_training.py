"""Fine-tunes the encoder model family on Transform's raw text; no TFX types but the data accessor.

On GPUs: MirroredStrategy over all of them, mixed precision, the whole training split.
On the CPU: the same code on a sample of `cpu_sample_size` texts, so the path runs here
(`sample_for`: one draw per fine-tune, from the front of the shuffled split, kept in memory).
"""

import logging
import math
import os
import warnings

import keras
import numpy as np
import tensorflow as tf

from components import (
    devices,
    encoder_ensemble,
    encoder_model,
    linear_probe,
    sanity_checks,
    training,
    weight_averaging,
)
from components.encoder_features import ENCODER_TEXT_KEY
from components.encoder_model import PADDING_MASK_KEY
from components.hyperparameters import EncoderHyperparameters

# The sanity checks: a dozen short texts, a constant learning rate (no warm-up), few steps.
SANITY_EXAMPLES = 16
SANITY_LABEL_SAMPLE = 512
SANITY_SEQUENCE_LENGTH = 64
SANITY_LEARNING_RATE = 1e-4
SANITY_LIMITS = sanity_checks.SanityLimits(overfit_steps=40)
# Training batches are padded to the first of these a batch's texts fit (`length_bucketed`).
PADDED_LENGTHS = (16, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def check_before_training(
    texts: tf.data.Dataset, hparams: EncoderHyperparameters, num_classes: int, weights: str | None = None
) -> list[str]:
    """The sanity checks on a fresh encoder model, on the CPU or the first device, in seconds.

    Raises:
      sanity_checks.SanityCheckError: a check failed (the Trainer stops, saying which).
    """
    weights = weights or encoder_model.weights_dir()
    batches = list(texts.take(max(1, -(-SANITY_LABEL_SAMPLE // hparams.batch_size))).as_numpy_iterator())
    sampled = np.concatenate([labels for _, labels in batches])
    sanity_checks.check_labels(sampled, num_classes)
    text, labels = batches[0]
    preprocessor = encoder_model.build_preprocessor(
        weights, min(hparams.sequence_length, SANITY_SEQUENCE_LENGTH), hparams.mask_handles_and_links
    )
    inputs = preprocessor(tf.constant(text[:SANITY_EXAMPLES]))

    def fresh_model():
        model = encoder_model.build_encoder_model(weights, num_classes)
        return encoder_model.compile_model(model, SANITY_LEARNING_RATE, hparams.weight_decay)

    found = sanity_checks.run_sanity_checks(
        fresh_model, inputs, labels[:SANITY_EXAMPLES], num_classes, SANITY_LIMITS
    )
    for line in found:
        logging.info("Sanity check: %s", line)
    return found


def make_text_dataset(
    file_pattern, data_accessor, schema, batch_size: int, shuffle: bool, seed: int | None = None
) -> tf.data.Dataset:
    """Transformed examples once through, as (raw text [batch], class id [batch]) batches
    (shuffled with `seed` as `training.labelled_batches` says).

    Raises:
      ValueError: Transform's output holds no raw text (a transform graph from before
        components/preprocessing.py passed it through): re-run Transform.
    """
    if ENCODER_TEXT_KEY not in {feature.name for feature in schema.feature}:
        raise ValueError(
            f"training.model=encoder: the transformed examples have no {ENCODER_TEXT_KEY!r} feature "
            "(the raw text components/encoder_features.py passes through Transform); this transform "
            "graph predates it: run the pipeline again so that Transform re-runs"
        )
    dataset = training.labelled_batches(file_pattern, data_accessor, schema, batch_size, shuffle, seed)
    return dataset.map(
        lambda batch, label: (_dense_text(batch[ENCODER_TEXT_KEY]), tf.reshape(label, [-1])),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def _dense_text(text) -> tf.Tensor:
    if isinstance(text, tf.SparseTensor):
        text = tf.sparse.to_dense(text, default_value="")
    return tf.reshape(text, [-1])


def sample_for(
    plan: devices.DevicePlan,
    dataset: tf.data.Dataset,
    batch_size: int,
    sample_size: int,
    reshuffle: bool = False,
) -> tf.data.Dataset:
    """On GPUs the whole dataset; on the CPU one draw of its first `sample_size` texts (rounded
    up to a batch), read into memory when called: every pass over the result, whole or cut
    short, reads the same texts, so the step count (`count_batches`) is that of the passes
    trained; with `reshuffle`, in a new order each pass (each epoch).

    The Trainer's training dataset is shuffled by TFX (a 10,000-record buffer, reshuffled on
    every pass), so each call (each fine-tune of a soup or an ensemble) draws its own sample,
    mostly from the first 10,000 + `sample_size` records read: a random sample of a shuffled
    split, not of a sorted one. The eval split is not shuffled. On GPUs every pass reads the
    whole split, so the count holds there too.
    """
    if plan.on_gpu:
        return dataset
    size = math.ceil(sample_size / batch_size) * batch_size
    drawn = dataset.take(size // batch_size).unbatch().batch(size).get_single_element()
    sample = tf.data.Dataset.from_tensor_slices(drawn)
    if reshuffle:
        sample = sample.shuffle(size, reshuffle_each_iteration=True)
    return sample.batch(batch_size)


def tokenized(dataset: tf.data.Dataset, preprocessor, weigh_by_read_share: bool = False) -> tf.data.Dataset:
    """(text, label) batches -> (encoder inputs, label) batches, tokenised in tf.data; with
    `weigh_by_read_share`, (encoder inputs, label, the share of each text the encoder reads)."""

    def encoded(text, label):
        if weigh_by_read_share:
            return preprocessor(text), label, 1.0 - encoder_model.unread_share(preprocessor, text)
        return preprocessor(text), label

    return dataset.map(encoded, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def bucket_lengths(sequence_length: int) -> tuple[int, ...]:
    """The lengths a batch is padded to: `PADDED_LENGTHS` below `sequence_length`, then it."""
    return (*(length for length in PADDED_LENGTHS if length < sequence_length), sequence_length)


def length_bucketed(
    dataset: tf.data.Dataset,
    preprocessor,
    batch_size: int,
    sequence_length: int,
    weigh_by_read_share: bool = False,
) -> tf.data.Dataset:
    """(text, label) batches -> (encoder inputs, label) batches of texts of about one length.

    Each text is tokenised and cut to `sequence_length` by `tokenized`, then batched
    with texts of its bucket and padded only to the bucket's length (`bucket_lengths`), not
    to `sequence_length`. The padding is masked (attention and mean pooling), so each text's
    output is the same; a 20-piece review then costs about what 32 pieces cost instead of
    128 or 256. A few shapes only, so Keras traces (or XLA compiles) a few train steps.

    With `weigh_by_read_share`, each batch also holds each text's loss weight: the share of
    its word pieces the encoder reads (1 - `encoder_model.unread_share`), the weight the
    combined model gives the encoder's score of that text (components/combined_export.py).
    """
    lengths = bucket_lengths(sequence_length)

    def cut(inputs, *rest):
        length = tf.reduce_sum(tf.cast(inputs[PADDING_MASK_KEY], tf.int32))
        return ({key: value[:length] for key, value in inputs.items()}, *rest)

    return (
        tokenized(dataset, preprocessor, weigh_by_read_share)
        .unbatch()
        .map(cut, num_parallel_calls=tf.data.AUTOTUNE)
        .bucket_by_sequence_length(
            lambda inputs, *rest: tf.shape(inputs[PADDING_MASK_KEY])[0],
            bucket_boundaries=[length + 1 for length in lengths],
            bucket_batch_sizes=[batch_size] * (len(lengths) + 1),
            pad_to_bucket_boundary=True,
        )
        .prefetch(tf.data.AUTOTUNE)
    )


def count_batches(dataset: tf.data.Dataset) -> int:
    """Batches in one pass (the learning-rate schedule needs the number of steps)."""
    return int(dataset.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1).numpy())


def train_encoder(
    train_texts: tf.data.Dataset,
    eval_texts: tf.data.Dataset,
    hparams: EncoderHyperparameters,
    num_classes: int,
    log_dir: str,
    plan: devices.DevicePlan | None = None,
    weights: str | None = None,
    max_train_steps: int | None = None,
    averaging: weight_averaging.WeightAveraging | None = None,
) -> tuple[keras.Model, object]:
    """Fine-tunes the encoder with a warm-up and linear decay, early stopping on the eval loss;
    with `hparams.head` "linear_probe", after fitting the head on the frozen encoder (LP-FT);
    with `hparams.fine_tuned_share` below 1, averaged with its start at the end (WiSE-FT).

    Args:
      train_texts: (text, class id) batches from `make_text_dataset`, one pass per epoch.
      eval_texts: the eval split, for early stopping and validation metrics.
      hparams: the encoder's settings (`training.encoder`).
      num_classes: number of classes.
      log_dir: TensorBoard log directory.
      plan: device plan; found at run time when omitted.
      weights: checkpoint directory; the weights package's when omitted.
      max_train_steps: cap on steps per epoch (tests, smoke runs).
      averaging: the weight averaging to apply (it also keeps the starting weights, for
        benchmarks/weight_averaging_probe.py); `hparams.fine_tuned_share`'s when omitted.

    Returns:
      (the model holding the weights of its best eval epoch, averaged with its start when
      asked, and its text preprocessor).
    """
    plan = plan or devices.plan_devices()
    weights = weights or encoder_model.weights_dir()
    train_texts = sample_for(plan, train_texts, hparams.batch_size, hparams.cpu_sample_size, reshuffle=True)
    eval_texts = sample_for(plan, eval_texts, hparams.batch_size, hparams.cpu_sample_size)
    preprocessor = encoder_model.build_preprocessor(
        weights, hparams.sequence_length, hparams.mask_handles_and_links
    )
    train_batches, eval_batches = (
        length_bucketed(
            texts, preprocessor, hparams.batch_size, hparams.sequence_length, hparams.weigh_by_read_share
        )
        for texts in (train_texts, eval_texts)
    )
    if max_train_steps:
        train_batches = train_batches.take(max_train_steps)
    steps_per_epoch = count_batches(train_batches)
    logging.info(
        "Fine-tuning the encoder on %s (%s): %d steps per epoch of %d texts, sequence length %d",
        plan.devices,
        plan.dtype_policy,
        steps_per_epoch,
        hparams.batch_size,
        hparams.sequence_length,
    )
    schedule = encoder_model.learning_rate_schedule(
        hparams.learning_rate, steps_per_epoch * hparams.epochs, hparams.warmup_fraction
    )
    with devices.make_strategy(plan).scope():
        model = encoder_model.build_encoder_model(weights, num_classes, plan.dtype_policy)
        if hparams.freeze_token_embeddings:
            encoder_model.freeze_token_embeddings(model)
        encoder_model.freeze_lower_layers(model, hparams.frozen_layers)
        if hparams.head == "linear_probe":
            unweighted = train_batches.map(lambda inputs, label, *_: (inputs, label))
            linear_probe.fit_head(model, unweighted, num_classes)
        encoder_model.compile_model(
            model, schedule, hparams.weight_decay, plan.dtype_policy, hparams.layer_decay
        )
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=hparams.early_stopping_patience, restore_best_weights=True
        ),
        keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch"),
        _EpochLogger(),
        # Last: it averages the weights EarlyStopping restored.
        averaging or weight_averaging.WeightAveraging(hparams.fine_tuned_share),
    ]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        # The checkpoint's pooler (a dense layer over [CLS]) is unused: mean pooling replaces it.
        warnings.filterwarnings("ignore", message="Gradients do not exist for variables")
        model.fit(
            train_batches,
            validation_data=eval_batches,
            epochs=hparams.epochs,
            callbacks=callbacks,
            verbose=0,
        )
    return model, preprocessor


def train_soup(
    train_texts: tf.data.Dataset,
    eval_texts: tf.data.Dataset,
    hparams: EncoderHyperparameters,
    num_classes: int,
    log_dir: str,
    **options,
) -> tuple[keras.Model, object]:
    """`hparams.soup_size` fine-tunes by `train_encoder` (each its own head and shuffled data
    order; TensorBoard logs under log_dir/fine-tune-N), their weights averaged into the last
    model (a uniform model soup, components/weight_averaging.py). One fine-tune: it as it is.

    Returns:
      (the model holding the soup's weights, its text preprocessor).
    """
    runs = []
    for run_dir in _run_dirs(log_dir, hparams.soup_size, "fine-tune", "Model soup: fine-tune"):
        model, preprocessor = train_encoder(train_texts, eval_texts, hparams, num_classes, run_dir, **options)
        runs.append(model.get_weights())
    if len(runs) > 1:
        model.set_weights(weight_averaging.uniform_soup(runs))
    return model, preprocessor


def train_ensemble(
    train_texts: tf.data.Dataset,
    eval_texts: tf.data.Dataset,
    hparams: EncoderHyperparameters,
    num_classes: int,
    log_dir: str,
    **options,
) -> tuple[keras.Model, object]:
    """`hparams.ensemble_size` models by `train_soup` (each its own heads and data orders;
    TensorBoard logs under log_dir/member-N), exported together as a deep ensemble
    (components/encoder_ensemble.py). One member: it as it is.

    Returns:
      (the ensemble, or the one model; its text preprocessor).
    """
    trained = []
    for member_dir in _run_dirs(log_dir, hparams.ensemble_size, "member", "Ensemble: member"):
        model, preprocessor = train_soup(train_texts, eval_texts, hparams, num_classes, member_dir, **options)
        trained.append(model)
    return (encoder_ensemble.EncoderEnsemble(trained) if len(trained) > 1 else trained[0]), preprocessor


def _run_dirs(log_dir: str, count: int, prefix: str, label: str):
    """The TensorBoard directory of each of `count` runs: log_dir for one run, else
    log_dir/<prefix>-N, each logged ("<label> N of count") as it starts."""
    for run in range(1, count + 1):
        if count > 1:
            logging.info("%s %d of %d", label, run, count)
        yield log_dir if count == 1 else os.path.join(log_dir, f"{prefix}-{run}")


class _EpochLogger(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        metrics = ", ".join(f"{name}={value:.4f}" for name, value in sorted((logs or {}).items()))
        logging.info("Encoder epoch %d: %s", epoch + 1, metrics)
