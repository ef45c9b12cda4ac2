# The two commands of the README: `make run` (the dashboard) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test e2e lint fix bench-ingest bench-usage bench-entitlements bench-billing bench-dashboard db-start db-stop clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

## run: the dashboard (web + worker + beat) on embedded defaults; Ctrl-C stops everything
run: $(INSTALLED)
	$(BIN)/python -m billing_site.run

## test: the whole suite, against DATABASE_URL if set, else the embedded PostgreSQL
test: $(INSTALLED)
	$(BIN)/python -m billing_site.embedded exec -- $(BIN)/python -m pytest $(PYTEST_ARGS)

## e2e: only the browser tests (headless Chromium)
e2e: $(INSTALLED)
	$(BIN)/python -m billing_site.embedded exec -- $(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

fix: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-ingest: $(INSTALLED)
	$(BIN)/python -m billing_site.embedded exec -- $(BIN)/python bench/ingest.py $(BENCH_ARGS)

bench-usage: $(INSTALLED)
	$(BIN)/python -m billing_site.embedded exec -- $(BIN)/python bench/usage.py $(BENCH_ARGS)

bench-entitlements: $(INSTALLED)
	$(BIN)/python -m billing_site.embedded exec -- $(BIN)/python bench/entitlements.py $(BENCH_ARGS)

bench-billing: $(INSTALLED)
	$(BIN)/python -m billing_site.embedded exec -- $(BIN)/python bench/billing.py $(BENCH_ARGS)

bench-dashboard: $(INSTALLED)
	$(BIN)/python -m billing_site.embedded exec -- $(BIN)/python bench/dashboard.py $(BENCH_ARGS)

## db-start / db-stop: keep the embedded PostgreSQL up for manage.py by hand
db-start: $(INSTALLED)
	$(BIN)/python -m billing_site.embedded start
db-stop: $(INSTALLED)
	$(BIN)/python -m billing_site.embedded stop

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
