"""Handles and links become placeholders exactly as TweetEval's own preprocessing does."""

import tensorflow as tf

from components import social_text


def tweeteval_preprocess(text: str) -> str:
    """The reference: the preprocessing of Cardiff NLP's Twitter model cards (TweetEval,
    Barbieri et al. 2020, section 2.2), as published."""
    new_text = []
    for t in text.split(" "):
        t = "@user" if t.startswith("@") and len(t) > 1 else t
        t = "http" if t.startswith("http") else t
        new_text.append(t)
    return " ".join(new_text)


TEXTS = [
    "@united seriously? UA 806. Delayed http://t.co/tzsTHflhZ0 #fail",
    "RT @TheStreet: Can @Apple survive? https://t.co/N65qhPiM8K",
    "@a @b  @c, thanks!",
    "write to me@example.com or @ the desk",  # an address inside a word, and "@" alone, stay
    "httpd is a server; see http:// and www.example.com",
    "Loved it. Best film of the year",
    "Über @Zoë — très bien http",
    "",
]


def test_handles_and_links_are_masked_as_tweeteval_masks_them():
    masked = social_text.mask_handles_and_links(tf.constant(TEXTS)).numpy()
    assert [text.decode() for text in masked] == [tweeteval_preprocess(text) for text in TEXTS]
    assert masked[0].decode() == "@user seriously? UA 806. Delayed http #fail"


def test_a_single_text_keeps_its_shape():
    masked = social_text.mask_handles_and_links(tf.constant("thanks @JetBlue"))
    assert masked.shape == () and masked.numpy() == b"thanks @user"
