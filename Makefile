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

.PHONY: install bench test test-slow test-all lint docs clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev,docs]"
	touch $@

install: $(BIN)/.installed

bench: install
	$(BIN)/aeod bench --output aeod-results

test: install
	$(BIN)/python -m pytest -m "not slow"

# The long tests (DDP processes, a million sparse rows, the docs table, dask): CI runs them too.
test-slow: install
	$(BIN)/python -m pytest -m slow

test-all: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

# The documentation site (docs/_build/html); warnings are errors. Pages with code and the
# notebooks are executed (cached in docs/_build/.jupyter_cache); AEOD_DOCS_EXECUTE=off skips that.
docs: install
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) aeod-results .pytest_cache docs/_build docs/api/generated docs/api/index.rst
