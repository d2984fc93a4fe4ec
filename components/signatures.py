"""Exports the trained model with the signatures TF Serving, TFMA and people use.

- `serving_default`: a classify signature as TensorFlow Serving defines one:
  serialized tf.Examples in `inputs`, `classes` (the class names) and `scores` (their
  probabilities) out, one column per class. TF Serving's `:classify` and TFX use it.
- `predict_text`: a batch of raw strings in `text` -> `classes`, `scores` (REST, humans).
- `transform_features`: serialized tf.Example -> transformed features, the class id
  among them (TFMA's labels and slices).
- `explain_text`: raw strings in `text` -> the model's tokens, each token's exact
  attribution to each class's log-odds, base values, log-odds, `classes` and `scores`
  (components/explain.py), computed in the graph from the model's own weights.

The model describes itself: servers and clients learn the classes from `classes`.
"""

import contextlib
import os
from collections.abc import Sequence

import keras
import tensorflow as tf
import tensorflow_transform as tft
from tensorflow.core.protobuf import saved_model_pb2

from components import explain, features
from components.contract import DatasetContract
from components.text_features import TextFeatures

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
WARMUP_TEXTS = (
    "A wonderful film, moving and beautifully acted. I loved every minute.",
    "Dull, predictable and far too long. A waste of time.",
)


def dense_model_inputs(transformed: dict) -> dict:
    """The model's input: n-gram ids shifted by one, zero-padded to [batch, longest]."""
    ids = transformed[features.NGRAM_IDS_KEY]
    if isinstance(ids, tf.SparseTensor):
        ids = tf.sparse.to_dense(ids, default_value=-1)
    return {features.NGRAM_IDS_KEY: ids + 1}


def ngram_scores(model, transformed: dict) -> tf.Tensor:
    """The n-gram model's [texts, classes] probabilities, float32, from Transform's outputs."""
    return tf.cast(model(dense_model_inputs(transformed), training=False), tf.float32)


def explain_ngrams(text: tf.Tensor, transformed: dict, weights, text_features: TextFeatures) -> dict:
    """components/explain.py's outputs for `text`, from Transform's n-gram ids of it (shifted by
    one, as the model takes them)."""
    ids = transformed[features.NGRAM_IDS_KEY]
    shifted = tf.SparseTensor(ids.indices, ids.values + 1, ids.dense_shape)
    return explain.explain(text, shifted, weights, text_features)


class _ExportModule(tf.Module):
    """Holds the model and the TFT graph so that SavedModel tracks both."""

    def __init__(
        self,
        model,
        tf_transform_output: tft.TFTransformOutput,
        contract: DatasetContract,
        text_features: TextFeatures,
    ):
        super().__init__()
        self.model = model
        self._weights = explain.additive_weights(model)
        self._text_features = text_features
        self.tft_layer = tf_transform_output.transform_features_layer()
        raw_spec = tf_transform_output.raw_feature_spec()
        self._text_column = contract.text_column
        self._text_spec = {contract.text_column: raw_spec[contract.text_column]}
        self._labelled_spec = {
            column: raw_spec[column] for column in (contract.text_column, contract.label_column)
        }
        self._class_names = tf.constant(list(contract.classes))

    def _classify(self, raw: dict) -> dict:
        scores = ngram_scores(self.model, self.tft_layer(raw))
        classes = tf.tile(tf.expand_dims(self._class_names, 0), [tf.shape(scores)[0], 1])
        return {features.CLASSES_KEY: classes, features.SCORES_KEY: scores}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.EXAMPLES_INPUT_KEY)])
    def serve_examples(self, inputs):
        return self._classify(tf.io.parse_example(inputs, self._text_spec))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.TEXT_INPUT_KEY)])
    def predict_text(self, text):
        return self._classify({self._text_column: tf.reshape(text, [-1, 1])})

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.TEXT_INPUT_KEY)])
    def explain_text(self, text):
        transformed = self.tft_layer({self._text_column: tf.reshape(text, [-1, 1])})
        outputs = explain_ngrams(text, transformed, self._weights, self._text_features)
        scores = ngram_scores(self.model, transformed)
        classes = tf.tile(tf.expand_dims(self._class_names, 0), [tf.shape(scores)[0], 1])
        return {**outputs, features.CLASSES_KEY: classes, features.SCORES_KEY: scores}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.TRANSFORM_INPUT_KEY)])
    def transform_features(self, examples):
        transformed = self.tft_layer(tf.io.parse_example(examples, self._labelled_spec))
        outputs = dense_model_inputs(transformed)
        for key in (features.LENGTH_BUCKET_KEY, features.CLASS_ID_KEY):
            outputs[key] = transformed[key]
        return outputs


def serialize_text_examples(texts: Sequence[str], text_column: str) -> list:
    """Serialized tf.Examples holding only the text, as clients send them."""
    return [
        tf.train.Example(
            features=tf.train.Features(
                feature={
                    text_column: tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode("utf-8")]))
                }
            )
        ).SerializeToString()
        for text in texts
    ]


