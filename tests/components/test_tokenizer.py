"""The tokenizer keeps every script's words, emoji and emoticons, exactly."""

import pytest

from components import tokenizer

CASES = {
    "english": (
        "Great film!! I LOVED it :) <br/>Don't miss it...",
        ["great", "film", "!", "!", "i", "loved", "it", ":)", "don't", "miss", "it", ".", ".", "."],
    ),
    "french with accents": (
        "C'était un TRÈS bon film, vraiment génial.",
        ["c'était", "un", "très", "bon", "film", ",", "vraiment", "génial", "."],
    ),
    "german sharp s and full width": ("Straße ＦＵＬＬ", ["strasse", "full"]),
    "russian": ("Фильм был УЖАСНЫЙ, не смотрите!", ["фильм", "был", "ужасный", ",", "не", "смотрите", "!"]),
    # ZWNJ joins the two parts of one Persian word; Arabic yeh and kaf fold to the Persian forms.
    "persian": (
        "این فیلم خیلی خوب بود، می\u200cخواهم دوباره ببینمش. كتاب علي",
        ["این", "فیلم", "خیلی", "خوب", "بود", "میخواهم", "دوباره", "ببینمش", ".", "کتاب", "علی"],
    ),
    "chinese": (
        "这部电影非常好看！强烈推荐。",
        ["这", "部", "电", "影", "非", "常", "好", "看", "!", "强", "烈", "推", "荐"],
    ),
    "japanese": ("この映画は最高です。", ["こ", "の", "映", "画", "は", "最", "高", "で", "す"]),
    "emoji and emoticons": (
        "Loved it 😍👍🏽 so much ❤️ <3 :-( ;) :D",
        ["loved", "it", "😍", "👍", "so", "much", "❤", "<3", ":-(", ";)", ":d"],
    ),
    "digits and symbols": (
        "10/10, would watch again — $5 well-spent",
        ["10", "10", ",", "would", "watch", "again", "5", "well", "spent"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_tokens(name):
    import tensorflow as tf

    text, expected = CASES[name]
    tokens = tokenizer.tokenize(tf.constant([text])).to_list()[0]
    assert [token.decode("utf-8") for token in tokens] == expected


def test_the_same_word_on_an_arabic_and_a_persian_keyboard_is_one_token():
    import tensorflow as tf

    arabic, persian = tokenizer.tokenize(tf.constant(["كيك", "کیک"])).to_list()
    assert arabic == persian


def test_character_ngrams_wrap_each_word_and_never_equal_a_word_ngram():
    import tensorflow as tf

    tokens = tokenizer.tokenize(tf.constant(["кино"]))
    grams = [g.decode("utf-8") for g in tokenizer.char_ngrams(tokens, (3, 3)).to_list()[0]]
    assert grams == ["#<ки", "#кин", "#ино", "#но>"]


def test_word_ngrams_of_a_script_without_spaces_are_character_ngrams():
    import tensorflow as tf

    grams = tokenizer.word_ngrams(tokenizer.tokenize(tf.constant(["好看"])), (1, 2)).to_list()[0]
    assert [g.decode("utf-8") for g in grams] == ["好", "看", "好 看"]
