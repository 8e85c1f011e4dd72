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

run: $(STAMP)  ## the main job: the embedded default analysis into results/
	OPENBLAS_NUM_THREADS=1 $(BIN)/snakemake --cores $(CORES)

test: $(STAMP)  ## the test suite (what .ci/run calls)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/snakemake --lint --cores 1

clean-results:
	rm -rf results .snakemake
