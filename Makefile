# The two commands of the README: `make bench` (the main job) and `make test`.
# Each creates .venv on first use. Override TORCH to pick another torch build,
# e.g. `make test TORCH="torch==2.13.0"` or a CUDA build installed beforehand.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
# Real datasets (ADBench .npz, MNIST IDX) live next to the project when available.
AEOD_DATA_DIR ?= $(wildcard $(abspath ../shared/datasets))
export AEOD_DATA_DIR

.PHONY: install bench test test-all lint clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

bench: install
	$(BIN)/aeod bench --output aeod-results

test: install
	$(BIN)/python -m pytest -m "not slow"

test-all: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check anomalib_ae tests benchmarks

clean:
	rm -rf $(VENV) aeod-results .pytest_cache
