# Citizen Score: everything a newcomer, a moderator or CI needs, from a fresh machine.
#   make demo   installs into .venv and plays an offline sandbox season (no Discord account needed)
#   make test   installs into .venv and runs ruff, mypy and the whole test suite with coverage
#   make run    runs the bot on Discord (DISCORD_TOKEN must be set)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck pytest run migrate bench browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the dependencies or their pins change.
$(STAMP): $(BIN)/python pyproject.toml constraints.txt setup.py
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/citizen-score sandbox

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n auto --cov --cov-report=term:skip-covered -q

run: $(STAMP)
	$(BIN)/citizen-score run

migrate: $(STAMP)
	$(BIN)/citizen-score migrate

bench: $(STAMP)
	$(BIN)/python -m bench.storage_bench
	$(BIN)/python -m bench.audit_bench
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.decrees_bench

# Debian's Chromium, for the test that opens the debrief report in a real browser (needs root or sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@chromium --version

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
