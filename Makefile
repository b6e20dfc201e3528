# augury: the README's commands. Everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-fuzz test-deps lint bench-nab bench-detect bench-m4 bench-ingest bench-feedback bench-jobs bench-datasets bench-ask bench-text bench-tabular bench-chat bench-collect clean

$(VENV)/.stamp-base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-base
	$(PY) -m pip install -q -e '.[test]'
	touch $@

$(VENV)/.stamp-bench: $(VENV)/.stamp-test
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $@

## Start augury on http://$(HOST):$(PORT) with SQLite in ./data and a demo account.
run: $(VENV)/.stamp-base
	$(VENV)/bin/augury serve --host $(HOST) --port $(PORT) --demo

## Run the whole test suite (set AUGURY_TEST_DATABASE_URL to run it on PostgreSQL).
## A skipped test fails the run (`make test AUGURY_FAIL_ON_SKIP=` allows skips).
## PYTEST_WORKERS processes run it (pytest-xdist; tests mostly wait on I/O, child
## processes and browsers, so more than the cores); `make test PYTEST_ARGS="-n 0 FILE"`
## runs one file in one process.
PYTEST_WORKERS ?= 4
test: $(VENV)/.stamp-test test-deps
	AUGURY_FAIL_ON_SKIP=$${AUGURY_FAIL_ON_SKIP-1} $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## The schemathesis property run alone, 10x deeper than in `make test` (every
## coverage-phase case and 200 generated requests per operation: about 85,000 cases),
## in PYTEST_WORKERS processes.
test-fuzz: $(VENV)/.stamp-test
	AUGURY_SCHEMATHESIS_EXAMPLES=$${AUGURY_SCHEMATHESIS_EXAMPLES-200} $(PY) -m pytest -n $(PYTEST_WORKERS) tests/api/test_schemathesis.py -q --timeout=1800 $(PYTEST_ARGS)

## The programs tests drive (Chromium, Prometheus, Tesseract, PostgreSQL, MariaDB):
## installed with apt-get as root, else named.
test-deps:
	.ci/install-test-deps

## Lint, format check, import layering (.importlinter) and types (mypy, [tool.mypy]).
lint: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench-nab: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.nab.run
	$(PY) -m benchmarks.detect.quiet

bench-detect: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.detect.run

bench-m4: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.m4.run

## HTTP ingestion throughput of a real `augury serve` (SQLite), per ingestion route.
bench-ingest: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.ingest.run

## False alerts before and after "not interesting" feedback, and incidents still caught.
bench-feedback: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.feedback.run

## How fast a job starts (to first progress) and how much memory its process holds.
bench-jobs: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.jobs.run

## A 1 GB, 10 M-row CSV uploaded, profiled and queried through a real `augury serve`
## (wall time, peak memory of the server and the job, query latency), beside pandas and
## DuckDB on the same file. The CSV is kept in /tmp/augury-bench-datasets between runs.
bench-datasets: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.datasets.run

## Plain-English questions answered by the Ask engine offline: accuracy, chart fit and
## latency on the dev, tune and holdout sets (benchmarks/ask/README.md).
bench-ask: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.ask.run

## Text models on BANKING77 and SemEval-2014 restaurants, cross-validated on their
## training files, beside TF-IDF + logistic regression: accuracy (full, 10-shot,
## zero-shot), aspect F1 and polarity, training time, speed per core, peak memory.
bench-text: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.text.run

## augury's automatic model for tables beside LightGBM, HistGradientBoosting and a
## linear model on ten public tables that installed packages ship (one seeded 70/30
## split each): ROC AUC and F1, or RMSE and R², training time and peak memory.
## `$(PY) -m benchmarks.tabular.run --only NAME --budget S` runs one set quickly.
bench-tabular: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.tabular.run

## Chat retrieval offline on 464 questions over 543 passages (the English chatterbot-corpus,
## benchmarks/chat/data): top-1/top-3 hit rate of BM25, vectors and their fusion, the
## confidence's held-out quality (leave one topic out), time to the first streamed piece;
## and through a real `augury serve`, time to the first streamed token and to the answer,
## offline and with a local OpenAI-compatible server the benchmark starts (about a minute).
bench-chat: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.chat.run

bench-collect: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.collect.run

clean:
	rm -rf $(VENV) data .pytest_cache
