"""The exported model answers through each signature, and carries TF Serving warm-up requests."""

import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from components import features, signatures

POSITIVE = "An absolutely wonderful, moving film with brilliant performances. I loved it."
NEGATIVE = "A terrible, boring mess. The worst film I have seen, a complete waste of time."


@pytest.fixture(scope="module")
def loaded(pushed_model_dir):
    return tf.saved_model.load(str(pushed_model_dir))


def _predict_text(loaded, texts):
    return loaded.signatures[features.PREDICT_TEXT_SIGNATURE](**{features.TEXT_KEY: tf.constant(texts)})


def test_exports_the_three_signatures(loaded):
    assert set(loaded.signatures) == {
        features.SERVING_SIGNATURE,
        features.PREDICT_TEXT_SIGNATURE,
        features.TRANSFORM_SIGNATURE,
    }


def test_serving_default_takes_serialized_examples(loaded):
    examples = tf.constant(signatures.serialize_text_examples([POSITIVE, NEGATIVE]))
    outputs = loaded.signatures[features.SERVING_SIGNATURE](**{features.EXAMPLES_INPUT_KEY: examples})
    probability = outputs[features.PROBABILITY_KEY].numpy()
    assert probability.shape == (2,)
    assert ((probability >= 0) & (probability <= 1)).all()
    assert outputs[features.PREDICTED_LABEL_KEY].numpy().tolist() == (probability >= 0.5).astype(int).tolist()


def test_predict_text_ranks_positive_above_negative(loaded):
    probability = _predict_text(loaded, [POSITIVE, NEGATIVE])[features.PROBABILITY_KEY].numpy()
    assert probability[0] > probability[1]
    assert _predict_text(loaded, [POSITIVE])[features.PREDICTED_LABEL_KEY].numpy().tolist() == [1]
    assert _predict_text(loaded, [NEGATIVE])[features.PREDICTED_LABEL_KEY].numpy().tolist() == [0]


def test_both_signatures_agree_on_the_same_review(loaded):
    by_text = _predict_text(loaded, [POSITIVE])[features.PROBABILITY_KEY].numpy()
    examples = tf.constant(signatures.serialize_text_examples([POSITIVE]))
    by_example = loaded.signatures[features.SERVING_SIGNATURE](examples=examples)[features.PROBABILITY_KEY]
    assert by_text == pytest.approx(by_example.numpy(), abs=1e-6)


def test_direction_adding_terrible_lowers_the_positive_score(loaded):
    base = "The plot was fine and the actors did their job."
    scores = _predict_text(loaded, [base, base + " Terrible, terrible, awful."])[features.PROBABILITY_KEY]
    assert scores.numpy()[1] < scores.numpy()[0]


def test_invariance_to_names_in_a_review(loaded):
    texts = [f"{name} gave a wonderful performance in this great film." for name in ("Tom", "Maria", "Kenji")]
    scores = _predict_text(loaded, texts)[features.PROBABILITY_KEY].numpy()
    assert scores.max() - scores.min() < 0.15


def test_transform_features_gives_ids_and_length_bucket(loaded):
    examples = tf.constant(signatures.serialize_text_examples(["short one", " ".join(["word"] * 150)]))
    outputs = loaded.signatures[features.TRANSFORM_SIGNATURE](examples=examples)
    assert outputs[features.LENGTH_BUCKET_KEY].numpy().tolist() == [0, 2]
    assert outputs[features.NGRAM_IDS_KEY].shape[0] == 2


def test_warmup_requests_replay_against_the_model(pushed_model_dir, loaded):
    path = pushed_model_dir / signatures.WARMUP_FILE
    records = list(tf.data.TFRecordDataset(str(path)).as_numpy_iterator())
    logs = [prediction_log_pb2.PredictionLog.FromString(record) for record in records]
    assert [log.predict_log.request.model_spec.signature_name for log in logs] == [
        features.SERVING_SIGNATURE,
        features.PREDICT_TEXT_SIGNATURE,
    ]
    for log in logs:
        request = log.predict_log.request
        inputs = {key: tf.make_ndarray(proto) for key, proto in request.inputs.items()}
        outputs = loaded.signatures[request.model_spec.signature_name](
            **{key: tf.constant(value) for key, value in inputs.items()}
        )
        assert outputs[features.PROBABILITY_KEY].shape == (len(signatures.WARMUP_REVIEWS),)
