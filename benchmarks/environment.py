"""What a benchmark ran on, as each writes it into its JSON: one description for all of them."""

import os
import platform
import subprocess
from collections.abc import Sequence
from importlib import metadata


def describe(packages: Sequence[str]) -> dict:
    """The commit, Python, CPUs, GPUs, load average at the start, and `packages`' versions.

    A package not installed reads None (the encoder's extras are on the TFX 1.21 stack only).
    """
    import tensorflow as tf

    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "commit": commit or None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "gpus": [device.name for device in tf.config.list_physical_devices("GPU")],
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        **{package: _version(package) for package in packages},
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
