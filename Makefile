# Tally: `make demo` sets up and runs the sample cloud; `make test` runs the test suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export TALLY_DEBUG ?= 1

.PHONY: venv demo demo-data serve test lint bench clean

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

venv: $(VENV)/.installed

demo-data: venv
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py collectstatic --no-input -v0
	$(PY) manage.py demo

demo: demo-data
	$(PY) manage.py runserver 127.0.0.1:8000 --noreload

# The tests use real services: PostgreSQL, Redis (a real Celery worker) and the Gnocchi peer.
test: venv
	scripts/services up
	DATABASE_URL=$${DATABASE_URL:-postgres://root@127.0.0.1:5432/tally} \
	TALLY_TEST_BROKER_URL=$${TALLY_TEST_BROKER_URL:-redis://127.0.0.1:6379/15} \
	TALLY_TEST_GNOCCHI_ENDPOINT=$${TALLY_TEST_GNOCCHI_ENDPOINT:-http://127.0.0.1:8041} \
	TALLY_TEST_KEYSTONE_URL=$${TALLY_TEST_KEYSTONE_URL:-http://127.0.0.1:5000/v3} \
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

clean:
	rm -rf var
