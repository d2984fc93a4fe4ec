"""Exact word attributions of the classifier, computed in the TF graph (`explain_text`).

The model (components/model.py) is additive in its n-grams: for each class c > 0,

    z_c = b_c + sum over the text's n-gram occurrences g of
              W_c . emb[g] / sqrt(n) + wide[g, c] * idf[g] / (m_g * sqrt(sum over distinct g of idf^2))

where n is the text's number of n-gram occurrences, m_g how often g occurs in it (the
wide part counts each distinct n-gram once, shared equally by its occurrences), idf
the wide part's fixed n-gram weights (1 each for a naive-Bayes start) and class 0's
logit is fixed at 0. So each
occurrence's contribution is known exactly, and SHAP values (in logit space) have a
closed form: a word n-gram's contribution is shared equally among the tokens it
spans, a character n-gram's goes to its one token, and the base value is the bias
b_c (the logit of a text with no n-grams). No sampling and no background data.

What is explained for each class c is its log-odds against the other classes,
z_c - mean of z_k over k != c, i.e. log(p_c / geometric mean of the others' p_k).
With two classes that is exactly log(p_c / (1 - p_c)), the log-odds SHAP's logit
link explains; with more, every class (the reference class too) gets attributions,
and a token's attributions over the classes sum to zero. It is linear in the
logits, so base value + sum of the token attributions = the class's log-odds.

The closed form runs in float32 from the variables; a model trained with mixed
precision (float16 layers on a GPU) agrees with it to float16 rounding, and export
checks on the warm-up texts that it reproduces the model's scores.
"""

import dataclasses

import keras
import tensorflow as tf

from components import preprocessing
from components.model import DEEP_EMBEDDING, IDF, LINEAR, WIDE, once_per_text
from components.text_features import TextFeatures

EXPLAIN_SIGNATURE = "explain_text"
TOKENS_KEY = "tokens"
TOKEN_COUNT_KEY = "token_count"
ATTRIBUTIONS_KEY = "attributions"
NGRAMS_KEY = "ngrams"
NGRAM_COUNT_KEY = "ngram_count"
NGRAM_ATTRIBUTIONS_KEY = "ngram_attributions"
BASE_VALUES_KEY = "base_values"
LOG_ODDS_KEY = "log_odds"
# How far (in probability) the closed form may stray from the model's own scores
# before export refuses the model: float16 layers on a GPU round to about 1e-3.
REPRODUCTION_TOLERANCE = 5e-3


@dataclasses.dataclass(frozen=True)
class AdditiveWeights:
    """The variables of the model's n-gram contributions (components/model.py)."""

    embeddings: tf.Variable  # [ids, embedding_dim], the deep part's n-gram embeddings
    kernel: tf.Variable  # [embedding_dim, classes - 1], its linear layer
    bias: tf.Variable  # [classes - 1], the base logits
    wide: tf.Variable  # [ids, classes - 1], the wide part's weight per n-gram
    idf: tf.Variable  # [ids, 1], the wide part's fixed weight of each n-gram's occurrences


def additive_weights(model: keras.Model) -> AdditiveWeights:
    """Finds the deep embedding, the linear layer, the wide weights and idf of `build_model`'s model.

    Raises:
      ValueError: the model is not built as components/model.py builds it.
    """
    names = (DEEP_EMBEDDING, LINEAR, WIDE, IDF)
    layers = {layer.name: layer for layer in model.layers}
    if not set(names) <= set(layers):
        raise ValueError(
            f"explain_text needs the model of components/model.py (layers {list(names)}); "
            f"this model has {sorted(layers)}"
        )
    deep, linear, wide, idf = (layers[name] for name in names)
    kernel, bias = linear.kernel, linear.bias
    if deep.embeddings.shape[1] != kernel.shape[0] or wide.embeddings.shape[1] != kernel.shape[1]:
        raise ValueError(
            f"explain_text: embedding {deep.embeddings.shape}, kernel {kernel.shape} and wide weights "
            f"{wide.embeddings.shape} do not fit together as components/model.py builds them"
        )
    return AdditiveWeights(deep.embeddings, kernel, bias, wide.embeddings, idf.embeddings)


