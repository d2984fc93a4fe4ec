"""User handles and links replaced by placeholders, as TweetEval's models read tweets.

Barbieri et al., "TweetEval" (Findings of EMNLP 2020), section 2.2, and the Cardiff NLP
Twitter models' cards: each space-separated token that starts with "@" (and is more than
"@") becomes "@user", each that starts with "http" becomes "http". A handle names an
account and a link is an address: neither says how the writer feels, and cut into word
pieces they fill a short text's mean-pooled encoding (an address is 15 pieces or more).
Core TensorFlow ops only (StaticRegexReplace), so the exported graph stays servable.
"""

import tensorflow as tf

USER = "@user"
LINK = "http"
_HANDLE = r"(^| )@[^ ]+"
_LINK = r"(^| )http[^ ]*"


def mask_handles_and_links(text) -> tf.Tensor:
    """[...] strings -> the same strings with handles and links replaced by placeholders."""
    text = tf.strings.regex_replace(text, _HANDLE, r"\1" + USER)
    return tf.strings.regex_replace(text, _LINK, r"\1" + LINK)
