"""Training: how the wide part starts (naive-Bayes ratios or a logistic fit), and what the trainer returns."""

import numpy as np
import pytest
import tensorflow as tf

from components import features, training, wide_part
from components.hyperparameters import Hyperparameters
from components.model import DEEP_EMBEDDING, WIDE, build_model
from components.wide_part import WideStart


def test_nb_log_count_ratios_count_each_ngram_once_per_review():
    ids = np.array([[1, 2, 2, 0], [2, 3, 0, 0]])  # shifted ids, 0 pads
    dataset = tf.data.Dataset.from_tensors(({features.NGRAM_IDS_KEY: ids}, np.array([1, 0])))
    ratios = wide_part.nb_log_count_ratios(*wide_part.ngram_counts(dataset, vocab_size=3), num_classes=2)
    # Smoothed once-per-review counts: positive (2, 2, 1) / 5, negative (1, 2, 2) / 5.
    assert ratios[:, 0] == pytest.approx([np.log(2), 0, -np.log(2)])


def test_nb_log_count_ratios_of_three_classes_are_against_the_first():
    ids = np.array([[1, 0], [2, 0], [3, 0]])
    dataset = tf.data.Dataset.from_tensors(({features.NGRAM_IDS_KEY: ids}, np.array([0, 1, 2])))
    ratios = wide_part.nb_log_count_ratios(*wide_part.ngram_counts(dataset, vocab_size=3), num_classes=3)
    # Smoothed counts per class: (2, 1, 1), (1, 2, 1), (1, 1, 2), each over 4.
    assert ratios.shape == (3, 2)
    assert ratios[:, 0] == pytest.approx([-np.log(2), np.log(2), 0])
    assert ratios[:, 1] == pytest.approx([-np.log(2), 0, np.log(2)])


def test_two_classes_are_a_sigmoid_on_one_logit_started_from_the_nb_ratios():
    # The deep part starts near zero, so the wide part sets the first predictions.
    model = build_model(
        Hyperparameters(embedding_dim=4),
        vocab_size=3,
        num_classes=2,
        wide=WideStart(np.array([[4.0], [0], [-4.0]])),
    )
    scores = model.predict({features.NGRAM_IDS_KEY: np.array([[1, 0], [3, 0]])}, verbose=0)
    assert scores.shape == (2, 2)
    assert scores[:, 1] == pytest.approx(1 / (1 + np.exp([-4.0, 4.0])), abs=0.02)
    assert scores.sum(axis=1) == pytest.approx([1, 1])


def test_three_classes_score_as_a_softmax_with_the_first_as_reference():
    ratios = np.array([[3.0, 0.0], [0.0, 3.0], [-3.0, -3.0]])
    model = build_model(Hyperparameters(embedding_dim=4), vocab_size=3, num_classes=3, wide=WideStart(ratios))
    scores = model.predict({features.NGRAM_IDS_KEY: np.array([[1], [2], [3]])}, verbose=0)
    assert scores.argmax(axis=1).tolist() == [1, 2, 0]


