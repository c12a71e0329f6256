# guanxi — the two commands for users are `make run` and `make test`.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
TEST_WORKERS ?= 2

.PHONY: run test lint e2e install install-dev worker demo format clean help messages bench bench-load

help:
	@echo "make run    install, migrate, load the demo on first run, serve http://127.0.0.1:8000 with the worker"
	@echo "make test   the whole test suite (GUANXI_TEST_DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make lint   ruff, ruff format --check, mypy, import-linter, bandit, manage.py check, makemigrations --check"
	@echo "make e2e    end-to-end browser tests in Chromium"
	@echo "make bench  latency at scale: 1,000,000 customers on PostgreSQL, 100,000 on SQLite (see docs/performance.md)"

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(BIN)/guanxi: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --no-dev --python $(PYTHON)
	@touch $@

install: $(BIN)/guanxi

$(VENV)/.dev-installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@ $(BIN)/guanxi

install-dev: $(VENV)/.dev-installed

run: install
	$(BIN)/guanxi run

worker: install
	$(BIN)/guanxi worker

demo: install
	$(BIN)/guanxi demo

test: install-dev
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -q $(PYTEST_ARGS)

e2e: install-dev
	$(BIN)/pytest -m e2e -p no:xdist -q tests/e2e $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/bandit -q -c pyproject.toml -r src
	DJANGO_SETTINGS_MODULE=guanxi.config.settings.test $(BIN)/python manage.py check
	DJANGO_SETTINGS_MODULE=guanxi.config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# Benchmarks (docs/performance.md). Each target is vendor:customers; data is generated once and reused.
BENCH_TARGETS ?= postgresql:1000000 sqlite:100000
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432/guanxi_bench
BENCH_SQLITE_DIR ?= var/bench
BENCH_ITERATIONS ?= 50
bench: install-dev
	@set -e; for target in $(BENCH_TARGETS); do \
	  vendor=$${target%%:*}; customers=$${target##*:}; \
	  if [ "$$vendor" = postgresql ]; then \
	    pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql | head -n1)" main start; \
	    url="$(BENCH_PG_URL)"; \
	  else url="sqlite:///$(abspath $(BENCH_SQLITE_DIR))/sqlite-$$customers.sqlite3"; fi; \
	  $(BIN)/python -m bench.run --database-url "$$url" --customers "$$customers" --iterations $(BENCH_ITERATIONS) $(BENCH_ARGS); \
	done

# Throughput: locust against gunicorn on 127.0.0.1 with PostgreSQL (docs/performance.md).
bench-load: install-dev
	$(BIN)/python -m bench.load --database-url "$(BENCH_PG_URL)" $(BENCH_ARGS)

# Re-extract the translatable strings into the zh_Hans catalogue, then compile it (the .mo is committed).
messages: install-dev
	DJANGO_SETTINGS_MODULE=guanxi.config.settings.dev $(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=tests
	DJANGO_SETTINGS_MODULE=guanxi.config.settings.dev $(BIN)/python manage.py compilemessages --ignore=.venv

format: install-dev
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache
