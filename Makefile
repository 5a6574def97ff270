# Two commands set everything up on a fresh machine with Python 3.11 (see README):
#   make demo   - install into .venv and run the built-in demo
#   make test   - install into .venv (with dev tools) and run lint + the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint install

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/vision run configs/demo.yaml
	@# A rate outside its ground truth is reported as FAIL (make goes on: the demo itself ran).
	-$(BIN)/python scripts/check_demo.py configs/demo.yaml

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	bash scripts/install_system_packages.sh
	$(BIN)/python -m pytest
