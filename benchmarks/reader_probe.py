"""Does the Trainer's reader train a different encoder than the same texts from memory?

The real pipeline's encoder scored lower on the tweets than the probes
(benchmarks/weight_averaging_probe.py), which read a span's CSV into memory. This probe
fine-tunes the encoder as the Trainer does (`encoder_training.train_encoder`, the
configured recipe) on an `encoder_bench` workspace's own Transform output, read with
TFX's data accessor, shuffled, seeded (`training.seed`):

- `reader`: straight off the reader, as the Trainer trains: on the CPU, one draw (the
  reader's first pass) kept in memory for the step count and training, reshuffled
  (`encoder_training.sample_for`);
- `pass-N in memory`: the texts of the reader's N-th pass, from memory, as the probes
  train (the Trainer's code then keeps and reshuffles them as it does the reader's).

and scores each on the binary test tweets and the 3,000 dev tweets. `reader` and
`pass-1 in memory` train on the same texts with the same schedule; a gap between passes
is the draw of the texts. Before the sample was kept (README, sixteenth stop), the step count took the
reader's first pass and training its second, whose batch counts could differ (190
against 192 at 6,000 texts). TFX 1.21 stack (the encoder).

    python -m benchmarks.reader_probe --workspace WS/encoder --seed 1 --passes 1 2 \\
        --output benchmarks/results/encoder-reader-probe.json \\
        --set training.encoder.cpu_sample_size=6000 --set training.encoder.sequence_length=128 \\
        --set training.encoder.epochs=1
"""

import argparse
import json
import math
import os
import pathlib
import tempfile
import time

from benchmarks import datasets
from benchmarks.encoder_bench import COMMON, balanced_accuracy, environment, tweets_binary, tweets_dev
from benchmarks.language_bench import latest_output_uri
from polarity import cli


def transformed_reader(config):
    """(train files, eval files, TFX's data accessor, the transformed schema) of Transform's
    outputs in the workspace's last run."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx.components.util import examples_utils, tfxio_utils
    from tfx.proto import example_gen_pb2
    from tfx.types import standard_artifacts

    examples = pathlib.Path(latest_output_uri(config, "Transform", "transformed_examples"))
    graph = pathlib.Path(latest_output_uri(config, "Transform", "transform_graph"))
    schema = text_format.Parse(
        (graph / "transformed_metadata" / "schema.pbtxt").read_text(encoding="utf-8"), schema_pb2.Schema()
    )
    artifact = standard_artifacts.Examples()
    artifact.uri = str(examples)
    examples_utils.set_payload_format(artifact, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)

    class Accessor:  # the reading half of the Trainer's fn_args.data_accessor
        tf_dataset_factory = staticmethod(tfxio_utils.get_tf_dataset_factory_from_artifact([artifact], []))

    return [str(examples / "Split-train" / "*")], [str(examples / "Split-eval" / "*")], Accessor(), schema


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workspace", type=pathlib.Path, required=True, help="encoder_bench's encoder workspace."
    )
    parser.add_argument("--cache-dir", type=pathlib.Path, default=datasets.default_cache_dir())
    parser.add_argument("--output", type=pathlib.Path, required=True)
    parser.add_argument("--seed", type=int, default=1, help="training.seed for every variant (default 1).")
    parser.add_argument(
        "--passes", type=int, nargs="*", default=[1, 2], help="Reader passes to train on from memory."
    )
    parser.add_argument("--no-reader", action="store_true", help="Skip training straight off the reader.")
    cli.add_overrides_flag(parser)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from benchmarks.weight_averaging_probe import encoder_log_odds, text_batches
    from components import encoder_training, training
    from components.hyperparameters import EncoderHyperparameters
    from polarity.config import load_config

    started = time.monotonic()
    config = load_config(
        overrides=[*COMMON, "training.model=encoder", *args.overrides], workspace=args.workspace
    )
    settings = EncoderHyperparameters.from_config(config.training.encoder.model_dump())
    contract = config.data.contract()
    train_files, eval_files, accessor, schema = transformed_reader(config)
    sample_batches = math.ceil(settings.cpu_sample_size / settings.batch_size)
    scored = {"tweets": tweets_binary(args.cache_dir), "tweets_dev": tweets_dev(args.cache_dir)}

    def reader():
        return encoder_training.make_text_dataset(
            train_files, accessor, schema, settings.batch_size, shuffle=True, seed=args.seed
        )

    def run(name: str, train, texts: list[str] | None) -> dict:
        training.seed_training(args.seed)
        held_out = encoder_training.make_text_dataset(
            eval_files, accessor, schema, settings.batch_size, False
        )
        trained = time.monotonic()
        model, preprocessor = encoder_training.train_encoder(
            train,
            held_out,
            settings,
            contract.num_classes,
            log_dir=tempfile.mkdtemp(prefix="polarity-reader-"),
        )
        result = {"variant": name, "train_seconds": round(time.monotonic() - trained, 1)}
        for key, rows in scored.items():
            log_odds = encoder_log_odds(model, preprocessor, [row.text for row in rows])
            predicted = [contract.classes[int(value > 0)] for value in log_odds]
            result[key] = balanced_accuracy([row.label for row in rows], predicted)
        if texts is not None:
            result["texts"] = len(texts)
        print(json.dumps(result), flush=True)
        return result

    if contract.num_classes != 2:
        raise SystemExit("the probe scores log-odds: it needs a two-class contract")
    training.seed_training(args.seed)
    passes = {}
    dataset = reader().take(sample_batches)
    for number in range(1, max(args.passes, default=0) + 1):  # the reader's passes, in order
        passes[number] = [
            (text.decode("utf-8"), int(label))
            for texts, labels in dataset.as_numpy_iterator()
            for text, label in zip(texts, labels, strict=True)
        ]
    runs = [] if args.no_reader else [run("reader", reader(), None)]
    for number in args.passes:
        rows = passes[number]
        runs.append(run(f"pass-{number} in memory", text_batches(rows, settings.batch_size), rows))
    overlap = {
        f"{a}-{b}": len({t for t, _ in passes[a]} & {t for t, _ in passes[b]})
        for a in passes
        for b in passes
        if a < b
    }
    result = {
        "benchmark": "the encoder off the Trainer's reader, and its passes' texts from memory (issue 16)",
        "metric": "balanced accuracy",
        "workspace": str(args.workspace),
        "recipe": {"overrides": [*COMMON, "training.model=encoder", *args.overrides], "seed": args.seed},
        "runs": runs,
        "pass_overlap_texts": overlap,
        "examples": {key: len(rows) for key, rows in scored.items()},
        "environment": environment(),
        "seconds": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
