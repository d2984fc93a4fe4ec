"""How much of the fine-tuned weights should the exported encoder keep? WiSE-FT, measured.

Fine-tunes the encoder once, as the Trainer does (`encoder_training.train_encoder`, LP-FT:
the head fitted on the frozen encoder first), on reviews of an `encoder_bench` workspace's
span, keeping the weights fine-tuning started from. Then, for each share s of the
fine-tuned weights, sets the model to s * fine-tuned + (1 - s) * start
(components/weight_averaging.py) and scores, as balanced accuracy on exactly
encoder_bench's rows (golden IMDB and RT, the binary tweets), and on 3,000 other binary
tweets of the corpus's span (`tweets_dev`, to choose recipes on; no target):

- the encoder alone, and
- the encoder combined with that workspace's n-gram model as the exported model combines
  them (components/combined_export.py: the n-grams weigh the share of each text beyond
  the encoder's window).

s = 1 is plain LP-FT; s = 0 is the linear probe on the frozen encoder. With `--shares 1`
alone, any recipe (`--set training.encoder.*`) is fine-tuned and scored as it is.
`--seeds 1 2 3` fine-tunes once per seed on the same texts in another order (the spread is
training's own noise) and also scores their uniform soup, every run's fine-tuned weights
averaged (Wortsman et al., "Model soups", ICML 2022; runs that start from the same linear
probe share a basin). The shares are
scored on the very rows they are measured on, so the best row is an upper bound for a
share chosen in advance; the default is chosen before the run (0.5, the paper's). TFX 1.21
stack; no TFX run here (the span's CSV is read directly, shuffled with a fixed seed,
`--sample-seed`, 0 unless given).

    python -m benchmarks.weight_averaging_probe --workspace WS/encoder \\
        --ngrams WS/ngrams/serving/polarity/V --output benchmarks/results/weight-averaging.json \\
        --set training.encoder.cpu_sample_size=6000 --set training.encoder.sequence_length=128 \\
        --set training.encoder.epochs=1
"""

import argparse
import json
import os
import pathlib
import random
import tempfile
import time

import keras
import numpy as np

from benchmarks import datasets
from benchmarks.encoder_bench import (
    COMMON,
    TARGETS,
    environment,
    scored_sets,
    tweets_dev,
)
from benchmarks.ensemble_probe import (
    BATCH,
    binary_log_odds,
    log_odds,
    read_share_combination,
    scores_by_set,
    unread_share,
)
from polarity import cli

SHARES = tuple(round(step / 10, 1) for step in range(11))
SEED = 0
EVAL_TEXTS = 1000


def span_rows(config) -> list[tuple[str, int]]:
    """(text, class id) of every row of the workspace's span CSVs."""
    from polarity.data import read_reviews

    contract = config.data.contract()
    rows = []
    for path in sorted(pathlib.Path(config.data_root).rglob("*.csv")):
        rows += [(row["text"], contract.class_index(row["label"])) for row in read_reviews(path)]
    if not rows:
        raise SystemExit(
            f"{config.data_root}: no span CSV; run benchmarks.encoder_bench with this workspace first"
        )
    return rows


