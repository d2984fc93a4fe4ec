"""Word-piece attributions of the encoder model: integrated gradients over token embeddings.

The encoder is not additive in its tokens, so the n-gram model's closed form
(components/explain.py) does not apply. Integrated gradients (Sundararajan et al., 2017)
attribute f(x) - f(x') to the input features along the straight path from a baseline x'
to x; here the features are the word pieces' token embeddings, the baseline keeps
[CLS], [SEP] and padding and zeroes every word piece's embedding, and f is each class's
log-odds against the others (as components/explain.py explains the n-gram model). So

    base value (the baseline's log-odds) + sum of a text's attributions ~= its log-odds,

up to the error of the Riemann sum over `IG_STEPS` points (midpoint rule); export checks
that error on the warm-up texts (`COMPLETENESS_TOLERANCE`). The outputs are the n-gram
model's (serving/explanations.py), each word piece being its own "n-gram". An ensemble's
(components/encoder_ensemble.py) are the mean of its members': its log-odds are theirs
averaged, and integrated gradients are linear in the function explained.
"""

import tensorflow as tf

from components import encoder_ensemble, encoder_model, explain

# An ensemble's explanation averages these of its members' (the word pieces are the same).
AVERAGED_KEYS = (explain.ATTRIBUTIONS_KEY, explain.BASE_VALUES_KEY, explain.LOG_ODDS_KEY)

IG_STEPS = 32
# Largest |base value + sum of attributions - log-odds| allowed on the warm-up texts, in nats.
COMPLETENESS_TOLERANCE = 0.1


def logits_from_token_embeddings(model, token_embeddings, segment_ids, padding_mask) -> tf.Tensor:
    """The model's class logits, [batch, classes], from its token embeddings (the rest as in its call)."""
    backbone = encoder_model.backbone(model)
    x = backbone.embeddings_add(
        (
            token_embeddings,
            backbone.position_embedding(token_embeddings),
            backbone.segment_embedding(segment_ids),
        )
    )
    x = backbone.embeddings_layer_norm(x)
    for layer in backbone.transformer_layers:
        x = layer(x, padding_mask=padding_mask)
    sequence = tf.cast(x, tf.float32)
    mask = tf.expand_dims(tf.cast(padding_mask, tf.float32), -1)
    pooled = tf.reduce_sum(sequence * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)
    head = model.get_layer(encoder_model.HEAD_LAYER)
    return tf.matmul(pooled, tf.cast(head.kernel, tf.float32)) + tf.cast(head.bias, tf.float32)


def log_odds(logits: tf.Tensor) -> tf.Tensor:
    """Each class's logit minus the mean of the others' (explain.against_the_others on full logits)."""
    return explain.against_the_others(logits[..., 1:] - logits[..., :1])


def explain_batch(model, preprocessor, text: tf.Tensor, num_classes: int, steps: int = IG_STEPS) -> dict:
    """The explanation outputs of serving/explanations.py for a batch of texts (graph-friendly).

    Args:
      model: the encoder model (components/encoder_model.py), or an ensemble of them.
      preprocessor: its text preprocessor (the tokenizer inside).
      text: [texts] strings.
      num_classes: number of classes (one gradient pass per class).
      steps: points on the path from the baseline to the text.
    """
    pieces = _word_pieces(preprocessor, text)  # once: every member reads the same pieces
    parts = [_attributions(member, pieces, num_classes, steps) for member in encoder_ensemble.members(model)]
    if len(parts) > 1:
        parts[0] = {key: tf.add_n([part[key] for part in parts]) / len(parts) for key in AVERAGED_KEYS}
    tokens = tf.ragged.boolean_mask(pieces["tokens"], pieces["content"])
    attributions = tf.ragged.boolean_mask(parts[0][explain.ATTRIBUTIONS_KEY], pieces["content"])
    dense_tokens, dense_attributions = tokens.to_tensor(""), attributions.to_tensor(0.0)
    return {
        explain.TOKENS_KEY: dense_tokens,
        explain.TOKEN_COUNT_KEY: tokens.row_lengths(),
        explain.ATTRIBUTIONS_KEY: dense_attributions,
        explain.NGRAMS_KEY: dense_tokens,
        explain.NGRAM_COUNT_KEY: tokens.row_lengths(),
        explain.NGRAM_ATTRIBUTIONS_KEY: dense_attributions,
        explain.BASE_VALUES_KEY: parts[0][explain.BASE_VALUES_KEY],
        explain.LOG_ODDS_KEY: parts[0][explain.LOG_ODDS_KEY],
    }


