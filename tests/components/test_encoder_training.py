"""Unit: the encoder family's schedule, device plans and CPU sample; its tokenizer and model (TFX 1.21).

Device plans are built from faked GPU lists (this machine has no GPU): what runs on GPUs is
chosen at run time from `tf.config.list_physical_devices("GPU")`.
"""

import math
import sys

import numpy as np
import pytest
import tensorflow as tf

from components import devices, encoder_model, encoder_training
from components.hyperparameters import EncoderHyperparameters, Hyperparameters

needs_encoder_stack = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="the encoder (keras-hub) is installed on the TFX 1.21 stack only"
)


def test_the_schedule_warms_up_linearly_then_decays_to_zero():
    schedule = encoder_model.learning_rate_schedule(1e-4, total_steps=100, warmup_fraction=0.1)
    rates = [float(schedule(step)) for step in range(101)]
    assert rates[0] == pytest.approx(1e-5)  # first step: a tenth of the way up
    assert rates[9] == pytest.approx(1e-4)  # peak at the end of the warm-up
    assert all(a < b for a, b in zip(rates[:9], rates[1:10], strict=True))
    assert rates[55] == pytest.approx(1e-4 * 45 / 90)
    assert rates[100] == pytest.approx(0.0)
    assert all(a >= b for a, b in zip(rates[10:], rates[11:], strict=False))


def test_without_a_gpu_the_encoder_trains_on_a_sample_and_with_gpus_on_everything():
    dataset = tf.data.Dataset.range(1000).batch(10)  # 100 batches
    cpu = devices.plan_devices(gpus=[])
    assert encoder_training.count_batches(encoder_training.sample_for(cpu, dataset, 10, 95)) == 10
    for gpus in (["GPU:0"], ["GPU:0", "GPU:1"]):
        plan = devices.plan_devices(gpus=gpus)
        assert encoder_training.count_batches(encoder_training.sample_for(plan, dataset, 10, 95)) == 100


def test_a_cpu_sample_is_drawn_once_whatever_reads_it():
    """A pass cut short (`max_train_steps`, Keras's validation) and every later pass read the
    texts of the one draw made when the sample was asked for: in the same order without
    `reshuffle` (the eval sample), in a new order each pass with it (training)."""
    reader = tf.data.Dataset.range(400).shuffle(400).batch(8)  # reshuffled each pass, as TFX's
    cpu = devices.plan_devices(gpus=[])

    def ids(dataset):
        return [int(value) for batch in dataset.as_numpy_iterator() for value in batch]

    for reshuffle in (False, True):
        sample = encoder_training.sample_for(cpu, reader, 8, 60, reshuffle=reshuffle)
        cut_short = ids(sample.take(1))
        passes = [ids(sample) for _ in range(2)]
        assert len(passes[0]) == 64 and set(cut_short) <= set(passes[0])
        assert sorted(passes[0]) == sorted(passes[1])
        assert (passes[0] != passes[1]) is reshuffle


@needs_encoder_stack
def test_the_cpu_sample_is_one_draw_whose_count_is_the_trained_passes():
    """TFX's reader reshuffles on every pass, so each pass's first texts differ; the CPU sample
    is drawn once per call and kept: the step count's pass and every training pass read the
    same texts (in a new order each), so they length-bucket into the same number of batches.
    A second call (another fine-tune) draws its own."""
    from polarity.data import read_reviews

    reviews = read_reviews()[:400]
    texts, labels = [row["text"] for row in reviews], [int(row["label"]) for row in reviews]
    reader = tf.data.Dataset.from_tensor_slices((texts, labels)).shuffle(400).batch(8)
    cpu = devices.plan_devices(gpus=[])
    preprocessor = encoder_model.build_preprocessor(encoder_model.weights_dir(), sequence_length=64)

    def texts_read(dataset):
        return [text for batch, _ in dataset.as_numpy_iterator() for text in batch]

    def passes(sample, count):
        bucketed = encoder_training.length_bucketed(sample, preprocessor, 8, 64)
        read = [sorted(texts_read(sample)) for _ in range(count)]
        return read, [encoder_training.count_batches(bucketed) for _ in range(count)]

    sample = encoder_training.sample_for(cpu, reader, 8, 60, reshuffle=True)
    orders = [texts_read(sample) for _ in range(2)]
    assert len(orders[0]) == 64 and orders[0] != orders[1]  # 60 rounded up to 8 batches; reshuffled
    read, counts = passes(sample, 3)
    assert read[0] == read[1] == read[2] == sorted(orders[0])
    assert counts[0] == counts[1] == counts[2]
    other, _ = passes(encoder_training.sample_for(cpu, reader, 8, 60, reshuffle=True), 1)
    assert other[0] != read[0]
    uncached, _ = passes(reader.take(8), 2)  # the reader itself: each pass its own texts
    assert uncached[0] != uncached[1]