def _toy_dataset(rows: int, seed: int) -> tf.data.Dataset:
    """Reviews of 6 n-gram ids (1..40); ids 1..20 lean positive, 21..40 negative."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, rows)
    ids = np.where(labels[:, None] == 1, rng.integers(1, 21, (rows, 6)), rng.integers(21, 41, (rows, 6)))
    noise = rng.random((rows, 6)) < 0.3
    ids = np.where(noise, rng.integers(1, 41, (rows, 6)), ids)
    inputs = {features.NGRAM_IDS_KEY: ids}
    return tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(16)


@pytest.mark.parametrize("ema_momentum", [0.9, None])
def test_the_model_returned_is_the_one_validated_at_its_best_epoch(tmp_path, monkeypatch, ema_momentum):
    # With a weight average, validation must judge the average and the average must be
    # what is returned (and exported); otherwise the best epoch's weights.
    hparams = Hyperparameters(epochs=3, embedding_dim=4, early_stopping_patience=3, ema_momentum=ema_momentum)
    model = training.train_model(
        _toy_dataset(320, 0), _toy_dataset(160, 1), hparams, str(tmp_path), vocab_size=40, num_classes=2
    )
    best_val_loss = min(model.history.history["val_loss"])
    loss = model.evaluate(_toy_dataset(160, 1), verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(best_val_loss, rel=1e-4)


@pytest.mark.parametrize("ema_momentum, moved", [(0.9999, False), (None, True)])
def test_a_slow_weight_average_keeps_the_returned_model_near_its_start(
    tmp_path, monkeypatch, ema_momentum, moved
):
    # An average with momentum 0.9999 moves 1% of the way in 100 steps: the model
    # returned must be that average, not the raw trained weights.
    built = []

    def recording_build_model(*args, **kwargs):
        built.append(build_model(*args, **kwargs))
        built.append([w.copy() for w in built[0].get_weights()])
        return built[0]

    monkeypatch.setattr(training, "build_model", recording_build_model)
    hparams = Hyperparameters(epochs=2, embedding_dim=4, early_stopping_patience=2, ema_momentum=ema_momentum)
    model = training.train_model(
        _toy_dataset(800, 0), _toy_dataset(160, 1), hparams, str(tmp_path), vocab_size=40, num_classes=2
    )
    pairs = zip(model.get_weights(), built[1], strict=True)
    largest_move = max(np.abs(now - start).max() for now, start in pairs)
    assert (largest_move > 0.05) == moved, largest_move


def _text_dataset(rows: int, seed: int, num_classes: int) -> tf.data.Dataset:
    """Texts of 3 to 9 n-gram ids (1..60, some repeated); ids near 20 * c lean to class c."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, rows)
    ids = np.zeros((rows, 9), np.int64)
    for row, label in enumerate(labels):
        length = rng.integers(3, 10)
        leaning = rng.integers(20 * label + 1, 20 * label + 21, length)
        ids[row, :length] = np.where(rng.random(length) < 0.4, rng.integers(1, 61, length), leaning)
    return tf.data.Dataset.from_tensor_slices(({features.NGRAM_IDS_KEY: ids}, labels)).batch(32)


@pytest.mark.parametrize("num_classes", [2, 3])
def test_the_logistic_wide_part_scores_as_scikit_learns_fit(num_classes):
    # With the deep part silenced the model must be exactly the fitted regression:
    # the same idf weighting, pooling, weights and intercept, against class 0.
    from sklearn.linear_model import LogisticRegression

    train = wide_part.ngram_counts(_text_dataset(400, 0, num_classes), vocab_size=60)
    evaluation = wide_part.ngram_counts(_text_dataset(200, 1, num_classes), vocab_size=60)
    start = wide_part.fit_logistic(train, evaluation, num_classes, strengths=(3.0,))
    model = build_model(Hyperparameters(embedding_dim=4), 60, num_classes, wide=start)
    model.get_layer(DEEP_EMBEDDING).embeddings.assign(np.zeros((61, 4), np.float32))
    reference = LogisticRegression(C=3.0, max_iter=2000).fit(
        wide_part.pooled(train[0], wide_part.inverse_document_frequency(train[0])), train[1]
    )
    expected = reference.predict_proba(wide_part.pooled(evaluation[0], start.idf))
    ids = np.concatenate([x[features.NGRAM_IDS_KEY] for x, _ in _text_dataset(200, 1, num_classes)])
    scores = model.predict({features.NGRAM_IDS_KEY: ids}, verbose=0)
    np.testing.assert_allclose(scores, expected, atol=1e-4)
    assert not model.get_layer(WIDE).trainable


def test_the_logistic_strength_is_chosen_by_eval_log_loss():
    # A tiny C (strong L2) leaves the fit near chance; C=10 fits the clear signal.
    train = wide_part.ngram_counts(_text_dataset(400, 0, 2), vocab_size=60)
    evaluation = wide_part.ngram_counts(_text_dataset(200, 1, 2), vocab_size=60)
    chosen = wide_part.fit_logistic(train, evaluation, 2, strengths=(1e-4, 10.0))
    strong = wide_part.fit_logistic(train, evaluation, 2, strengths=(1e-4,))
    np.testing.assert_allclose(chosen.weights, wide_part.fit_logistic(train, evaluation, 2, (10.0,)).weights)
    assert np.abs(strong.weights).max() < np.abs(chosen.weights).max() / 10