def word_ngram_spans(tokens: tf.RaggedTensor, ngram_range: tuple) -> tuple:
    """(first token, width) of each word n-gram, in `tokenizer.word_ngrams`' order.

    tf.strings.ngrams emits every n-gram of the smallest width, then the next width,
    and none of a width longer than the text.
    """
    lengths = tokens.row_lengths()
    starts, widths = [], []
    low, high = ngram_range
    for width in range(low, high + 1):
        first = tf.ragged.range(tf.maximum(lengths - width + 1, 0))
        starts.append(first)
        widths.append(tf.ones_like(first) * width)
    return tf.concat(starts, axis=1), tf.concat(widths, axis=1)


def char_ngram_spans(tokens: tf.RaggedTensor, ngram_range: tuple) -> tuple:
    """(token, width 1) of each character n-gram, in `tokenizer.char_ngrams`' order.

    Each token, wrapped as "<token>", gives every n-gram of each width that fits,
    token after token; all of them belong to that one token.
    """
    wrapped_length = tf.strings.length(tokens.values, unit="UTF8_CHAR") + 2
    per_token = tf.zeros_like(wrapped_length, dtype=tf.int64)
    low, high = ngram_range
    for width in range(low, high + 1):
        per_token += tf.cast(tf.maximum(wrapped_length - width + 1, 0), tf.int64)
    positions = tf.ragged.range(tokens.row_lengths()).values
    owners = tf.repeat(positions, per_token)
    text_of_token = tf.repeat(tf.range(tokens.nrows()), tokens.row_lengths())
    per_text = tf.math.unsorted_segment_sum(per_token, text_of_token, tokens.nrows())
    starts = tf.RaggedTensor.from_row_lengths(owners, per_text)
    return starts, tf.ones_like(starts)


def ngram_spans(tokens: tf.RaggedTensor, text_features: TextFeatures) -> tuple:
    """(first token, width) of each n-gram, in `preprocessing.ngrams`' order."""
    starts, widths = word_ngram_spans(tokens, text_features.word_ngrams)
    if text_features.char_ngrams:
        char_starts, char_widths = char_ngram_spans(tokens, text_features.char_ngrams)
        starts = tf.concat([starts, char_starts], axis=1)
        widths = tf.concat([widths, char_widths], axis=1)
    return starts, widths


def ngram_contributions(ids: tf.RaggedTensor, weights: AdditiveWeights) -> tf.RaggedTensor:
    """Each n-gram occurrence's exact contribution to the logits, [texts, (n-grams), classes - 1].

    Args:
      ids: the model's n-gram ids (shifted by one, as the model takes them).
      weights: the model's variables.
    """
    flat = ids.values
    lengths = ids.row_lengths()
    # The deep part pools by sum / sqrt(count), with count at least 1; the wide part counts
    # each distinct n-gram once, weighed by its idf, over the root of the summed squares
    # (at least 1).
    deep_scale = tf.math.rsqrt(tf.cast(tf.maximum(lengths, 1), tf.float32))
    deep = (
        tf.matmul(tf.gather(weights.embeddings, flat), weights.kernel)
        * tf.repeat(deep_scale, lengths)[:, None]
    )
    idf = tf.gather(weights.idf, flat)[:, 0]
    rows = ids.value_rowids()
    share = once_per_text(rows, flat)
    norms = tf.math.unsorted_segment_sum(tf.square(idf) * share, rows, ids.nrows())
    wide_scale = tf.gather(tf.math.rsqrt(tf.maximum(norms, 1.0)), rows)
    wide = tf.gather(weights.wide, flat) * (idf * share * wide_scale)[:, None]
    return ids.with_values(deep + wide)


