# Everything a fresh machine needs: `make run` and `make test` set up the venv themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CHROMIUM ?= /usr/bin/chromium
DEFS ?= ../shared/norddrg/DefinitionData_NOR_2016_PR1cN.zip
CASES ?= ../shared/norddrg/TestData.csv
# Pinned, hashed dependencies: the image installs LOCK, the venv DEV_LOCK (the same pins plus dev/local)
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
DOCKER_COMPOSE ?= /usr/bin/docker-compose

.PHONY: venv deps run test lint unit integration mutation bench bench-quick bench-national conformance demo-defs schemas audit clean lock secrets k8s-secrets deploy-check

$(STAMP): pyproject.toml $(LOCK) $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# The dashboard's charting library, served by the monitor itself (no CDN)
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Headless Chromium for the dashboard's browser test, from Debian's packages
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "no $(CHROMIUM) and no apt-get: install Chromium and set CHROMIUM=path"; exit 1; }
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q chromium >/dev/null || \
	  { $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q >/dev/null && $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q chromium >/dev/null; }

# docker-compose 1.29 renders and checks the compose file without a Docker engine (tests/deploy)
$(DOCKER_COMPOSE):
	@command -v apt-get >/dev/null || { echo "no $(DOCKER_COMPOSE) and no apt-get: install docker-compose 1.29 and set DOCKER_COMPOSE=path"; exit 1; }
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q --no-install-recommends docker-compose >/dev/null || \
	  { $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q >/dev/null && $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q --no-install-recommends docker-compose >/dev/null; }

deps: $(STAMP) $(NODE_STAMP) $(CHROMIUM) $(DOCKER_COMPOSE)

run: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/isf run

# ruff (linter and formatter, line length 120) and mypy over services and shared/isf: run first by `make test`
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: deps lint
	CHROMIUM=$(CHROMIUM) DOCKER_COMPOSE=$(DOCKER_COMPOSE) $(PY) -m pytest tests

unit: $(STAMP)
	$(PY) -m pytest tests -m "not integration"

integration: deps
	CHROMIUM=$(CHROMIUM) $(PY) -m pytest tests -m integration

# Mutation testing of the modules that decide money, counts, revisions and access ([tool.mutmut] in pyproject.toml,
# docs/mutation.md): in a fresh copy under var/, where shared/isf is the top-level package mutmut expects. CPU heavy
# (over an hour on 2 busy shared cores; `make mutation MUTANTS=...` runs a part); not part of `make test`.
MUTATION_DIR := var/mutation
MUTMUT := $(abspath $(VENV))/bin/mutmut
# the functions that decide money, counts, revisions and access (not input parsing or explanations)
MUTANTS ?= 'isf.settlement.*' 'isf.periods.*' 'isf.ingest.x_revision*' 'isf.ingest.x_withdrawal*' \
	'isf.ingest.x*MemoryIngestLedger*' 'isf.access.x_scope*' 'isf.access.x__copy*' 'isf.access.x__child*' \
	'isf.access.x__sight*' 'isf.access.x*Role*' 'isf.grouping.features.x_derive*' 'isf.grouping.engine.x_first_rule*' \
	'isf.rules.supplements.*' 'isf.rules.stg.*'
mutation: $(STAMP)
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)
	cp -r shared/isf tests pyproject.toml tools/mutmut_pytest9.py $(MUTATION_DIR)/
	cd $(MUTATION_DIR) && NORDDRG=$(abspath ../shared/norddrg) nice -n 19 $(MUTMUT) run --max-children 2 $(MUTANTS) > mutmut-run.log
	cd $(MUTATION_DIR) && $(MUTMUT) export-cicd-stats && cat mutants/mutmut-cicd-stats.json && $(MUTMUT) results | grep -v 'not checked'

# every figure, with a preload of a million events' state for the grown-state phase (about 15 minutes on 2 cores)
bench: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/isf bench

# a smoke run of every figure on small samples (a preload of 50 000 events)
bench-quick: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/isf bench --quick

# the whole national year through replay and through the services (hours on 2 cores)
bench-national: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/isf bench --national

conformance: $(STAMP)
	$(VENV)/bin/isf conformance --defs "$(DEFS)" --cases "$(CASES)"

demo-defs: $(STAMP)
	$(PY) tools/demo_definitions.py

schemas: $(STAMP)
	$(PY) -c "from services.cli import write_schemas; write_schemas()"

audit: $(STAMP)
	$(PY) -m pytest tests/security/test_audit.py

# Re-resolve the pins after a change to pyproject.toml (UPGRADE=1 to move every pin to the newest release)
lock: $(STAMP)
	$(UV_COMPILE) --extra stream -o $(LOCK)
	$(UV_COMPILE) --extra dev -c $(LOCK) -o $(DEV_LOCK)

# Random secrets for the compose pilot and for the Kubernetes secretGenerator (git-ignored; never overwritten)
secrets:
	$(PYTHON) deploy/compose/make_secrets.py deploy/secrets

k8s-secrets:
	$(PYTHON) deploy/compose/make_secrets.py deploy/k8s/secrets

# Compose, Kubernetes manifests, image context and lock checks, offline (no Docker engine needed)
deploy-check: $(STAMP) $(DOCKER_COMPOSE)
	DOCKER_COMPOSE=$(DOCKER_COMPOSE) $(PY) -m pytest tests/deploy -q

clean:
	rm -rf $(VENV) node_modules .pytest_cache
