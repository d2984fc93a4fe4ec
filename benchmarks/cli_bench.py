"""How fast the read-only commands answer: `polarity status`, `polarity lineage`, `polarity config`.

Each command runs as a user runs it, a new `polarity` process, on a workspace where the
pipeline ran (a small real run is made first unless --workspace names one). Reports
the median and worst wall time of several runs per command, whether TensorFlow was
imported (`-X importtime`), and whether anything but the command's own output reached
stderr (library warnings). Usage:

    python -m benchmarks.cli_bench --output benchmarks/results/cli.json [--workspace DIR]
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

TARGETS = {"read_only_seconds_max": 2.0}
COMMANDS = {
    "status": ["status"],
    "status --json": ["status", "--json"],
    "lineage": ["lineage"],
    "config": ["config"],
}
HEAVY_MODULES = ("tensorflow", "tfx", "tensorflow_model_analysis")


def _prepare(workspace: pathlib.Path) -> None:
    """A small real run in `workspace`, as the test suite makes one."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
    from workspace_helpers import small_config, write_small_spans

    from pipelines.local_runner import run_local

    config = small_config(workspace)
    write_small_spans(config)
    run_local(config)


def _time_command(args: list[str], workspace: pathlib.Path, runs: int) -> dict:
    polarity = pathlib.Path(sys.executable).parent / "polarity"
    command = [str(polarity), *args] + ([] if args == ["config"] else ["--workspace", str(workspace)])
    seconds, stderr = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds.append(time.perf_counter() - started)
        stderr = done.stderr
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr}")
    probe = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "polarity.cli", *command[1:]],
        capture_output=True,
        text=True,
        check=False,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in probe.stderr.splitlines() if "|" in line}
    return {
        "median_seconds": round(statistics.median(seconds), 3),
        "max_seconds": round(max(seconds), 3),
        "runs": runs,
        "imports_tensorflow": any(module in imported for module in HEAVY_MODULES),
        "stderr": stderr.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=pathlib.Path, required=True)
    parser.add_argument("--workspace", type=pathlib.Path, help="A workspace where the pipeline ran.")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    workspace = args.workspace
    if workspace is None:
        workspace = pathlib.Path(tempfile.mkdtemp(prefix="polarity-cli-bench-"))
        _prepare(workspace)
    measured = {name: _time_command(command, workspace, args.runs) for name, command in COMMANDS.items()}
    checks = {
        name: result["max_seconds"] <= TARGETS["read_only_seconds_max"] and not result["stderr"]
        for name, result in measured.items()
    }
    result = {
        "benchmark": "cli",
        "machine": {"cpus": os.cpu_count()},
        "targets": TARGETS,
        "measured": measured,
        "targets_met": checks,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
