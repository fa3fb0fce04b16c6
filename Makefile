# `make run` and `make test` each build .venv from nothing on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
DOCS_STAMP = $(VENV)/.installed-docs

.PHONY: run test test-all lint format docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/evosearch evolve --genome mlp --generations 50

# One worker per core; --dist loadfile keeps a file's tests (and its module fixtures) together.
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" -n auto --dist loadfile

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check evosearch tests benchmarks
	$(BIN)/ruff format --check evosearch tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format evosearch tests benchmarks
	$(BIN)/ruff check --fix evosearch tests benchmarks

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	touch $(DOCS_STAMP)

# The documentation site into site/: warnings are errors (mkdocs.yml: strict), nothing is fetched.
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache site
