# callscope — the two set-up commands: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_N ?= 3000
DEMO_DIR ?= demo-data
DEMO_SERVE ?= 1
DATA_DIR ?= .callscope/demo
export CALLSCOPE_DATA_DIR ?= $(DATA_DIR)

.PHONY: install demo test lint typecheck imports unit bench clean services-apt

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# System services the tests start on localhost (Redis, PostgreSQL 15, Chromium for the
# browser tests). Installed from Debian packages when missing; the tests start and stop them.
services-apt:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	{ command -v initdb >/dev/null || test -x /usr/lib/postgresql/15/bin/initdb; } || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium chromium-driver"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: $(STAMP)
	rm -rf $(DATA_DIR) $(DEMO_DIR)
	$(BIN)/callscope generate --n $(DEMO_N) --seed 7 --out $(DEMO_DIR)
	$(BIN)/callscope ingest $(DEMO_DIR)
	$(BIN)/callscope worker --once --concurrency 2
	$(BIN)/callscope queue stats
	$(BIN)/callscope summary
	# The outcome loop: demo outcomes drawn from the calls' signals, imported, a learned scorer
	# trained and compared with the rule model, accuracy per week and ROI from the outcomes.
	$(BIN)/callscope outcomes synthesize --out $(DATA_DIR)/outcomes.jsonl
	$(BIN)/callscope outcomes import $(DATA_DIR)/outcomes.jsonl
	$(BIN)/callscope scorer train --results bench/results/scorer_train.json
	$(BIN)/callscope outcomes report
	@if [ "$(DEMO_SERVE)" != "0" ]; then \
	  echo "dashboard: http://127.0.0.1:8000  (Ctrl-C to stop; DEMO_SERVE=0 skips this)"; \
	  CALLSCOPE_DASHBOARD_AUTH=false $(BIN)/callscope serve --host 127.0.0.1 --port 8000; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples scripts
	$(BIN)/ruff format --check src tests bench examples scripts

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider

test: $(STAMP) services-apt lint typecheck imports unit

bench: $(STAMP)
	mkdir -p bench/results
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf .callscope demo-data test-artifacts .mypy_cache .ruff_cache .pytest_cache
