# Two commands: `make run` serves the platform on the bundled Seoul data, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ANSIM_PORT ?= 8000
export ANSIM_PORT

.PHONY: run test lint typecheck install install-test bench clean lock

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The lock pins every transitive package; the project itself installs editable, without re-resolving.
$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

install-test: install

run: install
	$(BIN)/ansim db init
	$(BIN)/ansim train --if-missing
	$(BIN)/ansim serve --port $(ANSIM_PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

test: install lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: install
	$(BIN)/python -m benchmarks

# Regenerate the lock from pyproject (run after changing dependencies).
lock: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip freeze --exclude-editable | grep -v '^ansim' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