def test_mixed_precision_scales_the_loss_and_keeps_float32_probabilities():
    import keras

    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, dtype="mixed_float16")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", dtype="float32")(hidden)
    model = encoder_model.compile_model(keras.Model(inputs, outputs), 1e-3, 0.01, "mixed_float16")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(model.optimizer.inner_optimizer, keras.optimizers.AdamW)
    assert model(np.ones((1, 4), np.float32)).dtype == "float32"
    plain = encoder_model.compile_model(keras.Model(inputs, outputs), 1e-3, 0.01)
    assert isinstance(plain.optimizer, keras.optimizers.AdamW)


def test_encoder_settings_are_their_own_section_and_unknown_names_are_refused():
    hparams = Hyperparameters.from_config({"model": "encoder", "encoder": {"sequence_length": 64}})
    assert hparams.encoder == EncoderHyperparameters(sequence_length=64)
    with pytest.raises(
        ValueError, match=r"Unknown trainer hyperparameters \['max_len'\] in training.encoder"
    ):
        Hyperparameters.from_config({"encoder": {"max_len": 64}})
    with pytest.raises(ValueError, match=r"training.model: 'bert' is not one of \['ngrams', 'encoder'\]"):
        Hyperparameters(model="bert")
    with pytest.raises(
        ValueError, match=r"training.encoder.head: 'frozen' is not one of \['random', 'linear_probe'\]"
    ):
        Hyperparameters.from_config({"encoder": {"head": "frozen"}})


def test_averaging_with_the_start_needs_the_linear_probe_head_and_a_share_in_zero_to_one():
    from polarity.config import ConfigError, load_config

    assert EncoderHyperparameters(head="linear_probe", fine_tuned_share=0.5).fine_tuned_share == 0.5
    with pytest.raises(
        ValueError, match=r"head='random' starts from a random head: set training.encoder.head"
    ):
        EncoderHyperparameters(fine_tuned_share=0.5)
    with pytest.raises(ValueError, match=r"fine_tuned_share: 1.5 is not in \[0, 1\]"):
        EncoderHyperparameters(fine_tuned_share=1.5)
    with pytest.raises(ConfigError, match="starts from a random head"):  # at config time, on either stack
        load_config(overrides=["training.encoder.fine_tuned_share=0.5"])
    config = load_config(
        overrides=["training.encoder.fine_tuned_share=0.5", "training.encoder.head=linear_probe"]
    )
    assert Hyperparameters.from_config(config.training.model_dump()).encoder.fine_tuned_share == 0.5


def test_weighing_by_the_read_share_needs_the_combined_model():
    assert EncoderHyperparameters(weigh_by_read_share=True).with_ngrams
    with pytest.raises(ValueError, match="with_ngrams is off.*set training.encoder.with_ngrams=true"):
        EncoderHyperparameters(weigh_by_read_share=True, with_ngrams=False)


@pytest.mark.skipif(sys.version_info >= (3, 11), reason="the refusal is the TFX 1.16 stack's (Python 3.10)")
def test_the_tfx_1_16_stack_refuses_the_encoder_at_config_time():
    from polarity.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="training.model=encoder needs the TFX 1.21 stack"):
        load_config(overrides=["training.model=encoder"])


@needs_encoder_stack
def test_the_tokenizer_strips_accents_as_the_uncased_original_does():
    tokenizer = encoder_model.build_tokenizer(encoder_model.weights_dir())
    ids = tokenizer(tf.constant(["Cliché", "cliche"]))
    assert ids[0] == ids[1]
    assert tokenizer.token_to_id("[UNK]") not in ids[0]