def _word_pieces(preprocessor, text: tf.Tensor) -> dict:
    """The texts' encoder inputs cut to the longest text (padding beyond it changes nothing),
    each piece's string, and which pieces are content (not [CLS], [SEP] or padding)."""
    inputs = preprocessor(text)
    padding_mask = tf.cast(inputs[encoder_model.PADDING_MASK_KEY], tf.int32)
    longest = tf.reduce_max(tf.reduce_sum(padding_mask, axis=1))
    token_ids = inputs[encoder_model.TOKEN_IDS_KEY][:, :longest]
    padding_mask = padding_mask[:, :longest]
    tokenizer = preprocessor.tokenizer
    special = (
        tf.equal(token_ids, tokenizer.cls_token_id)
        | tf.equal(token_ids, tokenizer.sep_token_id)
        | tf.equal(padding_mask, 0)
    )
    return {
        "token_ids": token_ids,
        "segment_ids": inputs[encoder_model.SEGMENT_IDS_KEY][:, :longest],
        "padding_mask": padding_mask,
        "special": special,
        "content": tf.logical_not(special),
        "tokens": tf.gather(tf.constant(tokenizer.get_vocabulary()), token_ids),
    }


def _attributions(model, pieces: dict, num_classes: int, steps: int) -> dict:
    """One model's attributions [batch, length, classes] of every piece (zero where special),
    base values and log-odds."""
    token_ids, segment_ids, padding_mask = pieces["token_ids"], pieces["segment_ids"], pieces["padding_mask"]
    embeddings = encoder_model.backbone(model).token_embedding(token_ids)
    baseline = tf.where(tf.expand_dims(pieces["special"], -1), embeddings, tf.zeros_like(embeddings))
    alphas = (tf.range(steps, dtype=tf.float32) + 0.5) / steps
    batch, length, width = tf.shape(embeddings)[0], tf.shape(embeddings)[1], tf.shape(embeddings)[2]
    delta = tf.cast(embeddings - baseline, tf.float32)
    path = tf.cast(baseline, tf.float32)[None] + alphas[:, None, None, None] * delta[None]
    path = tf.reshape(path, [steps * batch, length, width])

    def tiled(values):
        return tf.reshape(tf.tile(values[None], [steps, 1, 1]), [steps * batch, length])

    with tf.GradientTape(persistent=True) as tape:
        tape.watch(path)
        path_odds = log_odds(
            logits_from_token_embeddings(
                model, tf.cast(path, embeddings.dtype), tiled(segment_ids), tiled(padding_mask)
            )
        )
        per_class = [tf.reduce_sum(path_odds[:, c]) for c in range(num_classes)]
    attributions = []
    for c in range(num_classes):
        gradient = tf.reduce_mean(
            tf.reshape(tape.gradient(per_class[c], path), [steps, batch, length, width]), 0
        )
        attributions.append(tf.reduce_sum(gradient * delta, axis=-1))
    del tape
    logits = logits_from_token_embeddings(model, embeddings, segment_ids, padding_mask)
    base_logits = logits_from_token_embeddings(model, baseline, segment_ids, padding_mask)
    return {
        explain.ATTRIBUTIONS_KEY: tf.stack(attributions, axis=-1),
        explain.BASE_VALUES_KEY: log_odds(base_logits),
        explain.LOG_ODDS_KEY: log_odds(logits),
    }


def check_completeness(outputs: dict, tolerance: float = COMPLETENESS_TOLERANCE) -> float:
    """Raises ValueError if base value + summed attributions strays from the log-odds; returns the gap."""
    total = outputs[explain.BASE_VALUES_KEY] + tf.reduce_sum(outputs[explain.ATTRIBUTIONS_KEY], axis=1)
    gap = float(tf.reduce_max(tf.abs(total - outputs[explain.LOG_ODDS_KEY])))
    if gap > tolerance:
        raise ValueError(
            f"explain_text: integrated gradients leave {gap:.3g} nats unexplained (tolerance {tolerance}); "
            f"raise components.encoder_explain.IG_STEPS ({IG_STEPS})"
        )
    return gap
