"""Shared fixtures: repository paths and one real run of the tiny workflow per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from wfhelpers import REPO, run_snakemake

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Snakemake imports every installed executor plugin at start; the HTCondor bindings warn on
# stderr when no condor_config exists (as on a machine without HTCondor): give them an empty one
os.environ.setdefault("CONDOR_CONFIG", os.devnull)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def schema_path() -> Path:
    """The config schema the package carries (``exonu/resources/config.schema.yaml``)."""
    from exonu import resources

    return Path(str(resources.path(resources.CONFIG_SCHEMA)))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """Work directory holding a complete local run of config/tiny.yaml."""
    workdir = tmp_path_factory.mktemp("tiny")
    proc = run_snakemake(workdir, "--cores", "2")
    if proc.returncode != 0:
        pytest.fail(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return workdir
