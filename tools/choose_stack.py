"""Chooses the pinned stack for this machine: the newest that its glibc and Pythons allow.

The Makefile runs this with any Python 3 (the standard library only) before it creates
`.venv`. Each stack is one full constraints file resolved for one Python version; TFX 1.21's
TFDV and ml-metadata wheels are tagged manylinux_2_39, so that stack needs glibc >= 2.39.

  python3 tools/choose_stack.py [--stack NAME] [--python PATH] --make    # for the Makefile
  python3 tools/choose_stack.py [--stack NAME] [--python PATH]           # says why, or what to install

`--make` prints `NAME PYTHON_VERSION PYTHON CONSTRAINTS EXTRAS` on one line, where PYTHON is
`uv` when no such Python is on this machine and uv is to provide it, or `none` when no stack
fits (the run without `--make` then prints what to install and exits 2).
"""

import argparse
import dataclasses
import glob
import os
import pathlib
import re
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class Stack:
    """One pinned stack: its name, the Python it was resolved for, what it needs and installs."""

    name: str
    python: str
    min_glibc: tuple[int, int]
    constraints: str
    extras: str
    notes: str


STACKS = (
    Stack(
        name="tfx-1.21",
        python="3.12",
        min_glibc=(2, 39),
        constraints="constraints/tfx-1.21-py3.12.txt",
        extras="serving,kubeflow,airflow,dev,encoder",
        notes="TF 2.21, protobuf 6, Beam 2.77",
    ),
    Stack(
        name="tfx-1.16",
        python="3.10",
        min_glibc=(2, 17),
        constraints="constraints/tfx-1.16-py3.10.txt",
        extras="serving,kubeflow,airflow,dev",
        notes="TF 2.16, protobuf 3.20, Beam 2.62",
    ),
)


@dataclasses.dataclass(frozen=True)
class Choice:
    """The stack chosen and the Python that runs it (`uv` when uv is to provide that Python)."""

    stack: Stack
    python: str

    def make_line(self) -> str:
        s = self.stack
        return f"{s.name} {s.python} {self.python} {s.constraints} {s.extras}"


class NoStackError(Exception):
    """No stack fits this machine; the message says what to install or pass."""


def glibc_version() -> tuple[int, int] | None:
    """The glibc this process runs on, e.g. (2, 36); None on a system without glibc."""
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return None
    match = re.fullmatch(r"glibc (\d+)\.(\d+).*", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def python_version(executable: str) -> str | None:
    """The `X.Y` version of a Python executable, or None if it does not run."""
    try:
        out = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", pathlib.Path(path).parent.parent.name))


def find_python(version: str) -> str | None:
    """A Python `version` on this machine: on PATH, in pyenv (the newest patch), or managed by uv."""
    on_path = shutil.which(f"python{version}")
    candidates = [on_path] if on_path else []
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    pattern = os.path.join(pyenv_root, "versions", f"{version}.*", "bin", f"python{version}")
    released = [p for p in glob.glob(pattern) if re.fullmatch(r"[\d.]+", pathlib.Path(p).parent.parent.name)]
    candidates += sorted(released, key=_version_key, reverse=True)
    uv = shutil.which("uv")
    if uv:
        found = subprocess.run(
            [uv, "python", "find", "--no-project", version], capture_output=True, text=True, check=False
        )
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(found.stdout.strip())
    return next((c for c in candidates if python_version(c) == version), None)


def _fmt(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _needs(stack: Stack) -> str:
    return f"{stack.name} needs Python {stack.python} and glibc >= {_fmt(stack.min_glibc)}"


def choose(glibc, find, stacks=STACKS, stack_name=None, python=None, python_ver=None) -> Choice:
    """Picks the stack for a machine.

    Args:
      glibc: the machine's glibc as (major, minor), or None where there is none.
      find: a function from a Python version ("3.12") to an executable on this machine, or None.
      stacks: the stacks, newest first.
      stack_name: the stack asked for (`STACK=`), or None to choose.
      python: the Python asked for (`PYTHON=`), or None to look for one.
      python_ver: the `X.Y` version of `python`, or None where it does not run.

    Returns:
      The newest stack that the glibc allows and whose Python is here; where no stack's Python
      is here, the newest that the glibc allows, with its Python to come from uv.

    Raises:
      NoStackError: nothing fits; the message says what to install or pass.
    """
    names = [s.name for s in stacks]
    if stack_name is not None and stack_name not in names:
        raise NoStackError(f"STACK={stack_name} is not a stack; choose one of {', '.join(names)}")
    asked = [s for s in stacks if stack_name in (None, s.name)]
    if glibc is None:
        raise NoStackError(
            "this system has no glibc (TFX publishes manylinux wheels only): "
            "use Linux with glibc, e.g. Debian 13 or Ubuntu 24.04, or the Docker image"
        )
    fitting = [s for s in asked if glibc >= s.min_glibc]
    if not fitting:
        raise NoStackError(f"this machine has glibc {_fmt(glibc)}; " + "; ".join(_needs(s) for s in asked))
    if python is not None:
        if python_ver is None:
            raise NoStackError(f"PYTHON={python} does not run; pass the path of a working Python")
        for stack in fitting:
            if stack.python == python_ver:
                return Choice(stack, python)
        raise NoStackError(
            f"PYTHON={python} is Python {python_ver}, which no stack fits on glibc {_fmt(glibc)}: "
            + "; ".join(_needs(s) for s in asked)
        )
    for stack in fitting:
        found = find(stack.python)
        if found:
            return Choice(stack, found)
    return Choice(fitting[0], "uv")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="", help="a stack name, e.g. tfx-1.16 (make STACK=...)")
    parser.add_argument("--python", default="", help="a Python executable (make PYTHON=...)")
    parser.add_argument("--make", action="store_true", help="print one line for the Makefile")
    args = parser.parse_args(argv)
    python = args.python or None
    try:
        choice = choose(
            glibc_version(),
            find_python,
            stack_name=args.stack or None,
            python=python,
            python_ver=python_version(python) if python else None,
        )
    except NoStackError as error:
        if args.make:
            print("none")
            return 0
        print(f"No stack fits: {error}.", file=sys.stderr)
        print("The stacks: " + "; ".join(f"{s.name} ({s.notes})" for s in STACKS) + ".", file=sys.stderr)
        return 2
    if args.make:
        print(choice.make_line())
    else:
        source = "from uv" if choice.python == "uv" else choice.python
        print(f"Stack {choice.stack.name} ({choice.stack.notes}) on Python {choice.stack.python} {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
