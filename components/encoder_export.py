"""Exports the fine-tuned encoder with the n-gram model's serving signatures.

Text in, tokenised inside the graph by the encoder's own word-piece tokenizer
(components/encoder_model.py): `serving_default` (a classify signature: serialized
tf.Examples in, `classes` and `scores` out), `predict_text`, `transform_features`
(Transform's graph, for TFMA's labels and slices) and `explain_text` (word-piece
attributions by integrated gradients over the token embeddings,
components/encoder_explain.py, in the n-gram model's outputs), with TF Serving warm-up
requests. components/combined_export.py adds the n-gram model beside the encoder.
"""

import tensorflow as tf
import tensorflow_transform as tft

from components import encoder_explain, features, signatures
from components.contract import DatasetContract


class EncoderExportModule(tf.Module):
    """Holds the model, its text preprocessor and the TFT graph, so SavedModel tracks all three."""

    def __init__(
        self, model, preprocessor, tf_transform_output: tft.TFTransformOutput, contract: DatasetContract
    ):
        super().__init__()
        self.model = model
        self.preprocessor = preprocessor
        self.tft_layer = tf_transform_output.transform_features_layer()
        raw_spec = tf_transform_output.raw_feature_spec()
        self._text_spec = {contract.text_column: raw_spec[contract.text_column]}
        self._text_column = contract.text_column
        self._labelled_spec = {
            column: raw_spec[column] for column in (contract.text_column, contract.label_column)
        }
        self._class_names = tf.constant(list(contract.classes))
        self._num_classes = contract.num_classes

    def _encoder_scores(self, text: tf.Tensor) -> tf.Tensor:
        return tf.cast(self.model(self.preprocessor(tf.reshape(text, [-1])), training=False), tf.float32)

    def _scores(self, text: tf.Tensor) -> tf.Tensor:
        """[texts, classes] probabilities (components/combined_export.py adds the n-gram model)."""
        return self._encoder_scores(text)

    def _classify(self, text: tf.Tensor) -> dict:
        scores = self._scores(text)
        classes = tf.tile(tf.expand_dims(self._class_names, 0), [tf.shape(scores)[0], 1])
        return {features.CLASSES_KEY: classes, features.SCORES_KEY: scores}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.EXAMPLES_INPUT_KEY)])
    def serve_examples(self, inputs):
        parsed = tf.io.parse_example(inputs, self._text_spec)[self._text_column]
        if isinstance(parsed, tf.SparseTensor):
            parsed = tf.sparse.to_dense(parsed, default_value="")
        return self._classify(parsed)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.TEXT_INPUT_KEY)])
    def predict_text(self, text):
        return self._classify(text)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.TEXT_INPUT_KEY)])
    def explain_text(self, text):
        outputs = encoder_explain.explain_batch(self.model, self.preprocessor, text, self._num_classes)
        return {**outputs, **self._classify(text)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.TRANSFORM_INPUT_KEY)])
    def transform_features(self, examples):
        transformed = self.tft_layer(tf.io.parse_example(examples, self._labelled_spec))
        return {key: transformed[key] for key in (features.LENGTH_BUCKET_KEY, features.CLASS_ID_KEY)}


def export_encoder(
    model,
    preprocessor,
    tf_transform_output: tft.TFTransformOutput,
    export_dir: str,
    contract: DatasetContract,
    model_name: str,
) -> None:
    """Saves the encoder with its four signatures and TF Serving warm-up requests.

    Raises:
      ValueError: on the warm-up texts, the explanation's log-odds do not give the model's
        scores, or its attributions do not add up to them (components/encoder_explain.py).
    """
    module = EncoderExportModule(model, preprocessor, tf_transform_output, contract)
    signatures.save_export_module(
        module,
        export_dir,
        model_name,
        contract.text_column,
        check_explanation=encoder_explain.check_completeness,
    )


def graph_ops(export_dir: str) -> set:
    """Every op type in a SavedModel's graph and its functions (to check what a server must link)."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    with tf.io.gfile.GFile(f"{export_dir}/saved_model.pb", "rb") as handle:
        saved_model.ParseFromString(handle.read())
    ops = set()
    for meta_graph in saved_model.meta_graphs:
        ops |= {node.op for node in meta_graph.graph_def.node}
        for function in meta_graph.graph_def.library.function:
            ops |= {node.op for node in function.node_def}
    return ops
