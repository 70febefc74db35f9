# Mailhilfe: `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
REQ_HASH := $(shell sha1sum requirements.txt 2>/dev/null | cut -c1-12)
STAMP := $(VENV)/.installed-$(REQ_HASH)
SPACY_MODEL := .spacy/de_mailhilfe/meta.json
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore

.PHONY: help install spacy train run run-prod soak test test-unit test-rasa test-stack browser-deps \
        eval-nlu eval-bounce bench bench-assist audit clean

help:
	@echo "make run    install, train if stale, start the stack (widget on http://127.0.0.1:8080)"
	@echo "make test   install, train if stale, run every test"
	@echo "other: install spacy train run-prod eval-nlu eval-bounce bench bench-assist soak audit clean"

install: $(STAMP)

$(STAMP): requirements.txt ops/make_venv.sh
	bash ops/make_venv.sh
	rm -f $(VENV)/.installed-*
	touch $@

spacy: install
	@$(PY) -m ops.build_spacy_de

train: spacy
	@$(PY) -m ops.train

run: train
	@$(PY) -m ops.stack run

run-prod: train
	@bash ops/install_services.sh
	@$(PY) -m ops.prod $(ARGS)

browser-deps: install
	@bash ops/install_chromium.sh

test: train browser-deps
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-rasa
	$(MAKE) --no-print-directory test-stack
	$(MAKE) --no-print-directory audit

test-unit:
	$(PY) -m pytest -q -m "not stack and not browser" tests/unit tests/nlu

test-rasa:
	$(RASA) data validate --fail-on-warnings --data data/nlu data/rules data/stories
	rm -rf .run/test-stories && mkdir -p .run/test-stories && cp tests/test_stories*.yml .run/test-stories/
	$(RASA) test core --model models/mailhilfe.tar.gz --stories .run/test-stories \
	    --fail-on-prediction-errors --out reports/rasa-test

test-stack:
	$(PY) -m pytest -q -m "stack or browser" tests

eval-nlu: spacy
	$(PY) scripts/eval_nlu.py $(ARGS)

eval-bounce: install
	$(PY) -m bot.bounce.evaluate

bench: train
	$(PY) scripts/bench.py $(ARGS)

bench-assist: train
	$(PY) scripts/bench_assist.py $(ARGS)

soak: train
	$(PY) scripts/soak.py $(ARGS)

audit: install
	@bash ops/audit.sh

clean:
	rm -rf .run reports models/*.tar.gz models/*.fingerprint .rasa