def test_a_logistic_wide_part_stays_as_fitted_while_the_deep_part_trains(tmp_path):
    hparams = Hyperparameters(epochs=2, embedding_dim=4, wide="logistic", wide_strengths=(3.0,))
    model = training.train_model(
        _text_dataset(320, 0, 3),
        _text_dataset(160, 1, 3),
        hparams,
        str(tmp_path),
        vocab_size=60,
        num_classes=3,
    )
    fitted = wide_part.fit_logistic(
        wide_part.ngram_counts(_text_dataset(320, 0, 3), 60),
        wide_part.ngram_counts(_text_dataset(160, 1, 3), 60),
        3,
        (3.0,),
    )
    np.testing.assert_allclose(
        model.get_layer(WIDE).embeddings.numpy()[1:], fitted.weights, rtol=1e-5, atol=1e-6
    )
    labels = np.concatenate([y for _, y in _text_dataset(160, 1, 3)])
    assert (
        model.predict(_text_dataset(160, 1, 3), verbose=0).argmax(1) == labels
    ).mean() > 0.6  # chance: 1/3


def _examples_reader(tmp_path, rows: int):
    """A TFX Examples artifact of `rows` examples (id, class id) in two gzipped shards, and
    the Trainer's own data accessor over it (TFX's factory, as FnArgs carries it)."""
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx.components.util import examples_utils, tfxio_utils
    from tfx.proto import example_gen_pb2
    from tfx.types import standard_artifacts

    split = tmp_path / "Split-train"
    split.mkdir()
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    for shard in range(2):
        with tf.io.TFRecordWriter(str(split / f"data-{shard}.gz"), options) as writer:
            for row in range(shard, rows, 2):
                example = tf.train.Example()
                example.features.feature["id"].int64_list.value.append(row)
                example.features.feature[features.CLASS_ID_KEY].int64_list.value.append(row % 2)
                writer.write(example.SerializeToString())
    schema = schema_pb2.Schema()
    for name in ("id", features.CLASS_ID_KEY):
        feature = schema.feature.add(name=name, type=schema_pb2.INT)
        feature.presence.min_fraction = 1.0
        feature.shape.dim.add(size=1)
    artifact = standard_artifacts.Examples()
    artifact.uri = str(tmp_path)
    examples_utils.set_payload_format(artifact, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)
    factory = tfxio_utils.get_tf_dataset_factory_from_artifact([artifact], ["test"])

    class Accessor:  # fn_args.data_accessor's reading half
        tf_dataset_factory = staticmethod(factory)

    return [str(split / "*")], Accessor(), schema


def _passes(dataset: tf.data.Dataset, count: int) -> list[list[int]]:
    """The example ids of `count` passes over the dataset, in the order read."""
    return [
        [int(value) for batch, _ in dataset.as_numpy_iterator() for value in batch["id"].reshape(-1)]
        for _ in range(count)
    ]


def test_a_seed_fixes_the_order_of_each_pass_over_the_training_split(tmp_path):
    # training.seed: the same seed reads the split in the same sequence of orders (so the
    # encoder's CPU sample, each pass's front of the split, is the same run to run); passes
    # still differ from each other (ensemble members and soups each draw their own), and
    # another seed or none reads other orders.
    files, accessor, schema = _examples_reader(tmp_path, rows=200)

    def passes(seed):
        return _passes(training.labelled_batches(files, accessor, schema, 16, shuffle=True, seed=seed), 2)

    first = passes(7)
    assert sorted(first[0]) == sorted(first[1]) == list(range(200))
    assert first[0] != first[1]
    assert passes(7) == first
    assert passes(8) != first
    assert passes(None) != first


def test_a_seeded_trainer_trains_the_same_model_and_another_seed_another(tmp_path):
    # seed_training fixes the initial weights and dropout: the same data and seed give the
    # same weights; a different seed, different ones (the deep part starts elsewhere).
    hparams = Hyperparameters(epochs=2, embedding_dim=4, early_stopping_patience=2)

    def weights(seed):
        training.seed_training(seed)
        model = training.train_model(
            _toy_dataset(320, 0), _toy_dataset(160, 1), hparams, str(tmp_path), vocab_size=40, num_classes=2
        )
        return model.get_weights()

    first = weights(3)
    same = weights(3)
    other = weights(4)
    assert all(np.array_equal(a, b) for a, b in zip(first, same, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
