# creditlake — the vocabulary of the README.
#   make demo   set everything up and run the whole platform on the embedded default
#   make test   run the test suite (Python, dbt, Airflow, Spark, MLflow, Terraform)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha256sum requirements.lock 2>/dev/null | cut -c1-12)
UV_VERSION := 0.13.9
WEB_STAMP := web/node_modules/.installed-$(shell sha256sum web/package-lock.json 2>/dev/null | cut -c1-12)

.PHONY: help setup check-java check-postgres check-browser demo test test-fast lint format lock bench up down status airflow-standalone env clean

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

check-java:
	@command -v java >/dev/null 2>&1 || { echo "Java 17 is required for Spark: install it with 'sudo apt-get install -y openjdk-17-jre-headless' (or set JAVA_HOME)"; exit 1; }

# $(call debian-package,PROBE,PACKAGES,WHAT FOR): nothing when the shell command PROBE succeeds;
# otherwise install Debian's PACKAGES when running as root, or print the command to run and stop.
define debian-package
@{ $(1); } >/dev/null 2>&1 || { \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
    echo "installing Debian's $(2) for $(3)"; \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(2) >/dev/null; \
  else \
    echo "$(3) need Debian's $(2): run 'sudo apt-get install -y $(2)'"; exit 1; \
  fi; }
endef

# The tests start throw-away PostgreSQL servers (tests/postgres_server.py) with Debian's server
# programs.
check-postgres:
	$(call debian-package,ls /usr/lib/postgresql/*/bin/pg_ctl || command -v pg_ctl,postgresql,the tests' PostgreSQL servers)

# Headless Chromium for the tests of the HTML pages (tests/browser.py).
check-browser:
	$(call debian-package,command -v chromium,chromium,the tests of the HTML pages)

# The CSS, JavaScript and fonts of the Data Docs pages, from the npm registry (web/package.json;
# expectations/offline_docs.py copies them beside the pages).
$(WEB_STAMP): web/package.json web/package-lock.json
	$(call debian-package,command -v npm,nodejs npm,the Data Docs' web assets)
	cd web && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@rm -f web/node_modules/.installed-* && touch $@

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) is required: install Python 3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || { $(BIN)/python -m ensurepip --upgrade >/dev/null && $(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"; }
	@# --compile-bytecode: every Airflow task, Spark job and test runs in a fresh interpreter; with
	@# the bytecode written once here none of them compiles the libraries again (nor can they
	@# where PYTHONDONTWRITEBYTECODE is set).
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

setup: check-java $(STAMP) $(WEB_STAMP)  ## create the virtual environment from the lock file, the web assets and a local PII key
	@$(BIN)/creditlake init-secrets

demo: setup  ## generate data and run every DAG through Airflow, then print the summary
	$(BIN)/creditlake demo

# Two workers, one per core here; a test file stays on one worker (its module fixtures are built
# once), files go out in collection order (the platform runs first, tests/conftest.py), and each
# worker has its own Airflow, creditlake and dbt folders. `pytest -n0 ...` runs in one process.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: setup check-postgres check-browser  ## run the whole test suite
	$(PYTEST)

test-fast: setup check-postgres check-browser  ## unit tests only (no end-to-end platform run)
	$(PYTEST) -m "not slow"

lint: setup  ## ruff and sqlfluff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock:  ## re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

# The benchmark harness (bench/): every case at 1x, 4x and 16x the demo's data, peers interleaved;
# results, plots and a Markdown table in var/bench/. A quick pass:
#   make bench BENCH_ARGS="--scales 1 --repeats 1"
BENCH_ARGS ?=
bench: setup check-java  ## time and peak memory of each engine at 1x, 4x, 16x the data (var/bench/)
	$(BIN)/python -m bench $(BENCH_ARGS)

# The local stack (orchestration/stack/): PostgreSQL, the Airflow components, MLflow and the
# report server on 127.0.0.1, behind logins whose passwords `up` generates (var/secrets/users/).
up: setup check-postgres  ## start the local stack and print its URLs (make down stops it)
	$(BIN)/creditlake stack up

down:  ## stop every process of the local stack
	$(BIN)/creditlake stack down

status:  ## health of each service of the local stack, and its URLs
	$(BIN)/creditlake stack status

env: setup  ## print export lines for running the airflow and dbt CLIs by hand
	@$(BIN)/creditlake env

airflow-standalone: setup  ## the Airflow UI on http://127.0.0.1:8080 over the demo's metadata DB
	eval "$$($(BIN)/creditlake env)" && $(BIN)/airflow standalone

clean:  ## remove generated data, warehouse, MLflow store and Airflow DB (not the venv)
	rm -rf var dbt_project/target dbt_project/logs

-include infra/infra.mk