@needs_encoder_stack
def test_the_masking_tokenizer_reads_handles_and_links_as_placeholders():
    weights = encoder_model.weights_dir()
    masking = encoder_model.build_preprocessor(weights, 16, mask_handles_and_links=True)
    plain = encoder_model.build_preprocessor(weights, 16)
    tweet, placeholders = "@JetBlue thanks! http://t.co/z8fHgxQAD9", "@user thanks! http"
    ids = [masking(tf.constant([text]))["token_ids"].numpy() for text in (tweet, placeholders)]
    np.testing.assert_array_equal(*ids)
    np.testing.assert_array_equal(ids[1], plain(tf.constant([placeholders]))["token_ids"].numpy())
    assert not (ids[0] == plain(tf.constant([tweet]))["token_ids"].numpy()).all()


@needs_encoder_stack
def test_the_model_starts_uniform_over_any_number_of_classes():
    weights = encoder_model.weights_dir()
    preprocessor = encoder_model.build_preprocessor(weights, sequence_length=16)
    model = encoder_model.build_encoder_model(weights, num_classes=3)
    scores = model(preprocessor(tf.constant(["A fine film.", "Dreadful.", "It was a film."]))).numpy()
    assert scores.shape == (3, 3)
    np.testing.assert_allclose(scores.sum(axis=1), 1, rtol=1e-5)
    loss = -np.log(scores[np.arange(3), [2, 0, 1]]).mean()
    assert abs(loss - math.log(3)) < 0.35


@needs_encoder_stack
def test_encoder_sanity_checks_pass_on_real_reviews_and_stop_on_one_class():
    from components.sanity_checks import SanityCheckError
    from polarity.data import read_reviews

    reviews = [row for row in read_reviews() if row["source"] == "rotten_tomatoes"]
    texts = [row["text"] for row in reviews[:8]] + [row["text"] for row in reviews[-8:]]
    labels = np.array([int(row["label"]) for row in reviews[:8] + reviews[-8:]])
    assert set(labels) == {0, 1}
    hparams = EncoderHyperparameters(sequence_length=32, batch_size=16)
    healthy = tf.data.Dataset.from_tensor_slices((texts, labels)).shuffle(16, seed=0).batch(16)
    found = encoder_training.check_before_training(healthy, hparams, 2)
    assert found[-1].startswith("sanity checks passed")
    one_class = tf.data.Dataset.from_tensor_slices((texts, np.ones_like(labels))).batch(16)
    with pytest.raises(SanityCheckError, match="labels: all 16 sampled training labels"):
        encoder_training.check_before_training(one_class, hparams, 2)


def test_the_probe_head_gives_scikit_learns_probabilities_for_two_and_three_classes():
    from scipy.special import softmax

    from components import linear_probe

    rng = np.random.default_rng(0)
    features = rng.normal(size=(6, 4))
    for coef, intercept in (
        (rng.normal(size=(1, 4)), rng.normal(size=1)),
        (rng.normal(size=(3, 4)), rng.normal(size=3)),
    ):
        kernel, bias = linear_probe.softmax_head(coef, intercept, num_classes=max(2, len(coef)))
        probabilities = softmax(features @ kernel + bias, axis=1)
        if len(coef) == 1:  # scikit-learn's binary model: sigmoid of class 1 against class 0
            expected = 1 / (1 + np.exp(-(features @ coef[0] + intercept[0])))
            np.testing.assert_allclose(probabilities[:, 1], expected, rtol=1e-5)
        else:
            np.testing.assert_allclose(
                probabilities, softmax(features @ coef.T + intercept, axis=1), rtol=1e-5
            )


