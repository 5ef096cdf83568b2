# Two set-up commands (README): `make demo` and `make test`. Each creates .venv if missing and
# installs from the committed lock file (requirements.lock) before running.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: demo test ui lint docs lock clean install bench

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip sync --quiet requirements.lock
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sprx demo

test: $(STAMP)
	$(BIN)/ruff check orchestration extracts reports tests
	$(BIN)/ruff format --check --quiet orchestration extracts reports tests
	cd dbt_project && ../$(BIN)/sqlfluff lint --processes 2 .
	$(BIN)/python -m pytest -q

ui: $(STAMP)
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -m orchestration.definitions

# Benchmarks run on demand only (national scale: several minutes); results go to tests/benchmarks/output/.
bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks.ingest

# The dbt documentation site (needs a built warehouse: run `make demo` first).
docs: $(STAMP)
	$(BIN)/sprx docs

lint: $(STAMP)
	$(BIN)/ruff check orchestration extracts reports tests
	cd dbt_project && ../$(BIN)/sqlfluff lint .

# Regenerate the lock file after changing pyproject.toml dependencies.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev -p 3.11 --quiet -o requirements.lock

clean:
	rm -rf data reports/output dbt_project/target dbt_project/logs .pytest_cache
