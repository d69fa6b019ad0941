# Two commands do everything: `make ask Q="..."` (set up, build the index on first use, answer)
# and `make test` (set up, lint, run every test). `make test-fast` runs only the tests that need no real model.
# Setup is a local .venv; nothing is installed globally.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
Q ?= How many North Korean refugees has NAUH resettled?

.PHONY: setup ask test test-fast bot console clean-index

setup: $(STAMP)

# torch is installed with the project in one command and pinned in pyproject.toml, so pip takes the
# CPU build instead of several GB of CUDA packages.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "torch==2.13.0" -e ".[test]"
	touch $(STAMP)

ask: $(STAMP)
	$(BIN)/python -m retrieval search "$(Q)"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# The fast tier: logic tests over an index built with a word-hashing stand-in for the model (BENCHMARKS.md: how
# long), on three worker processes (pytest-xdist): its tests wait on processes they start as much as they compute,
# so a third worker on two cores fills those waits (BENCHMARKS.md: 56-59 s against 64-69 s with two).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -n 3

bot: $(STAMP)
	$(BIN)/python -m bot --config config.toml

console: $(STAMP)
	$(BIN)/python -m bot --console

clean-index:
	rm -rf index
