# Everything a fresh machine needs: `make run` and `make test` set up the venv themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEFS ?= ../shared/norddrg/DefinitionData_NOR_2016_PR1cN.zip
CASES ?= ../shared/norddrg/TestData.csv

.PHONY: venv run test unit integration bench conformance demo-defs schemas clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/isf run

test: $(STAMP)
	$(PY) -m pytest tests

unit: $(STAMP)
	$(PY) -m pytest tests -m "not integration"

integration: $(STAMP)
	$(PY) -m pytest tests -m integration

bench: $(STAMP)
	$(VENV)/bin/isf bench

conformance: $(STAMP)
	$(VENV)/bin/isf conformance --defs "$(DEFS)" --cases "$(CASES)"

demo-defs: $(STAMP)
	$(PY) tools/demo_definitions.py

schemas: $(STAMP)
	$(PY) -c "from services.cli import write_schemas; write_schemas()"

clean:
	rm -rf $(VENV) .pytest_cache
