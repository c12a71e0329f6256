# guanxi — the two commands for users are `make run` and `make test`.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
TEST_WORKERS ?= 2

.PHONY: run test lint e2e install install-dev worker demo format clean help messages

help:
	@echo "make run    install, migrate, load the demo on first run, serve http://127.0.0.1:8000 with the worker"
	@echo "make test   the whole test suite (GUANXI_TEST_DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make lint   ruff, ruff format --check, mypy, import-linter, manage.py check, makemigrations --check"
	@echo "make e2e    end-to-end browser tests in Chromium"

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
	DJANGO_SETTINGS_MODULE=guanxi.config.settings.test $(BIN)/python manage.py check
	DJANGO_SETTINGS_MODULE=guanxi.config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# Re-extract the translatable strings into the zh_Hans catalogue, then compile it (the .mo is committed).
messages: install-dev
	DJANGO_SETTINGS_MODULE=guanxi.config.settings.dev $(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=tests
	DJANGO_SETTINGS_MODULE=guanxi.config.settings.dev $(BIN)/python manage.py compilemessages --ignore=.venv

format: install-dev
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache
