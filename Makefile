# Polarity: `make run` and `make test` set everything up on a fresh machine.
# Python 3.10 comes from pyenv when present; override with `make PYTHON=/path/to/python3.10`.
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10) $(shell command -v python3.10))
VENV ?= .venv
BIN := $(VENV)/bin
WORKSPACE ?= workspace
EXTRAS := serving,kubeflow,airflow,dev
INSTALLED := $(VENV)/.installed
# Test processes: one per core, at most 4 (each may run a TFX pipeline in 1.5 GB). Test files
# stay whole on one process, so module fixtures run once; 0 runs everything in this process.
TEST_WORKERS ?= auto

.PHONY: install run test lint format bench clean

$(INSTALLED): setup.py constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.10 not found: install it (pyenv install 3.10.13) or pass PYTHON=..."; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q pip==24.3.1
	$(BIN)/pip install -q -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@

install: $(INSTALLED)

run: install
	$(BIN)/polarity data --workspace $(WORKSPACE)
	$(BIN)/polarity run --workspace $(WORKSPACE)

test: install lint
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 4 --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m benchmarks.pipeline_bench --output benchmarks/results/pipeline.json

clean:
	rm -rf $(VENV) $(WORKSPACE)
