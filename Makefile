# Everything a fresh clone needs: `make run` launches the app, `make test` runs the tests.
# Both create the virtual environment in .venv on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,scale]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/doppel gui

demo: $(STAMP)
	$(BIN)/doppel demo

test: $(STAMP)
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory lint

# mypy checks the whole package at the levels pyproject.toml sets. That file spells out
# --strict's flags for the engine (python/mypy#11401), so the second run catches a flag
# a newer mypy adds to --strict; its own cache keeps both runs fast.
lint: $(STAMP)
	$(BIN)/ruff check desktop_app tests benchmarks
	$(BIN)/ruff format --check desktop_app tests benchmarks
	$(BIN)/mypy desktop_app
	$(BIN)/mypy --strict --cache-dir .mypy_cache/strict-engine desktop_app/engine
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
