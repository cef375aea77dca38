# Everything a fresh machine needs: `make run` and `make test` set up the venv themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CHROMIUM ?= /usr/bin/chromium
DEFS ?= ../shared/norddrg/DefinitionData_NOR_2016_PR1cN.zip
CASES ?= ../shared/norddrg/TestData.csv

.PHONY: venv deps run test unit integration bench conformance demo-defs schemas audit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
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

deps: $(STAMP) $(NODE_STAMP) $(CHROMIUM)

run: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/isf run

test: deps
	CHROMIUM=$(CHROMIUM) $(PY) -m pytest tests

unit: $(STAMP)
	$(PY) -m pytest tests -m "not integration"

integration: deps
	CHROMIUM=$(CHROMIUM) $(PY) -m pytest tests -m integration

bench: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/isf bench

conformance: $(STAMP)
	$(VENV)/bin/isf conformance --defs "$(DEFS)" --cases "$(CASES)"

demo-defs: $(STAMP)
	$(PY) tools/demo_definitions.py

schemas: $(STAMP)
	$(PY) -c "from services.cli import write_schemas; write_schemas()"

audit: $(STAMP)
	$(PY) -m pytest tests/security/test_audit.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache
