"""Would the encoder combined with the n-gram model meet issue 16's targets? Scored offline.

Takes an n-gram model and an encoder model that `benchmarks/encoder_bench.py` trained on
the same spans (two pushed version directories) and scores, on exactly that benchmark's
rows (golden IMDB and RT, the binary tweets), the combination the issue proposes: class
log-odds alpha * n-grams + (1 - alpha) * encoder, for alpha from 0 (the encoder alone) to 1
(the n-grams alone). Balanced accuracy, as encoder_bench measures it. A second rule needs no
tuning: the encoder reads only its first `--sequence-length` word pieces, so the n-grams get
the share of the text it did not read (weight alpha + (1 - alpha) * unread). alpha is
picked here on the very rows it is scored on, so the best row is an upper bound for a
combination chosen on an eval split. No training here; TFX 1.21 stack (the encoder's
export needs tensorflow-text 2.20+).

    python -m benchmarks.ensemble_probe --ngrams WS/ngrams/serving/polarity/V \\
        --encoder WS/encoder/serving/polarity/V --workspace WS/encoder \\
        --sequence-length 128 --output benchmarks/results/encoder-ngram-combination.json
"""

import argparse
import json
import pathlib

import numpy as np

from benchmarks import datasets
from benchmarks.encoder_bench import (
    COMMON,
    TARGETS,
    balanced_accuracy,
    environment,
    scored_sets,
)

ALPHAS = tuple(round(step / 20, 2) for step in range(21))
BATCH = 256


def binary_log_odds(scores) -> np.ndarray:
    """log(p(second class) / p(first class)) of [texts, 2] probabilities, clipped away from 0."""
    scores = np.clip(np.asarray(scores, np.float64), 1e-7, 1)
    return np.log(scores[:, 1] / scores[:, 0])


def by_sign(values: np.ndarray, classes: list[str]) -> list[str]:
    """The second class where the log-odds are positive, else the first."""
    return [classes[1] if value > 0 else classes[0] for value in values]


def read_share_combination(encoder: np.ndarray, ngrams: np.ndarray, unread: np.ndarray) -> np.ndarray:
    """The exported combined model's log-odds (components/combined_export.py): the n-grams
    weigh the share of each text beyond the encoder's window, the encoder the rest."""
    return unread * ngrams + (1 - unread) * encoder


def scores_by_set(values: np.ndarray, truth: dict[str, list[str]], classes: list[str]) -> dict:
    """Balanced accuracy of log-odds laid out set after set, in `truth`'s order, per set,
    and whether issue 16's targets are all met (a target whose set is absent is not)."""
    row, start = {}, 0
    for key, labels in truth.items():
        end = start + len(labels)
        row[key] = balanced_accuracy(labels, by_sign(values[start:end], classes))
        start = end
    row["targets_met"] = all(key in row and row[key] >= floor for key, floor in TARGETS.items())
    return row


def log_odds(model_dir: pathlib.Path, texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each text's log(p(second class) / p(first class)) from `predict_text`, and the class names."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 (the encoder's tokenizer ops)

    from components import features

    predict = tf.saved_model.load(str(model_dir)).signatures[features.PREDICT_TEXT_SIGNATURE]
    values, classes = [], None
    for start in range(0, len(texts), BATCH):
        outputs = predict(**{features.TEXT_INPUT_KEY: tf.constant(texts[start : start + BATCH])})
        values.append(binary_log_odds(outputs["scores"].numpy()))
        classes = [name.decode("utf-8") for name in outputs["classes"].numpy()[0]]
    return np.concatenate(values), classes


def unread_share(texts: list[str], sequence_length: int) -> np.ndarray:
    """Each text's share of word pieces beyond the encoder's window, as the combined model
    computes it (components/combined_export.py)."""
    import tensorflow as tf

    from components import encoder_model

    preprocessor = encoder_model.build_preprocessor(encoder_model.weights_dir(), sequence_length)
    return encoder_model.unread_share(preprocessor, tf.constant(texts)).numpy().astype(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ngrams", type=pathlib.Path, required=True, help="The n-gram model's version dir.")
    parser.add_argument("--encoder", type=pathlib.Path, required=True, help="The encoder's version dir.")
    parser.add_argument("--workspace", type=pathlib.Path, required=True, help="Either run's workspace.")
    parser.add_argument("--cache-dir", type=pathlib.Path, default=datasets.default_cache_dir())
    parser.add_argument(
        "--sequence-length", type=int, default=128, help="The encoder's training.encoder.sequence_length."
    )
    parser.add_argument("--output", type=pathlib.Path, required=True)
    args = parser.parse_args()
    from polarity.config import load_config

    config = load_config(overrides=list(COMMON), workspace=args.workspace)
    sets = scored_sets(config, args.cache_dir)
    rules = {"alpha": {alpha: {} for alpha in ALPHAS}, "alpha_plus_unread": {alpha: {} for alpha in ALPHAS}}
    # Each model and the tokenizer load once and score every set's texts in one pass.
    all_texts = [text for rows in sets.values() for text, _ in rows]
    all_ngrams, classes = log_odds(args.ngrams, all_texts)
    all_encoder, encoder_classes = log_odds(args.encoder, all_texts)
    if classes != encoder_classes:
        raise SystemExit(f"the models' classes differ: {classes} and {encoder_classes}")
    all_unread = unread_share(all_texts, args.sequence_length)
    unread_means, start = {}, 0
    for key, rows in sets.items():
        truth, end = [label for _, label in rows], start + len(rows)
        ngrams, encoder, unread = all_ngrams[start:end], all_encoder[start:end], all_unread[start:end]
        start = end
        unread_means[key] = round(float(unread.mean()), 3)
        for alpha in ALPHAS:
            for rule, weight in (("alpha", alpha), ("alpha_plus_unread", alpha + (1 - alpha) * unread)):
                combined = weight * ngrams + (1 - weight) * encoder
                rules[rule][alpha][key] = balanced_accuracy(truth, by_sign(combined, classes))
    by_rule = {}
    for rule, table in rules.items():
        by_rule[rule] = [{"alpha": alpha, **values} for alpha, values in table.items()]
        for row in by_rule[rule]:
            row["targets_met"] = all(row[key] >= floor for key, floor in TARGETS.items())
    result = {
        "benchmark": "encoder and n-gram combination (issue 16)",
        "metric": "balanced accuracy",
        "combination": {
            "alpha": "alpha * n-gram log-odds + (1 - alpha) * encoder log-odds",
            "alpha_plus_unread": "the same with weight alpha + (1 - alpha) * the text's unread share",
        },
        "models": {"ngrams": str(args.ngrams), "encoder": str(args.encoder)},
        "encoder_sequence_length": args.sequence_length,
        "examples": {key: len(value) for key, value in sets.items()},
        "mean_unread_share": unread_means,
        "environment": environment(),
        "targets": TARGETS,
        "by_rule": by_rule,
        "any_row_meets_all_targets": any(row["targets_met"] for rows in by_rule.values() for row in rows),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(by_rule, indent=1))


if __name__ == "__main__":
    main()
