"""Word attributions as the server and its clients see them: `:explain` and `Explanation`.

`:explain` is KServe's V1 verb (POST /v1/models/NAME[/versions/V]:explain), an
extension of TF Serving's REST API: the body is :predict's (`{"instances": [texts]}`
or `{"inputs": ...}`), the model's explanation signature runs on it, and the answer
is KServe's shape, `{"predictions": [...], "explanations": [...]}`, one of each per
instance. The server knows the signature only by its name and outputs below (the
model exports them, components/explain.py); it never imports the training code.
"""

import dataclasses

import numpy as np

from serving import json_tensor

# The explanation signature and its outputs, as the exported model names them.
EXPLAIN_SIGNATURE = "explain_text"
TOKENS, TOKEN_COUNT, ATTRIBUTIONS = "tokens", "token_count", "attributions"
NGRAMS, NGRAM_COUNT, NGRAM_ATTRIBUTIONS = "ngrams", "ngram_count", "ngram_attributions"
BASE_VALUES, LOG_ODDS, CLASSES, SCORES = "base_values", "log_odds", "classes", "scores"
OUTPUTS = (
    TOKENS,
    TOKEN_COUNT,
    ATTRIBUTIONS,
    NGRAMS,
    NGRAM_COUNT,
    NGRAM_ATTRIBUTIONS,
    BASE_VALUES,
    LOG_ODDS,
    CLASSES,
    SCORES,
)
# Only a model that combines the encoder with the n-gram model answers it: the n-gram
# model's weight in each text's score (components/combined_export.py).
NGRAM_WEIGHT = "ngram_weight"
EXPLANATIONS_KEY = "explanations"


@dataclasses.dataclass(frozen=True)
class Explanation:
    """Why the model scored one text as it did.

    Each class's log-odds (log of its probability over the geometric mean of the
    others'; with two classes, log(p / (1 - p))) is its base value plus the sum of
    its token attributions; a word n-gram's share is split evenly among its tokens.

    Attributes:
      tokens: the model's tokens of the text, in order.
      attributions: class -> one value per token.
      base_values: class -> log-odds of a text with no n-grams.
      log_odds: class -> the log-odds explained.
      scores: class -> probability, as :predict answers it.
      ngrams: the n-grams the model saw, in its order.
      ngram_attributions: class -> each n-gram's whole contribution.
      ngram_weight: for a model combining the encoder with the n-gram model, the n-gram
        model's weight in this text's score (the tokens are the encoder's word pieces,
        then, where the weight is above 0, the n-gram model's words); None otherwise.
    """

    tokens: list
    attributions: dict
    base_values: dict
    log_odds: dict
    scores: dict
    ngrams: list
    ngram_attributions: dict
    ngram_weight: float | None = None

    @property
    def classes(self) -> list:
        return list(self.scores)

    @property
    def top_class(self) -> str:
        return max(self.scores, key=self.scores.get)

    def top_ngrams(self, class_name: str, count: int = 10) -> list:
        """(n-gram, summed contribution, occurrences) with the largest |contribution| to a class."""
        totals: dict = {}
        for gram, value in zip(self.ngrams, self.ngram_attributions[class_name], strict=True):
            total, seen = totals.get(gram, (0.0, 0))
            totals[gram] = (total + value, seen + 1)
        ranked = sorted(totals.items(), key=lambda item: -abs(item[1][0]))
        return [(gram, total, seen) for gram, (total, seen) in ranked[:count]]

    def to_json(self) -> dict:
        # Not dataclasses.asdict: it deep-copies every list, 3 ms of a 200-word review's answer.
        answer = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        if self.ngram_weight is None:
            del answer[NGRAM_WEIGHT]
        return answer

    @classmethod
    def from_json(cls, value: dict) -> "Explanation":
        return cls(
            **{field.name: value[field.name] for field in dataclasses.fields(cls) if field.name in value}
        )


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _by_class(names: list, values) -> dict:
    """class -> value, or class -> list of values when `values` is [items, classes]."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        return {name: float(value) for name, value in zip(names, values, strict=True)}
    return {name: values[:, column].tolist() for column, name in enumerate(names)}


def explanations_from(outputs: dict) -> list:
    """One Explanation per text from the explanation signature's outputs (numpy arrays)."""
    explanations = []
    for row in range(len(outputs[SCORES])):
        names = [_text(name) for name in outputs[CLASSES][row]]
        tokens = int(outputs[TOKEN_COUNT][row])
        grams = int(outputs[NGRAM_COUNT][row])
        explanations.append(
            Explanation(
                tokens=[_text(token) for token in outputs[TOKENS][row][:tokens]],
                attributions=_by_class(names, outputs[ATTRIBUTIONS][row][:tokens]),
                base_values=_by_class(names, outputs[BASE_VALUES][row]),
                log_odds=_by_class(names, outputs[LOG_ODDS][row]),
                scores=_by_class(names, outputs[SCORES][row]),
                ngrams=[_text(gram) for gram in outputs[NGRAMS][row][:grams]],
                ngram_attributions=_by_class(names, outputs[NGRAM_ATTRIBUTIONS][row][:grams]),
                ngram_weight=float(outputs[NGRAM_WEIGHT][row]) if NGRAM_WEIGHT in outputs else None,
            )
        )
    return explanations


def check_signature(signature) -> None:
    """Raises ValueError unless `signature` answers every output an explanation needs."""
    missing = sorted(set(OUTPUTS) - set(signature.outputs))
    if missing or len(signature.inputs) != 1:
        raise ValueError(
            f"signature '{signature.name}' is not an explanation signature: it takes "
            f"{sorted(signature.inputs)} (one text input expected) and lacks outputs {missing}"
        )


def explain_response(outputs: dict) -> dict:
    """The :explain answer: KServe V1's `predictions` and `explanations`, one per instance."""
    explanations = explanations_from(outputs)
    predictions = [
        {CLASSES: explanation.classes, SCORES: list(explanation.scores.values())}
        for explanation in explanations
    ]
    return {
        json_tensor.PREDICTIONS_KEY: predictions,
        EXPLANATIONS_KEY: [explanation.to_json() for explanation in explanations],
    }


def explain_locally(version_dir, texts: list) -> list:
    """Explains texts with a version directory's model loaded in this process (no server).

    Raises:
      servable.LoadError: the directory does not hold a loadable SavedModel.
      ValueError: its model has no explanation signature.
    """
    from serving import servable

    loaded = servable.Servable.load(0, version_dir)
    signature = loaded.signatures.get(EXPLAIN_SIGNATURE)
    if signature is None:
        raise ValueError(f"the model in {version_dir} has no {EXPLAIN_SIGNATURE!r} signature to explain with")
    check_signature(signature)
    (input_name,) = signature.inputs
    texts_array = np.empty(len(texts), dtype=object)
    texts_array[:] = [text.encode("utf-8") for text in texts]
    return explanations_from(loaded.run(EXPLAIN_SIGNATURE, {input_name: texts_array}))
