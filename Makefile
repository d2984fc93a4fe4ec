# Polarity: `make run` and `make test` set everything up on a fresh machine.
# The stack is the newest that this machine's glibc and Pythons allow (tools/choose_stack.py):
# TFX 1.21 on Python 3.12 where glibc >= 2.39, else TFX 1.16 on Python 3.10, each pinned in full
# in constraints/. Override with `make STACK=tfx-1.16` or `make PYTHON=/path/to/python3.x`;
# `make stack` says what was chosen and why, or what to install.
STACK ?=
PYTHON ?=
BOOT_PYTHON ?= $(or $(PYTHON),$(firstword $(shell command -v python3 python)))
CHOOSE := $(BOOT_PYTHON) tools/choose_stack.py --stack "$(STACK)" --python "$(PYTHON)"
# NAME PYTHON_VERSION PYTHON CONSTRAINTS EXTRAS, or "none".
CHOICE := $(if $(BOOT_PYTHON),$(shell $(CHOOSE) --make),none)
STACK_NAME := $(firstword $(CHOICE))
CONSTRAINTS := $(word 4,$(CHOICE))
VENV ?= .venv
BIN := $(VENV)/bin
WORKSPACE ?= workspace
INSTALLED := $(VENV)/.installed-$(STACK_NAME)
# Test processes: one per core, at most 4 (each may run a TFX pipeline in 1.5 GB). Test files
# stay whole on one process, so module fixtures run once, handed out in collection order (the
# longest files first: `start_first` in tests/conftest.py); 0 runs everything in this process.
TEST_WORKERS ?= auto

.PHONY: install stack run test lint format bench clean

$(INSTALLED): setup.py $(CONSTRAINTS) tools/choose_stack.py tools/install_env.sh
	@test -n "$(BOOT_PYTHON)" || { echo "No python3 found: install Python 3 (Debian/Ubuntu: apt install python3-venv) or pass PYTHON=..."; exit 2; }
	@test "$(STACK_NAME)" != none || { $(CHOOSE); exit 2; }
	tools/install_env.sh $(CHOICE) $(VENV)
	touch $@

install: $(INSTALLED)

stack:
	@$(CHOOSE)

run: install
	$(BIN)/polarity data --workspace $(WORKSPACE)
	$(BIN)/polarity run --workspace $(WORKSPACE)

test: install lint
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 4 --dist loadfile --no-loadscope-reorder

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m benchmarks.pipeline_bench --output benchmarks/results/pipeline.json

clean:
	rm -rf $(VENV) $(WORKSPACE) .tools
