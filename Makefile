# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
MOTO   := .venv-moto
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test bench lint install install-test migrate seed clean check

$(VENV)/.made:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@touch $@

# The project runs from this folder; pip installs only its pinned dependencies.
$(VENV)/.installed: pyproject.toml $(VENV)/.made
	$(PY) scripts/requirements.py > $(VENV)/requirements.txt
	$(PY) -m pip install -q -r $(VENV)/requirements.txt
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed $(MOTO)/.installed
	$(PY) scripts/requirements.py test > $(VENV)/requirements-test.txt
	$(PY) -m pip install -q -r $(VENV)/requirements-test.txt
	@touch $@

# An S3-compatible server for the storage tests (moto's standalone server), in a virtual
# environment of its own: it is large and is no dependency of the project.
$(MOTO)/.installed: scripts/moto-requirements.txt
	$(PYTHON) -m venv $(MOTO)
	$(MOTO)/bin/python -m pip install -q -r scripts/moto-requirements.txt
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	@mkdir -p var
	$(PY) manage.py migrate --no-input

# The demo's emails link to the address `make run` serves (scripts/site_url.sh).
seed: migrate
	SITE_URL="$$(bash scripts/site_url.sh $(HOST) $(PORT))" $(PY) manage.py seed_demo --if-empty

# Web server, Celery worker and Celery beat on the embedded default (SQLite, filesystem broker,
# emails in var/mail). Ctrl-C stops all three.
run: seed
	@bash scripts/run.sh $(HOST) $(PORT)

test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: install-test
	$(PY) -m bench $(BENCH_ARGS)

check: install
	$(PY) manage.py check

clean:
	rm -rf $(VENV) $(MOTO) var
