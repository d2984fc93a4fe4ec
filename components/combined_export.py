"""The encoder and the n-gram model exported as one model: the n-grams read what the encoder did not.

The encoder (components/encoder_model.py) reads a text's first `sequence_length` word
pieces; the n-gram model (components/model.py) reads all of it. Each text's class
log-probabilities are

    w * the n-gram model's + (1 - w) * the encoder's   (then renormalised),

where w, the text's unread share, is the part of its word pieces ([CLS] and [SEP]
counted) beyond the encoder's window: 0 for a text that fits, 1 - 128 / 512 for a
512-piece review read through a 128-piece window. Nothing is fitted; measured offline
(benchmarks/ensemble_probe.py), the rule lifted golden IMDB from the encoder's 0.869 to
0.944 and left the short texts (RT, tweets) as the encoder scored them, where any fixed
weight on the n-grams cost the tweets.

The signatures are the encoder's (components/encoder_export.py). `explain_text`
explains each family in its own tokens, scaled by its weight: the encoder's word
pieces, then, for a text longer than the window, the n-gram model's words; so base
value + the sum of all attributions is still the combined log-odds (the n-gram part
exactly, the encoder's to integrated gradients' error). `ngram_weight` gives w.
"""

import tensorflow as tf
import tensorflow_transform as tft

from components import encoder_explain, encoder_model, explain, features, signatures
from components.contract import DatasetContract
from components.encoder_export import EncoderExportModule
from components.text_features import TextFeatures

NGRAM_WEIGHT_KEY = "ngram_weight"


def combine_scores(ngram_scores: tf.Tensor, encoder_scores: tf.Tensor, weight: tf.Tensor) -> tf.Tensor:
    """softmax(w * log p_ngrams + (1 - w) * log p_encoder), per text ([texts, classes])."""
    weight = tf.expand_dims(weight, -1)
    log_probabilities = weight * encoder_model.log_probabilities(ngram_scores) + (
        1.0 - weight
    ) * encoder_model.log_probabilities(encoder_scores)
    return tf.nn.softmax(log_probabilities, axis=-1)


def _ragged(outputs: dict, values_key: str, count_key: str) -> tf.RaggedTensor:
    return tf.RaggedTensor.from_tensor(outputs[values_key], lengths=outputs[count_key])


def _weighted_concat(encoder_part: dict, ngram_part: dict, weight: tf.Tensor, keys: tuple) -> dict:
    """One explanation channel (tokens or n-grams): the encoder's, then the n-gram model's where w > 0."""
    values_key, count_key, attributions_key = keys
    encoder_values = _ragged(encoder_part, values_key, count_key)
    ngram_values = _ragged(ngram_part, values_key, count_key)
    keep = ngram_values.with_flat_values(tf.repeat(weight > 0, ngram_values.row_lengths()))
    ngram_values = tf.ragged.boolean_mask(ngram_values, keep)
    encoder_attributions = _ragged(encoder_part, attributions_key, count_key)
    ngram_attributions = tf.ragged.boolean_mask(_ragged(ngram_part, attributions_key, count_key), keep)
    scale = weight[:, None, None]
    values = tf.concat([encoder_values, ngram_values], axis=1)
    attributions = tf.concat([encoder_attributions * (1.0 - scale), ngram_attributions * scale], axis=1)
    return {
        values_key: values.to_tensor(""),
        count_key: values.row_lengths(),
        attributions_key: attributions.to_tensor(0.0),
    }


class CombinedExportModule(EncoderExportModule):
    """The encoder's export module with the n-gram model beside it."""

    def __init__(
        self,
        model,
        preprocessor,
        ngram_model,
        tf_transform_output: tft.TFTransformOutput,
        contract: DatasetContract,
        text_features: TextFeatures,
    ):
        super().__init__(model, preprocessor, tf_transform_output, contract)
        self.ngram_model = ngram_model
        self._ngram_weights = explain.additive_weights(ngram_model)
        self._text_features = text_features

    def _transformed(self, text: tf.Tensor) -> dict:
        return self.tft_layer({self._text_column: tf.reshape(text, [-1, 1])})

    def _scores(self, text: tf.Tensor) -> tf.Tensor:
        text = tf.reshape(text, [-1])
        return combine_scores(
            signatures.ngram_scores(self.ngram_model, self._transformed(text)),
            self._encoder_scores(text),
            encoder_model.unread_share(self.preprocessor, text),
        )

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.TEXT_INPUT_KEY)])
    def explain_text(self, text):
        weight = encoder_model.unread_share(self.preprocessor, text)
        encoder_part = encoder_explain.explain_batch(self.model, self.preprocessor, text, self._num_classes)
        ngram_part = signatures.explain_ngrams(
            text, self._transformed(text), self._ngram_weights, self._text_features
        )
        scale = tf.expand_dims(weight, -1)
        outputs = {
            key: scale * ngram_part[key] + (1.0 - scale) * encoder_part[key]
            for key in (explain.BASE_VALUES_KEY, explain.LOG_ODDS_KEY)
        }
        for keys in (
            (explain.TOKENS_KEY, explain.TOKEN_COUNT_KEY, explain.ATTRIBUTIONS_KEY),
            (explain.NGRAMS_KEY, explain.NGRAM_COUNT_KEY, explain.NGRAM_ATTRIBUTIONS_KEY),
        ):
            outputs.update(_weighted_concat(encoder_part, ngram_part, weight, keys))
        return {**outputs, NGRAM_WEIGHT_KEY: weight, **self._classify(text)}


def export_combined(
    model,
    preprocessor,
    ngram_model,
    tf_transform_output: tft.TFTransformOutput,
    export_dir: str,
    contract: DatasetContract,
    model_name: str,
    text_features: TextFeatures,
) -> None:
    """Saves the combined model with the encoder's signatures and TF Serving warm-up requests.

    Raises:
      ValueError: on the warm-up texts, one long enough to pass the encoder's window
        among them, the explanation does not give the model's scores or its attributions
        do not add up to them.
    """
    module = CombinedExportModule(
        model, preprocessor, ngram_model, tf_transform_output, contract, text_features
    )
    long_text = " ".join(signatures.WARMUP_TEXTS * max(1, preprocessor.sequence_length // 8))
    signatures.save_export_module(
        module,
        export_dir,
        model_name,
        contract.text_column,
        check_texts=(*signatures.WARMUP_TEXTS, long_text),
        check_explanation=encoder_explain.check_completeness,
    )
