# Secure Connect Managed Suite – contracts and billing.  `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LINT_PATHS := $(wildcard app tests bench)
export SCMS_TEST_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

.DEFAULT_GOAL := help
.PHONY: help install run test test-sqlite test-postgres lint format openapi bench migrate clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv (when missing) and install the project with its dev tools

run: install ## Migrate and serve the API on SCMS_HOST:SCMS_PORT (SQLite at ./var/scms.db by default)
	$(BIN)/scms serve

migrate: install ## Apply database migrations to SCMS_DATABASE_URL
	$(BIN)/scms migrate

test: install ## Whole suite on SQLite, then on PostgreSQL (skipped when unreachable unless REQUIRE_POSTGRES=1)
	$(BIN)/python -m pytest --db sqlite -q
	$(BIN)/python -m pytest --db postgres -q

test-sqlite: install ## Whole suite on SQLite only
	$(BIN)/python -m pytest --db sqlite -q

test-postgres: install ## Whole suite on PostgreSQL only
	$(BIN)/python -m pytest --db postgres -q

lint: install ## ruff (lint + format check) and mypy --strict
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy $(LINT_PATHS)

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

openapi: install ## Rewrite openapi/openapi.json from the app
	$(BIN)/scms openapi --output openapi/openapi.json

bench: install ## Benchmarks (JSON lines on stdout); the bill run, the API and the statistics (also on SQLite) need PostgreSQL (SCMS_BENCH_POSTGRES_URL) and wrk
	@$(BIN)/python bench/pricing_bench.py
	@$(BIN)/python bench/bill_run_bench.py
	@$(BIN)/python bench/body_guard_bench.py
	@$(BIN)/python bench/documents_bench.py
	@$(BIN)/python bench/idempotency_bench.py
	@$(BIN)/python bench/webhooks_bench.py
	@$(BIN)/python bench/audit_export_bench.py
	@$(BIN)/python bench/stats_bench.py --db sqlite
	@$(BIN)/python bench/stats_bench.py --db postgres
	@$(BIN)/python bench/api_bench.py

# issue 9 §5: schemathesis against the served app on a seeded database (tests/fuzz/run.py).
FUZZ_SECONDS ?= 150
FUZZ_CHECKS ?= not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance
.PHONY: fuzz
fuzz: install ## Schema fuzzing, SQLite then PostgreSQL, FUZZ_SECONDS each; 0 failures or it fails
	@status=0; for db in sqlite postgres; do \
	  $(BIN)/python -m tests.fuzz.run --db $$db --max-time $(FUZZ_SECONDS) --checks $(FUZZ_CHECKS) || status=1; \
	done; exit $$status

clean: ## Remove the virtualenv, caches and the local SQLite database
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache var
