"""The exported model answers through each signature, describes its classes, and carries
TF Serving warm-up requests."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from saved_model_helpers import load_exported_model, optimizer_variables
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import prediction_log_pb2

from components import explain, features, signatures
from polarity.data import BUNDLED_CONTRACT

POSITIVE = "An absolutely wonderful, moving film with brilliant performances. I loved it."
NEGATIVE = "A terrible, boring mess. The worst film I have seen, a complete waste of time."
CLASSES = list(BUNDLED_CONTRACT.classes)


@pytest.fixture(scope="module")
def loaded(pushed_model_dir):
    return load_exported_model(pushed_model_dir)


def _predict_text(loaded, texts):
    return loaded.signatures[features.PREDICT_TEXT_SIGNATURE](**{features.TEXT_INPUT_KEY: tf.constant(texts)})


def _positive(outputs):
    return outputs[features.SCORES_KEY].numpy()[:, CLASSES.index("positive")]


def test_exports_the_four_signatures(loaded):
    assert set(loaded.signatures) == {
        features.SERVING_SIGNATURE,
        features.PREDICT_TEXT_SIGNATURE,
        features.TRANSFORM_SIGNATURE,
        explain.EXPLAIN_SIGNATURE,
    }


def test_serving_default_is_a_tf_serving_classify_signature(pushed_model_dir):
    saved_model = saved_model_pb2.SavedModel.FromString((pushed_model_dir / "saved_model.pb").read_bytes())
    signature = saved_model.meta_graphs[0].signature_def[features.SERVING_SIGNATURE]
    # TF Serving's Classify API needs this method, an `inputs` string tensor and
    # `classes` (string) / `scores` (float) outputs.
    assert signature.method_name == "tensorflow/serving/classify"
    assert (
        list(signature.inputs) == ["inputs"]
        and signature.inputs["inputs"].dtype == tf.string.as_datatype_enum
    )
    assert signature.outputs["classes"].dtype == tf.string.as_datatype_enum
    assert signature.outputs["scores"].dtype == tf.float32.as_datatype_enum


def test_serving_default_answers_class_names_and_scores_that_sum_to_one(loaded):
    examples = tf.constant(
        signatures.serialize_text_examples([POSITIVE, NEGATIVE], BUNDLED_CONTRACT.text_column)
    )
    outputs = loaded.signatures[features.SERVING_SIGNATURE](**{features.EXAMPLES_INPUT_KEY: examples})
    scores = outputs[features.SCORES_KEY].numpy()
    assert scores.shape == (2, 2)
    assert scores.sum(axis=1) == pytest.approx([1, 1], abs=1e-5)
    assert [[c.decode() for c in row] for row in outputs[features.CLASSES_KEY].numpy()] == [CLASSES, CLASSES]


def test_predict_text_ranks_positive_above_negative(loaded):
    outputs = _predict_text(loaded, [POSITIVE, NEGATIVE])
    top = [CLASSES[i] for i in outputs[features.SCORES_KEY].numpy().argmax(axis=1)]
    assert top == ["positive", "negative"]


def test_both_signatures_agree_on_the_same_review(loaded):
    by_text = _predict_text(loaded, [POSITIVE])[features.SCORES_KEY].numpy()
    examples = tf.constant(signatures.serialize_text_examples([POSITIVE], BUNDLED_CONTRACT.text_column))
    by_example = loaded.signatures[features.SERVING_SIGNATURE](inputs=examples)[features.SCORES_KEY]
    assert by_text == pytest.approx(by_example.numpy(), abs=1e-6)


def test_direction_adding_terrible_lowers_the_positive_score(loaded):
    base = "The plot was fine and the actors did their job."
    scores = _positive(_predict_text(loaded, [base, base + " Terrible, terrible, awful."]))
    assert scores[1] < scores[0]


def test_invariance_to_names_in_a_review(loaded):
    texts = [f"{name} gave a wonderful performance in this great film." for name in ("Tom", "Maria", "Kenji")]
    scores = _positive(_predict_text(loaded, texts))
    assert scores.max() - scores.min() < 0.15


def test_transform_features_gives_ids_length_bucket_and_class_id(loaded):
    rows = [("short one", "1"), (" ".join(["word"] * 150), "0")]
    examples = [
        tf.train.Example(
            features=tf.train.Features(
                feature={
                    "text": tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode()])),
                    "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
                }
            )
        ).SerializeToString()
        for text, label in rows
    ]
    outputs = loaded.signatures[features.TRANSFORM_SIGNATURE](examples=tf.constant(examples))
    assert outputs[features.LENGTH_BUCKET_KEY].numpy().tolist() == [0, 2]
    assert outputs[features.CLASS_ID_KEY].numpy().ravel().tolist() == [1, 0]
    assert outputs[features.NGRAM_IDS_KEY].shape[0] == 2


def test_warmup_requests_replay_against_the_model(pushed_model_dir, loaded):
    path = pushed_model_dir / signatures.WARMUP_FILE
    records = list(tf.data.TFRecordDataset(str(path)).as_numpy_iterator())
    logs = [prediction_log_pb2.PredictionLog.FromString(record) for record in records]
    assert [log.WhichOneof("log_type") for log in logs] == ["classify_log", "predict_log"]
    classify = logs[0].classify_log.request
    assert classify.model_spec.signature_name == features.SERVING_SIGNATURE
    examples = [example.SerializeToString() for example in classify.input.example_list.examples]
    outputs = loaded.signatures[features.SERVING_SIGNATURE](inputs=tf.constant(examples))
    assert outputs[features.SCORES_KEY].shape == (len(signatures.WARMUP_TEXTS), 2)
    predict = logs[1].predict_log.request
    assert predict.model_spec.signature_name == features.PREDICT_TEXT_SIGNATURE
    inputs = {key: tf.constant(tf.make_ndarray(proto)) for key, proto in predict.inputs.items()}
    outputs = loaded.signatures[features.PREDICT_TEXT_SIGNATURE](**inputs)
    assert outputs[features.SCORES_KEY].shape == (len(signatures.WARMUP_TEXTS), 2)


def test_the_export_holds_the_weights_and_not_the_optimizers_state(pushed_model_dir):
    assert optimizer_variables(pushed_model_dir) == []


def test_training_state_is_left_out_only_while_saving(tmp_path):
    """Also of a compiled model inside the one the module holds, as an ensemble holds its members."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    module = tf.Module()
    module.model = keras.Sequential([keras.Input((3,)), model])
    with signatures.without_training_state(module):
        tf.saved_model.save(module, str(tmp_path / "inside"))
    tf.saved_model.save(module, str(tmp_path / "after"))
    assert optimizer_variables(tmp_path / "inside") == []
    assert optimizer_variables(tmp_path / "after")  # Adam's moments and step count, tracked again

    reader = tf.train.load_checkpoint(str(tmp_path / "inside" / "variables" / "variables"))
    names = set(reader.get_variable_to_shape_map()) - {"_CHECKPOINTABLE_OBJECT_GRAPH"}
    saved = sorted(str(reader.get_tensor(name).tolist()) for name in names)
    assert saved == sorted(str(weight.tolist()) for weight in model.get_weights())  # kernel, bias
