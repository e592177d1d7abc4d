# LAPOR Flow: `make run` (server + scheduler + demo data on SQLite) and `make test` (SQLite, then
# PostgreSQL in a throwaway cluster). Everything a target needs is installed by the target.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export SCARF_ANALYTICS := false

.PHONY: install run test suite-sqlite suite-postgresql test-sqlite test-postgresql bench lint format postgres chromium redis clean

install: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): setup.cfg pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# PostgreSQL 15 server binaries for the test cluster (Debian package, installed when missing).
postgres:
	@command -v initdb >/dev/null 2>&1 || test -x /usr/lib/postgresql/15/bin/initdb || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15)

# Chromium for the browser tests (Debian package, installed when missing). Playwright drives this
# binary through `executable_path`; `playwright install` (a browser download) is never used.
chromium:
	@command -v chromium >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

redis:
	@command -v redis-server >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server)

run: install
	$(BIN)/lapor db upgrade
	$(BIN)/lapor deploy
	$(BIN)/lapor seed
	$(BIN)/lapor serve --host 127.0.0.1 --port 5000

# Both passes at once (2 cores; much of the suite waits on PostgreSQL, subprocesses and the
# browser), each one's output shown whole when it ends; fails when either fails.
test: install postgres chromium redis
	$(MAKE) --no-print-directory -j2 --output-sync=target suite-sqlite suite-postgresql

suite-sqlite suite-postgresql: suite-%:
	LAPOR_TEST_DB=$* $(BIN)/pytest

test-sqlite: install chromium redis
	LAPOR_TEST_DB=sqlite $(BIN)/pytest

test-postgresql: install postgres chromium redis
	LAPOR_TEST_DB=postgresql $(BIN)/pytest

# Export benchmark (not a test): 50,000 then 500,000 bulk-inserted reports exported as CSV and
# XLSX, printing rows/s and peak memory; BENCH_ARGS="--db postgresql" runs it on PostgreSQL.
bench: install
	$(BIN)/python -m tests.bench.bench_exports $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy engine sla

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Lint docker/Dockerfile (hadolint) and validate docker/compose.yaml (the Compose Specification
# schema check-jsonschema ships) plus our rules in docker/check.py; no Docker engine needed.
.PHONY: docker-check
docker-check: install
	$(BIN)/python docker/check.py

clean:
	rm -rf $(VENV) node_modules instance