def windowed(rows, sequence_length: int, window: str, mask_handles_and_links: bool) -> list[tuple[str, int]]:
    """Each text of `rows` that the encoder cannot read whole, cut to whole words that fit
    its window: "head" keeps it as it is (the preprocessor reads its opening); "tail" keeps
    its closing words (a review's verdict); "head_tail" a quarter of the window from the
    opening and the rest from the closing (Sun et al., "How to fine-tune BERT for text
    classification?", CCL 2019). Words split on whitespace, which the word-piece
    tokenizer also splits on, so the kept pieces are exactly those of the kept words."""
    if window == "head":
        return rows
    import tensorflow as tf

    from components import encoder_model

    tokenizer = encoder_model.build_tokenizer(encoder_model.weights_dir(), mask_handles_and_links)
    words = [text.split() for text, _ in rows]
    pieces = tokenizer(tf.constant([word for text in words for word in text]))
    if not isinstance(pieces, tf.RaggedTensor):  # keras-hub answers eager calls in Python lists
        pieces = tf.ragged.constant(pieces, dtype=tf.int32)
    counts = np.split(pieces.row_lengths().numpy(), np.cumsum([len(text) for text in words])[:-1])
    budget = sequence_length - 2  # [CLS] and [SEP]
    head = budget // 4 if window == "head_tail" else 0
    cut = []
    for (text, label), kept, count in zip(rows, words, counts, strict=True):
        if count.sum() <= budget:
            cut.append((text, label))
            continue
        opening = int(np.searchsorted(np.cumsum(count), head, side="right"))  # words in `head` pieces
        left = budget - int(count[:opening].sum())
        closing = int(np.searchsorted(np.cumsum(count[::-1]), left, side="right"))
        cut.append((" ".join(kept[:opening] + kept[len(kept) - closing :]), label))
    return cut


def text_batches(rows, batch_size: int):
    import tensorflow as tf

    texts, labels = zip(*rows, strict=True)
    return tf.data.Dataset.from_tensor_slices((list(texts), np.asarray(labels, np.int32))).batch(batch_size)


def encoder_log_odds(model, preprocessor, texts: list[str]) -> np.ndarray:
    """log(p(second class) / p(first class)) of the Keras model, in batches."""
    import tensorflow as tf

    predict = tf.function(lambda text: model(preprocessor(text), training=False), reduce_retracing=True)
    values = []
    for start in range(0, len(texts), BATCH):
        values.append(binary_log_odds(predict(tf.constant(texts[start : start + BATCH])).numpy()))
    return np.concatenate(values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workspace", type=pathlib.Path, required=True, help="encoder_bench's encoder workspace."
    )
    parser.add_argument("--ngrams", type=pathlib.Path, required=True, help="The n-gram model's version dir.")
    parser.add_argument("--cache-dir", type=pathlib.Path, default=datasets.default_cache_dir())
    parser.add_argument("--output", type=pathlib.Path, required=True)
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[SEED], help="One fine-tuning per seed (data order, head)."
    )
    parser.add_argument(
        "--sample-seed",
        type=int,
        default=SEED,
        help="Draws which span texts are trained on (and held out); default %(default)s, every "
        "earlier probe's draw. Another seed measures how much the draw itself moves the scores.",
    )
    parser.add_argument(
        "--shares", type=float, nargs="+", default=SHARES, help="Fine-tuned shares to score (default 0-1)."
    )
    parser.add_argument(
        "--train-window",
        choices=("head", "tail", "head_tail"),
        default="head",
        help="Which words of a long training text the encoder reads (`windowed`); scoring reads the head.",
    )
    parser.add_argument(
        "--keep",
        type=pathlib.Path,
        help="Keep each run's fine-tuned weights and encoder log-odds (all sets, in order) here, "
        "with the n-grams' log-odds, the unread shares and the truth, for offline ensembles.",
    )
    cli.add_overrides_flag(parser)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from components import encoder_training, weight_averaging
    from components.hyperparameters import EncoderHyperparameters
    from polarity.config import load_config

    started = time.monotonic()
    # Averaging needs the probe's head at the start; share 1 alone scores any recipe as it is.
    head = ["training.encoder.head=linear_probe"] if min(args.shares) < 1 else []
    overrides = [*COMMON, "training.model=encoder", *head, *args.overrides]
    config = load_config(overrides=overrides, workspace=args.workspace)
    settings = EncoderHyperparameters.from_config(
        {**config.training.encoder.model_dump(), "fine_tuned_share": 1.0}
    )
    rows = span_rows(config)
    random.Random(args.sample_seed).shuffle(rows)
    train, held_out = rows[: settings.cpu_sample_size], rows[settings.cpu_sample_size :][:EVAL_TEXTS]
    train = windowed(train, settings.sequence_length, args.train_window, settings.mask_handles_and_links)
    num_classes = config.data.contract().num_classes
    if num_classes != 2:
        raise SystemExit("the probe scores log-odds: it needs a two-class contract")
    sets = scored_sets(config, args.cache_dir)
    # Scored, not a target: recipes are chosen on these, and the test tweets only report.
    sets["tweets_dev"] = [(row.text, row.label) for row in tweets_dev(args.cache_dir)]
    all_texts = [text for labelled in sets.values() for text, _ in labelled]
    ngrams, classes = log_odds(args.ngrams, all_texts)
    unread = unread_share(all_texts, settings.sequence_length)
    truth = {key: [label for _, label in labelled] for key, labelled in sets.items()}

    if args.keep:  # what an offline ensemble of kept runs needs besides their log-odds
        args.keep.mkdir(parents=True, exist_ok=True)
        np.savez(args.keep / "scored.npz", ngrams=ngrams, unread=unread, classes=np.asarray(classes))
        (args.keep / "truth.json").write_text(json.dumps(truth), encoding="utf-8")

    def score(model, preprocessor, keep_as: str | None = None) -> dict:
        encoder = encoder_log_odds(model, preprocessor, all_texts)
        if args.keep and keep_as:
            np.save(args.keep / f"{keep_as}-log-odds.npy", encoder)
        return {
            "encoder": scores_by_set(encoder, truth, classes),
            "combined": scores_by_set(read_share_combination(encoder, ngrams, unread), truth, classes),
        }

    runs, fine_tuned_weights = [], []
    for seed in args.seeds:
        # The same training texts each time; the seed orders them and draws the random weights.
        keras.utils.set_random_seed(seed)
        ordered = list(train)
        random.Random(seed).shuffle(ordered)
        keeper = weight_averaging.WeightAveraging(1.0)
        trained = time.monotonic()
        model, preprocessor = encoder_training.train_encoder(
            text_batches(ordered, settings.batch_size),
            text_batches(held_out, settings.batch_size),
            settings,
            num_classes,
            log_dir=tempfile.mkdtemp(prefix="polarity-wise-ft-"),
            averaging=keeper,
        )
        run = {"seed": seed, "train_seconds": round(time.monotonic() - trained, 1), "by_share": []}
        fine_tuned = model.get_weights()
        fine_tuned_weights.append(fine_tuned)
        if args.keep:
            np.savez(args.keep / f"seed-{seed}-weights.npz", *fine_tuned)
        for share in args.shares:
            model.set_weights(weight_averaging.averaged(keeper.start_weights, fine_tuned, share))
            kept = f"seed-{seed}" if share == 1 else None
            run["by_share"].append({"fine_tuned_share": share, **score(model, preprocessor, kept)})
            print(json.dumps({"seed": seed, **run["by_share"][-1]}), flush=True)
        runs.append(run)
    soup = None
    if len(fine_tuned_weights) > 1:  # the uniform soup: every run's fine-tuned weights averaged
        model.set_weights(weight_averaging.uniform_soup(fine_tuned_weights))
        soup = {"seeds": list(args.seeds), **score(model, preprocessor)}
        print(json.dumps({"soup": soup}), flush=True)
    result = {
        "benchmark": "the encoder fine-tuned once, scored at shares of its fine-tuned weights (issue 16)",
        "metric": "balanced accuracy",
        "recipe": {
            "overrides": overrides,
            "train_texts": len(train),
            "train_window": args.train_window,
            "eval_texts": len(held_out),
            "seed": args.sample_seed,
        },
        "averaging": "share * fine-tuned weights + (1 - share) * the linear probe's start",
        "ngrams": str(args.ngrams),
        "runs": runs,
        "uniform_soup": soup,
        "examples": {key: len(value) for key, value in sets.items()},
        "environment": environment(),
        "targets": TARGETS,
        "seconds": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
