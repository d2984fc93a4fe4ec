"""A fast probe of text features and training settings, without the TFX pipeline.

Runs the pipeline's own tokenizer and n-grams (components.preprocessing, TF ops), an
exact top-k vocabulary counted as components.vocabulary counts it, and the Trainer's
own model and fit (components.training.train_model) on the train/eval rows a past
pipeline run's CsvExampleGen wrote, then scores the eval split (per source) and, for
a benchmark corpus, its held-out test rows. A minute or two per setting instead of a
full pipeline run; confirm a winner with the real benchmarks. Usage:

    .venv/bin/python -m benchmarks.ngram_probe --examples WORKSPACE/pipeline_root/CsvExampleGen/examples/1 \
        [--corpus tweets] --set text.char_ngrams=[1,5] --set training.epochs=4 --repeat 2 --seed 1

Experiments the pipeline does not offer (the probe patches them in, nothing else):
`--char-mode text` takes character n-grams over the tokens joined by spaces, across
word boundaries; `--char-mode raw` over the whole normalised text, as scikit-learn's
'char' analyzer does; `--unique` keeps each n-gram once per text; `--nb-scale` and
`--nb-alpha` scale the naive-Bayes initial wide weights and set their smoothing.
`--seed` seeds Keras (run r gets seed + r); TF's data shuffling and threading still
vary a little from run to run.
"""

import argparse
import collections
import heapq
import json
import os
import pathlib
import tempfile
import time

import numpy as np

from polarity import cli


def read_split(directory: pathlib.Path) -> tuple[list[str], list[str], list[str]]:
    """(texts, labels, sources) of one ExampleGen split."""
    import tensorflow as tf

    texts, labels, sources = [], [], []
    for path in sorted(directory.glob("*.gz")):
        for record in tf.data.TFRecordDataset([str(path)], compression_type="GZIP").as_numpy_iterator():
            feature = tf.train.Example.FromString(record).features.feature
            texts.append(feature["text"].bytes_list.value[0].decode("utf-8"))
            label = feature["label"]
            kind = label.WhichOneof("kind")
            value = getattr(label, kind).value[0]
            labels.append(value.decode("utf-8") if isinstance(value, bytes) else str(value))
            source = feature.get("source")
            sources.append(source.bytes_list.value[0].decode("utf-8") if source is not None else "")
    return texts, labels, sources


CHAR_MODE = "word"
UNIQUE = False


def text_char_ngrams(tokens, ngram_range):
    """Character n-grams over the tokens joined by spaces (as sklearn's 'char' analyzer)."""
    import tensorflow as tf

    joined = tf.strings.join([" ", tf.strings.reduce_join(tokens, axis=1, separator=" "), " "])
    chars = tf.strings.unicode_split(joined, "UTF-8")
    low, high = ngram_range
    grams = tf.strings.ngrams(chars, ngram_width=tuple(range(low, high + 1)), separator="")
    return tf.strings.join(["#", grams])


def grams_of(texts: list[str], text_features) -> list[np.ndarray]:
    """The n-grams preprocessing.ngrams builds for each text."""
    import tensorflow as tf

    from components import preprocessing, tokenizer

    out = []
    for start in range(0, len(texts), 2048):
        if CHAR_MODE == "raw":
            batch = tf.constant(texts[start : start + 2048])
            tokens = tokenizer.tokenize(batch)
            grams = tokenizer.word_ngrams(tokens, text_features.word_ngrams)
            if text_features.char_ngrams:
                norm = tf.strings.regex_replace(tokenizer.normalize(batch), r"\s+", " ")
                chars = tf.strings.unicode_split(norm, "UTF-8")
                low, high = text_features.char_ngrams
                cg = tf.strings.ngrams(chars, ngram_width=tuple(range(low, high + 1)), separator="")
                grams = tf.concat([grams, tf.strings.join(["#", cg])], axis=1)
        elif CHAR_MODE == "text":
            tokens = tokenizer.tokenize(tf.constant(texts[start : start + 2048]))
            grams = tokenizer.word_ngrams(tokens, text_features.word_ngrams)
            if text_features.char_ngrams:
                grams = tf.concat([grams, text_char_ngrams(tokens, text_features.char_ngrams)], axis=1)
        else:
            _, grams = preprocessing.ngrams(tf.constant(texts[start : start + 2048]), text_features)
        values, splits = grams.values.numpy(), grams.row_splits.numpy()
        out += [values[a:b] for a, b in zip(splits[:-1], splits[1:], strict=True)]
    if UNIQUE:
        out = [np.unique(row) for row in out]
    return out


def to_ids(grams: list[np.ndarray], index: dict, oov: int) -> list[np.ndarray]:
    return [np.fromiter((index.get(g, oov) for g in row), np.int64, len(row)) for row in grams]


