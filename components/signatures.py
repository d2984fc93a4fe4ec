"""Exports the trained model with the signatures TF Serving, TFMA and people use.

- `serving_default`: serialized tf.Example -> probability, label (TF Serving, TFX).
- `predict_text`: a batch of raw review strings -> probability, label (REST, humans).
- `transform_features`: serialized tf.Example -> transformed features (TFMA slices).
"""

import os
from collections.abc import Sequence

import tensorflow as tf
import tensorflow_transform as tft

from components import features

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
WARMUP_REVIEWS = (
    "A wonderful film, moving and beautifully acted. I loved every minute.",
    "Dull, predictable and far too long. A waste of time.",
)


def dense_model_inputs(transformed: dict) -> dict:
    """The model's input: n-gram ids shifted by one, zero-padded to [batch, longest]."""
    ids = transformed[features.NGRAM_IDS_KEY]
    if isinstance(ids, tf.SparseTensor):
        ids = tf.sparse.to_dense(ids, default_value=-1)
    return {features.NGRAM_IDS_KEY: ids + 1}


def _serving_raw_spec(tf_transform_output: tft.TFTransformOutput) -> dict:
    spec = tf_transform_output.raw_feature_spec()
    return {features.TEXT_KEY: spec[features.TEXT_KEY]}


def _outputs(probability: tf.Tensor) -> dict:
    probability = tf.reshape(tf.cast(probability, tf.float32), [-1])
    return {
        features.PROBABILITY_KEY: probability,
        features.PREDICTED_LABEL_KEY: tf.cast(probability >= 0.5, tf.int64),
    }


class _ExportModule(tf.Module):
    """Holds the model and the TFT graph so that SavedModel tracks both."""

    def __init__(self, model, tf_transform_output: tft.TFTransformOutput):
        super().__init__()
        self.model = model
        self.tft_layer = tf_transform_output.transform_features_layer()
        self._raw_spec = _serving_raw_spec(tf_transform_output)

    def _predict_raw(self, raw: dict) -> dict:
        transformed = self.tft_layer(raw)
        return _outputs(self.model(dense_model_inputs(transformed), training=False))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.EXAMPLES_INPUT_KEY)])
    def serve_examples(self, examples):
        return self._predict_raw(tf.io.parse_example(examples, self._raw_spec))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.TEXT_KEY)])
    def predict_text(self, text):
        return self._predict_raw({features.TEXT_KEY: tf.reshape(text, [-1, 1])})

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.EXAMPLES_INPUT_KEY)])
    def transform_features(self, examples):
        transformed = self.tft_layer(tf.io.parse_example(examples, self._raw_spec))
        outputs = dense_model_inputs(transformed)
        outputs[features.LENGTH_BUCKET_KEY] = transformed[features.LENGTH_BUCKET_KEY]
        return outputs


def serialize_text_examples(texts: Sequence[str]) -> list:
    """Serialized tf.Examples holding only the review text, as clients send them."""
    return [
        tf.train.Example(
            features=tf.train.Features(
                feature={
                    features.TEXT_KEY: tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[text.encode("utf-8")])
                    )
                }
            )
        ).SerializeToString()
        for text in texts
    ]


def write_warmup_requests(export_dir: str, model_name: str) -> str:
    """Writes TF Serving warm-up requests (one per signature) into assets.extra."""
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    path = os.path.join(export_dir, WARMUP_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    requests = []
    for signature, key, values in (
        (features.SERVING_SIGNATURE, features.EXAMPLES_INPUT_KEY, serialize_text_examples(WARMUP_REVIEWS)),
        (features.PREDICT_TEXT_SIGNATURE, features.TEXT_KEY, [t.encode("utf-8") for t in WARMUP_REVIEWS]),
    ):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = model_name
        request.model_spec.signature_name = signature
        request.inputs[key].CopyFrom(tf.make_tensor_proto(values, dtype=tf.string))
        requests.append(request)
    with tf.io.TFRecordWriter(path) as writer:
        for request in requests:
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path


def export_model(model, tf_transform_output: tft.TFTransformOutput, export_dir: str, model_name: str) -> None:
    """Saves the model with its three signatures and TF Serving warm-up requests."""
    module = _ExportModule(model, tf_transform_output)
    signatures = {
        features.SERVING_SIGNATURE: module.serve_examples,
        features.PREDICT_TEXT_SIGNATURE: module.predict_text,
        features.TRANSFORM_SIGNATURE: module.transform_features,
    }
    tf.saved_model.save(module, export_dir, signatures=signatures)
    write_warmup_requests(export_dir, model_name)
