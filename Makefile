# The two commands of a fresh machine: `make serve` and `make test`. Both bootstrap .venv first.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test test-sqlite test-postgres lint migrations-check lock clean messages bench

$(STAMP): pyproject.toml requirements.lock
	@set -e; \
	if [ ! -x $(BIN)/python ]; then \
	  py=$$(scripts/find-python); \
	  echo "Creating $(VENV) with $$py"; \
	  "$$py" -m venv $(VENV); \
	fi; \
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv; \
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock; \
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .; \
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/embargo migrate
	$(BIN)/embargo demo
	$(BIN)/embargo serve --host $(HOST) --port $(PORT)

# The whole suite on the embedded SQLite database, then every test that touches a database again on
# PostgreSQL when EMBARGO_TEST_POSTGRES_URL names a server (.ci/run starts one and sets it).
test: test-sqlite test-postgres

# Two processes (pytest-xdist) run everything but the end-to-end runs, then two processes run these (each starts
# servers of its own on free ports, in its own data dir; most of their time is spent waiting on those processes).
test-sqlite: $(STAMP)
	$(BIN)/pytest -n 2 -m "not e2e"
	$(BIN)/pytest -n 2 -m e2e

# The PostgreSQL pass reruns what depends on the database engine: models, actions, queries, the worker, real
# processes. Left out (they run on SQLite above, and what they query runs here through the other tests): the
# browser tests, the page permission matrix, the API permission matrix but for its outsider and owner callers, and
# the end-to-end runs whose subject is not the database (the walkthrough, packager mail, the importer).
PG_SELECT = --ignore=tests/web/test_page_permissions.py \
	-k "(not test_permission_matrix or outsider or owner) and not owner_read and not owner_write and not walkthrough \
	and not packager_notices and not advisory_import"

test-postgres: $(STAMP)
	@if [ -n "$$EMBARGO_TEST_POSTGRES_URL" ]; then \
	  echo "== the database tests again, on PostgreSQL"; \
	  export EMBARGO_DATABASE_URL="$$EMBARGO_TEST_POSTGRES_URL"; \
	  $(BIN)/pytest -n 2 -m "django_db and not browser and not e2e" $(PG_SELECT) && \
	  $(BIN)/pytest -n 2 -m e2e $(PG_SELECT); \
	else \
	  echo "PostgreSQL pass skipped: EMBARGO_TEST_POSTGRES_URL is unset (.ci/run sets it)"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/mypy

# The benchmarks (docs/performance.md): one table on standard output and in bench/RESULTS.md. `make bench` on the
# embedded SQLite database, `make bench DB=postgres` on a throwaway PostgreSQL cluster that the run starts and
# removes (or EMBARGO_BENCH_POSTGRES_URL's server). BENCH_ARGS passes more, e.g. BENCH_ARGS="--only intake mail".
DB ?= sqlite
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m bench.run --db $(DB) $(BENCH_ARGS)

migrations-check: $(STAMP)
	$(BIN)/embargo django makemigrations --check --dry-run

# Re-pin every dependency after changing pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.12 --quiet

# The translation catalogues (docs/languages.md): re-extracts the text of pages and e-mails into
# src/embargo/locale/<code>/LC_MESSAGES/django.po for English and every language already there, plus LANGUAGE=xx
# to start a new one; then compiles the .mo files (English, the source language, needs none). Run from the package
# so that only its files are read (MESSAGES_OPTIONS is what tests/test_i18n.py checks the catalogue with).
LANGUAGE ?=
MESSAGES_OPTIONS = --no-obsolete --add-location=file --ignore=migrations --ignore=static
messages: $(STAMP)
	@set -e; cd src/embargo; \
	export EMBARGO_DATA_DIR="$${EMBARGO_DATA_DIR:-$(CURDIR)/var}"; \
	langs=$$(printf '%s\n' en $(LANGUAGE) $$(ls locale 2>/dev/null) | sort -u); \
	../../$(BIN)/embargo django makemessages $(MESSAGES_OPTIONS) $$(printf -- '-l %s ' $$langs); \
	others=$$(printf '%s\n' $$langs | grep -vx en || true); \
	if [ -n "$$others" ]; then ../../$(BIN)/embargo django compilemessages $$(printf -- '-l %s ' $$others); fi

clean:
	rm -rf $(VENV) build src/*.egg-info
