# The two commands of the README. Everything else is a detail of these.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Where `make run` listens: `make run RUN_ADDR=0.0.0.0:9000`. Exported as PORTA_BIND, which the
# development public URL (issuers, links) follows unless PORTA_PUBLIC_URL is set.
RUN_ADDR ?= 127.0.0.1:8000

.PHONY: run test lint bench-orgs clean

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

## make run: the platform on http://127.0.0.1:8000 (SQLite, in-process cache, eager Celery)
run: export PORTA_BIND := $(RUN_ADDR)
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py porta_init --credentials-file .porta/admin-credentials.txt
	@echo "== Super-admin credentials (also in .porta/admin-credentials.txt) =="
	@cat .porta/admin-credentials.txt 2>/dev/null || echo "(admin set from PORTA_ADMIN_EMAIL/PORTA_ADMIN_PASSWORD)"
	$(PY) manage.py serve --dev

## make test: the whole suite against throwaway PostgreSQL 15 and Redis servers it starts itself
test: $(VENV)/.installed
	$(PY) -m testing.runtests $(PYTEST_ARGS)

## make lint: ruff, and the import-linter contracts of pyproject.toml (what may import what)
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

bench-orgs: $(VENV)/.installed
	$(PY) bench/organizations.py

clean:
	rm -rf $(VENV) .porta
