# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 3000

.PHONY: run lint test migrate refresh invoke openapi demo-token lint-template transform-test build package-test check-deploy python312 fuzz \
	bench lock lock-check clean help client client-check client-example
.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps re-run pip only when a requirements file changes. Every environment installs hash-locked
# files (`make lock` writes them from the *.in beside them), the locked pip first: pip checks every
# download against the hashes.
$(VENV)/.run-deps: requirements/pip.txt requirements/run.txt | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements/pip.txt
	$(BIN)/pip install -q --require-hashes -r requirements/run.txt
	touch $@

$(VENV)/.test-deps: requirements/test.txt $(VENV)/.run-deps
	$(BIN)/pip install -q --require-hashes -r requirements/test.txt
	touch $@

run: $(VENV)/.run-deps  ## serve the API on http://127.0.0.1:$(PORT) (embedded PostgreSQL unless DATABASE_URL)
	PORT=$(PORT) $(BIN)/python -m localdev serve

lint: $(VENV)/.test-deps  ## ruff (check and format), mypy (strict on the layer and functions), import-linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	PYTHONPATH=layers/shared $(BIN)/lint-imports

test: $(VENV)/.test-deps  ## run the tests against a real PostgreSQL (embedded unless TEST_DATABASE_URL)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: $(VENV)/.run-deps  ## run the migrate function: pending migrations, then the seed if absent
	$(BIN)/python -m localdev migrate

refresh: $(VENV)/.run-deps  ## run the daily refresh now: re-seed every stale story (sandbox seeded before today) around today
	$(BIN)/python -m localdev refresh

invoke: $(VENV)/.run-deps  ## invoke one function: make invoke FN=CustomerGetFunction EVENT=events/customer_get.json
	$(BIN)/python -m localdev invoke $(FN) $(EVENT)

demo-token: $(VENV)/.run-deps  ## print a bearer token for a local demo user (for POST /api/demo/reset)
	@$(BIN)/python -m localdev token