@needs_encoder_stack
def test_the_linear_probe_fits_the_head_on_the_frozen_encoder():
    from sklearn.linear_model import LogisticRegression

    from components import linear_probe
    from polarity.data import read_reviews

    reviews = [row for row in read_reviews() if row["source"] == "rotten_tomatoes"]
    rows = reviews[:24] + reviews[-24:]
    texts, labels = [row["text"] for row in rows], np.array([int(row["label"]) for row in rows])
    weights = encoder_model.weights_dir()
    preprocessor = encoder_model.build_preprocessor(weights, sequence_length=32)
    model = encoder_model.build_encoder_model(weights, num_classes=2)
    batches = encoder_training.tokenized(
        tf.data.Dataset.from_tensor_slices((texts, labels)).shuffle(48, seed=1).batch(16), preprocessor
    )
    before = model.get_layer(encoder_model.HEAD_LAYER).get_weights()[0].copy()
    strength = linear_probe.fit_head(model, batches, num_classes=2)
    assert strength in linear_probe.PROBE_STRENGTHS
    assert not np.allclose(before, model.get_layer(encoder_model.HEAD_LAYER).get_weights()[0])
    # The head now is scikit-learn's fit on the frozen features (refitted here, texts in order).
    in_order = tf.data.Dataset.from_tensor_slices((texts, labels)).batch(48)
    pooled, pooled_labels = linear_probe.pooled_features(
        model, encoder_training.tokenized(in_order, preprocessor)
    )
    np.testing.assert_array_equal(pooled_labels, labels)
    reference = LogisticRegression(C=strength, max_iter=2000).fit(pooled, labels)
    scores = model(preprocessor(tf.constant(texts))).numpy()
    np.testing.assert_allclose(scores, reference.predict_proba(pooled), atol=2e-3)
    assert (scores.argmax(axis=1) == labels).mean() > 0.75  # the probe learned the labels


def _short_review_batches() -> tf.data.Dataset:
    """48 Rotten Tomatoes reviews, both classes, in shuffled batches of 16."""
    from polarity.data import read_reviews

    reviews = [row for row in read_reviews() if row["source"] == "rotten_tomatoes"]
    rows = reviews[:24] + reviews[-24:]
    texts, labels = [row["text"] for row in rows], np.array([int(row["label"]) for row in rows])
    return tf.data.Dataset.from_tensor_slices((texts, labels)).shuffle(48, seed=1).batch(16)


@needs_encoder_stack
def test_frozen_token_embeddings_stay_pretrained_while_the_layers_above_fine_tune(tmp_path):
    batches = _short_review_batches()
    hparams = EncoderHyperparameters(
        sequence_length=32, batch_size=16, epochs=1, cpu_sample_size=48, freeze_token_embeddings=True
    )
    model, _ = encoder_training.train_encoder(
        batches, batches, hparams, 2, log_dir=str(tmp_path), max_train_steps=2
    )
    pretrained = encoder_model.build_encoder_model(encoder_model.weights_dir(), num_classes=2)
    tuned, first = encoder_model.backbone(model), encoder_model.backbone(pretrained)
    assert not tuned.token_embedding.trainable
    np.testing.assert_array_equal(
        tuned.token_embedding.get_weights()[0], first.token_embedding.get_weights()[0]
    )
    layer = tuned.transformer_layers[0].get_weights()[0], first.transformer_layers[0].get_weights()[0]
    assert not np.allclose(*layer)  # the Transformer layers did fine-tune


