"""Pipeline benchmark: the full local run on all 33,530 reviews, then two re-runs with no new data.

The first re-run finds the model it just pushed as the blessed baseline and
measures it against itself (training nothing, pushing nothing); the second is
served from cache entirely.

Measures wall time of each run, per-component times, peak memory (resident set
of this process, where the LocalDagRunner runs every component) and the
held-out accuracy per slice, and writes them as JSON with the targets of the
pipeline issue. Usage:

    python -m benchmarks.pipeline_bench --output benchmarks/results/pipeline.json
"""

import argparse
import json
import os
import pathlib
import resource
import tempfile
import time

from benchmarks import environment
from polarity import cli

# The targets of the dataset-contract issue: no regression on the bundled reviews.
TARGETS = {
    "full_run_seconds_max": 150,
    "cached_rerun_seconds_max": 20,
    "peak_memory_gb_max": 3.0,
    "imdb_accuracy_min": 0.915,
    "rotten_tomatoes_accuracy_min": 0.785,
}


def stack() -> dict:
    """The versions that produced a figure (benchmarks name their stack)."""
    return environment.describe(
        ("tfx", "tensorflow", "tensorflow-text", "tensorflow-transform", "apache-beam")
    )


def _timed_run(config) -> tuple:
    from pipelines.local_runner import run_local
    from polarity import metadata, report

    started = time.monotonic()
    run_local(config)
    seconds = time.monotonic() - started
    summary = report.run_summary(metadata.open_store(config.metadata_path), config.pipeline_name)
    return round(seconds, 1), summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=pathlib.Path, required=True)
    parser.add_argument("--workspace", type=pathlib.Path, help="Default: a new temporary directory.")
    cli.add_overrides_flag(parser)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from polarity import data, schema
    from polarity.config import load_config

    load_at_start = round(os.getloadavg()[0], 2)
    workspace = args.workspace or pathlib.Path(tempfile.mkdtemp(prefix="polarity-bench-"))
    config = load_config(overrides=args.overrides, workspace=workspace)
    data.prepare_spans(config.data_root, config.golden_root, spans=1)
    schema.install_bundled_schema(str(config.schema_file))
    full_seconds, full = _timed_run(config)
    first_rerun_seconds, first_rerun = _timed_run(config)
    rerun_seconds, rerun = _timed_run(config)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    metrics = full["metrics"]
    measured = {
        "full_run_seconds": full_seconds,
        "first_rerun_seconds": first_rerun_seconds,
        "cached_rerun_seconds": rerun_seconds,
        "rerun_trained": any(
            c["id"] in ("Transform", "Trainer") and c["state"] != "cached"
            for summary in (first_rerun, rerun)
            for c in summary["components"]
        ),
        "rerun_pushed_a_version": first_rerun["pushed_version"] != full["pushed_version"],
        "peak_memory_gb": round(peak_gb, 2),
        "rows": full["rows"],
        "accuracy": {name: values.get("accuracy") for name, values in metrics.items()},
        "golden_accuracy": {name: values.get("accuracy") for name, values in full["golden_metrics"].items()},
        "component_seconds": {c["id"]: c["seconds"] for c in full["components"]},
        "blessed": full["blessed"],
        "pushed_version": full["pushed_version"],
    }
    checks = {
        "full_run_seconds": full_seconds <= TARGETS["full_run_seconds_max"],
        "cached_rerun_seconds": rerun_seconds <= TARGETS["cached_rerun_seconds_max"]
        and not measured["rerun_trained"],
        "peak_memory_gb": peak_gb <= TARGETS["peak_memory_gb_max"],
        "imdb_accuracy": metrics["source=imdb"]["accuracy"] >= TARGETS["imdb_accuracy_min"],
        "rotten_tomatoes_accuracy": metrics["source=rotten_tomatoes"]["accuracy"]
        >= TARGETS["rotten_tomatoes_accuracy_min"],
    }
    result = {
        "benchmark": "pipeline",
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": load_at_start},
        "overrides": args.overrides,
        "stack": stack(),
        "targets": TARGETS,
        "measured": measured,
        "targets_met": checks,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