def dataset(ids: list[np.ndarray], labels: np.ndarray, batch_size: int, shuffle: bool):
    import tensorflow as tf

    from components import features

    ragged = tf.RaggedTensor.from_row_lengths(
        np.concatenate(ids) if ids else np.zeros(0, np.int64), [len(row) for row in ids]
    )
    data = tf.data.Dataset.from_tensor_slices((ragged, labels))
    if shuffle:
        data = data.shuffle(len(ids), reshuffle_each_iteration=True)
    return data.batch(batch_size).map(lambda x, y: ({features.NGRAM_IDS_KEY: x.to_tensor(-1) + 1}, y))


def probe(splits, classes, text_features, hparams, seed=None) -> dict:
    import keras
    from sklearn.metrics import accuracy_score, f1_score

    from components import training

    if seed is not None:
        keras.utils.set_random_seed(seed)
    started = time.monotonic()
    grams = {name: grams_of(rows[0], text_features) for name, rows in splits.items()}
    counts = collections.Counter()
    for row in grams["train"]:
        counts.update(row.tolist())
    top = heapq.nlargest(text_features.vocab_size, counts.items(), key=lambda item: (item[1], item[0]))
    index = {gram: i for i, (gram, _) in enumerate(top)}
    vocab_size = len(index) + 1
    ids = {name: to_ids(rows, index, len(index)) for name, rows in grams.items()}
    labels = {name: np.array([classes.index(y) for y in rows[1]]) for name, rows in splits.items()}
    featurize_seconds = time.monotonic() - started
    with tempfile.TemporaryDirectory() as log_dir:
        model = training.train_model(
            dataset(ids["train"], labels["train"], hparams.batch_size, True),
            dataset(ids["eval"], labels["eval"], hparams.batch_size, False),
            hparams,
            log_dir,
            vocab_size,
            len(classes),
        )
    result = {
        "distinct_train_ngrams": len(counts),
        "featurize_s": round(featurize_seconds, 1),
        "s": round(time.monotonic() - started, 1),
    }
    for name in splits:
        if name == "train":
            continue
        predicted = model.predict(dataset(ids[name], labels[name], 256, False), verbose=0).argmax(1)
        truth = labels[name]
        result[name] = {
            "accuracy": round(float(accuracy_score(truth, predicted)), 4),
            "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
        }
        sources = np.array(splits[name][2])
        for source in sorted(set(sources)) if len(set(sources)) > 1 else ():
            mask = sources == source
            result[name][source] = round(float(accuracy_score(truth[mask], predicted[mask])), 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=pathlib.Path, required=True, help="CsvExampleGen's examples/N")
    parser.add_argument("--corpus", help="A benchmarks.datasets corpus: also score its test rows.")
    parser.add_argument("--classes", nargs="+", default=["0", "1"])
    cli.add_overrides_flag(parser)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--nb-scale", type=float, default=1.0)
    parser.add_argument("--nb-alpha", type=float, default=1.0)
    parser.add_argument("--unique", action="store_true", help="Each n-gram once per text.")
    parser.add_argument("--char-mode", choices=["word", "text", "raw"], default="word")
    args = parser.parse_args()
    from components import wide_part

    original = wide_part.nb_log_count_ratios
    wide_part.nb_log_count_ratios = lambda *a: args.nb_scale * original(*a)
    wide_part.NB_SMOOTHING = args.nb_alpha
    global CHAR_MODE, UNIQUE
    CHAR_MODE, UNIQUE = args.char_mode, args.unique
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from polarity.config import load_config

    config = load_config(overrides=args.overrides, workspace=pathlib.Path(tempfile.mkdtemp()))
    classes = list(args.classes)
    splits = {name: read_split(args.examples / f"Split-{name}") for name in ("train", "eval")}
    if args.corpus:
        from benchmarks import datasets

        corpus = datasets.CORPORA[args.corpus]
        classes = list(corpus.classes)
        test = datasets.split_corpus(corpus, datasets.read_corpus(corpus, datasets.default_cache_dir())).test
        splits["test"] = ([r.text for r in test], [r.label for r in test], ["" for _ in test])
    from components.hyperparameters import Hyperparameters

    hparams = Hyperparameters.from_config(config.training.model_dump())
    for run in range(args.repeat):
        seed = None if args.seed is None else args.seed + run
        result = probe(splits, classes, config.text.features(), hparams, seed)
        print(
            json.dumps(
                {
                    "overrides": args.overrides,
                    "char_mode": CHAR_MODE,
                    "unique": UNIQUE,
                    "nb": [args.nb_scale, args.nb_alpha],
                    "seed": seed,
                    **result,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