def write_warmup_requests(export_dir: str, model_name: str, text_column: str) -> str:
    """Writes TF Serving warm-up requests into assets.extra: a classify request on
    `serving_default` and a predict request on `predict_text`."""
    from tensorflow_serving.apis import classification_pb2, predict_pb2, prediction_log_pb2

    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.name = model_name
    classify.model_spec.signature_name = features.SERVING_SIGNATURE
    for text in WARMUP_TEXTS:
        example = classify.input.example_list.examples.add()
        example.features.feature[text_column].bytes_list.value.append(text.encode("utf-8"))
    predict = predict_pb2.PredictRequest()
    predict.model_spec.name = model_name
    predict.model_spec.signature_name = features.PREDICT_TEXT_SIGNATURE
    predict.inputs[features.TEXT_INPUT_KEY].CopyFrom(
        tf.make_tensor_proto([text.encode("utf-8") for text in WARMUP_TEXTS], dtype=tf.string)
    )
    path = os.path.join(export_dir, WARMUP_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        for log in (
            prediction_log_pb2.PredictionLog(classify_log=prediction_log_pb2.ClassifyLog(request=classify)),
            prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=predict)),
        ):
            writer.write(log.SerializeToString())
    return path


def mark_classify_signature(export_dir: str, signature: str = features.SERVING_SIGNATURE) -> None:
    """Gives `signature` TF Serving's classify method name in saved_model.pb.

    `tf.saved_model.save` names every signature's method "tensorflow/serving/predict";
    TF Serving's Classify API refuses such a signature. The method name is only a
    label of the SignatureDef (loading and calling it are unchanged), so it is set here.
    """
    path = os.path.join(export_dir, "saved_model.pb")
    saved_model = saved_model_pb2.SavedModel()
    with tf.io.gfile.GFile(path, "rb") as handle:
        saved_model.ParseFromString(handle.read())
    for meta_graph in saved_model.meta_graphs:
        meta_graph.signature_def[signature].method_name = features.CLASSIFY_METHOD
    with tf.io.gfile.GFile(path, "wb") as handle:
        handle.write(saved_model.SerializeToString())


def export_model(
    model,
    tf_transform_output: tft.TFTransformOutput,
    export_dir: str,
    contract: DatasetContract,
    model_name: str,
    text_features: TextFeatures,
) -> None:
    """Saves the model with its four signatures and TF Serving warm-up requests.

    Raises:
      ValueError: the explanation's closed form does not reproduce the model's scores
        on the warm-up texts (components/explain.py), so nothing is saved.
    """
    module = _ExportModule(model, tf_transform_output, contract, text_features)
    save_export_module(module, export_dir, model_name, contract.text_column)


def save_export_module(
    module: tf.Module,
    export_dir: str,
    model_name: str,
    text_column: str,
    check_texts: Sequence[str] = WARMUP_TEXTS,
    check_explanation=None,
) -> None:
    """Checks an export module's explanation, then saves it with the signatures every model
    family serves (its serve_examples, predict_text, transform_features and explain_text
    functions), marks serving_default as a classify signature and writes TF Serving's
    warm-up requests.

    Args:
      check_texts: texts `explain_text` runs on before anything is saved.
      check_explanation: a further check of those explanations (a family's own), or None.

    Raises:
      ValueError: on `check_texts`, the explanation's log-odds do not give the module's own
        scores (explain.check_reproduces_scores), or `check_explanation` refused them; nothing
        is saved.
    """
    explained = module.explain_text(tf.constant(list(check_texts)))
    explain.check_reproduces_scores(
        explained[explain.LOG_ODDS_KEY].numpy(), explained[features.SCORES_KEY].numpy()
    )
    if check_explanation is not None:
        check_explanation(explained)
    signatures = {
        features.SERVING_SIGNATURE: module.serve_examples,
        features.PREDICT_TEXT_SIGNATURE: module.predict_text,
        features.TRANSFORM_SIGNATURE: module.transform_features,
        explain.EXPLAIN_SIGNATURE: module.explain_text,
    }
    with without_training_state(module):
        tf.saved_model.save(module, export_dir, signatures=signatures)
    mark_classify_signature(export_dir)
    write_warmup_requests(export_dir, model_name, text_column)


def _keras_models(module: tf.Module) -> list:
    """The Keras models an export module holds, and the models inside them (an ensemble's members)."""
    found, unseen = [], [value for value in vars(module).values() if isinstance(value, keras.Model)]
    while unseen:
        model = unseen.pop()
        if not any(model is seen for seen in found):
            found.append(model)
            unseen.extend(layer for layer in model.layers if isinstance(layer, keras.Model))
    return found


@contextlib.contextmanager
def without_training_state(module: tf.Module):
    """Leaves the optimizers of the module's Keras models out of what is saved inside the block.

    A compiled Keras model tracks its optimizer, so `tf.saved_model.save` would write Adam's
    two moments of every weight beside it: a SavedModel three times the size of its weights,
    which TF Serving restores whole. Serving needs the weights only. The optimizers are
    tracked again after the block (the models are unchanged).
    """
    optimizers = [(model, getattr(model, "optimizer", None)) for model in _keras_models(module)]
    detached = [(model, optimizer) for model, optimizer in optimizers if optimizer is not None]
    for model, _ in detached:
        model._delete_tracking("optimizer")  # Trackable's own API; Keras 3 offers no public one.
    try:
        yield
    finally:
        for model, optimizer in detached:
            model._track_trackable(optimizer, "optimizer", overwrite=True)
