# The two set-up commands of the README: `make run` and `make test`.
# Both create the virtual environment in .venv (and install exonu into it) when missing.
PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin
STAMP := $(VENV)/.exonu-installed

.PHONY: run test lint clean-results

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# ARGS: more options for exonu run / snakemake (e.g. ARGS=-n for a dry run)
run: $(STAMP)  ## the main job: the embedded default analysis into results/
	OPENBLAS_NUM_THREADS=1 $(BIN)/exonu run --cores $(CORES) $(ARGS)

test: $(STAMP)  ## the test suite (what .ci/run calls)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest

lint: $(STAMP)  ## ruff (lint, format), snakefmt (the rule files) and snakemake --lint
	$(BIN)/ruff check . && $(BIN)/ruff format --check . \
		&& $(BIN)/snakefmt --check Snakefile workflow && $(BIN)/snakemake --lint --cores 1

clean-results:
	rm -rf results .snakemake

# Every benchmark of benchmarks/; each script rewrites its record in benchmarks/records/
# (sensitivity.md: `make sensitivity` after `make run`). About 20-25 minutes on a 2-core machine.
BENCH_ENV := OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1
RECORDS := benchmarks/records

.PHONY: bench
bench: $(STAMP)  ## all benchmarks -> benchmarks/records/*.md (see benchmarks/README.md)
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_physics.py --output $(RECORDS)/physics.md
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_sim.py --workflow --output $(RECORDS)/sim.md
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_selection.py --output $(RECORDS)/selection.md
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_stats.py --output $(RECORDS)/stats.md
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_workflow.py --output $(RECORDS)/workflow.md
	$(BENCH_ENV) $(BIN)/snakemake --cores $(CORES) results/default/workspace.json
	$(BENCH_ENV) $(BIN)/python benchmarks/mcstat_coverage.py --workspace results/default/workspace.json --output $(RECORDS)/mcstat_coverage.md

.PHONY: sensitivity
sensitivity: $(STAMP)  ## benchmarks/records/sensitivity.md from results/default (after make run)
	$(BIN)/python benchmarks/sensitivity_record.py --results results/default --output $(RECORDS)/sensitivity.md