@needs_encoder_stack
def test_frozen_lower_layers_stay_pretrained_and_the_layers_above_fine_tune(tmp_path):
    batches = _short_review_batches()
    hparams = EncoderHyperparameters(
        sequence_length=32, batch_size=16, epochs=1, cpu_sample_size=48, frozen_layers=2
    )
    model, _ = encoder_training.train_encoder(
        batches, batches, hparams, 2, log_dir=str(tmp_path), max_train_steps=2
    )
    pretrained = encoder_model.build_encoder_model(encoder_model.weights_dir(), num_classes=2)
    tuned, first = encoder_model.backbone(model), encoder_model.backbone(pretrained)
    kept = ["token_embedding", "position_embedding", "segment_embedding", "embeddings_layer_norm"]
    for name in [*kept, "transformer_layer_0", "transformer_layer_1"]:
        for after, before in zip(
            tuned.get_layer(name).get_weights(), first.get_layer(name).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(after, before, err_msg=name)
    for name in ("transformer_layer_2", "transformer_layer_5"):
        after, before = tuned.get_layer(name).get_weights()[0], first.get_layer(name).get_weights()[0]
        assert not np.allclose(after, before), name  # the layers above did fine-tune
    with pytest.raises(ValueError, match="frozen_layers=7, but the encoder has 6 Transformer layers"):
        encoder_model.freeze_lower_layers(pretrained, 7)


def test_scaled_adamw_steps_each_variable_at_its_share_of_the_learning_rate():
    kept, half, full = (keras_variable(name) for name in ("kept", "half", "full"))
    optimizer = encoder_model.ScaledAdamW(
        scales={kept.path: 0.0, half.path: 0.5}, learning_rate=0.1, weight_decay=0.0
    )
    optimizer.apply([tf.constant([2.0, -3.0])] * 3, [kept, half, full])
    # Adam's first step moves each weight by its rate against the gradient's sign.
    np.testing.assert_allclose(kept.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(half.numpy(), [0.95, 1.05], rtol=1e-5)
    np.testing.assert_allclose(full.numpy(), [0.9, 1.1], rtol=1e-5)
    with pytest.raises(ValueError, match=r"layer_decay: 0 is not in \(0, 1\]"):
        EncoderHyperparameters(layer_decay=0)


def keras_variable(name):
    import keras

    return keras.Variable([1.0, 1.0], name=name)


@needs_encoder_stack
def test_layer_decay_scales_the_rate_from_the_head_down_to_the_embeddings():
    model = encoder_model.build_encoder_model(encoder_model.weights_dir(), num_classes=2)
    assert encoder_model.layer_learning_rate_scales(model, 1.0) == {}
    scales = encoder_model.layer_learning_rate_scales(model, 0.5)
    encoder = encoder_model.backbone(model)
    by_layer = {
        name: {scales[variable.path] for variable in encoder.get_layer(name).weights}
        for name in ("transformer_layer_5", "transformer_layer_0", "token_embedding", "embeddings_layer_norm")
    }
    assert by_layer == {
        "transformer_layer_5": {0.5},
        "transformer_layer_0": {0.5**6},
        "token_embedding": {0.5**7},
        "embeddings_layer_norm": {0.5**7},
    }
    head = model.get_layer(encoder_model.HEAD_LAYER)
    assert not any(variable.path in scales for variable in head.weights)  # the head: the full rate


@needs_encoder_stack
def test_a_soup_of_two_fine_tunes_exports_their_average(tmp_path, monkeypatch):
    from components import weight_averaging

    averaged_runs = []
    real_soup = weight_averaging.uniform_soup

    def watched(runs):  # the real average, its inputs kept for the check below
        averaged_runs.extend(runs)
        return real_soup(runs)

    monkeypatch.setattr(weight_averaging, "uniform_soup", watched)
    batches = _short_review_batches()
    hparams = EncoderHyperparameters(
        sequence_length=32, batch_size=16, epochs=1, cpu_sample_size=48, soup_size=2
    )
    model, _ = encoder_training.train_soup(
        batches, batches, hparams, 2, log_dir=str(tmp_path), max_train_steps=2
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fine-tune-1", "fine-tune-2"]
    assert len(averaged_runs) == 2
    head = [i for i, weight in enumerate(model.weights) if weight.path.startswith(encoder_model.HEAD_LAYER)]
    first, second = averaged_runs
    assert not np.allclose(first[head[0]], second[head[0]])  # two heads, two data orders
    for got, one, other in zip(model.get_weights(), first, second, strict=True):
        np.testing.assert_allclose(got, (one.astype(np.float64) + other) / 2, rtol=1e-6, atol=1e-7)


@needs_encoder_stack
def test_a_fine_tuned_share_of_zero_exports_the_pretrained_encoder_under_the_probe_head(tmp_path):
    batches = _short_review_batches()
    hparams = EncoderHyperparameters(
        sequence_length=32,
        batch_size=16,
        epochs=1,
        cpu_sample_size=48,
        head="linear_probe",
        fine_tuned_share=0.0,
    )
    model, _ = encoder_training.train_encoder(
        batches, batches, hparams, 2, log_dir=str(tmp_path), max_train_steps=2
    )
    pretrained = encoder_model.build_encoder_model(encoder_model.weights_dir(), num_classes=2)

    def encoder_and_head(trained):
        head = trained.get_layer(encoder_model.HEAD_LAYER).weights
        others = [w for w in trained.weights if all(w is not h for h in head)]
        return [np.asarray(w) for w in others], [np.asarray(w) for w in head]

    (encoder, head), (pretrained_encoder, initial_head) = (
        encoder_and_head(model),
        encoder_and_head(pretrained),
    )
    assert len(encoder) == len(pretrained_encoder) > 50
    for got, want in zip(encoder, pretrained_encoder, strict=True):
        np.testing.assert_array_equal(got, want)  # two steps of fine-tuning, all averaged away
    assert not np.allclose(head[0], initial_head[0])  # the probe's head, not the random start


def test_batches_are_padded_to_a_few_lengths_ending_at_the_sequence_length():
    assert encoder_training.bucket_lengths(128) == (16, 32, 48, 64, 96, 128)
    assert encoder_training.bucket_lengths(100) == (16, 32, 48, 64, 96, 100)
    assert encoder_training.bucket_lengths(16) == (16,)
    assert encoder_training.bucket_lengths(8) == (8,)


@needs_encoder_stack
def test_length_bucketed_batches_pad_each_text_to_its_bucket_and_keep_its_output():
    """Short and long reviews mixed: each batch is cut to the first bucket its texts fit, each
    text comes out once with its label, and the model scores it as at full padding."""
    from polarity.data import read_reviews

    reviews = read_reviews()
    short = [row for row in reviews if row["source"] == "rotten_tomatoes"][:20]
    long = [row for row in reviews if row["source"] == "imdb"][:20]
    rows = [row for pair in zip(short, long, strict=True) for row in pair]
    texts, labels = [row["text"] for row in rows], np.array([int(row["label"]) for row in rows])
    weights = encoder_model.weights_dir()
    preprocessor = encoder_model.build_preprocessor(weights, sequence_length=64)
    batches = list(
        encoder_training.length_bucketed(
            tf.data.Dataset.from_tensor_slices((texts, labels)).batch(8), preprocessor, 8, 64
        ).as_numpy_iterator()
    )
    full = preprocessor(tf.constant(texts))
    model = encoder_model.build_encoder_model(weights, num_classes=2)
    expected = model(full).numpy()
    by_pieces = {
        tuple(ids[mask.astype(bool)]): (label, scores)
        for ids, mask, label, scores in zip(
            full["token_ids"].numpy(), full["padding_mask"].numpy(), labels, expected, strict=True
        )
    }
    seen, widths = [], set()
    for inputs, batch_labels in batches:
        width = inputs["token_ids"].shape[1]
        widths.add(width)
        lengths = inputs["padding_mask"].astype(int).sum(axis=1)
        assert width in encoder_training.bucket_lengths(64)
        assert lengths.max() <= width
        smaller = [length for length in encoder_training.bucket_lengths(64) if length < width]
        assert not smaller or lengths.min() > smaller[-1]  # no text fits a shorter bucket
        scores = model(inputs).numpy()
        for ids, mask, label, score in zip(
            inputs["token_ids"], inputs["padding_mask"], batch_labels, scores, strict=True
        ):
            pieces = tuple(ids[mask.astype(bool)])
            assert by_pieces[pieces][0] == label
            np.testing.assert_allclose(score, by_pieces[pieces][1], atol=1e-5)
            seen.append(pieces)
    assert sorted(seen) == sorted(by_pieces)  # every text once
    assert 64 in widths and min(widths) <= 48  # the reviews cut at 64, the short ones below

    # Weighed by the read share: 1 for a short review, the combined model's 1 - w for a long one.
    read = 1.0 - encoder_model.unread_share(preprocessor, tf.constant(texts)).numpy()
    read_by_pieces = {pieces: share for pieces, share in zip(by_pieces, read, strict=True)}
    weighted = encoder_training.length_bucketed(
        tf.data.Dataset.from_tensor_slices((texts, labels)).batch(8), preprocessor, 8, 64, True
    )
    weights = []
    for inputs, _, batch_weights in weighted.as_numpy_iterator():
        for ids, mask, weight in zip(inputs["token_ids"], inputs["padding_mask"], batch_weights, strict=True):
            weights.append(weight)
            assert weight == pytest.approx(read_by_pieces[tuple(ids[mask.astype(bool)])])
    assert len(weights) == len(texts) and min(weights) < 0.5 and max(weights) == 1.0
