# Kamakura carer consultation bot. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed
# The LINE adapter's own environment (line-bot-sdk v3 cannot be installed beside Rasa 3.6)
LINE_VENV := .venv-line
LINE_STAMP := $(LINE_VENV)/.installed
FINGERPRINT := models/.fingerprint
# What a trained model depends on: retrain only when one of these changes.
TRAIN_INPUTS = config.yml domain.yml $(shell find data/nlu data/faq data/rules data/stories bot/language -type f \( -name '*.yml' -o -name '*.py' \) | sort) bot/rasa/tokenizer.py bot/rasa/selector.py bot/rasa/policy.py

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
export ACTION_ENDPOINT_URL ?= http://localhost:5055/webhook
export TRACKER_DB_URL ?= sqlite:///var/db/tracker.db
export HANDOFF_DB_URL ?= sqlite:///var/db/handoff.db
export RASA_URL ?= http://localhost:5005

.PHONY: help install browser scale-deps train run test test-scale lint validate pytest e2e eval bench bench-scale nlu-report export-labels audit clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.in requirements-dev.in constraints.txt package.json package-lock.json
	@./scripts/find-python310 >/dev/null
	@test -x $(PY) || "$$(./scripts/find-python310)" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip==24.3.1"
	$(PY) -m pip install -q -r requirements.in -r requirements-dev.in -c constraints.txt
	$(PY) -m pip check
	npm ci --no-audit --no-fund --silent
	@touch $@

$(LINE_STAMP): requirements-line.in constraints-line.txt
	@test -x $(LINE_VENV)/bin/python || "$$(./scripts/find-python310)" -m venv $(LINE_VENV)
	$(LINE_VENV)/bin/python -m pip install -q --upgrade "pip==24.3.1"
	$(LINE_VENV)/bin/python -m pip install -q -r requirements-line.in -c constraints-line.txt
	$(LINE_VENV)/bin/python -m pip check
	@touch $@

install: $(STAMP) $(LINE_STAMP) ## create .venv (the bot) and .venv-line (the LINE adapter) with Python 3.10 and the pinned dependencies

browser: ## install Debian's Chromium and Japanese fonts for the browser tests (apt, if missing)
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk; \
	fi

train: $(STAMP) ## train the Rasa model and the danger reader if their data, domain or config changed
	@mkdir -p models
	@new=$$(cat $(TRAIN_INPUTS) | sha256sum | cut -d' ' -f1); \
	if [ -f $(FINGERPRINT) ] && [ "$$(cat $(FINGERPRINT))" = "$$new" ] && ls models/*.tar.gz >/dev/null 2>&1; then \
	  echo "model is up to date"; \
	else \
	  start=$$(date +%s); \
	  rm -f models/*.tar.gz && $(RASA) train --fixed-model-name kamakura --out models && echo "$$new" > $(FINGERPRINT) \
	    && echo $$(( $$(date +%s) - start )) > models/.train_seconds; \
	fi
	@$(PY) -m bot.triage.danger_model train --if-stale  # the learned reader of danger (models/danger/)

run: train ## install, train if needed, migrate the hand-off database, then start Rasa (5005), actions (5055), the web app (8000) and, if LINE_CHANNEL_SECRET is set, the LINE adapter (8010), on 127.0.0.1
	@mkdir -p -m 700 var/db
	$(PY) -m bot.handoff.migrate  # as its own step, before the processes (they only check it on PostgreSQL)
	@if [ -z "$$RASA_AUTH_TOKEN" ]; then echo "RASA_AUTH_TOKEN is not set: the HTTP API uses a random token for this run."; fi; \
	export RASA_AUTH_TOKEN=$${RASA_AUTH_TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_hex(32))')}; \
	export ACTION_SERVER_TOKEN=$${ACTION_SERVER_TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_hex(32))')}; \
	if [ -n "$$LINE_CHANNEL_SECRET" ]; then $(MAKE) -s $(LINE_STAMP); \
	  export LINE_RELAY_TOKEN=$${LINE_RELAY_TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_hex(32))')}; fi; \
	exec $(VENV)/bin/honcho start -f Procfile rasa actions web $${LINE_CHANNEL_SECRET:+line}

lint: $(STAMP) ## ruff over the Python code
	$(VENV)/bin/ruff check bot actions tests tools scripts

validate: $(STAMP) ## rasa data validate
	$(RASA) data validate  # not --fail-on-warnings: responses uttered by action_assess_carer are not in stories

pytest: train browser $(LINE_STAMP) ## the pytest suite (starts real servers and Chromium where a test needs them)
	$(PY) -m pytest -q tests

e2e: train ## end-to-end test stories, failing on any prediction error
	ACTION_SERVER_TOKEN=$${ACTION_SERVER_TOKEN:-not-called-by-rasa-test-core} $(RASA) test core --model models --stories tests/test_stories.yml --fail-on-prediction-errors --out var/results/core

bench: train ## benchmark: turn latency at 1/10/50 users, growth, breakdown, memory; writes bench/results/
	$(PY) -m tools.bench

bench-scale: train scale-deps ## the benchmark on the production profile (two Rasa instances, PostgreSQL, Redis)
	$(PY) -m tools.bench --profile scale

eval: train ## play the held-out conversations over REST and print the accuracy of the four slots
	$(PY) -m tools.evaluate --set tests/eval/*.yml --json var/results/eval.json

audit: $(STAMP) ## check the pinned Python and npm packages against published advisories (says so if it cannot)
	./scripts/audit

nlu-report: $(STAMP) ## cross-validate intents (3 folds) and write reports/nlu/
	$(RASA) test nlu --nlu data/nlu --config config.yml --cross-validation --folds 3 --out reports/nlu

export-labels: $(STAMP) ## write staff's danger marks as examples to review to var/labels/ (0600; never read by training)
	$(PY) -m bot.handoff.labels export --out var/labels/staff-marks.yml

scale-deps: ## install PostgreSQL, Redis, nginx and openssl (the test certificate) from Debian's packages (apt, if missing)
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v redis-server >/dev/null || ! command -v nginx >/dev/null || ! command -v openssl >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql redis-server nginx openssl; \
	fi

test-scale: train scale-deps ## production profile: PostgreSQL + Redis + two Rasa instances, on loopback
	$(PY) -m pytest -q -m scale tests/scale

test: lint validate pytest e2e ## everything CI runs: lint, validate, pytest, end-to-end stories

clean: ## remove the venv, models and local databases
	rm -rf $(VENV) $(LINE_VENV) .venv-audit models var
