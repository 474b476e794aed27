# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The embedded default is a developer's machine: DEBUG on unless the environment says otherwise.
export DEBUG ?= true

.PHONY: run test fuzz lint format worker beat migrate demo shell check bench clean catalogues messages

$(VENV)/bin/python:
	python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# --no-compile: pip would byte-compile every file of every package (botocore's thousands among
# them), about half the install's time on a fresh clone; Python compiles what is imported, once.
$(VENV)/.installed: requirements.txt $(VENV)/bin/python
	$(PIP) install --quiet --no-compile -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PIP) install --quiet --no-compile -r requirements-dev.txt
	touch $@

# The translations: each locale/*/LC_MESSAGES/django.mo older than its .po is compiled, in pure
# Python (config/catalogues.py: no gettext needed to run or test; docs/translating.md). It needs
# the installed requirements all the same: importing the config package starts Celery's app.
catalogues: $(VENV)/.installed
	$(PY) -m config.catalogues compile

# For developers who wrapped new strings: updates every .po (needs GNU gettext's xgettext).
messages: $(VENV)/.installed
	$(PY) -m config.catalogues extract

migrate: $(VENV)/.installed catalogues
	$(PY) manage.py migrate --no-input

demo: migrate
	$(PY) manage.py load_demo --if-empty

run: demo
	@echo "CivicFix on http://$(HOST):$(PORT)/  (staff workbench: /admin/)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# -n auto: one pytest worker per core (pytest-xdist); each gets its own test database.
PYTEST_ARGS ?= -q -n auto
test: $(VENV)/.installed-dev catalogues
	$(PY) -m pytest $(PYTEST_ARGS)

# The long generated-input runs alone (CI runs them inside `make test`).
fuzz: $(VENV)/.installed-dev
	$(PY) -m pytest -m fuzz $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: $(VENV)/.installed
	$(VENV)/bin/celery -A config worker --loglevel=info

beat: $(VENV)/.installed
	mkdir -p var
	$(VENV)/bin/celery -A config beat --loglevel=info --schedule var/celerybeat-schedule

check: $(VENV)/.installed catalogues
	$(PY) manage.py check

shell: $(VENV)/.installed
	$(PY) manage.py shell

bench: $(VENV)/.installed-dev
	bench/run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