def token_attributions(contributions, starts, widths, tokens: tf.RaggedTensor) -> tf.RaggedTensor:
    """Shares each n-gram's contribution equally among the tokens it spans: [texts, (tokens), k]."""
    first_token = tf.repeat(tokens.row_starts(), starts.row_lengths()) + starts.values
    spanned = tf.ragged.range(first_token, first_token + widths.values)
    shares = tf.repeat(
        contributions.values / tf.cast(widths.values, tf.float32)[:, None], spanned.row_lengths(), axis=0
    )
    summed = tf.math.unsorted_segment_sum(
        shares, spanned.values, tf.shape(tokens.values, out_type=tf.int64)[0]
    )
    return tokens.with_values(summed)


def against_the_others(reference_logits: tf.Tensor) -> tf.Tensor:
    """Each class's log-odds against the others: z_c - mean of z_k (k != c), on the last axis.

    `reference_logits` holds classes 1.. (class 0's logit being 0); linear, so it maps
    logits, base values and attributions alike.
    """
    full = tf.concat([tf.zeros_like(reference_logits[..., :1]), reference_logits], axis=-1)
    classes = tf.cast(tf.shape(full)[-1], full.dtype)
    total = tf.reduce_sum(full, axis=-1, keepdims=True)
    return (full * classes - total) / (classes - 1)


def explain(text: tf.Tensor, ids, weights: AdditiveWeights, text_features: TextFeatures) -> dict:
    """Tokens, their exact attributions per class, base values and log-odds of a batch of texts.

    Args:
      text: [texts] strings.
      ids: the model's n-gram ids of the same texts (the Transform graph's output,
        shifted by one), a SparseTensor or RaggedTensor [texts, n-grams].
      weights: the model's variables.
      text_features: the n-grams Transform built (for where each n-gram lies).

    Returns:
      Dense tensors: tokens [texts, longest] ("" pads), token_count [texts],
      attributions [texts, longest, classes], ngrams [texts, most] and their
      ngram_count and ngram_attributions, base_values and log_odds [texts, classes].
    """
    if isinstance(ids, tf.SparseTensor):
        ids = tf.RaggedTensor.from_sparse(ids)
    tokens, grams = preprocessing.ngrams(text, text_features)
    starts, widths = ngram_spans(tokens, text_features)
    check = tf.debugging.assert_equal(
        starts.row_lengths(),
        ids.row_lengths(),
        message="explain_text: the n-grams found do not line up with the model's n-gram ids",
    )
    with tf.control_dependencies([check]):
        contributions = ngram_contributions(ids, weights)
    per_token = token_attributions(contributions, starts, widths, tokens)
    reference_logits = weights.bias + tf.reduce_sum(contributions, axis=1)
    bias = tf.broadcast_to(weights.bias, tf.shape(reference_logits))
    return {
        TOKENS_KEY: tokens.to_tensor(""),
        TOKEN_COUNT_KEY: tokens.row_lengths(),
        ATTRIBUTIONS_KEY: against_the_others(per_token.to_tensor(0.0)),
        NGRAMS_KEY: grams.to_tensor(""),
        NGRAM_COUNT_KEY: grams.row_lengths(),
        NGRAM_ATTRIBUTIONS_KEY: against_the_others(contributions.to_tensor(0.0)),
        BASE_VALUES_KEY: against_the_others(bias),
        LOG_ODDS_KEY: against_the_others(reference_logits),
    }


def check_reproduces_scores(log_odds, scores, tolerance: float = REPRODUCTION_TOLERANCE) -> None:
    """Raises if the explained log-odds do not give the model's own scores.

    softmax((classes - 1) / classes * log_odds) are the probabilities the log-odds
    describe; export runs this on the warm-up texts, so a model whose logits are not
    the closed form above is refused instead of explained wrongly.

    Raises:
      ValueError: with the largest difference.
    """
    classes = scores.shape[-1]
    implied = tf.nn.softmax(tf.constant(log_odds) * (classes - 1) / classes, axis=-1).numpy()
    difference = float(abs(implied - scores).max())
    if difference > tolerance:
        raise ValueError(
            f"explain_text's closed form gives scores {difference:.2g} away from the model's own "
            f"(tolerance {tolerance}): components/model.py is no longer additive in its n-grams as "
            "components/explain.py assumes; update the explanation with the model"
        )
