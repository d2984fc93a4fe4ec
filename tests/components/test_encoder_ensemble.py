"""Unit: the encoder ensemble (components/encoder_ensemble.py): its scores, its explanation,
its training; real all-MiniLM-L6-v2 members (TFX 1.21 stack), short real reviews."""

import sys

import numpy as np
import pytest

needs_encoder_stack = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="the encoder (keras-hub) is installed on the TFX 1.21 stack only"
)

TEXTS = ["A warm, funny and moving film.", "Dull, long and badly acted.", "It is a film about a dog."]


def test_the_ensemble_size_is_a_setting_of_one_or_more():
    from polarity.config import ConfigError, load_config

    config = load_config(overrides=["training.encoder.ensemble_size=3"])
    assert config.training.encoder.ensemble_size == 3
    with pytest.raises(ConfigError, match="ensemble_size"):
        load_config(overrides=["training.encoder.ensemble_size=0"])


@pytest.fixture(scope="module")
def two_members():
    """Two encoder models with different heads (one scaled, so that they disagree), and a preprocessor."""
    from components import encoder_model

    weights = encoder_model.weights_dir()
    members = [encoder_model.build_encoder_model(weights, num_classes=3) for _ in range(2)]
    head = members[1].get_layer(encoder_model.HEAD_LAYER)
    head.kernel.assign(head.kernel * 40.0)
    return members, encoder_model.build_preprocessor(weights, sequence_length=32)


@needs_encoder_stack
def test_the_ensemble_scores_the_renormalised_geometric_mean_of_its_members(two_members):
    import tensorflow as tf

    from components.encoder_ensemble import EncoderEnsemble

    members, preprocessor = two_members
    inputs = preprocessor(tf.constant(TEXTS))
    each = [member(inputs).numpy().astype(np.float64) for member in members]
    assert not np.allclose(each[0], each[1], atol=1e-3)
    geometric = np.sqrt(each[0] * each[1])
    expected = geometric / geometric.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(EncoderEnsemble(members)(inputs).numpy(), expected, atol=1e-5)
    with pytest.raises(ValueError, match="two or more members"):
        EncoderEnsemble(members[:1])


@needs_encoder_stack
def test_the_ensemble_is_explained_by_its_members_mean_attributions(two_members):
    import tensorflow as tf

    from components import encoder_explain, explain
    from components.encoder_ensemble import EncoderEnsemble

    members, preprocessor = two_members
    ensemble = EncoderEnsemble(members)
    text = tf.constant(TEXTS)
    explained = encoder_explain.explain_batch(ensemble, preprocessor, text, num_classes=3)
    parts = [encoder_explain.explain_batch(member, preprocessor, text, num_classes=3) for member in members]
    np.testing.assert_array_equal(explained[explain.TOKENS_KEY], parts[0][explain.TOKENS_KEY])
    for key in encoder_explain.AVERAGED_KEYS:
        np.testing.assert_allclose(explained[key], (parts[0][key] + parts[1][key]) / 2, atol=1e-6)
    # Each word piece is its own "n-gram" (serving/explanations.py's outputs), averaged alike.
    ngram_attributions = explained[explain.NGRAM_ATTRIBUTIONS_KEY]
    np.testing.assert_array_equal(ngram_attributions, explained[explain.ATTRIBUTIONS_KEY])
    # The averaged log-odds are the ensemble's own, and the attributions add up to them.
    explain.check_reproduces_scores(
        explained[explain.LOG_ODDS_KEY].numpy(), ensemble(preprocessor(text)).numpy()
    )
    assert encoder_explain.check_completeness(explained) < encoder_explain.COMPLETENESS_TOLERANCE


@needs_encoder_stack
def test_an_ensemble_of_two_fine_tunes_keeps_both(tmp_path):
    import tensorflow as tf

    from components import encoder_model, encoder_training
    from components.encoder_ensemble import EncoderEnsemble
    from components.hyperparameters import EncoderHyperparameters
    from polarity.data import read_reviews

    reviews = [row for row in read_reviews() if row["source"] == "rotten_tomatoes"]
    rows = reviews[:24] + reviews[-24:]
    batches = (
        tf.data.Dataset.from_tensor_slices(
            ([row["text"] for row in rows], [int(row["label"]) for row in rows])
        )
        .shuffle(48, seed=1)
        .batch(16)
    )
    hparams = EncoderHyperparameters(
        sequence_length=32, batch_size=16, epochs=1, cpu_sample_size=48, ensemble_size=2
    )
    model, preprocessor = encoder_training.train_ensemble(
        batches, batches, hparams, 2, log_dir=str(tmp_path), max_train_steps=2
    )
    assert isinstance(model, EncoderEnsemble) and len(model.members) == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == ["member-1", "member-2"]
    heads = [member.get_layer(encoder_model.HEAD_LAYER).kernel.numpy() for member in model.members]
    assert not np.allclose(*heads)  # two heads, two data orders
    scores = model(preprocessor(tf.constant(TEXTS))).numpy()
    np.testing.assert_allclose(scores.sum(axis=1), 1, rtol=1e-5)
