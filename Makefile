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

.PHONY: demo test ui lint docs lock clean install bench test-spark

# The Spark extra lives in its own venv: `make install` syncs .venv to requirements.lock exactly, which
# would remove pyspark and dbt-spark again. Its lock pins the same versions plus the extra (see `lock`).
SPARK_VENV := .venv-spark
SPARK_LOCK := .ci/requirements-spark.lock
SPARK_STAMP := $(SPARK_VENV)/.installed

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

# Benchmarks run on demand only (demo, icb and national scale, 12 months: the first run generates and
# caches the files, about half an hour); results go to tests/benchmarks/output/.
bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks.cycle

# The dbt documentation site (needs a built warehouse: run `make demo` first).
docs: $(STAMP)
	$(BIN)/sprx docs

lint: $(STAMP)
	$(BIN)/ruff check orchestration extracts reports tests
	cd dbt_project && ../$(BIN)/sqlfluff lint .

# Regenerate the lock files after changing pyproject.toml dependencies (the Spark lock keeps the default
# lock's versions and adds the `spark` extra).
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev -p 3.11 --quiet -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark -c requirements.lock -p 3.11 --quiet -o $(SPARK_LOCK)

$(SPARK_STAMP): $(SPARK_LOCK) pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	VIRTUAL_ENV=$(CURDIR)/$(SPARK_VENV) $(SPARK_VENV)/bin/uv pip sync --quiet $(SPARK_LOCK)
	VIRTUAL_ENV=$(CURDIR)/$(SPARK_VENV) $(SPARK_VENV)/bin/uv pip install --quiet --no-deps -e .
	touch $(SPARK_STAMP)

# The dbt project on Apache Spark (local[*]) against DuckDB, every mart row for row (needs Java 17).
test-spark: $(SPARK_STAMP)
	@command -v java >/dev/null 2>&1 || { echo "error: java not found; Spark needs Java 17 (apt-get install openjdk-17-jre-headless)"; exit 1; }
	$(SPARK_VENV)/bin/python -m pytest -q -m spark tests/spark

clean:
	rm -rf data reports/output dbt_project/target dbt_project/logs .pytest_cache
