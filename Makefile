# Two entry points for a fresh machine: `make serve` and `make test`. Both install first (idempotent).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test lint docs vendor

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/lv server

# `ruff format --check` passes once the tree has been formatted with `ruff format` (done once, at a merge).
test: install
	$(BIN)/ruff check service sdk cli console tests bench
	$(BIN)/ruff format --check service sdk cli console tests bench
	$(BIN)/mypy --strict sdk
	$(BIN)/python -m pytest -q tests

lint: install
	$(BIN)/ruff check service sdk cli console tests bench

docs: install
	$(BIN)/python -m cli.docs

# Refresh the console's vendored front-end libraries from the npm registry (versions in console/vendor.txt).
vendor:
	console/vendor.sh
