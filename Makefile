# The two commands: `make run` and `make test`. Needs only python3 (3.11), make and git.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=

.PHONY: run test test-pg lint format messages bench mutation fuzz install install-dev sysdeps sysdeps-browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

sysdeps:
	@scripts/ensure-system-packages.sh

sysdeps-browser:
	@scripts/ensure-system-packages.sh --browser

## make run: migrate, create a local superuser, load the demo, then web + worker + beat (Ctrl-C stops all)
run: install sysdeps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py ensure_superuser
	$(PY) manage.py load_demo
	@$(PY) manage.py startup_banner
	$(VENV)/bin/honcho start -f Procfile

## make test: the whole suite (SQLite, eager tasks, browser tests included)
test: install-dev sysdeps-browser
	$(PY) -m pytest -m "not postgres" $(PYTEST_ARGS)

## make test-pg: the whole suite on DATABASE_URL/CELERY_BROKER_URL (PostgreSQL + Redis); used by .ci/run
test-pg: install-dev sysdeps-browser
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## make messages: refresh the portal's catalogs (needs GNU gettext) after changing its texts
messages: install-dev
	$(PY) manage.py makemessages -l fr -l de --no-obsolete --ignore=".venv/*" --ignore="var/*" --ignore="tests/*" --ignore="bench/*"
	$(PY) manage.py compilemessages --ignore=.venv --ignore=var

## make mutation [MODULE=core/money.py]: mutmut over the money code, one module or all (long: see docs/testing.md)
MODULE ?=
mutation: install-dev
	$(PY) scripts/mutation.py $(MODULE)

## make fuzz: schemathesis + hostile values on every /api/v1 operation, against gunicorn on a
## fresh PostgreSQL database (FUZZ_SECONDS per pass, FUZZ_EXAMPLES; see docs/testing.md)
fuzz: install-dev
	$(PY) scripts/fuzz.py

bench: install-dev
	@scripts/ensure-system-packages.sh --bench
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var
