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
	$(BIN)/vision detect tests/data/voc/helmet/images --model models/helmet.yaml --out out/demo/helmet
	$(BIN)/vision detect tests/data/voc/mask/images --model models/mask-two-stage.yaml --out out/demo/mask
	$(BIN)/vision eval --model models/helmet.yaml --data tests/data/voc/helmet

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest
