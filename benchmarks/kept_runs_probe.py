"""Do fine-tunes of different recipes or seeds, combined, beat each alone? Scored offline.

Reads the runs `benchmarks/weight_averaging_probe.py --keep DIR` kept (each run's encoder
log-odds on every scored set, the n-grams' log-odds, the unread shares, the truth; all kept
by one probe build, so the rows line up) and scores, as balanced accuracy on exactly the
probe's sets, the combined model (components/combined_export.py's rule: the n-grams weigh
the share of each text beyond the encoder's window) for:

- each run alone (a check: it must equal the probe's own figure), and
- each ensemble of two or more kept runs: the mean of their encoder log-odds, what
  `training.encoder.ensemble_size` exports (components/encoder_ensemble.py). Serving one
  costs one encoder call per member;
- with `--soups WORKSPACE` (the probe's workspace, for its texts), each uniform soup of two
  or more runs of one folder, their weights averaged (`soup_size`), which costs one call:
  the same members, combined in weight space instead.

No training and no model here: the log-odds are the probe's. Combinations are many and the
rows few, so the best is an upper bound; choose on `tweets_dev`, report on the rest.

    python -m benchmarks.kept_runs_probe --keep KEEP/default KEEP/all-rt \\
        --output benchmarks/results/encoder-kept-runs-ensembles.json
"""

import argparse
import itertools
import json
import pathlib

import numpy as np

from benchmarks import datasets
from benchmarks.encoder_bench import TARGETS
from benchmarks.ensemble_probe import read_share_combination, scores_by_set
from polarity import cli


def kept_runs(folders: list[pathlib.Path]) -> tuple[dict[str, np.ndarray], dict, dict[str, list[str]]]:
    """({"<folder>/seed-N": encoder log-odds}, the scored arrays, the truth) of the folders;
    refused when they were not kept on the same rows."""
    runs, scored, truth = {}, None, None
    for folder in folders:
        with np.load(folder / "scored.npz") as arrays:
            here = {key: arrays[key] for key in arrays.files}
        here_truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        if scored is None:
            scored, truth = here, here_truth
        elif here_truth != truth or not np.array_equal(here["unread"], scored["unread"]):
            raise SystemExit(
                f"{folder}: kept on other rows than {folders[0]}; keep both with one probe build"
            )
        for path in sorted(folder.glob("seed-*-log-odds.npy")):
            runs[f"{folder.name}/{path.name.removesuffix('-log-odds.npy')}"] = np.load(path)
    if not runs:
        raise SystemExit(f"no kept runs in {', '.join(map(str, folders))}: run the probe with --keep")
    return runs, scored, truth


def score(encoder: np.ndarray, scored: dict, truth: dict[str, list[str]]) -> dict:
    """Balanced accuracy of the combined model per set, and whether the targets are met."""
    classes = [str(name) for name in scored["classes"]]
    combined = read_share_combination(encoder, scored["ngrams"], scored["unread"])
    return scores_by_set(combined, truth, classes)


def soups(
    folders: list[pathlib.Path], workspace: pathlib.Path, overrides: list[str], truth: dict, scored: dict
) -> list[dict]:
    """The uniform soup of each combination of two or more kept runs, scored (keep only runs
    of one recipe in `folders`: a soup's members start from one pretrained encoder)."""
    from benchmarks.encoder_bench import COMMON, scored_sets, tweets_dev
    from benchmarks.weight_averaging_probe import encoder_log_odds
    from components import encoder_model, weight_averaging
    from polarity.config import load_config

    config = load_config(overrides=[*COMMON, "training.model=encoder", *overrides], workspace=workspace)
    settings = config.training.encoder
    sets = scored_sets(config, datasets.default_cache_dir())
    sets["tweets_dev"] = [(row.text, row.label) for row in tweets_dev(datasets.default_cache_dir())]
    if {key: [label for _, label in rows] for key, rows in sets.items()} != truth:
        raise SystemExit(f"{workspace}: its scored sets are not the kept ones")
    texts = [text for rows in sets.values() for text, _ in rows]
    weights = encoder_model.weights_dir()
    model = encoder_model.build_encoder_model(weights, num_classes=2)
    preprocessor = encoder_model.build_preprocessor(
        weights, settings.sequence_length, settings.mask_handles_and_links
    )
    kept = {}
    for folder in folders:
        for path in sorted(folder.glob("seed-*-weights.npz")):
            with np.load(path) as arrays:
                kept[f"{folder.name}/{path.name.removesuffix('-weights.npz')}"] = [
                    arrays[f"arr_{index}"] for index in range(len(arrays.files))
                ]
    rows = []
    for size in range(2, len(kept) + 1):
        for members in itertools.combinations(sorted(kept), size):
            model.set_weights(weight_averaging.uniform_soup([kept[name] for name in members]))
            encoder = encoder_log_odds(model, preprocessor, texts)
            rows.append({"members": list(members), **score(encoder, scored, truth)})
            print(json.dumps({"soup": rows[-1]}), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--keep", type=pathlib.Path, nargs="+", required=True, help="The probe's --keep folders."
    )
    parser.add_argument("--output", type=pathlib.Path, required=True)
    parser.add_argument(
        "--soups",
        type=pathlib.Path,
        metavar="WORKSPACE",
        help="Also score each soup of the kept runs (give only one recipe's folders); the "
        "probe's workspace (for the texts); give the probe's --set too (sequence_length).",
    )
    cli.add_overrides_flag(parser)
    args = parser.parse_args()
    runs, scored, truth = kept_runs(args.keep)
    names = sorted(runs)
    alone = {name: score(runs[name], scored, truth) for name in names}
    ensembles = [
        {"members": list(members), **score(np.mean([runs[name] for name in members], axis=0), scored, truth)}
        for size in range(2, len(names) + 1)
        for members in itertools.combinations(names, size)
    ]
    for row in ensembles:
        print(json.dumps(row))
    soup_rows = soups(args.keep, args.soups, args.overrides, truth, scored) if args.soups else None
    result = {
        "benchmark": "ensembles of kept fine-tunes, the combined model's rule (issue 16)",
        "metric": "balanced accuracy",
        "ensemble": "mean of the members' encoder log-odds, then the n-grams weigh the unread share",
        "keep": [str(folder) for folder in args.keep],
        "alone": alone,
        "ensembles": ensembles,
        "soups": soup_rows,
        "examples": {key: len(labels) for key, labels in truth.items()},
        "targets": TARGETS,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
