# Two commands on a fresh machine: `make demo` and `make test`. Everything lives in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-workspace

WEB_STAMP := web/node_modules/.installed
WEB_BUILD := src/robustar/server/static/index.html
WEB_SOURCES := $(shell find web/src -type f) web/index.html web/vite.config.ts web/tsconfig.json

.PHONY: install web types peers demo test bench bench-smoke sweep lint format clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

# The web app, type-checked and built into the Python package that serves it.
$(WEB_BUILD): $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run --silent build

install: $(STAMP)

# The web app's API types, from the server's OpenAPI document (no server or workspace needed);
# tests/test_web_types.py fails when the committed file is out of date.
types: $(STAMP) $(WEB_STAMP)
	$(BIN)/python -m robustar.server.openapi > web/openapi.json
	cd web && npx openapi-typescript openapi.json -o src/api-schema.d.ts && rm openapi.json

web: $(WEB_BUILD)

# The peers' own parsers that cannot share .venv (label-studio-sdk pins an older numpy; FiftyOne
# brings hundreds of packages): the mask export tests use them (tests/peers.py makes this on
# first use, too, with the same packages: its PEERS).
peers:
	test -x .venv-peers/bin/python || $(PYTHON) -m venv .venv-peers
	.venv-peers/bin/python -m pip install --quiet label-studio-sdk fiftyone pycocotools

demo: $(STAMP) $(WEB_BUILD)
	@if [ -f $(DEMO_DIR)/robustar.toml ]; then \
		$(BIN)/robustar serve $(DEMO_DIR); \
	else \
		$(BIN)/robustar demo $(DEMO_DIR); \
	fi

# Web unit tests (Vitest), then every Python test including the browser end-to-end tests.
test: $(STAMP) $(WEB_BUILD)
	cd web && npm test --silent
	$(BIN)/python -m pytest -q

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) $(WEB_BUILD)
	$(BIN)/python -m bench

# The paired-training defaults sweep over the problem suite, leave-one-problem-out (about an
# hour on 2 cores; finished runs are cached in bench-output/sweep.jsonl, so it goes on).
sweep: $(BENCH_STAMP)
	$(BIN)/python -m bench.repair_sweep

# Every benchmark once on a tiny setting (minutes, not hours): CI runs it so none can rot.
bench-smoke: $(BENCH_STAMP) $(WEB_BUILD)
	$(BIN)/python -m bench --smoke

# Style, the layer contracts (import-linter, pyproject.toml) and the types of src/ (mypy).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache test-output bench-output \
		web/node_modules src/robustar/server/static
