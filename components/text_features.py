"""How text becomes model features: word and character n-gram ranges and the vocabulary size.

No TensorFlow import, so configuration can build and check it; Transform receives it
through `custom_config`.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class TextFeatures:
    """The n-grams Transform builds from the tokens of `components.tokenizer`.

    Attributes:
      word_ngrams: (smallest, largest) word n-gram; scripts written without spaces
        (Chinese, Japanese, Thai) have one token per character, so these are
        character n-grams there.
      char_ngrams: (smallest, largest) character n-gram inside each word, the word
        wrapped in '<' and '>' as fastText does (for rich morphology); None: none.
      vocab_size: the most frequent n-grams of the training split that get an id.
    """

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] | None = None
    vocab_size: int = 100_000

    def __post_init__(self):
        object.__setattr__(self, "word_ngrams", tuple(self.word_ngrams))
        if self.char_ngrams is not None:
            object.__setattr__(self, "char_ngrams", tuple(self.char_ngrams))
        for name, ngrams in (("text.word_ngrams", self.word_ngrams), ("text.char_ngrams", self.char_ngrams)):
            if ngrams is None:
                continue
            if len(ngrams) != 2 or not 1 <= ngrams[0] <= ngrams[1] <= 8:
                raise ValueError(
                    f"{name}: give [smallest, largest] with 1 <= smallest <= largest <= 8, got {list(ngrams)}"
                )
        if self.vocab_size < 1:
            raise ValueError(f"text.vocab_size: must be at least 1, got {self.vocab_size}")

    def to_dict(self) -> dict:
        return {
            "word_ngrams": list(self.word_ngrams),
            "char_ngrams": list(self.char_ngrams) if self.char_ngrams else None,
            "vocab_size": self.vocab_size,
        }

    @classmethod
    def from_dict(cls, value: dict | None) -> "TextFeatures":
        value = dict(value or {})
        return cls(
            word_ngrams=tuple(value.get("word_ngrams", cls.word_ngrams)),
            char_ngrams=tuple(value["char_ngrams"]) if value.get("char_ngrams") else None,
            vocab_size=int(value.get("vocab_size", cls.vocab_size)),
        )
