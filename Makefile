# Hookline: `make run` starts everything on embedded defaults; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test unit docs lint bench faults fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,server,docs,lint]'
	touch $(STAMP)

run: $(STAMP)  ## web + worker + beat on SQLite and a filesystem broker (or DATABASE_URL / CELERY_BROKER_URL)
	$(PY) -m webhooks_project.devserver

test: $(STAMP)  ## unit tests on SQLite, then everything on PostgreSQL + Redis + real workers
	bash scripts/test.sh

unit: $(STAMP)  ## the fast unit tests only, on SQLite: no services needed
	$(PY) -m pytest -m "not integration and not faults and not browser" -q

docs: $(STAMP)  ## the manual (mkdocs.yml) into var/site/, strict: a broken link or a missing page fails
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict
	@echo "The manual: var/site/index.html"

lint: $(STAMP)  ## ruff check, ruff format --check and mypy (pyproject.toml): the first stage of `make test`; a finding fails
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	$(VENV)/bin/mypy || status=1; \
	exit $$status

bench: $(STAMP)  ## the performance benchmark (bench/README.md)
	$(PY) bench/run.py

faults: $(STAMP)  ## the full fault-injection suite (docs/reliability.md); `make test` runs it at smaller sizes
	HOOKLINE_FAULTS_FULL=1 DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hookline} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/15} $(PY) -m pytest tests/faults -m faults -v -s

fuzz: $(STAMP)  ## the API and admin fuzzers at length (docs/reliability.md: "Hostile input"); HOOKLINE_FUZZ_EXAMPLES=100 by default
	HOOKLINE_FUZZ_EXAMPLES=$${HOOKLINE_FUZZ_EXAMPLES:-100} DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hookline} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/15} \
	$(PY) -m pytest -q -p no:cacheprovider tests/console/test_api_fuzz.py tests/console/test_admin_fuzz.py tests/hookline/test_input_gate.py
	@cat var/fuzz-report.json

clean:
	rm -rf $(VENV) var test-artifacts