# ---- deployment checks: SAM CLI and cfn-lint live in their own environment (their pins clash with ours)
DEPLOY_BIN := .venv-deploy/bin
# A real python3.12 (pyenv's shim answers only when 3.12 is the selected version).
PY312 ?= $(shell for p in $$(command -v -a python3.12 2>/dev/null) $(HOME)/.pyenv/versions/3.12*/bin/python3.12; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$$p"; break; }; done)
# sam build runs `python3.12 -m pip` from PATH: a venv of PY312 with the locked pip. lambda-builders
# downloads the layer's arm64 wheels by name==version, outside the hashed -r file, so PIP_CONSTRAINT
# hands the lock's hashes to those downloads too and PIP_REQUIRE_HASHES refuses any file without one.
BUILD_BIN := .venv-build/bin
SAM = PATH="$(CURDIR)/$(BUILD_BIN):$$PATH" SAM_CLI_TELEMETRY=0 \
	PIP_CONSTRAINT="$(CURDIR)/layers/shared/requirements.txt" PIP_REQUIRE_HASHES=1 $(DEPLOY_BIN)/sam

$(DEPLOY_BIN)/.deps: requirements/pip.txt requirements/deploy.txt
	$(PYTHON) -m venv .venv-deploy
	$(DEPLOY_BIN)/pip install -q --require-hashes -r requirements/pip.txt
	$(DEPLOY_BIN)/pip install -q --require-hashes -r requirements/deploy.txt
	touch $@

$(BUILD_BIN)/.deps: requirements/pip.txt | python312
	$(PY312) -m venv .venv-build
	$(BUILD_BIN)/pip install -q --require-hashes -r requirements/pip.txt
	touch $@

python312:
	@test -n "$(PY312)" || { echo "sam build for python3.12 needs python3.12 on PATH (or PY312=/path/to/python3.12)"; exit 1; }

lint-template: $(DEPLOY_BIN)/.deps  ## cfn-lint and sam validate --lint, no warnings allowed
	$(DEPLOY_BIN)/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 $(DEPLOY_BIN)/sam validate --lint

build: $(DEPLOY_BIN)/.deps $(BUILD_BIN)/.deps  ## sam build for Lambda (python3.12, arm64), its bytecode, then check the layer's binaries
	$(SAM) build --parallel
	$(PY312) -m tools.bytecode .aws-sam/build
	@! find .aws-sam/build/SharedLayer -name '*.so*' -exec file {} + | grep ELF | grep -v aarch64
	@echo "layer binaries: all aarch64"

package-test: $(DEPLOY_BIN)/.deps $(BUILD_BIN)/.deps $(VENV)/.test-deps  ## build for this machine and run every built function
	sed 's/arm64/$(shell uname -m | sed s/aarch64/arm64/)/g' template.yaml > .template-host.yaml
	$(SAM) build --template-file .template-host.yaml --build-dir .aws-sam/build-host \
		--cache-dir .aws-sam/cache-host --parallel; status=$$?; rm -f .template-host.yaml; exit $$status
	$(PY312) -m tools.bytecode .aws-sam/build-host
	SQUELCH_BUILD_DIR=.aws-sam/build-host SQUELCH_LAMBDA_PYTHON=$(PY312) $(BIN)/python -m pytest tests/packaging -q

transform-test: $(DEPLOY_BIN)/.deps  ## the SAM transform (as CloudFormation runs it) over every parameter choice
	$(DEPLOY_BIN)/python -m pytest -c tests/deploy/pytest.ini tests/deploy -q

check-deploy: lint-template transform-test build package-test  ## everything that can be proven about deploying, offline

.venv-fuzz/bin/.deps: requirements/pip.txt requirements/fuzz.txt
	$(PYTHON) -m venv .venv-fuzz
	.venv-fuzz/bin/pip install -q --require-hashes -r requirements/pip.txt
	.venv-fuzz/bin/pip install -q --require-hashes -r requirements/fuzz.txt
	touch $@

fuzz: $(VENV)/.run-deps .venv-fuzz/bin/.deps  ## schemathesis against the served OpenAPI document (FUZZ_EXAMPLES=40)
	$(BIN)/python -m tools.fuzz

bench: $(VENV)/.run-deps  ## benchmarks: cold start, warm latency, reset, sandboxes, scale, throughput (BENCH_QUICK=1 is faster)
	$(BIN)/python -m tools.bench

# ---- hash-locked requirements: people edit the *.in files, `make lock` writes each *.txt beside them
# with uv (pinned in requirements/lock.in): one universal lock per environment, every package with its
# hashes, valid from Python 3.11 on any platform (the venvs here: 3.11 on x86_64; the layer: 3.12 on arm64).
LOCK_BIN := .venv-lock/bin
LOCKED   := layers/shared/requirements requirements/run requirements/test requirements/deploy \
	requirements/fuzz requirements/pip requirements/lock
UV_COMPILE = $(LOCK_BIN)/uv pip compile --quiet --no-config --python $(LOCK_BIN)/python --no-python-downloads \
	--universal --python-version 3.11 --generate-hashes --custom-compile-command 'make lock'

$(LOCK_BIN)/.deps: requirements/pip.txt requirements/lock.txt
	$(PYTHON) -m venv .venv-lock
	$(LOCK_BIN)/pip install -q --require-hashes -r requirements/pip.txt
	$(LOCK_BIN)/pip install -q --require-hashes -r requirements/lock.txt
	touch $@

# Each lock is compiled into a temporary copy of itself, so its pins are the preferred versions (an
# unchanged input gives the same file), then copied back only if it changed (stamps see no change).
# lock-check only compares: any difference means an input changed, or a lock was edited, since `make lock`.
LOCK_EACH = tmp=$$(mktemp -d); changed=; for f in $(LOCKED); do mkdir -p "$$tmp/$$(dirname $$f)"; \
		{ test ! -f $$f.txt || cp $$f.txt "$$tmp/$$f.txt"; } && $(UV_COMPILE) $$f.in -o "$$tmp/$$f.txt" || { rm -rf "$$tmp"; exit 1; }; \
		cmp -s $$f.txt "$$tmp/$$f.txt" || { changed="$$changed $$f.txt"; $(1); }; done; rm -rf "$$tmp"

lock: $(LOCK_BIN)/.deps  ## regenerate every hash-locked requirements *.txt from its *.in (keeps unchanged pins)
	@$(call LOCK_EACH,cp "$$tmp/$$f.txt" $$f.txt); echo "locked, changed:$${changed:- nothing}"

lock-check: $(LOCK_BIN)/.deps  ## fail when a locked requirements file is stale relative to its input
	@$(call LOCK_EACH,diff -u $$f.txt "$$tmp/$$f.txt"); \
	test -z "$$changed" || { echo "stale:$$changed (run make lock and commit)"; exit 1; }; echo "locks up to date"

clean:  ## remove the virtual environments, build output and local data
	rm -rf $(VENV) .venv-deploy .venv-fuzz .venv-build .venv-lock .aws-sam .data $(CLIENT)/node_modules $(CLIENT)/.build

openapi: $(VENV)/.run-deps  ## regenerate docs/openapi.json from the functions' models
	$(BIN)/python -m tools.openapi

# ---- TypeScript client for front ends (clients/typescript): npm packages pinned by its package-lock.json
CLIENT     := clients/typescript
BASE_URL   ?= http://127.0.0.1:$(PORT)
# The one generation command; --default-non-nullable false keeps request fields that have a default optional.
OPENAPI_TS := $(CLIENT)/node_modules/.bin/openapi-typescript docs/openapi.json --default-non-nullable false

$(CLIENT)/node_modules/.installed: $(CLIENT)/package.json $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

client: $(CLIENT)/node_modules/.installed  ## TypeScript types for front ends: docs/openapi.json → clients/typescript/src/schema.d.ts
	$(OPENAPI_TS) -o $(CLIENT)/src/schema.d.ts

client-check: $(CLIENT)/node_modules/.installed  ## fail if the client's types are stale; tsc --noEmit over the client and its example; its tests
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(OPENAPI_TS) -o "$$tmp/schema.d.ts" >/dev/null 2>"$$tmp/log" || { cat "$$tmp/log"; exit 1; }; \
	diff -u $(CLIENT)/src/schema.d.ts "$$tmp/schema.d.ts" \
		|| { echo "$(CLIENT)/src/schema.d.ts is stale: docs/openapi.json changed; run make client and commit it"; exit 1; }
	cd $(CLIENT) && npm run -s typecheck && npm test --silent
	@echo "TypeScript client: types up to date, client and example type-check, its tests pass"

client-example: $(CLIENT)/node_modules/.installed $(VENV)/.run-deps  ## call every route through the TypeScript client (against make run; resets the demo)
	cd $(CLIENT) && SQUELCH_TOKEN="$$(cd $(CURDIR) && $(BIN)/python -m localdev token)" npm run -s example -- $(BASE_URL)
