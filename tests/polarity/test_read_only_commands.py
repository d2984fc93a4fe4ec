"""Read-only commands answer from ML Metadata and small files, without loading TensorFlow."""

import subprocess
import sys

import pytest

HEAVY = ("tensorflow", "tfx", "tensorflow_model_analysis")


def _imported_modules(*argv: str) -> tuple[set, subprocess.CompletedProcess]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "polarity.cli", *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "import time:" in line}
    return modules, done


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["lineage"]])
def test_status_and_lineage_load_no_tensorflow_and_print_no_warnings(trained_workspace, command):
    config, summary = trained_workspace
    modules, done = _imported_modules(*command, "--workspace", str(config.workspace))
    assert done.returncode == 0, done.stderr
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    printed = [line for line in done.stderr.splitlines() if not line.startswith("import time:")]
    assert printed == []  # no library warnings on a read-only command
    assert str(summary["pushed_version"]) in done.stdout
    assert "recall/positive" in done.stdout  # per-class metrics, named by class, from the verdict's record
