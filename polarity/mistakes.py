"""The candidate's most confident mistakes on the eval split, with their word attributions.

The Trainer's model is loaded as TF Serving loads it (tf.saved_model.load), the span's
eval split is read from CsvExampleGen's output, and each example is scored through the
classify signature. Word attributions come from the model's own `explain_text`
signature (components/explain.py) when the model has one; an older model without it
shows its mistakes with their scores only.
"""

import dataclasses
import os

import tensorflow as tf
import tensorflow_text  # noqa: F401 (registers the ops the model's tokenizer uses, as TF Serving links them)

from components import features
from components.contract import DatasetContract

EVAL_SPLIT = "eval"
SERVING_MODEL_DIR = "Format-Serving"  # where TFX's Trainer writes the serving model
BATCH = 256


@dataclasses.dataclass
class Mistake:
    """One wrongly classified example."""

    text: str
    actual: str
    predicted: str
    confidence: float  # the score of the predicted class
    scores: dict[str, float]
    # (token, attribution towards the predicted class) in text order; None without explain_text.
    words: list[tuple[str, float]] | None = None


def model_path(model_uri: str) -> str:
    """The SavedModel inside a Trainer's `model` artifact."""
    serving = os.path.join(model_uri, SERVING_MODEL_DIR)
    return serving if tf.io.gfile.exists(serving) else model_uri


def read_split(examples_uri: str, contract: DatasetContract, split: str = EVAL_SPLIT) -> list[tuple]:
    """(serialized example, text, class index) of every labelled row of one split."""
    files = tf.io.gfile.glob(os.path.join(examples_uri, f"Split-{split}", "*"))
    rows = []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        example = tf.train.Example.FromString(record)
        found = example.features.feature
        text = _first_value(found.get(contract.text_column))
        label = contract.class_index(_first_value(found.get(contract.label_column)))
        if text is not None and label is not None:
            rows.append((record, text, label))
    return rows


def _first_value(feature):
    if feature is None:
        return None
    kind = feature.WhichOneof("kind")
    values = getattr(feature, kind).value if kind else []
    if not values:
        return None
    value = values[0]
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def score(model, serialized: list[bytes]) -> list[list[float]]:
    """Class scores of serialized tf.Examples through the classify signature."""
    classify = model.signatures[features.SERVING_SIGNATURE]
    scores = []
    for start in range(0, len(serialized), BATCH):
        batch = tf.constant(serialized[start : start + BATCH])
        scores += classify(**{features.EXAMPLES_INPUT_KEY: batch})[features.SCORES_KEY].numpy().tolist()
    return scores


def word_attributions(model, texts: list[str], class_ids: list[int]) -> list | None:
    """Each text's (token, attribution towards the class given for it); None when the model
    has no explain_text signature (a model exported before it existed)."""
    from components import explain

    signature = model.signatures.get(explain.EXPLAIN_SIGNATURE)
    if signature is None or not texts:
        return None
    found = signature(**{features.TEXT_INPUT_KEY: tf.constant(texts)})
    tokens = found[explain.TOKENS_KEY].numpy()
    counts = found[explain.TOKEN_COUNT_KEY].numpy()
    weights = found[explain.ATTRIBUTIONS_KEY].numpy()
    return [
        [
            (tokens[row][index].decode("utf-8", errors="replace"), float(weights[row][index][class_id]))
            for index in range(int(counts[row]))
        ]
        for row, class_id in enumerate(class_ids)
    ]


def most_confident_mistakes(
    model_uri: str, examples_uri: str, contract: DatasetContract, limit: int = 10
) -> list[Mistake]:
    """The `limit` wrongly classified eval examples the model was surest of, surest first.

    Args:
      model_uri: the Trainer's `model` artifact.
      examples_uri: CsvExampleGen's `examples` artifact (the span).
      contract: the class names and the text and label columns.
      limit: how many mistakes to keep.
    """
    rows = read_split(examples_uri, contract)
    model = tf.saved_model.load(model_path(model_uri))
    scores = score(model, [row[0] for row in rows])
    wrong = []
    for (_, text, actual), row_scores in zip(rows, scores, strict=True):
        predicted = max(range(len(row_scores)), key=row_scores.__getitem__)
        if predicted != actual:
            wrong.append((row_scores[predicted], text, actual, predicted, row_scores))
    wrong.sort(key=lambda item: -item[0])
    wrong = wrong[:limit]
    words = word_attributions(model, [item[1] for item in wrong], [item[3] for item in wrong])
    classes = contract.classes
    return [
        Mistake(
            text=text,
            actual=classes[actual],
            predicted=classes[predicted],
            confidence=round(confidence, 4),
            scores={name: round(value, 4) for name, value in zip(classes, row_scores, strict=False)},
            words=words[index] if words else None,
        )
        for index, (confidence, text, actual, predicted, row_scores) in enumerate(wrong)
    ]
